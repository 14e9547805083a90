"""MailchimpSource over HTTP against the local Mailchimp-compatible endpoint, in the API reference's shapes."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from extractors.errors import SourceUnavailable
from extractors.mailchimp import MailchimpSource, subscriber_hash
from extractors.records import EMAIL, Identifier, Record, Subject
from flows.demo.mailchimp_server import serve_mailchimp

KEY = "0123456789abcdef-us21"
ENV = {"MC_KEY": KEY}
HOME, WORK = "matti@example.fi", "matti.m@tyo.example"
# The verified address and one a trusted source (the customer row) holds.
SUBJECT = Subject("Matti@Example.fi", also=(Identifier(EMAIL, WORK, "customers", "customer", "alt_email"),))
H_HOME, H_WORK = subscriber_hash(HOME), subscriber_hash(WORK)

CONSENT = [
    {"marketing_permission_id": "a1b2c3", "text": "Sähköposti", "enabled": True},
    {"marketing_permission_id": "d4e5f6", "text": "Kohdennettu mainonta verkossa", "enabled": False},
]
ORDER: dict[str, Any] = {"id": "1001", "currency_code": "EUR", "order_total": 59.8, "financial_status": "paid",
         "processed_at_foreign": "2024-05-02T10:00:00+00:00",
         "shipping_address": {"name": "Liisa Lahja", "address1": "Kuja 1", "city": "Tampere"},
         "lines": [{"id": "l1", "product_id": "p1", "product_title": "Villasukat", "quantity": 2, "price": 29.9}]}


def data() -> dict[str, Any]:
    return copy.deepcopy({
        "lists": [
            {"id": "L2", "name": "Tarjoukset", "members": [  # the work address only
                {"email_address": WORK, "status": "subscribed", "merge_fields": {"FNAME": "Matti"}}]},
            {"id": "L1", "name": "Uutiskirje", "members": [
                {"email_address": "Matti@Example.fi", "status": "subscribed",
                 "merge_fields": {"FNAME": "Matti", "LNAME": "Meikäläinen"},
                 "interests": {"9143cf3bd1": True, "3a2a927344": False},
                 "location": {"latitude": 61.5, "longitude": 23.8, "country_code": "FI", "timezone": "Europe/Helsinki"},
                 "marketing_permissions": CONSENT,
                 "tags": [{"id": 1, "name": "asiakas", "date_added": "2024-03-01T10:00:00Z"}],
                 "notes": [{"id": 41, "note": "Pyysi paperilaskun", "created_at": "2024-03-05T09:00:00+00:00",
                            "created_by": "Asiakaspalvelu"}],
                 "events": [{"name": "signup", "occurred_at": "2024-03-01T10:00:00+00:00", "properties": {}},
                            {"name": "viewed", "occurred_at": "2024-03-01T10:00:00+00:00",
                             "properties": {"page": "/villasukat"}},
                            {"name": "viewed", "occurred_at": "2024-03-01T10:00:00+00:00",
                             "properties": {"page": "/villasukat"}}],
                 "activity": [{"action": "open", "timestamp": "2024-04-02T08:15:00Z", "campaign_id": "c0ffee1234",
                               "title": "Huhtikuun uutiskirje"}]},
                {"email_address": "teppo@example.fi", "status": "subscribed", "merge_fields": {"FNAME": "Teppo"}}]},
            {"id": "L3", "name": "Kumppanit", "members": [  # the subject is not here
                {"email_address": "teppo@example.fi", "status": "subscribed"}]},
        ],
        "stores": [
            {"id": "verkkokauppa", "list_id": "L1", "name": "Demokauppa", "currency_code": "EUR", "customers": [
                {"id": "c-teppo", "email_address": "teppo@example.fi", "first_name": "Teppo",
                 "orders": [{**ORDER, "id": "2002"}]},
                {"id": "c-matti", "email_address": "MATTI@example.fi", "first_name": "Matti",
                 "last_name": "Meikäläinen", "opt_in_status": True,
                 "address": {"address1": "Hämeenkatu 1", "city": "Tampere", "country_code": "FI"},
                 "orders": [ORDER, {**ORDER, "id": "1002", "order_total": 12.5, "lines": []}]}]},
            {"id": "popup", "list_id": "L1", "name": "Pop-up", "customers": []},
        ],
    })


def source(server, sleeps: list[float] | None = None, **settings: Any) -> MailchimpSource:
    section = {"base_url": server.base_url, "api_key_env": "MC_KEY", **settings}
    return MailchimpSource("marketing", section, Path("."), ENV, sleep=(sleeps if sleeps is not None else []).append)


def keys(records: list[Record]) -> list[tuple[str, str]]:
    return [(r.category, r.key) for r in records]


def test_every_address_in_every_list_with_notes_events_consent_and_orders() -> None:
    with serve_mailchimp(data(), api_key=KEY) as server:
        records = list(source(server).records(SUBJECT))
    assert keys(records) == [
        ("member", f"L1:{H_HOME}"),
        ("marketing_permissions", f"L1:{H_HOME}:a1b2c3"),
        ("marketing_permissions", f"L1:{H_HOME}:d4e5f6"),
        ("tags", f"L1:{H_HOME}:1"),
        ("notes", f"L1:{H_HOME}:41"),
        ("activity", f"L1:{H_HOME}:2024-04-02T08:15:00Z:open:1"),
        ("events", f"L1:{H_HOME}:2024-03-01T10:00:00+00:00:signup:1"),
        ("events", f"L1:{H_HOME}:2024-03-01T10:00:00+00:00:viewed:1"),
        ("events", f"L1:{H_HOME}:2024-03-01T10:00:00+00:00:viewed:2"),
        ("member", f"L2:{H_WORK}"),  # found only by the second address
        ("ecommerce_customer", "verkkokauppa:c-matti"),
        ("ecommerce_orders", "verkkokauppa:1001"),
        ("ecommerce_orders", "verkkokauppa:1002"),
    ]
    by_key = {r.key: r for r in records}
    home, work = by_key[f"L1:{H_HOME}"].data, by_key[f"L2:{H_WORK}"].data
    # Each member says which of the subject's addresses it was found by.
    assert (home["email_address"], work["email_address"]) == ("Matti@Example.fi", WORK)
    assert home["marketing_permissions"] == CONSENT and home["interests"] == {"9143cf3bd1": True, "3a2a927344": False}
    assert home["location"]["country_code"] == "FI" and home["last_note"]["note"] == "Pyysi paperilaskun"
    consent = by_key[f"L1:{H_HOME}:d4e5f6"]
    assert consent.data == {"list_id": "L1", "email_address": "Matti@Example.fi", **CONSENT[1]}
    assert by_key[f"L1:{H_HOME}:41"].data["created_by"] == "Asiakaspalvelu"
    assert by_key["verkkokauppa:c-matti"].about_subject and by_key["verkkokauppa:c-matti"].data["orders_count"] == 2
    order = by_key["verkkokauppa:1001"].data
    assert order["customer"]["id"] == "c-matti" and order["lines"] == ORDER["lines"]
    # A gift's recipient sits in the order: redaction must look at it.
    assert not by_key["verkkokauppa:1001"].about_subject
    text = "".join(r.to_json() for r in records)
    assert "teppo" not in text.lower() and "2002" not in text and "_links" not in text


def test_the_same_data_gives_the_same_records_in_the_same_order() -> None:
    with serve_mailchimp(data(), api_key=KEY, latency=0.002) as server:
        runs = [[r.to_json() for r in source(server).records(SUBJECT)] for _ in range(3)]
    assert runs[0] == runs[1] == runs[2] and len(runs[0]) == 13


def test_collections_are_read_over_several_pages() -> None:
    d = data()
    d["lists"] += [{"id": f"M{i:02d}", "members": []} for i in range(7)]
    member = d["lists"][1]["members"][0]
    member["activity"] = [{"action": "open", "timestamp": f"2024-04-{day:02d}T08:00:00Z", "campaign_id": "c"}
                          for day in range(1, 12)]
    member["tags"] = [{"id": i, "name": f"t{i}"} for i in range(5)]
    with serve_mailchimp(d, api_key=KEY) as server:
        records = list(source(server, page_size=3).records(SUBJECT))
        requests = server.requests
    activity = [r.data["created_at_timestamp"] for r in records if r.category == "activity"]
    assert activity == [f"2024-04-{day:02d}T08:00:00Z" for day in range(1, 12)]  # 4 pages of 3
    assert sum(r.category == "tags" for r in records) == 5
    assert len({(r.category, r.key) for r in records}) == len(records)
    # lists: 4 pages; 10 lists x 2 addresses; L1's member: tags 2, notes 1, feed 4, events 1; L2's: 4 empty
    # collections; stores 1, each store's customers per address 2 x 2, orders 1
    assert requests == 4 + 20 + 8 + 4 + 1 + 4 + 1


def test_rate_limit_with_retry_after_is_waited_out_and_retried() -> None:
    with serve_mailchimp(data(), api_key=KEY) as server:
        expected = [r.to_json() for r in source(server).records(SUBJECT)]
        baseline = server.requests
        server.fail_next(429, retry_after=2)
        sleeps: list[float] = []
        again = [r.to_json() for r in source(server, sleeps).records(SUBJECT)]
        assert server.requests == 2 * baseline + 1  # the refused request came again
    assert again == expected and sleeps == [2.0]


def test_unavailable_server_is_retried_then_named_by_its_status() -> None:
    with serve_mailchimp(data(), api_key=KEY) as server:
        server.fail_next(503, times=2)
        sleeps: list[float] = []
        assert len(list(source(server, sleeps).records(SUBJECT))) == 13
        assert len(sleeps) == 2
        server.fail_next(503, times=3)
        with pytest.raises(SourceUnavailable) as caught:
            list(source(server, max_retries=2).records(SUBJECT))
    message = str(caught.value)
    assert message == "source marketing: marketing platform unreachable (HTTP 503); gave up after 3 attempts"


def test_a_wrong_api_key_is_one_clear_error() -> None:
    with serve_mailchimp(data(), api_key=KEY) as server:
        wrong = MailchimpSource("marketing", {"base_url": server.base_url, "api_key_env": "MC_KEY"}, Path("."),
                                {"MC_KEY": "wrong-us21"}, sleep=lambda seconds: None)
        with pytest.raises(SourceUnavailable) as caught:
            list(wrong.records(SUBJECT))
        assert server.requests == 1
    assert str(caught.value) == "source marketing: marketing platform refused the API key (HTTP 401)"


def test_an_account_without_ecommerce_is_not_an_error() -> None:
    d = data()
    del d["stores"]
    with serve_mailchimp(d, api_key=KEY) as server:
        records = list(source(server).records(SUBJECT))
        skipped = list(source(server, ecommerce=False).records(SUBJECT))
    assert [r.category for r in records if r.category.startswith("ecommerce")] == []
    assert keys(records) == keys(skipped) and len(records) == 10


def test_at_most_ten_connections_however_many_lists() -> None:
    d = data()
    d["lists"] += [{"id": f"X{i:03d}", "members": [{"email_address": HOME}]} for i in range(30)]
    with serve_mailchimp(d, api_key=KEY, latency=0.005) as server:
        records = list(source(server).records(SUBJECT))
        peak = server.peak_in_flight
        with serve_mailchimp(d, api_key=KEY, latency=0.005) as narrow:
            assert len(list(source(narrow, max_connections=3).records(SUBJECT))) == len(records)
            narrow_peak = narrow.peak_in_flight
    assert sum(r.category == "member" for r in records) == 32
    assert [r.key.split(":")[0] for r in records if r.category == "member"] == sorted(
        ["L1", "L2", *(f"X{i:03d}" for i in range(30))])
    # Lookups overlapped (more than one connection) but never past the cap.
    assert 1 < peak <= 10, peak
    assert 1 < narrow_peak <= 3, narrow_peak


def test_no_address_or_hash_in_what_the_source_prints(capfd: pytest.CaptureFixture[str]) -> None:
    with serve_mailchimp(data(), api_key=KEY) as server:
        server.fail_next(503)
        list(source(server).records(SUBJECT))
    out, err = capfd.readouterr()
    assert not any(value in out + err for value in (H_HOME, H_WORK, "matti", json.dumps(WORK)))
