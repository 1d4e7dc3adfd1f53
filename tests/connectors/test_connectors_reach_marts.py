"""Every connector's fixture reaches its marts: one fresh lake, one real dbt build.

All fixtures (JSON Lines, Zendesk API JSON and ELT tables, Stripe Events, a survey CSV,
Intercom conversations) are ingested into one lake, the warehouse is built once with
dbt-duckdb (planning models excluded: they are not fed by connectors and are slow), and
each test reads values from its fixture back out of the mart that should hold them.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import connectors
from servops.ingest import ingest_file
from servops.paths import DBT_PROJECT_DIR, PROJECT_ROOT, Home

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "connectors"
ZENDESK_TABLES = ["ticket", "ticket_comment", "ticket_field_history", "user", "group", "schedule"]
INPUTS = {
    "jsonl": ["jsonl/tickets.jsonl", "jsonl/late.jsonl"],
    "zendesk": ["zendesk/incremental_export.json"],
    "zendesk_tables": [f"zendesk_tables/{table}.csv" for table in ZENDESK_TABLES],
    "stripe": ["stripe/events.json"],
    "surveys": ["surveys/nps_export.csv"],
    "intercom": ["intercom/conversations.json"],
}
STRIPE_CUSTOMER = "cus_NffrFeUfNV2Hib"
STRIPE_INVOICE = "in_1MtHbELkdIwHu7ixl4OzzPMv"


def utc(*parts: int) -> dt.datetime:
    # Marts hold UTC instants as plain timestamps, so DuckDB hands them back naive.
    return dt.datetime(*parts)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The build database after ingesting every fixture and one ``dbt build``."""
    root = tmp_path_factory.mktemp("connectors_marts")
    home = Home(root / "home")
    for name, files in INPUTS.items():
        module = connectors.get(name)
        for file in files:
            ingest_file(home.lake, name, module.read, FIXTURES / file)
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
            *("--target-path", str(root / "target"), "--log-path", str(root / "logs")),
            *("--exclude", "planning"),
        ],
        env={**os.environ, **home.env()},
        capture_output=True,
        text=True,
    )
    # Every mart's data tests run on connector data too: a failing one fails here.
    assert result.returncode == 0, result.stdout[-4000:]
    connection = duckdb.connect(str(home.build_db), read_only=True)
    yield connection
    connection.close()


def rows(connection: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return connection.execute(sql).fetchall()


def test_ticket_fixtures_reach_fct_tickets(warehouse: duckdb.DuckDBPyConnection) -> None:
    tickets = {
        row[0]: row[1:]
        for row in rows(
            warehouse,
            "select ticket_id, customer_id, team_id, channel, priority, created_at, "
            "first_reply_calendar_minutes, last_solved_at, current_status from marts.fct_tickets",
        )
    }
    # Zendesk API JSON, Zendesk ELT tables and JSON Lines; nothing else.
    assert set(tickets) == {"35436", "35437", "1001", "1002", "JL-T1", "JL-T2"}
    # Zendesk Incremental Export: an urgent web ticket solved the next day; one on hold.
    assert tickets["35436"] == (
        "509974",
        "98738",
        "web",
        "urgent",
        utc(2025, 3, 14, 9, 12),
        38.0,
        utc(2025, 3, 15, 16, 0),
        "solved",
    )
    assert tickets["35437"][-2:] == (None, "on_hold")
    # Zendesk tables (ticket.csv + ticket_field_history.csv): solved 3 h 15 min after creation.
    assert tickets["1001"] == (
        "7001",
        "9001",
        "email",
        "high",
        utc(2025, 3, 10, 8, 0),
        195.0,
        utc(2025, 3, 10, 11, 15),
        "solved",
    )
    assert tickets["1002"][-1] == "on_hold"
    # JSON Lines: 09:00+01:00 is 08:00 UTC; the first reply came 30 min later.
    assert tickets["JL-T1"] == (
        "C-1",
        "billing",
        "email",
        "high",
        utc(2025, 3, 3, 8, 0),
        30.0,
        utc(2025, 3, 4, 10, 0),
        "solved",
    )
    # late.jsonl: received six weeks later, it still solves JL-T2 on 7 March.
    assert tickets["JL-T2"][-2:] == (utc(2025, 3, 7, 16, 0), "solved")


def test_stripe_events_reach_fct_mrr_monthly(warehouse: duckdb.DuckDBPyConnection) -> None:
    mrr = rows(
        warehouse,
        "select customer_id, month_start_date, mrr_amount, mrr_movement, mrr_movement_amount "
        "from marts.fct_mrr_monthly order by customer_id, month_start_date",
    )
    # 3 seats x 49.00 (created 1 March), 5 seats from 11 March, deleted 10 April; and a
    # yearly 1,200.00 with 20 % off, 80.00 a month. The USD subscription is quarantined.
    assert mrr == [
        ("cus_Annual", dt.date(2025, 3, 1), Decimal("80.00"), "new", Decimal("80.00")),
        ("cus_Annual", dt.date(2025, 4, 1), Decimal("80.00"), "unchanged", Decimal("0.00")),
        (STRIPE_CUSTOMER, dt.date(2025, 3, 1), Decimal("245.00"), "new", Decimal("245.00")),
        (STRIPE_CUSTOMER, dt.date(2025, 4, 1), Decimal("0.00"), "churn", Decimal("-245.00")),
    ]
    churn = rows(
        warehouse,
        "select customer_id, churned_at, churned_mrr_amount from marts.fct_customer_churn",
    )
    assert churn == [(STRIPE_CUSTOMER, utc(2025, 4, 10, 9, 0), Decimal("245.00"))]


def test_stripe_events_reach_fct_invoices(warehouse: duckdb.DuckDBPyConnection) -> None:
    invoices = {
        row[0]: row[1:]
        for row in rows(
            warehouse,
            "select invoice_id, customer_id, subscription_id, issued_at, invoiced_amount, "
            "paid_at, paid_amount, failed_payment_count, refunded_amount, invoice_status "
            "from marts.fct_invoices",
        )
    }
    assert set(invoices) == {STRIPE_INVOICE, "in_failed"}
    # invoice.finalized 147.00, invoice.paid 147.00, then charge.refunded 49.00 of it.
    assert invoices[STRIPE_INVOICE] == (
        STRIPE_CUSTOMER,
        "sub_1MowQVLkdIwHu7ixeRlqHVzs",
        utc(2025, 3, 1, 9, 0, 30),
        Decimal("147.00"),
        utc(2025, 3, 1, 9, 1),
        Decimal("147.00"),
        0,
        Decimal("49.00"),
        "refunded",
    )
    failed = invoices["in_failed"]
    assert (failed[0], failed[4], failed[6], failed[8]) == (STRIPE_CUSTOMER, None, 1, "failing")


def test_survey_csv_and_zendesk_ratings_reach_fct_survey_responses(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    responses = {
        row[0]: row[1:]
        for row in rows(
            warehouse,
            "select response_id, survey_type, score, responded_at, customer_id, ticket_id, "
            "nps_category, is_satisfied, comment from marts.fct_survey_responses",
        )
    }
    # r-3 was sent and never answered; r-4's score of 11 is quarantined.
    assert set(responses) == {
        "survey_csv:r-1",
        "survey_csv:r-2",
        "zendesk:satisfaction_rating:62",
    }
    # Responded At 10:30+01:00 is 09:30 UTC.
    assert responses["survey_csv:r-1"] == (
        "nps",
        9,
        utc(2025, 3, 12, 9, 30),
        "7001",
        None,
        "promoter",
        None,
        "Quick and friendly",
    )
    assert responses["survey_csv:r-2"][1:2] + responses["survey_csv:r-2"][5:6] == (
        3,
        "detractor",
    )
    # Zendesk's "good" satisfaction rating is a CSAT 5 on ticket 35436.
    assert responses["zendesk:satisfaction_rating:62"] == (
        "csat",
        5,
        utc(2025, 3, 15, 18, 30),
        "509974",
        "35436",
        None,
        True,
        "Fire is out. Thanks!",
    )


def test_intercom_conversations_reach_fct_conversations(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    conversations = {
        row[0]: row[1:]
        for row in rows(
            warehouse,
            "select conversation_id, customer_id, team_id, agent_id, started_at, closed_at, "
            "is_bot_resolved_assumed, handoff_count, agent_message_count, duration_minutes "
            "from marts.fct_conversations",
        )
    }
    assert set(conversations) == {"1911149811", "1911149812"}
    # Answered and closed by the bot: an assumed bot resolution, 15 minutes long.
    assert conversations["1911149811"] == (
        "7003",
        "-1",
        "-1",
        utc(2025, 3, 14, 9, 0),
        utc(2025, 3, 14, 9, 15),
        True,
        0,
        0,
        15.0,
    )
    # Handed off to team 5017691, answered by admin 991267, closed after an hour.
    assert conversations["1911149812"] == (
        "7002",
        "5017691",
        "991267",
        utc(2025, 3, 14, 10, 0),
        utc(2025, 3, 14, 11, 0),
        False,
        1,
        1,
        60.0,
    )


def test_every_received_record_is_in_the_ingestion_log(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    log = rows(
        warehouse,
        "select sum(received_count), sum(accepted_count), sum(quarantined_count) "
        "from staging.stg_ingestion__log",
    )[0]
    assert log[0] == log[1] + log[2] and log[2] == 4
    reasons = rows(
        warehouse,
        "select reason, count(*) from staging.stg_ingestion__quarantine group by reason",
    )
    # Stripe's customer.created and USD subscription, Intercom's note; the score of 11.
    assert dict(reasons) == {"unmapped_source_object": 3, "wrong_type": 1}
