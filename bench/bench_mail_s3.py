"""A mail archive in S3 (moto's server over HTTP): what a lookup fetches with the address index, against a scan.

    .venv/bin/python bench/bench_mail_s3.py [--messages N] [--keys K] [--json]

Writes the demo company's mbox of N messages (flows/demo/company.py) and K small .eml objects
to a bucket on a local moto server, then measures through `MailSource`, the code the flow's
extract stage runs:

- index build over S3 (`MailSource.update_index`, what `dsar index mail` runs) and its publish;
- a lookup of the demo subject with the index: GETs and bytes fetched, time;
- baseline, in the same run: the same lookup without an index (a scan), GETs and bytes;
- listing K keys (S3Files.entries, 1000 per page) and its time.

moto answers on loopback, so times show request counts and local work, not a real network;
the GET and byte counts carry over to AWS as they are.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from moto.server import ThreadedMotoServer

from extractors.mail import MailSource
from extractors.mail.s3files import S3Files, s3_client
from extractors.records import Subject
from flows.demo.company import generate_company
from tests.support import free_port


class Gets:
    """Counts GetObject requests and the bytes they return on a client."""

    def __init__(self, client: Any) -> None:
        self.count = self.bytes = 0
        client.meta.events.register("after-call.s3.GetObject", self._seen)

    def _seen(self, http_response: Any, parsed: Any, **_: Any) -> None:
        self.count += 1
        self.bytes += int(parsed.get("ContentLength", 0) or 0)

    def take(self) -> tuple[int, int]:
        taken = (self.count, self.bytes)
        self.count = self.bytes = 0
        return taken


def lookup(source: MailSource, subject: Subject) -> tuple[float, int]:
    start = time.perf_counter()
    found = sum(1 for _ in source.records(subject))
    return time.perf_counter() - start, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--keys", type=int, default=10_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    environ = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "eu-north-1",
               "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            company = generate_company(work / "company", messages=args.messages)
            s3 = s3_client(environ)  # the client the sources share: Gets counts on it
            s3.create_bucket(Bucket="mail", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
            s3.upload_file(str(company.mail_archive), "mail", "support.mbox")
            size = company.mail_archive.stat().st_size
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda n: s3.put_object(Bucket="mail", Key=f"eml/{n:06d}.eml",
                                                      Body=b"From: a@b.fi\n\nx\n"), range(args.keys)))

            subject = Subject(company.subject_email)
            location = {"path": "s3://mail/support.mbox"}
            source = MailSource("support", location, work / "builder", environ)
            gets = Gets(s3)

            scan_s, found_scan = lookup(source, subject)
            scan_gets = gets.take()
            start = time.perf_counter()
            stats = source.update_index()
            build_s = time.perf_counter() - start
            gets.take()
            reader = MailSource("support", location, work / "reader", environ)  # another host: fetches the index
            lookup(reader, subject)
            first_gets = gets.take()
            indexed_s, found_indexed = lookup(reader, subject)
            indexed_gets = gets.take()

            files = S3Files("support", "s3://mail/eml", environ)
            start = time.perf_counter()
            listed = sum(1 for _ in files.entries())
            list_s = time.perf_counter() - start
    finally:
        server.stop()

    result = {
        "messages": args.messages, "archive_mib": round(size / 2**20, 1), "found": found_indexed,
        "index_build_s": round(build_s, 2), "index_messages_per_s": round(stats.total / build_s),
        "lookup_indexed_s": round(indexed_s, 3), "lookup_indexed_gets": indexed_gets[0],
        "lookup_indexed_kib": round(indexed_gets[1] / 1024),
        "first_lookup_gets_with_index_download": first_gets[0], "first_lookup_kib": round(first_gets[1] / 1024),
        "scan_s": round(scan_s, 3), "scan_gets": scan_gets[0], "scan_kib": round(scan_gets[1] / 1024),
        "list_keys": listed, "list_s": round(list_s, 2),
    }
    assert found_scan == found_indexed, "the index changed the message set"
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:40} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
