"""Drive the real `age` CLI from tests, typing passphrases through a pseudo-terminal.

age reads passphrases only from a terminal (/dev/tty, else a terminal on
stdin). The child runs in a new session, so it has no controlling terminal
and /dev/tty fails; it then falls back to its stdin, which is the slave end
of a pty we hold the master of. We answer each passphrase prompt as it
appears. Ciphertext and plaintext go through files, never through the pty.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import need_command

_PROMPT = re.compile(rb"passphrase[^:\n]*:\s*$", re.IGNORECASE)


def _run_with_passphrase(args: list[str], passphrase: str, prompts: int, timeout: float) -> None:
    """Run `age` with `args`, typing `passphrase` at each of `prompts` prompts."""
    if not passphrase:
        raise ValueError("an empty passphrase would make `age -p` generate its own")
    age = need_command("age")
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen([age, *args], stdin=slave, stdout=slave, stderr=subprocess.PIPE, start_new_session=True)
    finally:
        os.close(slave)
    seen = b""
    pending = b""
    answered = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                proc.wait()
                stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise AssertionError(
                    f"age {' '.join(args)} timed out after {timeout:.0f}s; terminal output {seen!r}, stderr {stderr!r}"
                )
            ready, _, _ = select.select([master], [], [], min(remaining, 0.1))
            if ready:
                try:
                    data = os.read(master, 4096)
                except OSError:  # EIO: the child closed its end of the terminal
                    data = b""
                if data:
                    seen += data
                    pending += data
                    if answered < prompts and _PROMPT.search(pending):
                        os.write(master, passphrase.encode() + b"\n")
                        answered += 1
                        pending = b""
                    continue
            if proc.poll() is not None:
                break
        stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    finally:
        os.close(master)
        if proc.stderr:
            proc.stderr.close()
    if proc.returncode != 0:
        raise AssertionError(
            f"age {' '.join(args)} exited with {proc.returncode}; terminal output {seen!r}, stderr {stderr!r}"
        )


def age_decrypt(path: Path, passphrase: str, timeout: float = 60.0) -> bytes:
    """Decrypt the age file at `path` with the real `age -d`; the plaintext."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "plain"
        _run_with_passphrase(["-d", "-o", str(out), str(path)], passphrase, prompts=1, timeout=timeout)
        # age creates the output file on its first write: an empty plaintext leaves none.
        return out.read_bytes() if out.exists() else b""


def age_encrypt(src: Path, dst: Path, passphrase: str, timeout: float = 60.0) -> None:
    """Encrypt `src` to `dst` with the real `age -p` (it asks for the passphrase twice)."""
    _run_with_passphrase(["-p", "-o", str(dst), str(src)], passphrase, prompts=2, timeout=timeout)


def age_keygen(directory: Path) -> tuple[Path, str]:
    """A new key pair from the real `age-keygen`: (identity file, its `age1...` recipient)."""
    keygen = need_command("age-keygen")
    identity = directory / "identity.txt"
    subprocess.run([keygen, "-o", str(identity)], check=True, capture_output=True, timeout=30)
    recipient = subprocess.run([keygen, "-y", str(identity)], check=True, capture_output=True, text=True, timeout=30)
    return identity, recipient.stdout.strip()


def age_decrypt_with_identity(path: Path, identity: Path) -> bytes:
    """Decrypt the age file at `path` with the real `age -d -i identity`; the plaintext."""
    age = need_command("age")
    done = subprocess.run([age, "-d", "-i", str(identity), str(path)], check=True, capture_output=True, timeout=60)
    return done.stdout


def age_encrypt_to_recipient(src: Path, dst: Path, recipient: str) -> None:
    """Encrypt `src` to `dst` with the real `age -e -r recipient`."""
    age = need_command("age")
    subprocess.run([age, "-e", "-r", recipient, "-o", str(dst), str(src)], check=True, capture_output=True, timeout=60)
