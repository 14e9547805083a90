"""MailchimpSource through httpx.MockTransport, and over HTTP against the fake server."""

import base64
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest

from extractors.errors import SourceConfigError, SourceUnavailable
from extractors.mailchimp import MailchimpSource, subscriber_hash
from extractors.records import Subject
from flows.demo.mailchimp_server import serve_mailchimp

KEY = "0123456789abcdef-us21"
ENV = {"MC_KEY": KEY}
SUBJECT = Subject("Matti@Example.fi")
HASH = "3836a39dbde344b50b9eba95790a38b5"  # md5("matti@example.fi"), computed independently
SETTINGS = {"base_url": "https://us21.api.mailchimp.com/3.0", "api_key_env": "MC_KEY"}

MEMBER = {"id": HASH, "email_address": "matti@example.fi", "status": "subscribed",
          "merge_fields": {"FNAME": "Matti"}, "list_id": "L1", "_links": [{"rel": "self"}]}
NOT_FOUND = {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": "Resource Not Found",
             "status": 404, "detail": "The requested resource could not be found.", "instance": "x"}


def api(routes: Mapping[str, object], seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    """A Mailchimp stand-in: path -> JSON body, or an int status; unknown paths are 404."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        user_pass = base64.b64decode(request.headers["authorization"].split()[1]).decode()
        if user_pass.partition(":")[2] != KEY:
            return httpx.Response(401, json={"title": "API Key Invalid", "status": 401})
        answer = routes.get(request.url.path, 404)
        if isinstance(answer, int):
            return httpx.Response(answer, json={**NOT_FOUND, "status": answer})
        if callable(answer):
            return answer(request)
        return httpx.Response(200, json=answer)

    return httpx.MockTransport(handle)


def source(routes: Mapping[str, object], settings=None, env=ENV, seen=None, sleeps=None) -> MailchimpSource:
    return MailchimpSource("marketing", {**SETTINGS, **(settings or {})}, Path("."), env, transport=api(routes, seen),
                           sleep=(sleeps if sleeps is not None else []).append)


def paged(items_key: str, items: list[dict]):
    def answer(request: httpx.Request) -> httpx.Response:
        count = int(request.url.params["count"])
        offset = int(request.url.params["offset"])
        return httpx.Response(200, json={items_key: items[offset : offset + count], "total_items": len(items)})

    return answer


def test_subscriber_hash_is_md5_of_the_lowercased_email() -> None:
    assert subscriber_hash(" Matti@Example.FI ") == HASH


def test_member_tags_and_activity_from_every_list() -> None:
    base = f"/3.0/lists/L1/members/{HASH}"
    routes = {
        "/3.0/lists": {"lists": [{"id": "L1"}, {"id": "L2"}], "total_items": 2},
        base: MEMBER,
        f"{base}/tags": {"tags": [{"id": 7, "name": "asiakas", "date_added": "2024-01-01T00:00:00+00:00"}],
                         "total_items": 1},
        f"{base}/activity-feed": {"activity": [
            {"activity_type": "open", "created_at_timestamp": "2024-04-02T08:15:00+00:00", "campaign_id": "c1"},
            {"activity_type": "open", "created_at_timestamp": "2024-04-02T08:15:00+00:00", "campaign_id": "c1"},
            {"activity_type": "click", "created_at_timestamp": "2024-04-02T08:16:00+00:00", "_links": []},
        ], "total_items": 3},
        # L2: the subject is not a member -> 404 -> nothing
    }
    records = list(source(routes).records(SUBJECT))
    assert [(r.category, r.key, r.provided, r.about_subject) for r in records] == [
        ("member", f"L1:{HASH}", True, True),  # found by the subject's address: it describes them
        ("tags", f"L1:{HASH}:7", False, False),
        ("activity", f"L1:{HASH}:2024-04-02T08:15:00+00:00:open:1", False, False),
        ("activity", f"L1:{HASH}:2024-04-02T08:15:00+00:00:open:2", False, False),
        ("activity", f"L1:{HASH}:2024-04-02T08:16:00+00:00:click:1", False, False),
    ]
    assert "_links" not in records[0].data and "_links" not in records[4].data
    assert records[0].data["merge_fields"] == {"FNAME": "Matti"}
    assert records[1].data == {"list_id": "L1", "email_address": "matti@example.fi", "id": 7, "name": "asiakas",
                               "date_added": "2024-01-01T00:00:00+00:00"}


def test_lists_and_tags_are_paged() -> None:
    lists = [{"id": f"L{i}"} for i in range(1001)]
    tags = [{"id": i, "name": f"t{i}"} for i in range(1500)]
    seen: list[httpx.Request] = []
    routes = {"/3.0/lists": paged("lists", lists), f"/3.0/lists/L1000/members/{HASH}": MEMBER,
              f"/3.0/lists/L1000/members/{HASH}/tags": paged("tags", tags)}
    records = list(source(routes, seen=seen).records(SUBJECT))
    assert sum(r.category == "tags" for r in records) == 1500
    assert len({r.key for r in records}) == len(records)
    assert sum(r.url.path == "/3.0/lists" for r in seen) == 2


def test_configured_lists_only_and_a_wrong_list_id_is_named() -> None:
    seen: list[httpx.Request] = []
    routes = {"/3.0/lists/L1": {"id": "L1"}, f"/3.0/lists/L1/members/{HASH}": MEMBER}
    records = list(source(routes, {"list_ids": ["L1"]}, seen=seen).records(SUBJECT))
    assert [r.category for r in records] == ["member"]
    assert all(r.url.path != "/3.0/lists" for r in seen)
    with pytest.raises(SourceConfigError, match="list 'L9' not found") as caught:
        list(source(routes, {"list_ids": ["L9"]}).records(SUBJECT))
    assert caught.value.key == "list_ids"


@pytest.mark.parametrize(("status", "message"), [
    (401, "refused the API key \\(HTTP 401\\)"),
    (403, "refused the API key \\(HTTP 403\\)"),
    (400, "rejected the request \\(HTTP 400\\)"),
])
def test_refusals_are_unavailable_at_once(status: int, message: str) -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    with pytest.raises(SourceUnavailable, match=f"^source marketing: marketing platform {message}$"):
        list(source({"/3.0/lists": status}, seen=seen, sleeps=sleeps).records(SUBJECT))
    assert (len(seen), sleeps) == (1, [])  # a refusal is not worth a retry


@pytest.mark.parametrize(("status", "message"), [
    (500, "unreachable \\(HTTP 500\\)"),
    (503, "unreachable \\(HTTP 503\\)"),
    (429, "rate limit reached \\(HTTP 429\\)"),
])
def test_server_errors_are_retried_with_growing_waits_then_unavailable(status: int, message: str) -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    with pytest.raises(SourceUnavailable, match=f"{message}; gave up after 6 attempts$"):
        list(source({"/3.0/lists": status}, seen=seen, sleeps=sleeps).records(SUBJECT))
    assert len(seen) == 6 and len(sleeps) == 5  # max_retries = 5 by default
    # Exponential backoff with jitter: the n-th wait lies in [0.25, 0.5] * 2**n seconds.
    assert all(0.25 * 2**n <= wait <= 0.5 * 2**n for n, wait in enumerate(sleeps)), sleeps


def test_retry_after_is_honoured_and_the_total_wait_is_bounded() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}, json={"status": 429}),
                    httpx.Response(200, json={"lists": [], "total_items": 0})])
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    assert list(source({"/3.0/lists": lambda r: next(answers)}, {"ecommerce": False}, seen=seen,
                       sleeps=sleeps).records(SUBJECT)) == []
    assert (len(seen), sleeps) == (2, [7.0])

    # A server that asks for more than max_wait_seconds: give up rather than stall the request.
    sleeps.clear()
    slow = lambda r: httpx.Response(429, headers={"Retry-After": "3600"}, json={"status": 429})  # noqa: E731
    with pytest.raises(SourceUnavailable, match=r"HTTP 429\); gave up after 1 attempt$"):
        list(source({"/3.0/lists": slow}, {"max_wait_seconds": 60}, sleeps=sleeps).records(SUBJECT))
    assert sleeps == []
    with pytest.raises(SourceUnavailable, match=r"gave up after 1 attempt$"):
        list(source({"/3.0/lists": 503}, {"max_retries": 0}, sleeps=sleeps).records(SUBJECT))


def test_network_error_is_retried_and_names_no_url() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    sleeps: list[float] = []
    src = MailchimpSource("marketing", SETTINGS, Path("."), ENV, transport=httpx.MockTransport(fail),
                          sleep=sleeps.append)
    with pytest.raises(SourceUnavailable) as caught:
        list(src.records(SUBJECT))
    assert str(caught.value) == "source marketing: marketing platform unreachable; gave up after 6 attempts"
    assert caught.value.__cause__ is None and caught.value.__context__ is None and len(sleeps) == 5


def test_not_json_is_unavailable() -> None:
    routes = {"/3.0/lists": lambda request: httpx.Response(200, text="<html>maintenance</html>")}
    with pytest.raises(SourceUnavailable, match="not a JSON object"):
        list(source(routes).records(SUBJECT))


@pytest.mark.parametrize(("settings", "env", "key", "message"), [
    ({}, {}, "api_key_env", "environment variable MC_KEY is not set"),
    ({"base_url": "us21.api.mailchimp.com"}, ENV, "base_url", "pattern"),
    ({"timeout_seconds": 0}, ENV, "timeout_seconds", "greater than 0"),
    ({"list_ids": ["../x"]}, ENV, "list_ids.0", "pattern"),
    ({"max_connections": 11}, ENV, "max_connections", "less than or equal to 10"),
    ({"max_retries": -1}, ENV, "max_retries", "greater than or equal to 0"),
    ({"page_size": 1001}, ENV, "page_size", "less than or equal to 1000"),
    ({"max_wait_seconds": 0}, ENV, "max_wait_seconds", "greater than 0"),
    ({"lists": ["a"]}, ENV, "lists", "unknown key"),
])
def test_bad_settings_name_the_key(settings, env, key, message) -> None:
    with pytest.raises(SourceConfigError, match=message) as caught:
        MailchimpSource("marketing", {**SETTINGS, **settings}, Path("."), env)
    assert caught.value.key == key


DATA = {"lists": [
    {"id": "a1b2c3d4e5", "name": "Uutiskirje", "members": [
        {"email_address": "matti@example.fi", "status": "subscribed",
         "merge_fields": {"FNAME": "Matti", "LNAME": "Meikäläinen"}, "ip_signup": "192.0.2.10",
         "timestamp_signup": "2024-03-01T10:00:00Z", "language": "fi",
         "tags": [{"id": 1, "name": "asiakas", "date_added": "2024-03-01T10:00:00Z"}],
         "activity": [{"action": "open", "timestamp": "2024-04-02T08:15:00Z", "campaign_id": "c0ffee1234",
                       "title": "Huhtikuun uutiskirje"}]},
        {"email_address": "teppo@example.fi", "status": "unsubscribed", "merge_fields": {"FNAME": "Teppo"}},
    ]},
    {"id": "f6e5d4c3b2", "name": "Tarjoukset", "members": []},
]}


def test_against_the_fake_server_over_http(capfd: pytest.CaptureFixture[str]) -> None:
    with serve_mailchimp(DATA, api_key=KEY) as server:
        assert server.base_url.endswith("/3.0")
        settings = {"base_url": server.base_url, "api_key_env": "MC_KEY"}
        found = list(MailchimpSource("marketing", settings, Path("."), ENV).records(SUBJECT))
        nobody = list(MailchimpSource("marketing", settings, Path("."), ENV).records(Subject("x@example.fi")))
        wrong = MailchimpSource("marketing", settings, Path("."), {"MC_KEY": "wrong"})
        with pytest.raises(SourceUnavailable, match="HTTP 401"):
            list(wrong.records(SUBJECT))
    assert [(r.category, r.key) for r in found] == [
        ("member", f"a1b2c3d4e5:{HASH}"), ("tags", f"a1b2c3d4e5:{HASH}:1"),
        ("activity", f"a1b2c3d4e5:{HASH}:2024-04-02T08:15:00Z:open:1"),
    ]
    member = found[0].data
    assert member["email_address"] == "matti@example.fi" and member["list_id"] == "a1b2c3d4e5"
    assert member["merge_fields"]["LNAME"] == "Meikäläinen" and member["tags_count"] == 1
    assert found[2].data["campaign_title"] == "Huhtikuun uutiskirje"
    assert "teppo" not in "".join(r.to_json() for r in found)
    assert nobody == []
    out, err = capfd.readouterr()
    assert HASH not in out + err and "matti" not in out + err


def test_fake_server_speaks_mailchimp_shapes() -> None:
    with serve_mailchimp(DATA, api_key=KEY) as server, httpx.Client(base_url=server.base_url + "/") as client:
        lists = client.get("lists", params={"count": 1, "offset": 1}, auth=("any", KEY)).json()
        missing = client.get(f"lists/a1b2c3d4e5/members/{'0' * 32}", auth=("any", KEY))
        refused = client.get("lists", auth=("any", "nope"))
        by_email = client.get("lists/a1b2c3d4e5/members/Matti@Example.fi", auth=("any", KEY)).json()
    assert lists["total_items"] == 2 and [x["id"] for x in lists["lists"]] == ["f6e5d4c3b2"]
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    assert set(missing.json()) == {"type", "title", "status", "detail", "instance"}
    assert refused.status_code == 401 and refused.json()["status"] == 401
    assert by_email["id"] == HASH and set(by_email) >= {
        "id", "email_address", "unique_email_id", "status", "merge_fields", "ip_signup", "timestamp_signup",
        "language", "list_id", "tags_count", "_links"}
