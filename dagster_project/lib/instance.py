"""The Dagster instance settings servops writes: one writer of the build copy at a time."""

from __future__ import annotations

from servops.files import write_text_atomic
from servops.paths import Home

# Every op that writes (or publishes from) the build copy runs in this pool; DuckDB allows one
# writing process per file, so the pool has one slot (and each such op holds
# ``servops.publish.hold_build_copy``'s lock). dbt's threads inside that op are fine.
BUILD_POOL = "warehouse_build"
BUILD_POOL_LIMIT = 1

# The queue hands runs to the launcher every few seconds (Dagster's default: 5); each second
# there is a second of event-to-serving time for a sensor's build.
DEQUEUE_INTERVAL_SECONDS = 1
# No run is launched ahead to wait, blocked, for the build pool (Dagster's
# ``op_granularity_run_buffer``), although that would hide each run's start-up behind the build
# before it: the build pool is claimed per op, and a slot freed by one run's dbt step goes to the
# step that has waited longest, so a run waiting ahead would take it before that run's publish
# step and write the build copy between the build and its publish (measured: the next run's dbt
# step started 11 s after the previous dbt step, its publish still waiting).
WRITTEN_BY_SERVOPS = "# Written by servops"

DAGSTER_YAML = f"""\
{WRITTEN_BY_SERVOPS}; see dagster_project/lib/instance.py.
telemetry:
  enabled: false
concurrency:
  pools:
    # Only the "{BUILD_POOL}" pool is used: one op at a time writes the build copy.
    default_limit: {BUILD_POOL_LIMIT}
    granularity: op
run_queue:
  dequeue_interval_seconds: {DEQUEUE_INTERVAL_SECONDS}
"""


def write_instance_settings(home: Home) -> None:
    """Write ``<home>/dagster/dagster.yaml`` unless it already sets pool limits.

    A file an older servops wrote (telemetry only, or marked as servops's) is replaced; one
    with its own ``concurrency:`` section is a person's choice and is left alone.
    """
    import fcntl

    import dagster as dg

    home.dagster_home.mkdir(parents=True, exist_ok=True)
    settings = home.dagster_home / "dagster.yaml"
    # Two servops processes may start on a fresh home at once (two builds, a build and
    # serve): one at a time writes the settings (atomically) and creates the instance's
    # SQLite storage, which Dagster would otherwise create twice ("table ... already exists").
    with open(home.dagster_home / ".servops-init.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = settings.read_text() if settings.exists() else ""
        persons_own = "concurrency:" in text and not text.startswith(WRITTEN_BY_SERVOPS)
        if not persons_own and text != DAGSTER_YAML:
            write_text_atomic(settings, DAGSTER_YAML)
        with dg.DagsterInstance.from_config(str(home.dagster_home)):
            pass


def set_build_pool_limit(instance) -> None:
    """Make the build pool's limit explicit in the instance (it shows in the UI's Pools tab)."""
    instance.event_log_storage.set_concurrency_slots(BUILD_POOL, BUILD_POOL_LIMIT)
