"""The warehouse end to end: simulate, DuckDB's floor, dbt start-up, full build (and its ratio to
the floor), one new day built incrementally after the history, peak memory, the slowest models,
publish, dashboard queries.

The new day is the lake's last event date: its partitions are held back for the full build and
put back for an incremental ``dbt build``, so the figure is what a daily run costs. Both builds
leave out the planning models (``--exclude path:models/planning``, benchmarked by
bench.backtest): these figures are the warehouse's.

At issue #5's scale (10 M events, a year and a day) outside ``servops bench``::

    python -m bench.warehouse --ten-million --workdir /tmp/bench-10m
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import duckdb

from bench.measure import repeat_ms, run_measured
from bench.run import Figure, Scale, print_table
from servops.paths import DBT_PROJECT_DIR, Home
from servops.publish import publish

NAME = "warehouse"
# About 10 M events: ~0.58 events per customer and day with the simulator's defaults.
TEN_MILLION = Scale("10m", customers=47_500, days=366)
WAREHOUSE_ONLY = ("--exclude", "path:models/planning")
SLOWEST_MODELS = 5
DASHBOARD_QUERIES = {
    "tickets per day": "select date_day, tickets_created_count, tickets_solved_count "
    "from marts.fct_support_daily order by date_day",
    "median resolution hours": "select median(full_resolution_calendar_minutes) / 60 "
    "from marts.fct_tickets",
    "tickets by channel": "select channel, count(*) from marts.fct_tickets group by channel",
}


def run(scale: Scale, workdir: Path) -> list[Figure]:
    home = Home(workdir / "home")
    env = {**os.environ, **home.env()}
    bin_dir = Path(sys.executable).parent
    figures = []

    seconds, peak = run_measured(
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
    events = duckdb.execute(
        f"select count(*) from read_parquet('{home.raw}/*/*/*.parquet', union_by_name = true)"
    ).fetchone()[0]
    figures += [
        Figure(NAME, "events simulated", events, "events"),
        Figure(
            NAME, "simulate", events / seconds, "events/s", f"{seconds:.1f} s wall incl. start-up"
        ),
        Figure(NAME, "simulate peak memory", peak, "MiB"),
    ]

    with duckdb.connect() as connection:
        lake = (
            f"read_parquet('{home.raw}/*/*/*.parquet', "
            "hive_partitioning = true, union_by_name = true)"
        )
        floor_ms, _ = repeat_ms(
            lambda: connection.execute(
                f"create or replace temp table lake as select * from {lake}"
            ),
            3,
        )
    figures.append(
        Figure(NAME, "floor: DuckDB reads the lake once", floor_ms / 1000, "s", "median of 3")
    )

    dbt = [str(bin_dir / "dbt"), "--quiet"]
    project = [
        *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
        *("--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs")),
    ]
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    held = _hold_back_last_day(home.raw, workdir / "held_back")
    startup, _ = run_measured([*dbt, "ls", *project, "--resource-type", "model"], env)
    figures.append(
        Figure(NAME, "dbt start-up (dbt ls)", startup, "s", "includes the first full parse")
    )
    build, build_peak = run_measured([*dbt, "build", *project, *WAREHOUSE_ONLY], env)
    figures += [
        Figure(
            NAME,
            "full build (dbt build, planning excluded)",
            build,
            "s",
            f"{build / (floor_ms / 1000):.1f}x the floor",
        ),
        Figure(NAME, "full build less start-up", build - startup, "s"),
        Figure(NAME, "build peak memory", build_peak, "MiB", "the whole dbt process"),
        *_slowest_models(workdir / "dbt_target", "full build"),
    ]

    # One new day: put the held-back partitions back and build incrementally.
    for held_file, lake_file in held:
        lake_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(held_file, lake_file)
    daily, daily_peak = run_measured([*dbt, "build", *project, *WAREHOUSE_ONLY], env)
    figures += [
        Figure(
            NAME,
            "one new day, incremental build",
            daily,
            "s",
            f"{daily / build:.0%} of the full build; {(daily - startup) / (build - startup):.0%} "
            "less start-up",
        ),
        Figure(NAME, "incremental build peak memory", daily_peak, "MiB"),
        *_slowest_models(workdir / "dbt_target", "one new day"),
    ]

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


def _slowest_models(target: Path, build: str) -> list[Figure]:
    """The slowest models of the last dbt run (its run_results.json): where the time goes."""
    results = json.loads((target / "run_results.json").read_text())["results"]
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
    args = parser.parse_args()
    scale = TEN_MILLION if args.ten_million else Scale("custom", args.customers, args.days)
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    print_table(run(scale, args.workdir))


if __name__ == "__main__":
    main()
