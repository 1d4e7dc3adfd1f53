"""The Support overview dashboard, as the admin sees it in a real browser."""

from __future__ import annotations

import sqlite3

import duckdb
import pytest
import yaml

from servops.paths import SUPERSET_DIR, Home
from servops.superset_bootstrap import bootstrap, load_roles, metadata_db

pytestmark = pytest.mark.browser

ASSETS = SUPERSET_DIR / "assets"
DASHBOARD = yaml.safe_load((ASSETS / "dashboards" / "support_overview.yaml").read_text())
TOTAL_TICKETS = yaml.safe_load((ASSETS / "charts" / "total_tickets.yaml").read_text())


def chart_names(config: dict) -> list[str]:
    return sorted(
        item["meta"]["sliceName"]
        for item in config["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    )


def test_support_overview_renders_every_chart(admin_page, superset_server, ui):
    page = admin_page
    home: Home = superset_server.home

    charts = ui.open_dashboard(page, superset_server, DASHBOARD["slug"])
    ui.save_screenshot(page, home, DASHBOARD["slug"])

    assert page.get_by_text(DASHBOARD["dashboard_title"]).first.is_visible()
    assert sorted(chart["name"] for chart in charts) == chart_names(DASHBOARD)
    failed = {chart["name"]: chart["error"] for chart in charts if chart["error"] is not None}
    assert not failed, f"charts with errors: {failed}"
    empty = [chart["name"] for chart in charts if chart["empty"] or not chart["drawn"]]
    assert not empty, f"charts with nothing to show: {empty}"

    with duckdb.connect(str(home.serving_db), read_only=True) as warehouse:
        (ticket_count,) = warehouse.execute("select count(*) from marts.fct_tickets").fetchone()
    (total,) = [chart for chart in charts if chart["name"] == TOTAL_TICKETS["slice_name"]]
    assert int(total["text"].replace(",", "")) == ticket_count

    # Charts draw at once: the theme the page carries turns ECharts' animation off.
    theme = page.evaluate(
        "() => JSON.parse(document.getElementById('app').dataset.bootstrap).common.theme.default"
    )
    assert theme["echartsOptionsOverrides"] == {"animation": False}


def test_bootstrap_again_changes_nothing(published_home, superset_credentials, users):
    """A second bootstrap succeeds, keeps every credential, and duplicates nothing."""
    again = bootstrap(published_home, log=lambda line: print(line, flush=True))

    assert again == superset_credentials
    with sqlite3.connect(f"file:{metadata_db(published_home)}?mode=ro", uri=True) as metadata:
        counts = {
            table: metadata.execute(f"select count(*) from {table}").fetchone()[0]
            for table in (
                "dashboards",
                "dbs",
                "tables",
                "slices",
                "dashboard_slices",
                "row_level_security_filters",
            )
        }
        slugs = {row[0] for row in metadata.execute("select slug from dashboards")}
        role_names = {row[0] for row in metadata.execute("select name from ab_role")}
        user_count = metadata.execute("select count(*) from ab_user").fetchone()[0]
    dashboards = [
        yaml.safe_load(path.read_text()) for path in (ASSETS / "dashboards").glob("*.yaml")
    ]
    placed = sum(len(chart_names(config)) for config in dashboards)
    roles = load_roles()
    assert counts == {
        "dashboards": len(dashboards),
        "dbs": 1,
        "tables": len(list((ASSETS / "datasets").rglob("*.yaml"))),
        "slices": len(list((ASSETS / "charts").glob("*.yaml"))),
        "dashboard_slices": placed,
        "row_level_security_filters": sum(len(role.get("rls") or {}) for role in roles),
    }
    assert slugs == {config["slug"] for config in dashboards}
    assert {role["name"] for role in roles} <= role_names
    assert user_count == len(roles) + 1  # and the admin
