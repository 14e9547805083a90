"""A tiny OIDC identity provider for tests: its JWKS served over HTTP on 127.0.0.1, its ID tokens minted here."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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


@contextmanager
def serve_jwks(provider: Provider) -> Iterator[Provider]:
    """Serve `provider.jwks()` at http://127.0.0.1:PORT/jwks.json (any other path is a 404, counted too)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            provider.hits.append(self.path)
            body = json.dumps(provider.jwks()).encode() if self.path == "/jwks.json" else b"{}"
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
