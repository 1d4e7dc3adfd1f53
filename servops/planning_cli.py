"""``servops backtest``: the planning models' backtest figures against their baselines."""

from __future__ import annotations

import argparse
import json
import math

from servops.errors import CommandError
from servops.paths import Home


def cmd_backtest(args: argparse.Namespace, home: Home) -> None:
    import duckdb

    from planning.report import backtest_figures

    database = home.serving_db if args.database == "serving" else home.build_db
    if not database.exists():
        raise CommandError(
            f"no warehouse at {database}: run `servops simulate` and `servops build` first"
        )
    with duckdb.connect(str(database), read_only=True) as connection:
        figures = backtest_figures(connection)
    if args.format == "json":
        print(json.dumps([figure.__dict__ for figure in figures], default=str))
        return
    rows = [("model", "metric", "method", "value", "note")]
    for figure in figures:
        value = "n/a" if math.isnan(figure.value) else f"{figure.value:.3f}"
        rows.append((figure.model, figure.metric, figure.method, value, figure.note))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def register(commands) -> None:
    """Add ``servops backtest`` to the CLI's subcommands."""
    parser = commands.add_parser(
        "backtest",
        help="backtest the forecasts and churn model against their baselines and print figures",
    )
    parser.add_argument(
        "--database",
        choices=["serving", "build"],
        default="serving",
        help="the published warehouse (default) or the build copy",
    )
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.set_defaults(handler=cmd_backtest)
