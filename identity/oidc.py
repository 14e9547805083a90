"""OIDC ID tokens: verify a token an identity provider (a Finnish bank-ID broker, say) issued for one request.

The integrator's protocol, like the email code's:

    nonce, challenge = issue_nonce(now)          # store challenge.to_dict(); the login carries `nonce`
    ...
    identity = verify_id_token(token, settings, keys, OidcChallenge.from_dict(stored), email, now)

`verify_id_token` raises one opaque VerificationFailed whatever is wrong with
the token; only an issuer whose keys cannot be fetched is told apart
(IssuerUnavailable), since that is nobody's attempt at anything.

Keys come only from the configured JWKS URL (`JwksCache`): a token never
chooses where its key comes from (`jku`, `x5u`, `jwk` and `x5c` headers are
refused), and its `kid` is only looked up, never used as a path or URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt

from identity.errors import IssuerUnavailable, VerificationFailed
from identity.evidence import LEVELS, IdentityEvidence

# The only algorithms we accept, with the key type (and curve) a JWK must have to be used with each:
# an RSA key can then never verify an HS256 token, whatever the token's header says.
ALGORITHMS: Mapping[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "EdDSA": ("OKP", "Ed25519"),
}
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub")
MAX_LEEWAY_SECONDS = 60
# Headers that would let a token name its own key. We never fetch or trust a key a token points at.
_REFUSED_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
# base64 and base64url (RFC 7638 thumbprints) fit; ':' and whitespace do not, so a URL is no kid.
_KID = re.compile(r"[A-Za-z0-9._~+/=-]{1,128}")
_CLAIM_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_MAX_TOKEN_CHARS = 16_384
_MAX_JWKS_BYTES = 256 * 1024
_NONCE_BYTES = 32
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class OidcSettings:
    """What a token must say to be accepted: who issued it, for whom, signed how, and what it proves."""

    issuer: str
    audience: str  # our client_id at the provider
    algorithms: tuple[str, ...] = tuple(ALGORITHMS)
    leeway_seconds: int = 30
    level: str = "high"
    claims_to_match: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.issuer or not self.audience:
            raise ValueError("OIDC issuer and audience must not be empty")
        if not self.algorithms or not set(self.algorithms) <= set(ALGORITHMS):
            raise ValueError(f"OIDC algorithms must be some of {', '.join(ALGORITHMS)}")
        if not 0 <= self.leeway_seconds <= MAX_LEEWAY_SECONDS:
            raise ValueError(f"OIDC leeway must be 0 to {MAX_LEEWAY_SECONDS} seconds")
        if self.level not in LEVELS:
            raise ValueError(f"OIDC level must be one of {', '.join(LEVELS)}")
        if not all(_CLAIM_NAME.fullmatch(name) for name in self.claims_to_match):
            raise ValueError("OIDC claims to match must be claim names such as 'birthdate'")


class JwksCache:
    """The issuer's signing keys, fetched from its JWKS URL over HTTP and kept for `max_age`.

    An unknown `kid` (the issuer rotated its keys) refreshes the set once, but
    never sooner than `min_refresh` after the last fetch, so tokens with made-up
    kids cannot make us hammer the issuer. Keys whose type or algorithm is not
    allowed are dropped when the set is read. `clock` gives monotonic seconds.
    """

    def __init__(
        self, url: str, algorithms: tuple[str, ...], *, max_age: timedelta = timedelta(minutes=10),
        min_refresh: timedelta = timedelta(minutes=1), timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic, transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not set(algorithms) <= set(ALGORITHMS):
            raise ValueError(f"JWKS algorithms must be some of {', '.join(ALGORITHMS)}")
        if min_refresh > max_age:
            raise ValueError("the JWKS minimum refresh interval must not exceed its maximum age")
        self.url = url
        self._algorithms = algorithms
        self._max_age, self._min_refresh = max_age.total_seconds(), min_refresh.total_seconds()
        self._clock = clock
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._tried_at: float | None = None
        self._fetched_at: float | None = None
        self._lock = threading.Lock()  # one fetch at a time when a server verifies tokens in threads

    def key(self, kid: str) -> jwt.PyJWK:
        """The allowed key with id `kid`; VerificationFailed when the issuer has none such."""
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._max_age:
                self._refresh(now)
            found = self._keys.get(kid)
            if found is None and self._may_refresh(now):
                self._refresh(now)
                found = self._keys.get(kid)
        if found is None:
            raise VerificationFailed()
        return found

    def _may_refresh(self, now: float) -> bool:
        return self._tried_at is None or now - self._tried_at >= self._min_refresh

    def _refresh(self, now: float) -> None:
        if not self._may_refresh(now):
            if self._fetched_at is None:
                raise IssuerUnavailable()
            return  # the keys we have are stale but the issuer was asked moments ago
        # A failed try counts too: a down issuer is not asked again for every token.
        self._tried_at = now
        try:
            with self._client.stream("GET", self.url, headers={"Accept": "application/json"}) as response:
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > _MAX_JWKS_BYTES:
                        raise IssuerUnavailable()
            document = json.loads(body)
        except (httpx.HTTPError, ValueError):
            raise IssuerUnavailable() from None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise IssuerUnavailable()
        self._keys = _usable_keys(keys, self._algorithms)
        self._fetched_at = now

    def close(self) -> None:
        self._client.close()


def _usable_keys(jwks: list[Any], algorithms: tuple[str, ...]) -> dict[str, jwt.PyJWK]:
    """Signing keys by kid, each bound to the one allowed algorithm its type and curve fit."""
    usable: dict[str, jwt.PyJWK] = {}
    for data in jwks:
        if not isinstance(data, dict) or data.get("use", "sig") != "sig":
            continue
        kid, kty, crv = data.get("kid"), data.get("kty"), data.get("crv")
        if not isinstance(kid, str) or not _KID.fullmatch(kid) or kid in usable:
            continue
        fits = [alg for alg in algorithms if ALGORITHMS[alg] == (kty, crv if kty != "RSA" else None)]
        alg = data.get("alg", fits[0] if fits else None)
        if alg not in fits:
            continue
        try:
            usable[kid] = jwt.PyJWK(data, algorithm=alg)
        except jwt.PyJWTError:
            continue
    return usable


@dataclass(frozen=True)
class OidcChallenge:
    """What is stored while a login is outstanding: the nonce it must come back with, and until when."""

    nonce: str
    issued_at: datetime
    expires_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the request store; `kind` tells it from an email code challenge."""
        return {
            "kind": "oidc",
            "nonce": self.nonce,
            "issued_at": self.issued_at.astimezone(UTC).strftime(_AT_FORMAT),
            "expires_at": self.expires_at.astimezone(UTC).strftime(_AT_FORMAT),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OidcChallenge:
        """Inverse of `to_dict`; ValueError when `data` is not a stored OIDC challenge."""
        try:
            if data["kind"] != "oidc" or not isinstance(data["nonce"], str):
                raise ValueError
            return cls(
                nonce=data["nonce"],
                issued_at=datetime.strptime(data["issued_at"], _AT_FORMAT).replace(tzinfo=UTC),
                expires_at=datetime.strptime(data["expires_at"], _AT_FORMAT).replace(tzinfo=UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError("stored OIDC challenge is malformed") from None


def issue_nonce(now: datetime, ttl: timedelta = timedelta(minutes=15)) -> tuple[str, OidcChallenge]:
    """A fresh nonce for one login and the challenge to store. The nonce is not secret, but single-use."""
    _require_aware(now)
    if ttl <= timedelta(0):
        raise ValueError("nonce lifetime must be positive")
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
    now = now.astimezone(UTC)
    return nonce, OidcChallenge(nonce, now, now + ttl)


@dataclass(frozen=True)
class OidcIdentity:
    """A verified token: the evidence to record and the claims to match against the customer record.

    `claims` hold personal data (a name, a national identity code): match them,
    then record only `claim_digests`; never log or store the values.
    """

    evidence: IdentityEvidence
    claims: Mapping[str, str] = field(repr=False)

    def claim_digests(self, salt: bytes) -> dict[str, str]:
        """Salted hashes of `claims`, comparable with `claim_digest` over a record's values."""
        return {name: claim_digest(salt, name, value) for name, value in sorted(self.claims.items())}


def claim_digest(salt: bytes, name: str, value: str) -> str:
    """HMAC-SHA256 of a claim under `salt`, over its NFKC, case-folded, whitespace-collapsed value.

    Folding is right here and wrong for addresses: this compares what a person
    is called, not where mail goes.
    """
    if len(salt) < 16:
        raise ValueError("claim salt must be at least 16 bytes")
    folded = " ".join(unicodedata.normalize("NFKC", value).casefold().split())
    return hmac.new(salt, f"{name}\0{folded}".encode(), hashlib.sha256).hexdigest()


def verify_id_token(
    token: str, settings: OidcSettings, keys: JwksCache, challenge: OidcChallenge, email: str, now: datetime,
) -> OidcIdentity:
    """The identity an ID token proves for the request whose `challenge` and `email` are given.

    Accepted only when: signed by a key from the issuer's JWKS with an allowed
    algorithm that fits the key's type; `iss` and `aud` exactly ours; `exp`,
    `iat`, `iss`, `aud`, `sub` present; within `exp` and not issued (`iat`,
    `nbf`) in the future nor before the challenge, give or take the leeway; the
    `nonce` is the challenge's and the challenge is still open. The evidence
    names "email" only when `email_verified` is true and `email` is the
    request's address (exact local part, ASCII-case-insensitive domain, no
    Unicode folding); a verified email for another address fails.
    Raises VerificationFailed, the same for every reason; IssuerUnavailable
    when the keys cannot be fetched.
    """
    _require_aware(now)
    try:
        if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
            raise VerificationFailed()
        header = jwt.get_unverified_header(token)
        alg, kid = header.get("alg"), header.get("kid")
        if _REFUSED_HEADERS & header.keys() or alg not in settings.algorithms:
            raise VerificationFailed()
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise VerificationFailed()
        key = keys.key(kid)
        if key.algorithm_name != alg:
            raise VerificationFailed()
        claims = jwt.decode(
            token, key, algorithms=[alg], audience=settings.audience, issuer=settings.issuer,
            # Time is ours to check against `now`; PyJWT would read the wall clock.
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False,
                     "verify_nbf": False},
        )
        _check_times(claims, challenge, now, settings.leeway_seconds)
        _check_party(claims, settings.audience)
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), challenge.nonce.encode()):
            raise VerificationFailed()
        if not isinstance(claims["sub"], str) or not claims["sub"]:
            raise VerificationFailed()
        vouches_email = _vouches_for(claims, email)
        asserted = {name: str(claims[name]) for name in settings.claims_to_match
                    if isinstance(claims.get(name), str | int) and not isinstance(claims.get(name), bool)}
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, UnicodeError):
        raise VerificationFailed() from None
    kinds = (("email",) if vouches_email else ()) + ("sub",) + tuple(sorted(asserted))
    evidence = IdentityEvidence(method="oidc", identifiers=kinds, level=settings.level, verified_at=now)
    return OidcIdentity(evidence, asserted)


def _check_times(claims: Mapping[str, Any], challenge: OidcChallenge, now: datetime, leeway: int) -> None:
    exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf", claims["iat"])
    if not all(isinstance(t, int | float) and not isinstance(t, bool) for t in (exp, iat, nbf)):
        raise VerificationFailed()
    at = now.timestamp()
    if not (challenge.issued_at <= now < challenge.expires_at):
        raise VerificationFailed()
    if exp <= at - leeway or iat > at + leeway or nbf > at + leeway:
        raise VerificationFailed()
    # Issued for this login: not before the nonce it carries was.
    if iat < challenge.issued_at.timestamp() - leeway:
        raise VerificationFailed()


def _check_party(claims: Mapping[str, Any], audience: str) -> None:
    """OIDC Core 3.1.3.7: with several audiences the token must say it was issued to us (`azp`)."""
    aud, azp = claims["aud"], claims.get("azp")
    if azp is not None and azp != audience:
        raise VerificationFailed()
    if isinstance(aud, list) and len(aud) > 1 and azp is None:
        raise VerificationFailed()


def _vouches_for(claims: Mapping[str, Any], email: str) -> bool:
    claimed = claims.get("email")
    if claims.get("email_verified") is not True or not isinstance(claimed, str):
        return False  # an unverified address proves nothing either way
    if not same_address(claimed, email):
        raise VerificationFailed()  # the provider vouches for someone else's address
    return True


def same_address(a: str, b: str) -> bool:
    """Whether two addresses are one mailbox: the local part exactly, the domain in ASCII case only.

    Nothing else is folded: `str.lower()` would turn the Kelvin sign into 'k'.
    """
    local_a, at_a, domain_a = a.rpartition("@")
    local_b, at_b, domain_b = b.rpartition("@")
    if not (at_a and at_b and local_a and local_b and domain_a.isascii() and domain_b.isascii()):
        return False
    return local_a == local_b and domain_a.lower() == domain_b.lower()


def _require_aware(moment: datetime) -> None:
    if moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
