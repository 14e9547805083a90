"""Errors the command line turns into one clear line.

    DsarError
    ├── ConfigError        the config file is wrong (names the file and the key)
    ├── RequestNotFound    no request with that id
    └── StageFailed        a stage of a request failed (names the stage, never data)

Messages never carry personal data: Prefect copies exception text into its
database, logs and events.
"""


class DsarError(Exception):
    pass


class ConfigError(DsarError):
    def __init__(self, path: object, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}")
        self.key = key


class RequestNotFound(DsarError):
    def __init__(self, request_id: str) -> None:
        super().__init__(f"no request {request_id}")


class StageFailed(DsarError):
    def __init__(self, request_id: str, stage: str, reason: str) -> None:
        super().__init__(f"{request_id}: {stage} failed: {reason}")
        self.request_id = request_id
        self.stage = stage
        self.reason = reason
