"""Agents needed per team, channel and UTC hour over the forecast quarter (Erlang C)."""

import pandas as pd

from planning.frames import typed
from planning.staffing import staffing_plan

COLUMNS = {
    "contact_type": "varchar",
    "team_id": "varchar",
    "channel": "varchar",
    "interval_start_at": "timestamp",
    "week_start_date": "date",
    "forecast_contact_count": "double",
    "handle_seconds": "double",
    "target_seconds": "double",
    "target_service_level": "double",
    "shrinkage": "double",
    "max_occupancy": "double",
    "staffing_method": "varchar",
    "traffic_erlangs": "double",
    "agents_required": "double",
    "agents_required_with_shrinkage": "double",
    "service_level": "double",
    "occupancy": "double",
    "average_speed_of_answer_seconds": "double",
}


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    forecast = dbt.ref("fct_volume_forecast_weekly").df()
    profile = dbt.ref("fct_contact_hour_profile").df()
    assumptions = dbt.ref("staffing_assumptions").df()
    targets = dbt.ref("team_targets").df()
    if forecast.empty:
        return typed(pd.DataFrame(), COLUMNS)
    keys = ["contact_type", "team_id", "channel"]
    frame = forecast.merge(profile, on=keys)
    # A channel without its own assumptions takes the `default` row's.
    known = frame["channel"].where(frame["channel"].isin(assumptions["channel"]), "default")
    frame = frame.assign(assumption_channel=known).merge(
        assumptions.rename(columns={"channel": "assumption_channel"}), on="assumption_channel"
    )
    frame["week_start_date"] = pd.to_datetime(frame["week_start_date"])
    frame["interval_start_at"] = (
        frame["week_start_date"]
        + pd.to_timedelta(frame["day_of_week"] - 1, unit="D")
        + pd.to_timedelta(frame["hour_of_day"], unit="h")
    )
    # The service level target is the team's first-reply SLA target for that quarter (the
    # latest quarter on or before the week; 80 % when the team has no targets).
    targets = targets.assign(quarter_start_date=pd.to_datetime(targets["quarter_start_date"]))
    frame = pd.merge_asof(
        frame.sort_values("week_start_date"),
        targets.sort_values("quarter_start_date")[
            ["team_id", "quarter_start_date", "first_reply_sla_target_pct"]
        ],
        left_on="week_start_date",
        right_on="quarter_start_date",
        by="team_id",
    )
    frame = frame.assign(
        contacts=frame["forecast_count"] * frame["share"],
        handle_seconds=frame["handle_minutes"] * 60,
        interval_seconds=3600.0,
        target_service_level=frame["first_reply_sla_target_pct"].fillna(80.0) / 100,
        target_seconds=frame["target_answer_seconds"],
        shrinkage=frame["shrinkage_pct"] / 100,
        max_occupancy=frame["max_occupancy_pct"] / 100,
    )
    plan = staffing_plan(frame).rename(columns={"contacts": "forecast_contact_count"})
    return typed(plan.sort_values(["team_id", "channel", "interval_start_at"]), COLUMNS)
