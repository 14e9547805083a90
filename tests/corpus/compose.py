"""Texts with labelled pieces: the people of one message and the slots that name them.

A `Text` is a list of plain strings and `Piece`s; the generator writes it into
a message, and `tests/corpus/mime.py` finds each piece again in the parsed
message to record its offsets.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from types import ModuleType

from tests.corpus import identifiers as ids
from tests.corpus import pools


@dataclass(frozen=True)
class Piece:
    text: str
    kind: str
    role: str
    person: str | None = None
    extra: tuple[tuple[str, str], ...] = ()


@dataclass
class Text:
    items: list[str | Piece] = field(default_factory=list)

    def add(self, item: str | Piece) -> None:
        if isinstance(item, Piece) and "\n" in item.text:
            raise ValueError("a labelled piece must be on one line")
        self.items.append(item)

    def extend(self, other: Text) -> None:
        self.items.extend(other.items)

    def pieces(self) -> list[Piece]:
        return [item for item in self.items if isinstance(item, Piece)]

    def __str__(self) -> str:
        return "".join(item if isinstance(item, str) else item.text for item in self.items)

    def quoted(self, prefix: str = "> ") -> Text:
        """Every line prefixed as a mail client quotes it (an empty line gets the bare marker)."""
        out = Text()
        at_line_start = True
        for item in self.items:
            if isinstance(item, Piece):
                if at_line_start:
                    out.items.append(prefix)
                out.items.append(item)
                at_line_start = False
                continue
            for chunk in re.split(r"(\n)", item):
                if chunk == "\n":
                    if at_line_start:
                        out.items.append(prefix.rstrip())
                    out.items.append("\n")
                    at_line_start = True
                elif chunk:
                    out.items.append(prefix + chunk if at_line_start else chunk)
                    at_line_start = False
        return out


@dataclass
class Person:
    pid: str
    role: str
    first: str
    last: str
    gender: str
    foreign: bool  # an English name in the Finnish pools' sense: no gradation, joining -i-
    email: str
    phone: str  # E.164, or an international number as written
    street: str
    city: str
    lang: str  # which country's address
    rel: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


class World:
    """The pools of one seed and the controller's staff roster."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        pick = lambda pool: pool.pick(seed)  # noqa: E731
        self.names = {
            ("fi", "f"): pick(pools.FI_FEMALE), ("fi", "m"): pick(pools.FI_MALE),
            ("fi", "last"): pick(pools.FI_SURNAMES),
            ("en", "f"): pick(pools.EN_FEMALE), ("en", "m"): pick(pools.EN_MALE),
            ("en", "last"): pick(pools.EN_SURNAMES),
        }
        self.fi_streets = pick(pools.FI_STREETS)
        self.en_streets = tuple(s.replace("|", " ") for s in pick(pools.EN_STREETS))
        self.products = {"fi": pick(pools.FI_PRODUCTS), "en": pick(pools.EN_PRODUCTS)}
        self.domains = pick(pools.MAIL_DOMAINS)
        rng = random.Random(f"staff-{seed}")
        self.staff: list[tuple[str, str]] = []
        while len(self.staff) < 6:
            first = rng.choice(self.names[("fi", rng.choice("fm"))])
            last = rng.choice(self.names[("fi", "last")])
            if all(first != f and last != la for f, la in self.staff):
                self.staff.append((first, last))


CONTROLLER_PHONE = "+358942415500"


class Cast:
    """The people of one message, made on first mention, with no first or last name shared."""

    def __init__(self, rng: random.Random, world: World, lang: str, texts: ModuleType) -> None:
        self.rng, self.world, self.lang, self.texts = rng, world, lang, texts
        self.people: dict[str, Person] = {}
        self.used_first: set[str] = set()
        self.used_last: set[str] = set()
        self.count = 0

    def _name(self, origin: str, gender: str) -> tuple[str, str]:
        for _ in range(200):
            first = self.rng.choice(self.world.names[(origin, gender)])
            last = self.rng.choice(self.world.names[(origin, "last")])
            if self.lang == "fi" and (first in pools.NO_CASE_FORMS or last in pools.NO_CASE_FORMS):
                continue
            if first not in self.used_first and last not in self.used_last:
                self.used_first.add(first)
                self.used_last.add(last)
                return first, last
        raise RuntimeError("name pools exhausted")

    def get(self, key: str, gender: str = "") -> Person:
        """The person called `key` in this message ("S", "T", "A2", ...), made with `gender` if new."""
        if key not in self.people:
            self.people[key] = self.make(key[0], gender)
        return self.people[key]

    def make(self, letter: str, gender: str = "") -> Person:
        rng = self.rng
        gender = gender or rng.choice("fm")
        if letter in "TU":
            taken = {p.pid for p in self.people.values()}
            choices = [i for i, (f, la) in enumerate(self.world.staff)
                       if f"staff-{i}" not in taken and f not in self.used_first and la not in self.used_last]
            index = rng.choice(choices or [i for i in range(len(self.world.staff)) if f"staff-{i}" not in taken])
            first, last = self.world.staff[index]
            self.used_first.add(first)
            self.used_last.add(last)
            email = f"{ids.ascii_fold(first)}.{ids.ascii_fold(last)}@{pools.CONTROLLER_DOMAINS[0]}"
            return Person(f"staff-{index}", "staff", first, last, gender, False, email, ids.fi_landline(rng),
                          "", "", "fi")
        foreign_share = 0.15 if self.lang == "fi" else 0.55
        origin = "en" if rng.random() < foreign_share else "fi"
        first, last = self._name(origin, gender)
        if letter == "S":
            pid, role = "subject", "subject"
        else:
            self.count += 1
            pid, role = f"p{self.count}", "third_party"
        email = ids.email_address(rng, first, last, self.world.domains)
        lives_fi = origin == "fi" or rng.random() < 0.5
        if lives_fi:
            phone = ids.fi_mobile(rng) if rng.random() < 0.85 else ids.fi_landline(rng)
            street, city = self._fi_address()
        else:
            phone = ids.foreign_phone(rng)
            street, city = self._en_address()
        return Person(pid, role, first, last, gender, origin == "en", email, phone, street, city,
                      "fi" if lives_fi else "en")

    def _fi_address(self) -> tuple[str, str]:
        rng = self.rng
        big = rng.random() < 0.2
        street = rng.choice(pools.FI_BIG_STREETS if big else self.world.fi_streets)
        number = str(rng.randint(1, 90 if big else 40))
        flat = rng.choice(("", "", f" {rng.choice('ABCD')} {rng.randint(1, 40)}", f" as. {rng.randint(1, 30)}",
                           rng.choice("ab"), f" {rng.choice('ABC')}"))
        city, prefix = rng.choice(pools.FI_CITIES)
        postal = f"{prefix}{rng.randint(1, 99):02d}0"
        return f"{street} {number}{flat}", f"{postal} {city}"

    def _en_address(self) -> tuple[str, str]:
        rng = self.rng
        street = rng.choice(self.world.en_streets)
        number = rng.choice((str(rng.randint(1, 120)), f"{rng.randint(1, 300)}B", f"Flat {rng.randint(1, 9)}, "
                             f"{rng.randint(1, 80)}"))
        city, area = rng.choice(pools.EN_CITIES)
        postcode = f"{area}{rng.randint(1, 20)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                   f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        return f"{number} {street}", f"{city} {postcode}"

    def relation(self, person: Person, case: str) -> str:
        relations = self.texts.RELATIONS
        if person.rel is None:
            fitting = [r for r, (g, _) in relations.items() if g in ("", person.gender)]
            person.rel = self.rng.choice(fitting)
        forms = relations[person.rel][1]
        return forms.get(case, forms["nom"])
