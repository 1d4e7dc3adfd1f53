"""Freshness: from an event being written to the lake to it being visible in serving.

The simulator runs in live mode (accelerated clock) writing small batches; the lake sensor's
logic (``LakeCursor`` + ``incremental_selection``) polls every ``POLL_SECONDS`` and runs the
incremental build (dbt build of the affected models, tests, publish) in-process, as the
Dagster daemon would. A file's latency is the time from its write (mtime) until every ticket
it creates is in ``marts.fct_tickets`` of the serving warehouse.
"""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.run import Figure, Scale
from servops.paths import Home

NAME = "freshness"
POLL_SECONDS = 2.0
BUILDS = 5
MAX_SECONDS = 420
SPEED = 1440.0  # one simulated day per wall minute


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
    startups: list[float] = []
    build_seconds: list[float] = []
    started = time.time()
    try:
        while len(build_seconds) < BUILDS and time.time() - started < MAX_SECONDS:
            time.sleep(POLL_SECONDS)
            files = lake_files(home.raw)
            new = cursor.unseen(files, home.raw)
            cursor = cursor.advanced(files, home.raw)
            for file in new:
                if file.stream == "ticket":
                    ids = _created_ids(file.path)
                    if ids:
                        pending[file.path] = (file.mtime_ns / 1e9, ids)
            if not new:
                continue
            build_started = time.time()
            result = job.execute_in_process(
                instance=instance,
                asset_selection=incremental_selection(
                    graph, {file.stream for file in new}, full=not home.serving_db.exists()
                ),
                raise_on_error=False,
            )
            if not result.success:
                raise RuntimeError(f"incremental build {result.run_id} failed")
            build_seconds.append(time.time() - build_started)
            for log in instance.all_logs(result.run_id):
                match = re.search(r"dbt start-up ([\d.]+) s", log.user_message or "")
                if match:
                    startups.append(float(match.group(1)))
            published = time.time()
            for path, (written, ids) in list(pending.items()):
                if _visible(home, ids) == ids:
                    latencies.append(published - written)
                    del pending[path]
    finally:
        stop.set()
        writer.join(timeout=30)
    if not latencies:
        return [Figure(NAME, "event written -> visible in serving", float("nan"), "s", "no data")]
    startup = statistics.median(startups) if startups else float("nan")
    build = statistics.median(build_seconds)
    return [
        Figure(
            NAME,
            "event written -> visible (median)",
            statistics.median(latencies),
            "s",
            f"{len(latencies)} files over {len(build_seconds)} incremental builds",
        ),
        Figure(NAME, "event written -> visible (worst)", max(latencies), "s", "goal < 60 s"),
        Figure(NAME, "incremental build + publish", build, "s", "median"),
        Figure(
            NAME,
            "dbt start-up share of the build",
            100 * startup / build,
            "%",
            f"{startup:.1f} s to the first dbt node (parse, connect, plan), median",
        ),
    ]
