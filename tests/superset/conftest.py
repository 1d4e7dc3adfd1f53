"""A real Superset on the published warehouse, and headless Chromium to look at it.

Session-scoped: one bootstrap and one server for every dashboard test. ``published_home``
comes from ``tests/conftest.py``. The helpers below (log in, open a dashboard and wait for
every chart, call the API as the logged-in user) are shared by the test modules here.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml

from servops.paths import SUPERSET_DIR, Home
from servops.superset_bootstrap import (
    Credentials,
    DemoUser,
    bootstrap,
    browser_log_in,
    demo_users,
    start_server,
    stop_server,
)

ASSETS = SUPERSET_DIR / "assets"

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


@pytest.fixture(scope="session")
def users(superset_credentials: Credentials, published_home: Home) -> dict[str, DemoUser]:
    """Every role's demo user (after the bootstrap), by role name."""
    return {user.role: user for user in demo_users(published_home)}


@pytest.fixture()
def admin_page(browser, superset_server: RunningSuperset):
    """A page logged in as the admin through the real login form."""
    page = new_page(browser, superset_server)
    log_in(page, superset_server)
    try:
        yield page
    finally:
        page.context.close()


@pytest.fixture()
def page_as(browser, superset_server: RunningSuperset):
    """``page_as(user)``: a fresh browser context logged in as a demo user."""
    pages = []

    def open_page(user: DemoUser):
        page = new_page(browser, superset_server)
        pages.append(page)
        log_in(page, superset_server, Credentials(user.username, user.password))
        return page

    try:
        yield open_page
    finally:
        for page in pages:
            page.context.close()


def new_page(browser, server: RunningSuperset):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # Only this server: anything else (usage pixels, fonts, tiles) is refused outright.
    origin = re.escape(server.url)
    context.route(re.compile(rf"^(?!{origin}/)https?://"), lambda route: route.abort())
    return context.new_page()


def log_in(page, server: RunningSuperset, credentials: Credentials | None = None) -> None:
    browser_log_in(page, server.url, credentials or server.credentials)


# What each chart on the page shows now. A chart is done once it drew something, said it
# has no data, or showed an error. Tables and pivot tables count as drawn with a body row.
CHART_STATES = """() => Array.from(
  document.querySelectorAll('[data-test="chart-grid-component"]'),
  (chart) => {
    const alert = chart.querySelector('[role="alert"], .ant-alert-error');
    const bigNumber = chart.querySelector('.header-line');
    const bigText = bigNumber ? bigNumber.innerText.trim() : '';
    const rows = Array.from(
      chart.querySelectorAll('table tbody tr'),
      (row) => Array.from(row.querySelectorAll('td, th'), (cell) => cell.innerText.trim()),
    );
    const state = {
      name: chart.dataset.testChartName,
      viz_type: chart.dataset.testVizType,
      loading: chart.querySelector('[data-test="loading-indicator"]') !== null,
      error: alert ? alert.innerText : null,
      empty: chart.querySelector('.ant-empty') !== null
        || chart.innerText.includes('No results were returned'),
      drawn: chart.querySelector('[data-test="slice-container"] canvas') !== null
        || (bigText !== '' && bigText !== 'No data')
        || rows.length > 0,
      text: bigNumber ? bigText : null,
      rows: rows,
    };
    state.done = !state.loading && (state.error !== null || state.empty || state.drawn);
    return state;
  },
)"""


class SupersetUI:
    """Browser and API helpers for the tests here (a fixture: test modules cannot import
    conftest under --import-mode=importlib)."""

    CHART_STATES = CHART_STATES

    @staticmethod
    def free_port() -> int:
        """A port nothing listens on now, for a server of a test's own."""
        return _free_port()

    @staticmethod
    def dashboard_config(slug: str) -> dict:
        """The bundle's dashboard with this slug."""
        for path in sorted((ASSETS / "dashboards").glob("*.yaml")):
            config = yaml.safe_load(path.read_text())
            if config["slug"] == slug:
                return config
        raise KeyError(f"no dashboard with slug {slug!r} in {ASSETS / 'dashboards'}")

    @staticmethod
    def chart_names(config: dict) -> list[str]:
        return sorted(
            item["meta"]["sliceName"]
            for item in config["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        )

    @staticmethod
    def open_dashboard(page, server: RunningSuperset, slug: str, timeout_ms: int = 90_000) -> list:
        """Open a dashboard and wait until every chart is done; return the charts' states."""
        expected = len(SupersetUI.chart_names(SupersetUI.dashboard_config(slug)))
        page.goto(f"{server.url}/superset/dashboard/{slug}/")
        page.wait_for_function(
            f"(count) => {{ const charts = ({CHART_STATES})();"
            " return charts.length === count && charts.every((chart) => chart.done); }",
            arg=expected,
            timeout=timeout_ms,
        )
        return page.evaluate(CHART_STATES)

    @staticmethod
    def save_screenshot(page, home: Home, slug: str) -> None:
        """A PNG of the whole dashboard under <home>/screenshots/.

        The viewport grows to the page's height first (a full-page capture would resize it
        mid-shot and make the charts redraw), then the charts finish drawing again.
        """
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": page.viewport_size["width"], "height": height})
        page.wait_for_function(
            f"() => ({CHART_STATES})().every((chart) => chart.done)", timeout=60_000
        )
        page.wait_for_timeout(1500)  # the charts redraw for the new size (debounced)
        screenshot = home.root / "screenshots" / f"{slug}.png"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))

    @staticmethod
    def api(page, server: RunningSuperset, method: str, path: str, data: dict | None = None):
        """Call Superset's REST API as the page's logged-in user, with its CSRF token."""
        token = page.request.get(f"{server.url}/api/v1/security/csrf_token/").json()["result"]
        return page.request.fetch(
            f"{server.url}{path}",
            method=method,
            data=data,
            headers={"X-CSRFToken": token, "Referer": f"{server.url}/sqllab/"},
        )


@pytest.fixture(scope="session")
def ui() -> type[SupersetUI]:
    return SupersetUI


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
