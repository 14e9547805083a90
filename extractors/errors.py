"""Errors raised while gathering records.

    ExtractionError
    ├── SourceConfigError   a source's config section is wrong (names the key)
    └── SourceUnavailable   a source could not be read (unreachable, refused, broken)

Messages never carry personal data: Prefect copies them into its database.
"""


class ExtractionError(Exception):
    """Base class; `source` is the configured source name."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"source {source}: {message}")
        self.source = source


class SourceConfigError(ExtractionError):
    def __init__(self, source: str, key: str, message: str) -> None:
        super().__init__(source, f"{key}: {message}")
        self.key = key


class SourceUnavailable(ExtractionError):
    pass
