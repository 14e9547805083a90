"""Errors raised by redaction.

The tree::

    RedactionError            base: something in a record could not be redacted as asked
      (planned) an item that cannot be redacted safely, such as a scanned PDF,
      will get its own subclass so the flow can withhold it for human review.

Messages and attributes hold ids and kinds, never the personal data found.
"""


class RedactionError(Exception):
    """Base class for everything redaction/ raises on purpose."""
