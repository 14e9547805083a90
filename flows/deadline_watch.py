"""The daily digest of requests whose reply is late or due soon (GDPR Art. 12(3)).

One mail a day to the privacy team: ids, statuses and due dates, nothing about
the requester.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flows.runtime import Runtime
from flows.texts import text


@dataclass(frozen=True)
class DeadlineCounts:
    overdue: int
    due_soon: int
    mailed: bool  # False: nothing to tell, or today's digest went already


def watch_deadlines(rt: Runtime) -> DeadlineCounts:
    """Mail the team one digest of the open requests overdue or due within `[notify] deadline_warning_days`;
    at most one a day by the controller's calendar, so a rerun of the day's watch sends nothing new.

    Every date is the controller's: "within 7 days" runs to the end of the 7th day from today where it is.
    """
    now, calendar = rt.clock(), rt.store.calendar
    today, days = calendar.local_date(now), rt.config.notify.deadline_warning_days
    language = rt.config.controller.languages[0]
    lines, overdue = [], 0
    for request in rt.store.open_due_by(calendar.end_of(today + timedelta(days=days))):
        late = request.deadline < now
        overdue += late
        lines.append(text("deadline_line", language, request_id=request.id, status=request.status,
                          due=calendar.local_date(request.deadline),
                          extended=text("extended_mark", language) if request.extended_to is not None else "",
                          overdue=text("overdue_mark", language) if late else ""))
    if not lines:
        return DeadlineCounts(0, 0, mailed=False)
    counts = {"overdue": overdue, "due_soon": len(lines) - overdue}
    mailed = rt.mailer.send(f"deadlines-{today:%Y%m%d}", rt.config.team_email,
                            text("deadlines_subject", language, date=today.isoformat(), **counts),
                            text("deadlines_body", language, days=days, lines="\n".join(lines)))
    return DeadlineCounts(**counts, mailed=mailed)
