"""Churn-risk model and health score, trained on history and judged on a later snapshot."""

import pandas as pd

from planning import PlanningInputError
from planning.churn import backtest_churn
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
    try:
        result = backtest_churn(
            known.assign(
                label_known_date=pd.to_datetime(known["snapshot_date"])
                + pd.Timedelta(days=HORIZON_DAYS)
            ),
            list(INPUTS),
            cutoff=known["snapshot_date"].max(),
        )
    except PlanningInputError:
        return typed(pd.DataFrame(), COLUMNS)
    return typed(result.summary(), COLUMNS)
