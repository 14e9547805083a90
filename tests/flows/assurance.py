"""Helpers for tests of levels of assurance and sealed identity records: a demo company with a policy,
a source that counts every attempt to read it, and edits of the store as someone with database access makes them."""

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import text

from flows import stages


class CountingServer:
    """An HTTP endpoint that answers every request with 500 and counts them: a source that must stay unread."""

    def __init__(self) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.hits += 1
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/3.0"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def counting_server() -> Iterator[CountingServer]:
    server = CountingServer()
    try:
        yield server
    finally:
        server.close()


def policy_config(demo_config: Path, name: str, levels: dict[str, str], minimum: str = "low") -> Path:
    """A sibling of the demo's dsar.toml (same database, same files) with other levels of assurance."""
    config = demo_config.read_text(encoding="utf-8")
    for source, level in levels.items():
        config, count = re.subn(rf'(name = "{source}"\nidentity_level = )"low"', rf'\1"{level}"', config)
        assert count == 1, source
    config, count = re.subn(r'minimum_level = "low"', f'minimum_level = "{minimum}"', config)
    assert count == 1
    path = demo_config.with_name(name)
    path.write_text(config, encoding="utf-8")
    return path


def edit_json(rt, table: str, column: str, request_id: str, change: Callable[[dict], dict]) -> None:
    """Rewrite a stored JSON value the way someone with write access to the database would."""
    key = "id" if table == "requests" else "request_id"
    with rt.store.engine.begin() as conn:
        value = conn.execute(text(f"SELECT {column} FROM {table} WHERE {key} = :id"), {"id": request_id}).scalar_one()
        conn.execute(text(f"UPDATE {table} SET {column} = :v WHERE {key} = :id"),
                     {"v": json.dumps(change(json.loads(value))), "id": request_id})


def set_email(rt, request_id: str, email: str) -> None:
    """Change the email on record directly in the database (an operator's edit, or an attacker's)."""
    with rt.store.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET email = :e WHERE id = :id"), {"e": email, "id": request_id})


def copy_evidence(rt, source_id: str, target_id: str) -> None:
    """Copy one request's stored evidence onto another's row, and mark that one verified."""
    with rt.store.engine.begin() as conn:
        conn.execute(text("UPDATE requests SET evidence = (SELECT evidence FROM requests WHERE id = :a), "
                          "status = 'verified' WHERE id = :b"), {"a": source_id, "b": target_id})


def run_through(rt, request_id: str, until: str = "deliver") -> None:
    """The stages as the flow runs them, up to and including `until`; stops at the first that raises."""
    stages.verify_identity(rt, request_id)
    for spec in rt.config.sources:
        stages.extract(rt, request_id, spec.name)
    for stage in ("redact", "package", "encrypt_and_store", "deliver"):
        getattr(stages, stage)(rt, request_id)
        if stage == until:
            return


def disclosed(rt, request_id: str) -> list[str]:
    """Everything that would have left toward a person or staging for a request: empty when nothing did."""
    outbox = rt.config.base_dir / "outbox"
    found = [p.name for p in outbox.glob(f"{request_id}-*") if "-code-" not in p.name]
    found += [f"link {link.jti}" for link in rt.store.links_of(request_id)]
    found += [stage for stage in ("package", "store:sealed", "store", "deliver")
              if rt.store.stage_done(request_id, stage) is not None]
    extracted = rt.work_dir(request_id) / "extracted"
    found += [p.name for p in extracted.glob("*.jsonl")] if extracted.is_dir() else []
    return found
