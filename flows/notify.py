"""Messages to the requester: an outbox directory (embedded default) or SMTP.

Every message carries an idempotency key, so a re-run after a crash never sends
the same code or link twice.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from flows.config import Config
from flows.secrets import smtp_login


class Mailer(Protocol):
    def send(self, key: str, to: str, subject: str, body: str) -> bool:
        """Send once per `key`; returns False when `key` was sent before."""

    def was_sent(self, key: str) -> bool: ...


def _message(sender: str, to: str, subject: str, body: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["X-Dsar-Key"] = key
    message.set_content(body)
    return message


class Outbox:
    """Writes each message to `<dir>/<key>.eml`; the demo reads codes back from there."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    def was_sent(self, key: str) -> bool:
        return (self.directory / f"{key}.eml").exists()

    def send(self, key: str, to: str, subject: str, body: str) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}.eml"
        if path.exists():
            return False
        tmp = path.with_suffix(".part")
        tmp.write_bytes(bytes(_message(self.sender, to, subject, body, key)))
        tmp.chmod(0o600)
        tmp.replace(path)
        return True

    def read(self, key: str) -> str:
        """The body of a sent message."""
        from email import message_from_bytes, policy

        message = message_from_bytes((self.directory / f"{key}.eml").read_bytes(), policy=policy.default)
        return message.get_content()


class SmtpMailer:
    """SMTP with STARTTLS; idempotency is kept by a marker file per key in `state_dir`."""

    def __init__(self, config: Config, state_dir: Path) -> None:
        smtp = config.mail.smtp
        assert smtp is not None
        self.smtp = smtp
        self.sender = config.mail.sender
        self.login = smtp_login(config)
        self.state_dir = state_dir

    def was_sent(self, key: str) -> bool:
        return (self.state_dir / f"{key}.sent").exists()

    def send(self, key: str, to: str, subject: str, body: str) -> bool:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        marker = self.state_dir / f"{key}.sent"
        if marker.exists():
            return False
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
            if self.smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.login is not None:
                client.login(*self.login)
            # The envelope names the one address given, whatever the To header could be parsed into.
            client.send_message(_message(self.sender, to, subject, body, key), to_addrs=[to])
        marker.touch()
        return True


def make_mailer(config: Config) -> Mailer:
    if config.mail.smtp is not None:
        return SmtpMailer(config, config.base_dir / "state" / "sent")
    return Outbox(config.base_dir / (config.mail.outbox or "outbox"), config.mail.sender)
