"""Everything a stage needs, built once from the config file."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from audit.ledger import Ledger
from audit.signing import load_private_key, public_key
from exports.storage import LocalStorage, storage_from_url
from flows.config import Config, load_config
from flows.notify import Mailer, make_mailer
from flows.store import RequestStore, make_engine


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    config: Config
    clock: Callable[[], datetime] = utc_now

    @cached_property
    def engine(self):
        return make_engine(self.config.sqlalchemy_url(self.config.store.url))

    @cached_property
    def store(self) -> RequestStore:
        return RequestStore(self.engine)

    @cached_property
    def ledger(self) -> Ledger:
        key = self.config.secret(self.config.store.ledger_key_env, "store.ledger_key_env")
        return Ledger(self.engine, load_private_key(key))

    @cached_property
    def mailer(self) -> Mailer:
        return make_mailer(self.config)

    @cached_property
    def storage(self) -> LocalStorage:
        return storage_from_url(self.config.storage.url, self.config.base_dir)

    @cached_property
    def link_secret(self) -> bytes:
        return self.config.secret(self.config.delivery.link_secret_env, "delivery.link_secret_env").encode("utf-8")

    def work_dir(self, request_id: str) -> Path:
        """Staging for one request's personal data; removed once the package is delivered."""
        return self.config.base_dir / "work" / request_id


def public_key_bytes(runtime: Runtime) -> bytes:
    key = runtime.config.secret(runtime.config.store.ledger_key_env, "store.ledger_key_env")
    return public_key(load_private_key(key))


def open_runtime(path: str | Path) -> Runtime:
    return Runtime(load_config(path))
