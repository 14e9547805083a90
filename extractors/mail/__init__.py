"""Customer-service mail: archives, their address index, and one message read into a record."""

from extractors.mail.parse import MESSAGES, parse_message
from extractors.mail.source import MailSource, MboxSource

__all__ = ["MESSAGES", "MailSource", "MboxSource", "parse_message"]
