"""Impostors who play with the requester's address: none of them gets a code, a verified request or a record.

Each case runs the flow's own stages on the demo company, with the code mailed
over real SMTP on loopback (aiosmtpd, SMTPUTF8 on, so a Unicode address is
really delivered). The attacker reads only the mail delivered to addresses they
control, and goes as far as the flow lets them: register, receive a code, type
it, extract every source. What must hold each time: no code reaches the
attacker for the victim's request, no request in the attacker's hands is
verified, and no record of the victim's is extracted for them.

Plus-addressing: `aino.makinen+sar@example.fi` is a DIFFERENT address. Whether
`+` separates a tag is the receiving mail system's own rule (many treat it as
a plain character, so `bob+x@corp` may be another person); folding it away
would match records the mail system might deliver elsewhere. A requester who
asks from a tagged address gets their code there and is matched on it exactly.

These tests import only what existed before the canonical address (an
IdentityError is what a refused address raises), so they can be run against
the earlier code: there the Kelvin sign, the list and the CR/LF cases disclose
or half-register, and the pre-emptive request silences the real one.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

from extractors.records import read_jsonl
from flows import stages
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import demo_company, prepare_demo, write_demo_config
from flows.errors import RequestClosed
from flows.runtime import Runtime, open_runtime
from identity.errors import IdentityError, VerificationFailed
from tests.flows.delivered import Clock

VICTIM = "aino.makinen@example.fi"  # the demo subject; the customer database holds Aino.Makinen@Example.fi
ATTACKER = "attacker@evil.example"
CODE = re.compile(rb"\b(\d{8})\b")


@dataclass
class Delivered:
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Smtp:
    port: int
    messages: list[Delivered] = field(default_factory=list)

    def mailbox(self, address: str) -> list[bytes]:
        """What the owner of exactly `address` can read."""
        return [m.content for m in self.messages if address in m.rcpt_tos]


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Smtp(port)

    class Collect:
        async def handle_DATA(self, _server, _session, envelope) -> str:
            server.messages.append(Delivered(list(envelope.rcpt_tos), envelope.original_content or b""))
            return "250 OK"

    controller = Controller(Collect(), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    yield server
    controller.stop()


@pytest.fixture
def world(tmp_path, smtp) -> Iterator[Runtime]:
    """The demo company, mailing over SMTP on loopback, with Mailchimp served locally; a movable clock."""
    company, secrets = prepare_demo(tmp_path / "demo")
    data = json.loads(company.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        config = write_demo_config(company, mailchimp.base_url)
        config.write_text(config.read_text(encoding="utf-8").replace(
            'outbox = "outbox"', f'smtp = {{ host = "127.0.0.1", port = {smtp.port}, starttls = false }}'),
            encoding="utf-8")
        rt = open_runtime(config)
        rt.clock = Clock()
        yield rt


def registered(rt: Runtime) -> list[str]:
    return [r.id for r in rt.store.list()]


def attack(rt: Runtime, smtp: Smtp, typed: str, reads: tuple[str, ...]) -> tuple[str | None, int]:
    """The attacker types `typed` and reads the mailboxes `reads`; (their request id or None, records extracted)."""
    try:
        request = stages.register(rt, typed, "fi")
        stages.send_code(rt, request.id)
    except (IdentityError, ValueError):
        return None, 0
    codes = [found.group(1).decode() for content in (c for a in reads for c in smtp.mailbox(a))
             if (found := CODE.search(content)) and request.id.encode() in content]
    for code in codes:
        try:
            stages.submit_code(rt, request.id, code)
            break
        except VerificationFailed:
            continue
    else:
        return request.id, 0
    stages.verify_identity(rt, request.id)
    for source in rt.config.sources:
        stages.extract(rt, request.id, source.name)
    extracted = Path(rt.work_dir(request.id)) / "extracted"
    return request.id, sum(1 for path in extracted.glob("*.jsonl") for _ in read_jsonl(path))


def assert_nothing_disclosed(rt: Runtime, smtp: Smtp, records: int) -> None:
    assert records == 0, "the victim's records were extracted for the attacker"
    victims = [m for m in smtp.messages if VICTIM in m.rcpt_tos]
    assert all(ATTACKER not in m.rcpt_tos for m in victims), "a code for the victim went to the attacker too"
    assert all(r.email != VICTIM for r in rt.store.list() if r.evidence), "a request for the victim got verified"


# Refused outright: nothing is registered, nothing is mailed -------------------------------------------------

REFUSED = {
    "kelvin sign (U+212A) for K": VICTIM.replace("k", "\N{KELVIN SIGN}"),
    "fullwidth local part": "ａｉｎｏ.makinen@example.fi",
    "cyrillic a": VICTIM.replace("a", "\N{CYRILLIC SMALL LETTER A}", 1),
    "greek omicron": VICTIM.replace("o", "\N{GREEK SMALL LETTER OMICRON}", 1),
    "no-break space": VICTIM.replace(".", "\N{NO-BREAK SPACE}", 1),
    "zero-width joiner": VICTIM.replace(".", ".\N{ZERO WIDTH JOINER}", 1),
    "fullwidth domain (IDNA maps it onto example.fi)": "aino.makinen@ｅｘａｍｐｌｅ.fi",
    "list with a comma": f"{ATTACKER}, {VICTIM}",
    "list with a semicolon": f"{VICTIM};{ATTACKER}",
    "CR/LF header injection": f"{VICTIM}\r\nBcc: {ATTACKER}",
    "bare LF": f"{VICTIM}\nBcc: {ATTACKER}",
    "display name hiding the real recipient": f'"{VICTIM}" <{ATTACKER}>',
    "quoted local part": f'"{VICTIM}"@evil.example',
}


@pytest.mark.parametrize("typed", REFUSED.values(), ids=REFUSED.keys())
def test_a_doubtful_address_is_refused_before_anything_is_registered_or_mailed(world, smtp, typed):
    with pytest.raises(IdentityError):
        stages.register(world, typed, "fi")
    assert registered(world) == [], "a request was registered for a refused address"
    assert smtp.messages == [], "something was mailed for a refused address"
    request_id, records = attack(world, smtp, typed, reads=(ATTACKER, typed))
    assert request_id is None
    assert_nothing_disclosed(world, smtp, records)


# Accepted, but another address: the code goes there and it matches nothing of the victim's -----------------

OTHER_ADDRESSES = {
    "look-alike domain": "aino.makinen@examp1e.fi",
    "cyrillic a in the domain (an IDN of its own)": "aino.makinen@ex\N{CYRILLIC SMALL LETTER A}mple.fi",
    "plus-addressing": "aino.makinen+sar@example.fi",
    "another local part": "aino.makinen1@example.fi",
}


@pytest.mark.parametrize("typed", OTHER_ADDRESSES.values(), ids=OTHER_ADDRESSES.keys())
def test_an_attacker_who_verifies_another_address_gets_none_of_the_victims_records(world, smtp, typed):
    request_id, records = attack(world, smtp, typed, reads=(typed,))
    assert request_id is not None and world.store.get(request_id).evidence is not None, "the attack should verify"
    [message] = smtp.messages
    assert message.rcpt_tos == [typed], "the code went anywhere but exactly the address typed"
    assert_nothing_disclosed(world, smtp, records)


def test_the_victim_asking_from_her_own_address_still_gets_her_records(world, smtp):
    # The other side of the cases above: exact matching still finds the subject (her row is in mixed case).
    request_id, records = attack(world, smtp, "Aino.Makinen@EXAMPLE.fi", reads=("Aino.Makinen@example.fi",))
    assert request_id is not None and records > 0


# Pre-emptive requests ----------------------------------------------------------------------------------------

def test_a_pre_emptive_request_neither_silences_nor_serves_the_real_subject(world, smtp):
    squatter = stages.register(world, VICTIM, "fi")
    stages.send_code(world, squatter.id)  # mailed to Aino, whose mailbox the attacker cannot read
    assert [m.rcpt_tos for m in smtp.messages] == [[VICTIM]]

    # Aino's own request is not a silent duplicate: it gets its own code, and only hers verifies it.
    own = stages.register(world, VICTIM, "fi")
    assert own.status == "received" and own.duplicate_of is None
    stages.send_code(world, own.id)
    mails = smtp.mailbox(VICTIM)
    assert len(mails) == 2 and own.id.encode() in mails[1] and squatter.id.encode() not in mails[1]
    own_code = CODE.search(mails[1]).group(1).decode()  # type: ignore[union-attr]
    with pytest.raises(VerificationFailed):
        stages.submit_code(world, squatter.id, own_code)  # her code never verifies the squatter's request
    assert stages.submit_code(world, own.id, own_code).status == "verified"
    assert world.store.get(squatter.id).evidence is None

    # A week and a day later the squatter's request has lapsed: closed, its code useless, nothing delivered.
    world.clock.now += timedelta(days=8)
    from flows.sweeper import expire_packages

    assert expire_packages(world).requests_lapsed == 1
    lapsed = world.store.get(squatter.id)
    assert (lapsed.status, lapsed.reason, lapsed.evidence) == ("closed", "lapsed", None)
    with pytest.raises(RequestClosed):
        stages.send_code(world, squatter.id)
    assert world.store.get(own.id).status == "verified", "a verified request does not lapse"


def test_a_code_for_a_lapsed_request_closes_it_even_before_the_sweeper_runs(world, smtp):
    squatter = stages.register(world, VICTIM, "fi")
    stages.send_code(world, squatter.id)
    code = CODE.search(smtp.mailbox(VICTIM)[0]).group(1).decode()  # type: ignore[union-attr]
    world.clock.now += timedelta(days=7, minutes=1)
    with pytest.raises(RequestClosed):
        stages.submit_code(world, squatter.id, code)
    assert world.store.get(squatter.id).status == "closed" and world.store.get(squatter.id).evidence is None


# The command line a privacy officer types the address into ---------------------------------------------------

def dsar(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("dsar")  # the console script, as a user runs it
    return subprocess.run([str(script), *args, "--config", str(config)], capture_output=True, text=True,
                          timeout=300, env=os.environ.copy())


@pytest.fixture
def cli_config(tmp_path) -> Iterator[Path]:
    # Its Mailchimp-compatible endpoint serves: `request new` sends no code while a source is unreachable.
    with demo_company(tmp_path / "demo") as (_, path):
        yield path


@pytest.mark.parametrize("typed", [f"{ATTACKER}, victim@posti.example", f"victim@posti.example\r\nBcc: {ATTACKER}"],
                         ids=["list", "CR/LF"])
def test_request_new_refuses_a_list_or_crlf_in_one_line_before_registering_or_mailing(cli_config, typed):
    result = dsar(cli_config, "request", "new", "--email", typed)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("dsar: error: the email address is not")
    assert "victim" not in result.stderr and "attacker" not in result.stderr, "the error repeats the address"
    assert dsar(cli_config, "requests", "list").stdout == "", "a request was registered"
    outbox = cli_config.parent / "outbox"
    assert not outbox.exists() or not any(outbox.iterdir()), "something was mailed"


def test_request_new_for_a_squatted_address_sends_a_code_and_shows_no_other_request(cli_config):
    squatter = dsar(cli_config, "request", "new", "--email", VICTIM).stdout.split()[0]
    own = dsar(cli_config, "request", "new", "--email", VICTIM)
    assert own.returncode == 0, own.stderr
    assert "a one-time code was sent" in own.stdout
    assert squatter not in own.stdout + own.stderr, "the other request's id was shown"
    assert list((cli_config.parent / "outbox").glob(f"{own.stdout.split()[0]}-code-*.eml"))
