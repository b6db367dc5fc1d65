"""Where the web page listens and which Host values it answers."""

from __future__ import annotations

import socket

import pytest

from destination_vectors.serve.web.server import BindError, allowed_hosts, bind, is_loopback


def test_loopback_answers_its_names_with_the_port_only() -> None:
    hosts = allowed_hosts("127.0.0.1", 8080)
    assert {"127.0.0.1:8080", "localhost:8080", "[::1]:8080"} <= set(hosts), hosts
    assert not any(h.endswith(":8081") or h == "localhost" for h in hosts), hosts


def test_a_named_address_answers_that_name_only() -> None:
    assert allowed_hosts("192.0.2.7", 9000) == ["192.0.2.7:9000"]
    assert allowed_hosts("::1", 9000)[0] == "[::1]:9000"


def test_wildcard_adds_this_machines_names() -> None:
    hosts = allowed_hosts("0.0.0.0", 8080)
    assert f"{socket.gethostname()}:8080" in hosts and "127.0.0.1:8080" in hosts, hosts


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("wiki.example", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_port_in_use_is_a_sentence() -> None:
    first = bind("127.0.0.1", 0)
    try:
        port = first.getsockname()[1]
        with pytest.raises(BindError, match=rf"port {port} on 127.0.0.1 is in use: give another with --port"):
            bind("127.0.0.1", port)
    finally:
        first.close()
