"""The owner-only env file that holds a controller's secrets, and fresh secrets in the formats dsar reads.

Formats (the loaders decide them): a link secret is text of at least `exports.links.MIN_SECRET_BYTES` bytes
(its UTF-8 bytes sign links); the ledger and package keys are the base64 of a raw 32-byte Ed25519 private key
(`audit.signing.load_private_key`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from audit.signing import encode_key, generate_key
from exports._atomic import atomic_write
from flows.config import read_env_file


def new_link_secret() -> str:
    """64 URL-safe characters (48 random bytes): well over the 32 bytes links need."""
    return secrets.token_urlsafe(48)


def new_signing_key() -> str:
    """The base64 of a new Ed25519 private key, for the ledger or for packages."""
    return encode_key(generate_key())


def ensure_secrets(path: Path, makers: Mapping[str, Callable[[], str]], header: str) -> dict[str, str]:
    """Add to the env file at `path` each secret of `makers` it lacks; its values afterwards.

    A value already there is never replaced, whatever it holds: a new ledger key would orphan the ledger's
    signatures. The file is created owner-only (0600) from its first byte, and refused (ConfigError) when
    others may read it.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header)
    have = read_env_file(path, path)
    missing = [name for name in makers if name not in have]
    if missing:
        with path.open("rb+") as out:
            if out.seek(0, os.SEEK_END):
                out.seek(-1, os.SEEK_END)
                if out.read(1) != b"\n":  # a last line without its newline
                    out.write(b"\n")
            # One small write: a crash leaves each key whole or absent, never a cut value kept for good.
            out.write("".join(f"{name}={makers[name]()}\n" for name in missing).encode("utf-8"))
    return read_env_file(path, path)


def drop_secret(path: Path, name: str) -> None:
    """Remove `name`'s line from the env file at `path`: rewritten whole (still owner-only) or left as it was."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    with atomic_write(path) as out:
        out.write("".join(line for line in lines if line.partition("=")[0].strip() != name).encode("utf-8"))


def write_key_file(path: Path, value: str) -> None:
    """A new key file readable by its owner only (0600), in a directory only its owner may enter (0700).

    Whole or absent, never replaced: the key is written under a temporary name and linked into place, which
    fails (FileExistsError) when a key is already there.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.new")
    with atomic_write(staged) as out:  # mkstemp: 0600 from its first byte
        out.write(value.encode("ascii") + b"\n")
    try:
        os.link(staged, path)
    finally:
        staged.unlink()
