"""The composition root: every asset, job and resource of the servops warehouse."""

import dagster as dg

from dagster_project.defs.lake.assets import simulated_ticket_events
from dagster_project.defs.publish.assets import serving_warehouse
from dagster_project.defs.warehouse.assets import dbt_resource, servops_dbt_models

warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.assets(servops_dbt_models, serving_warehouse),
    description="Build and test the warehouse from the lake as it is, then publish it.",
)
simulate_and_build_job = dg.define_asset_job(
    "simulate_and_build_job",
    selection=dg.AssetSelection.all(),
    description="Simulate the demo company into the lake, build, test and publish.",
)

defs = dg.Definitions(
    assets=[simulated_ticket_events, servops_dbt_models, serving_warehouse],
    jobs=[warehouse_job, simulate_and_build_job],
    resources={"dbt": dbt_resource},
)
