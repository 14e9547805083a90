"""A requester on the demo company, in a real headless Chromium: ask -> the mailed code -> status -> download, then
the downloaded file opened with the real `age` CLI. In Finnish and in English, once with the keyboard alone;
axe-core on every page (no serious or critical WCAG 2.1 AA violation) and a screenshot of each kept as an artefact.
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from exports.links import verify_page_token
from flows.demo.company import DemoCompany
from flows.demo.mailchimp_server import serve_mailchimp
from flows.demo.run import prepare_demo, write_demo_config
from flows.notify import Outbox
from flows.portal.app import make_app
from flows.portal.progress import STEPS
from flows.portal.server import serving
from flows.runtime import Runtime, open_runtime
from tests.exports.age_cli import age_decrypt
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

pytestmark = pytest.mark.e2e

# A bound on waiting for the flow, not a timing assertion: the demo's run takes seconds.
RUN_WAIT = 300.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[tuple[DemoCompany, Path]]:
    company, secrets = prepare_demo(tmp_path_factory.mktemp("browser") / "demo")
    data = json.loads(company.mailchimp_data.read_text(encoding="utf-8"))
    with serve_mailchimp(data, secrets["MAILCHIMP_API_KEY"]) as mailchimp:
        yield company, write_demo_config(company, mailchimp.base_url)


@dataclass
class Portal:
    rt: Runtime
    url: str
    subject_email: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def demo_portal(prefect_api, demo, monkeypatch) -> Iterator[Portal]:
    """The portal on the demo's config; a verified request's flow runs in a thread of this process, as the
    `dsar run` process the portal would start runs it."""
    company, config = demo
    monkeypatch.setenv("DSAR_CONFIG", str(config))
    rt = open_runtime(config)
    runs: list[threading.Thread] = []

    def start(request_id: str) -> None:
        from flows.fulfil import run_request

        run = threading.Thread(target=run_request, args=(request_id,), daemon=True)
        run.start()
        runs.append(run)

    portal = Portal(rt, "", company.subject_email)
    with serving(make_app(rt, start=start)) as portal.url:
        yield portal
    for run in runs:
        run.join(RUN_WAIT)
    # Closed, so the next test's request for the same subject is not taken for a duplicate of this one.
    for request_id in portal.requests:
        if rt.store.get(request_id).is_open:
            rt.store.set_status(request_id, "closed", rt.clock())


class Requester:
    """One person at the browser: with the mouse (clicks and typing into fields) or with the keyboard alone."""

    def __init__(self, driver: webdriver.Chrome, portal: Portal, lang: str, keyboard: bool) -> None:
        self.driver = driver
        self.portal = portal
        self.lang = lang
        self.keys = Keyboard(driver) if keyboard else None
        self.pages: list[str] = []

    def check_page(self, name: str) -> None:
        """What every page must pass: its language, no serious axe violation, nothing the CSP blocked; a screenshot."""
        assert self.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == self.lang, name
        assert [str(v) for v in axe_violations(self.driver)] == [], f"{name} page ({self.lang})"
        assert [m for m in console_errors(self.driver) if "Content Security Policy" in m] == [], name
        self.pages.append(name)
        screenshot(self.driver, f"portal-{self.lang}-{'keyboard' if self.keys else 'mouse'}-{name}")

    def fill(self, selector: str, text: str) -> None:
        if self.keys:
            self.keys.tab_to(selector)
            self.keys.type(text)
        else:
            self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(text)

    def activate(self, selector: str) -> None:
        """Press the button or follow the link."""
        if self.keys:
            self.keys.tab_to(selector)
            self.keys.enter()
        else:
            self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + RUN_WAIT
        while not ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not after {RUN_WAIT:.0f}s on {self.driver.current_url}")
            time.sleep(0.2)


def step_shown(driver: webdriver.Chrome) -> str:
    """The step the status page marks as the current one."""
    steps = driver.find_elements(By.CSS_SELECTOR, "ol.steps li")
    current = [i for i, li in enumerate(steps) if li.get_attribute("aria-current") == "step"]
    return STEPS[current[0]] if current else "none"


def mail_to(outbox: Outbox, pattern: str) -> str:
    """The body of the one mail in the outbox whose key matches the glob `pattern`."""
    [path] = outbox.directory.glob(f"{pattern}.eml")
    return outbox.read(path.stem)


def complete_a_request(driver: webdriver.Chrome, portal: Portal, downloads: Path, lang: str,
                       keyboard: bool) -> Requester:
    """Ask, enter the mailed code, follow the status to ready, download and open the file; the requester."""
    me = Requester(driver, portal, lang, keyboard)
    outbox = portal.rt.mailer
    assert isinstance(outbox, Outbox)

    # Ask: the browser's Accept-Language is Finnish; the English requester switches on the page.
    accept_language(driver, "fi-FI,fi;q=0.9")
    driver.get(portal.url + "/")
    if lang != "fi":
        me.activate(f"a[hreflang='{lang}']")
    me.check_page("ask")
    me.fill("#email", portal.subject_email)
    # The reply comes in the page's language unless the requester picks another.
    assert driver.find_element(By.ID, f"language-{lang}").is_selected()
    me.activate("form button[type=submit]")

    # The code, from the mail the ask sent.
    me.wait_for(lambda: "/verify/" in driver.current_url, "the code page after asking")
    token = urlsplit(driver.current_url).path.rsplit("/", 1)[1]
    request_id = verify_page_token("verify", token, portal.rt.link_secret, portal.rt.clock())
    portal.requests.append(request_id)
    me.check_page("verify")
    code = re.search(r"\b\d{8}\b", mail_to(outbox, f"{request_id}-code-*"))
    assert code is not None, "the code mail holds an 8-digit code"
    me.fill("#code", code.group(0))
    me.activate("form button[type=submit]")

    # Status: reloaded (its own refresh link) until the package is ready.
    me.wait_for(lambda: "/status/" in driver.current_url, "the status page after the code")
    me.check_page("status")
    status_url = driver.current_url.split("?", 1)[0]

    def reload_until_ready() -> bool:
        if step_shown(driver) in ("ready", "delivered"):
            return True
        me.activate(f"a[href='{urlsplit(status_url).path}']")
        return False

    me.wait_for(reload_until_ready, "the status page showing ready")
    assert step_shown(driver) == "ready"
    me.check_page("status-ready")

    # Download: the page the link mail points at, on this server.
    link = re.search(r"https?://\S+(/download/\S+)", mail_to(outbox, f"{request_id}-link"))
    assert link is not None, "the link mail holds the download page"
    driver.get(portal.url + link.group(1))
    me.check_page("download")
    me.activate("#download")
    saved = wait_for_download(downloads)
    assert saved.name == f"{request_id}.zip.age"

    # Opened as the README tells: age with the passphrase from the second mail.
    passphrase = mail_to(outbox, f"{request_id}-passphrase").strip().splitlines()[-1].strip()
    with zipfile.ZipFile(io.BytesIO(age_decrypt(saved, passphrase))) as package:
        readme = [name for name in package.namelist() if name.endswith("README.html")]
        assert readme, package.namelist()
        assert request_id in package.read(readme[0]).decode("utf-8")

    # The status page now says it was downloaded.
    driver.get(status_url)
    assert step_shown(driver) == "delivered"
    me.check_page("status-delivered")
    return me


def test_a_finnish_requester_completes_a_request_in_the_browser(browser, demo_portal, download_dir) -> None:  # noqa: F811
    me = complete_a_request(browser, demo_portal, download_dir, "fi", keyboard=False)
    assert me.pages == ["ask", "verify", "status", "status-ready", "download", "status-delivered"]


def test_an_english_requester_completes_a_request_with_the_keyboard_alone(
        browser, demo_portal, download_dir) -> None:  # noqa: F811
    me = complete_a_request(browser, demo_portal, download_dir, "en", keyboard=True)
    assert me.pages == ["ask", "verify", "status", "status-ready", "download", "status-delivered"]
