"""Rolling-origin backtest of the weekly ticket forecast against the seasonal naive."""

from planning.backtest import backtest_volume
from planning.features import daily_contacts
from planning.frames import typed

COLUMNS = {
    "contact_type": "varchar",
    "team_id": "varchar",
    "channel": "varchar",
    "origin_date": "date",
    "week_start_date": "date",
    "horizon_week": "integer",
    "actual_count": "double",
    "model_count": "double",
    "baseline_count": "double",
    "mase_scale": "double",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    # Referenced for lineage and build order; planning.features reads them.
    dbt.ref("fct_tickets")
    dbt.ref("fct_conversations")
    daily = daily_contacts(session, "marts")
    weeks = daily["date_day"].nunique() // 7 if len(daily) else 0
    if weeks < 5:
        # Too little history to hold any out: an empty table, not a failed build.
        return typed(daily.iloc[:0], COLUMNS)
    result = backtest_volume(
        daily, ["contact_type", "team_id", "channel"], horizon_weeks=4, max_origins=3
    )
    return typed(result.detail, COLUMNS)
