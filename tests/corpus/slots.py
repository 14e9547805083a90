"""Fill a text's slots ({S.first:all}, {date}, ...) with labelled pieces."""

from __future__ import annotations

import random
import re

from tests.corpus import identifiers as ids
from tests.corpus import pools
from tests.corpus.compose import Cast, Person, Piece, Text
from tests.corpus.finnish import inflect, street_case

SLOT = re.compile(r"\{([A-Za-z_]+)(?:\.(\w+))?(?::([^}]+))?\}")
PERSON = re.compile(r"([A-Z])([fm]?)")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def for_seed(choices: tuple[str, ...], seed: int) -> tuple[str, ...]:
    """The texts a seed may use: untagged ones, and "o:"/"e:" ones of its parity (tag removed)."""
    mine = "e:" if seed % 2 == 0 else "o:"
    return tuple(c[2:] if c[:2] == mine else c for c in choices if c[:2] not in ("o:", "e:") or c[:2] == mine)


class Filler:
    def __init__(self, rng: random.Random, cast: Cast) -> None:
        self.rng, self.cast, self.lang = rng, cast, cast.lang

    def fill(self, template: str, aliases: dict[str, str] | None = None) -> Text:
        """`template` with its slots filled; `aliases` maps a slot letter to a cast letter (Q -> S)."""
        text = Text()
        pos = 0
        for match in SLOT.finditer(template):
            if match.start() > pos:
                text.add(template[pos: match.start()])
            head, attr, arg = match.groups()
            if attr is not None:
                person_slot = PERSON.fullmatch(head)
                if person_slot is None:
                    raise ValueError(f"{{{head}.{attr}}} in a template: a person slot is a capital letter and f or m")
                letter, gender = person_slot.groups()
                person = self.cast.get((aliases or {}).get(letter, letter), gender)
                self._person(text, person, attr, arg or "nom")
            else:
                self._decoy(text, head, arg)
            pos = match.end()
        if pos < len(template):
            text.add(template[pos:])
        return text

    def _piece(self, person: Person, value: str, kind: str, **extra: str) -> Piece:
        return Piece(value, kind, person.role, person.pid, tuple(sorted(extra.items())))

    def _person(self, text: Text, p: Person, attr: str, case: str) -> None:
        rng = self.rng
        if self.lang != "fi":
            case = "nom"
        if attr in ("first", "last", "full", "initial"):
            if attr == "first":
                value = inflect(p.first, case, p.foreign)
            elif attr == "last":
                value = inflect(p.last, case, p.foreign)
            elif attr == "full":
                value = f"{p.first} {inflect(p.last, case, p.foreign)}"
            else:
                value = f"{p.first[0]}. {inflect(p.last, case, p.foreign)}"
            text.add(self._piece(p, value, "name", form=attr, case=case))
        elif attr == "email":
            text.add(self._piece(p, p.email, "email"))
        elif attr == "email_case":
            local, domain = p.email.split("@")
            value = rng.choice((f"{'.'.join(w.capitalize() for w in local.split('.'))}@{domain.capitalize()}",
                                p.email.upper(), f"{local.capitalize()}@{domain}"))
            text.add(self._piece(p, value, "email", written="case"))
        elif attr == "email_obf":
            text.add(self._piece(p, ids.email_obfuscated(rng, p.email), "email", written="obfuscated"))
        elif attr == "phone":
            text.add(self._piece(p, ids.phone_written(rng, p.phone), "phone"))
        elif attr in ("address", "street"):
            street = p.street
            if attr == "street" and p.lang == "fi" and case in ("ade", "all", "abl"):
                name, rest = street.split(" ", 1)
                street = f"{street_case(name, case)} {rest}"
            text.add(self._piece(p, street, "address", case=case if street != p.street else "nom"))
        elif attr == "city":
            text.add(p.city)
        elif attr == "rel":
            text.add(self.cast.relation(p, case))
        elif attr == "hetu":
            text.add(self._piece(p, p.extra.setdefault("hetu", ids.hetu(rng)), "hetu"))
        elif attr == "iban":
            code = p.extra.setdefault("iban", ids.iban(rng, "FI" if p.lang == "fi" or rng.random() < 0.3
                                                          else rng.choice(("GB", "DE", "SE", "EE", "NL", "NO", "FR"))))
            text.add(self._piece(p, ids.grouped(code) if rng.random() < 0.7 else code, "iban"))
        elif attr == "card":
            number = p.extra.setdefault("card", ids.card(rng))
            text.add(self._piece(p, ids.card_written(rng, number), "card"))
        elif attr == "ip":
            text.add(self._piece(p, ids.ipv4(rng) if rng.random() < 0.7 else ids.ipv6(rng), "ip"))
        else:
            raise ValueError(f"unknown person slot {attr}")

    def _decoy(self, text: Text, kind: str, arg: str | None) -> None:
        rng = self.rng
        en = self.lang == "en" or arg == "en"
        if kind == "date":
            d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.choice((2025, 2026))
            value = rng.choice((f"{d} {_MONTHS[m - 1]} {y}", f"{_MONTHS[m - 1]} {d}, {y}", f"{y}-{m:02d}-{d:02d}",
                                f"{d:02d}/{m:02d}/{y}")) if en else \
                rng.choice((f"{d}.{m}.{y}", f"{d:02d}.{m:02d}.{y}", f"{d}.{m}.", f"{y}-{m:02d}-{d:02d}"))
        elif kind == "time":
            h, mi = rng.randint(7, 21), rng.randrange(0, 60, 5)
            value = rng.choice((f"{h}:{mi:02d}", f"{(h - 1) % 12 + 1}:{mi:02d} {'pm' if h >= 12 else 'am'}")) if en \
                else rng.choice((f"{h}.{mi:02d}", f"{h}:{mi:02d}"))
        elif kind == "order":
            value = rng.choice(("", "", "#")) + str(rng.randrange(100000, 999999))
        elif kind == "invoice":
            value = rng.choice(("", "INV-", "L")) + f"{rng.choice((2025, 2026))}-{rng.randrange(1, 9999):04d}"
        elif kind == "ref":
            value = ids.reference_fi(rng)
            kind = "reference"
        elif kind == "rf":
            value = ids.reference_rf(rng)
            kind = "reference"
        elif kind == "ybiz":
            value = ids.business_id(rng)
            kind = "reference"
        elif kind == "custno":
            value = rng.choice(("", "AS-")) + f"{rng.randrange(1, 99999):06d}"
            kind = "customer_number"
        elif kind == "amount":
            euros, cents = rng.choice((rng.randint(5, 199), rng.randint(1000, 4999))), rng.choice((0, 90, 50, 95))
            if en:
                value = rng.choice((f"€{euros:,}.{cents:02d}", f"EUR {euros:,}.{cents:02d}", f"£{euros}.{cents:02d}"))
            else:
                whole = f"{euros:,}".replace(",", " ")
                value = rng.choice((f"{whole},{cents:02d} €", f"EUR {whole},{cents:02d}", f"{whole},{cents:02d} euroa",
                                    f"{euros} €"))
        elif kind == "product":
            value = rng.choice(self.cast.world.products["en" if self.lang == "en" else "fi"])
        elif kind == "postal":
            value = f"{rng.choice(pools.FI_CITIES)[1]}{rng.randint(1, 99):02d}0"
            kind = "postal_code"
        elif kind == "place":
            if self.lang == "fi":
                value = rng.choice(list(pools.FI_PLACES.values()))[arg or "nom"]
            else:
                value = rng.choice(pools.EN_PLACES)
        elif kind == "word":
            value = arg or ""
        elif kind == "role":
            box = rng.choice(pools.ROLE_MAILBOXES[self.lang])
            value = f"{box}@{rng.choice(pools.CONTROLLER_DOMAINS)}"
            kind = "role_mailbox"
        elif kind == "role_phone":
            text.add(Piece(rng.choice(("09 4241 5500", "(09) 4241 5500", "+358 9 4241 5500")), "phone", "staff",
                           "controller"))
            return
        elif kind == "weekday":
            text.add(rng.choice(_WEEKDAYS))
            return
        elif kind == "fsubject":
            text.add(rng.choice(("Pakettisi", "Tilausvahvistus", "Nouto")) if self.lang == "fi"
                     else rng.choice(("Your parcel", "Order confirmation", "Collection")))
            return
        else:
            raise ValueError(f"unknown slot {kind}")
        text.add(Piece(value, kind, "decoy"))
