"""Customer-service mail: archives, their address index, and one message read into a record."""

from extractors.mail.limits import Limits, LimitSettings
from extractors.mail.parse import MESSAGES, ParsedMessage, Withheld, parse_message, read_message
from extractors.mail.source import MailSource, MboxSource

__all__ = ["MESSAGES", "LimitSettings", "Limits", "MailSource", "MboxSource", "ParsedMessage", "Withheld",
           "parse_message", "read_message"]
