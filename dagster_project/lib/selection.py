"""Which assets an incremental build runs: the models downstream of the streams that changed.

The sensor and the hourly schedule build only those models, their tests and the publish step.
The planning models (group ``planning``: forecasts, staffing, health, churn, budget; Python
models fitting statsmodels / scikit-learn over the whole history) are left out of that path:
they take longer than the freshness goal allows and change meaning only day by day, so the
daily full build (``daily_full_build``) refreshes them. Until then the serving warehouse keeps
the planning tables of the last full build. The first build of a data directory (nothing
published yet) builds everything, seeds and planning included.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

# The dbt group (models/planning) built by the daily full build only.
PLANNING_GROUP = "planning"


def incremental_selection(
    asset_graph, streams: Iterable[str], *, full: bool = False
) -> list[dg.AssetKey]:
    """dbt models downstream of ``lake/raw/<stream>`` and publishing; not Superset, seeds or
    the planning models (the daily build's; see the module docstring).

    ``full`` selects every model: use it while nothing has been published yet, since the build
    copy may lack the models an incremental build reads or tests against.
    """
    if full:
        selection = dg.AssetSelection.all()
    else:
        changed = [dg.AssetKey(["lake", "raw", stream]) for stream in streams]
        known = [key for key in changed if asset_graph.has(key)]
        # Seeds are reference data that change with the code, not with the lake: the build
        # copy already holds them, and the daily full build reloads them.
        selection = dg.AssetSelection.assets(*known).downstream(include_self=False)
        selection = selection - dg.AssetSelection.groups(PLANNING_GROUP, "seeds")
    selection = selection - dg.AssetSelection.groups("lake", "superset")
    return sorted(selection.resolve(asset_graph), key=lambda key: key.to_user_string())
