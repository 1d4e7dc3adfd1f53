"""Schedules: a daily full build and an hourly incremental one (the sensor's safety net)."""

import dagster as dg

from dagster_project.defs.warehouse.build_args import incremental_tests_since
from dagster_project.defs.warehouse.jobs import (
    FULL_REFRESH_CONFIG,
    incremental_run_config,
    warehouse_job,
)
from dagster_project.lib.lake_files import lake_files
from dagster_project.lib.selection import incremental_selection
from servops.paths import Home

daily_full_build = dg.ScheduleDefinition(
    name="daily_full_build",
    job=warehouse_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    run_config=FULL_REFRESH_CONFIG,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="02:00 UTC: rebuild every model from the whole lake (full refresh), seeds and "
    "the planning models included, test, publish.",
)


@dg.schedule(
    name="hourly_incremental_build",
    job=warehouse_job,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
    description="Hourly: if lake files arrived since the last publish, build, test and publish "
    "the models downstream of their streams (not the planning models: the daily build's). "
    "Catches what the sensor missed (or all of it when the sensor is off).",
)
def hourly_incremental_build(context: dg.ScheduleEvaluationContext):
    home = Home.resolve()
    published_ns = home.serving_db.stat().st_mtime_ns if home.serving_db.exists() else 0
    files = lake_files(home.raw)
    streams = sorted({file.stream for file in files if file.mtime_ns > published_ns})
    if not streams:
        return dg.SkipReason("no lake files arrived since the last publish")
    selection = incremental_selection(
        context.repository_def.asset_graph, streams, full=not published_ns
    )
    return dg.RunRequest(
        asset_selection=selection,
        run_config=incremental_run_config(incremental_tests_since(files, published_ns)),
        tags={"servops/streams": ",".join(streams)},
    )


SCHEDULES = [daily_full_build, hourly_incremental_build]
