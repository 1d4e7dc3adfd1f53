"""The dbt project as Dagster assets (dagster-dbt): one cached DbtProject, one @dbt_assets.

dbt's data tests become asset checks on the models they test. Everything here writes the build
copy only, in the ``warehouse_build`` pool (one slot: DuckDB allows one writing process).
"""

import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path

import dagster as dg
import filelock
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets
from dagster_dbt.compat import DBT_PYTHON_VERSION

from dagster_project.defs.warehouse.build_args import build_args, build_env
from dagster_project.lib.instance import BUILD_POOL
from dagster_project.lib.model_definitions import (
    definitions_path,
    fingerprints,
    project_vars_text,
    read_recorded,
    record_built,
    stale_models,
)
from dagster_project.lib.translator import ServopsDbtTranslator
from servops.files import atomic_file
from servops.paths import DBT_PROJECT_DIR, Home
from servops.publish import build_passed, build_started, hold_build_copy

servops_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Failures worth retrying: another process holds the DuckDB file (a stray writer, a reader
# opened read-write). Anything else (a failed test, bad SQL) fails at once.
TRANSIENT_ERRORS = ("Could not set lock on file", "database is locked", "Conflicting lock")
MAX_TRANSIENT_RETRIES = 3
RETRY_BASE_SECONDS = 2.0


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests", "seeds"):
        sources.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


# The manifest is derived from the project: (re)parse when it is missing or older than the SQL.
# Another process parsing at the same moment holds the lock; its fresh manifest will do.
if _manifest_is_stale(servops_dbt_project):
    try:
        servops_dbt_project.preparer.prepare(servops_dbt_project)
    except filelock.Timeout:
        if not servops_dbt_project.manifest_path.exists():
            raise
        warnings.warn("dbt parse lock busy: using the manifest another process wrote", stacklevel=1)


class DbtBuildConfig(dg.Config):
    """``full_refresh`` rebuilds incremental models from the whole lake (the daily build).

    ``tests_received_since`` (naive UTC, ISO; the sensor's and the hourly schedule's watermark:
    the first receipt in the files they build for) makes the data tests configured
    ``received_since:<column>`` check only rows at or after it; empty, they check every row.
    An incremental build leaves out dbt's unit tests (build_args.py); a full refresh runs them.
    """

    full_refresh: bool = False
    tests_received_since: str = ""


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def transient_retry_seconds(error_text: str, retry_number: int) -> float | None:
    """Seconds to wait before retrying a transient failure (doubling), or None: don't retry."""
    if retry_number >= MAX_TRANSIENT_RETRIES:
        return None
    if not any(marker in error_text for marker in TRANSIENT_ERRORS):
        return None
    return RETRY_BASE_SECONDS * 2**retry_number


# dbt's partial parse is only reused under the same profile, and the profile holds the build
# copy's path: a partial_parse.msgpack written for another data directory (dbt/target's, from
# whoever prepared the manifest) makes every run parse the whole project again. So each data
# directory keeps its own, next to its runs' dbt target folders.
PARTIAL_PARSE = "partial_parse.msgpack"
KEPT_DBT_TARGETS = 10


def dbt_targets_dir(home: Home) -> Path:
    """Where a data directory's dbt runs write their artifacts and keep partial-parse state."""
    return home.dagster_home / "dbt_targets"


def new_dbt_target(home: Home, run_id: str) -> Path:
    """A fresh dbt target folder for one run, seeded with this home's partial-parse state."""
    targets = dbt_targets_dir(home)
    target = targets / f"{time.strftime('%Y%m%dT%H%M%S')}-{run_id[:8]}-{uuid.uuid4().hex[:6]}"
    target.mkdir(parents=True)
    saved = targets / PARTIAL_PARSE
    if saved.exists():
        shutil.copyfile(saved, target / PARTIAL_PARSE)
    return target


def keep_dbt_state(home: Home, target: Path) -> None:
    """Save the run's partial-parse state for the next run; drop all but the newest targets."""
    targets = dbt_targets_dir(home)
    produced = target / PARTIAL_PARSE
    if produced.exists():
        # Atomic: a concurrent run reads the old state or the new one.
        with open(produced, "rb") as src, atomic_file(targets / PARTIAL_PARSE) as dst:
            shutil.copyfileobj(src, dst)
    runs = sorted(path for path in targets.iterdir() if path.is_dir())
    for old in runs[:-KEPT_DBT_TARGETS]:
        shutil.rmtree(old, ignore_errors=True)


DBT_PHASES = ("prepare", "startup", "nodes", "wrap_up")


def _parse_stamp(value: str) -> float:
    stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)).timestamp()


def dbt_phases(run_results: dict, started: float, launched: float, finished: float) -> dict:
    """Where a dbt step's seconds went, from dbt's own node timings (``run_results.json``).

    ``prepare``: dagster-dbt before dbt starts (selection, adapter handle); ``startup``: dbt's
    process start, parse, connect and plan, to its first node; ``nodes``: first node start to
    last node end (models, seeds, tests); ``wrap_up``: after the last node, until the step has
    every event. ``models`` / ``tests`` count the nodes dbt ran.
    """
    timings = [
        timing
        for result in run_results.get("results", [])
        for timing in result.get("timing", [])
        if timing.get("started_at") and timing.get("completed_at")
    ]
    phases = {"prepare": launched - started, "total": finished - started}
    if timings:
        first = min(_parse_stamp(timing["started_at"]) for timing in timings)
        last = max(_parse_stamp(timing["completed_at"]) for timing in timings)
        phases.update(startup=first - launched, nodes=last - first, wrap_up=finished - last)
    ids = [result.get("unique_id", "") for result in run_results.get("results", [])]
    phases["models"] = sum(node.startswith(("model.", "seed.")) for node in ids)
    phases["tests"] = sum(node.startswith(("test.", "unit_test.")) for node in ids)
    for kind, prefixes in (("models", ("model.", "seed.")), ("tests", ("test.", "unit_test."))):
        spans = [
            (_parse_stamp(timing["started_at"]), _parse_stamp(timing["completed_at"]))
            for result in run_results.get("results", [])
            if result.get("unique_id", "").startswith(prefixes)
            for timing in result.get("timing", [])
            if timing.get("started_at") and timing.get("completed_at")
        ]
        phases[f"busy_{kind}"] = _covered_seconds(spans)
    return phases


def _covered_seconds(spans: list[tuple[float, float]]) -> float:
    """Wall seconds during which at least one of ``spans`` ran (dbt's threads overlap)."""
    covered, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            covered += stop - max(start, end)
            end = stop
    return covered


@functools.cache
def _load_manifest(path: Path, mtime_ns: int) -> dict:
    return json.loads(path.read_text())


def current_manifest() -> dict:
    """The prepared manifest of the dbt project (read once per version of the file)."""
    path = servops_dbt_project.manifest_path
    return _load_manifest(path, path.stat().st_mtime_ns)


def selected_unique_ids(context: dg.AssetExecutionContext, manifest: Mapping) -> list[str]:
    """The dbt unique ids of the models and seeds this step materializes."""
    translator = ServopsDbtTranslator()
    by_key = {
        translator.get_asset_key(node): unique_id
        for unique_id, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in ("model", "seed", "snapshot")
    }
    return [by_key[key] for key in context.selected_asset_keys if key in by_key]


def needs_full_refresh(
    context: dg.AssetExecutionContext, home: Home, manifest: Mapping, current: Mapping[str, str]
) -> list[str]:
    """The selected incremental models whose table in the build copy another definition built
    (model_definitions.py): an incremental build would leave their old rows as they were."""
    if not home.build_db.exists():
        return []  # nothing built yet: every table is created from the whole lake anyway
    recorded = read_recorded(definitions_path(home.build_db))
    return stale_models(manifest, recorded, selected_unique_ids(context, manifest), current)


@dbt_assets(
    manifest=servops_dbt_project.manifest_path,
    project=servops_dbt_project,
    dagster_dbt_translator=ServopsDbtTranslator(),
    pool=BUILD_POOL,
)
def servops_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
):
    """Builds and tests the selected models into the build copy; nothing here touches serving."""
    home = Home.resolve()
    with hold_build_copy(home, context.log.info):
        yield from _build(context, dbt, config, home)


def _build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig, home: Home
):
    """The dbt build of ``servops_dbt_models``, its build copy held (``hold_build_copy``)."""
    manifest = current_manifest()
    current = fingerprints(manifest, project_vars_text(DBT_PROJECT_DIR))
    full_refresh = config.full_refresh
    if not full_refresh:
        stale = needs_full_refresh(context, home, manifest, current)
        if stale:
            names = ", ".join(unique_id.rsplit(".", 1)[-1] for unique_id in stale)
            context.log.warning(
                f"rows built by older SQL in {names} (the SQL of the model or of something "
                "upstream changed since they were built); this build rebuilds every selected "
                "model from the whole lake (a full refresh), so no table mixes the old "
                "definition with the new"
            )
            full_refresh = True
    args = build_args(full_refresh=full_refresh)
    since = "" if full_refresh else config.tests_received_since
    target = new_dbt_target(home, context.run.run_id)
    started = time.time()
    build_started(home)
    # dagster-dbt gives dbt this process's environment (no per-call env): set the variable
    # while dbt starts, then put the environment back.
    with _environment(build_env(since)):
        invocation = dbt.cli(args, context=context, raise_on_error=False, target_path=target)
    launched = time.time()
    yield from invocation.stream()
    keep_dbt_state(home, target)
    try:
        run_results = invocation.get_artifact("run_results.json")
    except (OSError, ValueError):
        run_results = None
    phases = None
    if run_results is not None:
        record_built(definitions_path(home.build_db), current, run_results)
        phases = dbt_phases(run_results, started, launched, time.time())
    if phases and "startup" in phases:
        # One line the freshness benchmark reads: where the step's seconds went.
        spent = ", ".join(f"{name} {phases[name]:.1f} s" for name in DBT_PHASES)
        context.log.info(
            f"dbt start-up {phases['startup']:.1f} s of {phases['total']:.1f} s: {spent}; "
            f"{phases['models']} models/seeds, {phases['tests']} tests; "
            f"busy: models {phases['busy_models']:.1f} s, tests {phases['busy_tests']:.1f} s"
        )
    error = invocation.get_error()
    if error is None:
        build_passed(home)
        return
    wait = transient_retry_seconds(str(error), context.retry_number)
    if wait is not None:
        context.log.warning(f"transient failure, retrying in {wait:.0f} s: {error}")
        raise dg.RetryRequested(max_retries=MAX_TRANSIENT_RETRIES, seconds_to_wait=wait) from error
    raise error


class ServopsDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-ups it pays on every run.

    Before starting dbt, ``DbtCliResource.cli`` runs ``dbt --version`` in a subprocess (a whole
    dbt start-up, to tell dbt Core from the Fusion engine) and builds a dbt adapter in this
    process (loading the project and parsing its ~500 macros) that only
    ``fetch_column_metadata`` / ``fetch_row_counts`` use. Measured on the sensor's path they
    were most of dagster-dbt's time before dbt even started. Here dbt is the dbt-core package
    of this environment, and the build asks for neither metadata, so neither is needed.
    """

    @cached_property
    def _cli_version(self):
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args):
        return None  # dagster-dbt treats a missing adapter as "no column metadata or row counts"


dbt_resource = ServopsDbtCliResource(project_dir=servops_dbt_project)
