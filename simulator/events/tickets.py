"""One day of support tickets: their lifecycle events and the truth they imply.

Tickets created on a day are drawn together from that day's random stream; their later
events (replies, solves) may fall on later days and are written to those days' partitions.
Nothing happens at or after the end of the simulated window, so the truth is computed from
exactly the events that were emitted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servops.events import UTC_MICROS, build_table
from simulator.config import SimulationConfig
from simulator.entities import TEAM_SHARE, Company
from simulator.rng import generator

SECONDS_PER_DAY = 86_400
CHANNELS = np.array(["email", "web", "chat", "phone"], dtype=object)
CHANNEL_SHARE = np.array([0.4, 0.3, 0.2, 0.1])
PRIORITIES = np.array(["low", "normal", "high", "urgent"], dtype=object)
PRIORITY_SHARE = np.array([0.2, 0.55, 0.2, 0.05])
# Median minutes to the first public reply by priority: urgent work is picked up first.
FIRST_REPLY_MEDIAN_MINUTES = np.array([240.0, 150.0, 60.0, 20.0])
WEEKDAY_FACTOR = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.45, 0.4])  # Monday first
HOUR_WEIGHT = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 9, 8, 6, 4, 3, 2, 2, 1, 1], dtype=float
)
HOUR_SHARE = HOUR_WEIGHT / HOUR_WEIGHT.sum()

# Event kinds, in the order they are laid out before sorting.
CREATED, BOT_REPLY, INTERNAL_NOTE, AGENT_REPLY, CUSTOMER_REPLY, SOLVED = range(6)
KIND_EVENT_TYPE = ["ticket.created"] + ["ticket.commented"] * 4 + ["ticket.status_changed"]
KIND_AUTHOR = [None, "bot", "agent", "agent", "customer", None]
KIND_PUBLIC = [None, True, False, True, True, None]
KIND_STATUS = ["new", None, None, None, None, "solved"]

TRUTH_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.string()),
        ("created_at", UTC_MICROS),
        ("first_replied_at", UTC_MICROS),
        ("solved_at", UTC_MICROS),
        ("public_agent_reply_count", pa.int32()),
        ("first_reply_calendar_minutes", pa.float64()),
        ("full_resolution_calendar_minutes", pa.float64()),
    ]
)


def _epoch_seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


def _minutes(rng: np.random.Generator, median: np.ndarray | float, size: int) -> np.ndarray:
    """Log-normal durations in whole seconds, at least one minute."""
    draws = rng.lognormal(mean=np.log(median), sigma=1.0, size=size) * 60.0
    return np.maximum(60, draws.astype(np.int64))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds * 1_000_000, type=pa.int64()).cast(UTC_MICROS)


def generate_ticket_day(
    config: SimulationConfig, company: Company, day_index: int
) -> tuple[pa.Table, pa.Table]:
    """Events and truth of the tickets created on day ``day_index`` of the window."""
    rng = generator(config.seed, "ticket", day_index)
    day = config.day(day_index)
    day_start = _epoch_seconds(day)
    horizon = _epoch_seconds(config.end)
    growth = 1.0 + 0.25 * day_index / 365.0
    expected = (
        config.customers * config.tickets_per_customer_day * WEEKDAY_FACTOR[day.weekday()] * growth
    )
    n = int(rng.poisson(expected))

    created = day_start + rng.choice(24, size=n, p=HOUR_SHARE) * 3600 + rng.integers(0, 3600, n)
    customer = rng.integers(0, len(company.customer_ids), n)
    team = rng.choice(len(company.team_ids), size=n, p=TEAM_SHARE)
    agent_pick = rng.random(n)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    priority = rng.choice(len(PRIORITIES), size=n, p=PRIORITY_SHARE)

    has_bot = rng.random(n) < 0.25
    bot_at = created + rng.integers(5, 60, n)
    has_note = rng.random(n) < 0.15
    note_at = created + rng.integers(60, 1800, n)
    has_reply = rng.random(n) < 0.97
    first_reply_at = created + _minutes(rng, FIRST_REPLY_MEDIAN_MINUTES[priority], n)
    extra_replies = rng.poisson(0.7, n) * has_reply
    has_customer_reply = has_reply & (rng.random(n) < 0.3)
    customer_reply_at = first_reply_at + _minutes(rng, 45.0, n)
    # Later public agent replies follow the first one, each after a log-normal gap.
    extra_owner = np.repeat(np.arange(n), extra_replies)
    gaps = _minutes(rng, 240.0, len(extra_owner))
    run_start = np.repeat(np.cumsum(extra_replies) - extra_replies, extra_replies)
    cumulative = np.cumsum(gaps)
    offset_in_run = cumulative - np.concatenate([[0], cumulative])[run_start]
    extra_at = first_reply_at[extra_owner] + offset_in_run
    last_reply_at = first_reply_at.copy()
    np.maximum.at(last_reply_at, extra_owner, extra_at)
    is_solved = has_reply & (rng.random(n) < 0.92)
    solved_at = np.maximum(last_reply_at, customer_reply_at * has_customer_reply) + _minutes(
        rng, 60.0, n
    )

    owners = [
        np.arange(n),
        np.flatnonzero(has_bot),
        np.flatnonzero(has_note),
        np.flatnonzero(has_reply),
        np.flatnonzero(has_customer_reply),
        np.flatnonzero(is_solved),
    ]
    times = [
        created,
        bot_at[has_bot],
        note_at[has_note],
        first_reply_at[has_reply],
        customer_reply_at[has_customer_reply],
        solved_at[is_solved],
    ]
    owners.insert(4, extra_owner)
    times.insert(4, extra_at)
    kinds = [CREATED, BOT_REPLY, INTERNAL_NOTE, AGENT_REPLY, AGENT_REPLY, CUSTOMER_REPLY, SOLVED]
    kind = np.concatenate(
        [np.full(len(o), k, dtype=np.int8) for o, k in zip(owners, kinds, strict=True)]
    )
    owner = np.concatenate(owners)
    at = np.concatenate(times)
    keep = at < horizon
    kind, owner, at = kind[keep], owner[keep], at[keep]
    m = len(at)

    received = at + rng.integers(0, 5, m)
    if config.defects > 0:
        duplicate = np.flatnonzero(rng.random(m) < config.defects)
        late = received[duplicate] + rng.integers(1, 3600, len(duplicate))
        rows = np.concatenate([np.arange(m), duplicate])
        received = np.concatenate([received, late])
    else:
        rows = np.arange(m)

    prefix = f"sim-{config.seed}-ticket-{day_index:05d}-"
    sequence = pa.array(rows, type=pa.int64()).cast(pa.string())
    event_ids = pc.binary_join_element_wise(prefix, sequence, "")
    ticket_ids = np.array([f"T{day_index:05d}-{i:06d}" for i in range(n)], dtype=object)
    agent_index = [
        (agent_pick * len(company.agent_ids_by_team[t])).astype(np.int64)
        for t in range(len(company.team_ids))
    ]
    agents = np.empty(n, dtype=object)
    for t, agents_of_team in enumerate(company.agent_ids_by_team):
        in_team = team == t
        agents[in_team] = agents_of_team[agent_index[t][in_team]]

    kind_rows, owner_rows = kind[rows], owner[rows]
    agent_column = agents[owner_rows]
    agent_column[~np.isin(kind_rows, (INTERNAL_NOTE, AGENT_REPLY))] = None

    def lookup(values: list) -> pa.Array:
        return pa.array(np.array(values, dtype=object)[kind_rows])

    events = build_table(
        "ticket",
        {
            "event_id": event_ids,
            "event_type": lookup(KIND_EVENT_TYPE),
            "schema_version": pa.array(np.ones(len(rows), dtype=np.int16)),
            "occurred_at": _timestamps(at[rows]),
            "received_at": _timestamps(received),
            "source": pa.array(np.full(len(rows), "simulator", dtype=object)),
            "ticket_id": pa.array(ticket_ids[owner_rows]),
            "customer_id": pa.array(company.customer_ids[customer[owner_rows]]),
            "team_id": pa.array(company.team_ids[team[owner_rows]]),
            "agent_id": pa.array(agent_column, type=pa.string()),
            "channel": pa.array(CHANNELS[channel[owner_rows]]),
            "priority": pa.array(PRIORITIES[priority[owner_rows]]),
            "status": lookup(KIND_STATUS),
            "author_type": lookup(KIND_AUTHOR),
            "is_public": pa.array(np.array(KIND_PUBLIC, dtype=object)[kind_rows], pa.bool_()),
        },
    )

    replied = has_reply & (first_reply_at < horizon)
    solved = is_solved & (solved_at < horizon)
    reply_count = np.bincount(owner[kind == AGENT_REPLY], minlength=n).astype(np.int32)
    truth = pa.table(
        {
            "ticket_id": pa.array(ticket_ids, pa.string()),
            "created_at": _timestamps(created),
            "first_replied_at": pa.array(
                np.where(replied, first_reply_at, 0) * 1_000_000, pa.int64(), mask=~replied
            ).cast(UTC_MICROS),
            "solved_at": pa.array(
                np.where(solved, solved_at, 0) * 1_000_000, pa.int64(), mask=~solved
            ).cast(UTC_MICROS),
            "public_agent_reply_count": pa.array(reply_count),
            "first_reply_calendar_minutes": pa.array(
                (first_reply_at - created) / 60.0, pa.float64(), mask=~replied
            ),
            "full_resolution_calendar_minutes": pa.array(
                (solved_at - created) / 60.0, pa.float64(), mask=~solved
            ),
        },
        schema=TRUTH_SCHEMA,
    )
    return events, truth
