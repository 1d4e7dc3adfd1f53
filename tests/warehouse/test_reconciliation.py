"""The warehouse's figures equal the truth the simulator generated."""

from __future__ import annotations

import duckdb
import pytest

from servops.paths import Home


@pytest.fixture(scope="module")
def warehouse(published_home: Home):
    connection = duckdb.connect(str(published_home.serving_db), read_only=True)
    yield connection
    connection.close()


def _truth(home: Home) -> str:
    return f"read_parquet('{home.truth}/tickets/*.parquet')"


def test_fct_tickets_matches_the_simulated_truth(warehouse, published_home: Home) -> None:
    truth = _truth(published_home)
    counts = warehouse.execute(
        f"""
        select
            (select count(*) from marts.fct_tickets),
            (select count(*) from {truth}),
            (select count(first_replied_at) from marts.fct_tickets),
            (select count(first_replied_at) from {truth}),
            (select count(*) from marts.fct_tickets where is_solved),
            (select count(solved_at) from {truth})
        """
    ).fetchone()
    assert counts[0] == counts[1] > 200
    assert counts[2] == counts[3]
    assert counts[4] == counts[5]
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.ticket_id is null or truth.ticket_id is null),
            count(*) filter (where fct.first_reply_calendar_minutes
                is distinct from truth.first_reply_calendar_minutes),
            count(*) filter (where fct.full_resolution_calendar_minutes
                is distinct from truth.full_resolution_calendar_minutes),
            count(*) filter (where fct.public_agent_reply_count
                != truth.public_agent_reply_count),
            count(*) filter (where fct.created_at != timezone('UTC', truth.created_at))
        from marts.fct_tickets as fct
        full join {truth} as truth using (ticket_id)
        """
    ).fetchone()
    assert differences == (0, 0, 0, 0, 0)


def test_redelivered_events_are_counted_once(warehouse, published_home: Home) -> None:
    raw, distinct = warehouse.execute(
        f"select count(*), count(distinct event_id) "
        f"from read_parquet('{published_home.raw}/ticket/*/*.parquet')"
    ).fetchone()
    assert raw > distinct, "the fixture simulates redeliveries (defects=0.05)"
    staged = warehouse.execute("select count(*) from staging.stg_lake__ticket_events").fetchone()[0]
    assert staged == distinct


def test_daily_mart_adds_up_to_the_tickets(warehouse) -> None:
    created, solved, fct_created, fct_solved = warehouse.execute(
        """
        select
            (select sum(tickets_created_count) from marts.fct_support_daily),
            (select sum(tickets_solved_count) from marts.fct_support_daily),
            (select count(*) from marts.fct_tickets),
            (select count(*) from marts.fct_tickets where is_solved)
        """
    ).fetchone()
    assert (created, solved) == (fct_created, fct_solved)
    median_hours, expected = warehouse.execute(
        """
        select
            (select median_full_resolution_hours from marts.fct_support_daily
             where date_day = '2025-03-10'),
            (select median(full_resolution_calendar_minutes) / 60 from marts.fct_tickets
             where solved_date = '2025-03-10' and is_solved)
        """
    ).fetchone()
    assert median_hours == pytest.approx(expected)
