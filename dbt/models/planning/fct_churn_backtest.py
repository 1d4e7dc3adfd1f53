"""Churn-risk model and health score, trained on history and judged on a later snapshot."""

import pandas as pd

from planning import PlanningInputError
from planning.churn import EXTRA_FEATURES, backtest_churn, model_features
from planning.features import HORIZON_DAYS
from planning.frames import typed
from planning.health import INPUTS

COLUMNS = {
    "metric": "varchar",
    "method": "varchar",
    "value": "double",
    "train_rows": "bigint",
    "test_rows": "bigint",
    "test_churn_rate": "double",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    health = dbt.ref("fct_account_health").df()
    known = health[health["is_label_known"].astype(bool)]
    if known["snapshot_date"].nunique() < 2:
        return typed(pd.DataFrame(), COLUMNS)
    snapshot = pd.to_datetime(known["snapshot_date"])
    churned = pd.to_datetime(known["churned_date"])
    frame = model_features(known).assign(
        label_known_date=snapshot + pd.Timedelta(days=HORIZON_DAYS),
        # The model learns 30-day churn, as fct_account_health's does (see planning.churn).
        month_label_known_date=snapshot + pd.Timedelta(days=30),
        is_churned_within_30_days=(churned <= snapshot + pd.Timedelta(days=30)).fillna(False),
    )
    try:
        result = backtest_churn(
            frame,
            [*INPUTS, *EXTRA_FEATURES],
            cutoff=known["snapshot_date"].max(),
            train_label="is_churned_within_30_days",
            train_label_known_column="month_label_known_date",
        )
    except PlanningInputError:
        return typed(pd.DataFrame(), COLUMNS)
    return typed(result.summary(), COLUMNS)
