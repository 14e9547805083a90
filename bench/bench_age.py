"""Throughput and memory of exports.encrypt against the age CLI.

    .venv/bin/python bench/bench_age.py [--size-mb 200] [--dir /tmp]

Baseline: `age -r` / `age -d -i` with an X25519 key made by age-keygen,
against our seal_file / open_file for the same key (like for like). `age -p`
reads the passphrase only from a terminal, so our passphrase figures are
printed beside it: they include one scrypt derivation at work factor 18
(also printed on its own); the payload STREAM cipher is the same.

Peak RSS is the process high-water mark (getrusage): scrypt at N=2**18, r=8
alone needs 256 MiB, so the figure to look at is whether encrypting the big
file raises the mark above what scrypt already took (streaming: it should not).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from exports.encrypt import new_passphrase, open_file, seal_file


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory (default: system temp)")
    args = parser.parse_args()
    age, keygen = shutil.which("age"), shutil.which("age-keygen")
    if not age or not keygen:
        sys.exit("bench_age needs the `age` and `age-keygen` commands")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        plain = work / "plain.bin"
        with open(plain, "wb") as f:
            for _ in range(args.size_mb):
                f.write(os.urandom(1_000_000))
        size_mb = plain.stat().st_size / 1e6
        passphrase = new_passphrase()
        rss_start = peak_rss_mib()

        empty = work / "empty"
        empty.touch()
        t_scrypt = timed(lambda: seal_file(empty, work / "empty.age", passphrase=passphrase))
        rss_scrypt = peak_rss_mib()

        t_seal = timed(lambda: seal_file(plain, work / "ours.age", passphrase=passphrase))
        rss_seal = peak_rss_mib()
        t_open = timed(lambda: open_file(work / "ours.age", work / "ours.out", passphrase=passphrase))
        rss_open = peak_rss_mib()
        assert (work / "ours.out").stat().st_size == plain.stat().st_size

        key = work / "key.txt"
        subprocess.run([keygen, "-o", str(key)], check=True, capture_output=True)
        recipient = subprocess.run([keygen, "-y", str(key)], check=True, capture_output=True, text=True).stdout.strip()
        t_seal_x = timed(lambda: seal_file(plain, work / "ours-x.age", recipient=recipient))
        identity = key.read_text()
        t_open_x = timed(lambda: open_file(work / "ours-x.age", work / "ours-x.out", identity=identity))
        t_age_enc = timed(
            lambda: subprocess.run([age, "-r", recipient, "-o", str(work / "cli.age"), str(plain)], check=True)
        )
        t_age_dec = timed(
            lambda: subprocess.run(
                [age, "-d", "-i", str(key), "-o", str(work / "cli.out"), str(work / "cli.age")], check=True
            )
        )

    print(f"file: {size_mb:.0f} MB of random bytes; python {sys.version.split()[0]}")
    print(f"scrypt alone (work factor 18, empty file):  {t_scrypt:6.2f} s")
    print(
        f"seal_file  (scrypt, wf 18):  {t_seal:6.2f} s  {size_mb / t_seal:7.1f} MB/s"
        f"  ({size_mb / max(t_seal - t_scrypt, 1e-9):.1f} MB/s without scrypt)"
    )
    print(
        f"open_file  (scrypt, wf 18):  {t_open:6.2f} s  {size_mb / t_open:7.1f} MB/s"
        f"  ({size_mb / max(t_open - t_scrypt, 1e-9):.1f} MB/s without scrypt)"
    )
    print(f"seal_file  (X25519):        {t_seal_x:6.2f} s  {size_mb / t_seal_x:7.1f} MB/s")
    print(f"age -r     (X25519, baseline):  {t_age_enc:6.2f} s  {size_mb / t_age_enc:7.1f} MB/s")
    print(f"open_file  (X25519):        {t_open_x:6.2f} s  {size_mb / t_open_x:7.1f} MB/s")
    print(f"age -d -i  (X25519, baseline):  {t_age_dec:6.2f} s  {size_mb / t_age_dec:7.1f} MB/s")
    print(
        f"peak RSS of this process (MiB): start {rss_start:.0f}, after scrypt {rss_scrypt:.0f}, "
        f"after seal_file {rss_seal:.0f}, after open_file {rss_open:.0f}"
    )


if __name__ == "__main__":
    main()
