"""Budget and headcount per team and quarter (seed team_targets) against rostered agents."""

import pandas as pd

from planning.budget import budget_variance, quarter_elapsed_share
from planning.frames import typed

COLUMNS = {
    "team_id": "varchar",
    "quarter_start_date": "date",
    "metric": "varchar",
    "planned_value": "double",
    "elapsed_share": "double",
    "prorated_planned_value": "double",
    "actual_value": "double",
    "variance": "double",
    "variance_pct": "double",
    "is_favourable": "boolean",
    "is_higher_better": "boolean",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    targets = dbt.ref("team_targets").df()
    dbt.ref("fct_agent_daily")
    # Rostered agents and hours per team and quarter: the cost drivers.
    actual = session.execute(
        "select team_id,"
        " cast(date_trunc('quarter', activity_date) as date) as quarter_start_date,"
        " count(distinct agent_id) filter (where scheduled_minutes > 0) as active_agent_count,"
        " sum(scheduled_minutes) / 60.0 as rostered_hours,"
        " max(activity_date) as last_date"
        " from marts.fct_agent_daily group by all"
    ).df()
    if actual.empty:
        return typed(pd.DataFrame(), COLUMNS)
    as_of = pd.to_datetime(actual["last_date"]).max()
    targets["quarter_start_date"] = pd.to_datetime(targets["quarter_start_date"])
    actual["quarter_start_date"] = pd.to_datetime(actual["quarter_start_date"])
    joined = targets.merge(actual, on=["team_id", "quarter_start_date"], how="inner")
    share = quarter_elapsed_share(joined["quarter_start_date"], as_of)
    # The budget's cost of one planned agent-hour: target headcount on 40-hour weeks, 13 weeks.
    cost_per_hour = joined["budget_eur"].astype(float) / (joined["target_headcount"] * 40 * 13)
    metrics = pd.concat(
        [
            # Agents rostered in the quarter against planned headcount (a stock: not pro-rated).
            joined.assign(
                metric="headcount",
                planned_value=joined["target_headcount"].astype(float),
                actual_value=joined["active_agent_count"].astype(float),
                is_higher_better=False,
                elapsed_share=1.0,
            ),
            # Spend estimated from rostered hours at the budget's cost per planned hour (the
            # warehouse holds no payroll); the budget is pro-rated to the days elapsed.
            joined.assign(
                metric="spend_eur",
                planned_value=joined["budget_eur"].astype(float),
                actual_value=joined["rostered_hours"].astype(float) * cost_per_hour,
                is_higher_better=False,
                elapsed_share=share,
            ),
        ],
        ignore_index=True,
    )
    return typed(budget_variance(metrics), COLUMNS)
