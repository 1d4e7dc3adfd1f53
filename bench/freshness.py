"""Freshness through the real Dagster daemon: an event written to the lake -> visible in serving.

What runs, each in its own process, as ``servops serve`` runs it:
- ``dagster dev -m dagster_project.definitions`` with the bench's own DAGSTER_HOME
  (``dagster.yaml`` as ``servops serve`` writes it: see dagster_project/lib/instance.py): a
  code server, the UI and the daemon, whose sensor ``new_lake_files`` is on by default; the
  queued run coordinator and default run launcher start each run in a new process that loads
  the code location;
- ``servops simulate --live`` writing the lake on an accelerated clock (``SPEED``).

This process only watches: it lists new ticket files (the ids of the tickets they create) and
polls the serving warehouse every ``POLL_SECONDS`` with a new read-only connection until each
file's tickets are all in ``marts.fct_tickets``. A sample is one ticket file: its latency runs
from its write (mtime) to the poll that saw it. Files written before the first publish (the
full warm-up builds of the empty data directory, planning included) are not measured.

Each sample's seconds are split by the run that published it, from that run's Dagster event
log, counting only the part of each phase after the file was written: ``waiting`` (write -> the
sensor's tick creates the run: the tick interval, plus any build in flight that holds the next
request back), ``queue`` (created -> launched: the run's planned asset and check events written,
the queue, and a wait for the build pool if the queue holds the run back), ``run start-up``
(launched -> its new process has loaded the code location), ``plan`` (-> first step), ``dbt``
(the dbt step; its ``dbt startup``, ``dbt models`` and ``dbt tests`` seconds come from dbt's own
node timings, for the whole step), ``publish`` and ``seen`` (publish done -> this poller saw
it). A file written while its run was already under way (dbt reads the lake when its staging
models run) counts only what was left of it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import shutil
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.measure import BenchmarkError
from bench.run import Figure, Scale, machine_figure, print_table
from servops.paths import PROJECT_ROOT, Home

NAME = "freshness"
POLL_SECONDS = 0.5
BUILDS = 6  # incremental builds published after the warm-up
MIN_SAMPLES = 5
WARM_UP_SECONDS = 600
MAX_SECONDS = 1500
SPEED = 1440.0  # one simulated day per wall minute
SEED = 5
DBT_STEP = "servops_dbt_models"
PUBLISH_STEP = "warehouse__serving"
DBT_LINE = re.compile(
    r"dbt start-up .*?: (?P<phases>.*?); (?P<models>\d+) models/seeds, (?P<tests>\d+) tests"
    r"(?:; busy: models (?P<in_models>[\d.]+) s, tests (?P<in_tests>[\d.]+) s)?"
)
PHASES = (
    "waiting",
    "queue",
    "run start-up",
    "plan",
    "dbt",
    "dbt startup",
    "dbt models",
    "dbt tests",
    "publish",
    "seen",
)


@dataclass
class Sample:
    """One ticket file: when written, the tickets it creates, when all were seen in serving."""

    path: Path
    written: float
    ids: set[str]
    seen: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    run_id: str = ""

    @property
    def latency(self) -> float:
        return (self.seen or float("nan")) - self.written


def _created_ids(path: Path) -> set[str]:
    table = pq.read_table(path, columns=["event_type", "ticket_id"])
    created = table.filter(pc.equal(table["event_type"], "ticket.created"))
    return set(created["ticket_id"].to_pylist())


def _visible(home: Home, ids: set[str]) -> set[str]:
    """The ``ids`` in serving's ``fct_tickets``, read as an analyst would: a new read-only
    connection."""
    if not ids or not home.serving_db.exists():
        return set()
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        connection.execute("create temp table wanted (ticket_id varchar)")
        connection.executemany("insert into wanted values (?)", [[i] for i in ids])
        rows = connection.execute(
            "select ticket_id from marts.fct_tickets join wanted using (ticket_id)"
        ).fetchall()
    return {row[0] for row in rows}


@dataclass
class RunTimes:
    """One run's moments (epoch seconds) and its dbt step's phases, from the event log."""

    run_id: str
    created: float
    full: bool
    events: dict[str, float] = field(default_factory=dict)
    dbt: dict[str, float] = field(default_factory=dict)

    @property
    def published(self) -> float | None:
        return self.events.get(f"{PUBLISH_STEP} STEP_SUCCESS")

    def intervals(self) -> dict[str, tuple[float, float]]:
        """Each phase's span, from the run's creation to its publish."""
        events = self.events
        enqueued = events.get("RUN_ENQUEUED", self.created)
        launched = events.get("RUN_STARTING", enqueued)
        started = events.get("RUN_START", launched)
        dbt_start = events.get(f"{DBT_STEP} STEP_START", started)
        dbt_end = events.get(f"{DBT_STEP} STEP_SUCCESS", dbt_start)
        publish_start = events.get(f"{PUBLISH_STEP} STEP_START", dbt_end)
        publish_end = self.published or publish_start
        return {
            "queue": (self.created, launched),
            "run start-up": (launched, started),
            "plan": (started, dbt_start),
            "dbt": (dbt_start, publish_start),
            "publish": (publish_start, publish_end),
        }


def read_runs(instance) -> list[RunTimes]:
    """Every run of the instance with its moments, oldest first."""
    import dagster as dg

    runs = []
    for record in instance.get_run_records(dg.RunsFilter(job_name="warehouse_job")):
        selection = record.dagster_run.asset_selection or set()
        times = RunTimes(
            record.dagster_run.run_id,
            record.create_timestamp.timestamp(),
            full=any(key.path[0] == "planning" for key in selection),
        )
        for entry in instance.all_logs(times.run_id):
            event = entry.dagster_event
            if event is not None:
                kind = event.event_type.name
                if kind in ("RUN_ENQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS"):
                    times.events.setdefault(kind, entry.timestamp)
                elif event.step_key and kind in ("STEP_START", "STEP_SUCCESS"):
                    times.events[f"{event.step_key} {kind}"] = entry.timestamp
            match = DBT_LINE.search(entry.user_message or "")
            if match:
                parts = dict(part.split(" ", 1) for part in match.group("phases").split(", "))
                times.dbt["startup"] = float(parts["startup"].split()[0])
                if match.group("in_models"):
                    times.dbt["models"] = float(match.group("in_models"))
                    times.dbt["tests"] = float(match.group("in_tests"))
                times.dbt["model nodes"] = float(match.group("models"))
                times.dbt["test nodes"] = float(match.group("tests"))
        runs.append(times)
    return sorted(runs, key=lambda run: run.created)


def attribute(sample: Sample, runs: list[RunTimes]) -> None:
    """Split ``sample``'s latency by the run whose publish first showed it."""
    published = [run for run in runs if run.published and run.published <= sample.seen + 0.01]
    if not published:
        return
    run = max(published, key=lambda item: item.published)
    sample.run_id = run.run_id
    spans = {"waiting": (sample.written, run.created), **run.intervals()}
    spans["seen"] = (run.published, sample.seen)
    # Only the part of each phase after the file was written counts toward its latency: a file
    # written while its run was starting up waited for the rest of that start-up only.
    sample.phases = {
        name: max(0.0, min(end, sample.seen) - max(start, sample.written))
        for name, (start, end) in spans.items()
    }
    sample.phases.update({f"dbt {name}": value for name, value in run.dbt.items()})


def _load() -> str:
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(scale: Scale, workdir: Path, builds: int = BUILDS) -> list[Figure]:
    """Measure freshness at ``scale``'s company size (the live clock bounds the duration)."""
    from dagster_project.lib.instance import write_instance_settings
    from dagster_project.lib.lake_files import LakeCursor, lake_files
    from servops.processes import port_is_free, start_logged, stop, wait_until_healthy

    home = Home(workdir / "freshness_home")
    shutil.rmtree(home.root, ignore_errors=True)
    write_instance_settings(home)
    env = {**os.environ, **home.env()}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    bin_dir = Path(sys.executable).parent
    load_before = _load()
    cpu_before = _children_cpu()
    port = next(port for port in range(3310, 3400) if port_is_free(port))
    log = home.dagster_home / "dagster-dev.log"
    daemon = start_logged(
        [
            *(str(bin_dir / "dagster"), "dev", "-m", "dagster_project.definitions"),
            *("-h", "127.0.0.1", "-p", str(port)),
        ],
        env,
        PROJECT_ROOT,
        log,
    )
    wait_until_healthy(daemon, f"http://127.0.0.1:{port}/server_info", log, timeout_s=300)
    simulator = start_logged(
        [
            str(bin_dir / "servops"),
            "--home",
            str(home.root),
            "simulate",
            "--live",
            f"--speed={SPEED:g}",
            f"--customers={scale.customers}",
            f"--days={max(scale.days, 60)}",
            f"--seed={SEED}",
        ],
        env,
        PROJECT_ROOT,
        home.root / "simulate-live.log",
    )
    started = time.time()
    cursor = LakeCursor()
    samples: list[Sample] = []
    first_publish = None
    publishes: list[float] = []  # serving file changes seen after the first publish
    identity = None
    simulator_cpu = daemon_cpu = float("nan")
    try:
        while time.time() - started < MAX_SECONDS:
            time.sleep(POLL_SECONDS)
            for process, what in ((daemon, "dagster dev"), (simulator, "the live simulator")):
                if process.poll() is not None:
                    raise BenchmarkError(
                        f"{what} exited with {process.returncode}; see {home.root}"
                    )
            files = lake_files(home.raw, {"ticket"})
            new = cursor.unseen(files, home.raw)
            cursor = cursor.advanced(files, home.raw)
            if first_publish is not None:
                for file in new:
                    if file.mtime_ns / 1e9 >= first_publish and (ids := _created_ids(file.path)):
                        samples.append(Sample(file.path, file.mtime_ns / 1e9, ids))
            try:
                stat = home.serving_db.stat()
            except FileNotFoundError:
                if time.time() - started > WARM_UP_SECONDS:
                    raise BenchmarkError(f"nothing published in {WARM_UP_SECONDS} s") from None
                continue
            if first_publish is None:
                first_publish = time.time()
                identity = (stat.st_ino, stat.st_mtime_ns)
                continue
            if (stat.st_ino, stat.st_mtime_ns) != identity:
                identity = (stat.st_ino, stat.st_mtime_ns)
                publishes.append(time.time())
            waiting = [sample for sample in samples if sample.seen is None]
            if waiting:
                visible = _visible(home, set().union(*(sample.ids for sample in waiting)))
                now = time.time()
                for sample in waiting:
                    if sample.ids <= visible:
                        sample.seen = now
            done = [sample for sample in samples if sample.seen is not None]
            if len(publishes) >= builds and len(done) >= MIN_SAMPLES and len(done) == len(samples):
                break
    finally:
        stop(simulator)
        simulator_cpu = _children_cpu() - cpu_before
        stop(daemon, timeout=60)
        daemon_cpu = _children_cpu() - cpu_before - simulator_cpu
    wall = time.time() - started
    return _figures(scale, home, samples, wall, load_before, simulator_cpu, daemon_cpu)


def _figures(
    scale: Scale,
    home: Home,
    samples: list[Sample],
    wall: float,
    load_before: str,
    simulator_cpu: float,
    daemon_cpu: float,
) -> list[Figure]:
    import dagster as dg

    done = [sample for sample in samples if sample.seen is not None]
    if not done:
        return [Figure(NAME, "event written -> visible in serving", float("nan"), "s", "no data")]
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        runs = read_runs(instance)
    for sample in done:
        attribute(sample, runs)
    # Kept beside the Dagster instance, so the samples can be split again later.
    (home.root / "freshness_samples.json").write_text(
        json.dumps(
            [
                {"file": str(s.path), "written": s.written, "seen": s.seen, "run_id": s.run_id}
                for s in done
            ],
            indent=1,
        )
    )
    latencies = [sample.latency for sample in done]
    publishing = {sample.run_id for sample in done if sample.run_id}
    full_runs = sum(run.full for run in runs)
    conditions = (
        f"{scale.customers:,} customers, simulate --live x{SPEED:g}; dagster dev, sensor on; "
        f"{len(done)} ticket files published by {len(publishing)} incremental runs "
        f"({len(runs)} runs in all, {full_runs} full warm-up); load {load_before} -> {_load()}"
    )
    print(f"\nfreshness samples ({conditions}):")
    print("  latency  " + "  ".join(f"{phase:>12}" for phase in PHASES) + "  run")
    for sample in done:
        cells = "  ".join(
            f"{sample.phases[phase]:12.1f}" if phase in sample.phases else f"{'-':>12}"
            for phase in PHASES
        )
        print(f"  {sample.latency:7.1f}  {cells}  {sample.run_id[:8]}")
    figures = [
        Figure(
            NAME, "event written -> visible (median)", statistics.median(latencies), "s", conditions
        ),
        Figure(NAME, "event written -> visible (worst)", max(latencies), "s", "goal < 60 s"),
    ]
    for phase in PHASES:
        values = [sample.phases[phase] for sample in done if phase in sample.phases]
        if values:
            figures.append(
                Figure(
                    NAME,
                    f"per sample: {phase}",
                    statistics.median(values),
                    "s",
                    f"median; worst {max(values):.1f}",
                )
            )
    incremental = [run for run in runs if run.run_id in publishing]
    for name in ("model nodes", "test nodes"):
        values = [run.dbt[name] for run in incremental if name in run.dbt]
        if values:
            figures.append(
                Figure(NAME, f"incremental build: {name}", statistics.median(values), "nodes")
            )
    figures.append(
        Figure(
            NAME,
            "CPU: daemon, code server, runs, dbt",
            daemon_cpu,
            "CPU-s",
            f"user+sys over {wall:.0f} s wall ({len(runs)} runs incl. warm-up); "
            f"live simulator {simulator_cpu:.0f} CPU-s",
        )
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.freshness``: this benchmark alone, in a scratch directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--builds", type=int, default=BUILDS)
    parser.add_argument("--workdir", default=f"/tmp/freshness-{dt.date.today():%Y%m%d}")
    args = parser.parse_args(argv)
    # A TERM (or an INT, ignored in background jobs) still stops the servers this started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    figures = [machine_figure("before")]
    figures += run(Scale("custom", args.customers, 90), workdir, builds=args.builds)
    figures.append(machine_figure("after"))
    print()
    print_table(figures)


if __name__ == "__main__":
    main()
