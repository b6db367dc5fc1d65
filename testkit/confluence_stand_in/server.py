"""The stand-in HTTP server: real sockets on 127.0.0.1, so clients exercise their whole HTTP stack.

Routes: v2 under /wiki/api/v2, v1 Cloud under /wiki/rest/api, v1 Data Center under <context_path>/rest/api, and the
web UI pages a `webui_url` opens. Faults and auth apply to API paths only; the web UI is always served.
"""

from __future__ import annotations

import html
import json
import socket
import ssl
import struct
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from . import gateway, oauth
from .api_access import handle_v1_access, handle_v2_access
from .api_dc_permissions import JSON_RPC_PREFIX, handle_json_rpc, handle_rest_permissions, refused
from .api_users import handle_v1_users, handle_v2_users
from .api_v1 import expansions_of, handle_v1
from .api_v1_content import handle_v1_content
from .api_v2 import handle_v2
from .api_v2_content import handle_v2_content
from .common import ApiResult, Query, page_id_from_tiny_code, v1_error, v2_error
from .faults import DEFAULT_AUTH, Auth, Fault, Faults, Stats
from .oauth import OAuthServer
from .quirks import Quirks
from .site import Page, Site
from .v1_shapes import Links

JSON_TYPE = "application/json;charset=UTF-8"


class StandIn:
    """A Confluence stand-in serving `site`; use as a context manager (or `start()`/`stop()`)."""

    def __init__(
        self,
        site: Site,
        *,
        faults: Faults | None = None,
        quirks: Quirks | None = None,
        oauth: OAuthServer | None = None,
        auth: Auth = DEFAULT_AUTH,
        context_path: str = "/confluence",
        tls: tuple[str, str] | None = None,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        if not context_path.startswith("/") or context_path.endswith("/") or context_path == "/wiki":
            raise ValueError("context_path must look like '/confluence' (leading slash, no trailing slash, not /wiki)")
        self.site: Site = site  # replaced whole, never mutated, so requests see one consistent snapshot
        self.faults = faults or Faults()
        self.cloud_id = gateway.CLOUD_ID
        self.oauth = oauth  # an OAuth token endpoint at /oauth/token (tokens accepted through the gateway only)
        self.quirks = quirks or Quirks()  # the "real server" mode: list answers shaped as real servers send them
        self.auth = auth
        self.context_path = context_path
        self.stats = Stats()
        self.verbose = verbose
        self._tls = tls
        self._port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> StandIn:
        httpd = _Server(("127.0.0.1", self._port), _Handler)
        httpd.stand_in = self
        if self._tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile=self._tls[0], keyfile=self._tls[1])
            # handshake in the handler thread, not in the accept loop, so one slow client cannot stall the others
            httpd.socket = context.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="confluence-stand-in", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the stand-in is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """Site root, e.g. "http://127.0.0.1:41234" (no trailing slash); Cloud APIs live under /wiki."""
        scheme = "https" if self._tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def gateway_url(self) -> str:
        """This site through the stand-in's API gateway (the same server): `<url>/ex/confluence/<cloud id>`."""
        return f"{self.url}{gateway.PREFIX}{self.cloud_id}"

    def oauth_tokens(self) -> frozenset[str]:
        """Access tokens the OAuth endpoint issued that are still valid (none without an OAuth endpoint)."""
        return self.oauth.live() if self.oauth is not None else frozenset()

    @property
    def dc_url(self) -> str:
        """Data Center base URL: v1 at `<dc_url>/rest/api`."""
        return self.url + self.context_path

    # ---- request handling -----------------------------------------------------------------------------------
    def handle(self, handler: _Handler) -> None:
        body = _request_body(handler)  # read first, whatever the answer: keep-alive connections stay in step
        parts = urlsplit(handler.path)
        path = full_path = parts.path
        query: Query = parse_qs(parts.query, keep_blank_values=True)
        site_path = gateway.through_gateway(path, self.cloud_id)  # Atlassian's gateway: the same site behind it
        if path == oauth.PATH and handler.command == "POST" and self.oauth is not None:
            self.stats.count_other_request(path)
            _send_json(handler, self.oauth.token(body, handler.headers.get("Content-Type") or ""))
            return
        if path == "/_edge/tenant_info" or site_path == "":
            self.stats.count_other_request(path)
            _send_json(handler, gateway.tenant_info(self.cloud_id) if site_path is None else gateway.unknown_cloud())
            return
        path = site_path or path
        api = self._api_for(path)
        if api is None:
            self.stats.count_other_request(full_path)
            self._serve_web_ui(handler, path, query)
            return
        number = self.stats.next_api_request_number(full_path)
        delay = self.faults.latency_seconds(number)
        if delay > 0:
            time.sleep(delay)
        fault = self.faults.decide(number)
        if fault is Fault.RESET:
            self.stats.add("resets")
            _reset_connection(handler)
            return
        if fault is Fault.SERVER_ERROR:
            self.stats.add("status_5xx_sent")
            result = _api_error(api, self.faults.status_5xx_code, "SERVICE_UNAVAILABLE", "Service Unavailable")
            if self.faults.retry_after is not None and self.faults.status_5xx_code == 503:
                result.headers["Retry-After"] = self.faults.retry_after
            _send_json(handler, result)
            return
        if fault is Fault.RATE_LIMITED:
            self.stats.add("status_429_sent")
            _send_json(handler, self._rate_limited(api))
            return
        verdict = self.auth.verdict(handler.headers.get("Authorization"), site_path is not None, self.oauth_tokens())
        if verdict == "scope":
            self.stats.add("status_401_sent")
            _send_json(handler, gateway.scope_mismatch())
            return
        if verdict == "ok" and self.oauth is not None:
            self.oauth.spend(handler.headers.get("Authorization"))
        if verdict != "ok":
            self.stats.add("status_401_sent")
            message = "Current user not permitted to use Confluence" if api != "v2" else "Unauthorized"
            result = _api_error(api, 401, "UNAUTHORIZED", message)
            result.headers["WWW-Authenticate"] = 'Basic realm="Confluence", Bearer realm="Confluence"'
            _send_json(handler, result)
            return
        if api.startswith("download"):
            self._serve_download(handler, api, path, query, fault)
            return
        quirks, asked_limit = self.quirks, None
        if quirks.active:
            refused = quirks.refuse(api, path, query)
            if refused is not None:
                self.stats.add(f"quirk_{refused.status}_sent")
                _send_json(handler, refused)
                return
            query, asked_limit = quirks.rewrite_query(api, query)
        result = self._route_api(api, path, query, handler.command, body)
        if quirks.active:
            quirks.rewrite_answer(api, path, query, result, asked_limit, lambda q: self._route_api(api, path, q))
        if fault is Fault.SLOW:
            self.stats.add("slow_sent")
            time.sleep(self.faults.slow_seconds)
        if fault is Fault.MALFORMED_JSON and result.status == 200:
            self.stats.add("malformed_sent")
            encoded = json.dumps(result.body).encode()
            _send_bytes(handler, 200, encoded[: max(1, len(encoded) // 2)], JSON_TYPE, result.headers)
            return
        _send_json(handler, result)

    def _api_for(self, path: str) -> str | None:
        if path.startswith("/wiki/api/v2/"):
            return "v2"
        if path.startswith("/wiki/rest/api/"):
            return "v1-cloud"
        if path.startswith(f"{self.context_path}/rest/api/"):
            return "v1-dc"
        if path.startswith(f"{self.context_path}{JSON_RPC_PREFIX}"):
            return "rpc-dc"
        if path.startswith("/wiki/download/attachments/") or path.startswith(
            f"{self.context_path}/download/attachments/"
        ):
            return "download-v1" if path.startswith(self.context_path) else "download-v2"
        return None

    def _route_api(
        self, api: str, path: str, query: Query, method: str = "GET", body: bytes | None = None
    ) -> ApiResult:
        site = self.site  # one snapshot for the whole request
        forbidden = frozenset(self.faults.forbidden)
        refusals = dict(self.faults.dc_space_permissions)
        if api == "rpc-dc":
            return handle_json_rpc(site, path.removeprefix(self.context_path), method, body, refusals, forbidden)
        if api == "v2":
            subpath = path.removeprefix("/wiki/api/v2")
            users = handle_v2_users(site, subpath, method, body)
            if users is not None:
                return users
            if method != "GET":
                return v2_error(405, "METHOD_NOT_ALLOWED", "Method Not Allowed")
            content = handle_v2_content(site, subpath, query, self.url)
            if content is not None:
                return content
            access = handle_v2_access(site, subpath, query, self.url, forbidden)
            return access if access is not None else handle_v2(site, subpath, query, self.url)
        if api == "v1-cloud":
            subpath, base, context, flavor = path.removeprefix("/wiki/rest/api"), f"{self.url}/wiki", "/wiki", "cloud"
        else:
            subpath, base, context = path.removeprefix(f"{self.context_path}/rest/api"), self.dc_url, self.context_path
            flavor = "dc"
        links = Links(base, context, flavor)
        if method != "GET":
            return v1_error(405, "Method Not Allowed")
        users = handle_v1_users(site, subpath, query, links)
        if users is not None:
            return users
        content = handle_v1_content(site, subpath, query, links)
        if content is not None:
            return content
        if flavor == "dc":
            permissions = handle_rest_permissions(site, subpath, refusals, forbidden)
            if permissions is not None:
                return permissions
            if subpath.startswith("/space/") and "permissions" in expansions_of(query):
                answer = refused("expand", refusals, forbidden)
                if answer is not None:
                    return answer
        access = handle_v1_access(site, subpath, query, links, forbidden)
        return access if access is not None else handle_v1(site, subpath, query, base, context, flavor)

    def _serve_download(self, handler: _Handler, api: str, path: str, query: Query, fault: Fault | None) -> None:
        """`<base>/download/attachments/<container id>/<file name>`: the file's bytes (any `version` asked for is
        served as the current one), counted in `stats` as `download_requests` and `download_bytes`."""
        segments = [unquote(s) for s in path.split("/")]
        container_id, filename = segments[-2], segments[-1]
        attachment = next(
            (a for a in self.site.attachments_on(container_id) if a.title == filename and a.status == "current"), None
        )
        if attachment is None:
            _send_bytes(handler, 404, b"Not found", "text/plain;charset=UTF-8")
            return
        if fault is Fault.SLOW:
            time.sleep(self.faults.slow_seconds)
        self.stats.add("download_requests")
        self.stats.add("download_bytes", len(attachment.content))
        _send_bytes(handler, 200, attachment.content, attachment.media_type)

    def _rate_limited(self, api: str) -> ApiResult:
        result = _api_error(api, 429, "TOO_MANY_REQUESTS", "Rate limit exceeded")
        retry_after = self.faults.retry_after
        seconds = int(retry_after) if retry_after is not None and retry_after.isdigit() else 1
        reset_at = datetime.now(UTC) + timedelta(seconds=min(seconds, 3600))
        if retry_after is not None:
            result.headers["Retry-After"] = retry_after
        result.headers.update(
            {
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-NearLimit": "true",
                "X-RateLimit-Reset": reset_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        return result

    def _serve_web_ui(self, handler: _Handler, path: str, query: Query) -> None:
        page = self._web_ui_page(path, query)
        if page is None:
            _send_bytes(handler, 404, b"<html><body><h1>Page not found</h1></body></html>", "text/html;charset=UTF-8")
            return
        space = self.site.space(page.space_key)
        space_name = html.escape(space.name if space else page.space_key)
        title = html.escape(page.title)
        document = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} - {space_name} - Confluence</title>'
            f'</head><body><h1 id="title-text">{title}</h1>'
            f'<div id="main-content" class="wiki-content">{page.body}</div></body></html>'
        )
        _send_bytes(handler, 200, document.encode("utf-8"), "text/html;charset=UTF-8")

    def _web_ui_page(self, path: str, query: Query) -> Page | None:
        site = self.site
        segments = [unquote(s) for s in path.split("/")]
        page_id: str | None = None
        if len(segments) >= 6 and segments[1:3] == ["wiki", "spaces"] and segments[4] in ("pages", "blog"):
            page_id = segments[5]
            page = site.page(page_id) if segments[4] == "pages" else site.blog_post(page_id)  # type: ignore[assignment]
            return page if page is not None and page.space_key == segments[3] else None
        if path == f"{self.context_path}/pages/viewpage.action":
            page_id = (query.get("pageId") or [""])[-1]
        elif path.startswith("/wiki/x/") or path.startswith(f"{self.context_path}/x/"):
            page_id = page_id_from_tiny_code(path.rsplit("/", 1)[-1])
        return site.container(page_id) if page_id else None  # type: ignore[return-value]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stand_in: StandIn

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, ssl.SSLError, TimeoutError, OSError)):
            return  # clients hanging up (or our own injected resets) are routine here
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: clients reuse connections as they would with Confluence
    timeout = 60  # idle keep-alive connections release their thread
    server: _Server
    server_version = "confluence-stand-in"
    sys_version = ""

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.stand_in.handle(self)

    def do_POST(self) -> None:  # noqa: N802 (Cloud v2 /users-bulk is a POST)
        self.server.stand_in.handle(self)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.stand_in.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def _request_body(handler: _Handler) -> bytes | None:
    """The body of a POST (read fully, so the keep-alive connection stays in step); None for a GET."""
    if handler.command != "POST":
        return None
    try:
        length = int(handler.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    return handler.rfile.read(min(max(length, 0), 1_000_000)) if length else b""


def _api_error(api: str, status: int, code: str, message: str) -> ApiResult:
    """The error body in the calling API's own style (v2 `errors` list, v1 `statusCode`/`message`)."""
    return v2_error(status, code, message) if api == "v2" else v1_error(status, message)


def _send_json(handler: _Handler, result: ApiResult) -> None:
    # ensure_ascii keeps any lone surrogates in odd bodies encodable; clients decode \\u escapes back exactly
    encoded = json.dumps(result.body).encode("ascii")
    _send_bytes(handler, result.status, encoded, JSON_TYPE, result.headers)


def _send_bytes(
    handler: _Handler, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
) -> None:
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)
        handler.server.stand_in.stats.add("response_bytes", len(payload))
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        handler.close_connection = True  # the client gave up (e.g. timed out on a slow response)


def _reset_connection(handler: _Handler) -> None:
    """Close with RST and no response, as a dropped load-balancer connection looks to a client."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.wfile.close()
        handler.rfile.close()
        handler.connection.close()
    except OSError:
        pass
