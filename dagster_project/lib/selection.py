"""Which assets an incremental build runs: the models downstream of the streams that changed."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg


def incremental_selection(
    asset_graph, streams: Iterable[str], *, full: bool = False
) -> list[dg.AssetKey]:
    """dbt models downstream of ``lake/raw/<stream>`` (and seeds), and publishing; not Superset.

    ``full`` selects every model: use it while nothing has been published yet, since the build
    copy may lack the models an incremental build reads or tests against.
    """
    lake = dg.AssetSelection.groups("lake")
    if full:
        selection = dg.AssetSelection.all()
    else:
        changed = [dg.AssetKey(["lake", "raw", stream]) for stream in streams]
        known = [key for key in changed if asset_graph.has(key)]
        selection = dg.AssetSelection.assets(*known).downstream(include_self=False)
    selection = (selection | dg.AssetSelection.groups("seeds")) - lake
    selection = selection - dg.AssetSelection.groups("superset")
    return sorted(selection.resolve(asset_graph), key=lambda key: key.to_user_string())
