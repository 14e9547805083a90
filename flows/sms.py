"""Text messages to a phone number the requester names: an outbox directory or an HTTP gateway (`[sms]`).

Like mail, every message carries an idempotency key, so a re-run after a crash never sends the same code twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import httpx

from flows.config import Config, Sms
from flows.errors import ConfigError, DsarError


class SmsSender(Protocol):
    def send(self, key: str, to: str, body: str) -> bool:
        """Send once per `key`; returns False when `key` was sent before."""


class SmsOutbox:
    """Writes each message to `<dir>/<key>.json` ({to, body}); tests and the demo read codes back from there."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def send(self, key: str, to: str, body: str) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{key}.json"
        if path.exists():
            return False
        tmp = path.with_suffix(".part")
        tmp.write_text(json.dumps({"to": to, "body": body}, ensure_ascii=False), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
        return True

    def read(self, key: str) -> str:
        """The body of a sent message."""
        return str(json.loads((self.directory / f"{key}.json").read_text(encoding="utf-8"))["body"])


class SmsGateway:
    """POSTs {to, body, key} as JSON with a bearer token; a marker file per key in `state_dir` keeps it once."""

    def __init__(self, url: str, token: str | None, state_dir: Path,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.state_dir = state_dir
        self.transport = transport

    def send(self, key: str, to: str, body: str) -> bool:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        marker = self.state_dir / f"{key}.sent"
        if marker.exists():
            return False
        try:
            with httpx.Client(timeout=30, transport=self.transport) as client:
                response = client.post(self.url, json={"to": to, "body": body, "key": key},
                                       headers={**self.headers, "Idempotency-Key": key})
        except httpx.HTTPError as exc:  # its kind only: httpx's text may carry the URL and so a token in it
            raise SmsNotSent(f"the SMS gateway could not be reached ({type(exc).__name__}); no code was sent") from None
        if not response.is_success:  # a redirect is not followed (it could lead anywhere), so nothing was sent
            # The status only: a gateway's reply may echo the number.
            raise SmsNotSent(f"the SMS gateway answered HTTP {response.status_code}; no code was sent")
        marker.touch()
        return True


class SmsNotSent(DsarError):
    """The gateway refused a message (its status only, never the number)."""


def make_sms_sender(config: Config) -> SmsSender:
    """The configured SMS channel; ConfigError naming `[sms]` when there is none."""
    sms: Sms | None = config.sms
    if sms is None:
        raise ConfigError(config.path, "sms", "missing: configure [sms] (outbox or gateway_url) to verify phone "
                                              "numbers by a text message")
    if sms.outbox is not None:
        return SmsOutbox(config.base_dir / sms.outbox)
    assert sms.gateway_url is not None
    token = config.secret(sms.token_env, "sms.token_env") if sms.token_env else None
    return SmsGateway(sms.gateway_url, token, config.base_dir / "state" / "sms-sent")
