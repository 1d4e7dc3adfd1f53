"""Each connector's fixture (made from the tool's documented shapes) flows into the lake with
the tool's fields mapped to the envelope; test_connectors_reach_marts.py follows every
fixture on into the marts through one real dbt build."""

from __future__ import annotations

import decimal
from pathlib import Path

import duckdb
import pytest

import connectors
from servops.ingest import UnreadableInput, ingest_file
from servops.paths import PROJECT_ROOT

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


def ingest_all(lake: Path) -> dict[str, list]:
    summaries = {}
    for name, files in INPUTS.items():
        module = connectors.get(name)
        summaries[name] = [ingest_file(lake, name, module.read, FIXTURES / f) for f in files]
    return summaries


def lake_rows(lake: Path, stream: str, columns: str, where: str = "true") -> list[tuple]:
    return duckdb.execute(
        f"select {columns} from read_parquet('{lake}/raw/{stream}/*/*.parquet', "
        f"union_by_name = true) where {where} order by occurred_at, event_id"
    ).fetchall()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    lake = tmp_path_factory.mktemp("connectors") / "lake"
    return lake, ingest_all(lake)


def test_every_fixture_is_accounted_for(lake: tuple[Path, dict]) -> None:
    _, summaries = lake
    for name, results in summaries.items():
        for summary in results:
            assert summary.received == summary.accepted + summary.quarantined, name
    totals = {
        name: (sum(s.accepted for s in results), sum(s.quarantined for s in results))
        for name, results in summaries.items()
    }
    assert totals == {
        "jsonl": (8, 0),
        "zendesk": (16, 0),
        "zendesk_tables": (16, 0),
        "stripe": (8, 2),  # customer.created and a USD subscription are quarantined
        "surveys": (6, 1),  # a score of 11 on the NPS scale
        "intercom": (10, 1),  # an internal note
    }


def test_zendesk_json_maps_statuses_authors_and_assignments(lake: tuple[Path, dict]) -> None:
    path, _ = lake
    rows = lake_rows(
        path,
        "ticket",
        "event_type, status, previous_status, author_type, is_public, agent_id, team_id",
        "ticket_id = '35437'",
    )
    # In time order; events at the same instant by event_id.
    assert rows == [
        ("ticket.commented", None, None, "customer", True, None, None),
        ("ticket.created", "new", None, None, None, None, "98739"),
        ("ticket.assigned", None, None, None, None, "235324", "98739"),
        ("ticket.status_changed", "on_hold", "new", None, None, None, None),
        ("ticket.commented", None, None, "agent", True, "235324", None),
    ]
    authors = lake_rows(
        path,
        "ticket",
        "author_type, is_public",
        "ticket_id = '35436' and event_type = 'ticket.commented'",
    )
    assert authors == [("customer", True), ("bot", True), ("agent", False), ("agent", True)]


def test_stripe_mrr_is_monthly_euros_after_discount(lake: tuple[Path, dict]) -> None:
    path, _ = lake
    rows = lake_rows(
        path,
        "billing",
        "event_type, subscription_id, billing_period, mrr_amount_eur, previous_mrr_amount_eur, "
        "amount_eur",
    )
    by_type = {}
    for row in rows:
        by_type.setdefault(row[0], []).append(row[1:])
    # 3 seats x 49.00 a month; then 5 seats.
    assert by_type["subscription.started"][0] == (
        "sub_1MowQVLkdIwHu7ixeRlqHVzs",
        "monthly",
        decimal.Decimal("147.00"),
        None,
        None,
    )
    # 1,200.00 a year with 20 % off: 80.00 a month.
    assert by_type["subscription.started"][1][1:3] == ("annual", decimal.Decimal("80.00"))
    assert by_type["subscription.upgraded"][0][2:4] == (
        decimal.Decimal("245.00"),
        decimal.Decimal("147.00"),
    )
    assert by_type["invoice.paid"][0][4] == decimal.Decimal("147.00")
    assert by_type["invoice.refunded"][0][4] == decimal.Decimal("49.00")
    assert "subscription.cancelled" in by_type and "invoice.payment_failed" in by_type


def test_surveys_and_intercom_land_in_their_streams(lake: tuple[Path, dict]) -> None:
    path, _ = lake
    surveys = lake_rows(path, "survey", "event_type, survey_type, score, customer_id")
    assert ("survey.responded", "nps", 9, "7001") in surveys
    assert ("survey.responded", "csat", 5, "509974") in surveys  # Zendesk's "good"
    assert sum(1 for row in surveys if row[0] == "survey.sent") == 6
    chat = lake_rows(path, "chat", "event_type, author_type", "conversation_id = '1911149811'")
    assert [row[0] for row in chat] == [
        "conversation.started",
        "conversation.bot_answered",
        "conversation.closed",
        "conversation.bot_resolved",
    ]


def test_a_table_file_of_the_wrong_shape_is_an_error_even_without_rows(tmp_path: Path) -> None:
    # A header-only file is an empty table when its columns fit, an error when they do not:
    # never a silent "0 received" for a file that is not what it claims to be.
    tables = tmp_path / "zendesk"
    tables.mkdir()
    header = (FIXTURES / "zendesk_tables" / "ticket.csv").read_text().splitlines()[0]
    (tables / "ticket.csv").write_text(header + "\n")
    assert list(connectors.get("zendesk_tables").read(tables / "ticket.csv")) == []
    (tables / "ticket.csv").write_text("name,size\n")
    with pytest.raises(UnreadableInput, match=r"ticket\.csv: the ticket table lacks column"):
        list(connectors.get("zendesk_tables").read(tables / "ticket.csv"))
    survey = tmp_path / "survey.csv"
    survey.write_text("Name,Size\n")
    with pytest.raises(UnreadableInput, match=r"survey\.csv, line 1: no column for"):
        list(connectors.get("surveys").read(survey))
