"""The planning models build in a real dbt build, on a small simulated company."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from servops.paths import DBT_PROJECT_DIR, Home
from simulator.config import SimulationConfig
from simulator.run import simulate

PLANNING_MODELS = (
    "fct_volume_forecast_weekly",
    "fct_volume_backtest",
    "fct_planning_backtest_summary",
    "fct_contact_hour_profile",
    "fct_staffing_intervals",
    "fct_staffing_coverage",
    "fct_account_health",
    "fct_churn_backtest",
    "fct_retention_forecast",
    "fct_budget_variance",
)


def _dbt(home: Home, tmp_path: Path, *args: str) -> None:
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        *("--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)),
        *("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")),
    ]
    result = subprocess.run(
        command, env={**os.environ, **home.env()}, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_planning_models_build_and_pass_their_tests(tmp_path: Path):
    home = Home(tmp_path / "home")
    # Eight weeks: enough whole weeks for one backtest origin.
    simulate(SimulationConfig(seed=7, customers=120, days=56), home.lake)
    home.warehouse_dir.mkdir(parents=True)
    # Upstream seeds and models are built without their tests (those are their owners'); the
    # planning models are built and tested.
    _dbt(
        home,
        tmp_path,
        *("build", "--select", "+models/planning", "--exclude", "models/planning"),
        *("--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"),
    )
    _dbt(home, tmp_path, "build", "--select", "models/planning", "staffing_assumptions")
    with duckdb.connect(str(home.build_db), read_only=True) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'planning'"
            ).fetchall()
        }
        assert set(PLANNING_MODELS) <= tables
        weeks = connection.execute(
            "select count(distinct week_start_date), min(forecast_count) >= 0 "
            "from planning.fct_volume_forecast_weekly"
        ).fetchone()
        assert weeks == (13, True)
        summary = connection.execute(
            "select origin_count, model_wape, baseline_wape "
            "from planning.fct_planning_backtest_summary where forecast_name = 'volume_ticket'"
        ).fetchone()
        assert summary[0] >= 1 and 0 <= summary[1] < 1.5 and summary[2] > 0
        staffed = connection.execute(
            "select count(*), sum(agents_required_with_shrinkage) "
            "from planning.fct_staffing_coverage"
        ).fetchone()
        assert staffed[0] > 0 and staffed[1] > 0
        # Cost per solved ticket for the VP dashboard: budget and scheduled agents' cost.
        per_ticket = connection.execute(
            "select count(*), bool_and(actual_value > 0 and planned_value > 0) "
            "from planning.fct_budget_variance "
            "where metric = 'cost_per_ticket_eur' and tickets_solved_count > 0"
        ).fetchone()
        assert per_ticket[0] > 0 and per_ticket[1]
