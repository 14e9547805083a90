"""Package passphrases stretched ahead, in background threads, while a request's sources are searched.

scrypt at age's work factor takes about half a second and releases the GIL, so
a run starts it as soon as identity holds and the store stage finds it done.
A warm worker goes further and keeps spares stretched before any request comes
(`keep_spares`). A passphrase lives in this process's memory only: a run that
dies loses it, and its resume draws a new one.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

from exports.encrypt import StretchedPassphrase, new_passphrase, stretch_passphrase

_spares = 0


def keep_spares(count: int) -> None:
    """Keep `count` passphrases stretched ahead of any request in this process's stretchers (a warm worker; each
    takes ~256 MiB while scrypt runs)."""
    global _spares
    _spares = count


def _fresh() -> StretchedPassphrase:
    return stretch_passphrase(new_passphrase())


class PassphraseStretcher:
    def __init__(self, threads: int = 2) -> None:
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="dsar-scrypt")
        self._ahead: dict[str, Future[StretchedPassphrase]] = {}
        self._spares: list[Future[StretchedPassphrase]] = []
        self._lock = threading.Lock()

    def start(self, request_id: str) -> None:
        """Give the request a spare, or begin stretching a new passphrase for it, unless it has one already."""
        with self._lock:
            if request_id not in self._ahead:
                self._ahead[request_id] = self._spares.pop(0) if self._spares else self._executor.submit(_fresh)
            while len(self._spares) < _spares:
                self._spares.append(self._executor.submit(_fresh))

    def take(self, request_id: str) -> StretchedPassphrase:
        """The request's passphrase stretched ahead (waiting for it if need be), or one stretched now; never twice
        the same."""
        with self._lock:
            ahead = self._ahead.pop(request_id, None)
        return _fresh() if ahead is None else ahead.result()

    def forget(self, request_id: str) -> None:
        """Drop what was stretched for a run that ends without sealing."""
        with self._lock:
            ahead = self._ahead.pop(request_id, None)
        if ahead is not None:
            ahead.cancel()
