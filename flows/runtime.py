"""Everything a stage needs, built once from the config file."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from audit.anchor import Head
from audit.ledger import Anchor, Ledger
from audit.signing import public_key
from exports.storage import Storage
from extractors.errors import SourceConfigError
from extractors.records import Source
from extractors.registry import make_source
from flows.checkpoint import CheckpointAnchor, read_checkpoint
from flows.config import Config, load_config
from flows.errors import ConfigError
from flows.notify import Mailer, make_mailer
from flows.passphrases import PassphraseStretcher
from flows.secrets import ledger_key, link_secret, package_key
from flows.store import RequestStore, make_engine
from identity.oidc import JwksCache
from identity.sealing import KEY_INFO, derive_key

if TYPE_CHECKING:
    from flows.worm import WormAnchor


def utc_now() -> datetime:
    return datetime.now(UTC)


def no_flow_run() -> str | None:
    return None


# What the ledger may hold of a worker's name; anything else becomes "-".
_WORKER_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
WORKER_NAME_ENV = "DSAR_WORKER_NAME"


@dataclass
class Runtime:
    config: Config
    clock: Callable[[], datetime] = utc_now
    # The Prefect flow run a stage runs in, asked at each stage: flows.fulfil sets it, stages never import Prefect.
    flow_run_id: Callable[[], str | None] = no_flow_run

    @property
    def worker(self) -> str:
        """Who runs the stages, for the ledger: `DSAR_WORKER_NAME`, or host:pid (a pid changes after a fork)."""
        name = self.config.environ.get(WORKER_NAME_ENV) or f"{socket.gethostname()}:{os.getpid()}"
        return _WORKER_UNSAFE.sub("-", name)[:100]

    @cached_property
    def engine(self) -> Engine:
        """The database of the request store and the ledger; opening it needs no secret (an auditor reads it)."""
        try:
            engine = make_engine(self.config.sqlalchemy_url(self.config.store.url))
            engine.connect().close()
            return engine
        except (SQLAlchemyError, ImportError) as exc:  # ImportError: the URL names a driver not installed
            # The driver's text may quote the URL and its password: name the error's type only.
            raise ConfigError(self.config.path, "store.url",
                              f"cannot open the request store ({type(exc).__name__})") from None

    @cached_property
    def store(self) -> RequestStore:
        engine = self.engine  # a store that cannot open says so before a missing key does
        try:
            return RequestStore(engine, self.identity_record_key, self._record_rejected,
                                self.config.controller.calendar)
        except SQLAlchemyError as exc:
            raise ConfigError(self.config.path, "store.url",
                              f"cannot open the request store ({type(exc).__name__})") from None

    @cached_property
    def identity_record_key(self) -> bytes:
        """The key that seals stored identity challenges and evidence (see identity.sealing).

        Derived from the ledger key rather than a new secret: whoever runs flows
        already holds it, it never sits in the database it protects, and HKDF's
        own info string makes the derived key independent of the signatures.
        """
        return derive_key(ledger_key(self.config), KEY_INFO)

    def _record_rejected(self, request_id: str, kind: str) -> None:
        self.ledger.append_event(request_id, "dsar", "identity_record_rejected", {"record": kind})

    @cached_property
    def ledger(self) -> Ledger:
        key = ledger_key(self.config)
        return Ledger(self.engine, key, self._anchors(public_key(key)))

    def _anchors(self, ledger_public_key: bytes) -> list[Anchor]:
        """Where each appended event's head is kept outside the database: the checkpoint file, and the WORM
        bucket when `[audit] worm_url` is set."""
        anchors: list[Anchor] = [CheckpointAnchor(self.checkpoint_path, ledger_public_key)]
        worm = self.worm
        if worm is not None:
            anchors.append(worm)
        return anchors

    @property
    def checkpoint_path(self) -> Path:
        return self.config.base_dir / self.config.audit.checkpoint_file

    @cached_property
    def worm(self) -> WormAnchor | None:
        """The WORM copies of `[audit] worm_url`, or None when none are kept."""
        if self.config.audit.worm_url is None:
            return None
        from flows.worm import worm_from_config  # boto3: only when WORM copies are configured

        return worm_from_config(self.config)

    def ledger_head(self) -> Head | None:
        """The ledger's latest signed head, from the checkpoint file; None before the first append. ValueError
        when the file holds no head."""
        return read_checkpoint(self.checkpoint_path)

    @property
    def ledger_public_key(self) -> bytes:
        return public_key(ledger_key(self.config))

    @cached_property
    def passphrases(self) -> PassphraseStretcher:
        return PassphraseStretcher()

    @cached_property
    def mailer(self) -> Mailer:
        return make_mailer(self.config)

    @cached_property
    def storage(self) -> Storage:
        return self.config.storage.open(self.config.base_dir)

    @cached_property
    def link_secret(self) -> bytes:
        return link_secret(self.config)

    @cached_property
    def package_key(self) -> bytes:
        """The raw Ed25519 key that signs every package's manifest."""
        return package_key(self.config)

    @property
    def package_public_key(self) -> bytes:
        """The public half of `package_key`: what `dsar verify` checks packages with, and what to publish."""
        return public_key(self.package_key)

    @cached_property
    def oidc_keys(self) -> JwksCache:
        """The OIDC issuer's signing keys, cached for as long as this runtime lives."""
        oidc = self.config.oidc()
        return JwksCache(oidc.jwks_url, tuple(oidc.algorithms),
                         min_refresh=timedelta(seconds=oidc.jwks_refresh_seconds))

    def sources(self) -> list[Source]:
        """Every configured source, built: a wrong section or a missing secret fails here, before any flow."""
        config, built = self.config, []
        for index, spec in enumerate(config.sources):
            try:
                built.append(make_source(spec.name, spec.kind, spec.settings, config.base_dir, config.environ))
            except SourceConfigError as exc:
                raise ConfigError(config.path, f"sources.{index}", str(exc)) from None
        return built

    def work_dir(self, request_id: str) -> Path:
        """Staging for one request's personal data; removed once the package is delivered."""
        return self.config.base_dir / "work" / request_id


def open_runtime(path: str | Path) -> Runtime:
    return Runtime(load_config(path))
