"""The composition root: every asset, check, job, schedule and sensor of the servops warehouse."""

import dagster as dg

from dagster_project.defs.checks.checks import LAKE_CHECKS
from dagster_project.defs.lake.assets import ingestion_log, quarantine, simulated_events
from dagster_project.defs.publish.assets import serving_warehouse
from dagster_project.defs.schedules.schedules import SCHEDULES
from dagster_project.defs.sensors.sensors import SENSORS
from dagster_project.defs.superset.assets import superset_dashboards
from dagster_project.defs.warehouse.assets import dbt_resource, servops_dbt_models
from dagster_project.defs.warehouse.jobs import JOBS

defs = dg.Definitions(
    assets=[
        simulated_events,
        ingestion_log,
        quarantine,
        servops_dbt_models,
        serving_warehouse,
        superset_dashboards,
    ],
    asset_checks=LAKE_CHECKS,
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
    resources={"dbt": dbt_resource},
)
