"""Finding one subject's mail with the address index, against `grep -c -i -F` over the same data.

    .venv/bin/python bench/bench_mail.py --archive PATH --email ADDR [--json] [--index FILE]
    .venv/bin/python bench/bench_mail.py --generate N --out PATH [--format mbox|mbox.gz|maildir|eml]

PATH is anything the `mail` source reads: an mbox, an .mbox.gz, a Maildir, a directory of .eml
files or one .eml. The index is built (into a temporary directory, or updated when --index names
an existing one) by the function `dsar index mail` runs, then ADDR is looked up through
`MailSource.records()`, the code the flow's extract stage runs. Baseline: `grep -c -i -F ADDR`
over the same data (`zgrep` for .gz, `grep -r` summed for a directory): one pass with no parsing,
the least any lookup by scanning can cost. Peak RSS is this process's (grep runs apart).

--generate writes an archive of N messages from the demo company (flows/demo/company.py) and
prints the subject's address.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors.mail import MailSource
from extractors.records import Subject


def _grep(path: Path, email: str) -> tuple[float, int]:
    if path.is_dir():
        command = ["grep", "-r", "-c", "-i", "-F", "--", email, str(path)]
    elif _is_gzip(path):
        command = ["zgrep", "-c", "-i", "-F", "--", email, str(path)]
    else:
        command = ["grep", "-c", "-i", "-F", "--", email, str(path)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    lines = sum(int(line.rpartition(":")[2] or 0) for line in done.stdout.splitlines())
    return seconds, lines


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as head:
        return head.read(2) == b"\x1f\x8b"


def measure(archive: Path, email: str, index: Path) -> dict[str, Any]:
    archive = archive.resolve()
    source = MailSource("bench", {"path": str(archive), "index": str(index.resolve())}, archive.parent, {})
    stats = source.update_index()
    subject = Subject(email)
    start = time.perf_counter()
    records = list(source.records(subject))
    lookup_s = time.perf_counter() - start
    # The same lookup without parsing: what the index costs (finding and reading the messages), apart from
    # parse.py turning each into a record.
    start = time.perf_counter()
    read = sum(1 for _ in source.found(source.archive(), subject.emails))
    found_s = time.perf_counter() - start
    grep_s, grep_lines = _grep(archive, email)
    ids = sorted({str(r.data["message_id"]) for r in records if r.data.get("message_id")})
    return {
        "format": stats.kind,
        "messages": stats.total,
        "index_build_s": round(stats.seconds, 4),
        "index_messages_per_s": round(stats.per_second, 1),
        "index_rebuilt": stats.rebuilt,
        "lookup_s": round(lookup_s, 6),
        "lookup_read_s": round(found_s, 6),
        "messages_read": read,
        "records": len(records),
        "grep_s": round(grep_s, 4),
        "grep_lines": grep_lines,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "notes": dict(source.notes()),
        "message_ids": ids,
    }


def generate(n: int, out: Path, fmt: str) -> str:
    """Write the demo company's archive of `n` messages at `out` in `fmt`; returns the subject's address."""
    from flows.demo.company import generate_company

    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        company = generate_company(Path(tmp), messages=n)
        mbox = company.mail_archive
        if fmt == "mbox":
            shutil.move(mbox, out)
        elif fmt == "mbox.gz":
            with mbox.open("rb") as src, gzip.open(out, "wb", compresslevel=6) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            _explode(mbox, out, fmt)
    return company.subject_email


def _explode(mbox: Path, out: Path, fmt: str) -> None:
    """One file per message: a Maildir (half read, in cur/ with flags; half in new/) or a tree of .eml files."""
    import mailbox

    box = mailbox.mbox(mbox, create=False)
    for no, key in enumerate(box.iterkeys()):
        raw = box.get_bytes(key)
        if fmt == "maildir":
            name = f"cur/{1700000000 + no}.M{no}P1.bench:2,S" if no % 2 else f"new/{1700000000 + no}.M{no}P1.bench"
        else:
            name = f"{no // 10000:03d}/{no:07d}.eml"
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)
    if fmt == "maildir":
        (out / "tmp").mkdir(exist_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--archive", type=Path, help="mbox, .mbox.gz, Maildir, .eml directory or one .eml")
    parser.add_argument("--email", help="the address to look up")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--index", type=Path, default=None,
                        help="the index file to build or update (default: a fresh one in a temporary directory)")
    parser.add_argument("--generate", type=int, metavar="N", help="write a demo archive of N messages at --out")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--format", choices=("mbox", "mbox.gz", "maildir", "eml"), default="mbox")
    args = parser.parse_args()

    if args.generate:
        if args.out is None:
            parser.error("--generate needs --out")
        print(generate(args.generate, args.out, args.format))
        return
    if args.archive is None or args.email is None:
        parser.error("--archive and --email are required")
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.archive, args.email, args.index or Path(tmp) / "bench.sqlite")
    if args.json:
        print(json.dumps(result))
        return
    print(f"archive: {result['format']}, {result['messages']:,} messages")
    print(f"index build: {result['index_build_s']:.2f} s, {result['index_messages_per_s']:,.0f} messages/s "
          f"({result['index_rebuilt'] or 'updated'})")
    print(f"lookup (MailSource.records): {result['lookup_s'] * 1000:.1f} ms, {result['records']} records; "
          f"of which finding and reading {result['messages_read']} messages: {result['lookup_read_s'] * 1000:.1f} ms")
    print(f"grep -c -i -F (baseline): {result['grep_s']:.2f} s, {result['grep_lines']} matching lines")
    print(f"peak RSS: {result['peak_rss_mib']:.0f} MiB; index: {result['notes']}")


if __name__ == "__main__":
    main()
