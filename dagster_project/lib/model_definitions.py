"""Which incremental models hold rows built by SQL they no longer have.

An incremental model merges new rows into the rows earlier builds left. When its SQL changes
(a fix, a new definition: a `git pull`), or the SQL of anything it reads (an upstream model, a
seed, one of the project's macros), the rows already there keep the old logic until a full
refresh: the same warehouse would then answer with two definitions at once. So each build
records, per model, a fingerprint of its definition and of everything upstream of it
(``fingerprints``), beside the build copy; a build that would run an incremental model whose
table was built under another fingerprint (or none recorded) runs as a full refresh instead
(``stale_models``), and says so.

No Dagster import here: plain functions of dbt's manifest and run results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from servops.files import write_text_atomic

# What of a node's config changes the rows it builds (its materialization and keys, its hooks,
# its contract); descriptions, tags and meta do not.
SEMANTIC_CONFIG = (
    "materialized",
    "unique_key",
    "incremental_strategy",
    "on_schema_change",
    "contract",
    "pre-hook",
    "post-hook",
    "alias",
    "schema",
)
BUILT_KINDS = ("model", "seed", "snapshot")


def definitions_path(build_db: Path) -> Path:
    """Where the fingerprints of the models in ``build_db`` are kept (beside it)."""
    return build_db.with_name(f"{build_db.name}.definitions.json")


def fingerprints(manifest: Mapping[str, Any], project_vars: str = "") -> dict[str, str]:
    """A fingerprint of each model's, seed's and snapshot's definition and of its upstream.

    A node's own part is its file's checksum, its semantic config (``SEMANTIC_CONFIG``), its
    columns' declared types and constraints, and the SQL of the project's own macros it calls
    (with the macros they call); ``project_vars`` (the project's vars, such as the minutes an
    automation saves, as text: ``project_vars_text``) count for every node.
    The fingerprint hashes that with its parents' fingerprints, so a change anywhere upstream
    changes every fingerprint downstream of it.
    """
    project = manifest.get("metadata", {}).get("project_name")
    macros = manifest.get("macros", {})
    nodes = {
        unique_id: node
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in BUILT_KINDS
    }
    project_sum = hashlib.sha256(project_vars.encode()).hexdigest()
    done: dict[str, str] = {}

    def macro_sql(names: Iterable[str]) -> list[str]:
        seen, pending, texts = set(), list(names), []
        while pending:
            name = pending.pop()
            macro = macros.get(name)
            if name in seen or macro is None or macro.get("package_name") != project:
                continue
            seen.add(name)
            texts.append(f"{name}\n{macro.get('macro_sql', '')}")
            pending.extend(macro.get("depends_on", {}).get("macros", []))
        return sorted(texts)

    def visit(unique_id: str) -> str:
        if unique_id in done:
            return done[unique_id]
        node = nodes[unique_id]
        config = node.get("config", {})
        own = {
            "checksum": node.get("checksum", {}).get("checksum", ""),
            "config": {key: config.get(key) for key in SEMANTIC_CONFIG},
            "columns": {
                name: [column.get("data_type"), column.get("constraints")]
                for name, column in sorted(node.get("columns", {}).items())
            },
            "macros": macro_sql(node.get("depends_on", {}).get("macros", [])),
            "project": project_sum,
        }
        parents = sorted(
            visit(parent)
            for parent in set(node.get("depends_on", {}).get("nodes", []))
            if parent in nodes
        )
        text = json.dumps({"own": own, "parents": parents}, sort_keys=True, default=str)
        done[unique_id] = hashlib.sha256(text.encode()).hexdigest()
        return done[unique_id]

    for unique_id in nodes:
        visit(unique_id)
    return done


def project_vars_text(project_dir: Path) -> str:
    """The vars of the dbt project at ``project_dir`` (dbt_project.yml), as stable text."""
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    return json.dumps(project.get("vars") or {}, sort_keys=True, default=str)


def read_recorded(path: Path) -> dict[str, str]:
    """The fingerprints recorded by the builds of a build copy ({} if none or unreadable)."""
    try:
        recorded = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def stale_models(
    manifest: Mapping[str, Any],
    recorded: Mapping[str, str],
    selected: Iterable[str],
    current: Mapping[str, str],
) -> list[str]:
    """The incremental models among ``selected`` (unique ids) whose table was not built under
    their ``current`` fingerprint (``fingerprints``): an incremental build of them would mix two
    definitions."""
    nodes = manifest.get("nodes", {})
    return sorted(
        unique_id
        for unique_id in selected
        if nodes.get(unique_id, {}).get("config", {}).get("materialized") == "incremental"
        and recorded.get(unique_id) != current.get(unique_id)
    )


def record_built(
    path: Path, current: Mapping[str, str], run_results: Mapping[str, Any]
) -> dict[str, str]:
    """Record the ``current`` fingerprint of every model the run built successfully
    (atomically); the other models keep what was recorded for them. Returns what is recorded
    now."""
    recorded = read_recorded(path)
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        if result.get("status") == "success" and unique_id in current:
            recorded[unique_id] = current[unique_id]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    return recorded
