"""Every service-operations role, logged in as its demo user in a real browser.

Each role opens its dashboard: every chart renders, none errors or is empty, and a headline
number equals the same metric in SQL against the warehouse. It cannot open another role's
dashboard, and the support team lead sees only their team's rows.
"""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

from servops.superset_bootstrap import load_roles, metadata_db

pytestmark = pytest.mark.browser

ROLES = load_roles()
UNSOLVED = "current_status in ('new', 'open', 'pending', 'on_hold')"
LEAD_TEAM = "support_t1"

# Per dashboard: the headline chart, and the same number in SQL over the marts.
HEADLINES = {
    "vp-service-operations": ("Tickets created", "select count(*) from marts.fct_tickets"),
    "service-strategy": (
        "First reply SLA",
        "select 100.0 * count(*) filter (where not is_first_reply_sla_breached)"
        " / count(is_first_reply_sla_breached) from marts.fct_tickets",
    ),
    "planning-revenue": (
        "MRR",
        "select sum(closing_mrr_amount) from marts.fct_mrr_movements_monthly"
        " where month_start_date = (select max(month_start_date)"
        " from marts.fct_mrr_movements_monthly)",
    ),
    "customer-operations": (
        "Occupancy",
        "select 100.0 * sum(occupied_minutes) / sum(scheduled_minutes) from marts.fct_agent_daily",
    ),
    "business-capabilities": (
        "Self-service ratio",
        "select sum(kb_customer_count) / sum(ticket_customer_count) from marts.fct_kb_activity",
    ),
    "automation": ("Conversations", "select count(*) from marts.fct_conversations"),
    "technology": ("Article views", "select sum(article_view_count) from marts.fct_kb_activity"),
    "customer-success": (
        "Customers onboarding",
        "select count(distinct customer_id) from marts.fct_onboarding",
    ),
    # The lead's number is their team's only (row-level security).
    "team-lead": (
        "Queue",
        f"select count(*) from marts.fct_tickets where {UNSOLVED} and team_id = '{LEAD_TEAM}'",
    ),
}
# More headlines, on the charts of the plan, forecast and automation marts.
MORE_HEADLINES = {
    "vp-service-operations": [
        (
            "Cost per ticket",
            "select sum(daily_budget_eur) / sum(tickets_solved_count)"
            " from marts.fct_team_plan_daily",
        ),
    ],
    "planning-revenue": [
        (
            "Spend against budget",
            "select 100.0 * (sum(actual_value) - sum(prorated_planned_value))"
            " / sum(prorated_planned_value) from planning.fct_budget_variance"
            " where metric = 'spend_eur'",
        ),
    ],
    "customer-operations": [
        (
            "Handle time",
            "select sum(occupied_minutes) / sum(tickets_replied_count) from marts.fct_agent_daily"
            " where tickets_replied_count > 0 and occupied_minutes is not null",
        ),
    ],
    # Read from the monthly rollup: the same number as counting fct_mrr_monthly's customers.
    "customer-success": [
        (
            "Paying customers",
            "select count(distinct customer_id) filter (where is_active) from marts.fct_mrr_monthly"
            " where month_start_date = (select max(month_start_date) from marts.fct_mrr_monthly)",
        ),
    ],
    "automation": [
        (
            "Automatic resolutions",
            "select count(*) from marts.fct_automation_actions where is_automatic_resolution",
        ),
        ("Agent hours saved", "select sum(minutes_saved) / 60 from marts.fct_automation_actions"),
    ],
}
# Charts that may show "no data", and only while their mart is empty: account health starts
# at the third month end of history, which the small test company (45 days) never reaches.
EMPTY_ONLY_WITHOUT_ROWS = {
    "Accounts at risk (health below 70)": "select count(*) from planning.fct_account_health",
    "Mean health score": "select count(*) from planning.fct_account_health",
    "Lowest account health (latest snapshot)": (
        "select count(*) from (select arg_max(health_score, snapshot_date) as latest_score"
        " from planning.fct_account_health group by customer_id) where latest_score < 70"
    ),
}


def shown_number(text: str) -> tuple[float, float]:
    """A big number's text as a float, and half a unit of its last shown digit."""
    # d3-format writes negatives with a true minus sign.
    digits = text.replace(",", "").replace("\u2212", "-").strip()
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return float(digits), 0.5 * 10**-decimals + 1e-9


def warehouse_value(home, sql: str) -> float:
    with duckdb.connect(str(home.serving_db), read_only=True) as warehouse:
        (value,) = warehouse.execute(sql).fetchone()
    return float(value)


def other_dashboard(role: dict) -> str:
    """A dashboard this role is not given (another role's private one)."""
    return next(
        slug for other in ROLES for slug in other["dashboards"] if slug not in role["dashboards"]
    )


def test_every_role_has_a_headline():
    assert {role["dashboards"][0] for role in ROLES} == set(HEADLINES)


@pytest.mark.parametrize("role", ROLES, ids=[role["user"] for role in ROLES])
def test_role_opens_its_dashboard_and_no_other(role, users, page_as, superset_server, ui):
    home = superset_server.home
    page = page_as(users[role["name"]])
    slug = role["dashboards"][0]

    charts = ui.open_dashboard(page, superset_server, slug)
    ui.save_screenshot(page, home, slug)

    expected = ui.chart_names(ui.dashboard_config(slug))
    assert sorted(chart["name"] for chart in charts) == expected
    failed = {chart["name"]: chart["error"] for chart in charts if chart["error"] is not None}
    assert not failed, f"{slug}: charts with errors: {failed}"
    empty = [chart["name"] for chart in charts if chart["empty"] or not chart["drawn"]]
    allowed = [
        name
        for name in empty
        if name in EMPTY_ONLY_WITHOUT_ROWS
        and warehouse_value(home, EMPTY_ONLY_WITHOUT_ROWS[name]) == 0
    ]
    assert not set(empty) - set(allowed), f"{slug}: charts with nothing to show: {empty}"

    if role.get("rls"):
        # Row-level security on the page: the queue by team lists the lead's team alone.
        (by_team,) = [chart for chart in charts if chart["name"] == "Queue by team and status"]
        assert by_team["rows"] and {row[0] for row in by_team["rows"]} == {LEAD_TEAM}

    for headline, sql in [HEADLINES[slug], *MORE_HEADLINES.get(slug, [])]:
        (chart,) = [chart for chart in charts if chart["name"] == headline]
        shown, tolerance = shown_number(chart["text"])
        assert abs(shown - warehouse_value(home, sql)) <= tolerance, (headline, chart["text"])

    # Another role's dashboard: the API refuses it, and the page draws none of its charts.
    forbidden = other_dashboard(role)
    response = ui.api(page, superset_server, "GET", f"/api/v1/dashboard/{forbidden}")
    assert response.status in (403, 404), (forbidden, response.status)
    page.goto(f"{superset_server.url}/superset/dashboard/{forbidden}/")
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-test="chart-grid-component"]').count() == 0


def test_team_lead_sees_only_their_team(users, page_as, superset_server, ui):
    """Through the chart data API, as the lead: every row of every filtered dataset is theirs."""
    (lead_role,) = [role for role in ROLES if role.get("rls")]
    page = page_as(users[lead_role["name"]])
    with sqlite3.connect(f"file:{metadata_db(superset_server.home)}?mode=ro", uri=True) as meta:
        dataset_ids = dict(meta.execute("select table_name, id from tables").fetchall())

    for table in lead_role["rls"]:
        payload = {
            "datasource": {"id": dataset_ids[table], "type": "table"},
            "queries": [
                {
                    "columns": ["team_id"],
                    "metrics": [
                        {"expressionType": "SQL", "sqlExpression": "count(*)", "label": "rows"}
                    ],
                    "row_limit": 100,
                }
            ],
            "result_format": "json",
            "result_type": "full",
        }
        response = ui.api(page, superset_server, "POST", "/api/v1/chart/data", payload)
        assert response.status == 200, response.text()
        rows = response.json()["result"][0]["data"]
        assert [row["team_id"] for row in rows] == [LEAD_TEAM], (table, rows)
        with duckdb.connect(str(superset_server.home.serving_db), read_only=True) as warehouse:
            (team_rows, all_rows) = warehouse.execute(
                f"select count(*) filter (where team_id = '{LEAD_TEAM}'), count(*) "
                f"from marts.{table}"
            ).fetchone()
        assert rows[0]["rows"] == team_rows < all_rows
