"""A demo request verified by an OIDC ID token, from login to delivery; the CLI an operator uses; the config."""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows import stages
from flows.config import load_config
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import ConfigError
from flows.oidc import start_login, submit_id_token
from flows.runtime import open_runtime
from flows.stage_record import without_run
from identity.errors import AlreadyVerified, IdentityNotVerified
from tests.flows.oidc_demo import claims_on_record, with_oidc, with_oidc_method, write_oidc_config
from tests.flows.privacy import drain_prefect, find_in_database
from tests.identity.oidc_provider import Provider, serve_jwks

DSAR = [str(Path(sys.executable).with_name("dsar"))]


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    return prepare_demo(tmp_path_factory.mktemp("oidc") / "demo")


@pytest.fixture(scope="module")
def mailchimp_url(company) -> Iterator[str]:
    """The demo's Mailchimp-compatible endpoint: `request new` sends no code while a source is unreachable."""
    demo, env = company
    with serve_mailchimp(json.loads(demo.mailchimp_data.read_text(encoding="utf-8")), env["MAILCHIMP_API_KEY"]) as api:
        yield api.base_url


@pytest.fixture(scope="module")
def provider():
    idp = Provider()
    idp.add_key("RS256")
    with serve_jwks(idp):
        yield idp


def test_a_demo_request_is_verified_by_an_id_token_and_delivered(company, provider, caplog, prefect_api, monkeypatch):
    demo, secrets = company
    caplog.set_level(logging.DEBUG)
    data = json.loads(demo.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        rt = open_runtime(write_oidc_config(demo, mailchimp.base_url, provider))
        request = stages.register(rt, demo.subject_email, "fi", name=demo.subject_name)
        nonce = start_login(rt, request.id)
        assert rt.store.get(request.id).status == "awaiting_identity"
        token = provider.token(nonce, datetime.now(UTC), next(iter(provider.keys)), email=demo.subject_email,
                               **claims_on_record(demo, demo.subject_email))
        evidence = submit_id_token(rt, request.id, token)
        assert (evidence.method, evidence.level) == ("oidc", "high")
        assert rt.store.get(request.id).status == "verified"

        monkeypatch.setenv("DSAR_CONFIG", str(rt.config.path))
        from flows.fulfil import run_request

        run_request(request.id)  # the Prefect flow, as `dsar run` starts it
    assert rt.store.get(request.id).status == "delivered"
    assert (rt.config.base_dir / "outbox" / f"{request.id}-link.eml").is_file()

    events = {e.action: e.detail for e in rt.ledger.events(request.id)}
    assert events["identity_verified"] == {"method": "oidc", "level": "high",
                                           "kinds": ["email", "sub", "birthdate", "hetu", "name"]}
    assert without_run(events["identity_done"]) == {"method": "oidc", "level": "high"}
    stored = rt.store.get(request.id).evidence
    assert stored is not None and set(stored["claims"]["sha256"]) == {"name", "birthdate", "hetu"}

    # Neither the token, nor the nonce, nor anything the provider asserted is in a log line or the store and ledger.
    secrets_of_the_login = [token, nonce, token.split(".")[2], "290284-922B", "1984-02-29", "user-8f2c"]
    assert not [s for s in secrets_of_the_login if s in caplog.text]
    assert find_in_database(Path(rt.store.engine.url.database or ""), secrets_of_the_login) == []
    drain_prefect()
    assert find_in_database(Path(prefect_api), secrets_of_the_login) == []


def test_a_login_raises_an_email_codes_level_when_the_policy_asks_for_more(company, provider):
    from flows.demo.run import verify_by_outbox

    demo, _ = company
    rt = open_runtime(write_oidc_config(demo, "http://127.0.0.1:9/3.0", provider))
    request = stages.register(rt, demo.subject_email, "fi")
    try:
        verify_by_outbox(rt, request.id)
        assert (rt.store.get(request.id).evidence or {})["level"] == "low"
        nonce = start_login(rt, request.id)  # not "already verified": the email code is weaker than the login
        token = provider.token(nonce, datetime.now(UTC), next(iter(provider.keys)), email=demo.subject_email,
                               **claims_on_record(demo, demo.subject_email))
        assert submit_id_token(rt, request.id, token).level == "high"
        assert (rt.store.get(request.id).evidence or {})["level"] == "high"
        with pytest.raises(AlreadyVerified):
            start_login(rt, request.id)  # high already: a second login adds nothing
    finally:
        stages.close(rt, request.id, "withdrawn")


@pytest.mark.parametrize("spelled", ["{first} Maria {last}", "{last} {first}", "{FIRST} {LAST}"])
def test_a_bank_login_may_give_every_given_name_in_any_order(company, provider, spelled):
    """Strong identification gives all given names, sometimes family name first; the shop keeps one."""
    demo, _ = company
    rt = open_runtime(write_oidc_config(demo, "http://127.0.0.1:9/3.0", provider))
    request = stages.register(rt, demo.subject_email, "fi")
    try:
        on_record = claims_on_record(demo, demo.subject_email)
        first, last = on_record["name"].split(" ", 1)
        name = spelled.format(first=first, last=last, FIRST=first.upper(), LAST=last.upper())
        token = provider.token(start_login(rt, request.id), datetime.now(UTC), next(iter(provider.keys)),
                               email=demo.subject_email, **{**on_record, "name": name})
        assert submit_id_token(rt, request.id, token).level == "high"
    finally:
        stages.close(rt, request.id, "withdrawn")


def test_the_same_token_again_is_refused_as_already_verified(company, provider):
    demo, _ = company
    rt = open_runtime(write_oidc_config(demo, "http://127.0.0.1:9/3.0", provider))
    request = stages.register(rt, "aino.makinen@example.fi", "en")
    token = provider.token(start_login(rt, request.id), datetime.now(UTC), next(iter(provider.keys)),
                           email="aino.makinen@example.fi", **claims_on_record(demo, "aino.makinen@example.fi"))
    submit_id_token(rt, request.id, token)
    with pytest.raises(AlreadyVerified, match=f"{request.id}: identity already verified"):
        submit_id_token(rt, request.id, token)
    with pytest.raises(AlreadyVerified):
        start_login(rt, request.id)
    assert [e.action for e in rt.ledger.events(request.id)].count("identity_verified") == 1
    stages.close(rt, request.id, "withdrawn")


def test_an_email_code_and_an_oidc_nonce_do_not_stand_for_each_other(company, provider):
    demo, _ = company
    rt = open_runtime(write_oidc_config(demo, "http://127.0.0.1:9/3.0", provider))
    request = stages.register(rt, "eero.laine@example.fi", "fi")
    start_login(rt, request.id)
    with pytest.raises(IdentityNotVerified):  # a login is outstanding, not a code
        stages.submit_code(rt, request.id, "12345678")
    stages.send_code(rt, request.id)  # a code replaces the login
    with pytest.raises(IdentityNotVerified):
        submit_id_token(rt, request.id, "x.y.z")
    assert rt.store.get(request.id).evidence is None
    stages.close(rt, request.id, "withdrawn")


def dsar(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([*DSAR, *args], capture_output=True, text=True, input=stdin, timeout=300,
                          env=os.environ.copy())


def test_an_operator_verifies_with_a_token_file_or_stdin_and_a_replay_is_refused(company, provider, tmp_path,
                                                                                   mailchimp_url):
    demo, _ = company
    config = str(write_oidc_config(demo, mailchimp_url, provider))
    kid = next(iter(provider.keys))
    for email, read_from_stdin in (("liisa.nieminen@example.fi", False), ("pekka.koski@example.fi", True)):
        new = dsar("request", "new", "--email", email, "--config", config)
        assert new.returncode == 0, new.stderr
        request_id = new.stdout.split()[0]
        started = dsar("request", "oidc-start", request_id, "--config", config)
        assert started.returncode == 0, started.stderr
        nonce = started.stdout.strip()
        assert "the ID token must carry this nonce" in started.stderr and nonce not in started.stderr
        token = provider.token(nonce, datetime.now(UTC), kid, email=email)
        token_file = tmp_path / f"{request_id}.jwt"
        token_file.write_text(token + "\n")
        args = ("request", "verify", request_id, "--id-token", "-" if read_from_stdin else str(token_file))
        verified = dsar(*args, "--config", config, stdin=token if read_from_stdin else "")
        assert verified.returncode == 0, verified.stderr
        assert verified.stdout == (f"{request_id}: identity verified (oidc, high). "
                                   f"Run it with: dsar run {request_id}\n")
        replayed = dsar("request", "verify", request_id, "--id-token", str(token_file), "--config", config)
        assert replayed.returncode == 2
        assert replayed.stderr == f"dsar: error: {request_id}: identity already verified; nothing more was used\n"
        assert token not in verified.stdout + verified.stderr + replayed.stderr
        show = dsar("request", "show", request_id, "--config", config)
        assert "oidc (high)" in show.stdout
        dsar("request", "close", request_id, "--reason", "withdrawn", "--config", config)

    empty = tmp_path / "empty.jwt"
    empty.write_text("\n")
    refused = dsar("request", "verify", "REQ-X", "--id-token", str(empty), "--config", config)
    assert refused.returncode == 2 and "holds no single token" in refused.stderr


def test_oidc_commands_say_when_oidc_is_not_configured(company, mailchimp_url):
    demo, _ = company
    config = str(write_demo_config(demo, mailchimp_url))
    new = dsar("request", "new", "--email", "ville.aho@example.fi", "--config", config)
    request_id = new.stdout.split()[0]
    started = dsar("request", "oidc-start", request_id, "--config", config)
    assert started.returncode == 2
    assert started.stderr.endswith("identity.oidc: missing: OIDC login is not configured\n")
    dsar("request", "close", request_id, "--reason", "withdrawn", "--config", config)


@pytest.mark.parametrize(("change", "key", "message"), [
    ({"jwks_url": "http://idp.example.fi/jwks.json"}, "identity.oidc.jwks_url", "use an https:// URL"),
    ({"leeway_seconds": 300}, "identity.oidc.leeway_seconds", "less than or equal to 60"),
    ({"algorithms": ["HS256"]}, "identity.oidc.algorithms.0", "'RS256', 'ES256' or 'EdDSA'"),
    ({"algorithms": ["none"]}, "identity.oidc.algorithms.0", "'RS256', 'ES256' or 'EdDSA'"),
    ({"algorithms": []}, "identity.oidc.algorithms", "at least 1 item"),
    ({"level": "very"}, "identity.oidc.level", "'low', 'substantial' or 'high'"),
    ({"claims_to_match": ["../hetu"]}, "identity.oidc.claims_to_match", "claim names"),
    ({"audience": "x"}, "identity.oidc.audience", "unknown key"),
])
def test_a_wrong_oidc_section_is_one_line_naming_the_key(company, provider, change, key, message):
    demo, _ = company
    path = write_demo_config(demo, "http://127.0.0.1:9/3.0")
    path.write_text(with_oidc(path.read_text(encoding="utf-8"), provider, **change), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: {key}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_the_oidc_method_and_its_section_go_together(company, provider):
    demo, _ = company
    path = write_demo_config(demo, "http://127.0.0.1:9/3.0")
    base = path.read_text(encoding="utf-8")
    path.write_text(with_oidc_method(base), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"identity: the oidc method and an \[identity.oidc\] section go together"):
        load_config(path)
    path.write_text(with_oidc(base, provider), encoding="utf-8")
    assert load_config(path).oidc().settings().level == "high"


def test_the_oidc_commands_have_help():
    started = dsar("request", "oidc-start", "--help")
    assert started.returncode == 0 and "nonce its ID token must carry" in started.stdout
    verify = dsar("request", "verify", "--help")
    assert verify.returncode == 0 and "--id-token" in verify.stdout
