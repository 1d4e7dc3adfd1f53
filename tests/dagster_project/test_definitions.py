"""The Dagster definitions load and hold one graph from the event streams to the dashboards."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from servops.events import STREAMS
from servops.paths import DBT_PROJECT_DIR


def test_definitions_load_with_lineage_from_lake_to_dashboards() -> None:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {f"lake/raw/{stream}" for stream in STREAMS} <= keys
    assert {
        "lake/ingestion_log",
        "staging/stg_lake__ticket_events",
        "marts/fct_tickets",
        "marts/dim_dates",
        "warehouse/serving",
        "superset/dashboards",
    } <= keys
    staging = graph.get(dg.AssetKey(["staging", "stg_lake__ticket_events"]))
    assert dg.AssetKey(["lake", "raw", "ticket"]) in staging.parent_keys
    serving = graph.get(dg.AssetKey(["warehouse", "serving"]))
    assert dg.AssetKey(["marts", "fct_tickets"]) in serving.parent_keys
    dashboards = graph.get(dg.AssetKey(["superset", "dashboards"]))
    assert dashboards.parent_keys == {dg.AssetKey(["warehouse", "serving"])}
    # One graph: every lake stream with a dbt source reaches the dashboards.
    upstream_of_dashboards = dg.AssetSelection.assets(dashboards.key).upstream().resolve(graph)
    assert dg.AssetKey(["lake", "raw", "ticket"]) in upstream_of_dashboards
    # The lake is partitioned by day.
    assert graph.get(dg.AssetKey(["lake", "raw", "ticket"])).partitions_def is not None


def test_checks_schedules_sensors_and_the_build_pool() -> None:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    checks = {(check.asset_key.to_user_string(), check.name) for check in graph.asset_check_keys}
    for stream in STREAMS:
        assert (f"lake/raw/{stream}", "lake_completeness") in checks
        assert (f"lake/raw/{stream}", "freshness") in checks
    assert ("lake/ingestion_log", "ingestion_reconciles") in checks
    # dbt's data tests are asset checks on the models they test.
    assert any(key == "marts/fct_tickets" for key, _ in checks)
    # So are the singular tests, those reading several models too (named in their meta).
    singular = {path.stem for path in (DBT_PROJECT_DIR / "tests").glob("*.sql")}
    assert singular and singular <= {name for _, name in checks}
    assert ("marts/fct_team_backlog_daily", "assert_team_backlogs_add_up_to_the_backlog") in checks
    assert {"daily_full_build", "hourly_incremental_build"} <= {
        schedule.name for schedule in defs.schedules
    }
    assert {"new_lake_files", "report_run_failures"} <= {sensor.name for sensor in defs.sensors}
    for job in ("warehouse_job", "simulate_and_build_job"):
        assert defs.resolve_job_def(job)
    # Everything that writes the build copy (dbt) or publishes it shares the one-slot pool.
    for key in (["marts", "fct_tickets"], ["warehouse", "serving"]):
        node = graph.get(dg.AssetKey(key))
        assert defs.get_assets_def(node.key).op.pool == "warehouse_build"
    # Superset's import is not part of the build jobs.
    build = defs.resolve_job_def("warehouse_job").asset_layer.selected_asset_keys
    assert dg.AssetKey(["superset", "dashboards"]) not in build


def test_instance_settings_limit_the_build_pool_to_one(tmp_path) -> None:
    from dagster_project.lib.instance import write_instance_settings
    from servops.paths import Home

    home = Home(tmp_path)
    home.dagster_home.mkdir(parents=True)
    (home.dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    write_instance_settings(home)
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        settings = instance.get_concurrency_config()
        assert settings.pool_config.default_pool_limit == 1
        assert settings.pool_config.pool_granularity.value == "op"
        # No run waits launched, blocked, for the pool: a freed slot goes to the longest waiting
        # step, which would put another run's build between a build and its publish.
        assert not settings.run_queue_config.op_concurrency_slot_buffer


def test_loading_the_definitions_leaves_the_simulator_and_pandas_unimported() -> None:
    """Every run's process and code server loads the definitions: the simulator (NumPy, pandas)
    loads only when a lake asset runs."""
    import subprocess
    import sys

    script = (
        "import sys, dagster_project.definitions; "
        "print(sorted(m for m in ('simulator.run', 'pandas') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"


def test_dbt_phases_split_busy_seconds_between_models_and_tests() -> None:
    from dagster_project.defs.warehouse.assets import dbt_phases

    def node(unique_id: str, start: str, end: str) -> dict:
        stamps = {
            "started_at": f"2026-01-01T00:00:{start}Z",
            "completed_at": f"2026-01-01T00:00:{end}Z",
        }
        return {"unique_id": unique_id, "timing": [stamps]}

    # Two models overlapping on two threads (10-14 and 12-16: 6 s busy), then two tests.
    results = {
        "results": [
            node("model.servops.a", "10", "14"),
            node("model.servops.b", "12", "16"),
            node("test.servops.a_unique", "16", "17"),
            node("test.servops.b_unique", "18", "20"),
        ]
    }
    launched = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp() + 4
    phases = dbt_phases(results, launched - 1, launched, launched + 16)
    assert phases["startup"] == 6 and phases["nodes"] == 10 and phases["wrap_up"] == 0
    assert phases["busy_models"] == 6 and phases["busy_tests"] == 3
    assert (phases["models"], phases["tests"]) == (2, 2)
