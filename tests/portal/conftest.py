"""Fixtures for every portal test: a real headless Chromium (`browser`) and where it saves downloads."""

from tests.portal.browser import browser, download_dir

__all__ = ["browser", "download_dir"]
