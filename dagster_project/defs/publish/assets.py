"""Publishing: after the dbt build and its tests pass, the build copy becomes serving.

This asset depends on every dbt model, so Dagster runs it only when the build step (models
and their tests) succeeded: a failed build or test skips it, and the last good version keeps
serving. It runs in the build pool, so no build writes the copy while it is being published.
"""

import dagster as dg

from dagster_project.defs.lake.assets import TRANSIENT_RETRY
from dagster_project.defs.warehouse.assets import servops_dbt_models
from dagster_project.lib.instance import BUILD_POOL
from servops.paths import Home
from servops.publish import publish_passed_build

SERVING_KEY = dg.AssetKey(["warehouse", "serving"])


@dg.asset(
    key=SERVING_KEY,
    group_name="publish",
    deps=list(servops_dbt_models.keys),
    kinds={"duckdb"},
    pool=BUILD_POOL,
    retry_policy=TRANSIENT_RETRY,
    description="The published, read-only warehouse that Superset and analysts read.",
)
def serving_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    home = Home.resolve()
    version = publish_passed_build(home, context.log.info)
    context.log.info(f"published {version.name} as {home.serving_db}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(home.serving_db)),
            "version": version.name,
            "size_mb": round(version.stat().st_size / 2**20, 1),
        }
    )
