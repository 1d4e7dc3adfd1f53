"""Account health score and churn risk per customer at each month end, up to churn."""

import pandas as pd

from planning import PlanningInputError
from planning.churn import (
    EXTRA_FEATURES,
    churn_probability,
    horizon_probability,
    model_features,
    train_churn_model,
)
from planning.features import account_snapshots
from planning.frames import typed
from planning.health import INPUTS, WEIGHTS, health_scores

# The churn model's own inputs besides the health inputs (see planning.churn).
MODEL_INPUTS = {
    "median_first_reply_hours": "double",
    "mean_reopen_count": "double",
    "mrr_amount": "double",
    "mrr_ratio_90_days": "double",
    "tenure_days": "double",
    "renewal_due_share": "double",
}

COLUMNS = {
    "customer_id": "varchar",
    "snapshot_date": "date",
    **{column: "double" for column in INPUTS},
    **{f"{name}_score": "double" for name in WEIGHTS},
    "health_score": "double",
    "health_band": "varchar",
    "inputs_used_count": "integer",
    "churn_risk_probability": "double",
    "churned_date": "date",
    "is_churned_within_horizon": "boolean",
    "is_label_known": "boolean",
    **MODEL_INPUTS,
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    # Referenced for lineage (and build order); the SQL in planning.features reads them.
    dbt.ref("fct_tickets")
    dbt.ref("fct_mrr_monthly")
    dbt.ref("fct_customer_churn")
    dbt.ref("fct_survey_responses")
    dbt.ref("fct_invoices")
    dbt.ref("fct_onboarding")
    snapshots = account_snapshots(session, "marts")
    if snapshots is None or snapshots.empty:
        return typed(pd.DataFrame(), COLUMNS)
    scored = model_features(health_scores(snapshots))
    last = pd.to_datetime(scored["snapshot_date"]).max()
    scored["is_label_known"] = pd.to_datetime(scored["label_known_date"]) <= last
    features = [*INPUTS, *EXTRA_FEATURES]
    try:
        # Learns churn within 30 days (known a month after each snapshot, so three times the
        # history of the 90-day label) and reports the 90-day risk.
        fitted = train_churn_model(
            scored[pd.to_datetime(scored["month_label_known_date"]) <= last],
            features,
            "is_churned_within_30_days",
        )
        scored["churn_risk_probability"] = horizon_probability(
            churn_probability(fitted, scored, features)
        )
    except PlanningInputError:
        # Not enough history with churn in it yet: health scores only.
        scored["churn_risk_probability"] = None
    # Labels still in the future are unknown, not "retained".
    scored["is_churned_within_horizon"] = scored["is_churned_within_horizon"].where(
        scored["is_label_known"], None
    )
    return typed(scored, COLUMNS)
