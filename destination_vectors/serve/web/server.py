"""`destination-vectors web`: bind, say where the page is, serve until stopped.

The socket is bound here, before Uvicorn starts, so a port in use is a sentence (and `--port 0` picks a free port
and prints it). Loopback is the default; any other address must be asked for with `--host`, and the server then
warns that there is no login: whoever reaches the address sees what the access set at start allows.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from collections.abc import Callable

LOOPBACK = "127.0.0.1"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# Idle connections are kept 75 s (Uvicorn's default is 5 s): a browser reusing a connection the server is closing
# at that moment can show an empty-response error page instead of the page asked for.
UVICORN_SETTINGS = {
    "log_level": "warning",
    "access_log": False,
    "server_header": False,
    "lifespan": "off",
    "timeout_keep_alive": 75,
}


class BindError(OSError):
    """The address cannot be listened on; the message says what to do."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(host: str, port: int) -> list[str]:
    """The Host values (host:port) a browser may send: the address asked for, and loopback's names when it is one.
    A wildcard address (0.0.0.0, ::) adds this machine's name and addresses."""
    names = [_bracketed(host)]
    if is_loopback(host):
        names += LOOPBACK_NAMES
    elif host in ("0.0.0.0", "::"):
        hostname = socket.gethostname()
        names += [*LOOPBACK_NAMES, hostname, socket.getfqdn()]
        try:
            names += socket.gethostbyname_ex(hostname)[2]
        except OSError:
            pass
    return [f"{name}:{port}" for name in dict.fromkeys(names)] + ([name for name in names] if port == 80 else [])


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto given explicitly: asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP, and without it a reused
    # connection waits for the client's delayed ACK (about 40 ms) between a response's headers and its body
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as error:
        sock.close()
        if error.errno == 98:  # EADDRINUSE
            raise BindError(f"port {port} on {host} is in use: give another with --port (0 picks a free one)") from None
        raise BindError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def serve(build: Callable[[list[str]], object], host: str, port: int, served: str) -> None:
    """Bind, print the address (stderr: stdout stays free), then run until interrupted."""
    import uvicorn

    sock = bind(host, port)
    port = sock.getsockname()[1]
    url = f"http://{_bracketed(host)}:{port}/"
    app = build(allowed_hosts(host, port))
    print(f"Web page on {url} ({served}); Ctrl+C stops it", file=sys.stderr, flush=True)
    if not is_loopback(host):
        print(
            f"warning: listening on {host}, not loopback: there is no login, so anyone who can reach {url} can read "
            f"{served} of this index",
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(app, **UVICORN_SETTINGS)
    uvicorn.Server(config).run(sockets=[sock])
