"""A marketing platform speaking the Mailchimp Marketing API v3.

    base_url = "https://us21.api.mailchimp.com/3.0"
    api_key_env = "MAILCHIMP_API_KEY"    # the key itself never sits in the file
    timeout_seconds = 10                 # the default
    list_ids = ["a1b2c3d4e5"]            # optional; default: every list of the account

Per list: the member (GET /lists/{id}/members/{hash}, 404 = not a member),
their tags and their activity feed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import Field, StringConstraints

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.records import Record, Subject
from extractors.settings import SourceSettings, parse_settings
from identity.address import ascii_lower

PAGE = 1000  # Mailchimp's largest `count`


class MailchimpSettings(SourceSettings):
    base_url: str = Field(pattern=r"^https?://")
    api_key_env: str = Field(min_length=1)
    timeout_seconds: float = Field(10, gt=0)
    list_ids: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]] | None = None


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased address."""
    return hashlib.md5(ascii_lower(email.strip()).encode("utf-8"), usedforsecurity=False).hexdigest()


class MailchimpSource:
    """Yields `member`, `tags` and `activity` records from every list the subject is on."""

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        environ: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.settings = parse_settings(MailchimpSettings, name, settings)
        key = environ.get(self.settings.api_key_env)
        if not key:
            raise SourceConfigError(
                name, "api_key_env", f"environment variable {self.settings.api_key_env} is not set"
            )
        self._api_key = key
        self._transport = transport

    def records(self, subject: Subject) -> Iterator[Record]:
        with httpx.Client(
            base_url=self.settings.base_url.rstrip("/") + "/",
            auth=("dsar", self._api_key),
            timeout=self.settings.timeout_seconds,
            transport=self._transport,
            headers={"Accept": "application/json"},
        ) as client:
            api = _Api(self.name, client)
            member_hash = subscriber_hash(subject.email)
            for list_id in self._list_ids(api):
                yield from self._list_records(api, list_id, member_hash)

    def _list_ids(self, api: _Api) -> Iterator[str]:
        if self.settings.list_ids is None:
            for item in api.paged("lists", "lists", fields="lists.id,total_items"):
                yield item["id"]
            return
        for list_id in self.settings.list_ids:
            # A mistyped id would otherwise look like "not a member".
            if api.get(f"lists/{list_id}", fields="id") is None:
                raise SourceConfigError(self.name, "list_ids", f"list '{list_id}' not found on the platform")
            yield list_id

    def _list_records(self, api: _Api, list_id: str, member_hash: str) -> Iterator[Record]:
        base = f"lists/{list_id}/members/{member_hash}"
        member = api.get(base)
        if member is None:
            return
        # Found by the hash of the subject's verified address: the member record describes the subject.
        yield Record(self.name, "member", list_id, _without_links(member), provided=True, about_subject=True)
        for tag in api.paged(f"{base}/tags", "tags"):
            yield Record(self.name, "tags", f"{list_id}:{tag.get('id')}", {"list_id": list_id, **_without_links(tag)})
        seen: dict[tuple[str, str], int] = {}
        for event in api.paged(f"{base}/activity-feed", "activity"):
            # The feed's shape, or the older /activity shape.
            when = str(event.get("created_at_timestamp") or event.get("timestamp") or "")
            action = str(event.get("activity_type") or event.get("action") or "")
            n = seen[(when, action)] = seen.get((when, action), 0) + 1
            yield Record(
                self.name, "activity", f"{list_id}:{when}:{action}:{n}", {"list_id": list_id, **_without_links(event)}
            )


class _Api:
    """GET with Mailchimp's errors turned into SourceUnavailable; None for 404."""

    def __init__(self, source: str, client: httpx.Client) -> None:
        self.source = source
        self.client = client

    def get(self, path: str, **params: Any) -> dict[str, Any] | None:
        try:
            response = self.client.get(path, params=params)
        except httpx.HTTPError:
            # httpx's text names the URL, and the URL holds the subscriber hash.
            raise SourceUnavailable(self.source, "marketing platform unreachable") from None
        status = response.status_code
        if status == 404:
            return None
        if status in (401, 403):
            raise SourceUnavailable(self.source, f"marketing platform refused the API key (HTTP {status})")
        if status == 429:
            raise SourceUnavailable(self.source, "marketing platform rate limit reached (HTTP 429)")
        if status >= 500:
            raise SourceUnavailable(self.source, f"marketing platform unreachable (HTTP {status})")
        if status >= 400:
            raise SourceUnavailable(self.source, f"marketing platform rejected the request (HTTP {status})")
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise SourceUnavailable(self.source, "marketing platform sent a response that is not a JSON object")
        return body

    def paged(self, path: str, item_key: str, **params: Any) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.get(path, count=PAGE, offset=offset, **params)
            items = page.get(item_key, []) if page else []
            yield from items
            offset += len(items)
            total = page.get("total_items") if page else None
            done = offset >= total if isinstance(total, int) else len(items) < PAGE
            if not items or done:
                return


def _without_links(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "_links"}
