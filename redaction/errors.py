"""Errors raised by redaction.

The tree::

    RedactionError            base: something in a record could not be redacted as asked
      UnreadableMessage       a message too broken to parse: the flow withholds such mail for review

Messages and attributes hold ids and kinds, never the personal data found.
"""


class RedactionError(Exception):
    """Base class for everything redaction/ raises on purpose."""


class UnreadableMessage(RedactionError):
    def __init__(self) -> None:
        super().__init__("the message cannot be parsed; the flow would withhold it for review, unredacted")
