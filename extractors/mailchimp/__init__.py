"""A marketing platform speaking the Mailchimp Marketing API v3 (the `mailchimp` source kind)."""

from extractors.mailchimp.source import MailchimpSettings, MailchimpSource, subscriber_hash

__all__ = ["MailchimpSettings", "MailchimpSource", "subscriber_hash"]
