"""The Mailchimp source: the subject's members in every list, what hangs off them, and their store data.

    base_url = "https://us21.api.mailchimp.com/3.0"
    api_key_env = "MAILCHIMP_API_KEY"    # the key itself never sits in the file
    timeout_seconds = 10                 # per request
    list_ids = ["a1b2c3d4e5"]            # optional; default: every list of the account
    ecommerce = true                     # also the stores' customers and orders (the default)
    max_connections = 10                 # Mailchimp allows 10 concurrent connections per user
    max_retries = 5                      # retries of one request after 429, 5xx or a network error
    max_wait_seconds = 120               # a request gives up once its retries would wait longer
    page_size = 1000                     # `count` per page (Mailchimp's largest)

Per list, for every address of the subject (member id = md5 of the lower-cased address):
the member (merge fields, interests, marketing permissions, location, ...), its marketing
permissions one per record, tags, notes, activity feed and events. Then, where the account
has e-commerce stores, the customer with the subject's address in each store and its orders.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import httpx
from pydantic import Field, StringConstraints

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.labels import KindLabels, both
from extractors.mailchimp.api import MailchimpApi
from extractors.mailchimp.ecommerce import ecommerce_records
from extractors.mailchimp.items import keyed_by_time, without_links
from extractors.records import Finding, Record, Subject
from extractors.settings import SourceSettings, parse_settings
from identity.address import ascii_lower

MAX_CONNECTIONS = 10  # Mailchimp's limit per user: an 11th simultaneous connection gets 429


class MailchimpSettings(SourceSettings):
    """`kind = "mailchimp"`: the subject's members in every list, what hangs off them, and their store data."""

    base_url: str = Field(pattern=r"^https?://", examples=["https://us21.api.mailchimp.com/3.0"])
    """The Marketing API's URL, with your account's data centre."""
    api_key_env: str = Field(min_length=1, examples=["MAILCHIMP_API_KEY"])
    """The environment variable holding the API key; the key itself never sits in the file."""
    timeout_seconds: float = Field(10, gt=0)
    """Per request."""
    list_ids: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]] | None = Field(
        default=None, examples=[["a1b2c3d4e5"]])
    """The audiences searched; default: every list of the account."""
    ecommerce: bool = True
    """Also the stores' customers and orders."""
    max_connections: int = Field(MAX_CONNECTIONS, ge=1, le=MAX_CONNECTIONS)
    """Concurrent connections; Mailchimp allows 10 per user."""
    max_retries: int = Field(5, ge=0, le=20)
    """Retries of one request after 429, 5xx or a network error."""
    max_wait_seconds: float = Field(120, gt=0)
    """A request gives up once its retries would wait longer."""
    page_size: int = Field(1000, ge=1, le=1000)
    """`count` per page (Mailchimp's largest is 1000)."""


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: the MD5 of the lower-cased address."""
    return hashlib.md5(ascii_lower(email.strip()).encode("utf-8"), usedforsecurity=False).hexdigest()


class MailchimpSource:
    """Yields member, marketing_permissions, tags, notes, activity, events, ecommerce_customer and
    ecommerce_orders records, in a fixed order: lists by id, then stores by id."""

    settings_model = MailchimpSettings
    labels = KindLabels(
        categories={
            "member": both("Tilaajatiedot", "Subscriber"),
            "marketing_permissions": both("Markkinointiluvat", "Marketing permissions"),
            "tags": both("Tunnisteet", "Tags"), "notes": both("Muistiinpanot", "Notes"),
            "activity": both("Toiminta", "Activity"), "events": both("Tapahtumat", "Events"),
            "ecommerce_customer": both("Verkkokaupan asiakastiedot", "Shop customer"),
            "ecommerce_orders": both("Verkkokaupan tilaukset", "Shop orders"),
        },
        columns={
            "list_id": both("Postituslista", "Audience"), "email_address": both("Sähköpostiosoite", "Email address"),
            "status": both("Tila", "Status"), "merge_fields": both("Tilaajan tiedot", "Subscriber fields"),
            "timestamp_signup": both("Tilattu", "Signed up"), "ip_signup": both("IP-osoite tilattaessa", "Sign-up IP"),
            "timestamp_opt": both("Tilaus vahvistettu", "Opted in"), "ip_opt": both("IP-osoite vahvistettaessa",
                                                                                    "Opt-in IP"),
            "language": both("Kieli", "Language"), "vip": both("VIP", "VIP"), "location": both("Sijainti", "Location"),
            "last_changed": both("Muutettu viimeksi", "Last changed"), "member_rating": both("Arvio", "Rating"),
            "marketing_permission_id": both("Luvan tunniste", "Permission ID"), "text": both("Teksti", "Text"),
            "enabled": both("Sallittu", "Allowed"), "name": both("Nimi", "Name"), "note": both("Muistiinpano", "Note"),
            "created_at": both("Luotu", "Created"), "updated_at": both("Päivitetty", "Updated"),
            "store_id": both("Verkkokauppa", "Shop"), "order_total": both("Summa", "Total"),
            "currency_code": both("Valuutta", "Currency"), "lines": both("Tilausrivit", "Order lines"),
            "occurred_at": both("Ajankohta", "When"), "properties": both("Ominaisuudet", "Properties"),
        },
    )

    def __init__(
        self,
        name: str,
        settings: Mapping[str, Any],
        base_dir: Path,
        environ: Mapping[str, str],
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
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
        self._sleep = sleep

    def _client(self) -> httpx.Client:
        s = self.settings
        limits = httpx.Limits(max_connections=s.max_connections, max_keepalive_connections=s.max_connections)
        return httpx.Client(
            base_url=s.base_url.rstrip("/") + "/",
            auth=("dsar", self._api_key),
            timeout=s.timeout_seconds,
            limits=limits,
            transport=self._transport,
            headers={"Accept": "application/json"},
        )

    def _api(self, client: httpx.Client, max_retries: int | None = None) -> MailchimpApi:
        s = self.settings
        return MailchimpApi(
            self.name, client, max_retries=s.max_retries if max_retries is None else max_retries,
            max_wait_seconds=s.max_wait_seconds, page_size=s.page_size, sleep=self._sleep,
        )

    def check(self) -> Iterator[Finding]:
        """The API key is accepted (GET /ping, Mailchimp's health check) and every configured list exists;
        one try each, no subscriber looked up."""
        with self._client() as client:
            api = self._api(client, max_retries=0)
            try:
                if api.get("ping") is None:
                    yield Finding("error", "api", "no Mailchimp API at base_url (GET /ping: 404)")
                    return
                yield Finding("ok", "api", "API key accepted (GET /ping)")
                for list_id in sorted(set(self.settings.list_ids or ())):
                    found = api.get(f"lists/{list_id}", fields="id") is not None
                    yield (Finding("ok", f"list {list_id}", "found") if found else
                           Finding("error", f"list {list_id}", "not found on the platform: check list_ids"))
            except SourceUnavailable as exc:
                yield Finding("error", "api", str(exc).removeprefix(f"source {self.name}: "))

    def records(self, subject: Subject) -> Iterator[Record]:
        s = self.settings
        with self._client() as client:
            api = self._api(client)
            # Lookups run concurrently (the client's pool caps the connections); the feeds behind a
            # found member stream one page at a time in this thread, so the order is fixed.
            pool = ThreadPoolExecutor(max_workers=s.max_connections, thread_name_prefix=f"dsar-{self.name}")
            try:
                yield from self._list_records(api, pool, subject.emails)
                if s.ecommerce:
                    yield from ecommerce_records(self.name, api, subject.emails)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _list_records(self, api: MailchimpApi, pool: ThreadPoolExecutor, emails: Iterable[str]) -> Iterator[Record]:
        hashes = list(dict.fromkeys(subscriber_hash(email) for email in emails))
        wanted = [(list_id, h) for list_id in self._list_ids(api, pool) for h in hashes]
        found = pool.map(lambda pair: api.get(f"lists/{pair[0]}/members/{pair[1]}"), wanted)
        for (list_id, member_id), member in zip(wanted, found, strict=True):
            if member is not None:
                yield from self._member_records(api, list_id, member_id, member)

    def _list_ids(self, api: MailchimpApi, pool: ThreadPoolExecutor) -> list[str]:
        if self.settings.list_ids is None:
            return sorted({str(item["id"]) for item in api.paged("lists", "lists", fields="lists.id,total_items")})
        ids = sorted(set(self.settings.list_ids))
        # A mistyped id would otherwise look like "not a member".
        for list_id, found in zip(ids, pool.map(lambda i: api.get(f"lists/{i}", fields="id"), ids), strict=True):
            if found is None:
                raise SourceConfigError(self.name, "list_ids", f"list '{list_id}' not found on the platform")
        return ids

    def _member_records(
        self, api: MailchimpApi, list_id: str, member_id: str, member: dict[str, Any]
    ) -> Iterator[Record]:
        # Found by the hash of one of the subject's addresses: the member record describes the subject,
        # and its email_address says which address it was.
        yield Record(self.name, "member", f"{list_id}:{member_id}", without_links(member),
                     provided=True, about_subject=True)
        # Whom the subject allowed to contact them how (GDPR consent), one row each, as returned.
        about = {"list_id": list_id, "email_address": member.get("email_address", "")}
        for permission in member.get("marketing_permissions") or []:
            yield Record(self.name, "marketing_permissions",
                         f"{list_id}:{member_id}:{permission.get('marketing_permission_id')}",
                         {**about, **without_links(permission)}, provided=True, about_subject=True)
        base = f"lists/{list_id}/members/{member_id}"
        for tag in api.paged(f"{base}/tags", "tags"):
            yield Record(self.name, "tags", f"{list_id}:{member_id}:{tag.get('id')}", {**about, **without_links(tag)})
        for note in api.paged(f"{base}/notes", "notes"):
            yield Record(self.name, "notes", f"{list_id}:{member_id}:{note.get('id')}",
                         {**about, **without_links(note)})
        # The feed's shape, or the older /activity shape.
        feed = keyed_by_time(api.paged(f"{base}/activity-feed", "activity"),
                             ("created_at_timestamp", "timestamp"), ("activity_type", "action"))
        for suffix, event in feed:
            yield Record(self.name, "activity", f"{list_id}:{member_id}:{suffix}", {**about, **without_links(event)})
        for suffix, event in keyed_by_time(api.paged(f"{base}/events", "events"), ("occurred_at",), ("name",)):
            yield Record(self.name, "events", f"{list_id}:{member_id}:{suffix}", {**about, **without_links(event)})
