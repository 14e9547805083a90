"""Packaging plus encryption: dsar's package stage and age sealing against `zip -1 | age` on the same records.

    .venv/bin/python bench/bench_package.py [--sizes 10,100,1000] [--json] [--dir /tmp]

For each size (MB of staged records, JSON lines as the redact stage leaves
them: a customer row, orders, web events and 2,000 support messages) it
times, each in its own process:

- dsar: `exports.package.build_package` (JSON, CSV, report.xlsx, .eml,
  schemas, signed manifest) then sealing the zip for an X25519 recipient
  with `exports.encrypt`, as the package and store stages do;
- baseline: `zip -1 -r - <staging> | age -r <recipient>` on the same files.

Throughput is MB of staged records per second of wall time; peak RSS is
the child's own high-water mark (VmHWM). An X25519 recipient on both sides: a
passphrase's scrypt alone takes 256 MiB whatever the package's size.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.records import Record  # noqa: E402 - after the path is set

MESSAGES = 2_000
_WORDS = ("tilaus", "toimitus", "paketti", "kiitos", "order", "delivery", "invoice", "lasku", "asiakas", "palautus",
          "hello", "thanks", "viikko", "maanantai", "noutopiste", "seuranta", "koko", "väri", "sininen", "punainen")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(words)).capitalize() + "."


def make_staging(root: Path, size_mb: int, seed: int = 1) -> int:
    """Staged records of about `size_mb` MB under `root`; returns their size in bytes."""
    rng = random.Random(seed)
    target = size_mb * 1_000_000

    def write(source: str, category: str, rows) -> int:
        path = root / source / f"{category}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with path.open("w", encoding="utf-8") as out:
            for data in rows:
                record = Record(source, category, str(data["id"]), data, about_subject=category == "customers")
                line = record.to_json() + "\n"
                out.write(line)
                size += len(line.encode("utf-8"))
        return size

    size = write("shop", "customers", [{"id": 1, "first_name": "Aino", "last_name": "Virtanen",
                                        "email": "aino.virtanen@example.fi", "city": "Tampere"}])
    size += write("support_mail", "messages", ({
        "id": i, "message_id": f"<{i}@example.fi>", "date": f"2026-0{1 + i % 9}-1{i % 10}T08:00:00Z",
        "from": "Aino Virtanen <aino.virtanen@example.fi>", "to": "asiakaspalvelu@kauppa.example",
        "cc": "", "reply_to": "", "subject": _text(rng, 4), "body": "\n".join(_text(rng, 12) for _ in range(20)),
        "attachments": []} for i in range(MESSAGES)))
    orders = max(1, (target - size) // 2 // 160)
    size += write("shop", "orders", ({
        "id": i, "placed_at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}", "product": _text(rng, 2),
        "quantity": rng.randint(1, 5), "price": f"{rng.randint(100, 20000) / 100:.2f}", "status": "toimitettu"}
        for i in range(orders)))
    events = 0

    def web_events():
        nonlocal events
        written = size
        while written < target:
            events += 1
            row = {"id": events, "at": f"2026-03-{1 + events % 28:02d}T{events % 24:02d}:00:00Z",
                   "page": f"/tuotteet/{rng.randint(1, 5000)}", "action": rng.choice(("view", "cart", "search")),
                   "query": _text(rng, 3)}
            written += 150
            yield row

    size += write("web", "events", web_events())
    return size


def run_dsar(staging: Path, out_dir: Path, recipient: str) -> None:
    """The child's work: build the package from staging and seal it (imports stay out of the parent)."""
    from audit.signing import generate_key
    from exports.encrypt import seal_file
    from exports.package import Category, PackageInfo, build_package
    from extractors.records import read_jsonl

    def reader(path: Path):
        return lambda: (r.data for r in read_jsonl(path))

    categories = [Category(p.parent.name, p.stem, reader(p), provided=p.stem == "customers",
                           messages=p.stem == "messages") for p in sorted(staging.glob("*/*.jsonl"))]
    info = PackageInfo("REQ-BENCH", "Kauppa Oy", "fi", datetime(2026, 12, 1, tzinfo=UTC))
    plain = out_dir / "REQ-BENCH.zip"
    build_package(plain, info, categories, generate_key())
    seal_file(plain, out_dir / "REQ-BENCH.zip.age", recipient=recipient)
    plain.unlink()


def measure(command: list[str]) -> tuple[float, str]:
    """Wall seconds of one child process, and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"benchmark step failed ({done.returncode}): {' '.join(command[:3])}")
    return elapsed, done.stdout


def peak_rss_mib() -> float:
    """This process's own high-water mark. Not getrusage: Linux carries a parent's peak into ru_maxrss across
    fork and exec, so a child would report the bench's size rather than its own."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000", help="MB of staged records, comma-separated")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--dir", type=Path, default=None, help="scratch directory (default: system temp)")
    parser.add_argument("--child", nargs=3, metavar=("STAGING", "OUT", "RECIPIENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_dsar(Path(args.child[0]), Path(args.child[1]), args.child[2])
        print(peak_rss_mib())
        return
    for tool in ("zip", "age", "age-keygen"):
        if not shutil.which(tool):
            sys.exit(f"bench_package needs the `{tool}` command")
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        keygen = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
        recipient = next(line.split(": ", 1)[1] for line in keygen.splitlines() if "public key" in line)
        for size_mb in sizes:
            staging, out = work / f"staging-{size_mb}", work / f"out-{size_mb}"
            out.mkdir()
            staged = make_staging(staging, size_mb)
            seconds, printed = measure([sys.executable, __file__, "--child", str(staging), str(out), recipient])
            ours = seconds, float(printed)
            pipeline = f"cd '{staging}' && zip -1 -q -r - . | age -r {recipient} > '{out}/baseline.zip.age'"
            baseline = measure(["sh", "-c", pipeline])[0]
            results.append({
                "records_mb": round(staged / 1e6, 1),
                "dsar": {"seconds": round(ours[0], 2), "mb_per_s": round(staged / 1e6 / ours[0], 1),
                         "peak_rss_mib": round(ours[1], 1),
                         "package_mb": round((out / "REQ-BENCH.zip.age").stat().st_size / 1e6, 1)},
                "baseline": {"seconds": round(baseline, 2), "mb_per_s": round(staged / 1e6 / baseline, 1),
                             "package_mb": round((out / "baseline.zip.age").stat().st_size / 1e6, 1)},
                "ratio": round(baseline / ours[0], 3),
            })
            shutil.rmtree(staging)
            shutil.rmtree(out)
    if args.json:
        print(json.dumps({"baseline": "zip -1 | age -r", "sizes": results}, indent=1))
        return
    print(f"{'records MB':>10} {'dsar s':>8} {'dsar MB/s':>10} {'dsar RSS MiB':>13} "
          f"{'zip|age s':>10} {'zip|age MB/s':>13} {'ratio':>6}")
    for r in results:
        d, b = r["dsar"], r["baseline"]
        print(f"{r['records_mb']:>10} {d['seconds']:>8} {d['mb_per_s']:>10} {d['peak_rss_mib']:>13} "
              f"{b['seconds']:>10} {b['mb_per_s']:>13} {r['ratio']:>6}")
    print("ratio: dsar throughput / (zip -1 | age) throughput; target >= 0.9 with dsar RSS < 64 MiB")


if __name__ == "__main__":
    main()
