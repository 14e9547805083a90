"""Time-limited download links: HS256 JWTs naming one stored object.

Time is a parameter (`now`), never read from the clock here, so tests and
replays can move it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from exports.errors import InvalidLink
from exports.request_ids import check_request_id
from exports.storage import check_key

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class LinkClaims:
    """What a verified link grants: one object of one request, until `expires_at`."""

    request_id: str
    object_key: str
    issued_at: datetime
    expires_at: datetime
    jti: str


def check_secret(secret: bytes) -> None:
    """ValueError unless `secret` is bytes long enough to sign links."""
    if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"link secret must be at least {MIN_SECRET_BYTES} bytes")


def _check_now(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def issue_link(
    request_id: str, object_key: str, secret: bytes, now: datetime, lifetime: timedelta, base_url: str,
    jti: str | None = None,
) -> str:
    """A download URL `{base_url}/download/{token}` valid from `now` for `lifetime`.

    The same `now` and `jti` give the same URL again: a resumed delivery
    re-sends the link the requester may already hold instead of a second one.
    """
    check_secret(secret)
    _check_now(now)
    check_request_id(request_id)
    check_key(object_key)
    if lifetime <= timedelta(0):
        raise ValueError("link lifetime must be positive")
    claims = {
        "sub": request_id,
        "obj": object_key,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": jti or secrets.token_urlsafe(16),
    }
    token = jwt.encode(claims, secret, algorithm=ALGORITHM)
    return f"{base_url.rstrip('/')}/download/{token}"


def verify_link(token: str, secret: bytes, now: datetime) -> LinkClaims:
    """The claims of a valid, unexpired token; raises `InvalidLink` otherwise.

    Only HS256 is accepted (never 'none', never another algorithm). Expiry is
    checked against `now`, not the wall clock: a token is valid while
    now < exp.
    """
    check_secret(secret)
    _check_now(now)
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            # Expiry is ours to check against `now`; PyJWT would use the wall clock.
            options={
                "require": ["sub", "obj", "iat", "exp", "jti"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
        exp, iat = claims["exp"], claims["iat"]
        if not all(isinstance(t, int) and not isinstance(t, bool) for t in (exp, iat)):
            raise InvalidLink()
        if now.timestamp() >= exp:
            raise InvalidLink()
        check_request_id(claims["sub"])
        check_key(claims["obj"])
        if not isinstance(claims["jti"], str):
            raise InvalidLink()
        return LinkClaims(
            request_id=claims["sub"],
            object_key=claims["obj"],
            issued_at=datetime.fromtimestamp(iat, UTC),
            expires_at=datetime.fromtimestamp(exp, UTC),
            jti=claims["jti"],
        )
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
        raise InvalidLink() from None


# Page tokens: what the requester's mail links to besides the download. A token of one kind never passes as
# another's (each has its own audience), and none passes as a download link (no `obj` claim).
PAGE_KINDS = ("verify", "status")


def issue_page_token(kind: str, request_id: str, secret: bytes, now: datetime, lifetime: timedelta) -> str:
    """A token that opens the `kind` page ("verify": the code form, "status": the request's progress) of one
    request from `now` for `lifetime`; the request id alone opens nothing."""
    check_secret(secret)
    _check_now(now)
    check_request_id(request_id)
    if kind not in PAGE_KINDS:
        raise ValueError(f"unknown page kind {kind!r}")
    if lifetime <= timedelta(0):
        raise ValueError("page token lifetime must be positive")
    claims = {"aud": f"dsar:{kind}", "sub": request_id, "exp": int((now + lifetime).timestamp())}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_page_token(kind: str, token: str, secret: bytes, now: datetime) -> str:
    """The request id a valid, unexpired `kind` token names; `InvalidLink` otherwise."""
    check_secret(secret)
    _check_now(now)
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], audience=f"dsar:{kind}",
                            options={"require": ["aud", "sub", "exp"], "verify_exp": False})
        exp = claims["exp"]
        if not isinstance(exp, int) or isinstance(exp, bool) or now.timestamp() >= exp:
            raise InvalidLink()
        return check_request_id(claims["sub"])
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError, OSError):
        raise InvalidLink() from None


def page_url(base_url: str, kind: str, token: str) -> str:
    """Where a page token opens its page on the portal at `base_url`."""
    return f"{base_url.rstrip('/')}/{kind}/{token}"
