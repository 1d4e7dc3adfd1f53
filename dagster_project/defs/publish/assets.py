"""Publishing: after the dbt build and its tests pass, the build copy becomes serving."""

import dagster as dg

from dagster_project.defs.warehouse.assets import servops_dbt_models
from servops.paths import Home
from servops.publish import publish


@dg.asset(
    key=["warehouse", "serving"],
    group_name="publish",
    deps=list(servops_dbt_models.keys),
    kinds={"duckdb"},
    pool="warehouse_build",
    description="The published, read-only warehouse that Superset and analysts read.",
)
def serving_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    home = Home.resolve()
    version = publish(home)
    context.log.info(f"published {version.name} as {home.serving_db}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(home.serving_db)),
            "version": version.name,
            "size_mb": round(version.stat().st_size / 2**20, 1),
        }
    )
