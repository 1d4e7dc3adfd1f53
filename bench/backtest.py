"""The planning models' backtest figures against their baselines, on the bench company.

Reuses the warehouse that ``bench.warehouse`` built in the same work directory; builds one
(simulate, then dbt build) when run on its own.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import duckdb

from bench.measure import run_measured
from bench.run import Figure, Scale
from servops.paths import DBT_PROJECT_DIR, Home

NAME = "backtest"


def _build(home: Home, scale: Scale, workdir: Path) -> Path:
    env = {**os.environ, **home.env()}
    bin_dir = Path(sys.executable).parent
    simulate = [str(bin_dir / "servops"), "--home", str(home.root), "simulate"]
    run_measured([*simulate, "--customers", str(scale.customers), "--days", str(scale.days)], env)
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    paths = ["--target-path", str(workdir / "dbt_target"), "--log-path", str(workdir / "dbt_logs")]
    # build, not run: the planning models read the seeds (plans, team schedules, budgets).
    build = ["build", "--exclude-resource-type", "unit_test"]
    run_measured([str(bin_dir / "dbt"), "--quiet", *build, *project, *paths], env)
    return home.build_db


def run(scale: Scale, workdir: Path) -> list[Figure]:
    from planning.report import backtest_figures

    home = Home(workdir / "home")
    database = next((db for db in (home.serving_db, home.build_db) if db.exists()), None)
    if database is None:
        database = _build(home, scale, workdir)
    started = time.perf_counter()
    with duckdb.connect(str(database), read_only=True) as connection:
        figures = backtest_figures(connection)
    seconds = time.perf_counter() - started
    out = [
        Figure(
            NAME, f"{figure.model} {figure.metric} ({figure.method})", figure.value, "", figure.note
        )
        for figure in figures
    ]
    out.append(Figure(NAME, "all backtests", seconds, "s", "wall, in process"))
    out.extend(_volume_refit_cost(database))
    return out


def _volume_refit_cost(database: Path) -> list[Figure]:
    """CPU seconds of the 4-origin volume backtest when each origin re-runs the first
    origin's parameters (what the build does) against refitting at every origin."""
    from planning.backtest import backtest_volume
    from planning.features import daily_contacts

    with duckdb.connect(str(database), read_only=True) as connection:
        daily = daily_contacts(connection)
    keys = ["contact_type", "team_id", "channel"]
    out = []
    for refit in (False, True):
        started = time.process_time()
        result = backtest_volume(daily, keys, horizon_weeks=4, max_origins=4, refit=refit)
        label = "refit every origin" if refit else "parameters reused"
        note = f"WAPE {result.wape_model:.3f} vs seasonal naive {result.wape_baseline:.3f}"
        out.append(
            Figure(NAME, f"volume backtest, {label}", time.process_time() - started, "s", note)
        )
    return out
