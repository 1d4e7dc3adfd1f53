"""Superset's dashboards, imported from the bundle over the published warehouse.

Downstream of ``warehouse/serving`` so the graph runs from event streams to dashboards. Not in
the build jobs: publishing swaps the file Superset already reads, so dashboards show new data
without this step; materialize it after changing the bundle (``superset/assets``).
"""

import dagster as dg

from dagster_project.defs.publish.assets import SERVING_KEY
from servops.paths import Home

DASHBOARDS_KEY = dg.AssetKey(["superset", "dashboards"])


@dg.asset(
    key=DASHBOARDS_KEY,
    group_name="superset",
    deps=[SERVING_KEY],
    kinds={"superset"},
    description="Superset's database connection, datasets, charts and dashboards (imported "
    "idempotently from superset/assets over the serving warehouse).",
)
def superset_dashboards(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    from servops.superset_bootstrap import bootstrap

    home = Home.resolve()
    credentials = bootstrap(home, log=context.log.info)
    return dg.MaterializeResult(
        metadata={
            "superset_home": dg.MetadataValue.path(str(home.superset_dir)),
            "admin_user": credentials.username,
        }
    )
