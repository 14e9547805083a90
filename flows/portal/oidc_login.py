"""The portal's "log in with your bank" button: the OIDC authorization code flow with PKCE, state and nonce.

    url, cookie = begin(rt, request_id, redirect_uri)      # set `cookie` (HttpOnly), redirect to `url`
    ...the provider sends the browser back to redirect_uri?code=...&state=...
    request_id, evidence = finish(rt, query, cookie, redirect_uri)

The nonce is the request's login challenge (flows.oidc.start_login), checked
inside the ID token; the state and the PKCE verifier live only in the
browser's cookie, sealed (AES-GCM under a key derived from the link secret)
so that it can be neither read nor forged, and expiring with the nonce. The
ID token itself goes to flows.oidc.submit_id_token like one an operator
pastes. Whatever goes wrong, the requester gets one opaque VerificationFailed;
the ledger names the step (ids and step names only: no code, state or token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import NamedTuple, NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from flows.config import Oidc
from flows.errors import ConfigError
from flows.oidc import start_login, submit_id_token
from flows.runtime import Runtime
from identity.errors import VerificationFailed
from identity.evidence import IdentityEvidence
from identity.sealing import derive_key

COOKIE_NAME = "dsar_oidc"
_COOKIE_KEY_INFO = b"dsar portal oidc login cookie v1"
_GCM_NONCE_BYTES = 12
_MAX_COOKIE_CHARS = 1024
_MAX_PARAM_CHARS = 2048  # a code or state longer than this is no provider's
_MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
_TOKEN_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class _Login(NamedTuple):
    """What the cookie carries between `begin` and `finish`."""

    request_id: str
    state: str
    verifier: str
    expires: int  # POSIX seconds: when the login's nonce expires


def login_offered(oidc: Oidc | None) -> bool:
    """Whether the portal can offer the login button: OIDC configured with its browser endpoints."""
    return oidc is not None and oidc.authorization_endpoint is not None and oidc.token_endpoint is not None


def begin(rt: Runtime, request_id: str, redirect_uri: str) -> tuple[str, str]:
    """The provider's authorization URL for a new login to `request_id`, and the sealed cookie value that
    `finish` needs back. Starting a login replaces any outstanding code or login of the request."""
    oidc = _browser_oidc(rt)
    nonce = start_login(rt, request_id)
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    expires = rt.clock() + timedelta(minutes=oidc.nonce_ttl_minutes)
    cookie = _seal(rt.link_secret, _Login(request_id, state, verifier, int(expires.timestamp())))
    url = _with_query(str(oidc.authorization_endpoint), {
        "response_type": "code", "client_id": oidc.client_id, "redirect_uri": redirect_uri,
        "scope": " ".join(oidc.scopes), "state": state, "nonce": nonce,
        "code_challenge": _s256(verifier), "code_challenge_method": "S256",
    })
    return url, cookie


def finish(rt: Runtime, params: Mapping[str, str], cookie: str, redirect_uri: str) -> tuple[str, IdentityEvidence]:
    """The request id and the evidence recorded for the login the provider answered with `params` (the
    callback's query); VerificationFailed for a forged, expired or foreign cookie, a state that is not the
    cookie's, a provider error, a code the provider will not exchange, or a token that does not verify."""
    oidc = _browser_oidc(rt)
    login = _open(rt.link_secret, cookie)
    if login is None or rt.clock().timestamp() >= login.expires:
        raise VerificationFailed()  # no request we could name: nothing to record
    request_id = login.request_id
    state, code = params.get("state", ""), params.get("code", "")
    if "error" in params:
        _failed(rt, request_id, "provider_error")
    if not hmac.compare_digest(state.encode(), login.state.encode()):
        _failed(rt, request_id, "state")
    # RFC 9207: a provider that names itself must be ours (another provider's answer mixed into this login).
    if "iss" in params and params["iss"] != oidc.issuer:
        _failed(rt, request_id, "issuer")
    if not code or len(code) > _MAX_PARAM_CHARS:
        _failed(rt, request_id, "code")
    id_token = _exchange(rt, oidc, code, login.verifier, redirect_uri)
    if id_token is None:
        _failed(rt, request_id, "token_endpoint")
    return request_id, submit_id_token(rt, request_id, id_token)


def _browser_oidc(rt: Runtime) -> Oidc:
    oidc = rt.config.oidc()
    if not login_offered(oidc):
        raise ConfigError(rt.config.path, "identity.oidc.authorization_endpoint",
                          "missing: the portal's login needs authorization_endpoint and token_endpoint")
    return oidc


def _failed(rt: Runtime, request_id: str, step: str) -> NoReturn:
    rt.ledger.append_event(request_id, "requester", "identity_failed",
                           {"method": "oidc", "error": "VerificationFailed", "step": step})
    raise VerificationFailed()


def _exchange(rt: Runtime, oidc: Oidc, code: str, verifier: str, redirect_uri: str) -> str | None:
    """The ID token the token endpoint gives for `code`, or None for any refusal, fault or odd answer.

    Nothing of the answer is ever put in an exception or a log line: it holds tokens.
    """
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "client_id": oidc.client_id, "code_verifier": verifier}
    if oidc.client_secret_env is not None:
        form["client_secret"] = rt.config.secret(oidc.client_secret_env, "identity.oidc.client_secret_env")
    try:
        with httpx.Client(timeout=_TOKEN_TIMEOUT, follow_redirects=False) as client, client.stream(
                "POST", str(oidc.token_endpoint), data=form, headers={"Accept": "application/json"}) as response:
            if response.status_code != 200:
                return None
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > _MAX_TOKEN_RESPONSE_BYTES:
                    return None
        answer = json.loads(body)
    except (httpx.HTTPError, ValueError):
        return None
    token = answer.get("id_token") if isinstance(answer, dict) else None
    return token if isinstance(token, str) and token else None


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` added to whatever query it has (a provider may need its own, e.g. a tenant)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _cookie_key(secret: bytes) -> bytes:
    return derive_key(secret, _COOKIE_KEY_INFO)


def _seal(secret: bytes, login: _Login) -> str:
    nonce = os.urandom(_GCM_NONCE_BYTES)
    sealed = AESGCM(_cookie_key(secret)).encrypt(nonce, json.dumps(list(login)).encode(), _COOKIE_KEY_INFO)
    return base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")


def _open(secret: bytes, cookie: str) -> _Login | None:
    """The login a cookie of ours holds, or None when it is anything else (edited, another key, garbage)."""
    if not cookie or len(cookie) > _MAX_COOKIE_CHARS:
        return None
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        plain = AESGCM(_cookie_key(secret)).decrypt(raw[:_GCM_NONCE_BYTES], raw[_GCM_NONCE_BYTES:],
                                                    _COOKIE_KEY_INFO)
        login = json.loads(plain)
    except (ValueError, InvalidTag):
        return None
    types = (str, str, str, int)
    if not isinstance(login, list) or len(login) != len(types):
        return None
    if not all(isinstance(value, kind) for value, kind in zip(login, types, strict=True)):
        return None
    return _Login(*login)
