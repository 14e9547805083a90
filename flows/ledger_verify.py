"""`dsar audit verify`'s ledger side: the chain against the checkpoint, the WORM copies and the key's home."""

from __future__ import annotations

from audit.anchor import Head
from audit.anchored import Problem, Report, check_anchored
from audit.ledger import Ledger
from exports.errors import StorageError
from flows.runtime import Runtime
from flows.secrets import ledger_key_beside


def verify_anchored(rt: Runtime, ledger: Ledger, public_key: bytes, check_key_home: bool = True
                    ) -> tuple[Report, str]:
    """The report of `audit.anchored.check_anchored` over `rt`'s anchors, with warnings about anchors that
    cannot be read and (`check_key_home`) about a signing key kept beside the ledger; and a note of what
    was compared, for the line that says the ledger is intact."""
    heads: list[tuple[str, Head]] = []
    warnings: list[Problem] = []
    failed: list[Problem] = []
    checkpoint_name = f"checkpoint {rt.checkpoint_path.name}"
    missing = False
    try:
        head = rt.ledger_head()
    except ValueError as exc:
        failed.append(Problem(True, f"unreadable {exc}"))  # "checkpoint NAME: what is wrong"
    else:
        missing = head is None
        if head is not None:
            heads.append((checkpoint_name, head))
    worm = rt.worm
    copies = None
    if worm is not None:
        try:
            worm_head = worm.head()
            if worm_head is not None:
                heads.append(("WORM head", worm_head))
            copies = worm.copies()
            report = check_anchored(ledger.events(), public_key, heads, copies)
        except ValueError as exc:
            failed.append(Problem(True, f"forged WORM head: {exc}"))
            report = check_anchored(ledger.events(), public_key, heads)
        except StorageError as exc:
            warnings.append(Problem(False, f"{exc}: the WORM copies were not compared"))
            report = check_anchored(ledger.events(), public_key, heads)
    else:
        report = check_anchored(ledger.events(), public_key, heads)
    if check_key_home:
        beside = ledger_key_beside(rt.config)
        if beside is not None:
            warnings.append(Problem(False, beside))
    if missing and report.last_seq:
        # Every append writes it: whoever truncated the ledger in the data directory can delete it too.
        failed.append(Problem(True, f"missing {checkpoint_name}: the ledger holds {report.last_seq} events but no "
                                    "signed head, so events removed from its end cannot be told: it was deleted or "
                                    "moved (or [audit] checkpoint_file changed)"))
    if heads and heads[0][0] == checkpoint_name and heads[0][1].seq < report.last_seq and not report.tampered:
        # Every append rewrites it, so a lag means anchor writes failed (the log says which), or appends are
        # under way now: the events after it are anchored by nothing but WORM copies, if kept.
        warnings.append(Problem(False, f"{checkpoint_name} is at seq {heads[0][1].seq} but the ledger at seq "
                                       f"{report.last_seq}: its last writes failed, or appends are under way"))
    report.problems[:0] = failed
    report.problems.extend(warnings)
    compared = [name for name, _ in heads] + (["WORM copies"] if copies is not None else [])
    return report, f" against the {' and '.join(compared)}" if compared else ""
