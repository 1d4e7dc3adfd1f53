"""The Dagster instance settings servops writes: one writer of the build copy at a time."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator

from servops.paths import Home

# Every op that writes (or publishes from) the build copy runs in this pool; DuckDB allows one
# writing process per file, so the pool has one slot (and each such op holds
# ``hold_build_copy``'s lock). dbt's threads inside that op are fine.
BUILD_POOL = "warehouse_build"
BUILD_POOL_LIMIT = 1
# The lock file (beside the build copy) that the ops writing the build copy hold while they run.
BUILD_LOCK_NAME = ".build.lock"

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
            tmp = settings.with_name(f".dagster.yaml.{os.getpid()}.tmp")
            tmp.write_text(DAGSTER_YAML)
            os.replace(tmp, settings)
        with dg.DagsterInstance.from_config(str(home.dagster_home)):
            pass


def set_build_pool_limit(instance) -> None:
    """Make the build pool's limit explicit in the instance (it shows in the UI's Pools tab)."""
    instance.event_log_storage.set_concurrency_slots(BUILD_POOL, BUILD_POOL_LIMIT)


@contextlib.contextmanager
def hold_build_copy(home: Home, log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the build copy for writing; wait (saying so) while another process holds it.

    The build pool queues the ops that write the build copy and shows them in the UI, but on
    Dagster's default SQLite storage it can let two ops in at once when their claims coincide
    (it reads for a free slot and takes it in separate statements, and SQLite ignores
    ``SELECT ... FOR UPDATE``): in 5 of 36 trials of five processes started together, two ran at
    once. This lock is the guarantee: an ``flock`` on a file beside the build copy, released
    when the op ends or its process dies. Each op takes it once (a second ``flock`` from the
    same process on another handle would wait for itself).
    """
    import fcntl

    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(home.warehouse_dir / BUILD_LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log is not None:
                log("another process is writing the build copy: waiting until it is done")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
