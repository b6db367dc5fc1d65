"""The web page as a Starlette app: routes, templates, the Host/Origin check and the error pages.

Read-only: every route is GET (HEAD), nothing is written, no cookie is set. Requests whose `Host` or `Origin` is not
the server's own are refused with the MCP SDK's own check (`TransportSecurityMiddleware`, which the MCP server's HTTP
mode runs), so a web site open in the same browser cannot read the index through DNS rebinding. Responses forbid
anything from elsewhere (Content-Security-Policy `default-src 'self'`), framing, and sending the query on as a Referer
when a Confluence link is followed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from destination_vectors.serve.inventory import Inventory
from destination_vectors.serve.service import IndexService, ServiceError
from destination_vectors.serve.web import views
from destination_vectors.serve.web.health import LedgerView

logger = logging.getLogger("airbyte")
HERE = Path(__file__).parent
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


@dataclass
class Site:
    """What every view reads: the service (access fixed), the listings through it, the ledger."""

    service: IndexService
    inventory: Inventory
    ledger: LedgerView
    index_name: str  # where the index is, for explanations ("table X in folder Y")


class OwnOriginOnly:
    """Refuse requests whose Host or Origin is not one of `hosts` (421 / 403), before any route runs."""

    def __init__(self, app: ASGIApp, hosts: Sequence[str]) -> None:
        self.app = app
        self.check = TransportSecurityMiddleware(
            TransportSecuritySettings(
                enable_dns_rebinding_protection=True,
                allowed_hosts=list(hosts),
                allowed_origins=[f"http://{host}" for host in hosts],
            )
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = await self.check.validate_request(Request(scope))
        if refused is not None:
            await refused(scope, receive, send)
            return

        started, cpu = time.perf_counter(), time.process_time()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: the server's own time for the answer (wall, and the process's CPU), shown by
                # browsers' developer tools and read by bench/web_search.py
                wall, used = (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000
                timing = f"app;dur={wall:.2f}, cpu;dur={used:.2f}".encode()
                headers = [*message.get("headers", []), *SECURITY_HEADERS, (b"server-timing", timing)]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def build_app(site: Site, hosts: Sequence[str]) -> ASGIApp:
    """The ASGI app; `hosts` are the `host:port` values a browser sends to reach this server."""
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship in the package: no stat of each one per request
    )
    env.globals["served"] = site.service.access.describe()

    def render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
        runs = site.ledger.runs()
        page = env.get_template(template).render(
            request=request, path=request.url.path, last_failed=runs.last_failed, ledger_note=runs.note, **context
        )
        return HTMLResponse(page, status_code=status)

    def view(template: str, build: Callable[[Request], dict[str, Any]]) -> Callable[[Request], Any]:
        def endpoint(request: Request) -> HTMLResponse:
            try:
                return render(request, template, build(request))
            except views.NotFound as error:
                return render(request, "error.html", {"title": "Not found", "message": str(error)}, 404)
            except views.BadRequest as error:
                return render(request, "error.html", {"title": "Cannot search like that", "message": str(error)}, 400)
            except ServiceError as error:
                return render(request, "error.html", _unavailable(site, str(error)), 503)
            except Exception as error:  # a damaged or unreadable index: a sentence, not a stack trace
                logger.exception("the web page could not read the index")
                return render(request, "error.html", _unavailable(site, _reason(error)), 503)

        return endpoint

    async def not_found(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "error.html", {"title": "Not found", "message": "there is no such page here"}, 404)
        return Response(exc.detail, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    routes = [
        Route("/", view("search.html", lambda r: views.search_view(site.service, site.inventory, r.query_params))),
        Route("/synced", view("synced.html", lambda r: views.synced_view(site.inventory))),
        Route(
            "/synced/{space_key:path}",
            view("space.html", lambda r: views.space_view(site.inventory, r.path_params["space_key"])),
        ),
        Route(
            "/attachments", view("attachments.html", lambda r: views.attachments_view(site.inventory, r.query_params))
        ),
        Route("/health", view("health.html", lambda r: views.health_view(site.ledger.runs(), _visible_spaces(site)))),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found})
    return OwnOriginOnly(app, hosts)


def _visible_spaces(site: Site) -> set[str] | None:
    """The spaces the server shows (None: everything, for --visibility all); none when the index cannot be read."""
    access = site.service.access
    if access.principal is None and access.visibility == "all":
        return None
    try:
        return set(site.inventory.summary().facets()["spaces"])
    except Exception:  # the health view needs no table: name no space rather than fail
        return set()


def _unavailable(site: Site, reason: str) -> dict[str, Any]:
    return {
        "title": "The index cannot be read",
        "message": reason,
        "hint": f"The page reads {site.index_name}. Run a sync into it (or check the path in the config), "
        "then reload this page.",
    }


def _reason(error: Exception) -> str:
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first[:300]}" if first else type(error).__name__
