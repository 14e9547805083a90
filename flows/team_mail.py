"""Mail to the privacy team when a request cannot finish.

The mail names the request, the stage and the reason `stages.run_stage`
recorded (written free of personal data); never the requester's address or
name, because team mailboxes are shared and kept.
"""

from __future__ import annotations

from flows.errors import StageFailed
from flows.runtime import Runtime
from flows.texts import text


def failure_key(request_id: str, failure_id: str) -> str:
    """The idempotency key of one failure's mail: a resumed run that fails again is a new failure."""
    return f"{request_id}-failed-{failure_id}"


def tell_failure(rt: Runtime, failure: StageFailed, failure_id: str) -> bool:
    """Mail the team that `failure` stopped its request, once per `failure_id` (a flow run's id);
    False when that mail went before."""
    language = rt.config.controller.languages[0]
    values = {"request_id": failure.request_id, "stage": failure.stage, "reason": failure.reason}
    return rt.mailer.send(failure_key(failure.request_id, failure_id), rt.config.team_email,
                          text("failure_subject", language, **values), text("failure_body", language, **values))
