"""Errors the command line turns into one clear line.

    DsarError
    ├── ConfigError        the config file is wrong (names the file and the key)
    ├── InvalidRequest     a request cannot be registered as given
    ├── RequestNotFound    no request with that id
    ├── RequestClosed      the request is closed (delivered, duplicate, ...): nothing more runs
    ├── RequestBusy        another flow run is working on the request
    ├── ClaimLost          this run's claim was taken over or unlocked: it stops
    ├── NoPackage          a link cannot be reissued: nothing delivered, or the package was deleted
    ├── StagingLost        staged data of a request is missing or changed: run it again
    └── StageFailed        a stage of a request failed (names the stage, never data)

Messages never carry personal data: Prefect copies exception text into its
database, logs and events.
"""

from datetime import datetime

from audit.errors import AuditError
from exports.errors import ExportError
from extractors.errors import ExtractionError
from identity.errors import IdentityError
from redaction.errors import RedactionError


class DsarError(Exception):
    pass


class ConfigError(DsarError):
    def __init__(self, path: object, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.key = key
        self.message = message


class InvalidRequest(DsarError):
    pass


class RequestNotFound(DsarError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request {request_id}")


class RequestClosed(DsarError):
    def __init__(self, request_id: str, status: str, refused: str = "nothing more runs for it") -> None:
        super().__init__(f"{request_id} is {status}: {refused}")


class RequestBusy(DsarError):
    def __init__(self, request_id: str, run_id: str, where: str, until: datetime) -> None:
        super().__init__(f"{request_id} is being run by flow run {run_id} on {where}, claimed until "
                         f"{until:%Y-%m-%d %H:%M:%S} UTC and renewed while it lives; if that run is gone, "
                         f"`dsar request unlock {request_id} --by STAFF_ID` releases it")


class ClaimLost(DsarError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"{request_id}: this run's claim was taken over or unlocked; it stops here")


class NoPackage(DsarError):
    def __init__(self, request_id: str, why: str) -> None:
        super().__init__(f"{request_id}: no package to link to ({why})")


class StagingLost(DsarError):
    def __init__(self, request_id: str, what: str) -> None:
        super().__init__(f"{request_id}: staged data is missing or changed ({what}); run the request again")


class StageFailed(DsarError):
    def __init__(self, request_id: str, stage: str, reason: str) -> None:
        super().__init__(f"{request_id}: {stage} failed: {reason}")
        self.request_id = request_id
        self.stage = stage
        self.reason = reason


# Errors whose messages are written free of personal data, so they may be shown
# and recorded as they are; any other exception is named by its type only.
SAFE_ERRORS = (DsarError, ExtractionError, IdentityError, RedactionError, ExportError, AuditError)
