"""Backfills are idempotent: re-running day partitions gives the same lake and warehouse."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import dagster as dg
import duckdb
import pytest

from servops.paths import Home

COMPANY = {"seed": 11, "customers": 60, "days": 6, "start": "2025-03-01"}
RANGE_TAGS = {
    "dagster/asset_partition_range_start": "2025-03-01",
    "dagster/asset_partition_range_end": "2025-03-06",
}


@pytest.fixture
def fresh_home(tmp_path, monkeypatch) -> Home:
    home = Home(tmp_path / "home")
    for name, value in home.env().items():
        monkeypatch.setenv(name, value)
    return home


def _support_selection(defs) -> list[dg.AssetKey]:
    """The lake, the support marts and what they need, and publishing: a quick real build."""
    graph = defs.resolve_asset_graph()
    marts = dg.AssetSelection.assets(
        dg.AssetKey(["marts", "fct_tickets"]), dg.AssetKey(["marts", "fct_support_daily"])
    )
    serving = dg.AssetSelection.assets(dg.AssetKey(["warehouse", "serving"]))
    selection = (marts.upstream() | serving).required_multi_asset_neighbors()
    return list(selection.resolve(graph))


def _run(defs, instance, selection=None, **kwargs) -> None:
    result = defs.resolve_job_def("simulate_and_build_job").execute_in_process(
        instance=instance,
        run_config={"ops": {"lake__raw__ticket": {"config": COMPANY}}},
        asset_selection=selection,
        raise_on_error=False,
        **kwargs,
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def _lake_digest(home: Home) -> dict[str, str]:
    return {
        str(path.relative_to(home.raw)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(home.raw.rglob("*.parquet"))
    }


def _marts_digest(home: Home) -> dict[str, str]:
    """Each published mart's rows, order-independent."""
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            table: hashlib.sha256(
                "\n".join(
                    sorted(map(repr, connection.execute(f"select * from marts.{table}").fetchall()))
                ).encode()
            ).hexdigest()
            for table in sorted(tables)
        }


def test_rerunning_day_partitions_gives_the_same_warehouse(fresh_home) -> None:
    from dagster_project.definitions import defs

    instance = dg.DagsterInstance.ephemeral()
    _run(defs, instance, tags=RANGE_TAGS)  # a backfill of six days, as one run, full build
    lake, marts = _lake_digest(fresh_home), _marts_digest(fresh_home)
    assert {"fct_tickets", "fct_support_daily"} <= set(marts)
    assert any("event_date=2025-03-06" in name for name in lake)
    versions = len(list(fresh_home.versions_dir.glob("v*.duckdb")))

    # Re-run part of the range (one day partition, building what the support marts need):
    # same files, same marts, one more version.
    _run(defs, instance, _support_selection(defs), partition_key="2025-03-03")
    assert _lake_digest(fresh_home) == lake
    assert _marts_digest(fresh_home) == marts
    assert len(list(fresh_home.versions_dir.glob("v*.duckdb"))) == versions + 1
    # The second build reused the first one's parse (this data directory's partial-parse
    # state), instead of parsing the whole dbt project again.
    from dagster_project.defs.warehouse.assets import dbt_targets_dir

    last = max(path for path in dbt_targets_dir(fresh_home).iterdir() if path.is_dir())
    assert "Unable to do partial parsing" not in (last / "dbt.log").read_text()

    # The partitions are recorded per day, so the UI shows what a backfill covered.
    materialized = instance.get_materialized_partitions(dg.AssetKey(["lake", "raw", "ticket"]))
    days = {(dt.date(2025, 3, 1) + dt.timedelta(days=n)).isoformat() for n in range(6)}
    assert days <= set(materialized)


def test_a_day_simulated_alone_is_the_same_bytes(tmp_path) -> None:
    """A day partition writes the same bytes alone as in a whole-window run (any order)."""
    from dagster_project.defs.lake import simulator_adapter
    from dagster_project.defs.lake.assets import SimulatorConfig

    config = simulator_adapter.simulation_config(SimulatorConfig(**COMPANY))
    whole, alone = Home(tmp_path / "whole"), Home(tmp_path / "alone")
    simulator_adapter.simulate_window(config, whole.lake)
    for days in ([4, 1], [2], [0, 5, 3]):
        simulator_adapter.simulate_days(config, alone.lake, days)
    assert _lake_digest(alone) == _lake_digest(whole)


def test_run_config_takes_every_known_effect() -> None:
    """Each effect the simulator knows is a run-config field that reaches its settings."""
    from dagster_project.defs.lake import simulator_adapter
    from dagster_project.defs.lake.assets import SimulatorConfig
    from simulator.config import EFFECTS, effect_field

    days = {effect_field(effect): f"2025-03-0{n + 2}" for n, effect in enumerate(EFFECTS)}
    config = simulator_adapter.simulation_config(SimulatorConfig(**COMPANY, **days))
    assert {field: getattr(config, field).isoformat() for field in days} == days


def test_a_build_after_a_models_sql_changed_rebuilds_it_whole(fresh_home) -> None:
    """Rows an incremental model's older SQL built do not outlive a change of that SQL."""
    from dagster_project.definitions import defs
    from dagster_project.lib.model_definitions import definitions_path, read_recorded

    instance = dg.DagsterInstance.ephemeral()
    _run(defs, instance, tags=RANGE_TAGS)
    recorded = read_recorded(definitions_path(fresh_home.build_db))
    tickets = "model.servops.fct_tickets"
    assert recorded.get(tickets)

    def tamper() -> None:
        # A row only an older definition of fct_tickets would have left (no such ticket in the
        # lake), as a fixed definition leaves rows no new event reaches.
        with duckdb.connect(str(fresh_home.build_db)) as connection:
            connection.execute(
                "insert into marts.fct_tickets "
                "select * replace ('T-older-sql' as ticket_id) from marts.fct_tickets limit 1"
            )

    def older_rows() -> int:
        with duckdb.connect(str(fresh_home.serving_db), read_only=True) as connection:
            query = "select count(*) from marts.fct_tickets where ticket_id = 'T-older-sql'"
            return connection.execute(query).fetchall()[0][0]

    def rebuild_warnings() -> list[str]:
        return [
            record.user_message
            for record in instance.all_logs(instance.get_runs(limit=1)[0].run_id)
            if "a full refresh" in record.user_message
        ]

    # The same definition: an incremental build leaves rows no new event touches as they are.
    tamper()
    _run(defs, instance, _support_selection(defs), partition_key="2025-03-03")
    assert older_rows() == 1
    assert rebuild_warnings() == []

    # fct_tickets recorded as built by other SQL: the next build rebuilds it from the lake.
    definitions_path(fresh_home.build_db).write_text(
        json.dumps({**recorded, tickets: "an older definition"})
    )
    _run(defs, instance, _support_selection(defs), partition_key="2025-03-03")
    assert older_rows() == 0
    (warning,) = rebuild_warnings()
    assert "fct_tickets" in warning
    assert read_recorded(definitions_path(fresh_home.build_db))[tickets] == recorded[tickets]
