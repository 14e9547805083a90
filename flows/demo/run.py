"""`dsar demo`: a whole request against a generated company, on the embedded defaults."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from exports.storage import LocalStorage
from flows import stages
from flows.config import Store, read_env_file
from flows.demo.company import DemoCompany, generate_company
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.settings import demo_config
from flows.errors import ConfigError
from flows.local_api import find_local_api
from flows.notify import Outbox
from flows.pages import page_link
from flows.runtime import Runtime, open_runtime
from flows.secrets_file import drop_secret, ensure_secrets, new_link_secret, new_signing_key, write_key_file

LEDGER_KEY_ENV = Store().ledger_key_env  # demos made by earlier versions kept the ledger key in dsar.env


@dataclass(frozen=True)
class DemoResult:
    request_id: str
    package_path: str
    download_url: str
    portal_url: str
    status_url: str
    passphrase: str
    subject_email: str
    workdir: str
    ledger_key_file: str


def demo_key_file(workdir: Path) -> Path:
    """Where the demo keeps its ledger key: a directory of its own beside the workdir (`demo-keys/` beside
    `demo/`), so that whoever can rewrite the demo's ledger cannot re-sign it."""
    return workdir.parent / f"{workdir.name}-keys" / "ledger.key"


def _demo_ledger_key(workdir: Path) -> Path:
    """The demo's ledger key file, made once per workdir so that the ledger stays verifiable across runs.

    A workdir made by an older version holds its key in dsar.env: that same key is moved out (a new one would
    orphan the ledger's signatures). A ledger whose key is gone is refused rather than signed on with a new one.
    """
    key_file = demo_key_file(workdir)
    env = workdir / "dsar.env"
    held = read_env_file(env, env).get(LEDGER_KEY_ENV) if env.exists() else None
    if key_file.exists():
        if held is not None and held != key_file.read_text(encoding="ascii").strip():
            raise ConfigError(env, LEDGER_KEY_ENV, f"differs from the key in {key_file}: keep the one that "
                                                   "signed the ledger (dsar audit verify) and delete the other")
    elif held is not None:
        write_key_file(key_file, held)
    elif (workdir / "dsar.db").exists():
        raise ConfigError(workdir / "dsar.toml", "store.ledger_key_file", f"{key_file} is missing and the demo's "
                          f"ledger in {workdir} was signed with it: restore it, or delete {workdir} to start over")
    else:
        write_key_file(key_file, new_signing_key())
    if held is not None:
        drop_secret(env, LEDGER_KEY_ENV)  # only once the key file holds it: a crash before leaves both
    return key_file


def _demo_secrets(path: Path) -> dict[str, str]:
    """The demo's other secrets, in `dsar.env`, made once per workdir; a workdir made by an older version gets
    those it lacks added."""
    makers = {
        "DSAR_LINK_SECRET": new_link_secret,
        "DSAR_PACKAGE_KEY": new_signing_key,
        "MAILCHIMP_API_KEY": lambda: secrets.token_hex(16) + "-us21",
    }
    return ensure_secrets(path, makers, "# Secrets of the demo company. Keep private.\n")


def _outbox(rt: Runtime) -> Outbox:
    assert isinstance(rt.mailer, Outbox)
    return rt.mailer


def _local(rt: Runtime) -> LocalStorage:
    assert isinstance(rt.storage, LocalStorage), "the demo keeps its packages in a local directory"
    return rt.storage


def prepare_demo(workdir: Path, seed: int = 2026) -> tuple[DemoCompany, dict[str, str]]:
    """Generate the company and its secrets: the ledger key in `demo_key_file(workdir)`, the others in
    `dsar.env` (returned)."""
    workdir.mkdir(parents=True, exist_ok=True)
    _demo_ledger_key(workdir)
    return generate_company(workdir, seed=seed), _demo_secrets(workdir / "dsar.env")


def write_demo_config(company: DemoCompany, mailchimp_url: str) -> Path:
    path = company.workdir / "dsar.toml"
    path.write_text(demo_config(mailchimp_url, company.staff_address, demo_key_file(company.workdir)),
                    encoding="utf-8")
    return path


def verify_by_outbox(rt: Runtime, request_id: str) -> None:
    """Send a one-time code and type it back, as the requester would from their mailbox."""
    key = stages.send_code(rt, request_id)
    found = re.search(r"\b(\d{8})\b", _outbox(rt).read(key))
    if found is None:
        raise RuntimeError(f"the mail {key} in the outbox holds no one-time code")
    stages.submit_code(rt, request_id, found.group(1))


@contextmanager
def demo_company(workdir: Path, seed: int = 2026) -> Iterator[tuple[DemoCompany, Path]]:
    """The generated company and its config, its Mailchimp-compatible endpoint serving until the block ends."""
    company, env = prepare_demo(workdir.resolve(), seed)
    data = json.loads(company.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, env["MAILCHIMP_API_KEY"]) as mailchimp:
        yield company, write_demo_config(company, mailchimp.base_url)


def verified_requests(rt: Runtime, emails: Iterable[str], language: str = "fi") -> list[str]:
    """Register a request for each address and verify it from the outbox; their ids."""
    ids = []
    for email in emails:
        request = stages.register(rt, email, language)
        if request.duplicate_of:  # an earlier run stopped half-way: resume it
            request = rt.store.get(request.duplicate_of)
        if not request.evidence:
            verify_by_outbox(rt, request.id)
        ids.append(request.id)
    return ids


def run_demo(workdir: Path, seed: int = 2026,
             then: Callable[[DemoResult, Runtime], None] | None = None) -> DemoResult:
    """Generate the company, register and verify a request for its subject and run it; `then(result, rt)` runs
    while the company's Mailchimp stand-in still serves (`dsar demo --serve` serves the portal there)."""
    workdir = workdir.resolve()
    with demo_company(workdir, seed) as (company, config_path):
        rt = open_runtime(config_path)
        request = stages.register(
            rt, company.subject_email, "fi", name=company.subject_name, phone=company.subject_phone
        )
        if request.duplicate_of:  # an earlier demo run stopped half-way: resume it
            request = rt.store.get(request.duplicate_of)
        if not request.evidence:
            verify_by_outbox(rt, request.id)

        os.environ["DSAR_CONFIG"] = str(config_path)
        run_flow(workdir, request.id)
        result = _result(rt, request.id, company.subject_email, workdir)
        if then is not None:
            then(result, rt)
    return result


def _result(rt: Runtime, request_id: str, subject_email: str, workdir: Path) -> DemoResult:
    outbox = _outbox(rt)
    link = re.search(r"https?://\S+/download/\S+", outbox.read(f"{request_id}-link"))
    if link is None:
        raise RuntimeError(f"the mail {request_id}-link in the outbox holds no download link")
    passphrase = outbox.read(f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    stored = rt.store.stage_done(request_id, "store")
    if stored is None:
        raise RuntimeError(f"request {request_id} ran without completing its store stage")
    return DemoResult(
        request_id=request_id,
        package_path=str(_local(rt).path(stored["object_key"])),
        download_url=link.group(0),
        portal_url=rt.config.delivery.public_url.rstrip("/") + "/",
        status_url=page_link(rt, rt.store.get(request_id), "status"),
        passphrase=passphrase,
        subject_email=subject_email,
        workdir=str(workdir),
        ledger_key_file=str(demo_key_file(workdir)),
    )


def run_flow(workdir: Path, request_id: str) -> None:
    """Through a `dsar worker` running for the demo when there is one (no Prefect start-up), in this process
    otherwise."""
    api = find_local_api(workdir)
    if api is None:
        from flows.fulfil import run_request

        run_request(request_id)
        return
    from prefect.settings import PREFECT_API_URL
    from prefect.settings.context import temporary_settings

    from flows.submit import submit_request, wait_for

    with temporary_settings({PREFECT_API_URL: api.url}):
        wait_for(submit_request(request_id).id)


def as_dict(result: DemoResult) -> dict[str, str]:
    return asdict(result)
