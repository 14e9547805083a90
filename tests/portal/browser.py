"""A real headless Chromium for the portal's tests: Debian's `chromium` driven through its `chromedriver`.

The fixture `browser` gives a fresh profile per test whose downloads land in `download_dir`; `axe_violations` runs
the vendored axe-core on the page shown; `screenshot` keeps a PNG of it as a test artefact; `Keyboard` moves
through a page with TAB, ENTER and typing only, as someone without a mouse would.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.support import missing, need_command

AXE_JS = Path(__file__).parent / "vendor" / "axe.min.js"
# WCAG 2.1 AA, as axe-core tags its rules: level A and AA of 2.0 and of what 2.1 added.
WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
CHROMEDRIVER = "/usr/bin/chromedriver"
# ~1000 px wide: the README's screenshot is taken at this width.
WINDOW = (1000, 800)


def artifacts_dir() -> Path:
    """Where screenshots go: $DSAR_TEST_ARTIFACTS, else test-artifacts/ at the project root (git ignores it)."""
    configured = os.environ.get("DSAR_TEST_ARTIFACTS")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "test-artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def download_dir(tmp_path: Path) -> Path:
    """Where the browser of `browser` saves what a click on a download link fetches."""
    path = tmp_path / "downloads"
    path.mkdir()
    return path


@pytest.fixture
def browser(download_dir: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, English unless a test sets Accept-Language itself."""
    chromium = need_command("chromium")
    if not os.access(CHROMEDRIVER, os.X_OK):
        missing(f"chromedriver at {CHROMEDRIVER} (Debian's chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en-US",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
        "intl.accept_languages": "en-US,en",
    })
    # The console shows what a Content-Security-Policy blocked.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def accept_language(driver: webdriver.Chrome, languages: str) -> None:
    """Send `languages` (e.g. "fi-FI,fi") as Accept-Language from now on, as a browser set to that language would."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setUserAgentOverride", {
        "userAgent": driver.execute_script("return navigator.userAgent"), "acceptLanguage": languages,
    })


@dataclass(frozen=True)
class Violation:
    """One axe-core rule the page breaks: its id, how bad, what it asks for, and the elements (CSS selectors)."""

    id: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.id}: {self.help} ({', '.join(self.targets)})"


def axe_violations(driver: webdriver.Chrome, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Violation]:
    """Run the vendored axe-core on the page shown, WCAG 2.0/2.1 A and AA rules; the violations of `impacts`."""
    # WebDriver's scripts run outside the page's Content-Security-Policy, so the portal's strict CSP does not stop
    # axe, and nothing about the page changes for it.
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        ".then(r => done({violations: r.violations}), e => done({error: String(e)}));",
        list(WCAG_21_AA),
    )
    if "error" in result:
        raise AssertionError(f"axe-core failed on {driver.current_url}: {result['error']}")
    return [
        Violation(v["id"], v["impact"], v["help"], tuple(" ".join(map(str, n["target"])) for n in v["nodes"]))
        for v in result["violations"] if v["impact"] in impacts
    ]


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save the whole page shown (beyond the window's height) as `<artifacts>/<name>.png`; its path."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
    })
    path = artifacts_dir() / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def console_errors(driver: webdriver.Chrome) -> list[str]:
    """The browser console's errors since last asked (a blocked script or style under the CSP shows here)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def wait_for_download(directory: Path, timeout: float = 60.0) -> Path:
    """The one file a download saved into `directory`, once Chromium has finished writing it."""
    deadline = time.monotonic() + timeout
    while True:
        names = list(directory.iterdir())
        # Chromium writes into `<name>.crdownload` or a hidden `.org.chromium.*` file, then renames it.
        partial = [p for p in names if p.name.endswith(".crdownload") or p.name.startswith(".")]
        files = [p for p in names if p not in partial]
        if files and not partial:
            assert len(files) == 1, f"expected one download, found {sorted(p.name for p in files)}"
            return files[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no finished download in {directory} after {timeout:.0f}s: "
                                 f"{sorted(p.name for p in directory.iterdir())}")
        time.sleep(0.1)


class Keyboard:
    """Move through the page shown with TAB, ENTER and typed keys only: never `element.click()`.

    Each key goes to whatever element has the focus, as a keyboard user's would; `tab_to` fails when TAB never
    reaches the element, which is what a keyboard trap or an unfocusable control looks like.
    """

    def __init__(self, driver: webdriver.Chrome, limit: int = 40) -> None:
        self.driver = driver
        self.limit = limit

    def press(self, *keys: str) -> None:
        ActionChains(self.driver).send_keys(*keys).perform()

    def focused(self) -> WebElement:
        return self.driver.switch_to.active_element

    def tab_to(self, selector: str) -> WebElement:
        """Press TAB until the element matching the CSS `selector` has the focus; that element."""
        passed: list[str] = []
        for _ in range(self.limit):
            self.press(Keys.TAB)
            element = self.focused()
            if self.driver.execute_script("return arguments[0].matches(arguments[1])", element, selector):
                return element
            passed.append(self._describe(element))
        raise AssertionError(f"TAB never reached {selector!r} on {self.driver.current_url}; it went through {passed}")

    def type(self, text: str) -> None:
        """Type `text` into the focused element."""
        self.press(text)

    def enter(self) -> None:
        self.press(Keys.ENTER)

    def _describe(self, element: WebElement) -> str:
        return str(self.driver.execute_script(
            "const e = arguments[0]; return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')"
            " + (e.name ? '[name=' + e.name + ']' : '') + (e.getAttribute('href') ? '[href]' : '')", element))
