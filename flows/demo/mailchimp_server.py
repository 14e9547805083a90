"""A local Mailchimp-compatible HTTP endpoint for the demo and the tests.

It serves, read-only and in the Marketing API v3's JSON shapes:

    GET /3.0/ping                                          {"health_status": "Everything's Chimpy!"}
    GET /3.0/lists                                         paged (count, offset)
    GET /3.0/lists/{list_id}
    GET /3.0/lists/{list_id}/members/{subscriber_hash}     hash = md5(lower-cased email); the email works too
    GET /3.0/lists/{list_id}/members/{hash}/tags           paged
    GET /3.0/lists/{list_id}/members/{hash}/activity-feed  paged
    GET /3.0/lists/{list_id}/members/{hash}/notes          paged
    GET /3.0/lists/{list_id}/members/{hash}/events         paged
    GET /3.0/ecommerce/stores                              paged; 404 when the data has no "stores"
    GET /3.0/ecommerce/stores/{store_id}/customers         paged; `email_address` filters
    GET /3.0/ecommerce/stores/{store_id}/orders            paged; `customer_id` filters

Requests need HTTP basic auth with any user name and the API key as the
password (401 otherwise). Errors are application/problem+json. Nothing is
logged: request lines carry subscriber hashes.

The data it serves (the demo generator writes this):

    {"lists": [{"id": "a1b2c3d4e5", "name": "Uutiskirje", "members": [
        {"email_address": "matti@example.fi", "status": "subscribed",
         "merge_fields": {"FNAME": "Matti", "LNAME": "Meikäläinen"},
         "ip_signup": "192.0.2.10", "timestamp_signup": "2024-03-01T10:00:00Z", "language": "fi",
         "tags": [{"id": 1, "name": "asiakas", "date_added": "2024-03-01T10:00:00Z"}],
         "activity": [{"action": "open", "timestamp": "2024-04-02T08:15:00Z",
                       "campaign_id": "c0ffee1234", "title": "Huhtikuun uutiskirje"}]}]}]}

A member may also hold `interests`, `location`, `marketing_permissions`
(`[{"marketing_permission_id": ..., "text": ..., "enabled": ...}]`), `vip`, `source`,
`notes` (`[{"id": 1, "note": ..., "created_at": ..., "created_by": ...}]`) and `events`
(`[{"name": ..., "occurred_at": ..., "properties": {...}}]`). An account with e-commerce has
`"stores": [{"id": ..., "list_id": ..., "name": ..., "customers": [{"id": ..., "email_address": ...,
"first_name": ..., "orders": [{"id": ..., "lines": [...], ...}]}]}]`.

Activity items come back in the activity-feed shape: `action` as
`activity_type`, `timestamp` as `created_at_timestamp`, `title` as
`campaign_title`; other keys pass through.

    with serve_mailchimp(data, api_key="demo-us1") as server:
        server.base_url   # "http://127.0.0.1:PORT/3.0"
        server.fail_next(429, times=2, retry_after=3)   # the next two requests get 429 and Retry-After: 3
        server.requests, server.peak_in_flight          # what it has seen so far

`latency` (seconds) delays every answer, so that concurrent clients overlap.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
MEMBER = re.compile(r"^/3\.0/lists/([^/]+)/members/([^/]+)(/tags|/activity-feed|/notes|/events)?$")
LIST = re.compile(r"^/3\.0/lists/([^/]+)$")
STORE = re.compile(r"^/3\.0/ecommerce/stores/([^/]+)/(customers|orders)$")
# Member keys served as they are stored (the member object's optional parts).
MEMBER_EXTRAS = ("interests", "location", "marketing_permissions", "vip", "source", "email_client")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _collection(key: str, items: list[Any], total: int, **extra: Any) -> dict[str, Any]:
    """A page of a collection in Mailchimp's shape: the items, `total_items` of the whole, `_links`."""
    return {key: items, **extra, "total_items": total, "_links": []}


class _Store:
    """The data file, indexed and turned into API objects."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.lists: dict[str, dict[str, Any]] = {}
        self.members: dict[tuple[str, str], dict[str, Any]] = {}
        for lst in data.get("lists", []):
            self.lists[lst["id"]] = lst
            for member in lst.get("members", []):
                self.members[(lst["id"], _md5(member["email_address"].strip().lower()))] = member
        # None: the account has no e-commerce, and Mailchimp answers 404.
        self.stores: dict[str, dict[str, Any]] | None = (
            {store["id"]: store for store in data["stores"]} if "stores" in data else None
        )

    def list_object(self, lst: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": lst["id"],
            "web_id": int(_md5(lst["id"])[:6], 16),
            "name": lst.get("name", ""),
            "stats": {"member_count": len(lst.get("members", []))},
            "_links": [],
        }

    def member(self, list_id: str, ref: str) -> dict[str, Any] | None:
        ref = ref.lower()
        key = ref if re.fullmatch(r"[0-9a-f]{32}", ref) else _md5(ref)
        return self.members.get((list_id, key))

    def member_object(self, list_id: str, m: dict[str, Any]) -> dict[str, Any]:
        email = m["email_address"]
        member_id = _md5(email.strip().lower())
        merge = m.get("merge_fields", {})
        tags = m.get("tags", [])
        notes = m.get("notes", [])
        return {
            "id": member_id,
            "email_address": email,
            "unique_email_id": _md5(list_id + member_id)[:10],
            "contact_id": _md5("contact" + member_id),
            "full_name": " ".join(v for v in (merge.get("FNAME"), merge.get("LNAME")) if v),
            "email_type": "html",
            "status": m.get("status", "subscribed"),
            "merge_fields": merge,
            "interests": {},
            "ip_signup": m.get("ip_signup", ""),
            "timestamp_signup": m.get("timestamp_signup", ""),
            "language": m.get("language", ""),
            "marketing_permissions": [],
            **{key: m[key] for key in MEMBER_EXTRAS if key in m},
            **({"last_note": self.note_object(list_id, member_id, notes[-1])} if notes else {}),
            "list_id": list_id,
            "tags_count": len(tags),
            "tags": [{"id": t["id"], "name": t["name"]} for t in tags],
            "_links": [{"rel": "self", "href": f"/3.0/lists/{list_id}/members/{member_id}", "method": "GET"}],
        }

    def note_object(self, list_id: str, member_id: str, note: dict[str, Any]) -> dict[str, Any]:
        return {"id": note["id"], "created_at": note.get("created_at", ""), "created_by": note.get("created_by", ""),
                "updated_at": note.get("updated_at", note.get("created_at", "")), "note": note.get("note", ""),
                "list_id": list_id, "email_id": member_id, "_links": []}

    def store_object(self, store: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in store.items() if key != "customers"} | {"_links": []}

    def customer_object(self, store_id: str, customer: dict[str, Any]) -> dict[str, Any]:
        orders = customer.get("orders", [])
        return {key: value for key, value in customer.items() if key != "orders"} | {
            "orders_count": len(orders),
            "total_spent": round(sum(float(o.get("order_total", 0)) for o in orders), 2),
            "_links": [],
        }

    def order_object(self, store_id: str, customer: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        short = {key: customer[key] for key in ("id", "email_address", "first_name", "last_name") if key in customer}
        return {"id": order["id"], "customer": short, "store_id": store_id, **order,
                "lines": [{**line, "_links": []} for line in order.get("lines", [])], "_links": []}


def _activity(item: dict[str, Any]) -> dict[str, Any]:
    renamed = {"action": "activity_type", "timestamp": "created_at_timestamp", "title": "campaign_title"}
    return {renamed.get(key, key): value for key, value in item.items()}


class _Traffic:
    """What the server has seen (requests, how many it answered at once) and the failures it is told to answer."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.lock = threading.Lock()
        self.requests = 0
        self.open = 0
        self.peak = 0
        self.faults: deque[tuple[int, int | None]] = deque()

    def begin(self) -> None:
        with self.lock:
            self.requests += 1
            self.open += 1
            self.peak = max(self.peak, self.open)

    def next_fault(self) -> tuple[int, int | None] | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def end(self) -> None:
        with self.lock:
            self.open -= 1


def _handler(store: _Store, api_key: str, traffic: _Traffic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-mailchimp/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry subscriber hashes

        def do_GET(self) -> None:
            traffic.begin()  # _send() counts it out
            fault = traffic.next_fault()
            if traffic.latency:
                time.sleep(traffic.latency)
            if fault is not None:
                status, wait = fault
                headers = {"Retry-After": str(wait)} if wait is not None else {}
                title = "Too Many Requests" if status == 429 else "Service Unavailable"
                self._problem(status, title, "Try again later.", headers)
                return
            if not self._authorized():
                self._problem(
                    401,
                    "API Key Invalid",
                    "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
                )
                return
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            try:
                count = min(int(query.get("count", ["10"])[0]), 1000)
                offset = max(int(query.get("offset", ["0"])[0]), 0)
            except ValueError:
                self._problem(400, "Invalid Resource", "count and offset must be integers.")
                return
            filters = {key: values[0] for key, values in query.items() if key in ("email_address", "customer_id")}
            body = self._route(url.path.rstrip("/"), lambda items: items[offset : offset + count], filters)
            if body is None:
                self._problem(404, "Resource Not Found", "The requested resource could not be found.")
            else:
                self._send(200, "application/json", body)

        def do_POST(self) -> None:
            traffic.begin()
            self._problem(405, "Method Not Allowed", "This fake endpoint is read-only.")

        do_PUT = do_PATCH = do_DELETE = do_POST

        def _route(
            self, path: str, page: Callable[[list[Any]], list[Any]], filters: dict[str, str]
        ) -> dict[str, Any] | None:
            if path == "/3.0/ping":
                return {"health_status": "Everything's Chimpy!"}
            if path == "/3.0/lists":
                lists = list(store.lists.values())
                return _collection("lists", [store.list_object(x) for x in page(lists)], total=len(lists))
            if match := LIST.match(path):
                lst = store.lists.get(match.group(1))
                return store.list_object(lst) if lst else None
            if path.startswith("/3.0/ecommerce/"):
                return self._ecommerce(path, page, filters)
            if not (match := MEMBER.match(path)):
                return None
            list_id, ref, sub = match.groups()
            member = store.member(list_id, ref)
            if member is None:
                return None
            member_id = _md5(member["email_address"].strip().lower())
            if sub is None:
                return store.member_object(list_id, member)
            if sub == "/tags":
                tags = member.get("tags", [])
                return _collection("tags", page(tags), total=len(tags))
            if sub == "/notes":
                notes = member.get("notes", [])
                shown = [store.note_object(list_id, member_id, n) for n in page(notes)]
                return _collection("notes", shown, list_id=list_id, email_id=member_id, total=len(notes))
            if sub == "/events":
                events = member.get("events", [])
                return _collection("events", page(events), total=len(events))
            activity = member.get("activity", [])
            shown = [_activity(a) for a in page(activity)]
            return _collection("activity", shown, email_id=member_id, list_id=list_id, total=len(activity))

        def _ecommerce(
            self, path: str, page: Callable[[list[Any]], list[Any]], filters: dict[str, str]
        ) -> dict[str, Any] | None:
            if store.stores is None:
                return None
            if path == "/3.0/ecommerce/stores":
                stores = list(store.stores.values())
                return _collection("stores", [store.store_object(x) for x in page(stores)], total=len(stores))
            if not (match := STORE.match(path)) or match.group(1) not in store.stores:
                return None
            store_id, what = match.groups()
            customers = store.stores[store_id].get("customers", [])
            if what == "customers":
                wanted = filters.get("email_address", "").lower()
                chosen = [c for c in customers if not wanted or c["email_address"].lower() == wanted]
                shown = [store.customer_object(store_id, c) for c in page(chosen)]
                return _collection("customers", shown, store_id=store_id, total=len(chosen))
            wanted = filters.get("customer_id", "")
            orders = [(c, o) for c in customers if not wanted or c["id"] == wanted for o in c.get("orders", [])]
            shown = [store.order_object(store_id, c, o) for c, o in page(orders)]
            return _collection("orders", shown, store_id=store_id, total=len(orders))

        def _authorized(self) -> bool:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                _, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return password == api_key

        def _problem(self, status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> None:
            self._send(
                status,
                "application/problem+json",
                {
                    "type": ERRORS_DOC,
                    "title": title,
                    "status": status,
                    "detail": detail,
                    "instance": str(uuid.uuid4()),
                },
                headers,
            )

        def _send(
            self, status: int, content_type: str, body: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            # Out of the count before the client can read the answer and reuse its connection slot,
            # so that the peak never counts one client connection twice.
            traffic.end()
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients at once (the connection-cap test) must not be refused by a short listen queue.
    request_queue_size = 64


class MailchimpServer:
    """A running fake endpoint; `close()` (or leaving the `with` block) stops it."""

    def __init__(self, httpd: ThreadingHTTPServer, traffic: _Traffic) -> None:
        self._httpd = httpd
        self._traffic = traffic
        host, port = httpd.server_address[:2]
        if not isinstance(host, str):
            raise TypeError(f"the fake Mailchimp needs an IP address to listen on, not {host!r}")
        self.base_url = f"http://{host}:{port}/3.0"
        self._thread = threading.Thread(target=httpd.serve_forever, name="fake-mailchimp", daemon=True)
        self._thread.start()

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests with `status` (429 or 5xx), with `Retry-After` when given."""
        with self._traffic.lock:
            self._traffic.faults.extend([(status, retry_after)] * times)

    @property
    def requests(self) -> int:
        """Requests answered so far, failures included."""
        return self._traffic.requests

    @property
    def peak_in_flight(self) -> int:
        """The most requests answered at once: each holds one of the client's connections."""
        return self._traffic.peak

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> MailchimpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_mailchimp(
    data: dict[str, Any], api_key: str, host: str = "127.0.0.1", port: int = 0, *, latency: float = 0.0
) -> MailchimpServer:
    """Start serving `data` (the format above) in a daemon thread; port 0 picks a free one."""
    traffic = _Traffic(latency)
    httpd = _HTTPServer((host, port), _handler(_Store(data), api_key, traffic))
    return MailchimpServer(httpd, traffic)
