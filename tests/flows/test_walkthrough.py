"""README's "Your own company in 15 minutes", run as written: its commands, on generated data, to a delivered package.

The commands come from the README's ```console blocks and the config it adds from its ```toml blocks, so the test
fails when the README drifts from what dsar does.
"""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from flows.demo.company import generate_company
from flows.notify import Outbox
from tests.exports.age_cli import age_decrypt

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Your own company in 15 minutes\n"
SCRIPT = Path(sys.executable).with_name("dsar")
PLACEHOLDER = "REQ-..."


def walkthrough() -> list[tuple[str, str]]:
    """The section's ```console and ```toml blocks, in order, as (kind, text)."""
    text = README.read_text(encoding="utf-8")
    assert SECTION in text, "README.md has no walkthrough section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(console|toml)\n(.*?)```", section, flags=re.DOTALL)


def _code(outbox: Path, request_id: str) -> str:
    (mail,) = outbox.glob(f"{request_id}-code-*.eml")
    found = re.search(rb"\b(\d{8})\b", mail.read_bytes())
    assert found is not None, f"no code in {mail.name}"
    return found.group(1).decode()


def test_the_walkthrough_delivers_the_subjects_records(tmp_path: Path) -> None:
    data = generate_company(tmp_path / "data", customers=60, messages=120)
    env = {k: v for k, v in os.environ.items() if k not in ("DSAR_CONFIG", "PREFECT_API_URL")}
    cwd, request_id = tmp_path, None
    outputs = []
    for kind, body in walkthrough():
        if kind == "toml":
            with (cwd / "dsar.toml").open("a", encoding="utf-8") as config:
                config.write("\n" + body)
            continue
        for line in body.splitlines():
            assert line.startswith("$ "), f"a console line that is not a command: {line!r}"
            args = [request_id if arg == PLACEHOLDER and request_id else arg for arg in shlex.split(line[2:])]
            if args[0] == "cd":
                cwd = cwd / args[1]
                # "Put (or point to) the database and the archive": the generated ones.
                shutil.copy(data.customers_db, cwd / "customers.db")
                shutil.copy(data.mail_archive, cwd / "support.mbox")
                continue
            assert args[0] == "dsar", f"the walkthrough runs a command the test does not know: {line!r}"
            stdin = _code(cwd / "outbox", args[3]) + "\n" if args[1:3] == ["request", "verify"] else ""
            # A new session: no terminal to ask on, so a prompt reads the typed code from stdin.
            result = subprocess.run([str(SCRIPT), *args[1:]], cwd=cwd, env=env, input=stdin, capture_output=True,
                                    text=True, timeout=600, start_new_session=True)
            assert result.returncode == 0, f"{line}: {result.stderr}"
            outputs.append(result.stdout)
            if args[1:3] == ["request", "new"]:
                registered = re.match(r"(REQ-[A-Za-z0-9]+) registered", result.stdout)
                assert registered is not None, result.stdout
                request_id = registered.group(1)
    assert request_id is not None and f"{request_id}: delivered" in outputs[-1]

    outbox = Outbox(cwd / "outbox", "")
    assert re.search(r"https?://\S+/download/\S+", outbox.read(f"{request_id}-link"))
    passphrase = outbox.read(f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    (package,) = (cwd / "packages").rglob(f"{request_id}.zip.age")
    with zipfile.ZipFile(io.BytesIO(age_decrypt(package, passphrase))) as z:
        customer = json.loads(z.read(f"{request_id}/data/customers/customer.json"))
        orders = json.loads(z.read(f"{request_id}/data/customers/orders.json"))
        messages = z.read(f"{request_id}/data/support_mail/messages.json").decode("utf-8")
    assert [row["email"].lower() for row in customer] == [data.subject_email]
    assert orders, "the subject's orders"
    assert json.loads(messages) and data.subject_email in messages.lower()
