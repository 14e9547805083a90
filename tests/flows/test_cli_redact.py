"""`dsar redact`: one message, redacted as the flow would, with no request, Prefect or database."""

import email
import os
import re
import subprocess
import sys
from pathlib import Path

from flows.demo.settings import demo_config

SCRIPT = str(Path(sys.executable).with_name("dsar"))
MESSAGE = """\
From: =?utf-8?q?Pekka_Virtanen?= <pekka.virtanen@posti.example>
To: Aino Mäkinen <aino.makinen@example.fi>
Cc: asiakaspalvelu@kauppa.fi, Liisa Laine <liisa.laine@kauppa.fi>
Subject: Paketti Ainolle
Date: Mon, 2 Mar 2026 10:15:00 +0200
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hei Aino,

paketti (tilaus 02.03.2026 klo 10.15, tilausnumero 100234) jäi minulle, Kuusitie 4 B 11.
Soita 045 765 4321 tai Juha Mäkiselle. Henkilötunnukseni 131052-308T.

Terveisin
Pekka
""".encode()


def redact(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    path = tmp_path / "viesti.eml"
    path.write_bytes(MESSAGE)
    environ = {k: v for k, v in os.environ.items() if k != "DSAR_CONFIG"} | (env or {})
    return subprocess.run([SCRIPT, "redact", *args, str(path)], capture_output=True, timeout=60, env=environ)


def test_prints_the_message_with_third_parties_replaced_and_the_subject_kept(tmp_path):
    done = redact(tmp_path, "--subject-email", "Aino.Makinen@example.fi", "--subject-name", "Aino Mäkinen")
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("utf-8")
    headers, body = out.split("\n\n", 1)
    parsed = email.message_from_string(out)
    assert parsed["From"] == "[person-1]"
    assert parsed["To"] == "Aino Mäkinen <aino.makinen@example.fi>"
    assert parsed["Subject"] == "Paketti Ainolle"
    assert 'charset="utf-8"' in headers
    for gone in ("Pekka", "Virtanen", "posti.example", "Kuusitie", "765", "131052", "Juha", "Liisa", "Laine"):
        assert gone not in out, gone
    assert "Hei Aino," in body and "Mäkiselle" not in body.replace("[person-", "")  # Juha Mäkinen is not Aino
    assert "tilaus 02.03.2026 klo 10.15, tilausnumero 100234" in body
    assert "asiakaspalvelu@kauppa.fi" in out
    assert done.stderr == b""


def test_a_config_keeps_the_controllers_staff(tmp_path):
    config = tmp_path / "dsar.toml"

    # The demo's staff includes Liisa Laine; here the controller's domain is the message's.
    text = demo_config("http://127.0.0.1:9/3.0", "asiakaspalvelu@kauppa.fi").replace(
        'controller_domains = ["demokauppa.example"]', 'controller_domains = ["kauppa.fi"]')
    assert 'controller_domains = ["kauppa.fi"]' in text and '"Liisa Laine"' in text
    # Redaction needs no secrets: the env file the demo names may be missing.
    config.write_text(re.sub(r"(?m)^env_file = .*$", "", text), encoding="utf-8")
    done = redact(tmp_path, "--subject-email", "aino.makinen@example.fi", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "Liisa Laine <liisa.laine@kauppa.fi>" in done.stdout.decode("utf-8")


def test_a_missing_file_or_a_broken_config_is_one_clear_error(tmp_path):
    missing = subprocess.run([SCRIPT, "redact", "--subject-email", "a@b.fi", str(tmp_path / "nope.eml")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "cannot be read" in missing.stderr and "Traceback" not in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[redaction]\nregion = 1\n", encoding="utf-8")
    broken = redact(tmp_path, "--subject-email", "a@b.fi", "--config", str(bad))
    assert broken.returncode == 2 and b"Traceback" not in broken.stderr and b"bad.toml" in broken.stderr


def test_the_subjects_own_record_keeps_its_values(tmp_path):
    record = tmp_path / "aino.json"
    record.write_text('{"hetu": "131052-308T", "street": "Kuusitie 4 B 11"}', encoding="utf-8")
    done = redact(tmp_path, "--subject-email", "aino.makinen@example.fi", "--subject-record", str(record))
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode("utf-8")
    assert "131052-308T" in out and "Kuusitie 4 B 11" in out
    assert "765 4321" not in out
    record.write_text("[1, 2]", encoding="utf-8")
    bad = redact(tmp_path, "--subject-email", "aino.makinen@example.fi", "--subject-record", str(record))
    assert bad.returncode == 2 and b"JSON object" in bad.stderr and b"Traceback" not in bad.stderr


def test_attachments_are_named_in_a_header_not_printed(tmp_path):
    path = tmp_path / "liite.eml"
    path.write_bytes(b"From: a@b.fi\nTo: aino.makinen@example.fi\nSubject: x\nMIME-Version: 1.0\n"
                     b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nHei.\n'
                     b'--B\nContent-Type: text/plain; name="lista.txt"\nContent-Disposition: attachment; '
                     b'filename="lista.txt"\n\nPekka Virtanen 040 123 4567\n--B\nContent-Type: application/pdf\n'
                     b'Content-Disposition: attachment; filename="kuitti.pdf"\nContent-Transfer-Encoding: base64\n\n'
                     b"JVBERi0=\n--B--\n")
    done = subprocess.run([SCRIPT, "redact", "--subject-email", "aino.makinen@example.fi", str(path)],
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = email.message_from_bytes(done.stdout)
    assert printed["X-Dsar-Attachments"] == ("lista.txt (text/plain, redacted text); "
                                             "kuitti.pdf (application/pdf, withheld)")
    assert printed.get_payload() == "Hei.\n"
    assert b"Virtanen" not in done.stdout
