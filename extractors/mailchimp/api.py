"""GETs against the Mailchimp Marketing API v3: retries, pages, and errors without personal data."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from extractors.errors import SourceUnavailable

BACKOFF_BASE = 0.5  # seconds before the first retry when the server names no wait
BACKOFF_CAP = 30.0  # no single exponential wait beyond this


def retry_after(response: httpx.Response) -> float | None:
    """The server's `Retry-After` in seconds, or None when it sends none (or an HTTP date we do not trust)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


class MailchimpApi:
    """GET with 429, 5xx and network errors retried; None for 404; other failures raise SourceUnavailable.

    A retry waits what the server's `Retry-After` says, else an exponential backoff with
    jitter (so that concurrent threads do not come back at once). One request gives up
    after `max_retries` retries or once its waits would pass `max_wait_seconds`.
    Messages name the HTTP status, never the URL: it holds the subscriber hash.
    `sleep` and `jitter` are parameters so that tests see the waits without waiting.
    """

    def __init__(
        self,
        source: str,
        client: httpx.Client,
        *,
        max_retries: int,
        max_wait_seconds: float,
        page_size: int,
        sleep: Callable[[float], None],
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.source = source
        self.client = client
        self.max_retries = max_retries
        self.max_wait_seconds = max_wait_seconds
        self.page_size = page_size
        self._sleep = sleep
        self._jitter = jitter

    def get(self, path: str, **params: Any) -> dict[str, Any] | None:
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            response = self._attempt(path, params)
            if response is not None and not _retryable(response):
                return self._body(response)
            if attempt == self.max_retries:
                break
            delay = self._delay(attempt, response)
            if waited + delay > self.max_wait_seconds:
                break
            self._sleep(delay)
            waited += delay
        tries = "1 attempt" if attempt == 0 else f"{attempt + 1} attempts"
        raise SourceUnavailable(self.source, f"{_describe(response)}; gave up after {tries}")

    def paged(self, path: str, item_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a collection, one page in memory at a time (count/offset until total_items)."""
        offset = 0
        while True:
            page = self.get(path, count=self.page_size, offset=offset, **params)
            items = page.get(item_key, []) if page else []
            if not isinstance(items, list):
                raise SourceUnavailable(self.source, f"marketing platform sent '{item_key}' that is not a list")
            yield from items
            offset += len(items)
            total = page.get("total_items") if page else None
            done = offset >= total if isinstance(total, int) else len(items) < self.page_size
            if not items or done:
                return

    def _attempt(self, path: str, params: dict[str, Any]) -> httpx.Response | None:
        """The response, or None when the network failed."""
        try:
            return self.client.get(path, params=params)
        except httpx.TransportError:
            # httpx's text names the URL, and the URL holds the subscriber hash: keep neither.
            return None

    def _delay(self, attempt: int, failure: httpx.Response | None) -> float:
        named = retry_after(failure) if failure is not None else None
        if named is not None:
            return named
        return min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt) * (0.5 + self._jitter() / 2)

    def _body(self, response: httpx.Response) -> dict[str, Any] | None:
        status = response.status_code
        if status == 404:
            return None
        if status >= 400:
            raise SourceUnavailable(self.source, _describe(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceUnavailable(self.source, "marketing platform sent a response that is not a JSON object")
        return body


def _retryable(response: httpx.Response) -> bool:
    return response.status_code == 429 or response.status_code >= 500


def _describe(response: httpx.Response | None) -> str:
    if response is None:
        return "marketing platform unreachable"
    status = response.status_code
    if status in (401, 403):
        return f"marketing platform refused the API key (HTTP {status})"
    if status == 429:
        return "marketing platform rate limit reached (HTTP 429)"
    if status >= 500:
        return f"marketing platform unreachable (HTTP {status})"
    return f"marketing platform rejected the request (HTTP {status})"
