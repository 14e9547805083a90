"""A local Mailchimp-compatible HTTP endpoint for the demo and the tests.

It serves, read-only and in the Marketing API v3's JSON shapes:

    GET /3.0/lists                                         paged (count, offset)
    GET /3.0/lists/{list_id}
    GET /3.0/lists/{list_id}/members/{subscriber_hash}     hash = md5(lower-cased email); the email works too
    GET /3.0/lists/{list_id}/members/{hash}/tags           paged
    GET /3.0/lists/{list_id}/members/{hash}/activity-feed  paged

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

Activity items come back in the activity-feed shape: `action` as
`activity_type`, `timestamp` as `created_at_timestamp`, `title` as
`campaign_title`; other keys pass through.

    with serve_mailchimp(data, api_key="demo-us1") as server:
        server.base_url   # "http://127.0.0.1:PORT/3.0"
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"
MEMBER = re.compile(r"^/3\.0/lists/([^/]+)/members/([^/]+)(/tags|/activity-feed)?$")
LIST = re.compile(r"^/3\.0/lists/([^/]+)$")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class _Store:
    """The data file, indexed and turned into API objects."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.lists: dict[str, dict[str, Any]] = {}
        self.members: dict[tuple[str, str], dict[str, Any]] = {}
        for lst in data.get("lists", []):
            self.lists[lst["id"]] = lst
            for member in lst.get("members", []):
                self.members[(lst["id"], _md5(member["email_address"].strip().lower()))] = member

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
        return {
            "id": member_id,
            "email_address": email,
            "unique_email_id": _md5(list_id + member_id)[:10],
            "contact_id": _md5("contact" + member_id),
            "full_name": " ".join(v for v in (merge.get("FNAME"), merge.get("LNAME")) if v),
            "email_type": "html",
            "status": m.get("status", "subscribed"),
            "merge_fields": merge,
            "ip_signup": m.get("ip_signup", ""),
            "timestamp_signup": m.get("timestamp_signup", ""),
            "language": m.get("language", ""),
            "list_id": list_id,
            "tags_count": len(tags),
            "tags": [{"id": t["id"], "name": t["name"]} for t in tags],
            "_links": [{"rel": "self", "href": f"/3.0/lists/{list_id}/members/{member_id}", "method": "GET"}],
        }


def _activity(item: dict[str, Any]) -> dict[str, Any]:
    renamed = {"action": "activity_type", "timestamp": "created_at_timestamp", "title": "campaign_title"}
    return {renamed.get(key, key): value for key, value in item.items()}


def _handler(store: _Store, api_key: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "fake-mailchimp/1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry subscriber hashes

        def do_GET(self) -> None:
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
            body = self._route(url.path.rstrip("/"), lambda items: items[offset : offset + count])
            if body is None:
                self._problem(404, "Resource Not Found", "The requested resource could not be found.")
            else:
                self._send(200, "application/json", body)

        def do_POST(self) -> None:
            self._problem(405, "Method Not Allowed", "This fake endpoint is read-only.")

        do_PUT = do_PATCH = do_DELETE = do_POST

        def _route(self, path: str, page: Callable[[list[Any]], list[Any]]) -> dict[str, Any] | None:
            if path == "/3.0/lists":
                lists = list(store.lists.values())
                return {"lists": [store.list_object(x) for x in page(lists)], "total_items": len(lists), "_links": []}
            if match := LIST.match(path):
                lst = store.lists.get(match.group(1))
                return store.list_object(lst) if lst else None
            if not (match := MEMBER.match(path)):
                return None
            list_id, ref, sub = match.groups()
            member = store.member(list_id, ref)
            if member is None:
                return None
            if sub is None:
                return store.member_object(list_id, member)
            if sub == "/tags":
                tags = member.get("tags", [])
                return {"tags": page(tags), "total_items": len(tags), "_links": []}
            activity = member.get("activity", [])
            return {
                "activity": [_activity(a) for a in page(activity)],
                "email_id": _md5(member["email_address"].strip().lower()),
                "list_id": list_id,
                "total_items": len(activity),
                "_links": [],
            }

        def _authorized(self) -> bool:
            scheme, _, token = self.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "basic":
                return False
            try:
                _, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return password == api_key

        def _problem(self, status: int, title: str, detail: str) -> None:
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
            )

        def _send(self, status: int, content_type: str, body: dict[str, Any]) -> None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


class MailchimpServer:
    """A running fake endpoint; `close()` (or leaving the `with` block) stops it."""

    def __init__(self, httpd: ThreadingHTTPServer) -> None:
        self._httpd = httpd
        host, port = httpd.server_address[:2]
        if not isinstance(host, str):
            raise TypeError(f"the fake Mailchimp needs an IP address to listen on, not {host!r}")
        self.base_url = f"http://{host}:{port}/3.0"
        self._thread = threading.Thread(target=httpd.serve_forever, name="fake-mailchimp", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> MailchimpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_mailchimp(data: dict[str, Any], api_key: str, host: str = "127.0.0.1", port: int = 0) -> MailchimpServer:
    """Start serving `data` (the format above) in a daemon thread; port 0 picks a free one."""
    httpd = ThreadingHTTPServer((host, port), _handler(_Store(data), api_key))
    httpd.daemon_threads = True
    return MailchimpServer(httpd)
