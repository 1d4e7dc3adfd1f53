"""The Dagster definitions load and hold one graph from the lake to the serving warehouse."""

from __future__ import annotations

import dagster as dg


def test_definitions_load_with_lineage_from_lake_to_serving() -> None:
    from dagster_project.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "lake/raw/ticket",
        "staging/stg_lake__ticket_events",
        "marts/fct_tickets",
        "marts/dim_dates",
        "warehouse/serving",
    } <= keys
    staging = graph.get(dg.AssetKey(["staging", "stg_lake__ticket_events"]))
    assert dg.AssetKey(["lake", "raw", "ticket"]) in staging.parent_keys
    serving = graph.get(dg.AssetKey(["warehouse", "serving"]))
    assert dg.AssetKey(["marts", "fct_tickets"]) in serving.parent_keys
    # dbt's data tests are asset checks on the models they test.
    checks = {check.asset_key.to_user_string() for check in graph.asset_check_keys}
    assert "marts/fct_tickets" in checks
    for job in ("warehouse_job", "simulate_and_build_job"):
        assert defs.resolve_job_def(job)
