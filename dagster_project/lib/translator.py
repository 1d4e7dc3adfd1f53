"""Maps dbt nodes onto the asset graph: sources onto the lake assets that write them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator


class ServopsDbtTranslator(DagsterDbtTranslator):
    """Sources become lake keys (``lake/raw/<stream>``, ``lake/ingestion_log``); models
    ``<layer>/<name>``."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            stream = dbt_resource_props.get("meta", {}).get("stream")
            if stream:
                return dg.AssetKey(["lake", "raw", stream])
            # servops.ingest's log and quarantine, beside the raw streams in the lake.
            if dbt_resource_props.get("source_name") == "ingestion":
                name = dbt_resource_props["name"]
                return dg.AssetKey(["lake", "ingestion_log" if name == "log" else name])
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "seeds"
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "seeds"
