"""The `[sms]` channel: a real local HTTP gateway, the outbox, and the config that chooses them."""

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.config import load_config
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import ConfigError
from flows.sms import SmsGateway, SmsNotSent, SmsOutbox, make_sms_sender


class Gateway:
    """An HTTP server that records every POST and answers with `status`."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict]] = []
        self.status = 202
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append((dict(self.headers), json.loads(body)))
                self.send_response(gateway.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(scope="module")
def config_text(tmp_path_factory) -> tuple[Path, str]:
    company, _ = prepare_demo(tmp_path_factory.mktemp("sms") / "demo")
    path = write_demo_config(company, "http://127.0.0.1:9/3.0")
    return path, path.read_text()


def with_sms(config_text, section: str) -> Path:
    path, text = config_text
    out = path.with_name("dsar-sms.toml")
    out.write_text(text + "\n[sms]\n" + section)
    return out


def test_the_gateway_gets_json_with_the_token_once_per_key(gateway, config_text, tmp_path):
    path = with_sms(config_text, f'gateway_url = "{gateway.url}"\ntoken_env = "SMS_TOKEN"\n')
    config = load_config(path, environ={**load_config(path).environ, "SMS_TOKEN": "t0ken"})
    sender = make_sms_sender(config)
    assert isinstance(sender, SmsGateway)
    assert sender.send("REQ-1-phone-code", "+358401112233", "koodi 12345678") is True
    assert sender.send("REQ-1-phone-code", "+358401112233", "koodi 12345678") is False  # a resumed run
    [(headers, body)] = gateway.received
    assert body == {"to": "+358401112233", "body": "koodi 12345678", "key": "REQ-1-phone-code"}
    assert headers["Authorization"] == "Bearer t0ken" and headers["Idempotency-Key"] == "REQ-1-phone-code"


def test_a_refusing_gateway_is_one_line_without_the_number(gateway, tmp_path):
    gateway.status = 403
    with pytest.raises(SmsNotSent) as refused:
        SmsGateway(gateway.url, None, tmp_path).send("k", "+358401112233", "koodi")
    assert str(refused.value) == "the SMS gateway answered HTTP 403; no code was sent"
    assert not (tmp_path / "k.sent").exists(), "a refused message would never be sent again"


def test_the_outbox_keeps_one_file_per_key(config_text):
    config = load_config(with_sms(config_text, 'outbox = "sms-outbox"\n'))
    sender = make_sms_sender(config)
    assert isinstance(sender, SmsOutbox) and sender.directory == config.base_dir / "sms-outbox"
    assert sender.send("k", "+358401112233", "koodi 1") and not sender.send("k", "+358401112233", "koodi 2")
    assert sender.read("k") == "koodi 1"
    assert (sender.directory / "k.json").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("section", "message"), [
    ("", "set one of outbox (a directory) and gateway_url"),
    ('outbox = "o"\ngateway_url = "https://sms.example/send"\n', "set one of outbox"),
    ('gateway_url = "http://sms.example/send"\n', "use an https:// URL"),
])
def test_a_wrong_sms_section_names_the_key(config_text, section, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as wrong:
        load_config(with_sms(config_text, section))
    assert ": sms" in str(wrong.value)


def test_a_missing_gateway_token_names_its_variable(config_text):
    config = load_config(with_sms(config_text, 'gateway_url = "https://sms.example/send"\ntoken_env = "NO_SUCH"\n'))
    with pytest.raises(ConfigError, match=r"sms\.token_env: environment variable NO_SUCH is not set"):
        make_sms_sender(config)


def test_an_unreachable_or_redirecting_gateway_is_one_line_and_nothing_counts_as_sent(gateway, tmp_path):
    """A closed port raised httpx's ConnectError (a traceback at the CLI); a redirect was taken for sent."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/send"
    with pytest.raises(SmsNotSent) as unreachable:
        SmsGateway(closed, "t0ken", tmp_path).send("k", "+358401112233", "koodi")
    assert str(unreachable.value) == "the SMS gateway could not be reached (ConnectError); no code was sent"
    gateway.status = 302
    with pytest.raises(SmsNotSent, match="answered HTTP 302"):
        SmsGateway(gateway.url, None, tmp_path).send("k", "+358401112233", "koodi")
    assert not (tmp_path / "k.sent").exists()
