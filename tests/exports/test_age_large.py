"""1 GiB through the sealer with bounded memory, opened by the real `age -d`."""

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.exports.age_cli import age_keygen
from tests.support import need_command

SIZE = 1 << 30
PEAK_RSS_LIMIT = 64_000_000  # bytes; the interpreter and its imports take about half
ROOT = Path(__file__).resolve().parents[2]


def test_one_gib_streams_in_bounded_memory_and_opens_with_age(tmp_path):
    age = need_command("age")
    identity, recipient = age_keygen(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "child.err", "wb") as err:
        sealer = subprocess.Popen(
            [sys.executable, "-m", "tests.exports.seal_generated", recipient, str(SIZE)],
            stdout=subprocess.PIPE, stderr=err, cwd=ROOT, env=env,
        )
        opener = subprocess.Popen([age, "-d", "-i", str(identity)], stdin=sealer.stdout, stdout=subprocess.PIPE)
        assert sealer.stdout is not None and opener.stdout is not None
        sealer.stdout.close()  # age holds the only reading end now, so a dead age stops the sealer
        def stop() -> None:
            sealer.kill()
            opener.kill()

        watchdog = threading.Timer(600, stop)
        watchdog.start()
        try:
            opened = hashlib.sha256()
            size = 0
            while block := opener.stdout.read(1 << 20):
                opened.update(block)
                size += len(block)
            sealer.wait()
            opener.stdout.close()
            assert opener.wait() == 0
        finally:
            watchdog.cancel()
    child_err = (tmp_path / "child.err").read_text()
    assert sealer.returncode == 0, child_err
    sealed_sha256, peak_kib = child_err.split()
    assert size == SIZE
    assert opened.hexdigest() == sealed_sha256
    # The child's own peak (see seal_generated.py for why not ru_maxrss).
    peak = int(peak_kib) * 1024
    assert peak < PEAK_RSS_LIMIT, f"sealing 1 GiB peaked at {peak / 1e6:.1f} MB"
