"""The web page for tests: served in this process on a free loopback port, and a headless Debian Chromium to look at it.

The server is the real app (`build_app`) run by Uvicorn in a thread over the real index service, with the access the
test gives, as `destination-vectors web` builds it; only the process is shared, which spares an interpreter start and
model load per server. The browser is the system's Chromium through its chromium-driver, started so that it makes no
request of its own (no sync, no component updates, no QUIC) and keeps nothing between runs.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
INSTALL_HINT = (
    "the browser tests need Debian's Chromium and its driver: run `apt-get install -y chromium chromium-driver` "
    "(as root; .ci/run does it in CI)"
)


@contextmanager
def serving(
    config_path: str | Path, visibility: str = "public", principal: Any = None, email: str | None = None
) -> Iterator[str]:
    """The web page over the index `config_path` names, as `destination-vectors web` serves it (`principal` and
    `email` as --as-user and --as-email give them); yields its base URL."""
    import json

    import uvicorn

    from destination_vectors.config import DestinationConfig
    from destination_vectors.serve.service import Access, IndexService
    from destination_vectors.serve.web import open_site
    from destination_vectors.serve.web.app import build_app
    from destination_vectors.serve.web.server import UVICORN_SETTINGS, allowed_hosts, bind

    config = DestinationConfig.model_validate(json.loads(Path(config_path).read_text()))
    service = IndexService(config, Access(visibility=visibility, principal=principal, email=email))  # type: ignore[arg-type]
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = build_app(open_site(config, service), allowed_hosts("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, **UVICORN_SETTINGS))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the web server's thread ended before it started serving"
        assert time.monotonic() < deadline, "the web server did not start within 30 s"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _first(paths: tuple[str, ...], name: str) -> str:
    for path in paths:
        if Path(path).exists():
            return path
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(f"{name} is not installed: {INSTALL_HINT}")


@contextmanager
def chromium(width: int = 1200, height: int = 900) -> Iterator[Any]:
    """A headless Chromium driven by Selenium; a missing browser is an error saying how to install it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = _first(CHROMIUM, "chromium"), _first(CHROMEDRIVER, "chromedriver")
    profile = tempfile.mkdtemp(prefix="web-test-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        session.set_page_load_timeout(60)
        yield session
    finally:
        session.quit()
        shutil.rmtree(profile, ignore_errors=True)
