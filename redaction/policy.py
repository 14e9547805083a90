"""What the controller tells redaction: its domains, role mailboxes and staff.

A `Policy` is plain data; `flows/` builds it from the `[redaction]` section of
`dsar.toml` (and the controller's contact address), `dsar redact` from the same
config or from the defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Local parts that name a function, not a person: never replaced, whatever the domain.
ROLE_MAILBOXES = (
    "asiakaspalvelu", "asiakastuki", "tuki", "laskutus", "palautukset", "palautus", "reklamaatiot", "perinta",
    "myynti", "info", "palaute", "tilaukset", "posti", "kundtjanst", "kundservice", "kundtjänst", "events",
    "tapahtumat", "kurssit", "koulutus", "b2b", "yritysmyynti", "verkkokauppa", "webshop", "rekrytointi", "hr",
    "ajanvaraus", "isannointi", "isännöinti", "vastaanotto", "kassa", "laskut", "reskontra", "huoltoyhtio",
    "kirjaamo", "toimisto", "tietosuoja", "rekry", "markkinointi", "uutiskirje", "huolto", "varaukset",
    "support", "help", "helpdesk", "service", "customerservice", "customer.service", "sales", "billing",
    "invoices", "invoice", "accounts", "orders", "order", "privacy", "dpo", "gdpr", "office", "contact",
    "hello", "admin", "webmaster", "postmaster", "abuse", "noreply", "no-reply", "donotreply", "do-not-reply",
    "mailer-daemon", "newsletter", "news", "marketing", "team", "jobs", "careers", "press", "media", "bounce",
    "bounces", "notifications", "notification", "alerts", "security", "feedback", "returns", "shop", "store",
)

DETECTORS = ("email", "phone", "hetu", "iban", "card", "ip", "address", "name")


@dataclass(frozen=True)
class Policy:
    """How one controller wants third parties handled.

    `keep` holds addresses and phone numbers kept verbatim (the controller's
    switchboard, say). `staff` lists the names of people who act for the
    controller; with `keep_staff` their names and their addresses at
    `controller_domains` stay, otherwise they are replaced like anyone else.
    `known_people` are names the controller already knows to be persons (other
    customers): they are found even where nothing in the text marks them.
    `region` is the country whose phone numbers need no country code.
    """

    region: str = "FI"
    controller_domains: tuple[str, ...] = ()
    role_mailboxes: tuple[str, ...] = ROLE_MAILBOXES
    keep: tuple[str, ...] = ()
    staff: tuple[str, ...] = ()
    keep_staff: bool = True
    known_people: tuple[str, ...] = ()
    detectors: tuple[str, ...] = DETECTORS
    # Keys whose values are identifiers of things, not text about people.
    verbatim_keys: frozenset[str] = field(default_factory=lambda: frozenset({"message_id"}))

    def __post_init__(self) -> None:
        for name in ("controller_domains", "role_mailboxes", "keep", "staff", "known_people", "detectors"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise TypeError(f"{name} must be a sequence of strings, not one string")
            object.__setattr__(self, name, tuple(value))
        unknown = set(self.detectors) - set(DETECTORS)
        if unknown:
            raise ValueError(f"unknown detectors: {', '.join(sorted(unknown))}; known: {', '.join(DETECTORS)}")
        object.__setattr__(self, "controller_domains", tuple(d.lower().lstrip("@") for d in self.controller_domains))
        object.__setattr__(self, "role_mailboxes", tuple(r.lower() for r in self.role_mailboxes))
