"""Agents needed per interval: Erlang C with shrinkage, an occupancy cap and chat concurrency.

Erlang C models a queue of contacts arriving at random (Poisson) and served first come, first
served by ``N`` identical agents. Written out here (a few lines, exact) instead of pulling in
pyworkforce, which would bring OR-Tools along for the scheduling we do not use.

- *traffic* A (Erlangs) = contacts per interval × handle time / interval length
- *probability of waiting* from the Erlang B recursion (stable for large N)
- *service level* = 1 − P(wait) · exp(−(N − A) · target time / handle time)
- *occupancy* = A / N, capped: agents at 100 % burn out and the queue explodes
- *shrinkage*: the share of paid time not available for contacts (breaks, training, leave);
  rostered agents = agents needed / (1 − shrinkage)
- *chat concurrency* c: an agent holding c chats at once serves them at c times the rate,
  so the effective handle time is AHT / c

Deferred work (email, web forms: an answer target of an hour or more) is not a queue in the
Erlang sense: whoever is free works the backlog. Rounding each hour's and each channel's
agents up to a whole agent would staff an empty inbox around the clock, so those rows use
the *workload* method instead: agents = traffic / occupancy cap, fractional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from planning import PlanningInputError
from planning._checks import require_columns


@dataclass(frozen=True)
class Staffing:
    """The staffing of one interval (whole agents from Erlang C, fractional from workload)."""

    traffic_erlangs: float
    agents: float
    """Agents on the phones (or chats) needed to meet the service level and occupancy cap."""
    agents_with_shrinkage: float
    """Agents to roster so that ``agents`` are available after shrinkage."""
    service_level: float
    occupancy: float
    probability_of_waiting: float
    average_speed_of_answer_seconds: float


def erlang_c(traffic: float, agents: int) -> float:
    """Probability that a contact waits, for ``traffic`` Erlangs and ``agents`` agents."""
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(
    traffic: float, agents: int, target_seconds: float, handle_seconds: float
) -> float:
    """Share of contacts answered within ``target_seconds``."""
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(traffic, agents)
    return 1.0 - waiting * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


@lru_cache(maxsize=65_536)
def required_staffing(
    contacts: float,
    handle_seconds: float,
    interval_seconds: float,
    target_service_level: float,
    target_seconds: float,
    *,
    shrinkage: float = 0.0,
    max_occupancy: float = 0.85,
    concurrency: float = 1.0,
) -> Staffing:
    """The fewest agents meeting ``target_service_level`` within ``target_seconds`` with
    occupancy at most ``max_occupancy``; rostered agents add ``shrinkage``."""
    if contacts < 0 or handle_seconds <= 0 or interval_seconds <= 0:
        raise PlanningInputError(
            f"staffing: contacts ({contacts}) must be >= 0 and handle time ({handle_seconds} s) "
            f"and interval ({interval_seconds} s) > 0"
        )
    if not 0 < target_service_level < 1 or not 0 < max_occupancy <= 1:
        raise PlanningInputError(
            f"staffing: service level target ({target_service_level}) must be in (0, 1) and "
            f"occupancy cap ({max_occupancy}) in (0, 1]"
        )
    if not 0 <= shrinkage < 1 or concurrency < 1:
        raise PlanningInputError(
            f"staffing: shrinkage ({shrinkage}) must be in [0, 1), concurrency ({concurrency}) >= 1"
        )
    if contacts == 0:
        return Staffing(0.0, 0, 0, 1.0, 0.0, 0.0, 0.0)
    effective_handle = handle_seconds / concurrency
    traffic = contacts * effective_handle / interval_seconds
    agents = max(1, math.floor(traffic) + 1, math.ceil(traffic / max_occupancy - 1e-9))
    while service_level(traffic, agents, target_seconds, effective_handle) < target_service_level:
        agents += 1
    waiting = erlang_c(traffic, agents)
    # Float noise must not add an agent: 14 / 0.7 is 20.000000000000004.
    rostered = math.ceil(agents / (1 - shrinkage) - 1e-9)
    return Staffing(
        traffic_erlangs=traffic,
        agents=agents,
        agents_with_shrinkage=rostered,
        service_level=service_level(traffic, agents, target_seconds, effective_handle),
        occupancy=traffic / agents,
        probability_of_waiting=waiting,
        average_speed_of_answer_seconds=waiting * effective_handle / (agents - traffic),
    )


DEFERRED_TARGET_SECONDS = 3600.0
"""Answer targets at least this long are deferred work, staffed by workload."""

STAFFING_INPUTS = [
    "contacts",
    "handle_seconds",
    "interval_seconds",
    "target_service_level",
    "target_seconds",
    "shrinkage",
    "max_occupancy",
    "concurrency",
]


def staffing_plan(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the staffing of every row added (one row per interval).

    Needs the columns in ``STAFFING_INPUTS``; adds staffing_method (erlang_c or workload),
    traffic_erlangs, agents_required, agents_required_with_shrinkage (fractional for workload
    rows), service_level, occupancy, average_speed_of_answer_seconds (null for workload rows).
    """
    require_columns(frame, STAFFING_INPUTS, "staffing input")
    results = []
    methods = []
    for row_number, row in enumerate(frame[STAFFING_INPUTS].itertuples(index=False)):
        if row.target_seconds >= DEFERRED_TARGET_SECONDS:
            if row.contacts < 0 or row.handle_seconds <= 0 or not 0 <= row.shrinkage < 1:
                raise PlanningInputError(
                    f"staffing input row {row_number}: contacts ({row.contacts}) must be >= 0, "
                    f"handle_seconds ({row.handle_seconds}) > 0, shrinkage in [0, 1)"
                )
            traffic = row.contacts * row.handle_seconds / row.concurrency / row.interval_seconds
            agents = traffic / row.max_occupancy
            methods.append("workload")
            results.append(
                Staffing(
                    traffic_erlangs=traffic,
                    agents=agents,
                    agents_with_shrinkage=agents / (1 - row.shrinkage),
                    service_level=float("nan"),
                    occupancy=row.max_occupancy if traffic > 0 else 0.0,
                    probability_of_waiting=float("nan"),
                    average_speed_of_answer_seconds=float("nan"),
                )
            )
            continue
        methods.append("erlang_c")
        try:
            results.append(
                required_staffing(
                    # Rounded so that the cache hits across intervals of near-equal volume.
                    round(float(row.contacts), 2),
                    float(row.handle_seconds),
                    float(row.interval_seconds),
                    float(row.target_service_level),
                    float(row.target_seconds),
                    shrinkage=float(row.shrinkage),
                    max_occupancy=float(row.max_occupancy),
                    concurrency=float(row.concurrency),
                )
            )
        except PlanningInputError as error:
            raise PlanningInputError(f"staffing input row {row_number}: {error}") from None
    return frame.assign(
        staffing_method=methods,
        traffic_erlangs=[result.traffic_erlangs for result in results],
        agents_required=[result.agents for result in results],
        agents_required_with_shrinkage=[result.agents_with_shrinkage for result in results],
        service_level=[result.service_level for result in results],
        occupancy=[result.occupancy for result in results],
        average_speed_of_answer_seconds=[
            result.average_speed_of_answer_seconds for result in results
        ],
    )


TEAM_HOUR_INPUTS = [
    "team_id",
    "interval_start_at",
    "forecast_contact_count",
    "staffing_method",
    "traffic_erlangs",
    "agents_required",
    "agents_required_with_shrinkage",
    "target_seconds",
    "target_service_level",
    "shrinkage",
    "max_occupancy",
]


def team_hour_staffing(intervals: pd.DataFrame, opening: pd.DataFrame) -> pd.DataFrame:
    """Agents a team needs per hour, from its channels' rows in ``intervals`` (one row per
    team, channel and hour, from ``staffing_plan``) and its opening hours in ``opening``
    (team_id, interval_start_at, is_open).

    A team's agents work all its channels, and only while it is open:

    - *pooled live queues*: the hour's live channels (Erlang C rows) are one queue, staffed
      by Erlang C on their summed traffic (the strictest answer target and service level of
      the channels with contacts, the largest shrinkage, the lowest occupancy cap), so each
      channel no longer asks for a whole agent of its own;
    - *deferred work* (workload rows) adds its fractional agents as before;
    - *closed hours* need no agents: what arrives then (live contacts as well: offline
      messages, call-backs) is worked as deferred work when the team opens, spread evenly
      over the team's next opening (a contiguous run of open hours). Work arriving after the
      last opening in the horizon falls beyond it and is left out.

    Returns one row per team and hour of ``opening``: forecast_contact_count, agents_required,
    agents_required_with_shrinkage, carried_in_agents_with_shrinkage (the part of the latter
    that arrived while the team was closed).
    """
    require_columns(intervals, TEAM_HOUR_INPUTS, "team staffing input")
    require_columns(opening, ["team_id", "interval_start_at", "is_open"], "opening hours")
    rows = intervals[TEAM_HOUR_INPUTS].copy()
    # What each row's contacts need as deferred work: agents and rostered agents.
    rows["deferred_agents"] = rows["traffic_erlangs"] / rows["max_occupancy"]
    rows["deferred_rostered"] = rows["deferred_agents"] / (1 - rows["shrinkage"])
    # Live rows with traffic (staffing_plan rounds a live hour's contacts to 0.01 first).
    live = rows["staffing_method"].eq("erlang_c") & rows["traffic_erlangs"].gt(0)
    workload = rows["staffing_method"].ne("erlang_c")
    rows["workload_agents"] = rows["agents_required"].where(workload, 0.0)
    rows["workload_rostered"] = rows["agents_required_with_shrinkage"].where(workload, 0.0)
    keys = ["team_id", "interval_start_at"]
    totals = rows.groupby(keys, as_index=False).agg(
        forecast_contact_count=("forecast_contact_count", "sum"),
        workload_agents=("workload_agents", "sum"),
        workload_rostered=("workload_rostered", "sum"),
        deferred_agents=("deferred_agents", "sum"),
        deferred_rostered=("deferred_rostered", "sum"),
    )
    queues = (
        rows[live]
        .groupby(keys, as_index=False)
        .agg(
            live_contacts=("forecast_contact_count", "sum"),
            live_traffic=("traffic_erlangs", "sum"),
            target_seconds=("target_seconds", "min"),
            target_service_level=("target_service_level", "max"),
            shrinkage=("shrinkage", "max"),
            max_occupancy=("max_occupancy", "min"),
        )
    )
    pooled = [
        required_staffing(
            round(float(queue.live_contacts), 2),
            # The pooled queue's handle time: its traffic over its contacts (concurrency in).
            float(queue.live_traffic) * 3600.0 / float(queue.live_contacts),
            3600.0,
            float(queue.target_service_level),
            float(queue.target_seconds),
            shrinkage=float(queue.shrinkage),
            max_occupancy=float(queue.max_occupancy),
        )
        for queue in queues.itertuples(index=False)
    ]
    queues = queues[keys].assign(
        live_agents=[staffing.agents for staffing in pooled],
        live_rostered=[staffing.agents_with_shrinkage for staffing in pooled],
    )
    frame = (
        opening[[*keys, "is_open"]]
        .merge(totals, on=keys, how="left")
        .merge(queues, on=keys, how="left")
        .fillna(
            {
                "forecast_contact_count": 0.0,
                "workload_agents": 0.0,
                "workload_rostered": 0.0,
                "deferred_agents": 0.0,
                "deferred_rostered": 0.0,
                "live_agents": 0.0,
                "live_rostered": 0.0,
            }
        )
        .sort_values(keys, ignore_index=True)
    )
    is_open = frame["is_open"].astype(bool)
    # Number each team's openings; a closed hour's work goes to the opening after it.
    opens = is_open & ~is_open.groupby(frame["team_id"]).shift(fill_value=False).astype(bool)
    opening_number = opens.astype(int).groupby(frame["team_id"]).cumsum()
    frame["opening_number"] = opening_number.where(is_open, opening_number + 1)
    carried = (
        frame[~is_open]
        .groupby(["team_id", "opening_number"])[["deferred_agents", "deferred_rostered"]]
        .sum()
    )
    hours = frame[is_open].groupby(["team_id", "opening_number"]).size().rename("open_hours")
    spread = carried.join(hours, how="inner")
    spread = spread[["deferred_agents", "deferred_rostered"]].div(spread["open_hours"], axis=0)
    spread.columns = ["carried_agents", "carried_rostered"]
    frame = frame.merge(spread, on=["team_id", "opening_number"], how="left")
    frame[["carried_agents", "carried_rostered"]] = (
        frame[["carried_agents", "carried_rostered"]].fillna(0.0).where(is_open, 0.0)
    )
    frame["agents_required"] = (
        frame["workload_agents"] + frame["live_agents"] + frame["carried_agents"]
    ).where(is_open, 0.0)
    frame["agents_required_with_shrinkage"] = (
        frame["workload_rostered"] + frame["live_rostered"] + frame["carried_rostered"]
    ).where(is_open, 0.0)
    frame["carried_in_agents_with_shrinkage"] = frame["carried_rostered"]
    return frame[
        [
            *keys,
            "forecast_contact_count",
            "agents_required",
            "agents_required_with_shrinkage",
            "carried_in_agents_with_shrinkage",
        ]
    ]
