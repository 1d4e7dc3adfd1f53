"""Jobs: build and publish the warehouse; simulate the demo company into the lake first."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.publish.assets import serving_warehouse
from dagster_project.defs.warehouse.assets import servops_dbt_models

BUILD_SELECTION = dg.AssetSelection.assets(servops_dbt_models, serving_warehouse)
DBT_OP = "servops_dbt_models"
FULL_REFRESH_CONFIG = {"ops": {DBT_OP: {"config": {"full_refresh": True}}}}


def incremental_run_config(tests_received_since: str) -> dict:
    """Run config of an incremental build whose new-rows-only tests start at the given receipt
    (build_args.incremental_tests_since; empty: test every row)."""
    return {"ops": {DBT_OP: {"config": {"tests_received_since": tests_received_since}}}}


warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=BUILD_SELECTION,
    description="Build and test the warehouse from the lake as it is, then publish it. "
    "Sensors and the hourly schedule run it on the models downstream of new lake files.",
    # Its two steps run one after the other (build, then publish) and dbt runs its own process
    # with its own threads: a process per step would only add start-ups (each imports the code
    # location) to the sensor's event-to-serving time.
    executor_def=dg.in_process_executor,
)


simulate_and_build_job = dg.define_asset_job(
    "simulate_and_build_job",
    selection=dg.AssetSelection.groups("lake") | BUILD_SELECTION,
    description="Simulate the demo company into the lake (one day, a range, or without a "
    "partition the whole window), check the lake, build, test and publish.",
)

JOBS = [warehouse_job, simulate_and_build_job]
