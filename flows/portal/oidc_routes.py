"""The portal's two OIDC routes: `/oidc/start/T` (the verify page's button) and `/oidc/callback` (the provider's
answer). The protocol itself is flows/portal/oidc_login.py; this is only its HTTP side.

The login's cookie is HttpOnly, scoped to /oidc, SameSite=Lax (the provider's redirect back is a top-level
GET from another site, which Strict would strip) and Secure when the portal's public URL is https.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as HttpRequest
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from flows.errors import SAFE_ERRORS
from flows.portal.oidc_login import COOKIE_NAME, begin, finish, login_offered
from identity.errors import AlreadyVerified

if TYPE_CHECKING:
    from flows.portal.app import Portal

COOKIE_PATH = "/oidc"
_MAX_PARAMS = 10

log = logging.getLogger("dsar.portal")


def oidc_offered(portal: Portal) -> bool:
    """Whether the verify page shows the login button."""
    identity = portal.rt.config.identity
    return "oidc" in identity.methods and login_offered(identity.oidc)


def button_label(portal: Portal, language: str) -> str | None:
    """The login button's label in `language` from `[identity.oidc] button`; None when there is no button."""
    if not oidc_offered(portal):
        return None
    return next((label for code, label in portal.rt.config.oidc().button.items() if code == language), None)


def oidc_routes(portal: Portal) -> list[Route]:
    """The routes; without the login in config (`oidc` among identity.methods, with its endpoints) both answer
    the neutral page a bad link gets."""
    offered = oidc_offered(portal)
    redirect_uri = portal.rt.config.delivery.public_url.rstrip("/") + "/oidc/callback"

    async def start(request: HttpRequest) -> Response:
        held = await portal.request_of("verify", request.path_params["token"])
        if held is None or not offered:
            return portal.gone(request)
        if not portal.limits.codes_per_client.allow(portal.client_key(request)):
            return portal.limited(request)
        try:
            url, cookie = await run_in_threadpool(begin, portal.rt, held.id, redirect_uri)
        except AlreadyVerified:
            return portal.already_verified(request)
        except SAFE_ERRORS as exc:
            log.info("oidc login not started (%s)", type(exc).__name__)
            return portal.gone(request)
        response = RedirectResponse(url, status_code=302)
        response.set_cookie(COOKIE_NAME, cookie, max_age=portal.rt.config.oidc().nonce_ttl_minutes * 60,
                            path=COOKIE_PATH, httponly=True, samesite="lax", secure=portal.secure_cookies)
        return response

    async def callback(request: HttpRequest) -> Response:
        if not offered:
            return portal.gone(request)
        params = request.query_params
        query = {name: params[name] for name in list(params.keys())[:_MAX_PARAMS]}
        cookie = request.cookies.get(COOKIE_NAME, "")
        try:
            request_id, _ = await run_in_threadpool(finish, portal.rt, query, cookie, redirect_uri)
        except AlreadyVerified:
            # Verified meanwhile (a code, another tab): the status link is in the owner's mail, not for this login.
            response: Response = portal.already_verified(request)
        except SAFE_ERRORS as exc:
            # One page for a cancelled login, a forged callback, a refused code or token: nothing to learn.
            log.info("oidc login failed (%s)", type(exc).__name__)
            response = portal.message(request, "oidc_failed_title", "oidc_failed_body", 400)
        else:
            log.info("request verified by oidc from the portal")
            response = await portal.verified(await run_in_threadpool(portal.rt.store.get, request_id))
        response.delete_cookie(COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="lax",
                               secure=portal.secure_cookies)
        return response

    return [
        Route("/oidc/start/{token}", start, methods=["GET"], name="oidc_start"),
        Route("/oidc/callback", callback, methods=["GET"], name="oidc_callback"),
    ]
