"""Budget and headcount per team and quarter (seed team_targets) against rostered agents,
and cost per solved ticket."""

import pandas as pd

from planning.budget import budget_variance, cost_per_ticket, quarter_elapsed_share
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
    "budget_eur": "double",
    "actual_cost_eur": "double",
    "tickets_solved_count": "bigint",
}

PLANNED_TEAM = "regexp_replace(team_id, '_t[0-9]+$', '') as team_id"


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    targets = dbt.ref("team_targets").df()
    dbt.ref("fct_agent_daily")
    dbt.ref("fct_tickets")
    # Rostered agents and hours per team and quarter (the cost drivers), and tickets solved.
    # A team's tiers count towards its plan: support_t1 and support_t2 are tiers of support
    # (the rule marts.fct_team_plan_daily applies too).
    actual = session.execute(
        "with agents as ("
        f" select {PLANNED_TEAM},"
        " cast(date_trunc('quarter', activity_date) as date) as quarter_start_date,"
        " count(distinct agent_id) filter (where scheduled_minutes > 0) as active_agent_count,"
        " sum(scheduled_minutes) / 60.0 as rostered_hours,"
        " max(activity_date) as last_date"
        " from marts.fct_agent_daily group by all),"
        " solved as ("
        f" select {PLANNED_TEAM},"
        " cast(date_trunc('quarter', solved_date) as date) as quarter_start_date,"
        " count(*) as tickets_solved_count"
        " from marts.fct_tickets where is_solved and solved_date is not null group by all)"
        " select agents.*, coalesce(solved.tickets_solved_count, 0) as tickets_solved_count"
        " from agents left join solved using (team_id, quarter_start_date)"
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
    # Spend estimated from rostered hours at that cost (the warehouse holds no payroll).
    joined["actual_cost_eur"] = joined["rostered_hours"].astype(float) * cost_per_hour
    per_ticket = cost_per_ticket(
        joined["budget_eur"], joined["actual_cost_eur"], joined["tickets_solved_count"], share
    )
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
            # Spend against the budget pro-rated to the days elapsed.
            joined.assign(
                metric="spend_eur",
                planned_value=joined["budget_eur"].astype(float),
                actual_value=joined["actual_cost_eur"],
                is_higher_better=False,
                elapsed_share=share,
            ),
            # Cost per solved ticket: the pro-rated budget's and the scheduled agents' (both
            # already per the quarter so far, so not pro-rated again).
            joined.assign(
                metric="cost_per_ticket_eur",
                planned_value=per_ticket["planned_value"],
                actual_value=per_ticket["actual_value"],
                is_higher_better=False,
                elapsed_share=1.0,
            ),
        ],
        ignore_index=True,
    )
    return typed(budget_variance(metrics), COLUMNS)
