"""The download file route alone in an app, with a link policy the test controls."""

from starlette.applications import Starlette
from starlette.routing import Route

from flows.portal.download_file import FileRoute, LinkPolicy

ALWAYS = LinkPolicy(spend=lambda claims: True, usable=lambda claims: True, resumable=lambda claims: True)


def file_app(route: FileRoute) -> Starlette:
    return Starlette(routes=[
        Route("/download/{token}/file", route.respond, methods=["GET", "HEAD"], name="file"),
    ])
