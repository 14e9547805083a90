"""The portal's pages: ask (`/`), the code (`/verify/T`), the status (`/status/T`), the download (`/download/T`).

Every page a token opens answers a bad, expired or forged token with the same neutral page, so it tells a
stranger nothing. Pages carry no script; forms post back here only (the Content-Security-Policy says so).
"""

from __future__ import annotations

import ipaddress
import logging
import unicodedata
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from posixpath import basename
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from exports.errors import InvalidLink
from exports.links import LinkClaims, issue_link, verify_link, verify_page_token
from exports.package.values import show_moment
from flows import downloads, stages
from flows.config import Portal as PortalSettings
from flows.errors import SAFE_ERRORS
from flows.lifecycle import new_request
from flows.pages import page_token
from flows.portal import guard
from flows.portal.download_file import FileRoute, LinkPolicy
from flows.portal.oidc_routes import button_label, oidc_routes
from flows.portal.progress import STEPS, local_time, progress, stronger_needed
from flows.portal.runs import start_run, tell_if_not_started
from flows.portal.texts import LANGUAGE_NAMES, LANGUAGES, page_text
from flows.runtime import Runtime
from flows.store import Link, Request
from identity.address import canonical_address
from identity.errors import AlreadyVerified, IdentityError, InvalidAddress

HERE = Path(__file__).parent
LANGUAGE_COOKIE = "dsar_lang"
MAX_FORM_BYTES = 8 * 1024

# No script, frame, font or image from anywhere; styles from this site; forms post here only.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin",
}

log = logging.getLogger("dsar.portal")


@dataclass(frozen=True)
class Limits:
    """How often one client may ask or try a code, and how often one address may be asked for."""

    asks_per_client: guard.RateLimit
    asks_per_address: guard.RateLimit
    codes_per_client: guard.RateLimit

    @classmethod
    def of(cls, settings: PortalSettings) -> Limits:
        return cls(guard.RateLimit(settings.asks_per_client_per_hour, 3600),
                   guard.RateLimit(settings.asks_per_address_per_day, 24 * 3600),
                   guard.RateLimit(settings.codes_per_client_per_hour, 3600))


@dataclass
class Portal:
    rt: Runtime
    start_run: Callable[[str], None]
    limits: Limits
    templates: Environment

    @property
    def secure_cookies(self) -> bool:
        return self.rt.config.delivery.public_url.startswith("https://")

    @property
    def csrf_cookie(self) -> str:
        # Behind https the `__Host-` prefix makes browsers refuse the cookie from a sibling subdomain, which
        # could otherwise plant a cookie and token pair of its own (cookie tossing).
        return f"__Host-{guard.CSRF_COOKIE}" if self.secure_cookies else guard.CSRF_COOKIE

    # Language ------------------------------------------------------------------------------------------------

    def language(self, request: HttpRequest) -> str:
        """`?lang=`, else the cookie the switch set, else the best of Accept-Language, else the first offered."""
        offered = [code for code in self.rt.config.controller.languages if code in LANGUAGES]
        for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
            if chosen in offered:
                return chosen
        return accepted_language(request.headers.get("accept-language", ""), offered) or offered[0]

    # Rendering -----------------------------------------------------------------------------------------------

    def page(self, request: HttpRequest, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = self.language(request)
        controller = self.rt.config.controller
        html = self.templates.get_template(template).render(
            lang=lang, controller=controller, t=lambda key, /, **v: page_text(key, lang, **v),
            languages=[(code, LANGUAGE_NAMES[code]) for code in controller.languages], **values)
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") == lang:
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="lax",
                                secure=self.secure_cookies)
        return response

    def message(self, request: HttpRequest, title: str, body: str, status: int, **values: Any) -> HTMLResponse:
        lang = self.language(request)
        return self.page(request, "message.html", status, title=page_text(title, lang),
                         body=page_text(body, lang, **values))

    def gone(self, request: HttpRequest) -> HTMLResponse:
        return self.message(request, "gone_title", "gone_body", 404, contact=self.rt.config.controller.contact_email)

    def already_verified(self, request: HttpRequest) -> HTMLResponse:
        """What the code page of a verified request says: not its status, since the code page is also shown to
        whoever typed the address in, and only the owner of the mailbox (who has the status link) proved it."""
        return self.message(request, "already_verified_title", "already_verified_body", 200)

    def limited(self, request: HttpRequest) -> HTMLResponse:
        response = self.message(request, "limited_title", "limited_body", 429)
        response.headers["Retry-After"] = "600"
        return response

    def with_csrf(self, request: HttpRequest, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A page with a form: its CSRF field, and the cookie that goes with it when the browser has none."""
        cookie = request.cookies.get(self.csrf_cookie)
        fresh = cookie is None
        if cookie is None:
            cookie = guard.new_csrf_cookie()
        response = self.page(request, template, status, csrf=guard.csrf_token(self.rt.link_secret, cookie), **values)
        if fresh:
            response.set_cookie(self.csrf_cookie, cookie, httponly=True, samesite="strict", path="/",
                                secure=self.secure_cookies)
        return response

    def client_key(self, request: HttpRequest) -> str:
        """The client's address, keyed: rate limits count by it without keeping an IP address. An IPv6 client
        counts by its /64, the least a network hands one subscriber: else each of its 2**64 addresses would be a
        new client."""
        host = request.client.host if request.client else "-"
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            if address.version == 6 and address.ipv4_mapped is None:
                host = str(ipaddress.ip_network(f"{address}/64", strict=False))
        return guard.keyed(self.rt.link_secret, "client", host)

    async def posted_form(self, request: HttpRequest) -> dict[str, str] | None:
        """The posted form, if it is one and carries the CSRF field of this browser's cookie; None otherwise."""
        form = await read_form(request)
        if form is None or not guard.csrf_ok(self.rt.link_secret, request.cookies.get(self.csrf_cookie),
                                             form.get("csrf")):
            return None
        return form

    async def verified(self, held: Request) -> Response:
        """Where a verification that succeeded leads: the run starts (unless the request is a duplicate of one
        already under way) and the requester goes to the status page."""
        if not held.duplicate_of:
            await run_in_threadpool(self.start_run, held.id)
        return RedirectResponse(f"/status/{page_token(self.rt, held, 'status')}?verified=1", status_code=303)

    async def request_of(self, kind: str, token: str) -> Request | None:
        """The request a `kind` page token opens, or None for any token that does not."""
        # The store may be a PostgreSQL server away: its reads run in the thread pool, never on the event loop.
        return await run_in_threadpool(self._request_of, kind, token)

    def _request_of(self, kind: str, token: str) -> Request | None:
        try:
            request_id = verify_page_token(kind, token, self.rt.link_secret, self.rt.clock())
            return self.rt.store.get(request_id)
        except (InvalidLink, *SAFE_ERRORS):
            return None

    # Pages ---------------------------------------------------------------------------------------------------

    async def ask(self, request: HttpRequest) -> Response:
        lang = self.language(request)
        if request.method == "GET":
            return self.ask_form(request, {"language": lang, "right": "access"})
        form = await self.posted_form(request)
        if form is None:
            return self.message(request, "bad_form_title", "bad_form_body", 400)
        if form.get("website"):  # the field people cannot see: a bot filled it in
            log.info("ask refused: honeypot")
            return self.message(request, "bad_form_title", "bad_form_body", 400)
        if not self.limits.asks_per_client.allow(self.client_key(request)):
            return self.limited(request)
        email = form.get("email", "").strip()
        language = form["language"] if form.get("language") in self.rt.config.controller.languages else lang
        right = form["right"] if form.get("right") in stages.RIGHTS else "access"
        # One line of printable text: staff read it in a terminal (`dsar request show`), PostgreSQL refuses a NUL.
        name = one_line(form.get("name", ""))[:200] or None
        values = {"email": email, "name": name or "", "language": language, "right": right}
        if not email or len(email) > 320:
            return self.ask_form(request, values, page_text("invalid_email", lang))
        try:
            address = canonical_address(email, allow_smtputf8=self.rt.config.identity.allow_smtputf8)
        except InvalidAddress:
            return self.ask_form(request, values, page_text("invalid_email", lang))
        if not self.limits.asks_per_address.allow(guard.keyed(self.rt.link_secret, "address", guard.mailbox(address))):
            return self.limited(request)
        registered = await run_in_threadpool(new_request, self.rt, address, language, name=name, right=right,
                                             channel="portal")
        log.info("request registered from the portal")
        # The same answer for every address: a page asking for the code that was sent, if one was.
        return RedirectResponse(f"/verify/{page_token(self.rt, registered, 'verify')}", status_code=303)

    def ask_form(self, request: HttpRequest, values: Mapping[str, str], error: str | None = None) -> HTMLResponse:
        controller = self.rt.config.controller
        return self.with_csrf(request, "ask.html", 400 if error else 200, form=values, error=error,
                              rights=stages.RIGHTS,
                              reply_languages=[(code, LANGUAGE_NAMES[code]) for code in controller.languages])

    async def verify(self, request: HttpRequest) -> Response:
        token = request.path_params["token"]
        held = await self.request_of("verify", token)
        if held is None:
            return self.gone(request)
        if request.method == "GET":
            if stronger_needed(held):
                # A code cannot raise the level: the page offers the login only (or says whom to contact).
                return self.page(request, "verify.html", token=token, stronger=True,
                                 oidc=button_label(self, self.language(request)))
            if held.evidence:
                return self.already_verified(request)
            code = "".join(ch for ch in request.query_params.get("code", "") if ch.isdigit())[:16]
            return self.verify_form(request, token, code)
        form = await self.posted_form(request)
        if form is None:
            return self.message(request, "bad_form_title", "bad_form_body", 400)
        if not self.limits.codes_per_client.allow(self.client_key(request)):
            return self.limited(request)
        code = form.get("code", "").strip()
        try:
            verified = await run_in_threadpool(stages.submit_code, self.rt, held.id, code)
        except AlreadyVerified:
            return self.already_verified(request)
        except (IdentityError, *SAFE_ERRORS):
            # One answer for a wrong, expired, used-up or replayed code: a guesser learns nothing.
            return self.verify_form(request, token, "", page_text("code_wrong", self.language(request)))
        return await self.verified(verified)

    def verify_form(self, request: HttpRequest, token: str, code: str, error: str | None = None) -> HTMLResponse:
        oidc = button_label(self, self.language(request))
        return self.with_csrf(request, "verify.html", 400 if error else 200, token=token, code=code, error=error,
                              oidc=oidc)

    async def status(self, request: HttpRequest) -> Response:
        token = request.path_params["token"]
        held = await self.request_of("status", token)
        if held is None:
            return self.gone(request)
        lang = self.language(request)
        now = await run_in_threadpool(progress, self.rt, held)
        extended = None
        if now.extended_reason is not None:
            extended = page_text("status_extended", lang, date=show_moment(now.due_on, False, lang),
                                 reason=now.extended_reason)
        step = now.step
        download = await run_in_threadpool(self.live_link_path, held.id) if step in ("ready", "delivered") else None
        return self.page(request, "status.html", token=token, request_id=held.id, step=step, steps=STEPS,
                         download=download,
                         current=STEPS.index(step) if step in STEPS else -1,
                         received=show_moment(now.received_on, False, lang), due=show_moment(now.due_on, False, lang),
                         extended=extended, verified=request.query_params.get("verified") == "1",
                         verify_token=page_token(self.rt, held, "verify") if step == "verifying" else None,
                         stronger=stronger_needed(held))

    def live_link_path(self, request_id: str) -> str | None:
        """The download page of the request's newest live link: the very URL its mail carried, rebuilt from the
        store (a link's token is fixed by its id and times), so the status page leads on to the download."""
        now = self.rt.clock()
        live = [link for link in self.rt.store.links_of(request_id) if link.is_live(now)]
        if not live:
            return None
        link = live[-1]
        return issue_link(request_id, link.object_key, self.rt.link_secret, link.issued_at,
                          link.expires_at - link.issued_at, "", jti=link.jti)

    def link_of(self, token: str) -> LinkClaims | None:
        try:
            return verify_link(token, self.rt.link_secret, self.rt.clock())
        except InvalidLink:
            return None

    def live_link(self, claims: LinkClaims) -> tuple[Link, str] | None:
        """The store's live link for verified claims, with how its package was sealed; None if it is not live."""
        link = self.rt.store.link(claims.jti)
        if link is None or link.request_id != claims.request_id or not link.is_live(self.rt.clock()):
            return None
        return link, self.rt.store.sealing(link.request_id).method

    async def download_page(self, request: HttpRequest) -> Response:
        token = request.path_params["token"]
        claims = self.link_of(token)
        live = None if claims is None else await run_in_threadpool(self.live_link, claims)
        if live is None:
            return self.gone(request)
        link, method = live
        lang = self.language(request)
        filename = basename(link.object_key)
        plain = filename.removesuffix(".age")
        key_file = page_text("key_file", lang)
        key = f"-i {key_file} " if method == "age-recipient" else ""
        return self.page(request, "download.html", token=token, filename=filename, method=method,
                         downloads_left=link.downloads_left,
                         expires=show_moment(local_time(self.rt, link.expires_at), False, lang),
                         zone=self.rt.config.controller.time_zone, key_file=key_file,
                         age_command=f"age -d {key}-o {plain} {filename}")


def accepted_language(header: str, offered: Sequence[str]) -> str | None:
    """The offered language the Accept-Language header weighs highest (`fi-FI` counts as `fi`)."""
    best, best_q = None, 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().lower().split("-")[0]
        if code in offered and q > best_q:
            best, best_q = code, q
    return best


# Bidi marks, embeddings, overrides and isolates: text that reorders how the rest of a line is shown.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def one_line(value: str) -> str:
    """`value` as one line of plain text: control characters (terminal escapes, NUL, line breaks) and bidi
    controls become spaces, runs of spaces one. What a requester types is later printed to an operator."""
    return " ".join("".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS else ch
                            for ch in value).split())


async def read_form(request: HttpRequest) -> dict[str, str] | None:
    """An urlencoded form of at most MAX_FORM_BYTES, one value per field; None for anything else."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items()}


def security_headers(https: bool) -> dict[str, str]:
    """What every answer carries; behind https also HSTS, so a browser never asks over plain http again."""
    return SECURITY_HEADERS | ({"Strict-Transport-Security": "max-age=31536000"} if https else {})


class SecurityHeaders:
    """Adds the headers every answer carries: no caching (pages hold tokens), no referrer, the CSP."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name.lower().encode(), value.encode()) for name, value in self.headers.items()
                    if name.lower().encode() not in names]
            await send(message)

        await self.app(scope, receive, with_headers)


def make_app(rt: Runtime, *, start: Callable[[str], None] | None = None, limits: Limits | None = None) -> Starlette:
    """The portal for the controller of `rt`. `start(request_id)` starts a verified request's run (default: a
    `dsar run` process of its own, see flows/portal/runs.py)."""
    rt.link_secret, rt.store, rt.ledger  # noqa: B018 - a bad secret fails now, not at the first requester
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                            trim_blocks=True, lstrip_blocks=True)
    config_path = rt.config.path
    portal = Portal(rt, start or (lambda request_id: start_run(config_path, request_id,
                                                               partial(tell_if_not_started, rt, request_id))),
                    limits or Limits.of(rt.config.portal), templates)
    headers = security_headers(portal.secure_cookies)

    async def server_error(request: HttpRequest, exc: Exception) -> Response:
        # Starlette sends it from outside every middleware, SecurityHeaders too, so it carries the headers
        # itself (uvicorn still logs the traceback).
        return PlainTextResponse("Internal Server Error", 500, headers=headers)

    files = FileRoute(rt.storage, rt.link_secret, lambda: rt.clock(), LinkPolicy(
        spend=partial(downloads.admit, rt), usable=partial(downloads.usable, rt),
        resumable=partial(downloads.resumable, rt)), gone=portal.gone)
    app = Starlette(routes=[
        Route("/", portal.ask, methods=["GET", "POST"], name="ask"),
        Route("/verify/{token}", portal.verify, methods=["GET", "POST"], name="verify"),
        Route("/status/{token}", portal.status, methods=["GET"], name="status"),
        Route("/download/{token}", portal.download_page, methods=["GET"], name="download"),
        Route("/download/{token}/file", files.respond, methods=["GET", "HEAD"], name="file"),
        *oidc_routes(portal),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ], exception_handlers={Exception: server_error})
    app.add_middleware(SecurityHeaders, headers=headers)
    # Starlette would redirect `/status/T/` to an absolute URL on whatever Host the request named, token and all.
    app.router.redirect_slashes = False
    app.state.portal = portal
    return app
