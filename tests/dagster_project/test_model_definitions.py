"""An incremental model's fingerprint follows its definition and everything upstream of it."""

from __future__ import annotations

import copy

import pytest

from dagster_project.lib.model_definitions import fingerprints, stale_models

TICKETS = "model.servops.fct_tickets"


@pytest.fixture(scope="module")
def manifest() -> dict:
    from dagster_project.defs.warehouse.assets import current_manifest

    return current_manifest()


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {node for node in before if before[node] != after[node]}


def _downstream(manifest: dict, roots: set[str]) -> set[str]:
    found, pending = set(), list(roots)
    while pending:
        node = pending.pop()
        for child in manifest["child_map"].get(node, []):
            if child.startswith(("model.", "seed.")) and child not in found:
                found.add(child)
                pending.append(child)
    return found


def test_a_macro_change_reaches_the_models_that_call_it_and_what_they_feed(manifest) -> None:
    before = fingerprints(manifest)
    changed = copy.deepcopy(manifest)
    macro = "macro.servops.keys_received_since"
    changed["macros"][macro]["macro_sql"] += "\n-- a fix"
    callers = {
        node
        for node, props in manifest["nodes"].items()
        if node.startswith("model.")
        and (
            macro in props["depends_on"]["macros"]
            # through the macros that call it
            or any(
                macro in manifest["macros"][called]["depends_on"]["macros"]
                for called in props["depends_on"]["macros"]
                if called in manifest["macros"]
            )
        )
    }
    expected = callers | _downstream(manifest, callers)
    assert "model.servops.int_ticket_events_pivoted_to_tickets" in callers
    assert TICKETS in expected
    assert _changed(before, fingerprints(changed)) == expected
    assert "model.servops.stg_lake__ticket_events" not in expected  # upstream stays as built


def test_a_seed_change_reaches_business_minutes_and_a_description_reaches_nothing(
    manifest,
) -> None:
    before = fingerprints(manifest)
    holidays = copy.deepcopy(manifest)
    holidays["nodes"]["seed.servops.holidays"]["checksum"]["checksum"] = "another calendar"
    changed = _changed(before, fingerprints(holidays))
    assert "model.servops.int_ticket_business_minutes_calculated" in changed
    assert TICKETS in changed
    assert "model.servops.fct_invoices" not in changed

    described = copy.deepcopy(manifest)
    described["nodes"][TICKETS]["description"] = "Reworded."
    described["nodes"][TICKETS]["columns"]["ticket_id"]["description"] = "Reworded."
    assert _changed(before, fingerprints(described)) == set()
    assert _changed(before, fingerprints(manifest, '{"rule_minutes_saved": 2}')) == set(before)


def test_only_selected_incremental_models_built_by_other_sql_are_stale(manifest) -> None:
    current = fingerprints(manifest)
    selected = [TICKETS, "model.servops.fct_support_daily", "model.servops.fct_invoices"]
    assert stale_models(manifest, current, selected, current) == []
    older = {**current, TICKETS: "older", "model.servops.fct_support_daily": "older"}
    # fct_support_daily is a table: every build rebuilds it whole anyway.
    assert stale_models(manifest, older, selected, current) == [TICKETS]
    assert stale_models(manifest, {}, selected, current) == [
        "model.servops.fct_invoices",
        TICKETS,
    ]
