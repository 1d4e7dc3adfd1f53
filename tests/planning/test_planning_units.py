"""The planning package on inputs with a known answer (no warehouse needed)."""

from __future__ import annotations

import ast
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from planning import PlanningInputError, synthetic
from planning.backtest import backtest_volume, roc_auc, top_lift, wape
from planning.budget import budget_variance, cost_per_ticket, quarter_elapsed_share
from planning.churn import backtest_churn, horizon_probability
from planning.features import SNAPSHOT_DATES_SQL
from planning.forecast import clean_outliers, forecast_volume, hour_of_week_profile
from planning.health import INPUTS, WEIGHTS, health_scores, stop_at_churn
from planning.retention import backtest_retention, forecast_retention
from planning.staffing import erlang_c, required_staffing, staffing_plan, team_hour_staffing
from servops.paths import PROJECT_ROOT


def test_erlang_c_reproduces_the_published_worked_example():
    # 100 contacts per 30 minutes, 3-minute handle time, 80 % answered within 20 s,
    # 30 % shrinkage: 14 agents, 20 rostered, service level 0.888, occupancy 0.714.
    staffing = required_staffing(100, 180, 1800, 0.8, 20, shrinkage=0.3)
    assert staffing.traffic_erlangs == pytest.approx(10.0)
    assert staffing.agents == 14
    assert staffing.agents_with_shrinkage == 20
    assert staffing.service_level == pytest.approx(0.888, abs=0.001)
    assert staffing.occupancy == pytest.approx(0.714, abs=0.001)
    # 13 agents would miss the target: 14 is the fewest.
    assert 1 - erlang_c(10.0, 13) * math.exp(-3 * 20 / 180) < 0.8


def test_occupancy_cap_and_chat_concurrency():
    # A long answer target (email) is met by any N > A; the occupancy cap decides instead.
    capped = required_staffing(100, 180, 1800, 0.8, 4 * 3600, max_occupancy=0.8)
    assert capped.agents == 13 and capped.occupancy <= 0.8
    # Two chats at once halve the effective handle time: about half the agents.
    chat = required_staffing(100, 180, 1800, 0.8, 20, concurrency=2)
    assert chat.traffic_erlangs == pytest.approx(5.0)
    assert chat.agents < 14
    assert required_staffing(0, 180, 1800, 0.8, 20).agents == 0


def test_staffing_plan_names_the_bad_row():
    frame = pd.DataFrame(
        {
            "contacts": [10.0, 5.0],
            "handle_seconds": [300.0, 0.0],
            "interval_seconds": [3600.0, 3600.0],
            "target_service_level": [0.8, 0.8],
            "target_seconds": [60.0, 60.0],
            "shrinkage": [0.3, 0.3],
            "max_occupancy": [0.85, 0.85],
            "concurrency": [1.0, 1.0],
        }
    )
    with pytest.raises(PlanningInputError, match="row 1"):
        staffing_plan(frame)
    assert staffing_plan(frame.iloc[:1])["agents_required"].iloc[0] >= 1


def test_forecast_beats_seasonal_naive_on_a_seasonal_series():
    history = synthetic.daily_volume(days=126, seed=3)
    result = backtest_volume(history, ["team_id"], horizon_weeks=4, max_origins=3)
    assert result.origins == 3
    assert result.wape_model < result.wape_baseline
    assert result.mase_model < result.mase_baseline


def test_forecast_survives_an_injected_incident_spike():
    clean = synthetic.daily_volume(days=126, seed=3)
    # An incident in the last training week of every origin's window: the seasonal naive
    # repeats it, the cleaned model must not.
    spiky = synthetic.daily_volume(days=126, seed=3, spike_day=80, spike_size=200)
    kwargs = {"horizon_weeks": 4, "max_origins": 3}
    with_spike = backtest_volume(spiky, ["team_id"], **kwargs)
    without = backtest_volume(clean, ["team_id"], **kwargs)
    naive_model = backtest_volume(spiky, ["team_id"], robust=False, **kwargs)
    assert with_spike.wape_model < with_spike.wape_baseline
    assert with_spike.wape_model < 1.25 * without.wape_model
    assert with_spike.wape_model < naive_model.wape_model


def test_clean_outliers_clips_a_spike_and_leaves_ordinary_days():
    y = np.random.default_rng(0).poisson(30 * np.resize(synthetic.WEEKDAY_FACTOR, 70)).astype(float)
    spiked = y.copy()
    spiked[40] += 300
    cleaned = clean_outliers(spiked)
    assert cleaned[40] < y[40] + 30
    assert np.mean(cleaned == spiked) > 0.9


def test_weekly_forecast_has_13_whole_weeks_and_ordered_intervals():
    history = synthetic.daily_volume(days=100, seed=1)
    forecast = forecast_volume(history, ["team_id"], horizon_weeks=13, n_paths=200)
    assert len(forecast) == 3 * 13
    starts = pd.to_datetime(forecast["week_start_date"])
    assert (starts.dt.dayofweek == 0).all()
    assert (forecast["lower_95"] <= forecast["lower_80"]).all()
    assert (forecast["lower_80"] <= forecast["forecast_count"] + 1e-9).all()
    assert (forecast["forecast_count"] <= forecast["upper_80"] + 1e-9).all()
    assert (forecast["upper_80"] <= forecast["upper_95"]).all()
    support = forecast[forecast["team_id"] == "support"]["forecast_count"]
    # ~40 a day on weekdays and less at weekends: about 40 * 6.1 * growth a week.
    assert 220 < support.iloc[0] < 290


def test_hour_of_week_profile_shares_sum_to_one():
    stamps = pd.date_range("2025-01-06 09:00", periods=50, freq="h")
    frame = pd.DataFrame({"team_id": ["a"] * 50, "created_at": stamps})
    profile = hour_of_week_profile(frame, ["team_id"])
    assert len(profile) == 168
    assert profile["share"].sum() == pytest.approx(1.0)
    assert profile["share"].min() > 0


def test_churn_model_beats_the_baseline_on_known_signal():
    snapshots = health_scores(synthetic.account_snapshots(seed=1))
    features = [*INPUTS, "noise_feature"]
    result = backtest_churn(snapshots, features)
    assert result.test_rows == 1500 and result.train_rows == 4500
    assert result.auc_model > 0.65
    assert result.auc_model > result.auc_health_baseline > 0.5
    assert result.lift_model > 1.5
    # The signal it learned points the right way.
    assert result.coefficients["payment_failure_count"] > 0
    assert result.coefficients["csat_pct"] < 0


def test_health_score_weights_and_missing_inputs():
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)
    frame = pd.DataFrame(
        {
            "payment_failure_count": [0, 3, None],
            "csat_pct": [100, 20, None],
            "nps_score": [100, -100, None],
            "median_resolution_hours": [0, 96, None],
            "tickets_per_30_days": [1, 10, None],
            "self_service_share": [1, 0, None],
            "onboarding_completion_pct": [100, 0, None],
        }
    )
    scored = health_scores(frame)
    assert scored["health_score"].iloc[0] > 90
    assert scored["health_score"].iloc[1] < 20
    assert pd.isna(scored["health_score"].iloc[2])
    assert list(scored["health_band"].iloc[:2]) == ["healthy", "critical"]
    # Every input keeps its value beside its component (no name is shared).
    assert list(scored["nps_score"].iloc[:2]) == [100, -100]
    assert list(scored["nps_points_score"].iloc[:2]) == [1.0, 0.0]
    assert {f"{name}_score" for name in WEIGHTS}.isdisjoint(frame.columns)


def test_scores_stop_at_churn():
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "snapshot_date": ["2025-01-31", "2025-02-28", "2025-03-31", "2025-03-31"],
            "churned_date": ["2025-02-28", "2025-02-28", "2025-02-28", None],
        }
    )
    kept = stop_at_churn(frame, snapshot_column="snapshot_date", churned_column="churned_date")
    # a's March snapshot comes after its churn: dropped; b never churned: kept.
    assert list(kept["snapshot_date"]) == ["2025-01-31", "2025-02-28", "2025-03-31"]
    assert list(kept["customer_id"]) == ["a", "a", "b"]


def test_retention_forecast_beats_flat_baseline_with_intervals():
    mrr = synthetic.monthly_mrr(seed=2)
    result = backtest_retention(mrr, horizon_months=3)
    assert result.wape_logos_model < result.wape_logos_baseline
    forecast = forecast_retention(mrr, horizon_months=6, n_paths=300)
    assert (forecast["logo_lower_80"] <= forecast["logo_upper_80"]).all()
    # Cohorts of a few logos have lumpy outcomes; larger ones centre inside their interval.
    large = forecast[forecast["forecast_logo_count"] >= 10]
    assert len(large) > 0
    assert large["forecast_mrr_amount"].between(large["mrr_lower_80"], large["mrr_upper_80"]).all()
    # Retention only falls over the horizon for a closed cohort.
    one = forecast[(forecast["plan_id"] == "starter")].groupby("horizon_month")
    assert one["forecast_logo_count"].sum().is_monotonic_decreasing


def test_budget_variance_arithmetic():
    frame = pd.DataFrame(
        {
            "metric": ["spend_eur", "headcount", "tickets_solved"],
            "planned_value": [100_000.0, 10.0, 1_000.0],
            "actual_value": [40_000.0, 11.0, 600.0],
            "is_higher_better": [False, False, True],
            "elapsed_share": [0.5, 1.0, 0.5],
        }
    )
    result = budget_variance(frame).set_index("metric")
    assert result.loc["spend_eur", "prorated_planned_value"] == 50_000
    assert result.loc["spend_eur", "variance"] == -10_000
    assert result.loc["spend_eur", "variance_pct"] == pytest.approx(-20.0)
    assert result.loc["spend_eur", "is_favourable"]
    assert result.loc["headcount", "variance"] == 1 and not result.loc["headcount", "is_favourable"]
    assert result.loc["tickets_solved", "variance_pct"] == pytest.approx(20.0)
    share = quarter_elapsed_share(pd.Series(["2025-01-01", "2025-04-01"]), "2025-02-14")
    assert share.iloc[0] == pytest.approx(45 / 90) and share.iloc[1] == 0


def test_metrics_on_hand_checked_values():
    assert wape([10, 10], [12, 7]) == pytest.approx(0.25)
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert top_lift([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], np.arange(10)[::-1]) == pytest.approx(10.0)


def test_deferred_channels_are_staffed_by_workload():
    frame = pd.DataFrame(
        {
            "contacts": [2.0],
            "handle_seconds": [480.0],
            "interval_seconds": [3600.0],
            "target_service_level": [0.9],
            "target_seconds": [14_400.0],
            "shrinkage": [0.3],
            "max_occupancy": [0.8],
            "concurrency": [1.0],
        }
    )
    row = staffing_plan(frame).iloc[0]
    assert row["staffing_method"] == "workload"
    # 2 emails x 8 minutes = 16 minutes of work in the hour: 0.267 Erlangs / 0.8 / 0.7.
    assert row["agents_required"] == pytest.approx(16 / 60 / 0.8)
    assert row["agents_required_with_shrinkage"] == pytest.approx(16 / 60 / 0.8 / 0.7)


def test_a_team_staffs_its_pooled_queue_while_open_and_works_closed_hours_at_opening():
    # One team, hours 0-5: closed, closed, open, open, closed, open. Two live channels (chat,
    # phone) and email; the planning rows as staffing_plan gives them (hand-checked below).
    hours = pd.date_range("2025-03-03", periods=6, freq="h")
    opening = pd.DataFrame(
        {
            "team_id": "t1",
            "interval_start_at": hours,
            "is_open": [False, False, True, True, False, True],
        }
    )
    plan = staffing_plan(
        pd.DataFrame(
            {
                "contacts": [1.0, 2.0, 3.0] * 6,
                "handle_seconds": [600.0, 360.0, 480.0] * 6,
                "interval_seconds": 3600.0,
                "target_service_level": 0.8,
                "target_seconds": [60.0, 20.0, 14_400.0] * 6,
                "shrinkage": 0.3,
                "max_occupancy": [0.8, 0.85, 0.85] * 6,
                "concurrency": [2.0, 1.0, 1.0] * 6,
            }
        )
    ).rename(columns={"contacts": "forecast_contact_count"})
    plan["team_id"] = "t1"
    plan["interval_start_at"] = hours.repeat(3)
    # Each live channel alone asks for a whole agent (two rostered) every hour.
    assert plan["agents_required_with_shrinkage"].tolist()[:2] == [2, 2]
    result = team_hour_staffing(plan, opening).set_index("interval_start_at")
    assert result["forecast_contact_count"].tolist() == [6.0] * 6
    closed = ~opening.set_index("interval_start_at")["is_open"]
    assert (result.loc[closed, "agents_required_with_shrinkage"] == 0).all()
    # Open: one pooled queue of 3 contacts, 1 chat x 5 min + 2 calls x 6 min = 17 min (0.283
    # Erlangs, 340 s each), 20 s target: one agent answers 1 - 0.283 x exp(-0.717 x 20 / 340)
    # = 72.8 % in time (< 80 %), so 2 agents, 3 rostered (2 / 0.7 rounded up), not the 4 the
    # channels ask for apart; plus the email's 24 min of work, 0.4 Erlangs / 0.85 / 0.7.
    email = 24 / 60 / 0.85 / 0.7
    live = (5 / 60 / 0.8 + 12 / 60 / 0.85) / 0.7 + email  # a closed hour's work, deferred
    expected_open = 3 + email
    # Hours 0-1 (closed) are worked in the opening of hours 2-3, hour 4 in hour 5.
    assert result["agents_required_with_shrinkage"].iloc[2] == pytest.approx(expected_open + live)
    assert result["agents_required_with_shrinkage"].iloc[3] == pytest.approx(expected_open + live)
    assert result["agents_required_with_shrinkage"].iloc[5] == pytest.approx(expected_open + live)
    assert result["carried_in_agents_with_shrinkage"].iloc[5] == pytest.approx(live)
    assert result["agents_required"].iloc[5] == pytest.approx(2 + 24 / 60 / 0.85 + live * 0.7)
    # Nothing is lost: the rostered hours equal the open hours' own needs plus all closed work.
    assert result["agents_required_with_shrinkage"].sum() == pytest.approx(
        3 * expected_open + 3 * live
    )


def test_account_snapshots_fall_on_every_month_end():
    with duckdb.connect() as connection:
        connection.execute("create schema marts")
        connection.execute(
            "create table marts.fct_tickets as select cast(day as date) as created_date "
            "from range(date '2024-11-03', date '2025-07-30', interval 1 day) as days (day)"
        )
        dates = connection.execute(SNAPSHOT_DATES_SQL.format(schema="marts")).fetchall()
    # From the third month of tickets (November 2024) to the last whole month before 29 July.
    assert sorted(str(date) for (date,) in dates) == [
        "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30",
    ]  # fmt: skip


def _expanding_company(months: int = 8) -> pd.DataFrame:
    """200 monthly accounts from 100 EUR of which a random 10 % double their MRR each month,
    none churn; and one annual account invoiced 12 months' MRR two months before the end."""
    rng = np.random.default_rng(5)
    mrr = np.full(200, 100.0)
    rows = []
    for month in range(months):
        rows.extend((f"M{account:03d}", month, mrr[account], 1.0) for account in range(200))
        rows.append(("A000", month, 50.0, 12.0 if month == months - 2 else None))
        mrr = mrr * np.where(rng.random(200) < 0.1, 2.0, 1.0)
    frame = pd.DataFrame(
        rows, columns=["customer_id", "month", "mrr_amount", "invoiced_months"]
    ).assign(plan_id="all")
    frame["month_start_date"] = (pd.Period("2025-01", "M") + frame.pop("month")).map(
        lambda period: period.to_timestamp().date()
    )
    return frame


def test_retention_forecast_counts_expansion_at_its_mean_and_holds_annual_plans():
    frame = _expanding_company()
    current = frame[frame["month_start_date"] == frame["month_start_date"].max()]
    monthly_mrr = current.loc[current["customer_id"] != "A000", "mrr_amount"].sum()
    forecast = forecast_retention(frame, horizon_months=3, n_paths=400)
    first = forecast[forecast["horizon_month"] == 1].iloc[0]
    # A tenth of the accounts double each month: MRR grows by the mean ratio 1.1 a month
    # (the mean log ratio would give 2 ** 0.1 = 1.07); the annual account's 50 stays.
    assert first["forecast_mrr_amount"] == pytest.approx(monthly_mrr * 1.1 + 50, rel=0.03)
    assert first["mrr_lower_80"] <= first["forecast_mrr_amount"] <= first["mrr_upper_80"]
    assert first["forecast_logo_count"] == 201
    # The annual account renews in ten months: flat over the horizon.
    annual_only = forecast_retention(
        frame[frame["customer_id"] == "A000"], horizon_months=3, n_paths=50
    )
    assert (annual_only["forecast_mrr_amount"] == 50).all()
    assert (annual_only["mrr_lower_80"] == annual_only["mrr_upper_80"]).all()


def test_retention_backtest_rolls_origins_and_beats_flat_on_mrr_with_expansion():
    result = backtest_retention(_expanding_company(10), horizon_months=3, max_origins=3)
    assert result.origins == 3
    assert result.wape_mrr_model < 0.5 * result.wape_mrr_baseline


def test_backtest_reusing_parameters_matches_refitting():
    history = synthetic.daily_volume(days=126, seed=3)
    kwargs = {"horizon_weeks": 4, "max_origins": 3}
    reused = backtest_volume(history, ["team_id"], **kwargs)
    refitted = backtest_volume(history, ["team_id"], refit=True, **kwargs)
    assert reused.origins == refitted.origins == 3
    assert reused.wape_model == pytest.approx(refitted.wape_model, abs=0.02)
    assert reused.wape_model < reused.wape_baseline


def test_churn_backtest_can_learn_a_shorter_label():
    snapshots = health_scores(synthetic.account_snapshots(seed=1))
    # Trained on a label known 30 days after each snapshot, judged on the 90-day one.
    shorter = snapshots.assign(
        month_label_known_date=pd.to_datetime(snapshots["snapshot_date"]) + pd.Timedelta(days=30)
    )
    result = backtest_churn(
        shorter,
        list(INPUTS),
        train_label="is_churned_within_horizon",
        train_label_known_column="month_label_known_date",
    )
    assert result.train_rows == 4500 and result.test_rows == 1500
    assert result.auc_model > result.auc_health_baseline
    assert horizon_probability([0.1])[0] == pytest.approx(1 - 0.9**3)


def test_cost_per_ticket_arithmetic():
    result = cost_per_ticket(
        pd.Series([90_000.0, 50_000.0]),
        pd.Series([40_000.0, 10_000.0]),
        pd.Series([1_000, 0]),
        pd.Series([0.5, 1.0]),
    )
    # Half the quarter: 45,000 budgeted / 1,000 tickets = 45; actual 40,000 / 1,000 = 40.
    assert list(result.iloc[0]) == [45.0, 40.0]
    assert result.iloc[1].isna().all()


def test_heavy_libraries_are_imported_only_through_the_lock():
    # dbt runs the planning models in threads of one process; two first imports of
    # statsmodels and scikit-learn at once deadlocked (planning.import_library).
    heavy = ("statsmodels", "sklearn")
    sources = [*PROJECT_ROOT.joinpath("planning").glob("*.py"),
               *PROJECT_ROOT.joinpath("dbt", "models", "planning").glob("*.py")]  # fmt: skip
    assert len(sources) > 10
    direct = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            direct += [
                f"{path.name}:{node.lineno}" for name in names if name.split(".")[0] in heavy
            ]
    assert direct == []
    imported = []
    for path in PROJECT_ROOT.joinpath("planning").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "import_library"
                and isinstance(node.args[0], ast.Constant)
            ):
                imported.append(node.args[0].value.split(".")[0])
    assert set(imported) == set(heavy)
