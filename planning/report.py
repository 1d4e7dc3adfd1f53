"""The backtest figures of every planning model against its baseline, from a warehouse.

Used by ``servops backtest`` and ``bench/backtest.py``. Where the warehouse lacks the marts a
model needs (billing and churn before the simulator emits them), the figure comes from the
synthetic company in ``planning.synthetic`` instead, and its note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planning import PlanningInputError, synthetic
from planning.backtest import backtest_volume
from planning.churn import EXTRA_FEATURES, backtest_churn, model_features
from planning.features import account_snapshots, daily_contacts, monthly_mrr
from planning.health import INPUTS, health_scores
from planning.retention import backtest_retention


@dataclass(frozen=True)
class BacktestFigure:
    model: str
    metric: str
    method: str
    value: float
    note: str = ""


def backtest_figures(connection, schema: str = "marts") -> list[BacktestFigure]:
    """Run the volume, churn and retention backtests on the warehouse behind ``connection``."""
    figures: list[BacktestFigure] = []
    daily = daily_contacts(connection, schema)
    try:
        volume = backtest_volume(
            daily, ["contact_type", "team_id", "channel"], horizon_weeks=4, max_origins=4
        )
        note = f"{volume.origins} weekly origins, {volume.horizon_weeks}-week horizon"
        for row in volume.summary().itertuples():
            figures.append(BacktestFigure("volume", row.metric, row.method, row.value, note))
    except PlanningInputError as error:
        figures.append(BacktestFigure("volume", "wape", "ets_robust", float("nan"), str(error)))

    snapshots = account_snapshots(connection, schema)
    source, cutoff = "warehouse", None
    if snapshots is not None:
        # Only snapshots whose 90-day outcome is known can be trained on or judged.
        last = pd.to_datetime(snapshots["snapshot_date"]).max()
        snapshots = snapshots[pd.to_datetime(snapshots["label_known_date"]) <= last]
        cutoff = snapshots["snapshot_date"].max() if len(snapshots) else None
    # The warehouse's model learns 30-day churn over its features (see planning.churn); the
    # synthetic accounts only carry 90-day labels and the health inputs.
    features, monthly = (
        [*INPUTS, *EXTRA_FEATURES],
        {
            "train_label": "is_churned_within_30_days",
            "train_label_known_column": "month_label_known_date",
        },
    )
    if snapshots is None or snapshots["snapshot_date"].nunique() < 2:
        snapshots, cutoff = synthetic.account_snapshots(), None
        source = "synthetic accounts (the warehouse holds under two labelled snapshots)"
        features, monthly = list(INPUTS), {}
    else:
        snapshots = model_features(snapshots)
    try:
        churn = backtest_churn(health_scores(snapshots), features, cutoff=cutoff, **monthly)
        note = f"{source}: train {churn.train_rows}, test {churn.test_rows} accounts"
        for row in churn.summary().itertuples():
            figures.append(BacktestFigure("churn", row.metric, row.method, row.value, note))
    except PlanningInputError as error:
        figures.append(
            BacktestFigure("churn", "auc", "logistic_regression", float("nan"), str(error))
        )

    mrr = monthly_mrr(connection, schema)
    source = "warehouse"
    if mrr is None or mrr["month_start_date"].nunique() < 6:
        mrr, source = synthetic.monthly_mrr(), "synthetic company"
    retention = backtest_retention(mrr, horizon_months=3, max_origins=3)
    note = f"{source}, {retention.origins} monthly origins, 3-month horizon"
    for row in retention.summary().itertuples():
        figures.append(BacktestFigure("retention", row.metric, row.method, row.value, note))
    return figures
