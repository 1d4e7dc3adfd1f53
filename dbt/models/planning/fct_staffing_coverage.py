"""Rostered agents needed per team and UTC hour against agents scheduled: the coverage gap.

A team's agents work all its channels while it is open (planning.staffing.team_hour_staffing).
"""

import pandas as pd

from planning.frames import typed
from planning.staffing import team_hour_staffing

COLUMNS = {
    "team_id": "varchar",
    "interval_start_at": "timestamp",
    "week_start_date": "date",
    "forecast_contact_count": "double",
    "agents_required": "double",
    "agents_required_with_shrinkage": "double",
    "carried_in_agents_with_shrinkage": "double",
    "agents_scheduled": "double",
    "coverage_gap_agents": "double",
    "is_open": "boolean",
    "scheduled_source": "varchar",
}
CONTRACT_HOURS_PER_WEEK = 40.0


def model(dbt, session):
    dbt.config(materialized="table", schema="planning")
    intervals = dbt.ref("fct_staffing_intervals").df()
    # Rostered hours per team and ISO weekday, averaged over the last four weeks on record.
    rostered = (
        dbt.ref("fct_agent_daily")
        .query(
            "agent_daily",
            "with daily as ("
            " select team_id, activity_date, sum(scheduled_minutes) / 60.0 as scheduled_hours"
            " from agent_daily group by all),"
            " recent as (select * from daily"
            " where activity_date > (select max(activity_date) from daily) - interval 28 day)"
            " select team_id, isodow(activity_date) as iso_day_of_week,"
            " avg(scheduled_hours) as scheduled_hours from recent group by all",
        )
        .df()
    )
    schedules = dbt.ref("team_schedules").df()
    targets = dbt.ref("team_targets").df()
    if intervals.empty:
        return typed(pd.DataFrame(), COLUMNS)
    frame = (
        intervals[["team_id", "interval_start_at", "week_start_date"]]
        .drop_duplicates()
        .sort_values("interval_start_at")
    )
    # Agents scheduled per open hour: the team's rostered hours that weekday (fct_agent_daily,
    # last four weeks) spread over that day's opening hours in team_schedules (local time, the
    # team's rows or else the default's). A team without rosters falls back to its plan: the
    # target headcount, each working CONTRACT_HOURS_PER_WEEK spread over the opening hours.
    opening = []
    for team_id in frame["team_id"].unique():
        rows = schedules[schedules["team_id"] == team_id]
        if rows.empty:
            rows = schedules[schedules["team_id"] == "default"]
        opening.append(rows.assign(team_id=team_id))
    opening = pd.concat(opening, ignore_index=True) if opening else schedules.iloc[:0]
    frame["is_open"] = False
    frame["open_hours_per_week"] = 0.0
    frame["open_hours_that_day"] = 0.0
    frame["local_iso_day_of_week"] = 0
    for team_id, rows in opening.groupby("team_id"):
        in_team = frame["team_id"] == team_id
        zone = rows["time_zone"].iloc[0]
        local = (
            pd.to_datetime(frame.loc[in_team, "interval_start_at"])
            .dt.tz_localize("UTC")
            .dt.tz_convert(zone)
        )
        minutes = local.dt.hour * 60 + local.dt.minute
        weekday = local.dt.dayofweek + 1
        is_open = pd.Series(False, index=local.index)
        day_open_hours = pd.Series(0.0, index=local.index)
        hours = 0.0
        for row in rows.itertuples():
            start = row.start_time.hour * 60 + row.start_time.minute
            end = row.end_time.hour * 60 + row.end_time.minute
            hours += (end - start) / 60
            today = weekday == row.iso_day_of_week
            is_open |= today & (minutes >= start) & (minutes < end)
            day_open_hours = day_open_hours.mask(today, day_open_hours + (end - start) / 60)
        frame.loc[in_team, "is_open"] = is_open
        frame.loc[in_team, "open_hours_per_week"] = hours
        frame.loc[in_team, "open_hours_that_day"] = day_open_hours
        frame.loc[in_team, "local_iso_day_of_week"] = weekday
    targets = targets.assign(quarter_start_date=pd.to_datetime(targets["quarter_start_date"]))
    frame["week_start_date"] = pd.to_datetime(frame["week_start_date"])
    frame = pd.merge_asof(
        frame.sort_values("week_start_date"),
        targets.sort_values("quarter_start_date")[
            ["team_id", "quarter_start_date", "target_headcount"]
        ],
        left_on="week_start_date",
        right_on="quarter_start_date",
        by="team_id",
    )
    per_open_hour = (
        frame["target_headcount"].astype(float)
        * (CONTRACT_HOURS_PER_WEEK / frame["open_hours_per_week"].where(lambda h: h > 0)).clip(
            upper=1.0
        )
    ).fillna(0.0)
    # Agents needed while the team is open: its live channels pooled, closed hours' work
    # carried to the next opening (planning.staffing.team_hour_staffing).
    frame = frame.merge(
        team_hour_staffing(intervals, frame[["team_id", "interval_start_at", "is_open"]]),
        on=["team_id", "interval_start_at"],
    )
    frame = frame.merge(
        rostered.rename(columns={"iso_day_of_week": "local_iso_day_of_week"}),
        on=["team_id", "local_iso_day_of_week"],
        how="left",
    )
    has_roster = frame["team_id"].isin(rostered["team_id"])
    from_roster = (
        frame["scheduled_hours"].fillna(0.0) / frame["open_hours_that_day"].where(lambda h: h > 0)
    ).fillna(0.0)
    per_open_hour = from_roster.where(has_roster, per_open_hour)
    frame["agents_scheduled"] = per_open_hour.where(frame["is_open"].astype(bool), 0.0)
    frame["coverage_gap_agents"] = frame["agents_scheduled"] - frame[
        "agents_required_with_shrinkage"
    ].astype(float)
    frame["scheduled_source"] = has_roster.map({True: "fct_agent_daily", False: "team_targets"})
    return typed(frame.sort_values(["team_id", "interval_start_at"]), COLUMNS)
