"""The lake sensor requests one incremental build per set of new files; schedules load."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg
import pytest

from servops.events import build_table
from servops.lake import write_batch
from servops.paths import Home


@pytest.fixture
def lake_home(tmp_path, monkeypatch) -> Home:
    home = Home(tmp_path / "home")
    for name, value in home.env().items():
        monkeypatch.setenv(name, value)
    return home


def _write(home: Home, batch: str, day: str = "2025-03-01") -> list:
    table = build_table(
        "ticket",
        {
            "event_id": [f"{batch}-1"],
            "event_type": ["ticket.created"],
            "schema_version": [1],
            "occurred_at": [dt.datetime.fromisoformat(f"{day}T10:00:00+00:00")],
            "received_at": [dt.datetime.fromisoformat(f"{day}T10:00:05+00:00")],
            "source": ["test"],
            "ticket_id": [f"{batch}-t"],
        },
    )
    return write_batch(home.raw, "ticket", table, batch)


def _evaluate(cursor: str | None, instance=None):
    from dagster_project.definitions import defs
    from dagster_project.defs.sensors.sensors import new_lake_files

    if instance is None:
        with dg.instance_for_test() as instance:
            return _evaluate(cursor, instance)
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    return new_lake_files.evaluate_tick(context)


def test_sensor_requests_an_incremental_build_for_new_files_once(lake_home) -> None:
    assert not _evaluate(None).run_requests  # an empty lake: nothing to build

    _write(lake_home, "batch-1")
    first = _evaluate(None)
    (request,) = first.run_requests
    keys = {key.to_user_string() for key in request.asset_selection}
    assert {"staging/stg_lake__ticket_events", "marts/fct_tickets", "warehouse/serving"} <= keys
    assert not any(key.startswith(("lake/", "superset/")) for key in keys)
    assert request.tags["servops/streams"] == "ticket"

    # The same files again: no new run (the cursor remembers them).
    assert not _evaluate(first.cursor).run_requests

    # A new file, even one whose mtime is older than the newest seen (renamed into place late).
    (late,) = _write(lake_home, "batch-2", day="2025-03-02")
    newest = max(path.stat().st_mtime_ns for path in lake_home.raw.rglob("*.parquet"))
    os.utime(late, ns=(newest - 30 * 10**9, newest - 30 * 10**9))
    second = _evaluate(first.cursor)
    (again,) = second.run_requests
    assert again.run_key != request.run_key
    assert not _evaluate(second.cursor).run_requests

    # Re-evaluating from an old cursor gives the same run key: Dagster runs it only once.
    assert _evaluate(first.cursor).run_requests[0].run_key == again.run_key


def test_sensor_holds_new_files_while_two_builds_are_in_flight(lake_home) -> None:
    _write(lake_home, "batch-1")
    with dg.instance_for_test() as instance:
        running = dg.DagsterRun(job_name="warehouse_job", status=dg.DagsterRunStatus.STARTED)
        instance.add_run(running)  # one build going: the next one may wait for the pool
        assert _evaluate(None, instance).run_requests
        instance.add_run(running._replace(run_id="second-build"))
        held = _evaluate(None, instance)
    assert not held.run_requests
    assert held.cursor is None  # nothing marked seen: the files go into the next request


def test_incremental_selection_leaves_planning_and_seeds_to_the_daily_build() -> None:
    from dagster_project.definitions import defs
    from dagster_project.lib.selection import incremental_selection

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in incremental_selection(graph, ["ticket"])}
    assert {"marts/fct_tickets", "warehouse/serving"} <= keys
    assert not any(key.startswith(("planning/", "seeds/")) for key in keys)
    assert "marts/fct_invoices" not in keys  # billing's marts: the billing stream did not change
    full = {key.to_user_string() for key in incremental_selection(graph, [], full=True)}
    assert "planning/fct_volume_forecast_weekly" in full


def test_hourly_schedule_builds_only_when_files_arrived_since_the_publish(lake_home) -> None:
    from dagster_project.definitions import defs
    from dagster_project.defs.schedules.schedules import hourly_incremental_build

    def evaluate():
        context = dg.build_schedule_context(repository_def=defs.get_repository_def())
        return hourly_incremental_build.evaluate_tick(context)

    assert not evaluate().run_requests
    _write(lake_home, "batch-1")
    (request,) = evaluate().run_requests
    assert dg.AssetKey(["warehouse", "serving"]) in request.asset_selection
    lake_home.warehouse_dir.mkdir(parents=True)
    lake_home.serving_db.write_bytes(b"published after the file")
    assert not evaluate().run_requests
