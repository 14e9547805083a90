"""README.html: the package's human-readable page, in the request's language.

It carries what Art. 15 asks for beside the copy: what is inside, the
information on each processing activity, the rights and the right to
complain, which sources were searched with what result, what was withheld
and which third-party data was replaced, and how to check the package.

The page opens offline with nothing external: no scripts, fonts, images or
links that load anything, and a Content-Security-Policy that allows only its
own inline stylesheet (by hash). Texts live in templates/readme.toml, Finnish
and English side by side; the layout in templates/readme.html.j2, rendered
with autoescape, so nothing from config or records can add markup. The same
ReadmeInfo gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, Template
from markupsafe import Markup

from audit.signing import fingerprint, load_public_key
from exports.package.values import humanise, show_moment

Language = Literal["fi", "en"]
Status = Literal["found", "empty", "skipped"]
LANGUAGES: tuple[Language, ...] = ("fi", "en")
STATUSES: tuple[Status, ...] = ("found", "empty", "skipped")
# The Art. 15(1) items of an activity, in the order the page lists them.
ACTIVITY_FIELDS = ("purposes", "legal_basis", "data_categories", "recipients", "transfers", "retention", "origin",
                   "automated_decisions")


@dataclass(frozen=True)
class ControllerInfo:
    name: str
    business_id: str
    contact_email: str
    postal_address: str
    dpo_email: str | None
    supervisory_authority: str  # already in the page's language
    phone: str = ""
    dpo_name: str | None = None


@dataclass(frozen=True)
class ActivityInfo:
    """One processing activity; every text already in the page's language."""

    name: str
    sources: tuple[str, ...]
    purposes: str
    legal_basis: str
    data_categories: str
    recipients: str
    retention: str
    origin: str
    transfers: str
    automated_decisions: str


@dataclass(frozen=True)
class SourceCoverage:
    """What searching one configured source gave: `categories` maps category to records in the package."""

    name: str
    kind: str
    status: Status
    reason: str | None
    categories: Mapping[str, int]
    # Labels in the page's language; a source or category without one shows its humanised name.
    label: str = ""
    category_labels: Mapping[str, str] = field(default_factory=dict)

    def shown(self) -> str:
        return self.label or humanise(self.name)

    def category_shown(self, category: str) -> str:
        return self.category_labels.get(category) or humanise(category)


@dataclass(frozen=True)
class WithheldInfo:
    source: str
    reason: str
    count: int


@dataclass(frozen=True)
class ReadmeInfo:
    request_id: str
    language: Language
    generated_at: datetime
    controller: ControllerInfo
    activities: tuple[ActivityInfo, ...]
    coverage: tuple[SourceCoverage, ...]  # every configured source, in config order
    withheld: tuple[WithheldInfo, ...]
    redaction: Mapping[str, int]  # the redactor's counts: names_replaced, people, ...
    public_key: str  # base64 of the raw Ed25519 key that signs index.json
    # What the sources were searched for, as (kind, value, where it was found; "" for the verified address). The
    # requester's own data, shown only inside their encrypted package.
    identifiers: tuple[tuple[str, str, str], ...] = ()
    # What the requester named but did not verify, as (kind, value): never searched for.
    unverified: tuple[tuple[str, str], ...] = ()
    # source -> category -> (key, label) of each column: the CSV and XLSX headers show labels, JSON the keys.
    columns: Mapping[str, Mapping[str, Sequence[tuple[str, str]]]] = field(default_factory=dict)
    time_zone: str = "UTC"  # the controller's IANA zone: the page's times are its wall-clock times


def key_fingerprint(public_key: str) -> str:
    """SHA-256 of the raw public key, in groups of four hex digits so that a person can read it out."""
    try:
        raw = load_public_key(public_key)
    except ValueError:
        raise ValueError("package public key must be base64 of a 32-byte Ed25519 key") from None
    return fingerprint(raw)


@cache
def _texts() -> dict[str, dict[str, str]]:
    return tomllib.loads((resources.files("exports") / "templates" / "readme.toml").read_text(encoding="utf-8"))


@cache
def _template() -> tuple[Template, Markup, str]:
    """The template, its stylesheet and the CSP that admits that stylesheet and nothing else."""
    env = Environment(loader=PackageLoader("exports", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    css = (resources.files("exports") / "templates" / "readme.css").read_text(encoding="utf-8")
    css_hash = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    csp = f"default-src 'none'; style-src 'sha256-{css_hash}'; base-uri 'none'; form-action 'none'"
    return env.get_template("readme.html.j2"), Markup(css), csp  # noqa: S704 - our own stylesheet, not input


def _date(when: datetime, language: Language, time_zone: str) -> str:
    if time_zone == "UTC":
        return show_moment(when.astimezone(UTC).replace(tzinfo=None), True, language)
    local = when.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None)
    return f"{show_moment(local, False, language)} ({time_zone})"


def _check(info: ReadmeInfo) -> None:
    if info.language not in LANGUAGES:
        raise ValueError(f"README language must be one of {', '.join(LANGUAGES)}, not {info.language!r}")
    if info.generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    for source in info.coverage:
        if source.status not in STATUSES:
            raise ValueError(f"source {source.name}: status must be one of {', '.join(STATUSES)}")


def render_readme(info: ReadmeInfo) -> bytes:
    """README.html for `info`, as UTF-8 bytes; the same info gives the same bytes.

    Raises ValueError for a language other than fi/en, a naive generated_at,
    an unknown coverage status or a public key that is not an Ed25519 key.
    """
    _check(info)
    texts, language = _texts(), info.language

    def t(key: str, **values: object) -> str:
        return texts[key][language].format(**values)

    def counted(noun: str, n: int) -> str:
        return t(f"{noun}_one" if n == 1 else f"{noun}_other", n=n)

    def optional(prefix: str, key: str) -> str:
        """The text for a code the page may not know (a new source kind, say): the code itself then."""
        return texts[f"{prefix}_{key}"][language] if f"{prefix}_{key}" in texts else key

    withheld_by_source: dict[str, int] = dict.fromkeys((s.name for s in info.coverage), 0)
    for item in info.withheld:
        withheld_by_source[item.source] = withheld_by_source.get(item.source, 0) + item.count
    found = [s for s in info.coverage if s.status == "found" and s.categories]
    example = f"data/{found[0].name}/{min(found[0].categories)}.json" if found else "README.html"
    template, css, csp = _template()
    html = template.render(
        info=info, t=t, counted=counted, generated=_date(info.generated_at, language, info.time_zone),
        kind=lambda kind: optional("kind", kind), reason=lambda code: optional("reason", code),
        redaction_label=lambda key: optional("redaction", key), identifier=lambda kind: optional("identifier", kind),
        found=found, withheld_by_source=withheld_by_source, example_file=example,
        source_shown={s.name: s.shown() for s in info.coverage},
        # Counts of replacements, then of the different people and numbers they stood for.
        replaced=[(k, v) for k, v in sorted(info.redaction.items()) if v and k.endswith("_replaced")],
        distinct=[(k, v) for k, v in sorted(info.redaction.items()) if v and not k.endswith("_replaced")],
        activity_fields=ACTIVITY_FIELDS, fingerprint=key_fingerprint(info.public_key), css=css, csp=csp,
    )
    return html.encode("utf-8")
