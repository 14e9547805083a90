"""The ledger checked against what was kept outside its database: signed heads and WORM copies of events.

The chain alone cannot show events removed from its end, nor a ledger rebuilt
and re-signed by whoever stole the key. A head (`audit.anchor`) written after
each append shows how far the ledger reached and the hash it had there; a
write-once copy of every event, which its database's owner cannot rewrite or
delete, shows each event as it was. Events and copies are merged by seq as they
stream, so memory stays bounded however long the ledger is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from audit.anchor import Head, verify_head
from audit.errors import InvalidSignature, LedgerTampered
from audit.event import Event, format_at
from audit.verify import Chain


@dataclass(frozen=True)
class Copy:
    """A write-once copy of the event at `seq`, whose hash was `hash`, written at `written_at`."""

    seq: int
    hash: str
    written_at: datetime


@dataclass(frozen=True)
class Problem:
    """What an auditor is told: tampering (`tampered`) or a gap in the anchors (a warning)."""

    tampered: bool
    message: str


@dataclass
class Report:
    count: int = 0  # events that passed the chain checks
    last_seq: int = 0  # the last event read, verified or not
    problems: list[Problem] = field(default_factory=list)

    @property
    def tampered(self) -> bool:
        return any(p.tampered for p in self.problems)


def check_anchored(events: Iterable[Event], public_key: bytes, heads: Sequence[tuple[str, Head]] = (),
                   copies: Iterable[Copy] | None = None) -> Report:
    """The chain checks of `verify_ledger`, then every disagreement with `heads` (named, e.g. "checkpoint")
    and `copies` (in seq order; None when no WORM copies are kept).

    The chain stops at its first failure (what follows it cannot be trusted); heads and copies are still
    compared with every event, so a ledger edited, truncated and rewritten is named on all three counts.
    """
    report = Report()
    chain, chained = Chain(public_key), True
    good_heads = []
    for name, head in heads:
        try:
            verify_head(head, public_key)
        except InvalidSignature:
            report.problems.append(Problem(True, f"forged {name}: its head at seq {head.seq} has a bad signature"))
        else:
            good_heads.append((name, head))
    merge = _Merge(iter(copies) if copies is not None else None)
    try:
        for event in events:
            report.last_seq = event.seq
            if chained:
                try:
                    chain.check(event)
                except LedgerTampered as exc:
                    report.problems.append(Problem(True, str(exc)))
                    chained = False
            for name, head in good_heads:
                if head.seq == event.seq and head.hash != event.hash:
                    report.problems.append(Problem(True, f"rewritten at seq {event.seq}: differs from the {name} "
                                                         f"written at {format_at(head.at)}"))
            merge.see(event)
    except LedgerTampered as exc:  # a row that cannot even be read ends the stream
        report.problems.append(Problem(True, str(exc)))
    report.count = chain.count
    for name, head in good_heads:
        if head.seq > report.last_seq:
            report.problems.append(Problem(True, f"truncated: the ledger ends at seq {report.last_seq} but the "
                                                 f"{name} written at {format_at(head.at)} is at seq {head.seq}"))
    report.problems.extend(merge.finish(report.last_seq))
    return report


class _Merge:
    """Events against copies, both in seq order; differences gathered into runs of seqs."""

    def __init__(self, copies: Iterator[Copy] | None) -> None:
        self._copies = copies
        self._next = self._pull()
        self._rewritten = _Runs()
        self._uncopied = _Runs()

    def _pull(self) -> Copy | None:
        return next(self._copies, None) if self._copies is not None else None

    def see(self, event: Event) -> None:
        if self._copies is None:
            return
        while self._next is not None and self._next.seq < event.seq:
            self._next = self._pull()  # a copy of a seq the ledger lacks: the chain names the gap
        copied = False
        while self._next is not None and self._next.seq == event.seq:
            copied = True
            if self._next.hash != event.hash:
                self._rewritten.add(event.seq, self._next.written_at)
            self._next = self._pull()
        if not copied:
            self._uncopied.add(event.seq, None)

    def finish(self, last_seq: int) -> Iterator[Problem]:
        for run in self._rewritten.runs:
            assert run.start is not None and run.end is not None
            if run.first == run.last:
                yield Problem(True, f"rewritten at seq {run.first}: differs from its WORM copy written at "
                                    f"{format_at(run.start)}")
            else:
                yield Problem(True, f"rewritten at seq {run}: each differs from its WORM copy (written "
                                    f"{format_at(run.start)} to {format_at(run.end)})")
        while self._next is not None and self._next.seq <= last_seq:
            self._next = self._pull()
        if self._next is not None:
            highest = self._next
            for copy in iter(self._pull, None):
                highest = copy
            yield Problem(True, f"truncated: the ledger ends at seq {last_seq} but WORM copies reach seq "
                                f"{highest.seq} (written at {format_at(highest.written_at)})")
        ranges = self._uncopied.names()
        if ranges:
            yield Problem(False, f"no WORM copy of seq {ranges}: an anchor write failed or the copies were "
                                 "enabled later")


@dataclass
class _Run:
    first: int
    last: int
    start: datetime | None
    end: datetime | None

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


class _Runs:
    """Seqs gathered into consecutive runs, each with the first and last time seen; bounded by the runs."""

    def __init__(self) -> None:
        self.runs: list[_Run] = []

    def add(self, seq: int, when: datetime | None) -> None:
        if self.runs and self.runs[-1].last == seq - 1:
            self.runs[-1].last, self.runs[-1].end = seq, when
        else:
            self.runs.append(_Run(seq, seq, when, when))

    def names(self) -> str:
        return ", ".join(map(str, self.runs))
