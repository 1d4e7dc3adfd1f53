"""The warehouse end to end: simulate, DuckDB's floor, dbt start-up, full build (and its ratio to
the floor), one new day built incrementally after the history, peak memory, the slowest models,
the one new day's fixed cost (the same command on a 30-customer company), publish, dashboard
queries.

The new day is the lake's last event date: its partitions are held back for the full build and
put back for an incremental build with the sensor's command (the models downstream of the lake,
no unit tests, data tests on the new rows: dagster_project/defs/warehouse/build_args.py), so
the figure is what a daily run costs. Both builds leave out the planning models
(``--exclude path:models/planning``, benchmarked by bench.backtest): these figures are the
warehouse's.

At issue #5's scale (10 M events, a year and a day) outside ``servops bench``::

    python -m bench.warehouse --ten-million --workdir /tmp/bench-10m

``--lake DIR`` copies an existing lake instead of simulating one, and ``--project-dir`` builds
another copy of the dbt project, so two versions can be compared on the same lake (interleave
the runs: the machine is shared). Every dbt figure gives CPU seconds (user + sys) beside wall.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from bench.measure import repeat_ms, run_measured
from bench.run import Figure, Scale, machine_figure, print_table
from dagster_project.defs.warehouse.build_args import (
    EVERY_STREAM_SELECTION,
    build_args,
    build_env,
    first_received_at,
)
from servops.paths import DBT_PROJECT_DIR, Home
from servops.publish import publish

NAME = "warehouse"
# About 10 M events: ~0.58 events per customer and day with the simulator's defaults.
TEN_MILLION = Scale("10m", customers=47_500, days=366)
# A company whose one new day is a few dozen events: the daily build's fixed cost.
FIXED_COST_SCALE = Scale("fixed cost", customers=30, days=30)
WAREHOUSE_ONLY = ("--exclude", "path:models/planning")
SLOWEST_MODELS = 8
# The floor, run in a child process: median wall ms and CPU seconds of argv[2] reads of the lake.
FLOOR_SCRIPT = """
import statistics, sys, time
import duckdb
lake = (f"read_parquet('{sys.argv[1]}/*/*/*.parquet', "
        "hive_partitioning = true, union_by_name = true)")
walls, cpus = [], []
with duckdb.connect() as connection:
    connection.execute("set enable_progress_bar = false")
    for _ in range(int(sys.argv[2])):
        wall, cpu = time.perf_counter(), time.process_time()
        connection.execute(f"create or replace temp table lake as select * from {lake}")
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append(time.process_time() - cpu)
print(statistics.median(walls), statistics.median(cpus))
"""
DASHBOARD_QUERIES = {
    "tickets per day": "select date_day, tickets_created_count, tickets_solved_count "
    "from marts.fct_support_daily order by date_day",
    "median resolution hours": "select median(full_resolution_calendar_minutes) / 60 "
    "from marts.fct_tickets",
    "tickets by channel": "select channel, count(*) from marts.fct_tickets group by channel",
}


def run(
    scale: Scale,
    workdir: Path,
    lake: Path | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    floor_runs: int = 3,
) -> list[Figure]:
    """The warehouse figures; ``lake`` (a lake directory to copy) skips the simulation."""
    home = Home(workdir / "home")
    env = {**os.environ, **home.env()}
    bin_dir = Path(sys.executable).parent
    figures = []
    if lake is not None:
        shutil.copytree(lake / "raw", home.raw)
        figures += _lake_figures(home)
    else:
        figures += _simulate(home, scale, bin_dir, env)
    figures += _dbt_figures(home, workdir, env, bin_dir, project_dir, floor_runs)
    full_less_startup = next(f.value for f in figures if f.metric == "full build less start-up")
    figures += _fixed_cost_figures(workdir / "fixed_cost", bin_dir, project_dir, full_less_startup)
    # Not timed: the planning models too, so the published warehouse is whole for the
    # dashboards benchmark, which serves it next (their charts read the planning schema).
    subprocess.run(
        [str(bin_dir / "dbt"), "--quiet", "build", "--select", "path:models/planning",
         *("--project-dir", str(project_dir), "--profiles-dir", str(project_dir)),
         *("--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs"))],
        env=env, check=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    publish_ms, _ = repeat_ms(lambda: publish(home), 1)
    figures.append(Figure(NAME, "publish", publish_ms, "ms"))

    for label, query in DASHBOARD_QUERIES.items():

        def one_query(query: str = query) -> None:
            # Like Superset: a new read-only connection per query.
            with duckdb.connect(str(home.serving_db), read_only=True) as connection:
                connection.execute(query).fetchall()

        median, worst = repeat_ms(one_query, 20)
        figures.append(
            Figure(NAME, f"query: {label}", median, "ms", f"median of 20; worst {worst:.1f} ms")
        )
    return figures


def _lake_events(home: Home) -> int:
    """The events in the lake's files."""
    return duckdb.execute(
        f"select count(*) from read_parquet('{home.raw}/*/*/*.parquet', union_by_name = true)"
    ).fetchone()[0]


def _lake_figures(home: Home) -> list[Figure]:
    return [Figure(NAME, "events in the copied lake", _lake_events(home), "events")]


def _simulate(home: Home, scale: Scale, bin_dir: Path, env: dict[str, str]) -> list[Figure]:
    seconds, peak = _run_simulation(home, scale, bin_dir, env)
    events = _lake_events(home)
    return [
        Figure(NAME, "events simulated", events, "events"),
        Figure(
            NAME, "simulate", events / seconds, "events/s", f"{seconds:.1f} s wall incl. start-up"
        ),
        Figure(NAME, "simulate peak memory", peak, "MiB"),
    ]


def _run_simulation(
    home: Home, scale: Scale, bin_dir: Path, env: dict[str, str]
) -> tuple[float, float]:
    """``servops simulate`` at ``scale`` into ``home``: (wall s, peak MiB)."""
    return run_measured(
        [
            str(bin_dir / "servops"),
            "--home",
            str(home.root),
            "simulate",
            "--customers",
            str(scale.customers),
            "--days",
            str(scale.days),
        ],
        env,
    )


def _measured(command: Sequence[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall s, peak MiB, CPU s: user + sys of the command's process tree)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds, peak = run_measured(command, env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak, cpu


def _dbt_figures(
    home: Home,
    workdir: Path,
    env: dict[str, str],
    bin_dir: Path,
    project_dir: Path,
    floor_runs: int = 3,
) -> list[Figure]:
    figures = []
    # In a child process: the floor's tables would otherwise count in the peak memory of
    # every dbt process started after it (a forked child inherits the parent's high-water mark).
    floor_run = subprocess.run(
        [sys.executable, "-c", FLOOR_SCRIPT, str(home.raw), str(floor_runs)],
        capture_output=True,
        text=True,
        check=True,
    )
    floor_ms, floor_cpu = (float(value) for value in floor_run.stdout.split())
    figures.append(
        Figure(
            NAME,
            "floor: DuckDB reads the lake once",
            floor_ms / 1000,
            "s",
            f"median of {floor_runs}; {floor_cpu:.1f} CPU-s each",
        )
    )

    dbt, project = _dbt_command(workdir, bin_dir, project_dir)
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    held = _hold_back_last_day(home.raw, workdir / "held_back")
    startup, _, startup_cpu = _measured([*dbt, "ls", *project, "--resource-type", "model"], env)
    figures.append(
        Figure(
            NAME,
            "dbt start-up (dbt ls)",
            startup,
            "s",
            f"{startup_cpu:.1f} CPU-s; includes the first full parse",
        )
    )
    # Again, as every later run starts: the parse reused (dbt's partial parsing).
    warm, _, warm_cpu = _measured([*dbt, "ls", *project, "--resource-type", "model"], env)
    figures.append(Figure(NAME, "dbt start-up, parse reused", warm, "s", f"{warm_cpu:.1f} CPU-s"))
    floor = floor_ms / 1000
    build, build_peak, build_cpu = _measured([*dbt, "build", *project, *WAREHOUSE_ONLY], env)
    full_results = _keep_run_results(workdir, "full")
    figures += [
        Figure(
            NAME,
            "full build (dbt build, planning excluded)",
            build,
            "s",
            f"{build / floor:.1f}x the floor; {build_cpu:.1f} CPU-s",
        ),
        # The build reuses the parse (the two `dbt ls` runs above wrote it), as every build
        # after the first does: its start-up is the reused-parse one.
        Figure(
            NAME,
            "full build less start-up",
            build - warm,
            "s",
            f"less the reused-parse start-up; {build - startup:.1f} s less the first parse's",
        ),
        Figure(NAME, "build peak memory", build_peak, "MiB", "the whole dbt process"),
        *_phase_figures(full_results, "full build"),
        *_slowest_models(full_results, "full build"),
    ]

    daily, daily_peak, daily_cpu = _one_new_day(held, dbt, project, env)
    daily_results = _keep_run_results(workdir, "one_new_day")
    figures += [
        Figure(
            NAME,
            "one new day, incremental build",
            daily,
            "s",
            f"{daily / build:.0%} of the full build; {(daily - warm) / (build - warm):.0%} "
            f"less start-up (both builds reuse the parse; "
            f"{(daily - startup) / (build - startup):.0%} less the first parse's); "
            f"{daily_cpu:.1f} CPU-s",
        ),
        Figure(NAME, "incremental build peak memory", daily_peak, "MiB"),
        *_phase_figures(daily_results, "one new day"),
        *_slowest_models(daily_results, "one new day"),
    ]
    return figures


def _dbt_command(workdir: Path, bin_dir: Path, project_dir: Path) -> tuple[list[str], list[str]]:
    """dbt's executable and options, and the project options of a run in ``workdir``."""
    project = [
        *("--project-dir", str(project_dir), "--profiles-dir", str(project_dir)),
        *("--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs")),
    ]
    return [str(bin_dir / "dbt"), "--quiet"], project


def _one_new_day(
    held: list[tuple[Path, Path]], dbt: list[str], project: list[str], env: dict[str, str]
) -> tuple[float, float, float]:
    """Put the held-back partitions back and build incrementally with the sensor's command
    (dagster_project/defs/warehouse/build_args.py): no unit tests, and the data tests that can
    be restricted check the rows received since the new day's first receipt. Returns wall
    seconds, peak MiB and CPU seconds."""
    since = first_received_at(held_file for held_file, _ in held)
    for held_file, lake_file in held:
        lake_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(held_file, lake_file)
    return _measured(
        [*dbt, *build_args(full_refresh=False), *project, *EVERY_STREAM_SELECTION],
        {**env, **build_env(since)},
    )


def _fixed_cost_figures(
    workdir: Path, bin_dir: Path, project_dir: Path, full_less_startup: float
) -> list[Figure]:
    """The one new day's command at a company so small (FIXED_COST_SCALE) that its SQL has
    next to nothing to do: what dbt itself spends on the graph's nodes, the part of a daily
    build that no data size changes."""
    home = Home(workdir / "home")
    env = {**os.environ, **home.env()}
    _run_simulation(home, FIXED_COST_SCALE, bin_dir, env)
    events = _lake_events(home)
    dbt, project = _dbt_command(workdir, bin_dir, project_dir)
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    held = _hold_back_last_day(home.raw, workdir / "held_back")
    _measured([*dbt, "build", *project, *WAREHOUSE_ONLY], env)  # the history, not timed
    daily, _, daily_cpu = _one_new_day(held, dbt, project, env)
    nodes = len(_keep_run_results(workdir, "one_new_day"))
    warm, _, _ = _measured([*dbt, "ls", *project, "--resource-type", "model"], env)
    return [
        Figure(
            NAME,
            f"one new day at {FIXED_COST_SCALE.customers} customers, less start-up",
            daily - warm,
            "s",
            f"{events:,.0f} events, {nodes} nodes: {(daily - warm) / nodes * 1000:.0f} ms a node; "
            f"{(daily - warm) / full_less_startup:.0%} of the full build less start-up above; "
            f"{daily_cpu:.1f} CPU-s",
        )
    ]


def _keep_run_results(workdir: Path, name: str) -> list[dict]:
    """Copy the last dbt run's run_results.json to ``workdir/run_results_<name>.json``."""
    source = workdir / "dbt_target" / "run_results.json"
    shutil.copy(source, workdir / f"run_results_{name}.json")
    return json.loads(source.read_text())["results"]


def _phase_figures(results: list[dict], build: str) -> list[Figure]:
    """Seconds dbt's threads spent on models and on data tests (summed over both threads)."""
    models = sum(r["execution_time"] for r in results if r["unique_id"].startswith("model."))
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    return [
        Figure(NAME, f"{build}: models", models, "s", "summed over threads"),
        Figure(
            NAME,
            f"{build}: data tests",
            sum(r["execution_time"] for r in tests),
            "s",
            f"{len(tests)} tests, summed over threads",
        ),
    ]


def _hold_back_last_day(raw: Path, holding: Path) -> list[tuple[Path, Path]]:
    """Move every stream's partition of the lake's last event date to ``holding``; return
    (held file, lake file) pairs to put back."""
    partitions = sorted(raw.glob("*/event_date=*"), key=lambda path: path.name)
    if not partitions:
        return []
    last = partitions[-1].name
    moved = []
    for partition in raw.glob(f"*/{last}"):
        for lake_file in partition.glob("*.parquet"):
            held_file = holding / partition.parent.name / last / lake_file.name
            held_file.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(lake_file, held_file)
            moved.append((held_file, lake_file))
    return moved


def _slowest_models(results: list[dict], build: str) -> list[Figure]:
    """The slowest models of a dbt run (its run_results.json): where the time goes."""
    models = [result for result in results if result["unique_id"].startswith("model.")]
    models.sort(key=lambda result: result["execution_time"], reverse=True)
    return [
        Figure(
            NAME,
            f"{build}: {result['unique_id'].rsplit('.', 1)[-1]}",
            result["execution_time"],
            "s",
            "one of the slowest models",
        )
        for result in models[:SLOWEST_MODELS]
    ]


def main() -> None:
    """Run this benchmark alone, at a chosen scale (``--ten-million`` for issue #5's)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="emptied, then worked in")
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument(
        "--ten-million", action="store_true", help="about 10 M events: 47,500 customers, 366 days"
    )
    parser.add_argument("--lake", type=Path, help="copy this lake instead of simulating one")
    parser.add_argument(
        "--project-dir", type=Path, default=DBT_PROJECT_DIR, help="the dbt project to build"
    )
    parser.add_argument(
        "--floor-runs", type=int, default=3, help="reads of the lake for the floor's median"
    )
    args = parser.parse_args()
    scale = TEN_MILLION if args.ten_million else Scale("custom", args.customers, args.days)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    figures = [machine_figure("before")]
    figures += run(scale, args.workdir, args.lake, args.project_dir.resolve(), args.floor_runs)
    print_table([*figures, machine_figure("after")])


if __name__ == "__main__":
    main()
