"""The simulator is deterministic, per-day independent, and its truth matches its events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from simulator.config import SimulationConfig, SimulationConfigError
from simulator.entities import draw_company
from simulator.events.tickets import generate_ticket_day
from simulator.run import LakeConflictError, simulate

CONFIG = SimulationConfig(seed=3, customers=150, days=12, start=dt.date(2025, 3, 28), defects=0.1)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*.parquet"))
    }


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path / "a")
    simulate(CONFIG, tmp_path / "b")
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first and first == second


def test_another_seed_gives_other_events(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path / "a")
    other = SimulationConfig(**{**CONFIG.__dict__, "seed": 4})
    simulate(other, tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "b")


def test_any_day_regenerates_alone() -> None:
    company = draw_company(CONFIG)
    day_five_first, _ = generate_ticket_day(CONFIG, company, 5)
    generate_ticket_day(CONFIG, company, 2)
    day_five_again, _ = generate_ticket_day(CONFIG, company, 5)
    assert day_five_first.equals(day_five_again)
    assert not day_five_first.equals(generate_ticket_day(CONFIG, company, 6)[0])


def test_rerun_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path)
    before = _files(tmp_path)
    simulate(CONFIG, tmp_path)
    assert _files(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_lake_with_another_simulation_is_refused_unless_replaced(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path)
    other = SimulationConfig(**{**CONFIG.__dict__, "days": 5})
    with pytest.raises(LakeConflictError, match="--replace"):
        simulate(other, tmp_path)
    simulate(other, tmp_path, replace=True)
    days = duckdb.execute(
        f"select count(distinct ticket_id[2:6]) from '{tmp_path}/raw/ticket/*/*.parquet'"
    ).fetchone()[0]
    assert days == 5


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [("customers", 0, "--customers"), ("days", -1, "--days"), ("defects", 0.9, "--defects")],
)
def test_bad_settings_are_named(setting: str, value: object, message: str) -> None:
    with pytest.raises(SimulationConfigError, match=message):
        SimulationConfig(**{setting: value})


def test_truth_agrees_with_the_events(tmp_path: Path) -> None:
    summary = simulate(CONFIG, tmp_path)
    events = f"read_parquet('{tmp_path}/raw/ticket/*/*.parquet', hive_partitioning = true)"
    truth = f"'{tmp_path}/truth/tickets/*.parquet'"
    raw, distinct, created = duckdb.execute(
        f"select count(*), count(distinct event_id), "
        f"count(distinct event_id) filter (event_type = 'ticket.created') from {events}"
    ).fetchone()
    assert raw == summary.events
    assert raw > distinct, "defects=0.1 must redeliver some events"
    assert created == duckdb.execute(f"select count(*) from {truth}").fetchone()[0]
    # Every event sits in the partition of its own UTC date, and none is after the window.
    misplaced, late = duckdb.execute(
        f"select count(*) filter (cast(timezone('UTC', occurred_at) as date) != event_date), "
        f"count(*) filter (occurred_at >= timestamptz '{CONFIG.end} 00:00:00+00') from {events}"
    ).fetchone()
    assert (misplaced, late) == (0, 0)
    # The truth's first reply is the earliest public agent comment.
    mismatched = duckdb.execute(
        f"""
        with replies as (
            select ticket_id, min(occurred_at) as first_reply
            from {events}
            where event_type = 'ticket.commented' and author_type = 'agent' and is_public
            group by ticket_id
        )
        select count(*) from {truth} as truth
        left join replies using (ticket_id)
        where truth.first_replied_at is distinct from replies.first_reply
        """
    ).fetchone()[0]
    assert mismatched == 0
