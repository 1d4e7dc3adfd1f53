"""The dbt project as Dagster assets (dagster-dbt): one cached DbtProject, one @dbt_assets.

dbt's data tests become asset checks on the models they test. Everything here writes the build
copy only, in the ``warehouse_build`` pool (one slot: DuckDB allows one writing process).
"""

import datetime as dt
import time
import warnings

import dagster as dg
import filelock
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from dagster_project.lib.instance import BUILD_POOL
from dagster_project.lib.translator import ServopsDbtTranslator
from servops.paths import DBT_PROJECT_DIR, Home

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
    """``full_refresh`` rebuilds incremental models from the whole lake (the daily build)."""

    full_refresh: bool = False


def transient_retry_seconds(error_text: str, retry_number: int) -> float | None:
    """Seconds to wait before retrying a transient failure (doubling), or None: don't retry."""
    if retry_number >= MAX_TRANSIENT_RETRIES:
        return None
    if not any(marker in error_text for marker in TRANSIENT_ERRORS):
        return None
    return RETRY_BASE_SECONDS * 2**retry_number


def _startup_seconds(run_results: dict, started: float) -> float | None:
    """Seconds from launching dbt to its first node starting: parse, connect, plan."""
    starts = [
        timing["started_at"]
        for result in run_results.get("results", [])
        for timing in result.get("timing", [])
        if timing.get("started_at")
    ]
    if not starts:
        return None
    first = min(dt.datetime.fromisoformat(value.replace("Z", "+00:00")) for value in starts)
    if first.tzinfo is None:
        first = first.replace(tzinfo=dt.UTC)
    return first.timestamp() - started


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
    Home.resolve().warehouse_dir.mkdir(parents=True, exist_ok=True)
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    started = time.time()
    invocation = dbt.cli(args, context=context, raise_on_error=False)
    yield from invocation.stream()
    try:
        startup = _startup_seconds(invocation.get_artifact("run_results.json"), started)
    except (OSError, ValueError):
        startup = None
    if startup is not None:
        context.log.info(
            f"dbt start-up {startup:.1f} s of {time.time() - started:.1f} s (parse, connect, plan)"
        )
    error = invocation.get_error()
    if error is None:
        return
    wait = transient_retry_seconds(str(error), context.retry_number)
    if wait is not None:
        context.log.warning(f"transient failure, retrying in {wait:.0f} s: {error}")
        raise dg.RetryRequested(max_retries=MAX_TRANSIENT_RETRIES, seconds_to_wait=wait) from error
    raise error


dbt_resource = DbtCliResource(project_dir=servops_dbt_project)
