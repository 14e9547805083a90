"""A tiny OIDC identity provider for tests: its JWKS served over HTTP on 127.0.0.1, its ID tokens minted here.

For the portal's browser login it also answers `/authorize` (at once, for the
configured user: no login page) and `/token` (the authorization code grant with
PKCE S256, each code once), as a bank-ID broker would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

CLIENT_ID = "dsar-test-client"
SUBJECT_EMAIL = "tiina.karkkainen@example.fi"


def new_private_key(alg: str) -> Any:
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(alg)


def public_jwk(alg: str, private_key: Any, kid: str) -> dict[str, Any]:
    public = private_key.public_key()
    if alg == "RS256":
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif alg == "ES256":
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": alg}


@dataclass
class Provider:
    """An issuer with signing keys, and the JWKS it publishes. `hits` counts every HTTP request it got."""

    issuer: str = "https://idp.example.fi"
    keys: dict[str, tuple[str, Any]] = field(default_factory=dict)  # kid -> (alg, private key)
    published: list[str] | None = None  # kids in the JWKS; None publishes all
    hits: list[str] = field(default_factory=list)
    url: str = ""
    base_url: str = ""
    # The browser login: who logs in (claims as for `claims`), the error to answer instead, the client's secret.
    login: dict[str, Any] = field(default_factory=dict)
    deny: str | None = None
    client_secret: str | None = None
    token_requests: list[dict[str, str]] = field(default_factory=list)  # the forms /token got
    issued: list[str] = field(default_factory=list)  # the ID tokens /token gave
    _codes: dict[str, dict[str, str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_key(self, alg: str, kid: str | None = None) -> str:
        kid = kid or f"{alg.lower()}-{len(self.keys) + 1}"
        self.keys[kid] = (alg, new_private_key(alg))
        return kid

    def jwks(self) -> dict[str, Any]:
        kids = self.keys if self.published is None else self.published
        return {"keys": [public_jwk(self.keys[kid][0], self.keys[kid][1], kid) for kid in kids]}

    def claims(self, nonce: str, now: datetime, email: str = SUBJECT_EMAIL, **changes: Any) -> dict[str, Any]:
        """The claims of a good token for `nonce`; `changes` replace some (None removes one)."""
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": CLIENT_ID, "sub": "user-8f2c", "nonce": nonce,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
            "email": email, "email_verified": True,
            "name": "Tiina Kärkkäinen", "birthdate": "1984-02-29", "hetu": "290284-922B",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def mint(self, claims: dict[str, Any], kid: str, headers: dict[str, Any] | None = None) -> str:
        alg, private_key = self.keys[kid]
        return jwt.encode(claims, private_key, algorithm=alg, headers={"kid": kid, **(headers or {})})

    def token(self, nonce: str, now: datetime, kid: str, **changes: Any) -> str:
        return self.mint(self.claims(nonce, now, **changes), kid)

    def authorize(self, query: dict[str, str]) -> str:
        """Where /authorize redirects: redirect_uri with a fresh code (or `deny` as the error) and the state."""
        answer = {"error": self.deny} if self.deny else {"code": secrets.token_urlsafe(24)}
        if self.deny is None:
            with self._lock:
                self._codes[answer["code"]] = {k: query.get(k, "") for k in (
                    "client_id", "redirect_uri", "nonce", "code_challenge", "code_challenge_method")}
        return f"{query['redirect_uri']}?{urlencode({**answer, 'state': query.get('state', '')})}"

    def redeem(self, form: dict[str, str]) -> dict[str, Any] | None:
        """The /token answer for `form`, or None (invalid_grant) unless every check of RFC 6749 and 7636 passes."""
        self.token_requests.append(form)
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # once, used or refused
        if grant is None or form.get("grant_type") != "authorization_code":
            return None
        if (form.get("client_id"), form.get("redirect_uri")) != (grant["client_id"], grant["redirect_uri"]):
            return None
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return None
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if grant["code_challenge_method"] != "S256" or not hmac.compare_digest(challenge, grant["code_challenge"]):
            return None
        id_token = self.token(grant["nonce"], datetime.now(UTC), next(iter(self.keys)), **self.login)
        self.issued.append(id_token)
        return {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 300,
                "id_token": id_token}


@contextmanager
def serve_jwks(provider: Provider) -> Iterator[Provider]:
    """Serve `provider.jwks()` at http://127.0.0.1:PORT/jwks.json, with /authorize and /token beside it (any
    other path is a 404); every request is counted in `hits`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.hits.append(self.path)
            path = urlsplit(self.path)
            if path.path == "/authorize":
                self.send_response(302)
                self.send_header("Location", provider.authorize(dict(parse_qsl(path.query))))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            found = self.path == "/jwks.json"
            self._json(200 if found else 404, provider.jwks() if found else {})

        def do_POST(self) -> None:
            provider.hits.append(self.path)
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            answer = provider.redeem(form) if self.path == "/token" else None
            self._json(200 if answer else 400, answer or {"error": "invalid_grant"})

        def _json(self, status: int, document: dict[str, Any]) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    provider.url = f"{provider.base_url}/jwks.json"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
