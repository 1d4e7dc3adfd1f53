"""The billing, chat, survey and automation marts built incrementally equal a full refresh
after late events that reach them: a late payment and refund, a subscription change in an
earlier month, a late survey response, a redelivered survey response and chat event, a late
assignment before a rating, a late hire that gives a chat its team, a late plan change
under a ticket with automation, and a late cancellation in a subscription's first month.

The method of test_marts.py::test_incremental_run_equals_full_refresh, on its hand-made lake
plus the events below: a first build, then the late batches, then an incremental build beside
a full build of the final lake; every table must be equal as a multiset.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from servops.paths import Home
from tests.warehouse.test_marts import (
    INCREMENTAL_MODELS,
    WAREHOUSE_SCHEMAS,
    _dbt,
    _dbt_parallel,
    _rows,
    _ticket,
    _write,
    rows_differing,
    write_first_lake,
    write_late_and_duplicate_events,
)

# These marts with everything upstream, seeds included; no data tests (test_marts.py runs
# them on an incremental build of every mart).
MODELS_ONLY = (
    "--select",
    *(
        f"+{mart}"
        for mart in (
            "fct_automation_actions",
            "fct_survey_responses",
            "fct_conversations",
            "fct_invoices",
            "fct_mrr_movements_monthly",
            "fct_cohort_retention",
            "fct_customer_churn",
            "fct_kb_activity",
        )
    ),
    *("--exclude", "resource_type:test", "resource_type:unit_test"),
)
# Received after everything in the first lake (its last billing event is received 04-08).
LATE = "2025-04-20 00:00:00"


def write_more_first_events(raw: Path) -> None:
    """Beside the first lake: a macro on T3, T4 of C3 (on S3's starter plan when created, and
    received before the incremental build's look-back; no later event names it), C5's
    subscription S5, and chat K3 answered by A3, an agent no agent event names yet (so K3 has
    no team)."""
    _write(
        raw,
        "ticket",
        [
            _ticket(
                "T3",
                "ticket.macro_applied",
                "2025-03-10 13:00:00",
                macro_id="M1",
                agent_id="A1",
            ),
            _ticket(
                "T4",
                "ticket.created",
                "2025-03-06 12:00:00",
                customer_id="C3",
                team_id="billing",
                priority="normal",
                status="new",
                channel="email",
            ),
        ],
        "c1",
    )
    _write(
        raw,
        "billing",
        [
            {
                "event_type": "subscription.started",
                "occurred_at": "2025-02-03 00:00:00",
                "customer_id": "C5",
                "subscription_id": "S5",
                "plan_id": "starter",
                "billing_period": "monthly",
                "mrr_amount_eur": "49.00",
            }
        ],
        "c1",
    )
    _write(
        raw,
        "chat",
        [
            {
                "event_type": "conversation.started",
                "occurred_at": "2025-03-07 10:00:00",
                "conversation_id": "K3",
                "customer_id": "C3",
                "channel": "chat",
            },
            {
                "event_type": "conversation.agent_message",
                "occurred_at": "2025-03-07 10:04:00",
                "conversation_id": "K3",
                "agent_id": "A3",
            },
        ],
        "c1",
    )


def write_late_events(raw: Path) -> None:
    """Received 2025-04-20: see the module docstring; each group says what it checks."""
    _write(
        raw,
        "billing",
        [
            # S1 downgraded in February: February's and later months' MRR change.
            {
                "event_type": "subscription.downgraded",
                "occurred_at": "2025-02-20 00:00:00",
                "subscription_id": "S1",
                "plan_id": "growth",
                "mrr_amount_eur": "500.00",
            },
            # S3 upgraded before T3 was created: T3's plan, and so its macro row, change.
            {
                "event_type": "subscription.upgraded",
                "occurred_at": "2025-03-08 00:00:00",
                "subscription_id": "S3",
                "plan_id": "enterprise",
                "mrr_amount_eur": "800.00",
            },
            # S3 upgraded the morning T4 was created: only the plan of tickets created since
            # changes, and T4 has no new event of its own to be rebuilt by.
            {
                "event_type": "subscription.upgraded",
                "occurred_at": "2025-03-06 00:00:00",
                "subscription_id": "S3",
                "plan_id": "growth",
                "mrr_amount_eur": "80.00",
            },
            # S5 cancelled in its first month: C5 never has MRR at a month's end, so no
            # monthly MRR rows, though the first build gave it rows from February.
            {
                "event_type": "subscription.cancelled",
                "occurred_at": "2025-02-10 00:00:00",
                "subscription_id": "S5",
            },
            # A late refund of I1, and I2 seen only paid: its customer comes from S3's start.
            {
                "event_type": "invoice.refunded",
                "occurred_at": "2025-04-09 00:00:00",
                "invoice_id": "I1",
                "amount_eur": "799.00",
            },
            {
                "event_type": "invoice.paid",
                "occurred_at": "2025-03-02 00:00:00",
                "invoice_id": "I2",
                "subscription_id": "S3",
                "amount_eur": "100.00",
            },
        ],
        "c2",
        received_at=LATE,
    )
    _write(
        raw,
        "survey",
        [
            # A late CSAT answer on T2, and V1's response redelivered (must change nothing).
            {
                "event_type": "survey.responded",
                "occurred_at": "2025-03-11 09:00:00",
                "survey_id": "V4",
                "survey_type": "csat",
                "customer_id": "C2",
                "ticket_id": "T2",
                "score": 2,
            },
            {
                "event_id": "b1-survey-0",
                "event_type": "survey.responded",
                "occurred_at": "2025-03-05 10:00:00",
                "survey_id": "V1",
                "survey_type": "nps",
                "customer_id": "C1",
                "score": 10,
            },
        ],
        "c2",
        received_at=LATE,
    )
    _write(
        raw,
        "ticket",
        [
            # T1 assigned to A2 before its CSAT answer (V3): the agent at rating time changes.
            _ticket(
                "T1",
                "ticket.assigned",
                "2025-03-04 09:10:00",
                team_id="support",
                agent_id="A2",
            ),
            # A rule fires on T3 as it is solved without an agent (test_marts' late batch).
            _ticket(
                "T3",
                "ticket.automation_fired",
                "2025-03-11 10:00:00",
                automation_rule_id="R1",
            ),
        ],
        "c2",
        received_at=LATE,
    )
    _write(
        raw,
        "chat",
        [
            # K1's bot resolution redelivered; K2 gets a late customer message.
            {
                "event_id": "b1-chat-2",
                "event_type": "conversation.bot_resolved",
                "occurred_at": "2025-03-06 10:02:00",
                "conversation_id": "K1",
                "resolution_type": "confirmed",
            },
            {
                "event_type": "conversation.customer_message",
                "occurred_at": "2025-03-06 11:06:00",
                "conversation_id": "K2",
            },
        ],
        "c2",
        received_at=LATE,
    )
    _write(
        raw,
        "agent",
        [
            # A3's hire arrives late: K3's team becomes A3's team.
            {
                "event_type": "agent.hired",
                "occurred_at": "2024-12-01 00:00:00",
                "agent_id": "A3",
                "team_id": "billing",
                "agent_name": "Cy",
            }
        ],
        "c2",
        received_at=LATE,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Databases: incremental (a first build, then an incremental one after the late
    events) and full (one build of the final lake); the incremental build's manifest."""
    root = tmp_path_factory.mktemp("other_marts")
    home = Home(root / "home")
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    incremental, full = (home.warehouse_dir / f"{name}.duckdb" for name in ("inc", "full"))
    write_first_lake(home.raw)
    write_more_first_events(home.raw)
    _dbt(home, incremental, root / "target_inc", "build", *MODELS_ONLY)
    write_late_and_duplicate_events(home.raw)
    write_late_events(home.raw)
    _dbt_parallel(
        (home, incremental, root / "target_inc", "build", *MODELS_ONLY),
        (home, full, root / "target_full", "build", *MODELS_ONLY),
    )
    return {
        "incremental": incremental,
        "full": full,
        "manifest": root / "target_inc" / "manifest.json",
    }


def test_late_events_land_as_in_a_full_refresh(built) -> None:
    with duckdb.connect() as connection:
        connection.execute(f"attach '{built['incremental']}' as incremental (read_only)")
        connection.execute(f"attach '{built['full']}' as full_build (read_only)")
        schemas = ", ".join(f"'{schema}'" for schema in WAREHOUSE_SCHEMAS)
        tables = connection.execute(
            "select schema_name, table_name, database_name from duckdb_tables() "
            f"where schema_name in ({schemas}) order by all"
        ).fetchall()
        incremental_tables = [(s, t) for s, t, d in tables if d == "incremental"]
        assert incremental_tables == [(s, t) for s, t, d in tables if d == "full_build"]
        nodes = json.loads(built["manifest"].read_text())["nodes"].values()
        materialized = {node["name"]: node["config"]["materialized"] for node in nodes}
        assert {materialized[name] for name in INCREMENTAL_MODELS} == {"incremental"}
        for schema, table in incremental_tables:
            differing = rows_differing(connection, f"{schema}.{table}")
            assert differing == 0, table


def test_late_events_reached_the_marts(built) -> None:
    # Without these the equality above could hold with the late events ignored by both.
    database = built["incremental"]
    assert _rows(
        database,
        "select invoice_id, customer_id, invoice_status from marts.fct_invoices order by 1",
    ) == [("I1", "C1", "refunded"), ("I2", "C3", "paid")]
    assert _rows(
        database,
        "select mrr_amount, mrr_movement from marts.fct_mrr_monthly "
        "where customer_id = 'C1' and month_start_date = '2025-02-01'",
    ) == [(500, "expansion")]
    assert _rows(
        database, "select count(*) from marts.fct_mrr_monthly where customer_id = 'C5'"
    ) == [(0,)]
    assert _rows(
        database,
        "select response_id, agent_id, score from marts.fct_survey_responses "
        "where response_id in ('V3', 'V4') order by 1",
    ) == [("V3", "A2", 4), ("V4", "A2", 2)]
    assert _rows(
        database,
        "select conversation_id, team_id, customer_message_count, is_bot_resolved_confirmed "
        "from marts.fct_conversations order by 1",
    ) == [("K1", "-1", 0, True), ("K2", "support", 1, False), ("K3", "billing", 0, False)]
    assert _rows(
        database,
        "select action_type, plan_id, is_automatic_resolution from marts.fct_automation_actions "
        "where ticket_id = 'T3' order by 1",
    ) == [("macro", "enterprise", False), ("rule", "enterprise", True)]
    assert _rows(
        database,
        "select plan_id, first_reply_target_business_minutes from marts.fct_tickets "
        "where ticket_id = 'T4'",
    ) == [("growth", 480)]
