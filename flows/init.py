"""`dsar init`: a new controller's directory — a commented dsar.toml, its owner-only secrets and a README.

Nothing already there is lost: the env file only gains the secrets it lacks, and dsar.toml and README.md are
replaced only when asked (`force`); the secrets are never replaced.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from pathlib import Path
from string import Template
from typing import Annotated, Literal

from pydantic import TypeAdapter, ValidationError

from exports._atomic import atomic_write
from flows.business_id import check_business_id
from flows.config import Controller, Delivery, Package, Store, check_time_zone, read_env_file
from flows.errors import DsarError
from flows.init_template import DSAR_TOML, INIT_README
from flows.secrets_file import ensure_secrets, new_link_secret, new_signing_key
from identity.address import canonical_address
from identity.errors import InvalidAddress
from redaction.policy import DETECTORS

Language = Literal["fi", "en"]
LANGUAGES: tuple[Language, ...] = ("fi", "en")
CONFIG_NAME = "dsar.toml"
ENV_NAME = "dsar.env"
README_NAME = "README.md"

# The secrets a new controller needs, under the variable names the config's defaults read.
SECRETS: dict[str, Callable[[], str]] = {
    Delivery().link_secret_env: new_link_secret,
    Store().ledger_key_env: new_signing_key,
    Package().signing_key_env: new_signing_key,
}


class InitError(DsarError):
    """An answer `dsar init` cannot use; names the option to fix."""


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    # Cc includes DEL, which no TOML string may hold; Zl/Zp are line breaks to Python and to readers.
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
        raise ValueError("must be one line without control characters")
    return value


def _address(value: str) -> str:
    try:
        return canonical_address(value)
    except InvalidAddress as exc:
        raise ValueError(str(exc)) from None


_PHONE = TypeAdapter(Annotated[str, *Controller.model_fields["phone"].metadata])  # the config's own pattern


def _phone(value: str) -> str:
    try:
        return _PHONE.validate_python(_text(value))
    except ValidationError:
        raise ValueError("not a phone number (e.g. +358 40 123 4567)") from None


def _languages(value: str) -> str:
    chosen = [part.strip() for part in value.replace(",", " ").split()]
    if not chosen or any(lang not in LANGUAGES for lang in chosen):
        raise ValueError("use fi, en or both (e.g. fi,en)")
    return ",".join(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Question:
    """One answer `dsar init` needs: asked in a terminal, an option (`flag`) otherwise."""

    key: str
    flag: str
    prompt: str
    check: Callable[[str], str]
    required: bool = False
    default: str | None = None


QUESTIONS = (
    Question("name", "--name", "Controller's legal name", _text, required=True),
    Question("business_id", "--business-id", "Business id (Y-tunnus, 1234567-1)", check_business_id, required=True),
    Question("contact_email", "--contact-email", "Contact email for privacy matters", _address, required=True),
    Question("phone", "--phone", "Phone number (empty: none)", _phone),
    Question("postal_address", "--postal-address", "Postal address (empty: none)", _text),
    Question("dpo_name", "--dpo-name", "Data protection officer's name (empty: none)", _text),
    Question("dpo_email", "--dpo-email", "Data protection officer's email (empty: none)", _address),
    Question("languages", "--languages", "Languages of requests (fi, en or fi,en)", _languages, default="fi,en"),
    Question("time_zone", "--time-zone", "Time zone", check_time_zone, default="Europe/Helsinki"),
)


def answers_from_options(given: dict[str, str | None]) -> dict[str, str]:
    """Checked answers from options alone; InitError names every missing required option, or the first bad one."""
    missing = [q.flag for q in QUESTIONS if q.required and not (given.get(q.key) or "").strip()]
    if missing:
        raise InitError(f"missing {', '.join(missing)}: without a terminal (or with --yes) every answer comes "
                        "from the options; in a terminal dsar init asks for them")
    answers = {}
    for q in QUESTIONS:
        value = given.get(q.key) or q.default
        if value is None or not value.strip():
            continue
        try:
            answers[q.key] = q.check(value)
        except ValueError as exc:
            raise InitError(f"{q.flag}: {exc}") from None
    return answers


def ask_answers(given: dict[str, str | None], ask: Callable[[str, str], str],
                tell: Callable[[str], None]) -> dict[str, str]:
    """Checked answers, asking (`ask(prompt, default)`) for each; a given option is the default offered.
    A wrong answer is told and asked again; an empty one skips an optional question."""
    answers = {}
    for q in QUESTIONS:
        while True:
            value = ask(q.prompt, given.get(q.key) or q.default or "").strip() or q.default or ""
            if not value and not q.required:
                break
            try:
                answers[q.key] = q.check(value)
                break
            except ValueError as exc:
                tell(f"{q.prompt}: {exc}")
    return answers


@dataclass(frozen=True)
class InitResult:
    directory: Path
    written: tuple[str, ...]  # file names written (or replaced with force)
    kept: tuple[str, ...]  # file names left as they were
    secrets_added: tuple[str, ...]  # variable names added to the env file (never their values)


def _toml(value: object) -> str:
    # A JSON string (ensure_ascii off) or list of strings is valid TOML: both escape the same way.
    return json.dumps(value, ensure_ascii=False)


def _texts(languages: Sequence[str], fi: str, en: str) -> str:
    both = {"fi": fi, "en": en}
    return "{ " + ", ".join(f"{lang} = {_toml(both[lang])}" for lang in languages) + " }"


def _key_line(key: str, value: str | None, example: str) -> str:
    """`key = value`, or the line commented out with an example when there is no value."""
    if value is not None:
        return f"{key} = {_toml(value)}"
    return f"# {key} = {_toml(example if value is None else value)}"


def _comments(template: str, language: Language) -> str:
    out = []
    for line in template.splitlines():
        code, marker, comment = line.partition("#| ")
        if marker:
            en, fi = comment.split(" | ")
            line = f"{code}# {fi if language == 'fi' else en}"
        out.append(line)
    return "\n".join(out) + "\n"


def render_config(answers: dict[str, str], language: Language, env_name: str = ENV_NAME) -> str:
    """The commented dsar.toml for these answers, its comments in `language`."""
    langs = answers["languages"].split(",")
    domain = answers["contact_email"].rpartition("@")[2]
    fields = {
        "env_file": env_name,
        "name": _toml(answers["name"]),
        "business_id": _toml(answers["business_id"]),
        "contact_email": _toml(answers["contact_email"]),
        "phone_line": _key_line("phone", answers.get("phone"), "+358 40 123 4567"),
        "postal_line": _key_line("postal_address", answers.get("postal_address"), "Esimerkkikatu 1, 00100 Helsinki"),
        "dpo_name_line": _key_line("dpo_name", answers.get("dpo_name"), "Etunimi Sukunimi"),
        "dpo_email_line": _key_line("dpo_email", answers.get("dpo_email"), f"tietosuojavastaava@{domain}"),
        "time_zone_line": _key_line("time_zone", answers.get("time_zone"), "Europe/Helsinki"),
        "languages": _toml(langs),
        "authority": _texts(langs, "Tietosuojavaltuutetun toimisto, tietosuoja.fi",
                            "Office of the Data Protection Ombudsman, tietosuoja.fi"),
        "purposes": _texts(langs, "Asiakassuhteen hoito, tilausten toimitus ja asiakaspalvelu.",
                           "Managing the customer relationship, delivering orders and customer service."),
        "legal_basis": _texts(langs, "Sopimus (6 art. 1 b).", "Contract (Art. 6(1)(b))."),
        "data_categories": _texts(langs, "Nimi, yhteystiedot, tilaushistoria, asiakaspalvelun viestit.",
                                  "Name, contact details, order history, customer-service messages."),
        "recipients": _texts(langs, "Kuljetusyhtiöt tilausten toimittamiseksi.", "Carriers, to deliver orders."),
        "retention": _texts(langs, "Asiakkuuden ajan ja 6 vuotta kirjanpitolain mukaan.",
                            "For the customer relationship and 6 years under the Accounting Act."),
        "origin": _texts(langs, "Rekisteröidyltä itseltään.", "From the data subject."),
        "transfers": _texts(langs, "Ei siirtoja EU:n tai ETA:n ulkopuolelle.", "No transfers outside the EU/EEA."),
        "automated_decisions": _texts(langs, "Ei automaattista päätöksentekoa.", "No automated decision-making."),
        # Address quotes what needs it and keeps the name as typed (formataddr would write =?utf-8?b?...?=).
        "sender": _toml(str(Address(answers["name"], addr_spec=answers["contact_email"]))),
        "domains": _toml([domain]),
        "detectors": _toml(list(DETECTORS)),
    }
    return Template(_comments(DSAR_TOML, language)).substitute(fields)


def _write_new(path: Path, text: str, force: bool) -> bool:
    """Write `path` whole (atomically) unless it exists and not `force`; whether it was written."""
    if path.exists() and not force:
        return False
    with atomic_write(path) as out:
        out.write(text.encode("utf-8"))
    return True


def init_directory(directory: Path, answers: dict[str, str], language: Language, force: bool = False
                   ) -> InitResult:
    """Write dsar.toml, README.md and the env file into `directory` (made if missing).

    The env file gains only the secrets it lacks, with or without `force`: a replaced ledger key would leave
    the ledger's signatures unverifiable.
    """
    if directory.exists() and not directory.is_dir():
        raise InitError(f"{directory} is a file; name a directory")
    directory.mkdir(parents=True, exist_ok=True)
    env_path = directory / ENV_NAME
    before = set(read_env_file(env_path, env_path)) if env_path.exists() else set()
    ensure_secrets(env_path, SECRETS, "# Secrets of dsar (see dsar.toml). Readable by the owner only; "
                   "never replace a key that has been used.\n")
    added = tuple(name for name in SECRETS if name not in before)
    written: list[str] = []
    kept: list[str] = []
    readme = Template(INIT_README[language]).substitute(name=answers["name"], env_file=ENV_NAME)
    for name, text in ((CONFIG_NAME, render_config(answers, language)), (README_NAME, readme)):
        (written if _write_new(directory / name, text, force) else kept).append(name)
    (written if added else kept).append(ENV_NAME)
    return InitResult(directory, tuple(written), tuple(kept), added)
