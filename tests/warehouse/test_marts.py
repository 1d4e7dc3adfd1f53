"""The marts on a hand-made lake of every stream: hand-worked figures, incremental equals full
refresh after late and duplicate events, and time travel (the warehouse as of a past instant).

One module fixture builds the lake and runs dbt four times (a first build; then side by side
an incremental build with tests after the new batch, an ``as_of`` rebuild of a copy, and a
full build of the final lake into a new database), batched because each dbt start costs
seconds. Every table of the incremental warehouse must equal the full build's.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from servops.events import STREAMS, build_table
from servops.lake import write_batch
from servops.paths import DBT_PROJECT_DIR, Home

UTC = dt.UTC
# Every model built incrementally; the test compares every table of the warehouse anyway.
INCREMENTAL_MODELS = (
    *(f"stg_lake__{stream}_events" for stream in STREAMS),
    "fct_tickets",
    "fct_ticket_status_intervals",
    "int_ticket_backlog_intervals_attributed",
    "int_agent_days_aggregated",
    "int_conversation_events_pivoted_to_conversations",
    "int_subscription_periods_folded",
    "int_customer_mrr_intervals_folded",
    "fct_invoices",
    "fct_survey_responses",
    "fct_conversations",
    "fct_automation_actions",
    "fct_kb_activity",
)
WAREHOUSE_SCHEMAS = ("staging", "intermediate", "marts")
# Everything downstream of the lake; other helpers' planning models are not under test here.
EVERY_MART = ("--exclude", "path:models/planning")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def _write(
    raw: Path,
    stream: str,
    rows: list[dict],
    batch: str,
    received_delay_minutes: int = 1,
    received_at: str | None = None,
) -> None:
    """Write ``rows`` (event_type, occurred_at and stream columns) as one batch of ``stream``."""
    columns: dict[str, list] = {}
    names = sorted({key for row in rows for key in row})
    for index, row in enumerate(rows):
        occurred = _at(row["occurred_at"])
        envelope = {
            "event_id": row.get("event_id", f"{batch}-{stream}-{index}"),
            "event_type": row["event_type"],
            "schema_version": 1,
            "occurred_at": occurred,
            "received_at": _at(received_at)
            if received_at
            else occurred + dt.timedelta(minutes=received_delay_minutes),
            "source": "test",
        }
        for key, value in envelope.items():
            columns.setdefault(key, []).append(value)
        for name in names:
            if name in envelope or name in ("occurred_at", "event_type", "event_id"):
                continue
            value = row.get(name)
            if name == "period_end_at" and value is not None:
                value = _at(value)
            elif name in ("mrr_amount_eur", "amount_eur") and value is not None:
                value = Decimal(value)
            columns.setdefault(name, []).append(value)
    write_batch(raw, stream, build_table(stream, columns), batch)


def _ticket(ticket_id: str, event_type: str, occurred_at: str, **columns) -> dict:
    return {"ticket_id": ticket_id, "event_type": event_type, "occurred_at": occurred_at, **columns}


def write_first_lake(raw: Path) -> None:
    """Three tickets, three subscriptions, surveys, chats, kb, customers, agents, onboarding."""
    new = {"status": "new", "channel": "email"}
    _write(
        raw,
        "ticket",
        [
            # T1: replied in business hours, solved, reopened next day, solved again.
            _ticket(
                "T1",
                "ticket.created",
                "2025-03-03 08:00:00",
                customer_id="C1",
                team_id="support",
                priority="high",
                event_id="T1-created",
                **new,
            ),
            _ticket(
                "T1", "ticket.commented", "2025-03-03 08:01:00", author_type="bot", is_public=True
            ),
            _ticket(
                "T1",
                "ticket.commented",
                "2025-03-03 09:00:00",
                author_type="agent",
                is_public=True,
                agent_id="A1",
            ),
            _ticket("T1", "ticket.status_changed", "2025-03-03 10:00:00", status="solved"),
            _ticket("T1", "ticket.reopened", "2025-03-04 09:00:00"),
            _ticket(
                "T1",
                "ticket.commented",
                "2025-03-04 09:30:00",
                author_type="agent",
                is_public=True,
                agent_id="A1",
            ),
            _ticket("T1", "ticket.status_changed", "2025-03-04 10:00:00", status="solved"),
            # T2: Friday afternoon for billing, escalated to technical on Monday before billing
            # opens, answered once and solved.
            _ticket(
                "T2",
                "ticket.created",
                "2025-03-07 15:00:00",
                customer_id="C2",
                team_id="billing",
                priority="normal",
                **new,
            ),
            _ticket(
                "T2",
                "ticket.escalated",
                "2025-03-10 07:00:00",
                team_id="technical",
                escalation_tier=2,
            ),
            _ticket(
                "T2",
                "ticket.commented",
                "2025-03-10 08:00:00",
                author_type="agent",
                is_public=True,
                agent_id="A2",
            ),
            _ticket("T2", "ticket.status_changed", "2025-03-10 09:00:00", status="solved"),
            # T3: still open.
            _ticket(
                "T3",
                "ticket.created",
                "2025-03-10 12:00:00",
                customer_id="C3",
                team_id="support",
                priority="low",
                **new,
            ),
        ],
        "b1",
    )
    _write(
        raw,
        "billing",
        [
            {
                "event_type": "subscription.started",
                "occurred_at": "2025-01-15 00:00:00",
                "customer_id": "C1",
                "subscription_id": "S1",
                "plan_id": "growth",
                "billing_period": "monthly",
                "mrr_amount_eur": "199.00",
            },
            {
                "event_type": "subscription.upgraded",
                "occurred_at": "2025-02-10 00:00:00",
                "subscription_id": "S1",
                "plan_id": "enterprise",
                "mrr_amount_eur": "799.00",
            },
            {
                "event_type": "subscription.started",
                "occurred_at": "2025-01-20 00:00:00",
                "customer_id": "C2",
                "subscription_id": "S2",
                "plan_id": "starter",
                "billing_period": "annual",
                "mrr_amount_eur": "49.00",
            },
            {
                "event_type": "subscription.cancelled",
                "occurred_at": "2025-02-15 00:00:00",
                "subscription_id": "S2",
                "period_end_at": "2025-04-01 00:00:00",
            },
            {
                "event_type": "subscription.started",
                "occurred_at": "2025-02-01 00:00:00",
                "customer_id": "C3",
                "subscription_id": "S3",
                "plan_id": "growth",
                "billing_period": "monthly",
                "mrr_amount_eur": "100.00",
            },
            {
                "event_type": "subscription.downgraded",
                "occurred_at": "2025-03-05 00:00:00",
                "subscription_id": "S3",
                "plan_id": "starter",
                "mrr_amount_eur": "60.00",
            },
            {
                "event_type": "invoice.issued",
                "occurred_at": "2025-04-05 00:00:00",
                "invoice_id": "I1",
                "subscription_id": "S1",
                "customer_id": "C1",
                "amount_eur": "799.00",
            },
            {
                "event_type": "invoice.payment_failed",
                "occurred_at": "2025-04-06 00:00:00",
                "invoice_id": "I1",
                "attempt_number": 1,
            },
            {
                "event_type": "invoice.paid",
                "occurred_at": "2025-04-08 00:00:00",
                "invoice_id": "I1",
                "amount_eur": "799.00",
            },
        ],
        "b1",
    )
    _write(
        raw,
        "survey",
        [
            {
                "event_type": "survey.responded",
                "occurred_at": "2025-03-05 10:00:00",
                "survey_id": "V1",
                "survey_type": "nps",
                "customer_id": "C1",
                "score": 10,
            },
            {
                "event_type": "survey.responded",
                "occurred_at": "2025-03-05 11:00:00",
                "survey_id": "V2",
                "survey_type": "nps",
                "customer_id": "C2",
                "score": 5,
            },
            {
                "event_type": "survey.sent",
                "occurred_at": "2025-03-04 10:30:00",
                "survey_id": "V3",
                "survey_type": "csat",
                "customer_id": "C1",
                "ticket_id": "T1",
            },
            {
                "event_type": "survey.responded",
                "occurred_at": "2025-03-04 12:00:00",
                "survey_id": "V3",
                "survey_type": "csat",
                "customer_id": "C1",
                "ticket_id": "T1",
                "score": 4,
            },
        ],
        "b1",
    )
    _write(
        raw,
        "chat",
        [
            {
                "event_type": "conversation.started",
                "occurred_at": "2025-03-06 10:00:00",
                "conversation_id": "K1",
                "customer_id": "C1",
                "channel": "chat",
            },
            {
                "event_type": "conversation.bot_answered",
                "occurred_at": "2025-03-06 10:00:30",
                "conversation_id": "K1",
                "article_id": "KB-1",
            },
            {
                "event_type": "conversation.bot_resolved",
                "occurred_at": "2025-03-06 10:02:00",
                "conversation_id": "K1",
                "resolution_type": "confirmed",
            },
            {
                "event_type": "conversation.closed",
                "occurred_at": "2025-03-06 10:03:00",
                "conversation_id": "K1",
            },
            {
                "event_type": "conversation.started",
                "occurred_at": "2025-03-06 11:00:00",
                "conversation_id": "K2",
                "customer_id": "C2",
                "channel": "chat",
            },
            {
                "event_type": "conversation.bot_answered",
                "occurred_at": "2025-03-06 11:00:30",
                "conversation_id": "K2",
            },
            {
                "event_type": "conversation.handed_off",
                "occurred_at": "2025-03-06 11:01:00",
                "conversation_id": "K2",
                "team_id": "support",
            },
            {
                "event_type": "conversation.agent_message",
                "occurred_at": "2025-03-06 11:05:00",
                "conversation_id": "K2",
                "agent_id": "A1",
            },
            {
                "event_type": "conversation.closed",
                "occurred_at": "2025-03-06 11:10:00",
                "conversation_id": "K2",
            },
        ],
        "b1",
    )
    _write(
        raw,
        "kb",
        [
            {
                "event_type": "kb.article_viewed",
                "occurred_at": "2025-03-03 07:00:00",
                "customer_id": "C1",
                "session_id": "s1",
                "article_id": "KB-1",
            },
            {
                "event_type": "kb.searched",
                "occurred_at": "2025-03-03 07:01:00",
                "customer_id": "C1",
                "session_id": "s1",
                "search_query": "sso",
                "result_count": 0,
            },
            {
                "event_type": "kb.article_voted",
                "occurred_at": "2025-03-03 07:02:00",
                "customer_id": "C1",
                "session_id": "s1",
                "article_id": "KB-1",
                "is_helpful": True,
            },
        ],
        "b1",
    )
    _write(
        raw,
        "customer",
        [
            {
                "event_type": "customer.created",
                "occurred_at": "2025-01-01 00:00:00",
                "customer_id": "C1",
                "company_name": "Acme",
                "segment": "smb",
                "region": "emea",
                "size_band": "11-50",
            },
            {
                # Restates what the customer already is: no new version.
                "event_type": "customer.updated",
                "occurred_at": "2025-02-01 00:00:00",
                "customer_id": "C1",
                "segment": "smb",
            },
            {
                "event_type": "customer.updated",
                "occurred_at": "2025-03-01 00:00:00",
                "customer_id": "C1",
                "segment": "mid_market",
                "size_band": "51-200",
            },
        ],
        "b1",
    )
    _write(
        raw,
        "agent",
        [
            {
                "event_type": "agent.hired",
                "occurred_at": "2024-12-01 00:00:00",
                "agent_id": "A1",
                "team_id": "support",
                "agent_name": "Ada",
            },
            {
                "event_type": "agent.hired",
                "occurred_at": "2024-12-01 00:00:00",
                "agent_id": "A2",
                "team_id": "technical",
                "agent_name": "Bo",
            },
            {
                # Names the team A1 is already in: no new version.
                "event_type": "agent.shift_started",
                "occurred_at": "2025-03-03 08:00:00",
                "agent_id": "A1",
                "team_id": "support",
                "shift_id": "SH1",
            },
            {
                "event_type": "agent.status_changed",
                "occurred_at": "2025-03-03 08:30:00",
                "agent_id": "A1",
                "agent_status": "busy",
            },
            {
                "event_type": "agent.status_changed",
                "occurred_at": "2025-03-03 10:30:00",
                "agent_id": "A1",
                "agent_status": "available",
            },
            {
                "event_type": "agent.shift_ended",
                "occurred_at": "2025-03-03 16:00:00",
                "agent_id": "A1",
                "shift_id": "SH1",
            },
        ],
        "b1",
    )
    _write(
        raw,
        "onboarding",
        [
            {
                "event_type": "onboarding.milestone_reached",
                "occurred_at": "2025-01-02 00:00:00",
                "customer_id": "C1",
                "milestone": "invited_team",
                "milestone_order": 1,
            },
            {
                "event_type": "onboarding.milestone_reached",
                "occurred_at": "2025-01-11 00:00:00",
                "customer_id": "C1",
                "milestone": "first_ticket_solved",
                "milestone_order": 2,
            },
        ],
        "b1",
    )


def write_late_and_duplicate_events(raw: Path) -> None:
    """Received 2025-03-20: T3 solved on 03-11, T2's second reply on 03-10, and a redelivery of
    T1's creation (same event_id, later receipt: must change nothing); A2's shift on 03-10;
    and a file holding nothing but a redelivery of the first kb view (it must count once,
    and be marked read)."""
    _write(
        raw,
        "kb",
        [
            {
                "event_id": "b1-kb-0",
                "event_type": "kb.article_viewed",
                "occurred_at": "2025-03-03 07:00:00",
                "customer_id": "C1",
                "session_id": "s1",
                "article_id": "KB-1",
            }
        ],
        "b2",
        received_at="2025-03-20 00:00:00",
    )
    _write(
        raw,
        "ticket",
        [
            _ticket("T3", "ticket.status_changed", "2025-03-11 10:00:00", status="solved"),
            _ticket(
                "T2",
                "ticket.commented",
                "2025-03-10 08:30:00",
                author_type="agent",
                is_public=True,
                agent_id="A2",
            ),
            _ticket(
                "T1",
                "ticket.created",
                "2025-03-03 08:00:00",
                customer_id="C1",
                team_id="support",
                priority="high",
                event_id="T1-created",
                status="new",
                channel="email",
            ),
        ],
        "b2",
        received_at="2025-03-20 00:00:00",
    )
    _write(
        raw,
        "agent",
        [
            {
                "event_type": "agent.shift_started",
                "occurred_at": "2025-03-10 07:00:00",
                "agent_id": "A2",
                "shift_id": "SH2",
            },
            {
                "event_type": "agent.status_changed",
                "occurred_at": "2025-03-10 07:30:00",
                "agent_id": "A2",
                "agent_status": "busy",
            },
            {
                "event_type": "agent.status_changed",
                "occurred_at": "2025-03-10 09:30:00",
                "agent_id": "A2",
                "agent_status": "available",
            },
            {
                "event_type": "agent.shift_ended",
                "occurred_at": "2025-03-10 15:00:00",
                "agent_id": "A2",
                "shift_id": "SH2",
            },
            {
                "event_type": "agent.left",
                "occurred_at": "2025-03-15 17:00:00",
                "agent_id": "A2",
                "team_id": "technical",
            },
        ],
        "b2",
        received_at="2025-03-20 00:00:00",
    )


def _dbt_command(home: Home, database: Path, target: Path, *args: str) -> tuple[list, dict]:
    env = {**os.environ, **home.env(), "SERVOPS_BUILD_DB": str(database)}
    project = os.environ.get("SERVOPS_TEST_DBT_PROJECT_DIR", str(DBT_PROJECT_DIR))
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "--quiet",
        *args,
        *("--project-dir", project, "--profiles-dir", project),
        *("--target-path", str(target), "--log-path", str(target / "logs")),
    ]
    return command, env


def _dbt(home: Home, database: Path, target: Path, *args: str) -> None:
    command, env = _dbt_command(home, database, target, *args)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"


def _dbt_parallel(*runs: tuple) -> None:
    """Run dbt invocations side by side (each on its own database and target path)."""
    processes = []
    for home, database, target, *args in runs:
        command, env = _dbt_command(home, database, target, *args)
        processes.append(
            (args, subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True))
        )
    for args, process in processes:
        output, _ = process.communicate()
        assert process.returncode == 0, f"{' '.join(args)} failed:\n{output}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Databases: main (a full run, then after late and duplicate events an incremental build
    with every data test), full (a full build of the final lake), as_of (the warehouse as of
    2025-03-03 12:00)."""
    root = tmp_path_factory.mktemp("marts")
    home = Home(root / "home")
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    main, full, as_of = (
        home.warehouse_dir / f"{name}.duckdb" for name in ("current", "refreshed", "past")
    )
    write_first_lake(home.raw)
    _dbt(
        home,
        main,
        root / "target_main",
        "build",
        *("--exclude", "path:models/planning", "resource_type:test", "resource_type:unit_test"),
    )
    with duckdb.connect(str(main), read_only=True) as connection:
        before = connection.execute(
            "select ticket_id, public_agent_reply_count, is_solved from marts.fct_tickets "
            "order by ticket_id"
        ).fetchall()
    write_late_and_duplicate_events(home.raw)
    shutil.copy(main, as_of)
    # A production build: incremental models add what arrived, the rest is rebuilt, every data
    # and unit test runs; meanwhile a copy is rebuilt as of a past instant, and a new database
    # is built from the whole final lake.
    _dbt_parallel(
        (home, main, root / "target_main", "build", *EVERY_MART),
        (
            home,
            as_of,
            root / "target_as_of",
            "run",
            "--full-refresh",
            "--vars",
            "{as_of: '2025-03-03 12:00:00'}",
            *EVERY_MART,
        ),
        (
            home,
            full,
            root / "target_full",
            "build",
            *("--exclude", "path:models/planning", "resource_type:test", "resource_type:unit_test"),
        ),
    )
    return {
        "main": main,
        "full": full,
        "as_of": as_of,
        "before": before,
        "raw": home.raw,
        "manifest": root / "target_main" / "manifest.json",
        "target_main": root / "target_main",
    }


def rows_differing(connection: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows of ``table`` in the attached ``incremental`` database and not in ``full_build`` or
    the other way round: 0 when the two are equal as multisets (each row as often)."""
    return connection.execute(
        f"""
        select count(*) from (
            (select * from incremental.{table} except all select * from full_build.{table})
            union all
            (select * from full_build.{table} except all select * from incremental.{table})
        )"""
    ).fetchone()[0]


def _rows(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_incremental_build_marks_every_lake_file_read(built) -> None:
    # A later build skips exactly these files, so a file holding only redeliveries must be
    # marked too, or its deliveries would be counted again.
    raw = built["raw"]
    for stream in STREAMS:
        files = sorted(str(path.relative_to(raw.parent)) for path in raw.glob(f"{stream}/*/*"))
        loaded = _rows(
            built["main"],
            f"select source_file from staging.stg_lake__{stream}_events union "
            f"select unnest(duplicate_source_files) from staging.stg_lake__{stream}_events "
            "order by 1",
        )
        assert [row[0] for row in loaded] == files, stream


def test_contract_not_null_constraints_hold_in_the_warehouse(built, tmp_path) -> None:
    # A mart column whose enforced contract says not_null is NOT NULL in the database, after a
    # full build and after an incremental one: a null there fails the model's own build, so
    # no data test repeats the check (one would be a dbt node that cannot fail).
    nodes = json.loads(built["manifest"].read_text())["nodes"]
    constrained, repeated = set(), []
    built_models = [
        node
        for node in nodes.values()
        if node["resource_type"] == "model"
        and not node["original_file_path"].startswith("models/planning/")  # not built here
    ]
    for node in built_models:
        # Views take no constraints: a view's not_null stays a data test.
        if not node["config"]["contract"]["enforced"] or node["config"]["materialized"] == "view":
            continue
        for column in node["columns"].values():
            if any(c["type"] == "not_null" for c in column.get("constraints", [])):
                constrained.add((node["schema"], node["alias"], column["name"]))
    for node in nodes.values():
        metadata = node.get("test_metadata") or {}  # singular tests have none
        if metadata.get("name") == "not_null":
            model = nodes.get(node.get("attached_node") or "", {})
            key = (model.get("schema"), model.get("alias"), metadata["kwargs"]["column_name"])
            if key in constrained:
                repeated.append(node["unique_id"])
    assert len(constrained) > 50 and repeated == []
    for database in (built["main"], built["full"]):
        not_null = _rows(
            database,
            "select table_schema, table_name, column_name from information_schema.columns "
            "where is_nullable = 'NO'",
        )
        assert constrained <= set(not_null), database.name
    copy = tmp_path / "copy.duckdb"
    shutil.copy(built["main"], copy)
    with duckdb.connect(str(copy)) as connection, pytest.raises(duckdb.ConstraintException):
        connection.execute(
            "insert into marts.fct_tickets (ticket_id, created_at) values (null, now())"
        )


def test_tickets_hand_worked(built) -> None:
    # The first build (before the late events): T2 one-touch, T3 open.
    assert built["before"] == [("T1", 2, True), ("T2", 1, True), ("T3", 0, False)]
    rows = _rows(
        built["full"],
        """
        select ticket_id, first_reply_calendar_minutes, first_reply_business_minutes,
            full_resolution_calendar_minutes, full_resolution_business_minutes,
            reopen_count, is_one_touch, team_transfer_count, is_escalated, plan_id,
            is_first_reply_sla_breached, is_resolution_sla_breached, is_sla_breached,
            requester_wait_calendar_minutes, current_team_id
        from marts.fct_tickets order by ticket_id""",
    )
    assert rows[0] == (
        # T1: 60 business minutes to reply; Mon 08:00-16:00 UTC (480) + Tue 08:00-10:00 (120);
        # enterprise high: 60 first reply (met), 480 resolution (breached). Waiting: created to
        # the first solve (120) and reopen to the last solve (60).
        "T1",
        60.0,
        60.0,
        1560.0,
        600.0,
        1,
        False,
        0,
        False,
        "enterprise",
        False,
        True,
        True,
        180.0,
        "support",
    )
    # T2: billing Fri 15:00-16:00 UTC (60) + technical from its Monday opening 07:00 UTC to the
    # reply at 08:00 (60); the late second reply ends one-touch.
    assert rows[1][:11] == (
        "T2",
        3900.0,
        120.0,
        3960.0,
        180.0,
        0,
        False,
        1,
        True,
        "starter",
        False,
    )
    assert rows[2][0] == "T3" and rows[2][3] == 1320.0  # solved late, on 03-11 10:00


def test_incremental_run_equals_full_refresh(built) -> None:
    with duckdb.connect() as connection:
        connection.execute(f"attach '{built['main']}' as incremental (read_only)")
        connection.execute(f"attach '{built['full']}' as full_build (read_only)")
        schemas = ", ".join(f"'{schema}'" for schema in WAREHOUSE_SCHEMAS)
        tables = {
            database: connection.execute(
                "select schema_name, table_name from duckdb_tables() "
                f"where database_name = '{database}' and schema_name in ({schemas}) order by all"
            ).fetchall()
            for database in ("incremental", "full_build")
        }
        assert tables["incremental"] == tables["full_build"]
        assert set(INCREMENTAL_MODELS) <= {table for _, table in tables["incremental"]}
        for schema, table in tables["incremental"]:
            differing = rows_differing(connection, f"{schema}.{table}")
            assert differing == 0, table
    # The kb view delivered twice counts once, with both deliveries.
    assert _rows(
        built["main"],
        "select delivery_count, len(duplicate_source_files) from staging.stg_lake__kb_events "
        "where event_id = 'b1-kb-0'",
    ) == [(2, 1)]
    assert _rows(built["main"], "select count(*) from marts.fct_tickets where is_solved") == [(3,)]
    # A2's late shift on 03-10 reached the incrementally kept agent days.
    assert _rows(
        built["main"],
        "select scheduled_minutes, occupied_minutes, public_reply_count from marts.fct_agent_daily "
        "where agent_id = 'A2' and activity_date = '2025-03-10'",
    ) == [(480.0, 120.0, 2)]


def test_incremental_folds_get_their_watermark_as_a_literal(built) -> None:
    # Read from the table when the model ran: as a scalar subquery DuckDB mis-planned the key
    # lookup (macros/received_since.sql). A read that failed would give 1900 and still pass the
    # test above, re-reading every event.
    compiled = built["target_main"] / "compiled" / "servops" / "models" / "intermediate" / "tickets"
    for model in ("int_ticket_status_intervals_folded", "int_ticket_events_pivoted_to_tickets"):
        sql = (compiled / f"{model}.sql").read_text()
        (since,) = re.findall(r"received_at > cast\('([0-9:. -]+)' as timestamp\)", sql)
        assert dt.datetime.fromisoformat(since) > dt.datetime(2025, 1, 1), model


def test_time_travel_rebuilds_the_past(built) -> None:
    # At 2025-03-03 12:00 T1 had been solved once and not yet reopened; nothing else existed.
    assert _rows(
        built["as_of"],
        "select ticket_id, reopen_count, is_solved, "
        "public_agent_reply_count from marts.fct_tickets",
    ) == [("T1", 0, True, 1)]
    state = _rows(
        built["full"],
        """
        select status from marts.fct_ticket_status_intervals
        where ticket_id = 'T1' and valid_from_at <= '2025-03-03 12:00'
          and (valid_to_at is null or valid_to_at > '2025-03-03 12:00')""",
    )
    assert (
        state
        == _rows(
            built["as_of"],
            """
        select status from marts.fct_ticket_status_intervals
        where ticket_id = 'T1' and is_current""",
        )
        == [("solved",)]
    )
    # MRR as then known: C1 enterprise, C2 still paying, C3 before its downgrade.
    assert _rows(
        built["as_of"],
        "select customer_id, mrr_amount from marts.fct_mrr_monthly "
        "where month_start_date = '2025-03-01' order by 1",
    ) == [("C1", 799), ("C2", 49), ("C3", 100)]


def test_mrr_movements_and_churn(built) -> None:
    rows = _rows(
        built["main"],
        """
        select customer_id, strftime(month_start_date, '%Y-%m'), mrr_amount, mrr_movement,
            mrr_movement_amount
        from marts.fct_mrr_monthly order by 1, 2""",
    )
    assert [(c, m, float(a), mv, float(d)) for c, m, a, mv, d in rows] == [
        ("C1", "2025-01", 199.0, "new", 199.0),
        ("C1", "2025-02", 799.0, "expansion", 600.0),
        ("C1", "2025-03", 799.0, "unchanged", 0.0),
        ("C1", "2025-04", 799.0, "unchanged", 0.0),
        # The annual plan cancelled in February churns when its paid period ends (April 1).
        ("C2", "2025-01", 49.0, "new", 49.0),
        ("C2", "2025-02", 49.0, "unchanged", 0.0),
        ("C2", "2025-03", 49.0, "unchanged", 0.0),
        ("C2", "2025-04", 0.0, "churn", -49.0),
        ("C3", "2025-02", 100.0, "new", 100.0),
        ("C3", "2025-03", 60.0, "contraction", -40.0),
        ("C3", "2025-04", 60.0, "unchanged", 0.0),
    ]
    assert _rows(built["main"], "select customer_id, churned_at from marts.fct_customer_churn") == [
        ("C2", dt.datetime(2025, 4, 1))
    ]
    april = _rows(
        built["main"],
        """
        select opening_mrr_amount, churn_mrr_amount, closing_mrr_amount, logo_churn_rate,
            gross_revenue_retention
        from marts.fct_mrr_movements_monthly where month_start_date = '2025-04-01'""",
    )[0]
    assert [float(x) for x in april[:3]] == [908.0, -49.0, 859.0]
    assert april[3] == pytest.approx(1 / 3) and april[4] == pytest.approx(859 / 908)
    assert _rows(
        built["main"],
        "select invoice_status, failed_payment_count, paid_amount from marts.fct_invoices",
    ) == [("paid", 1, 799)]


def test_surveys_conversations_and_dimensions(built) -> None:
    db = built["main"]
    assert _rows(
        db, "select avg(nps_points) from marts.fct_survey_responses where survey_type = 'nps'"
    ) == [(0.0,)]
    # The CSAT on T1 rates the agent who answered it, in T1's team.
    assert _rows(
        db,
        "select agent_id, team_id, is_satisfied from marts.fct_survey_responses "
        "where survey_type = 'csat'",
    ) == [("A1", "support", True)]
    assert _rows(
        db,
        """
        select conversation_id, is_bot_resolved_confirmed, is_handed_off, handoff_wait_minutes,
            conversation_path
        from marts.fct_conversations order by 1""",
    ) == [
        ("K1", True, False, None, "started > bot_answered > bot_resolved > closed"),
        ("K2", False, True, 4.0, "started > bot_answered > handed_off > agent_message > closed"),
    ]
    # C1 has two versions (segment changed); C2 and C3 are inferred from other streams.
    assert _rows(
        db,
        "select customer_id, segment, size_band, is_current, is_inferred, valid_to_at "
        "from marts.dim_customers order by customer_id, version_number",
    ) == [
        ("-1", "unknown", None, True, False, None),
        ("C1", "smb", "11-50", False, False, dt.datetime(2025, 3, 1)),
        ("C1", "mid_market", "51-200", True, False, None),
        ("C2", None, None, True, True, None),
        ("C3", None, None, True, True, None),
    ]
    # A version per change: A1's shift restates its team; A2 leaves.
    left = dt.datetime(2025, 3, 15, 17)
    assert _rows(
        db,
        "select agent_id, team_id, is_employed, left_at, valid_from_at, is_current "
        "from marts.dim_agents where agent_id in ('A1', 'A2') order by agent_id, version_number",
    ) == [
        ("A1", "support", True, None, dt.datetime(1900, 1, 1), True),
        ("A2", "technical", True, None, dt.datetime(1900, 1, 1), False),
        ("A2", "technical", False, left, left, True),
    ]
    assert _rows(
        db,
        "select activity_date, tickets_solved_count, public_reply_count, "
        "scheduled_minutes, occupied_minutes from marts.fct_agent_daily "
        "where agent_id = 'A1' order by 1",
    )[0] == (dt.date(2025, 3, 3), 1, 1, 480.0, 120.0)
    assert _rows(
        db,
        "select search_count, zero_result_search_count, self_service_score "
        "from marts.fct_kb_activity",
    ) == [(1, 1, 1.0)]
    # 14 distinct ticket events, 2 of them late, and 1 redelivery counted once.
    assert _rows(
        db,
        "select event_count, duplicate_delivery_count, late_event_count "
        "from marts.fct_stream_freshness where stream = 'ticket'",
    ) == [(14, 1, 2)]


def test_backlog_moves_with_the_flows(built) -> None:
    rows = _rows(
        built["main"],
        """
        select date_day, backlog_count, tickets_created_count, tickets_reopened_count,
            tickets_solved_count
        from marts.fct_backlog_daily
        where date_day in ('2025-03-03', '2025-03-04', '2025-03-10', '2025-03-11')
        order by 1""",
    )
    assert rows == [
        (dt.date(2025, 3, 3), 0, 1, 0, 1),
        (dt.date(2025, 3, 4), 0, 0, 1, 1),
        (dt.date(2025, 3, 10), 1, 1, 0, 1),
        (dt.date(2025, 3, 11), 0, 0, 0, 1),
    ]


def test_solve_work_and_backlog_by_owner(built) -> None:
    # A1's solve work: T1's first solve carries its 120 minutes new (08:00-10:00) on 03-03;
    # the solve after the reopen the 60 minutes open (09:00-10:00) on 03-04. Neither day
    # ends with a ticket of A1's unsolved.
    assert _rows(
        built["main"],
        "select activity_date, tickets_solved_count, solve_work_minutes, "
        "average_solve_work_minutes, backlog_owned_count from marts.fct_agent_daily "
        "where agent_id = 'A1' and activity_date in ('2025-03-03', '2025-03-04') order by 1",
    ) == [
        (dt.date(2025, 3, 3), 1, 120.0, 120.0, 0),
        (dt.date(2025, 3, 4), 1, 60.0, 60.0, 0),
    ]
    # T2 waits in billing's backlog over the weekend and moves to technical at its
    # escalation (solved the same morning); T3 ends 03-10 in support's.
    assert _rows(
        built["main"],
        "select date_day, team_id, backlog_count from marts.fct_team_backlog_daily "
        "where backlog_count > 0 and date_day in ('2025-03-07', '2025-03-09', '2025-03-10') "
        "order by 1, 2",
    ) == [
        (dt.date(2025, 3, 7), "billing", 1),
        (dt.date(2025, 3, 9), "billing", 1),
        (dt.date(2025, 3, 10), "support", 1),
    ]
