"""Reading hostile and heavy mail: HTML made text, and the memory of a 50 MB attachment.

    .venv/bin/python bench/bench_parse.py [--baseline-kib 64] [--attachment-mb 50] [--dir /tmp]

HTML baseline: the regular expressions `extractors/mail/parse.py` used before
issue 9 (`_regex_strip_html` below, unchanged), timed on the same hostile
inputs cut to `--baseline-kib` (they grow quadratically: 64 KiB of `<` takes
seconds, 512 KiB minutes). Ours: `read_message` on whole HTML-only mails of
512 KiB and 5 MiB, and `html_to_text` on 1 MiB of each hostile input.

Memory baseline: what `parse_message` did before issue 9 with a message that
carries a big base64 attachment: the whole message read as bytes, parsed by
`email.message_from_bytes`, the attachment decoded by `get_payload(decode=True)`.
Ours: `read_message` streaming the same file, with the default limits (the
message is withheld as too large, hashed as it streams) and with the limit
raised so that it is parsed. Each runs in a fresh process; peak RSS is
`ru_maxrss`, next to that of a process that only imports the same modules.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extractors.mail.html_text import html_to_text
from extractors.mail.limits import MIB, Limits
from extractors.mail.parse import read_message

ROOT = Path(__file__).resolve().parent.parent

KIB = 1024
HEAD = b"From: a@example.fi\nTo: b@example.fi\nSubject: bench\nMessage-ID: <bench@example.fi>\nMIME-Version: 1.0\n"

HOSTILE: dict[str, Callable[[int], str]] = {
    "'<' only": lambda n: "<" * n,
    "unclosed <style>": lambda n: "<style>" * (n // 7),
    "'<br' without '>'": lambda n: "<br" * (n // 3),
    "unclosed comments": lambda n: "<!--" * (n // 4),
    "unclosed CDATA": lambda n: "<![CDATA[>" * (n // 10),
    "100k nested tags": lambda n: "<div><b>" * 100_000 + "deep" + "</b></div>" * 100_000,
}


def _regex_strip_html(text: str) -> str:
    """The baseline: HTML stripping before issue 9."""
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", " ", text, flags=re.IGNORECASE | re.DOTALL)
    text = re.sub(r"<br\s*/?>|</p\s*>", "\n", text, flags=re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return re.sub(r"[ \t]+", " ", text).strip()


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _html_mail(size: int) -> bytes:
    """An HTML-only mail in the shape Outlook writes: styled divs and spans, tables, entities."""
    row = ('<div class="MsoNormal" style="margin:0cm"><span style="font-family:Calibri">Tilaus&nbsp;%d '
           '<b>toimitettu</b> &amp; laskutettu</span></div>\n<table><tr><td>rivi</td><td>%d,90&nbsp;&euro;'
           '</td></tr></table>\n<p>Kappale <a href="https://kauppa.fi/t/%d">linkki</a><br>\n</p>\n')
    body, i, length = [], 0, 0
    while length < size:
        body.append(row % (i, i, i))
        length += len(body[-1])
        i += 1
    return (HEAD + b"Content-Type: text/html; charset=utf-8\n\n<html><body>" + "".join(body).encode()
            + b"</body></html>\n")


def html_figures(baseline_kib: int) -> None:
    print("HTML-only mail, read_message (default limits):")
    for size in (512 * KIB, 5 * MIB):
        raw = _html_mail(size)
        seconds = _timed(partial(read_message, io.BytesIO(raw), len(raw), Limits()))
        print(f"  {len(raw) / MIB:5.2f} MiB  {seconds:6.2f} s  {len(raw) / MIB / seconds:5.1f} MiB/s")
    print(f"hostile HTML: html_to_text on 1 MiB vs the regex baseline on {baseline_kib} KiB")
    for name, make in HOSTILE.items():
        ours = _timed(partial(html_to_text, make(MIB)))
        base = _timed(partial(_regex_strip_html, make(baseline_kib * KIB)))
        print(f"  {name:20s} ours {ours:6.2f} s   baseline {base:7.2f} s")


CHILD = """
import email, email.policy, resource, sys
sys.path.insert(0, {root!r})
from extractors.mail.limits import Limits
from extractors.mail.parse import read_message
what, path, mib = sys.argv[1], sys.argv[2], float(sys.argv[3])
if what == "baseline":
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sizes = [len(p.get_payload(decode=True) or b"") for p in msg.walk() if not p.is_multipart()]
    outcome = f"parsed, parts {{sizes}}"
elif what == "read_message":
    with open(path, "rb") as f:
        result = read_message(f, None, Limits(max_message_bytes=int(mib * 2**20)))
    outcome = getattr(result, "reason", "parsed")
else:
    outcome = "nothing read"
print(outcome, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def _child(what: str, path: Path, mib: float) -> tuple[str, float]:
    code = CHILD.format(root=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code, what, str(path), str(mib)], capture_output=True, text=True,
                         check=True).stdout.split()
    return " ".join(out[:-1]), float(out[-1])


def memory_figures(attachment_mb: int, directory: Path | None) -> None:
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        path = Path(tmp) / "attachment.eml"
        with path.open("wb") as f:
            f.write(HEAD + b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nLiite.\n'
                    b'--B\nContent-Type: application/octet-stream\nContent-Disposition: attachment; filename="x.bin"\n'
                    b"Content-Transfer-Encoding: base64\n\n")
            for _ in range(attachment_mb):  # 1 MB at a time, base64 in 76-character lines
                chunk = os.urandom(1_000_002)
                f.write(b"".join(base64.encodebytes(chunk[i: i + 57 * 1000])
                                 for i in range(0, len(chunk), 57 * 1000)))
            f.write(b"--B--\n")
        size_mib = path.stat().st_size / MIB
        print(f"message with a {attachment_mb} MB attachment: {size_mib:.0f} MiB on disk; peak RSS per process:")
        raised = size_mib * 2
        for label, what, mib in (("imports only", "idle", 0.0),
                                 ("baseline: bytes + get_payload(decode=True)", "baseline", 0.0),
                                 ("read_message, default limits", "read_message", Limits().max_message_bytes / MIB),
                                 (f"read_message, max_message_mib={raised:.0f}", "read_message", raised)):
            outcome, rss = _child(what, path, mib)
            print(f"  {label:44s} {rss:7.0f} MiB  ({outcome})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-kib", type=int, default=64)
    parser.add_argument("--attachment-mb", type=int, default=50)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    html_figures(args.baseline_kib)
    memory_figures(args.attachment_mb, args.dir)


if __name__ == "__main__":
    main()
