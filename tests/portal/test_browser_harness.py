"""The browser harness itself, on tiny pages served on loopback under a strict Content-Security-Policy like the
portal's: axe finds a known violation and none on a clean page, downloads land, the keyboard alone submits a form."""

from __future__ import annotations

import html
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.portal.browser import (  # noqa: F401 - browser and download_dir are fixtures
    Keyboard,
    accept_language,
    axe_violations,
    browser,
    console_errors,
    download_dir,
    screenshot,
    wait_for_download,
)

CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'"
FILE = bytes(range(256)) * 64


def _page(title: str, body: str, lang: str = ' lang="en"') -> bytes:
    return (f'<!doctype html><html{lang}><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body><main><h1>{title}</h1>{body}</main></body></html>").encode()


PAGES = {
    "/clean": _page("Clean", '<form action="/echo"><label for="name">Your name</label> <input id="name" name="name">'
                             ' <button type="submit">Send</button></form> <p><a href="/file.bin">The file</a></p>'),
    # No lang on <html> (serious), an image without alt text (critical), an input without a label (critical).
    "/broken": _page("Broken", '<img src="/pixel.png"> <form><input name="q"></form>', lang=""),
    "/trap": _page("Trap", '<p><a href="/clean" tabindex="-1">Not reachable by TAB</a></p>'),
    "/inline-script": _page("Script", "<script>document.title = 'ran';</script>"),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        headers = {"Content-Security-Policy": CSP, "Content-Type": "text/html; charset=utf-8"}
        if url.path in PAGES:
            body = PAGES[url.path]
        elif url.path == "/echo":
            name = parse_qs(url.query).get("name", [""])[0]
            body = _page("Echo", f'<p id="echo">{html.escape(name)}</p>')
        elif url.path == "/language":
            body = _page("Language", f'<p id="language">{html.escape(self.headers.get("Accept-Language", ""))}</p>')
        elif url.path == "/file.bin":
            body = FILE
            headers = {"Content-Type": "application/octet-stream",
                       "Content-Disposition": 'attachment; filename="package.bin"'}
        else:
            self.send_error(404)
            return
        self.send_response(200)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_axe_finds_the_known_violations_on_a_broken_page(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/broken")
    found = {v.id: v for v in axe_violations(browser)}
    assert {"html-has-lang", "image-alt", "label"} <= set(found), [str(v) for v in found.values()]
    assert found["image-alt"].impact == "critical"
    assert found["image-alt"].targets == ("img",)
    assert "image-alt" in str(found["image-alt"])


def test_axe_finds_nothing_on_a_clean_page(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/clean")
    assert [str(v) for v in axe_violations(browser, impacts=("minor", "moderate", "serious", "critical"))] == []


def test_a_click_on_a_download_link_saves_the_file(browser, site: str, download_dir: Path) -> None:  # noqa: F811
    browser.get(f"{site}/clean")
    browser.find_element(By.LINK_TEXT, "The file").click()
    saved = wait_for_download(download_dir)
    assert saved.name == "package.bin"
    assert saved.read_bytes() == FILE


def test_the_keyboard_alone_fills_in_and_sends_a_form(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/clean")
    keyboard = Keyboard(browser)
    keyboard.tab_to("#name")
    keyboard.type("Anna Virtanen")
    keyboard.enter()
    # ENTER submits; the answer is a new page, which a loaded machine may not have shown yet.
    echo = WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.ID, "echo"))
    assert echo[0].text == "Anna Virtanen"


def test_tab_to_fails_on_what_tab_cannot_reach(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/trap")
    with pytest.raises(AssertionError, match="TAB never reached"):
        Keyboard(browser, limit=5).tab_to("a[href]")


def test_a_screenshot_is_a_png_of_the_window_width(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/clean")
    path = screenshot(browser, "harness-clean")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1000
    assert height > 0


def test_the_browser_sends_the_chosen_language(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/language")
    assert browser.find_element(By.ID, "language").text.startswith("en-US")
    accept_language(browser, "fi-FI,fi")
    browser.get(f"{site}/language")
    assert browser.find_element(By.ID, "language").text.startswith("fi-FI,fi")


def test_the_console_shows_what_the_csp_blocked(browser, site: str) -> None:  # noqa: F811
    browser.get(f"{site}/inline-script")
    assert browser.title == "Script"
    assert any("Content Security Policy" in message for message in console_errors(browser))
    browser.get(f"{site}/clean")
    assert console_errors(browser) == []
