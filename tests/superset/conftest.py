"""A real Superset on the published warehouse, and headless Chromium to look at it.

Session-scoped: one bootstrap and one server for every dashboard test. ``published_home``
comes from ``tests/conftest.py``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from servops.paths import Home
from servops.superset_bootstrap import Credentials, bootstrap, start_server, stop_server

CHROMIUM = "/usr/bin/chromium"
# Headless, as root, and with nothing reaching for the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class RunningSuperset:
    home: Home
    url: str
    credentials: Credentials


@pytest.fixture(scope="session")
def superset_credentials(published_home: Home) -> Credentials:
    """Superset bootstrapped once on the published home."""
    return bootstrap(published_home, log=lambda line: print(line, flush=True))


@pytest.fixture(scope="session")
def superset_server(
    published_home: Home, superset_credentials: Credentials
) -> Iterator[RunningSuperset]:
    port = _free_port()
    proc = start_server(published_home, port=port, log=lambda line: print(line, flush=True))
    try:
        yield RunningSuperset(published_home, f"http://127.0.0.1:{port}", superset_credentials)
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def admin_page(browser, superset_server: RunningSuperset):
    """A page logged in as the admin through the real login form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Only this server: anything else (usage pixels, fonts, tiles) is refused outright.
    origin = re.escape(superset_server.url)
    context.route(re.compile(rf"^(?!{origin}/)https?://"), lambda route: route.abort())
    page = context.new_page()
    log_in(page, superset_server)
    try:
        yield page
    finally:
        context.close()


def log_in(page, server: RunningSuperset) -> None:
    # The login page posts its UI events to /superset/log/ as the anonymous user; when that
    # answer lands after the login's, its cookie replaces the new session (seen about one
    # time in four). Those events are not under test, so they are answered here.
    def swallow_event_log(route):
        route.fulfill(status=200, content_type="application/json", body="{}")

    page.route("**/superset/log/**", swallow_event_log)
    page.goto(f"{server.url}/login/")
    page.fill("#username", server.credentials.username)
    page.fill("#password", server.credentials.password)
    page.click("button[type=submit]")
    page.wait_for_url("**/superset/welcome/**", wait_until="domcontentloaded", timeout=60_000)
    page.unroute("**/superset/log/**", swallow_event_log)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
