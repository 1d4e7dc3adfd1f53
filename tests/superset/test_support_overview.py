"""The Support overview dashboard, as the admin sees it in a real browser."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
import yaml

from servops.paths import SUPERSET_DIR, Home
from servops.superset_bootstrap import bootstrap, metadata_db

pytestmark = pytest.mark.browser

ASSETS = SUPERSET_DIR / "assets"
DASHBOARD = yaml.safe_load((ASSETS / "dashboards" / "support_overview.yaml").read_text())
TOTAL_TICKETS = yaml.safe_load((ASSETS / "charts" / "total_tickets.yaml").read_text())

# What each chart on the page shows now. A chart is done once it drew something, said it
# has no data, or showed an error.
CHART_STATES = """() => Array.from(
  document.querySelectorAll('[data-test="chart-grid-component"]'),
  (chart) => {
    const alert = chart.querySelector('[role="alert"], .ant-alert-error');
    const bigNumber = chart.querySelector('.header-line');
    const state = {
      name: chart.dataset.testChartName,
      viz_type: chart.dataset.testVizType,
      loading: chart.querySelector('[data-test="loading-indicator"]') !== null,
      error: alert ? alert.innerText : null,
      empty: chart.querySelector('.ant-empty') !== null,
      drawn: chart.querySelector('[data-test="slice-container"] canvas') !== null
        || (bigNumber !== null && bigNumber.innerText.trim() !== ''),
      text: bigNumber ? bigNumber.innerText.trim() : null,
    };
    state.done = !state.loading && (state.error !== null || state.empty || state.drawn);
    return state;
  },
)"""


def bundle_chart_names() -> list[str]:
    return sorted(
        item["meta"]["sliceName"]
        for item in DASHBOARD["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    )


def test_support_overview_renders_every_chart(admin_page, superset_server):
    page = admin_page
    home: Home = superset_server.home
    expected = bundle_chart_names()

    page.goto(f"{superset_server.url}/superset/dashboard/{DASHBOARD['slug']}/")
    page.wait_for_function(
        f"(count) => {{ const charts = ({CHART_STATES})();"
        " return charts.length === count && charts.every((chart) => chart.done); }",
        arg=len(expected),
        timeout=90_000,
    )
    charts = page.evaluate(CHART_STATES)

    page.wait_for_timeout(1500)  # let the line charts finish their drawing animation
    screenshot = home.root / "screenshots" / "support-overview.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)

    assert page.get_by_text(DASHBOARD["dashboard_title"]).first.is_visible()
    assert sorted(chart["name"] for chart in charts) == expected
    failed = {chart["name"]: chart["error"] for chart in charts if chart["error"] is not None}
    assert not failed, f"charts with errors: {failed}"
    empty = [chart["name"] for chart in charts if chart["empty"] or not chart["drawn"]]
    assert not empty, f"charts with nothing to show: {empty}"

    with duckdb.connect(str(home.serving_db), read_only=True) as warehouse:
        (ticket_count,) = warehouse.execute("select count(*) from marts.fct_tickets").fetchone()
    (total,) = [chart for chart in charts if chart["name"] == TOTAL_TICKETS["slice_name"]]
    assert int(total["text"].replace(",", "")) == ticket_count


def test_bootstrap_again_changes_nothing(published_home, superset_credentials):
    """A second bootstrap succeeds, keeps the credentials, and duplicates nothing."""
    again = bootstrap(published_home, log=lambda line: print(line, flush=True))

    assert again == superset_credentials
    with sqlite3.connect(f"file:{metadata_db(published_home)}?mode=ro", uri=True) as metadata:
        counts = {
            table: metadata.execute(f"select count(*) from {table}").fetchone()[0]
            for table in ("dashboards", "dbs", "tables", "slices", "dashboard_slices")
        }
        (slug,) = metadata.execute("select slug from dashboards").fetchone()
    charts = len(bundle_chart_names())
    assert counts == {
        "dashboards": 1,
        "dbs": 1,
        "tables": len(list((ASSETS / "datasets").rglob("*.yaml"))),
        "slices": charts,
        "dashboard_slices": charts,
    }
    assert slug == DASHBOARD["slug"]
