"""Links with a policy, downloaded over HTTP from the portal's file route, with the real request store and ledger."""

import dataclasses
import hashlib
import json
import logging
import threading
from datetime import timedelta

import httpx
import pytest

from audit.verify import verify_ledger
from exports.links import issue_link
from exports.storage import LocalStorage
from flows import downloads, stages
from flows.demo.run import prepare_demo, write_demo_config
from flows.errors import NoPackage, RequestClosed
from flows.portal.app import make_app
from flows.portal.server import serving
from tests.flows.delivered import clocked_runtime, deliver, mailed_link


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    company, _ = prepare_demo(tmp_path_factory.mktemp("links") / "demo")
    return write_demo_config(company, "http://127.0.0.1:9/3.0")


@pytest.fixture
def rt(config):
    return clocked_runtime(config)


@pytest.fixture
def base(rt):
    with serving(make_app(rt, start=lambda request_id: None)) as url:
        yield url


def downloads_of(rt, request_id: str) -> list[dict]:
    return [e.detail for e in rt.ledger.events(request_id) if e.action == "download"]


NOT_FOUND = (404, "the portal's one page for every refusal")


def get(url: str, **headers: str) -> tuple[int, bytes | str]:
    """GET the file behind the download page `url`; a 404 is checked to be the neutral page and named NOT_FOUND."""
    response = httpx.get(f"{url}/file", headers=headers, timeout=30)
    if response.status_code == 404:
        neutral = httpx.get(f"{url.rsplit('/download/', 1)[0]}/download/nothing/file", timeout=30)
        assert response.text == neutral.text, "a refusal told more than an unknown token"
        return NOT_FOUND
    return response.status_code, response.content


def test_three_downloads_then_404_each_one_in_the_ledger(rt, base, caplog):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    with caplog.at_level(logging.DEBUG):
        assert [get(url) for _ in range(3)] == [(200, data)] * 3
        assert get(url) == NOT_FOUND
    [link] = rt.store.links_of(request_id)
    assert link.downloads_left == 0 and link.package_sha256 == hashlib.sha256(data).hexdigest()
    assert [d["downloads_left"] for d in downloads_of(rt, request_id)] == [2, 1, 0]
    assert {d["link"] for d in downloads_of(rt, request_id)} == {downloads.link_ref(link.jti)}
    assert verify_ledger(rt.ledger.events(), rt.ledger_public_key) == len(list(rt.ledger.events()))

    # Neither the log nor the ledger holds the token, the link id, an address or the requester.
    token = url.rsplit("/", 1)[1]
    ledger = json.dumps([[e.actor, e.action, e.detail] for e in rt.ledger.events(request_id)])
    # The server's side: dsar's, uvicorn's and Starlette's loggers (the test's own httpx logs its URLs).
    served = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    for secret in (token, link.jti, rt.store.get(request_id).email, "127.0.0.1", "Aino", "/download"):
        assert secret not in ledger and secret not in served
    assert served.count("GET file 200") == 3 and served.count("GET file 404") == 2


def test_an_expired_link_is_404(rt, base):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    rt.clock.now += timedelta(hours=rt.config.delivery.link_hours) - timedelta(seconds=5)
    assert get(url) == (200, data)
    rt.clock.now += timedelta(seconds=5)
    assert get(url) == NOT_FOUND
    assert rt.store.links_of(request_id)[0].downloads_left == 2


def test_a_revoked_link_is_404(rt, base):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    assert get(url) == (200, data)
    assert downloads.revoke(rt, request_id) == 1
    assert get(url) == NOT_FOUND
    assert [e.detail for e in rt.ledger.events(request_id) if e.action == "links_revoked"] == [{"count": 1}]


def test_editing_the_links_table_brings_no_link_back(rt, base):
    """Someone who can write the database un-revokes a link, or gives a used-up one more downloads: the ledger,
    which they cannot rewrite unseen, still says no."""
    from sqlalchemy import text

    revoked_id, _ = deliver(rt)
    revoked = mailed_link(rt, f"{revoked_id}-link", base)
    downloads.revoke(rt, revoked_id)
    used_id, _ = deliver(rt)
    used = mailed_link(rt, f"{used_id}-link", base)
    assert [get(used)[0] for _ in range(3)] == [200] * 3
    with rt.store.engine.begin() as conn:
        conn.execute(text("UPDATE links SET revoked_at = NULL, downloads_left = 1000 "
                          "WHERE request_id IN (:a, :b)"), {"a": revoked_id, "b": used_id})
    assert get(revoked) == NOT_FOUND
    assert get(used) == NOT_FOUND
    assert len(downloads_of(rt, used_id)) == 3 and downloads_of(rt, revoked_id) == []


def test_a_reissued_link_works_and_the_old_one_is_dead(rt, base):
    request_id, data = deliver(rt)
    old = mailed_link(rt, f"{request_id}-link", base)
    assert get(old) == (200, data)
    rt.clock.now += timedelta(days=2)
    link = downloads.reissue(rt, request_id)
    [mail] = [p.stem for p in (rt.config.base_dir / "outbox").glob(f"{request_id}-link-*.eml")]
    new = mailed_link(rt, mail, base)
    assert new != old and get(old) == NOT_FOUND
    assert [get(new) for _ in range(3)] == [(200, data)] * 3, "a reissued link starts with a full count"
    assert link.expires_at == rt.clock.now + timedelta(hours=rt.config.delivery.link_hours)
    assert not list((rt.config.base_dir / "outbox").glob(f"{request_id}-passphrase*")), "no passphrase re-sent"
    [event] = [e.detail for e in rt.ledger.events(request_id) if e.action == "link_reissued"]
    assert event["revoked"] == 1 and event["link"] == downloads.link_ref(link.jti)


def test_a_closed_request_has_no_working_link_and_no_package(rt, base):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    assert get(url) == (200, data)
    # Closed behind the links' back: the request's state alone stops them.
    rt.store.set_status(request_id, "closed", rt.clock())
    assert get(url) == NOT_FOUND
    with pytest.raises(RequestClosed):
        downloads.reissue(rt, request_id)

    # Closed as the privacy team does: links revoked, package and staging deleted.
    request_id, _ = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    stages.close(rt, request_id, "fulfilled")
    assert get(url) == NOT_FOUND
    assert all(link.revoked_at is not None for link in rt.store.links_of(request_id))
    assert not rt.storage.exists(f"{request_id}/{request_id}.zip.age")
    actions = [e.action for e in rt.ledger.events(request_id)]
    assert actions[-3:] == ["closed", "links_revoked", "package_deleted"]


def test_a_token_for_another_requests_object_is_404(rt, base):
    mine, _ = deliver(rt)
    theirs, _ = deliver(rt)
    [my_link], [their_link] = rt.store.links_of(mine), rt.store.links_of(theirs)
    issued, lifetime = rt.clock(), timedelta(hours=1)
    forged = [
        # My link's id, their object: the object is outside the token's request.
        issue_link(mine, their_link.object_key, rt.link_secret, issued, lifetime, base, jti=my_link.jti),
        # Their request and object, my link's id: the store knows that id for another object.
        issue_link(theirs, their_link.object_key, rt.link_secret, issued, lifetime, base, jti=my_link.jti),
        # A well-signed token the store never recorded.
        issue_link(theirs, their_link.object_key, rt.link_secret, issued, lifetime, base),
    ]
    # Even a link row recorded wrongly cannot reach outside its request.
    rt.store.add_link(dataclasses.replace(my_link, jti="wrong-row", object_key=their_link.object_key))
    forged.append(issue_link(mine, their_link.object_key, rt.link_secret, issued, lifetime, base, jti="wrong-row"))
    assert [get(url) for url in forged] == [NOT_FOUND] * 4
    assert [link.downloads_left for link in (*rt.store.links_of(mine), *rt.store.links_of(theirs))] == [3, 3, 3]


def test_downloads_at_the_same_moment_never_exceed_the_limit(rt, base):
    request_id, data = deliver(rt, size=1_000_000)
    url = mailed_link(rt, f"{request_id}-link", base)
    results = []
    start = threading.Barrier(12)

    def download():
        start.wait()
        results.append(get(url))

    threads = [threading.Thread(target=download) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(status for status, _ in results) == [200] * 3 + [404] * 9
    assert all(body == data for status, body in results if status == 200)
    assert sorted(d["downloads_left"] for d in downloads_of(rt, request_id)) == [0, 1, 2]
    assert verify_ledger(rt.ledger.events(), rt.ledger_public_key) == len(list(rt.ledger.events()))


class PresigningStorage(LocalStorage):
    """Local storage that presigns, as S3 does: the server redirects instead of streaming."""

    def __init__(self, root):
        super().__init__(root)
        self.presigned = []

    def presigned_url(self, key, lifetime):
        self.presigned.append((key, lifetime))
        return f"https://bucket.example/{key}?expires={int(lifetime.total_seconds())}"


def test_a_presigning_storage_gets_a_redirect_that_lives_five_minutes(rt):
    request_id, _ = deliver(rt)
    storage = PresigningStorage(rt.storage.root)
    rt.storage = storage  # the runtime's storage is a cached property: this replaces it for the app
    with serving(make_app(rt, start=lambda request_id: None)) as base:
        url = mailed_link(rt, f"{request_id}-link", base)
        response = httpx.get(f"{url}/file", timeout=30)
    assert response.status_code == 302 and response.headers["cache-control"] == "no-store"
    assert response.headers["location"] == f"https://bucket.example/{request_id}/{request_id}.zip.age?expires=300"
    assert storage.presigned == [(f"{request_id}/{request_id}.zip.age", timedelta(minutes=5))]
    assert [d["downloads_left"] for d in downloads_of(rt, request_id)] == [2]


def test_reissue_needs_a_delivered_request_with_its_package(rt):
    request_id, _ = deliver(rt)
    rt.storage.delete(f"{request_id}/{request_id}.zip.age")
    with pytest.raises(NoPackage, match="deleted"):
        downloads.reissue(rt, request_id)
    waiting = stages.register(rt, "links-waiting@example.fi", "en")
    with pytest.raises(NoPackage, match=f"{waiting.id}: no package to link to \\(it is received, not delivered\\)"):
        downloads.reissue(rt, waiting.id)
    stages.close(rt, waiting.id, "withdrawn")


def test_a_resume_spends_nothing_even_the_last_download_but_needs_a_live_link(rt, base):
    request_id, data = deliver(rt, size=300_000)
    url = mailed_link(rt, f"{request_id}-link", base)
    assert get(url, Range="bytes=100000-") == (206, data[100_000:]), "a first ranged GET is a download too"
    assert [get(url, Range="bytes=1000-1999") for _ in range(5)] == [(206, data[1000:2000])] * 5
    assert [get(url) for _ in range(2)] == [(200, data)] * 2  # from byte 0: spends the two left
    assert get(url) == NOT_FOUND
    assert get(url, Range="bytes=0-") == NOT_FOUND, "a range from byte 0 is a fresh download"
    assert get(url, Range="bytes=250000-") == (206, data[250_000:]), "the last download could not resume"
    assert [d["downloads_left"] for d in downloads_of(rt, request_id)] == [2, 1, 0]
    rt.clock.now += downloads.RESUME_WINDOW + timedelta(minutes=1)  # the link itself lives on for days
    assert get(url, Range="bytes=250000-") == NOT_FOUND, "a used-up link resumed long after its last download"
    rt.clock.now -= downloads.RESUME_WINDOW
    downloads.revoke(rt, request_id)
    assert get(url, Range="bytes=250000-") == NOT_FOUND


def test_head_never_spends_a_download_and_answers_as_get_would(rt, base):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    heads = [httpx.head(f"{url}/file", timeout=30) for _ in range(5)]
    assert {(h.status_code, h.headers["content-length"], h.content) for h in heads} == {(200, str(len(data)), b"")}
    assert downloads_of(rt, request_id) == []
    assert [get(url) for _ in range(3)] == [(200, data)] * 3
    assert httpx.head(f"{url}/file", timeout=30).status_code == 404


def test_a_range_past_the_end_is_416_and_spends_nothing(rt, base):
    request_id, data = deliver(rt)
    url = mailed_link(rt, f"{request_id}-link", base)
    response = httpx.get(f"{url}/file", headers={"Range": f"bytes={len(data)}-"}, timeout=30)
    assert response.status_code == 416 and response.headers["content-range"] == f"bytes */{len(data)}"
    assert downloads_of(rt, request_id) == [], "a 416 sends no byte and spends nothing"
