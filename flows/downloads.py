"""Download links with a policy: recorded before they are sent, counted, expiring, revocable.

The portal's file route (flows/portal/download_file.py) checks a token's
signature and expiry only; it asks `admit` before a download (`usable` for a
HEAD, `resumable` for a ranged GET past byte 0), and the request store answers. The ledger
names a link by a short hash of its id, never by its token, and records no
address, name or IP.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from exports.links import LinkClaims, issue_link
from flows.assurance import evidence_of
from flows.errors import NoPackage, RequestClosed, RequestNotFound
from flows.runtime import Runtime
from flows.store import Link, Request
from flows.texts import text

# What the link mail says about opening the file, by how it was sealed.
_LINK_BODY = {"age-passphrase": "link_body", "age-recipient": "link_body_age-recipient", "zip-aes": "link_body_zip-aes"}


def link_ref(jti: str) -> str:
    """How the ledger names a link: enough to tell links apart, nothing that goes into a token."""
    return hashlib.sha256(jti.encode("ascii")).hexdigest()[:16]


def send_link(rt: Runtime, request: Request, jti: str, issued_at: datetime, mail_key: str) -> Link:
    """Record a link to the request's stored package, then mail it to the requester.

    The row comes first, so a link that reached the requester is always one the
    store counts. `mail_key` keeps a resumed send from mailing twice. Nothing
    is sent unless the request's evidence still holds for the email on record
    (IdentityChanged, IdentityNotVerified otherwise).
    """
    evidence_of(request)
    stored = rt.store.stage_done(request.id, "store")
    if stored is None:
        raise NoPackage(request.id, "the package is not stored yet")
    delivery = rt.config.delivery
    lifetime = timedelta(hours=delivery.link_hours)
    link = Link(
        jti=jti, request_id=request.id, object_key=stored["object_key"], package_sha256=stored["sha256"],
        issued_at=issued_at, expires_at=issued_at + lifetime, downloads_left=delivery.max_downloads,
    )
    rt.store.add_link(link)
    url = issue_link(request.id, link.object_key, rt.link_secret, issued_at, lifetime, delivery.public_url, jti=jti)
    rt.mailer.send(
        mail_key, request.email, text("link_subject", request.language),
        text(_LINK_BODY[rt.store.sealing(request.id).method], request.language, request_id=request.id, url=url,
             expires=link.expires_at.strftime("%Y-%m-%d %H:%M UTC")),
    )
    return link


def admit(rt: Runtime, claims: LinkClaims) -> bool:
    """Whether a token that verified may download now; if so, one download is spent and recorded.

    Refused: an object outside the token's request, a link the store does not
    know or knows for another object, a closed request, and a link that is
    revoked, expired or used up. The caller answers every refusal alike.
    """
    link = _open_link(rt, claims)
    if link is None or not _ledger_allows(rt, claims.request_id, claims.jti):
        return False
    taken = rt.store.take_download(claims.jti, rt.clock())
    if taken is None:
        return False
    rt.ledger.append_event(claims.request_id, "requester", "download",
                           {"link": link_ref(taken.jti), "downloads_left": taken.downloads_left})
    return True


def usable(rt: Runtime, claims: LinkClaims) -> bool:
    """Whether `admit` would let this link download now, spending nothing (a HEAD request)."""
    link = _open_link(rt, claims)
    return link is not None and link.is_live(rt.clock()) and _ledger_allows(rt, claims.request_id, claims.jti)


# How long after a counted download a ranged GET may go on with it for free: long enough for a dropped
# connection on a slow line to resume, short enough that a used-up link is not a download without limit.
RESUME_WINDOW = timedelta(hours=2)


def resumable(rt: Runtime, claims: LinkClaims) -> bool:
    """Whether a ranged GET may continue a download this link already counted, spending nothing.

    The link must be unexpired and unrevoked, its request open, and the ledger
    must hold a download by it within RESUME_WINDOW; its last download may be
    resumed even when none is left.
    """
    link = _open_link(rt, claims)
    now = rt.clock()
    if link is None or link.revoked_at is not None or now >= link.expires_at:
        return False
    issued, _, _, last = _ledger_state(rt, claims.request_id, claims.jti)
    return issued and last is not None and now - last <= RESUME_WINDOW


def _open_link(rt: Runtime, claims: LinkClaims) -> Link | None:
    """The store's link for these claims, if it grants this object and its request is not closed."""
    if not claims.object_key.startswith(f"{claims.request_id}/"):
        return None
    link = rt.store.link(claims.jti)
    if link is None or (link.request_id, link.object_key) != (claims.request_id, claims.object_key):
        return None
    try:
        request = rt.store.get(claims.request_id)
    except RequestNotFound:
        return None
    if request.status == "closed":  # closing (and erasure, which closes) ends every link at once
        return None
    return link


def _ledger_allows(rt: Runtime, request_id: str, jti: str) -> bool:
    """What the ledger (hash-chained, signed) says of a link, which an edit of the links table cannot change:
    issued, not revoked since (a revocation, a reissue, the request closed), and downloads left."""
    issued, allowed, downloads, _ = _ledger_state(rt, request_id, jti)
    return issued and isinstance(allowed, int) and downloads < allowed


def _ledger_state(rt: Runtime, request_id: str, jti: str) -> tuple[bool, object, int, datetime | None]:
    """(issued and not revoked since, downloads allowed, downloads recorded, when the last was) of a link, by the
    ledger."""
    ref, issued, allowed, downloads, last = link_ref(jti), False, 0, 0, None
    for event in rt.ledger.events(request_id):
        detail = event.detail
        if event.action in ("deliver_done", "link_reissued") and detail.get("link") == ref:
            issued, allowed, downloads, last = True, detail.get("downloads_left", 0), 0, None
        elif issued and event.action in ("links_revoked", "link_reissued", "closed"):
            return False, allowed, downloads, last
        elif issued and event.action == "download" and detail.get("link") == ref:
            downloads, last = downloads + 1, event.at
    return issued, allowed, downloads, last


def revoke(rt: Runtime, request_id: str) -> int:
    """Kill every link of a request; how many were still unrevoked. Recorded in the ledger."""
    rt.store.get(request_id)  # RequestNotFound names a mistyped id
    count = rt.store.revoke_links(request_id, rt.clock())
    rt.ledger.append_event(request_id, "privacy_team", "links_revoked", {"count": count})
    return count


def reissue(rt: Runtime, request_id: str) -> Link:
    """Mail a new link to a delivered request's package; every earlier link dies.

    The passphrase is not sent again: the requester has it, and it still opens
    the same stored file.
    """
    request = rt.store.get(request_id)
    if request.status == "closed":
        raise RequestClosed(request_id, request.status)
    if request.status != "delivered":
        raise NoPackage(request_id, f"it is {request.status}, not delivered")
    sealed = rt.store.stage_done(request_id, "store")
    if sealed is None or not rt.storage.exists(sealed["object_key"]):
        raise NoPackage(request_id, "the stored package was deleted when its links ran out")
    now = rt.clock()
    revoked = rt.store.revoke_links(request_id, now)
    link = send_link(rt, request, secrets.token_urlsafe(16), now, f"{request_id}-link-{now:%Y%m%dT%H%M%S%f}")
    rt.ledger.append_event(request_id, "privacy_team", "link_reissued", {
        "link": link_ref(link.jti), "revoked": revoked, "downloads_left": link.downloads_left,
        "expires": link.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return link
