"""Messages to the requester: the outbox directory and a real SMTP server on loopback."""

import email
import email.policy

from flows.config import load_config
from flows.demo.settings import demo_config
from flows.notify import Outbox, SmtpMailer, make_mailer


def test_the_outbox_sends_each_key_once(tmp_path):
    outbox = Outbox(tmp_path / "outbox", "Demo <privacy@demo.example>")
    assert outbox.send("REQ-A-code-1", "aino@example.fi", "Koodi", "koodi on 12345678")
    assert not outbox.send("REQ-A-code-1", "aino@example.fi", "Koodi", "koodi on 99999999")
    assert outbox.read("REQ-A-code-1").strip() == "koodi on 12345678"
    assert (tmp_path / "outbox" / "REQ-A-code-1.eml").stat().st_mode & 0o077 == 0


def test_smtp_delivers_once_per_key(tmp_path, smtp_server):
    controller, received = smtp_server
    config_text = demo_config("http://127.0.0.1:9/3.0", "asiakaspalvelu@demokauppa.example").replace(
        'outbox = "outbox"', f'smtp = {{ host = "127.0.0.1", port = {controller.port}, starttls = false }}'
    )
    (tmp_path / "dsar.toml").write_text(config_text, encoding="utf-8")
    (tmp_path / "dsar.env").write_text("")
    (tmp_path / "dsar.env").chmod(0o600)
    mailer = make_mailer(load_config(tmp_path / "dsar.toml", environ={}))
    assert isinstance(mailer, SmtpMailer)

    assert mailer.send("REQ-B-link", "aino@example.fi", "Tietosi", "https://example/download/x")
    assert not mailer.send("REQ-B-link", "aino@example.fi", "Tietosi", "https://example/download/x")
    assert len(received) == 1
    message = email.message_from_bytes(received[0].as_bytes(), policy=email.policy.default)
    assert message["To"] == "aino@example.fi"
    assert message["X-Dsar-Key"] == "REQ-B-link"
    assert "https://example/download/x" in message.get_content()
