"""What stands between a form and the request store: per-key rate limits and CSRF tokens.

Both live in memory, in the one `dsar serve` process: a restart forgets them, which costs an attacker
nothing they could not get by waiting a window out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

CSRF_COOKIE = "dsar_csrf"


class RateLimit:
    """At most `count` events per `window` seconds for each key (a client address, a hashed email).

    Keys hold no personal data: callers pass hashes of addresses. The table is swept as it grows, so a
    flood of distinct keys costs bounded memory: past `max_keys`, the key with the oldest event goes.
    """

    def __init__(self, count: int, window: float, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.count, self.window, self.max_keys, self._clock = count, window, max_keys, clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Whether one more event for `key` fits in its window; if so, it is counted."""
        now = self._clock()
        with self._lock:
            events = self._events.pop(key, None) or deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            allowed = len(events) < self.count
            if allowed:
                events.append(now)
            if events:
                self._events[key] = events  # re-inserted last: dict order is oldest-first
            while len(self._events) > self.max_keys:
                del self._events[next(iter(self._events))]
            return allowed


def keyed(secret: bytes, label: str, value: str) -> str:
    """A key for `value` (an address) that names it without holding it."""
    return hmac.new(secret, f"{label}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]


def mailbox(address: str) -> str:
    """The mailbox a canonical address (identity/address.py) reaches, as far as a flood of mail to it goes: its
    local part case-folded and without a `+tag`, which most mail systems drop. For rate limits only: it may
    join two mailboxes, never split one."""
    local, _, domain = address.rpartition("@")
    return f"{local.partition('+')[0].casefold()}@{domain}"


def new_csrf_cookie() -> str:
    return secrets.token_urlsafe(24)


def csrf_token(secret: bytes, cookie: str) -> str:
    """The form field that goes with the browser's CSRF cookie: another site can read neither."""
    return hmac.new(secret, f"dsar csrf\0{cookie}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, cookie: str | None, token: str | None) -> bool:
    if not cookie or not token:
        return False
    # compare_digest refuses str with non-ASCII characters: compare the bytes, which any str has.
    return hmac.compare_digest(csrf_token(secret, cookie).encode(), token.encode())
