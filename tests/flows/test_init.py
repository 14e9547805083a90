"""`dsar init` as a new privacy officer runs it: the files it writes, their secrets, and re-running it."""

from __future__ import annotations

import email
import email.policy
import os
import re
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from audit.signing import load_private_key, public_key
from exports.links import check_secret
from flows.config import (
    Audit,
    Controller,
    Delivery,
    Identity,
    Mail,
    Notify,
    Package,
    Portal,
    Redaction,
    Review,
    Smtp,
    Storage,
    Store,
    load_config,
    read_env_file,
)
from flows.demo.company import generate_company
from flows.errors import ConfigError
from flows.init import InitError, answers_from_options, ask_answers
from flows.runtime import Runtime
from flows.secrets_file import ensure_secrets

SCRIPT = Path(sys.executable).with_name("dsar")
REQUIRED = ["--name", "Pieni Kauppa Oy", "--business-id", "1234567-1", "--contact-email", "tietosuoja@pienikauppa.fi"]
SECRET_NAMES = ("DSAR_LINK_SECRET", "DSAR_LEDGER_KEY", "DSAR_PACKAGE_KEY")


def dsar(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    # stdin is not a terminal here: init takes its answers from the options. Only the directory's own config and
    # env file count: no DSAR_CONFIG or secret from the environment the tests run in.
    env = {k: v for k, v in os.environ.items() if k != "DSAR_CONFIG" and k not in SECRET_NAMES}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=cwd,
                          env=env, timeout=120)


def init(directory: Path, *extra: str) -> subprocess.CompletedProcess:
    result = dsar("init", str(directory), *REQUIRED, *extra)
    assert result.returncode == 0, result.stderr
    return result


def with_sources(directory: Path) -> Path:
    """The generated dsar.toml with its two commented [[sources]] examples uncommented, on a generated company."""
    generate_company(directory, customers=50, messages=60)
    config = directory / "dsar.toml"
    text = config.read_text(encoding="utf-8")
    head, examples = text.split("# [[sources]]", 1)
    examples = "\n".join(line.removeprefix("# ").removeprefix("#") for line in ("# [[sources]]" + examples)
                         .splitlines())
    config.write_text(head + examples + "\n", encoding="utf-8")
    return config


def test_init_writes_a_config_secrets_and_readme(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    result = init(shop)
    assert sorted(p.name for p in shop.iterdir()) == ["README.md", "dsar.env", "dsar.toml"]
    assert stat.S_IMODE((shop / "dsar.env").stat().st_mode) == 0o600
    assert "DSAR_LEDGER_KEY" in result.stdout and "=" not in result.stdout.split("new secrets", 1)[1]
    env = read_env_file(shop / "dsar.env", shop / "dsar.toml")
    assert sorted(env) == sorted(SECRET_NAMES)
    readme = (shop / "README.md").read_text(encoding="utf-8")
    assert "Pieni Kauppa Oy" in readme and "dsar check" in readme and "[[sources]]" in readme


def test_the_secrets_load_with_the_loaders_dsar_uses(tmp_path: Path) -> None:
    init(tmp_path)
    rt = Runtime(load_config(with_sources(tmp_path), environ={}))  # the env file alone
    check_secret(rt.link_secret)
    assert len(rt.package_public_key) == 32 and len(rt.ledger_public_key) == 32
    assert rt.package_key != load_private_key(rt.config.environ["DSAR_LEDGER_KEY"])  # two keys, not one twice
    env = read_env_file(tmp_path / "dsar.env", tmp_path)
    assert public_key(load_private_key(env["DSAR_LEDGER_KEY"])) == rt.ledger_public_key
    assert dsar("audit", "public-key", cwd=tmp_path).returncode == 0
    assert dsar("package", "public-key", cwd=tmp_path).returncode == 0


def test_the_config_loads_once_its_two_example_sources_are_filled_in(tmp_path: Path) -> None:
    init(tmp_path)
    with pytest.raises(ConfigError, match=r"sources: missing: add a \[\[sources\]\] section"):  # no source yet
        load_config(tmp_path / "dsar.toml")
    check = dsar("check", cwd=tmp_path)
    assert check.returncode == 1 and check.stdout.count("\n") == 1 and "add a [[sources]] section" in check.stdout
    config = load_config(with_sources(tmp_path))
    assert [s.name for s in config.sources] == ["customers", "support_mail"]
    assert config.controller.name == "Pieni Kauppa Oy" and config.controller.business_id == "1234567-1"
    assert config.controller.languages == ["fi", "en"]
    assert config.mail.sender == "Pieni Kauppa Oy <tietosuoja@pienikauppa.fi>"
    assert config.redaction.controller_domains == ["pienikauppa.fi"]
    assert len(Runtime(config).sources()) == 2


def _shown_keys(text: str) -> set[str]:
    """Every key the file shows, set or commented out."""
    return set(re.findall(r"(?m)^(?:# )?([a-z0-9_]+) = ", text))


def test_every_section_and_key_is_shown_with_a_comment(tmp_path: Path) -> None:
    init(tmp_path)
    text = (tmp_path / "dsar.toml").read_text(encoding="utf-8")
    parsed = tomllib.loads(text)
    assert set(parsed) >= {"env_file", "controller", "activities", "identity", "mail", "store", "storage", "delivery",
                           "portal", "package", "notify", "review", "redaction"}
    for commented in ("# [mail.smtp]", "# [[sources]]", '# kind = "sql"', '# kind = "mail"', "# [identity.oidc]",
                      "# [identity.knowledge]"):
        assert commented in text
    shown = _shown_keys(text)
    for model in (Controller, Identity, Mail, Smtp, Store, Audit, Storage, Delivery, Portal, Package, Notify, Review,
                  Redaction):
        missing = set(model.model_fields) - shown - {"knowledge", "oidc", "manual_levels", "smtp"}  # sub-sections
        assert not missing, f"{model.__name__}: {sorted(missing)} not in the generated dsar.toml"
    for line in text.splitlines():
        if re.match(r"[a-z0-9_]+ = ", line):  # a key that is set says what it does
            assert "  # " in line, line


def test_comments_come_in_the_chosen_language(tmp_path: Path) -> None:
    init(tmp_path / "fi", "--language", "fi")
    init(tmp_path / "en", "--language", "en")
    fi = (tmp_path / "fi" / "dsar.toml").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "dsar.toml").read_text(encoding="utf-8")
    assert "# Y-tunnus tarkisteineen" in fi and "Finnish business id" not in fi
    assert "# Finnish business id" in en and "tarkisteineen" not in en
    assert tomllib.loads(fi) == tomllib.loads(en)  # the keys and values are the same
    assert "Täytä seuraavaksi" in (tmp_path / "fi" / "README.md").read_text(encoding="utf-8")


def test_only_the_languages_chosen_need_texts(tmp_path: Path) -> None:
    init(tmp_path, "--languages", "en")
    parsed = tomllib.loads((tmp_path / "dsar.toml").read_text(encoding="utf-8"))
    assert parsed["controller"]["languages"] == ["en"]
    assert set(parsed["activities"][0]["purposes"]) == {"en"}


def test_rerunning_never_replaces_a_secret(tmp_path: Path) -> None:
    init(tmp_path)
    env_before = (tmp_path / "dsar.env").read_bytes()
    edited = (tmp_path / "dsar.toml").read_text(encoding="utf-8") + "# my own note\n"
    (tmp_path / "dsar.toml").write_text(edited, encoding="utf-8")

    again = init(tmp_path, "--name", "Toinen Oy")
    assert (tmp_path / "dsar.env").read_bytes() == env_before
    assert (tmp_path / "dsar.toml").read_text(encoding="utf-8") == edited  # left alone without --force
    assert "kept" in again.stdout and "new secrets" not in again.stdout

    init(tmp_path, "--name", "Toinen Oy", "--force")
    assert (tmp_path / "dsar.env").read_bytes() == env_before  # even with --force
    assert 'name = "Toinen Oy"' in (tmp_path / "dsar.toml").read_text(encoding="utf-8")


def test_a_missing_secret_is_added_and_the_others_kept_byte_for_byte(tmp_path: Path) -> None:
    init(tmp_path)
    lines = (tmp_path / "dsar.env").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("DSAR_PACKAGE_KEY=")]
    (tmp_path / "dsar.env").write_text("".join(kept).rstrip("\n") + "\nSMTP_PASSWORD=mine", encoding="utf-8")
    init(tmp_path)
    text = (tmp_path / "dsar.env").read_text(encoding="utf-8")
    assert text.startswith("".join(kept) + "SMTP_PASSWORD=mine\nDSAR_PACKAGE_KEY=")
    load_private_key(read_env_file(tmp_path / "dsar.env", tmp_path)["DSAR_PACKAGE_KEY"])


def test_an_env_file_others_can_read_is_refused_not_filled(tmp_path: Path) -> None:
    init(tmp_path)
    (tmp_path / "dsar.env").chmod(0o644)
    before = (tmp_path / "dsar.env").read_bytes()
    (tmp_path / "dsar.env").write_bytes(before.split(b"DSAR_PACKAGE_KEY")[0])
    result = dsar("init", str(tmp_path), *REQUIRED)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "chmod 600" in result.stderr
    assert b"DSAR_PACKAGE_KEY" not in (tmp_path / "dsar.env").read_bytes()


def test_the_env_file_is_owner_only_from_its_creation_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        ensure_secrets(tmp_path / "x.env", {"A": lambda: "1"}, "# header\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "x.env").stat().st_mode) == 0o600


def test_without_a_terminal_missing_answers_are_one_line_naming_the_options(tmp_path: Path) -> None:
    result = dsar("init", str(tmp_path), "--name", "Pieni Kauppa Oy")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("dsar: error: missing --business-id, --contact-email:")
    assert list(tmp_path.iterdir()) == []  # nothing half-written


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--business-id", "1234567-8", "--business-id: the check digit does not match"),
    ("--business-id", "", "missing --business-id"),
    ("--contact-email", "not an address", "--contact-email: "),
    ("--languages", "fi,sv", "--languages: use fi, en or both"),
    ("--time-zone", "Mars/Olympus", "--time-zone: use an IANA time zone"),
    # TOML takes no DEL in a string, and a line separator would split the name in a notice.
    ("--name", "Pieni\x7fKauppa Oy", "--name: must be one line without control characters"),
    ("--postal-address", "Katu 1\u2028Helsinki", "--postal-address: must be one line without control characters"),
    # The config's own pattern: a phone it would refuse at load is refused here.
    ("--phone", "call us", "--phone: not a phone number (e.g. +358 40 123 4567)"),
])
def test_a_wrong_answer_is_one_line_naming_its_option(tmp_path: Path, option: str, value: str, says: str) -> None:
    args = [*REQUIRED]
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    result = dsar("init", str(tmp_path / "shop"), *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"dsar: error: {says}"), result.stderr
    assert not (tmp_path / "shop").exists()


def test_in_a_terminal_a_wrong_answer_is_asked_again() -> None:
    replies = iter(["Pieni Kauppa Oy", "1234567-8", "1234567-1", "tietosuoja@pienikauppa.fi", "", "", "", "", "en",
                    ""])
    asked: list[str] = []
    told: list[str] = []

    def ask(prompt: str, default: str) -> str:
        asked.append(prompt)
        return next(replies)

    answers = ask_answers({}, ask, told.append)
    assert answers["business_id"] == "1234567-1" and "phone" not in answers and answers["languages"] == "en"
    assert answers["time_zone"] == "Europe/Helsinki"  # an empty answer takes the default
    assert len(told) == 1 and "check digit" in told[0]
    assert sum("Business id" in prompt for prompt in asked) == 2


def test_options_and_answers_are_checked_alike() -> None:
    with pytest.raises(InitError, match="--dpo-email"):
        answers_from_options({"name": "x", "business_id": "1234567-1", "contact_email": "a@b.fi", "dpo_email": "nope"})


def test_the_sender_keeps_a_finnish_name_readable(tmp_path: Path) -> None:
    # formataddr would write an RFC 2047 word (=?utf-8?b?...?=) into the file the officer edits.
    init(tmp_path, "--name", 'Åströmin "Kauppa" Oy')
    sender = tomllib.loads((tmp_path / "dsar.toml").read_text(encoding="utf-8"))["mail"]["sender"]
    assert sender == '"Åströmin \\"Kauppa\\" Oy" <tietosuoja@pienikauppa.fi>'
    parsed = email.message_from_string(f"From: {sender}\n\n", policy=email.policy.default)["From"].addresses[0]
    assert (parsed.display_name, parsed.addr_spec) == ('Åströmin "Kauppa" Oy', "tietosuoja@pienikauppa.fi")
