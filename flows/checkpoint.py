"""The checkpoint file: the ledger's latest signed head, kept outside its database.

Appenders in several threads and processes finish out of seq order, so each
write takes an exclusive `flock` on a lock file beside the checkpoint (per open
file, so it also orders threads), reads the head there and replaces it only
with a higher one, atomically: a reader sees the old head or the new, whole.
Neither file is followed through a symlink, and no more of the checkpoint is read
than a head takes: whoever can write the data directory could otherwise point
them anywhere the flows' account can write, or at a device that never ends.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
from pathlib import Path

from audit.anchor import Head, verify_head
from audit.errors import InvalidSignature
from audit.event import Event, canonical_json
from exports._atomic import atomic_write

_MAX_HEAD = 4096  # a head is some 300 bytes


def read_checkpoint(path: Path) -> Head | None:
    """The head in the checkpoint file at `path`; None when there is none yet; ValueError naming the file when
    it holds something else."""
    try:
        # O_NONBLOCK: a FIFO put in its place opens without waiting for a writer, and is refused below.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        problem = "not a regular file (a link?)" if exc.errno == errno.ELOOP else f"cannot be read ({exc.strerror})"
        raise ValueError(f"checkpoint {path.name}: {problem}") from None
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError(f"checkpoint {path.name}: not a regular file (a link?)")
        body = stream.read(_MAX_HEAD + 1)
    try:
        if len(body) > _MAX_HEAD:
            raise ValueError(f"larger than {_MAX_HEAD} bytes")
        return Head.from_json(json.loads(body.decode("utf-8")))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        raise ValueError(f"checkpoint {path.name}: {exc}") from None


class CheckpointAnchor:
    """Keeps the highest head recorded in the file at `path` (an `audit.ledger.Anchor`); a file that holds no
    head signed by `public_key` is replaced, so a forged high head cannot stop the checkpoint for good."""

    def __init__(self, path: Path, public_key: bytes) -> None:
        self.path = path
        self._public_key = public_key

    def record(self, event: Event, head: Head) -> None:
        lock = os.open(self.path.with_name(f".{self.path.name}.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW,
                       0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._holds_newer(head):
                return
            with atomic_write(self.path) as out:
                out.write(canonical_json(head.to_json()).encode("utf-8") + b"\n")
        finally:
            os.close(lock)  # releases the flock

    def _holds_newer(self, head: Head) -> bool:
        try:
            current = read_checkpoint(self.path)
            if current is None:
                return False
            verify_head(current, self._public_key)
        except (ValueError, InvalidSignature):
            return False
        return current.seq >= head.seq
