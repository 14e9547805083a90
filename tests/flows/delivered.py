"""Delivered requests for link and sweeper tests: the real deliver stage, random bytes for the package."""

import hashlib
import itertools
import os
import re
from datetime import UTC, datetime

from flows import stages
from identity.evidence import IdentityEvidence

_subjects = itertools.count(1)


class Clock:
    """The runtime's clock, moved by the test; the server reads the same one."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def clocked_runtime(config):
    """The runtime of `config` with a `Clock` the test moves."""
    from flows.runtime import open_runtime

    rt = open_runtime(config)
    rt.clock = Clock()
    return rt


def store(rt, size: int = 100_000) -> tuple[str, bytes]:
    """A registered, verified request whose sealed package (random bytes) is stored but not yet delivered."""
    request = stages.register(rt, f"links-{next(_subjects)}-{os.getpid()}@example.fi", "en", name="Aino Example")
    # Verified, as every request that gets this far is: nothing is delivered without evidence that holds.
    evidence = IdentityEvidence("email_code", ("email",), "low", rt.clock())
    rt.store.save_evidence(request.id, evidence.to_dict(), rt.clock())
    key = f"{request.id}/{request.id}.zip.age"
    data = os.urandom(size)
    src = rt.config.base_dir / f"{request.id}.bin"
    src.write_bytes(data)
    rt.storage.put(src, key)
    src.unlink()
    sealed = {"object_key": key, "sha256": hashlib.sha256(data).hexdigest()}
    rt.store.complete_stage(request.id, "store:sealed", sealed, rt.clock())
    rt.store.complete_stage(request.id, "store", sealed, rt.clock())
    return request.id, data


def deliver(rt, size: int = 100_000) -> tuple[str, bytes]:
    """A request taken through the real deliver stage, with random bytes standing in for its sealed package."""
    request_id, data = store(rt, size)
    stages.deliver(rt, request_id)
    return request_id, data


def mailed_link(rt, mail_key: str, base: str) -> str:
    """The link in a mail from the outbox, pointed at the test's server."""
    found = re.search(r"https?://\S+/download/(\S+)", rt.mailer.read(mail_key))
    assert found is not None, f"no link in {mail_key}"
    return f"{base}/download/{found.group(1)}"
