"""One day of support tickets: their whole lifecycle, the surveys it triggers, and its truth.

Tickets created on a day are drawn together from that day's random stream; their later
events (replies, solves, reopens, surveys) may fall on later days and go to those days'
partitions. Waits scale with the team's backlog that day (``World.wait_factor``) and with the
account's friction, so slow and reopened tickets are where low CSAT comes from. Nothing
happens at or after the end of the window, and the truth is computed from exactly the events
that were kept. Every ticket ends solved or closed: merged, closed unanswered, solved by an
agent, or (waiting on a silent customer) solved by the help desk's automation after a week;
only the last weeks' tickets are open at the end.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servops.events import AUTHOR_TYPES, SURVEY_TYPES, TICKET_STATUSES, UTC_MICROS
from simulator.columns import (
    DailyCounts,
    EventRows,
    SurveyAnswers,
    earliest,
    group_rows,
    id_array,
    owner_then_time_order,
    rows_of,
    strings,
    timestamps,
)
from simulator.entities import T1, T2, TEAM_SHARE, TEAMS
from simulator.rng import generator
from simulator.timeline import DAY, World

CHANNELS = ("email", "web", "chat", "phone")
CHANNEL_SHARE = np.array([0.4, 0.3, 0.2, 0.1])
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_SHARE = np.array([0.2, 0.55, 0.2, 0.05])
# Median minutes of the agent's working time to the first public reply, by priority: urgent
# work is picked up first.
FIRST_REPLY_MEDIAN_MINUTES = np.array([120.0, 60.0, 30.0, 10.0])
HOUR_WEIGHT = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 9, 8, 6, 4, 3, 2, 2, 1, 1], dtype=float
)
HOUR_SHARE = HOUR_WEIGHT / HOUR_WEIGHT.sum()
MACROS = ("macro_password_reset", "macro_invoice_copy", "macro_known_issue", "macro_how_to")
RULES = (
    "rule_route_by_channel",
    "rule_auto_acknowledge",
    "rule_close_solved_after_4_days",
    "rule_solve_pending_after_7_days",
)
CLOSE_RULE, STALE_PENDING_RULE = 2, 3
SUBJECTS = (
    "Cannot log in",
    "Invoice question",
    "Integration stopped syncing",
    "How do I export data?",
    "Error 500 on dashboard",
    "Change of billing address",
    "Add more seats",
    "Slow page loads",
    "Emails not arriving",
    "Feature request: dark mode",
    "Refund request",
    "API rate limit",
)
SURVEY_COMMENTS = (
    "Very slow to answer.",
    "Had to explain it twice.",
    "Okay in the end.",
    "Quick and friendly.",
    "Solved on the first reply, thanks!",
    "",
    "Great help from the agent.",
)
STATUS = {name: i for i, name in enumerate(TICKET_STATUSES)}
AUTHOR = {name: i for i, name in enumerate(AUTHOR_TYPES)}
# Marks on kept rows, to compute the truth from exactly the emitted events.
REPLY, SOLVE, REOPEN, ESCALATE = 1, 2, 3, 4

TRUTH_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.string()),
        # The team a ticket was created for, and when an escalation moved it to support_t2
        # (null: never): the owners whose business hours its business minutes count.
        ("team_id", pa.string()),
        ("escalated_at", UTC_MICROS),
        # The priority at creation, which picks the SLA targets.
        ("priority", pa.string()),
        ("created_at", UTC_MICROS),
        ("first_replied_at", UTC_MICROS),
        ("first_solved_at", UTC_MICROS),
        ("solved_at", UTC_MICROS),
        ("public_agent_reply_count", pa.int32()),
        ("first_reply_calendar_minutes", pa.float64()),
        ("full_resolution_calendar_minutes", pa.float64()),
        ("reopen_count", pa.int32()),
        ("is_one_touch", pa.bool_()),
        # Minutes in each status group up to the last solve (null while unsolved).
        ("requester_wait_calendar_minutes", pa.float64()),
        ("agent_work_calendar_minutes", pa.float64()),
        ("agent_wait_calendar_minutes", pa.float64()),
        ("on_hold_calendar_minutes", pa.float64()),
    ]
)
# The statuses each of those measures counts.
STATUS_MEASURES = {
    "requester_wait_calendar_minutes": ("new", "open", "on_hold"),
    "agent_work_calendar_minutes": ("new", "open"),
    "agent_wait_calendar_minutes": ("pending",),
    "on_hold_calendar_minutes": ("on_hold",),
}
VOCAB = {
    "team_id": strings(TEAMS),
    "previous_team_id": strings(TEAMS),
    "channel": strings(CHANNELS),
    "priority": strings(PRIORITIES),
    "previous_priority": strings(PRIORITIES),
    "status": strings(TICKET_STATUSES),
    "previous_status": strings(TICKET_STATUSES),
    "author_type": strings(AUTHOR_TYPES),
    "macro_id": strings(MACROS),
    "automation_rule_id": strings(RULES),
    "subject": strings(SUBJECTS),
    "comment": strings(SURVEY_COMMENTS),
    "survey_type": strings(SURVEY_TYPES),
}


def _minutes(rng: np.random.Generator, median: np.ndarray | float, size: int) -> np.ndarray:
    """Log-normal durations in whole seconds, at least one minute."""
    draws = rng.lognormal(mean=np.log(median), sigma=1.0, size=size) * 60.0
    return np.maximum(60, draws.astype(np.int64))


def _status_timeline(
    owner_of: np.ndarray, at: np.ndarray, status: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each emitted event that sets a status (ticket.created sets new), by ticket then time
    (ties in the order they were added): its ticket, start, status, the ticket's status
    before it (-1: none) and the start of its next (-1: none, it holds at the horizon)."""
    sets = np.flatnonzero(status >= 0)
    if len(sets) == 0:
        return tuple(np.empty(0, dtype=np.int64) for _ in range(5))
    order = sets[owner_then_time_order(owner_of[sets], at[sets])]
    ticket, start, state = owner_of[order], at[order], status[order].astype(np.int64)
    same_as_next = np.append(ticket[1:] == ticket[:-1], False)
    same_as_previous = np.insert(ticket[1:] == ticket[:-1], 0, False)
    end = np.where(same_as_next, np.append(start[1:], 0), -1)
    previous = np.where(same_as_previous, np.insert(state[:-1], 0, 0), -1)
    return ticket, start, state, end, previous


def _status_minutes(timeline, last_solve: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """Minutes each ticket spent in each STATUS_MEASURES group before its last solve: each
    status lasts until the ticket's next one."""
    ticket, start, state, end, _ = timeline
    until = last_solve[ticket]
    seconds = np.maximum(0, np.minimum(np.where(end >= 0, end, until), until) - start)
    minutes = {}
    for name, statuses in STATUS_MEASURES.items():
        counted = np.zeros(len(STATUS), dtype=bool)
        counted[[STATUS[s] for s in statuses]] = True
        minutes[name] = np.bincount(ticket, weights=seconds * counted[state], minlength=n) / 60.0
    return minutes


def pick_agents(
    world: World,
    day_index: int,
    teams: np.ndarray,
    rng: np.random.Generator,
    at: np.ndarray,
) -> np.ndarray:
    """An agent of each item's team, routed to whoever is on shift soonest after ``at``.

    The time zone whose working hours come first takes the item (a random one among those
    on shift now), and one of its agents working that day in the team gets it. With no such
    agent: one of the team working on ``day_index``, else one on staff, else anyone on staff.
    """
    on = world.agents_on(day_index)
    picked = np.full(len(teams), -1, dtype=np.int64)
    draws = rng.random(len(teams))
    offsets = world.agents.utc_offset_hours
    for team in np.unique(teams):
        items = np.flatnonzero(teams == team)
        # The zones the team has staff in, and per zone on which of its local days its
        # working hours next hold each item, and from when.
        zones = np.unique(offsets[on & (world.agents.team == team)])
        if not len(zones):
            continue
        shifts = zones.astype(np.int64)[:, None] * 3600
        local_day = world.shift_day(at[items][None, :], shifts)
        soonest = np.maximum(at[items], world.shift_from(local_day, shifts))
        # Ties (several zones on shift now) go to a random one: draws below a minute.
        zone = np.argmin(soonest * 60 + rng.integers(0, 60, soonest.shape), axis=0)
        day = local_day[zone, np.arange(len(items))]
        for z, offset in enumerate(zones):
            candidates = np.flatnonzero((world.agents.team == team) & (offsets == offset))
            for d in np.unique(day[zone == z]):
                mine = items[(zone == z) & (day == d)]
                pool = candidates[world.works(candidates, int(d))]
                if len(pool):
                    picked[mine] = pool[(draws[mine] * len(pool)).astype(np.int64)]
    unrouted = picked < 0
    if not unrouted.any():
        return picked
    working = world.works(np.arange(len(on)), day_index)
    everyone = np.flatnonzero(on)
    for team in np.unique(teams[unrouted]):
        mine = unrouted & (teams == team)
        in_team = world.agents.team == team
        pool = np.flatnonzero(working & in_team)
        pool = pool if len(pool) else np.flatnonzero(on & in_team)
        pool = pool if len(pool) else everyone
        if len(pool):
            picked[mine] = pool[(draws[mine] * len(pool)).astype(np.int64)]
    return picked


def ticket_ids(day_index: int, count: int) -> pa.Array:
    return id_array(f"T{day_index:05d}-", np.arange(count), 6)


def generate_ticket_day(world: World, day_index: int) -> tuple[EventRows, EventRows, dict]:
    """Ticket and survey rows of the tickets created on ``day_index``, plus what truth needs."""
    config, company = world.config, world.company
    rng = generator(config.seed, "ticket", day_index)
    day_start = world.start_s + day_index * DAY
    horizon = world.horizon_s
    n = int(rng.poisson(world.demand[day_index].sum()))
    active = np.flatnonzero(world.active(day_index))
    if len(active) == 0:
        n = 0
    weights = np.cumsum(company.ticket_weight[active]) if len(active) else np.zeros(1)
    customer = (
        active[np.minimum(np.searchsorted(weights, rng.random(n) * weights[-1]), len(active) - 1)]
        if n
        else np.empty(0, np.int64)
    )
    created = day_start + rng.choice(24, size=n, p=HOUR_SHARE) * 3600 + rng.integers(0, 3600, n)
    team = rng.choice(len(TEAMS), size=n, p=TEAM_SHARE)
    channel = rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE)
    priority = rng.choice(len(PRIORITIES), size=n, p=PRIORITY_SHARE)
    subject = rng.integers(0, len(SUBJECTS), n)
    wait = world.wait_factor[day_index, team] * np.exp(0.6 * company.friction[customer])
    bot_live = (
        config.chatbot_launch_date is not None
        and config.day(day_index) >= config.chatbot_launch_date
    )
    idx = np.arange(n)
    rows = EventRows("ticket")

    def add(event_type, mask, at, mark=0, **cols):
        sel = np.flatnonzero(mask) if mask is not None else idx
        at = np.asarray(at)
        at = at[sel] if at.ndim else np.full(len(sel), at)
        extra = {k: (np.asarray(v)[sel] if np.ndim(v) else v) for k, v in cols.items()}
        rows.add(
            event_type,
            at,
            ticket_id=sel,
            customer_id=customer[sel],
            _mark=np.full(len(sel), mark, np.int8),
            **extra,
        )

    add(
        "ticket.created",
        None,
        created,
        team_id=team,
        channel=channel,
        priority=priority,
        status=STATUS["new"],
        subject=subject,
    )
    fires = rng.random(n) < 0.7
    add(
        "ticket.automation_fired",
        fires,
        created + 2,
        automation_rule_id=(channel == 0).astype(np.int64),
    )
    assigned_at = created + _minutes(rng, 3.0 * wait, n)
    agent = pick_agents(world, day_index, team, rng, assigned_at)
    add("ticket.assigned", None, assigned_at, team_id=team, agent_id=agent)
    changes = rng.random(n) < 0.08
    new_priority = np.clip(priority + rng.choice([-1, 1], n), 0, len(PRIORITIES) - 1)
    add(
        "ticket.priority_changed",
        changes & (new_priority != priority),
        created + _minutes(rng, 30.0, n),
        priority=new_priority,
        previous_priority=priority,
    )
    has_bot = rng.random(n) < (0.45 if bot_live else 0.2)
    add(
        "ticket.commented",
        has_bot,
        created + rng.integers(5, 60, n),
        author_type=AUTHOR["bot"],
        is_public=1,
    )
    note = rng.random(n) < 0.15
    add(
        "ticket.commented",
        note,
        world.after_working(agent, assigned_at, rng.integers(60, 1800, n)),
        author_type=AUTHOR["agent"],
        is_public=0,
        agent_id=agent,
    )

    merged = (rng.random(n) < 0.02) & (idx > 0)
    merged_into = (rng.random(n) * idx).astype(np.int64)
    merged_at = created + _minutes(rng, 20.0, n)
    add("ticket.merged", merged, merged_at, merged_into_ticket_id=merged_into, agent_id=agent)
    add(
        "ticket.status_changed",
        merged,
        merged_at + 1,
        status=STATUS["closed"],
        previous_status=STATUS["new"],
    )

    replied = ~merged & (rng.random(n) < 0.97)
    # Agents act in their shifts: waits are drawn in working time, and work arriving
    # outside an agent's hours waits for their next shift (World.after_working).
    first_reply = world.after_working(
        agent, assigned_at, _minutes(rng, FIRST_REPLY_MEDIAN_MINUTES[priority] * wait, n)
    )
    add(
        "ticket.commented",
        replied,
        first_reply,
        REPLY,
        author_type=AUTHOR["agent"],
        is_public=1,
        agent_id=agent,
    )
    add(
        "ticket.status_changed",
        replied,
        first_reply + 1,
        status=STATUS["open"],
        previous_status=STATUS["new"],
    )
    add(
        "ticket.macro_applied",
        replied & (rng.random(n) < 0.35),
        first_reply,
        macro_id=subject % len(MACROS),
        agent_id=agent,
    )

    escalated = replied & (team == T1) & (rng.random(n) < np.minimum(0.5, 0.12 * wait))
    escalated_at = world.after_working(agent, first_reply, _minutes(rng, 60.0, n))
    tier2 = np.full(n, -1, dtype=np.int64)
    tier2[escalated] = pick_agents(
        world, day_index, np.full(int(escalated.sum()), T2), rng, escalated_at[escalated]
    )
    add(
        "ticket.escalated",
        escalated,
        escalated_at,
        ESCALATE,
        team_id=T2,
        previous_team_id=T1,
        escalation_tier=2,
        agent_id=tier2,
    )
    tier2_reply = world.after_working(
        tier2, escalated_at, _minutes(rng, 120.0 * world.wait_factor[day_index, T2], n)
    )
    add(
        "ticket.commented",
        escalated,
        tier2_reply,
        REPLY,
        author_type=AUTHOR["agent"],
        is_public=1,
        agent_id=tier2,
    )
    owner = np.where(escalated, tier2, agent)

    pending = replied & (rng.random(n) < 0.3)
    customer_reply = first_reply + _minutes(rng, 180.0, n)
    add(
        "ticket.status_changed",
        pending,
        first_reply + 2,
        status=STATUS["pending"],
        previous_status=STATUS["open"],
    )
    add("ticket.commented", pending, customer_reply, author_type=AUTHOR["customer"], is_public=1)
    add(
        "ticket.status_changed",
        pending,
        customer_reply + 1,
        status=STATUS["open"],
        previous_status=STATUS["pending"],
    )
    held = replied & (rng.random(n) < 0.04)
    hold_at = np.maximum(first_reply, customer_reply * pending) + _minutes(rng, 60.0, n)
    hold_end = hold_at + _minutes(rng, 12 * 60.0, n)
    add(
        "ticket.status_changed",
        held,
        hold_at,
        status=STATUS["on_hold"],
        previous_status=STATUS["open"],
    )
    add(
        "ticket.status_changed",
        held,
        hold_end,
        status=STATUS["open"],
        previous_status=STATUS["on_hold"],
    )

    extra = rng.poisson(0.6, n) * replied
    extra_owner = np.repeat(idx, extra)
    gaps = _minutes(rng, 150.0, len(extra_owner))
    run_start = np.repeat(np.cumsum(extra) - extra, extra)
    cumulative = np.cumsum(gaps)
    offset = cumulative - np.concatenate([[0], cumulative])[run_start]
    extra_at = world.after_working(owner[extra_owner], first_reply[extra_owner], offset)
    rows.add(
        "ticket.commented",
        extra_at,
        ticket_id=extra_owner,
        customer_id=customer[extra_owner],
        author_type=np.full(len(extra_owner), AUTHOR["agent"]),
        is_public=np.ones(len(extra_owner), np.int64),
        agent_id=owner[extra_owner],
        _mark=np.full(len(extra_owner), REPLY, np.int8),
    )
    last = np.maximum.reduce(
        [first_reply, tier2_reply * escalated, customer_reply * pending, hold_end * held]
    )
    np.maximum.at(last, extra_owner, extra_at)

    solved = replied & (rng.random(n) < 0.93)
    solved_at = world.after_working(owner, last, _minutes(rng, 60.0 * wait, n))
    add(
        "ticket.status_changed",
        solved,
        solved_at,
        SOLVE,
        status=STATUS["solved"],
        previous_status=STATUS["open"],
        agent_id=owner,
    )
    # A reopen is kept only if its whole cycle ends in the window, so every ticket with a
    # solve event is solved at the end (what the warehouse's is_solved reads).
    reopen_at = solved_at + _minutes(rng, 24 * 60.0, n)
    again_reply = world.after_working(
        owner, reopen_at, _minutes(rng, FIRST_REPLY_MEDIAN_MINUTES[priority] * wait, n)
    )
    resolved_at = world.after_working(owner, again_reply, _minutes(rng, 30.0, n))
    reopened = (
        solved
        & (resolved_at < horizon)
        & (
            rng.random(n)
            < np.minimum(0.5, 0.05 * np.exp(0.5 * company.friction[customer]) * np.sqrt(wait))
        )
    )
    add("ticket.reopened", reopened, reopen_at, REOPEN)
    add(
        "ticket.status_changed",
        reopened,
        reopen_at,
        status=STATUS["open"],
        previous_status=STATUS["solved"],
    )
    add("ticket.commented", reopened, reopen_at, author_type=AUTHOR["customer"], is_public=1)
    add(
        "ticket.commented",
        reopened,
        again_reply,
        REPLY,
        author_type=AUTHOR["agent"],
        is_public=1,
        agent_id=owner,
    )
    add(
        "ticket.status_changed",
        reopened,
        resolved_at,
        SOLVE,
        status=STATUS["solved"],
        previous_status=STATUS["open"],
        agent_id=owner,
    )

    def close_after_solve(mask, solved_at) -> None:
        """The help desk's automation closes a solved ticket four days after its solve."""
        closed_at = solved_at + 4 * DAY
        add(
            "ticket.status_changed",
            mask,
            closed_at,
            status=STATUS["closed"],
            previous_status=STATUS["solved"],
        )
        add("ticket.automation_fired", mask, closed_at, automation_rule_id=CLOSE_RULE)

    close_after_solve(solved, np.where(reopened, resolved_at, solved_at))

    # No ticket stays unsolved for ever (a backlog would only grow); from a stream of its own,
    # so the draws above, and every ticket they describe, are the same as without these.
    closing = generator(config.seed, "ticket_closing", day_index)
    # A ticket no agent answers publicly (spam, a duplicate, a "never mind") is closed
    # without a reply once its agent gets to it, as merged ones are.
    dropped = ~merged & ~replied
    add(
        "ticket.status_changed",
        dropped,
        world.after_working(
            agent, assigned_at, _minutes(closing, FIRST_REPLY_MEDIAN_MINUTES[priority] * wait, n)
        ),
        status=STATUS["closed"],
        previous_status=STATUS["new"],
        agent_id=agent,
    )
    # A replied ticket its agent does not solve waits on a customer who went quiet: the agent
    # sets it pending, and the help desk's automation solves it after a week without an
    # answer (then closes it four days later, as every solved ticket).
    stale = replied & ~solved
    stale_at = world.after_working(owner, last, _minutes(closing, 60.0 * wait, n))
    add(
        "ticket.status_changed",
        stale,
        stale_at,
        status=STATUS["pending"],
        previous_status=STATUS["open"],
        agent_id=owner,
    )
    auto_solved_at = stale_at + 7 * DAY
    add(
        "ticket.status_changed",
        stale,
        auto_solved_at,
        SOLVE,
        status=STATUS["solved"],
        previous_status=STATUS["pending"],
    )
    add("ticket.automation_fired", stale, auto_solved_at, automation_rule_id=STALE_PENDING_RULE)
    close_after_solve(stale, auto_solved_at)

    # Truth from the rows that fall in the window.
    types, at, cols = rows.arrays(horizon)
    empty = np.empty(0, dtype=np.int64)
    owner_of, mark = cols.get("ticket_id", empty), cols.get("_mark", empty)
    first, has_reply = earliest(owner_of[mark == REPLY], at[mark == REPLY], n)
    last_solve = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_solve, owner_of[mark == SOLVE], at[mark == SOLVE])
    first_solve, is_solved = earliest(owner_of[mark == SOLVE], at[mark == SOLVE], n)
    moved, has_moved = earliest(owner_of[mark == ESCALATE], at[mark == ESCALATE], n)
    reply_count = np.bincount(owner_of[mark == REPLY], minlength=n).astype(np.int32)
    reopen_count = np.bincount(owner_of[mark == REOPEN], minlength=n).astype(np.int32)
    timeline = _status_timeline(owner_of, at, cols.get("status", empty))
    status_minutes = _status_minutes(timeline, last_solve, n)
    ids = ticket_ids(day_index, n)
    truth = pa.table(
        {
            "ticket_id": ids,
            "team_id": pc.take(VOCAB["team_id"], pa.array(team)),
            "escalated_at": timestamps(moved, ~has_moved),
            "priority": pc.take(VOCAB["priority"], pa.array(priority)),
            "created_at": timestamps(created),
            "first_replied_at": timestamps(first, ~has_reply),
            "first_solved_at": timestamps(first_solve, ~is_solved),
            "solved_at": timestamps(last_solve, ~is_solved),
            "public_agent_reply_count": pa.array(reply_count),
            "first_reply_calendar_minutes": pa.array((first - created) / 60.0, mask=~has_reply),
            "full_resolution_calendar_minutes": pa.array(
                (last_solve - created) / 60.0, mask=~is_solved
            ),
            "reopen_count": pa.array(reopen_count),
            "is_one_touch": pa.array(is_solved & (reply_count <= 1)),
            **{
                name: pa.array(minutes, mask=~is_solved) for name, minutes in status_minutes.items()
            },
        },
        schema=TRUTH_SCHEMA,
    )

    surveys = EventRows("survey")
    sent_at = last_solve + 3600
    rated = is_solved & (sent_at < horizon)
    reply_hours = np.where(has_reply, (first - created) / 3600.0, 0.0)
    resolution_hours = np.where(is_solved, (last_solve - created) / 3600.0, 0.0)
    latent = (
        5.15
        - 0.45 * np.log1p(reply_hours)
        - 0.3 * np.log1p(resolution_hours / 24)
        - 1.0 * reopen_count
        - 0.2 * company.friction[customer]
        + rng.normal(0, 0.6, n)
    )
    csat = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    ces_latent = 6.3 - 0.45 * (reply_count - 1) - 0.8 * reopen_count + rng.normal(0, 0.8, n)
    ces = np.clip(np.rint(ces_latent), 1, 7).astype(np.int64)
    multi = rated & (reply_count >= 2)
    survey_truth = []
    csat_answers = (empty, empty, empty)
    for survey_type, send, score, answer_p in (
        ("csat", rated, csat, 0.35),
        ("ces", multi, ces, 0.3),
    ):
        sel = np.flatnonzero(send)
        responded_at = sent_at[sel] + _minutes(rng, 300.0, len(sel))
        answered = (rng.random(len(sel)) < answer_p) & (responded_at < horizon)
        survey_no = sel + (0 if survey_type == "csat" else n)
        common = dict(
            survey_id=survey_no,
            survey_type=SURVEY_TYPES.index(survey_type),
            customer_id=customer[sel],
            contact_id=customer[sel],
            ticket_id=sel,
            agent_id=owner[sel],
            team_id=team[sel],
        )
        surveys.add("survey.sent", sent_at[sel], **common)
        comment = np.where(
            rng.random(len(sel)) < 0.3,
            np.minimum(score[sel] + (score[sel] > 3) * 2, len(SURVEY_COMMENTS) - 1),
            -1,
        )
        surveys.add(
            "survey.responded",
            responded_at[answered],
            **{k: (v[answered] if np.ndim(v) else v) for k, v in common.items()},
            score=score[sel][answered],
            comment=comment[answered],
        )
        if survey_type == "csat":
            csat_answers = (responded_at[answered], owner[sel][answered], score[sel][answered])
        survey_truth.append(
            SurveyAnswers(
                survey_type,
                survey_no[answered],
                score[sel][answered],
                customer[sel][answered],
                responded_at[answered],
                tickets=sel[answered],
                agents=owner[sel][answered],
                teams=team[sel][answered],
            )
        )
    lookups = {
        "ticket_id": ids,
        "merged_into_ticket_id": ids,
        "survey_id": id_array(f"SV{day_index:05d}-", np.arange(2 * n)),
        **VOCAB,
    }
    # The agent naming each ticket's latest assignment: tier 2's from the escalation on.
    escalated_from = np.where(has_moved, moved, NEVER)

    def agent_at(ticket: np.ndarray, when: np.ndarray) -> np.ndarray:
        return np.where(when >= escalated_from[ticket], tier2[ticket], agent[ticket])

    named = cols.get("agent_id", empty) >= 0

    daily = DailyCounts()
    _daily_truth(
        daily,
        timeline,
        team=team,
        customer=customer,
        escalated_from=escalated_from,
        agent_at=agent_at,
        agents_named=(owner_of[named], at[named], cols.get("agent_id", empty)[named]),
        replies=(
            owner_of[mark == REPLY],
            at[mark == REPLY],
            cols.get("agent_id", empty)[mark == REPLY],
        ),
        reopens=(owner_of[mark == REOPEN], at[mark == REOPEN]),
        csat=csat_answers,
    )
    _automation_truth(daily, rows.event_types(), types, at, cols)
    return (
        rows,
        surveys,
        {
            "tickets": truth,
            "surveys": survey_truth,
            "daily": daily,
            "lookups": lookups,
        },
    )


NEVER = np.iinfo(np.int64).max
# Statuses a ticket is in the backlog in (fct_backlog_daily's unsolved ones).
UNSOLVED = np.isin(
    np.arange(len(TICKET_STATUSES)), [STATUS[s] for s in ("new", "open", "pending", "on_hold")]
)


def _daily_truth(
    daily: DailyCounts,
    timeline,
    *,
    team,
    customer,
    escalated_from,
    agent_at,
    agents_named,
    replies,
    reopens,
    csat,
) -> None:
    """Adds to ``daily``, per UTC day, from the emitted events: each team's backlog changes
    (+1 when a ticket it owns enters an unsolved status, -1 when it leaves it; an escalation
    moves a ticket to tier 2's backlog), tickets created (and their customers), reopened and
    solved, and per agent public replies, tickets replied, solves (by the agent of the latest
    assignment) with the agent work (new and open time) since the ticket's previous solve,
    reopens of their solves, CSAT responses and satisfied ones (by the ticket's agent), and
    changes to the backlog each owns (unsolved tickets whose latest event naming an agent
    names it)."""
    ticket, start, state, end, previous = timeline
    was_unsolved = np.where(previous >= 0, UNSOLVED[np.maximum(previous, 0)], False)
    unsolved = UNSOLVED[state]
    # Backlog: each unsolved status counts for the team owning the ticket, split at an
    # escalation inside it.
    s, e, t = start[unsolved], end[unsolved], ticket[unsolved]
    moves = escalated_from[t]
    team_from = np.where(s >= moves, T2, team[t])
    crosses = (s < moves) & np.where(e < 0, moves < NEVER, moves < e)
    team_until = np.where(crosses, T2, team_from)
    left = e >= 0
    daily.add(
        "backlog_change",
        np.concatenate([s, moves[crosses], moves[crosses], e[left]]),
        team=np.concatenate(
            [team_from, team[t][crosses], np.full(int(crosses.sum()), T2), team_until[left]]
        ),
        weights=np.concatenate(
            [
                np.ones(len(s)),
                -np.ones(int(crosses.sum())),
                np.ones(int(crosses.sum())),
                -np.ones(int(left.sum())),
            ]
        ),
    )
    reply_ticket, reply_at, reply_agent = replies
    by_agent = reply_agent >= 0
    (_, replied_day, replied_agent), _ = group_rows(
        reply_ticket[by_agent], reply_at[by_agent] // DAY, reply_agent[by_agent], groups=False
    )
    csat_at, csat_agent, csat_score = csat
    daily.add("tickets_created", start[previous < 0])
    daily.add("ticket_customers", start[previous < 0], customer=customer[ticket[previous < 0]])
    daily.add("tickets_reopened", start[unsolved & (previous >= 0) & ~was_unsolved])
    daily.add("tickets_solved", start[~unsolved & ((previous < 0) | was_unsolved)])
    daily.add("public_replies", reply_at[by_agent], agent=reply_agent[by_agent])
    daily.add("tickets_replied", replied_day * DAY, agent=replied_agent)
    # Solves, each with the agent work accumulated since the ticket's previous solve.
    work = _ticket_total(np.where(WORKING[state] & (end >= 0), end - start, 0), ticket)
    solved = np.flatnonzero(state == STATUS["solved"])
    same_ticket = np.insert(ticket[solved][1:] == ticket[solved][:-1], 0, False)
    since = work[solved] - np.where(same_ticket, np.insert(work[solved][:-1], 0, 0), 0)
    solver = agent_at(ticket[solved], start[solved])
    daily.add("agent_solves", start[solved], agent=solver)
    daily.add("agent_solve_work_minutes", start[solved], agent=solver, weights=since / 60.0)
    reopen_ticket, reopen_at = reopens
    daily.add("agent_solves_reopened", reopen_at, agent=agent_at(reopen_ticket, reopen_at))
    _owned_backlog(daily, timeline, unsolved, agents_named)
    daily.add("csat_responses", csat_at, agent=csat_agent)
    daily.add("csat_satisfied", csat_at[csat_score >= 4], agent=csat_agent[csat_score >= 4])


def _automation_truth(daily: DailyCounts, event_types: list[str], types, at, cols) -> None:
    """Adds per UTC day each macro's applications and each rule's firings (measures
    ``macro_applied:<macro>`` and ``rule_fired:<rule>``), and the automatic resolutions:
    solves no agent made (the stale-pending rule's, which fires at the same instant)."""
    names = [
        *(f"macro_applied:{macro}" for macro in MACROS),
        *(f"rule_fired:{rule}" for rule in RULES),
        "automatic_resolutions",
    ]

    def column(name: str) -> np.ndarray:
        return cols.get(name, np.full(len(at), -1))  # a day without tickets has no columns

    measure = np.full(len(at), -1)
    for event_type, id_column, first in (
        ("ticket.macro_applied", "macro_id", 0),
        ("ticket.automation_fired", "automation_rule_id", len(MACROS)),
    ):
        emitted = rows_of(event_types, types, event_type)
        measure[emitted] = first + column(id_column)[emitted]
    measure[(column("_mark") == SOLVE) & (column("agent_id") < 0)] = len(names) - 1
    # Counted per measure and day here: many rows a day, few groups.
    counted = measure >= 0
    (measures, days), group = group_rows(measure[counted], at[counted] // DAY)
    counts = np.bincount(group, minlength=len(days))
    for code, name in enumerate(names):
        daily.add(name, days[measures == code] * DAY, weights=counts[measures == code])


# Statuses whose time is agent work (fct_tickets.agent_work_calendar_minutes).
WORKING = np.isin(np.arange(len(TICKET_STATUSES)), [STATUS["new"], STATUS["open"]])


def _ticket_total(values: np.ndarray, ticket: np.ndarray) -> np.ndarray:
    """Per row of ``ticket`` (sorted), the running total of ``values`` within its ticket up to
    and including the row."""
    if len(values) == 0:
        return values
    total = np.cumsum(values)
    first = np.insert(ticket[1:] != ticket[:-1], 0, True)
    start_total = (total - values)[first]
    return total - start_total[np.cumsum(first) - 1]


def _owned_backlog(daily: DailyCounts, timeline, unsolved, agents_named) -> None:
    """Each agent's backlog changes: a ticket is in an agent's backlog while unsolved and its
    latest event naming an agent names that agent (before any names one: no agent's)."""
    ticket, start, _, _, _ = timeline
    named_ticket, named_at, named_agent = agents_named
    # One timeline per ticket of both kinds of change, each carrying what it sets (-1: the
    # other kind's, carried forward from the ticket's earlier rows).
    rows_ticket = np.concatenate([ticket, named_ticket])
    rows_at = np.concatenate([start, named_at])
    sets_unsolved = np.concatenate([unsolved.astype(np.int64), np.full(len(named_at), -1)])
    sets_agent = np.concatenate([np.full(len(start), -1), named_agent])
    if len(rows_at) == 0:
        return
    order = owner_then_time_order(rows_ticket, rows_at)
    rows_ticket, rows_at = rows_ticket[order], rows_at[order]
    first = np.insert(rows_ticket[1:] != rows_ticket[:-1], 0, True)

    def carried(values: np.ndarray) -> np.ndarray:
        """Each row's latest value of its ticket so far (-1: none yet)."""
        known = (values >= 0) | first
        latest = np.maximum.accumulate(np.where(known, np.arange(len(values)), 0))
        return values[latest]

    is_unsolved = carried(sets_unsolved[order]) == 1
    owner = carried(sets_agent[order])
    owned = np.flatnonzero(is_unsolved & (owner >= 0))
    has_next = np.append(~first[1:], False)[owned]
    daily.add(
        "agent_backlog_change",
        np.concatenate([rows_at[owned], rows_at[owned[has_next] + 1]]),
        agent=np.concatenate([owner[owned], owner[owned[has_next]]]),
        weights=np.concatenate([np.ones(len(owned)), -np.ones(int(has_next.sum()))]),
    )
