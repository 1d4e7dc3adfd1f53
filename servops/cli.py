"""The ``servops`` command line: simulate, build, publish, serve, sql, bench."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import json
import os
import sys
from collections.abc import Sequence

from servops.errors import CommandError
from servops.paths import Home, activate
from simulator.config import EFFECTS, effect_field

# Modules that add their own subcommands: each has ``register(commands)`` adding a parser
# whose ``handler(args, home)`` runs it.
COMMAND_MODULES: tuple[str, ...] = ("servops.ingest_cli", "servops.planning_cli")


def _progress(label: str):
    """A one-line progress bar on a terminal; silent when output is piped or in CI."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        end = "\n" if done == total else ""
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
        sys.stderr.flush()

    return show


def cmd_simulate(args: argparse.Namespace, home: Home) -> None:
    from simulator.config import SimulationConfig, SimulationConfigError
    from simulator.run import LakeConflictError, simulate

    progress = None
    inbox = []
    lake = Home.resolve(args.lake).root if args.lake else home.lake
    try:
        config = SimulationConfig(
            seed=args.seed,
            customers=args.customers,
            days=args.days,
            start=args.start,
            defects=args.defects,
            **_effect_dates(args),
        )
        if args.live:
            from simulator.live import live

            if args.speed <= 0:
                raise SimulationConfigError(f"--speed must be positive, got {args.speed}")
            print(f"emitting live at {args.speed:g}x into {lake}; Ctrl-C stops", file=sys.stderr)
            summary = live(config, lake, speed=args.speed, replace=args.replace)
        else:
            progress = _progress("simulating days")
            summary = simulate(config, lake, replace=args.replace, on_day=progress)
            from dagster_project.defs.lake.simulator_adapter import ingest_inbox

            # The malformed deliveries go through ingestion, to quarantine with reasons.
            inbox = ingest_inbox(lake)
    except (SimulationConfigError, LakeConflictError) as error:
        raise CommandError(str(error)) from None
    except OSError as error:  # a full disk, a read-only or unwritable lake, in any process
        if progress is not None:
            sys.stderr.write("\n")  # end the progress bar's line
        raise CommandError(
            f"could not write the lake at {lake}: {error.strerror or error}"
            + (f": {error.filename}" if error.filename else "")
        ) from None
    print(summary.line())
    for ingested in inbox:
        print(ingested.line())


def _effect_dates(args: argparse.Namespace) -> dict[str, dt.date]:
    """The effects asked for, checked to fall inside the simulated window."""
    end = args.start + dt.timedelta(days=args.days)
    chosen = {}
    for effect in EFFECTS:
        day = getattr(args, effect)
        if day is None:
            continue
        if not args.start <= day < end:
            raise CommandError(
                f"--{effect.replace('_', '-')} {day} is outside the simulated window "
                f"{args.start} to {end - dt.timedelta(days=1)}"
            )
        chosen[effect_field(effect)] = day
    return chosen


def _run_job(home: Home, job_name: str, run_config: dict | None = None) -> None:
    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.lib.failures import failure_line, record_failure
    from dagster_project.lib.instance import set_build_pool_limit, write_instance_settings

    # One writer of the build copy at a time: the instance's warehouse_build pool has one slot.
    write_instance_settings(home)
    config = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}
    config.update(run_config or {})
    with dg.DagsterInstance.get() as instance:
        set_build_pool_limit(instance)
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=instance, run_config=config, raise_on_error=False
        )
    if not result.success:
        failed = [event.step_key for event in result.all_events if event.is_step_failure]
        errors = [
            e.event_specific_data.error.message for e in result.all_events if e.is_step_failure
        ]
        record_failure(
            home, failure_line(job_name, result.run_id, failed, next(iter(errors), None))
        )
        raise CommandError(
            f"the {job_name} run {result.run_id} failed at {', '.join(failed) or 'start-up'}; "
            "nothing was published and the last good warehouse keeps serving. "
            "Details are in the log above and in the Dagster UI (servops serve)."
        )


def cmd_build(args: argparse.Namespace, home: Home) -> None:
    if not any(home.raw.glob("*/event_date=*/*.parquet")):
        raise CommandError(
            f"the lake at {home.lake} holds no events yet: run `servops simulate` first"
        )
    run_config = None
    if args.full_refresh:
        from dagster_project.defs.warehouse.jobs import FULL_REFRESH_CONFIG

        run_config = FULL_REFRESH_CONFIG
    _run_job(home, "warehouse_job", run_config)
    print(f"built, tested and published {home.serving_db}")


def cmd_publish(args: argparse.Namespace, home: Home) -> None:
    from servops.publish import PublishError, publish_passed_build, rollback

    try:
        version = rollback(home) if args.rollback else publish_passed_build(home, print)
    except PublishError as error:
        raise CommandError(str(error)) from None
    print(f"serving {version.name} at {home.serving_db}")


def cmd_sql(args: argparse.Namespace, home: Home) -> None:
    import duckdb

    if not home.serving_db.exists():
        raise CommandError(
            f"no published warehouse at {home.serving_db}: run `servops build` first"
        )
    try:
        with duckdb.connect(str(home.serving_db), read_only=True) as connection:
            cursor = connection.execute(args.query)
            columns = [column[0] for column in cursor.description or []]
            rows = cursor.fetchall()
    except duckdb.Error as error:
        raise CommandError(f"query failed: {error}") from None
    if args.format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        json.dump(records, sys.stdout, default=str, indent=None)
        sys.stdout.write("\n")
    else:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def cmd_serve(args: argparse.Namespace, home: Home) -> None:
    from servops.serve import ServeError, serve

    try:
        serve(home, superset_port=args.superset_port, dagster_port=args.dagster_port)
    except ServeError as error:
        raise CommandError(str(error)) from None
    # Both servers and the warm-up have stopped. End without the interpreter's shutdown: the
    # process died now and then with SIGSEGV after everything had stopped (fresh-clone CI
    # runs), most likely tearing down what the warm-up's browser session left (not proven).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def cmd_bench(args: argparse.Namespace, home: Home) -> None:
    from bench.run import run_benchmarks

    only = None
    if args.only:
        from bench.run import BENCHMARKS, short_name

        known = [short_name(name) for name in BENCHMARKS]
        only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in only if name not in known]
        if unknown or not only:
            raise CommandError(
                f"--only {args.only!r}: choose from {', '.join(known)} (comma-separated)"
            )
    from bench.measure import BenchmarkError

    try:
        run_benchmarks(home, scale=args.scale, json_path=args.json, only=only)
    except BenchmarkError as error:
        raise CommandError(f"a benchmark failed: {error}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servops",
        description="The servops service-operations warehouse: simulate or ingest events, "
        "build and publish the warehouse, serve Superset and Dagster, query it.",
    )
    parser.add_argument(
        "--home",
        help="data directory holding the lake, warehouse files and Superset state "
        "(default: $SERVOPS_HOME, else ./data)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser("simulate", help="simulate a company's events into the lake")
    simulate.add_argument("--seed", type=int, default=42, help="root random seed (default 42)")
    simulate.add_argument(
        "--customers", type=int, default=500, help="customer accounts (default 500)"
    )
    simulate.add_argument("--days", type=int, default=90, help="days of history (default 90)")
    simulate.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2025, 1, 1),
        help="first simulated day, YYYY-MM-DD (default 2025-01-01)",
    )
    simulate.add_argument("--lake", help="another data directory to write the lake into")
    simulate.add_argument(
        "--defects",
        type=float,
        default=0.0,
        help="rate of each delivery fault: duplicates, late arrivals, malformed records "
        "(to inbox/simulator/*.jsonl, then ingested: quarantined with their reasons) (default 0)",
    )
    simulate.add_argument(
        "--live",
        action="store_true",
        help="keep emitting events on a (sped-up) clock from --start until Ctrl-C",
    )
    simulate.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="live mode: simulated seconds per real second (default 60)",
    )
    simulate.add_argument(
        "--replace",
        action="store_true",
        help="replace a simulation made with other settings instead of refusing",
    )
    for effect, description in EFFECTS.items():
        simulate.add_argument(
            f"--{effect.replace('_', '-')}",
            type=dt.date.fromisoformat,
            metavar="DATE",
            help=f"inject a known effect from DATE: {description.replace('%', '%%')} "
            "(recorded in truth/effects)",
        )
    simulate.set_defaults(handler=cmd_simulate)

    build = commands.add_parser(
        "build", help="build and test the warehouse from the lake through Dagster, then publish"
    )
    build.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild every incremental model from the whole lake, as the nightly build does "
        "(a build does so by itself when a model's SQL changed since it was built)",
    )
    build.set_defaults(handler=cmd_build)

    publish = commands.add_parser(
        "publish", help="publish the build copy, or roll back one version"
    )
    publish.add_argument("--rollback", action="store_true", help="serve the previous version again")
    publish.set_defaults(handler=cmd_publish)

    serve = commands.add_parser("serve", help="bootstrap Superset and serve it with the Dagster UI")
    serve.add_argument("--superset-port", type=int, default=8088)
    serve.add_argument("--dagster-port", type=int, default=3000)
    serve.set_defaults(handler=cmd_serve)

    sql = commands.add_parser("sql", help="run read-only SQL against the serving warehouse")
    sql.add_argument("query", help='the SQL, e.g. "select count(*) from marts.fct_tickets"')
    sql.add_argument("--format", choices=["csv", "json"], default="csv")
    sql.set_defaults(handler=cmd_sql)

    bench = commands.add_parser("bench", help="run the benchmarks and print their figures")
    bench.add_argument(
        "--scale",
        choices=["small", "medium", "large", "10m"],
        default="small",
        help="small: 500 customers x 90 days (default); 10m: the issues' 10 million events",
    )
    bench.add_argument(
        "--only",
        metavar="NAMES",
        help="comma-separated benchmarks to run (warehouse, backtest, simulator, ingest, "
        "freshness, dashboards; dashboards also runs warehouse, whose warehouse it serves)",
    )
    bench.add_argument("--json", help="also write the figures as JSON to this file")
    bench.set_defaults(handler=cmd_bench)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    home = activate(Home.resolve(args.home), override=True)
    try:
        args.handler(args, home)
    except CommandError as error:
        print(f"servops {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
