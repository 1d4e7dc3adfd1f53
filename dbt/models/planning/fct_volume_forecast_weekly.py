"""Tickets and conversations per team and channel for 13 weeks, with 80 and 95 % intervals."""

from planning.features import daily_contacts
from planning.forecast import forecast_volume
from planning.frames import typed

COLUMNS = {
    "contact_type": "varchar",
    "team_id": "varchar",
    "channel": "varchar",
    "week_start_date": "date",
    "forecast_count": "double",
    "lower_80": "double",
    "upper_80": "double",
    "lower_95": "double",
    "upper_95": "double",
    "history_days": "integer",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    # Referenced for lineage and build order; planning.features reads them.
    dbt.ref("fct_tickets")
    dbt.ref("fct_conversations")
    daily = daily_contacts(session, "marts")
    forecast = forecast_volume(daily, ["contact_type", "team_id", "channel"], horizon_weeks=13)
    return typed(forecast, COLUMNS)
