"""Finding one subject's mail in a support archive, against `grep` over the same file.

    .venv/bin/python bench/bench_mail.py [--messages 40000] [--dir /tmp]

Baseline: `grep -c -i -F <address>` over the mbox: one pass with no parsing,
the least any lookup by scanning can cost. MboxSource parses headers of every
message, so it should be within a small factor of that; an address index (a
later issue) should beat both. Peak RSS shows whether memory stays bounded
while the archive grows.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors.mail import MboxSource
from extractors.records import Subject
from flows.demo.company import generate_company


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        company = generate_company(Path(tmp), messages=args.messages)
        size_mb = company.mail_archive.stat().st_size / 1e6
        print(f"archive: {args.messages} messages, {size_mb:.1f} MB")

        start = time.perf_counter()
        grep = subprocess.run(["grep", "-c", "-i", "-F", company.subject_email, str(company.mail_archive)],
                              capture_output=True, text=True, check=False)
        grep_s = time.perf_counter() - start
        print(f"grep -c -i -F (baseline): {grep_s:6.2f} s  {size_mb / grep_s:7.1f} MB/s  "
              f"{grep.stdout.strip()} matching lines")

        source = MboxSource("support_mail", {"path": str(company.mail_archive)}, Path(tmp), {})
        start = time.perf_counter()
        found = sum(1 for _ in source.records(Subject(company.subject_email)))
        ours_s = time.perf_counter() - start
        print(f"MboxSource.records:       {ours_s:6.2f} s  {size_mb / ours_s:7.1f} MB/s  {found} messages "
              f"({ours_s / grep_s:.0f}x grep)")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
