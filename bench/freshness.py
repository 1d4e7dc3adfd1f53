"""Freshness: from an event being written to the lake to it being visible in serving.

The simulator runs in live mode (accelerated clock) writing small batches; the lake sensor's
logic (``LakeCursor`` + ``incremental_selection``) polls every ``POLL_SECONDS`` and runs the
incremental build (dbt build of the affected models, their tests, publish) with
``warehouse_job`` in this process, as a launched run would. A file's latency is the time from
its write (mtime) until every ticket it creates is in ``marts.fct_tickets`` of the serving
warehouse.

The first build of the empty data directory is a full one (every model, planning included) and
is a warm-up: only files written after it finished are measured, then ``BUILDS`` incremental
builds. Each build's seconds are broken down from its Dagster event log and the dbt step's
timing line (see ``dbt_phases`` in dagster_project/defs/warehouse/assets.py).

What this leaves out, and the figures say so: under ``dagster-daemon`` a file also waits for
the sensor's next tick (``SENSOR_INTERVAL_SECONDS``, and the daemon evaluates sensors at most
every 5 s), for the run queue (``dequeue_interval_seconds``) and for the launched run's process
to load the code location; the last is measured here in a fresh process.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.run import Figure, Scale
from servops.paths import PROJECT_ROOT, Home

NAME = "freshness"
POLL_SECONDS = 2.0
BUILDS = 6
MAX_SECONDS = 900
SPEED = 1440.0  # one simulated day per wall minute
DBT_STEP = "servops_dbt_models"
PUBLISH_STEP = "warehouse__serving"
DBT_LINE = re.compile(
    r"dbt start-up .*?: (?P<phases>.*?); (?P<models>\d+) models/seeds, (?P<tests>\d+)"
)


def _created_ids(path: Path) -> set[str]:
    table = pq.read_table(path, columns=["event_type", "ticket_id"])
    created = table.filter(pc.equal(table["event_type"], "ticket.created"))
    return set(created["ticket_id"].to_pylist())


def _visible(home: Home, ids: set[str]) -> set[str]:
    if not ids or not home.serving_db.exists():
        return set()
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        connection.execute("create temp table wanted (ticket_id varchar)")
        connection.executemany("insert into wanted values (?)", [[i] for i in ids])
        rows = connection.execute(
            "select ticket_id from marts.fct_tickets join wanted using (ticket_id)"
        ).fetchall()
    return {row[0] for row in rows}


def build_breakdown(instance, run_id: str, called: float, returned: float) -> dict[str, float]:
    """Seconds of one build by phase, from its event log (see the module docstring)."""
    step_times: dict[tuple[str, str], float] = {}
    phases: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is not None and event.step_key in (DBT_STEP, PUBLISH_STEP):
            kind = event.event_type_value
            if kind in ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE"):
                step_times[(event.step_key, kind)] = entry.timestamp
        match = DBT_LINE.search(entry.user_message or "")
        if match:
            for part in match.group("phases").split(", "):
                name, seconds, _ = part.split()
                phases[f"dbt {name}"] = float(seconds)
            phases["models"] = float(match.group("models"))
            phases["tests"] = float(match.group("tests"))
    dbt_start = step_times.get((DBT_STEP, "STEP_START"), called)
    publish_start = step_times.get((PUBLISH_STEP, "STEP_START"), returned)
    publish_end = step_times.get((PUBLISH_STEP, "STEP_SUCCESS"), returned)
    phases["run start-up"] = dbt_start - called
    phases["dbt step"] = publish_start - dbt_start
    phases["publish"] = publish_end - publish_start
    phases["run wrap-up"] = returned - publish_end
    phases["build"] = returned - called
    return phases


def code_location_load_seconds() -> float:
    """Seconds a new process takes to import the definitions (each launched run pays it)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import dagster_project.definitions"],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
    )
    return time.perf_counter() - started


def run(scale: Scale, workdir: Path) -> list[Figure]:
    """Measure freshness at ``scale``'s company size (the live clock bounds the duration)."""
    home = Home(workdir / "freshness_home")
    saved = dict(os.environ)
    os.environ.update(home.env())
    try:
        return _measure(scale, home)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _measure(scale: Scale, home: Home) -> list[Figure]:
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.defs.sensors.sensors import SENSOR_INTERVAL_SECONDS
    from dagster_project.lib.lake_files import LakeCursor, lake_files
    from dagster_project.lib.selection import incremental_selection
    from simulator.config import SimulationConfig
    from simulator.live import live

    config = SimulationConfig(seed=5, customers=scale.customers, days=scale.days)
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def("warehouse_job")
    instance = dg.DagsterInstance.ephemeral()
    stop = threading.Event()
    writer = threading.Thread(
        target=live,
        args=(config, home.lake),
        kwargs={"speed": SPEED, "tick_seconds": 1.0, "stop": stop},
        daemon=True,
    )
    writer.start()
    cursor = LakeCursor()
    pending: dict[Path, tuple[float, set[str]]] = {}  # file -> (written at, ticket ids)
    latencies: list[float] = []
    waits: list[float] = []  # written -> the build that publishes it starts
    builds: list[dict[str, float]] = []
    measured_from = None  # files written before the warm-up build ended are not measured
    started = time.time()
    try:
        while len(builds) < BUILDS and time.time() - started < MAX_SECONDS:
            time.sleep(POLL_SECONDS)
            files = lake_files(home.raw)
            new = cursor.unseen(files, home.raw)
            cursor = cursor.advanced(files, home.raw)
            for file in new:
                written = file.mtime_ns / 1e9
                if file.stream == "ticket" and measured_from and written >= measured_from:
                    ids = _created_ids(file.path)
                    if ids:
                        pending[file.path] = (written, ids)
            if not new:
                continue
            full = not home.serving_db.exists()
            called = time.time()
            result = job.execute_in_process(
                instance=instance,
                asset_selection=incremental_selection(
                    graph, {file.stream for file in new}, full=full
                ),
                raise_on_error=False,
            )
            returned = time.time()
            if not result.success:
                raise RuntimeError(f"incremental build {result.run_id} failed")
            if full:
                measured_from = returned
                continue
            builds.append(build_breakdown(instance, result.run_id, called, returned))
            for path, (written, ids) in list(pending.items()):
                if _visible(home, ids) == ids:
                    latencies.append(time.time() - written)
                    waits.append(called - written)
                    del pending[path]
    finally:
        stop.set()
        writer.join(timeout=30)
    if not latencies:
        return [Figure(NAME, "event written -> visible in serving", float("nan"), "s", "no data")]
    load = code_location_load_seconds()
    conditions = (
        f"{scale.customers:,} customers, live x{SPEED:.0f}, {len(latencies)} ticket files over "
        f"{len(builds)} incremental builds, in-process (no daemon)"
    )
    figures = [
        Figure(
            NAME, "event written -> visible (median)", statistics.median(latencies), "s", conditions
        ),
        Figure(NAME, "event written -> visible (worst)", max(latencies), "s", "goal < 60 s"),
        Figure(
            NAME,
            "written -> its build starts",
            statistics.median(waits),
            "s",
            f"median; poll {POLL_SECONDS:.0f} s + the build in flight",
        ),
    ]
    order = [
        "build",
        "run start-up",
        "dbt step",
        "dbt prepare",
        "dbt startup",
        "dbt nodes",
        "dbt wrap_up",
        "publish",
        "run wrap-up",
        "models",
        "tests",
    ]
    for phase in order:
        values = [build[phase] for build in builds if phase in build]
        if values:
            unit = "nodes" if phase in ("models", "tests") else "s"
            figures.append(
                Figure(
                    NAME, f"incremental build: {phase}", statistics.median(values), unit, "median"
                )
            )
    figures.append(
        Figure(
            NAME,
            "daemon path adds: code location load",
            load,
            "s",
            f"a new process importing the definitions; plus the sensor tick (<= "
            f"{SENSOR_INTERVAL_SECONDS} s, daemon loop >= 5 s) and the run queue",
        )
    )
    return figures
