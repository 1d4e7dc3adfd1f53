"""One day of every other stream: accounts, staff and shifts, billing, onboarding, NPS,
chat and the knowledge base. Each reads the run's timeline and draws from its own named
random stream for the day, so any day regenerates alone."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servops.events import SURVEY_TYPES, UTC_MICROS
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
    take,
    timestamps,
)
from simulator.entities import (
    BILLING_PERIODS,
    COUNTRIES,
    COUNTRY_REGION,
    COUNTRY_TZ,
    PLANS,
    REGIONS,
    SEGMENTS,
    SIZE_BANDS,
    T1,
    TEAM_SKILLS,
    TEAMS,
)
from simulator.rng import generator
from simulator.timeline import (
    BILLING_TYPES,
    DAY,
    MILESTONES,
    SHIFT_LENGTH_S,
    SHIFT_START_JITTER_S,
    SHIFT_START_S,
    UPGRADED,
    World,
    customer_utc_offset,
)

HOUR = 3600
AGENT_TZ = {1: "Europe/Amsterdam", 0: "Europe/London", -5: "America/New_York"}
AGENT_STATUSES = ("available", "busy", "away")
RESOLUTION_TYPES = ("confirmed", "assumed")
# What each conversation's emitted events were, for the warehouse's tests (truth/conversations).
CONVERSATION_TRUTH_SCHEMA = pa.schema(
    [
        ("conversation_id", pa.string()),
        ("started_at", UTC_MICROS),
        ("first_answered_at", UTC_MICROS),
        ("closed_at", UTC_MICROS),
        ("bot_resolution_type", pa.string()),
        ("handoff_count", pa.int32()),
        ("agent_message_count", pa.int32()),
        ("customer_message_count", pa.int32()),
    ]
)
# The events that set a customer's or an agent's attributes, with the attributes each names
# (null: left as it was), for the dimensions' tests (truth/customer_changes, agent_changes).
CUSTOMER_CHANGES = (
    ("customer.created", "customer.updated"),
    "customer_id",
    ("company_name", "segment", "region", "country", "size_band"),
)
AGENT_CHANGES = (
    ("agent.hired", "agent.left"),
    "agent_id",
    ("team_id", "agent_name", "skills", "timezone"),
)
FAILURE_REASONS = ("card_declined", "insufficient_funds", "expired_card")
ARTICLES = 300
SEARCH_QUERIES = (
    "reset password",
    "export csv",
    "invoice copy",
    "api key",
    "sso setup",
    "add agent",
    "webhook retries",
    "change plan",
    "delete account",
    "gdpr",
    "dark mode",
    "zapier",
)
ZERO_RESULT_QUERIES = ("blockchain", "fax integration", "offline mode", "teletext")
CHAT_HOUR_SHARE = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 10, 9, 8, 6, 4, 3, 2, 2, 1, 1], dtype=float
)
CHAT_HOUR_SHARE /= CHAT_HOUR_SHARE.sum()


def world_lookups(world: World) -> dict[str, pa.Array]:
    """Id tables shared by every stream (built once per run)."""
    cached = getattr(world, "_lookups", None)
    if cached is None:
        company = world.company
        numbers = np.arange(1, company.size + 1)
        cached = {
            "customer_id": company.customer_ids,
            "contact_base": id_array("CT", numbers, 7),
            "contact_id": pc.binary_join_element_wise(id_array("CT", numbers, 7), "-1", ""),
            "subscription_id": id_array("SUB", numbers, 7),
            "agent_id": id_array("A", np.arange(1, len(world.agents.team) + 1), 5),
            "team_id": strings(TEAMS),
            "plan_id": strings(PLANS),
            "billing_period": strings(BILLING_PERIODS),
            "segment": strings(SEGMENTS),
            "region": strings(REGIONS),
            "country": strings(COUNTRIES),
            "timezone": strings(COUNTRY_TZ),
            "size_band": strings(SIZE_BANDS),
            "company_name": company.pools["company"],
            "contact_name": company.pools["name"],
            "contact_email": company.pools["email"],
            "agent_name": company.pools["name"],
            "skills": strings(TEAM_SKILLS),
            "agent_status": strings(AGENT_STATUSES),
            "resolution_type": strings(RESOLUTION_TYPES),
            "failure_reason": strings(FAILURE_REASONS),
            "milestone": strings(MILESTONES),
            "survey_type": strings(SURVEY_TYPES),
            "article_id": id_array("KB", np.arange(1, ARTICLES + 1), 4),
            "search_query": strings(SEARCH_QUERIES + ZERO_RESULT_QUERIES),
            "channel": strings(("chat", "messenger", "whatsapp")),
        }
        world._lookups = cached
    return cached


def _day_span(world: World, day_index: int) -> tuple[int, int]:
    start = world.start_s + day_index * DAY
    return start, start + DAY


def generate_customer_day(world: World, day_index: int) -> tuple[EventRows, dict]:
    """Accounts created that day (all earlier accounts on day 0) and their contacts."""
    company = world.company
    rng = generator(world.config.seed, "customer", day_index)
    day_start, _ = _day_span(world, day_index)
    signup = company.signup_day
    who = np.flatnonzero((signup == day_index) | ((signup < 0) & (day_index == 0)))
    at = day_start + np.where(
        signup[who] < 0,
        rng.integers(0, HOUR, len(who)),
        rng.integers(8 * HOUR, 18 * HOUR, len(who)),
    )
    # An account signing up in the window is created when its onboarding starts (the
    # account_created milestone, when its first subscription starts), so time to value never
    # counts from before the account.
    onboarding = world.onboarding
    lo, hi = np.searchsorted(onboarding["at"], [day_start, day_start + DAY])
    first = lo + np.flatnonzero(onboarding["order"][lo:hi] == 0)
    created_s = np.full(len(signup), -1, dtype=np.int64)
    created_s[onboarding["customer"][first]] = onboarding["at"][first]
    at = np.where(created_s[who] >= 0, created_s[who], at)
    rows = EventRows("customer")
    country = company.country[who]
    rows.add(
        "customer.created",
        at,
        customer_id=who,
        company_name=company.company_pool[who],
        segment=company.segment[who],
        region=COUNTRY_REGION[country],
        country=country,
        timezone=country,
        size_band=company.size_band[who],
    )
    counts = company.contacts[who]
    owner = np.repeat(np.arange(len(who)), counts)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    contact_ids = pc.binary_join_element_wise(
        take(world_lookups(world)["contact_base"], who[owner]),
        pc.cast(pa.array(k + 1), pa.string()),
        "-",
    )
    name = (company.name_pool[who[owner]] + k * 7) % len(company.pools["name"])
    rows.add(
        "customer.contact_added",
        at[owner] + 60 * (k + 1),
        customer_id=who[owner],
        contact_id=np.arange(len(owner)),
        contact_name=name,
        contact_email=name,
    )
    # Expansion changes the account's size band.
    lo, hi = np.searchsorted(world.billing["at"], [day_start, day_start + DAY])
    kinds = world.billing["kind"][lo:hi]
    grown = world.billing["customer"][lo:hi][kinds == UPGRADED]
    rows.add(
        "customer.updated",
        world.billing["at"][lo:hi][kinds == UPGRADED] + 60,
        customer_id=grown,
        size_band=np.minimum(company.size_band[grown] + 1, len(SIZE_BANDS) - 1),
    )
    return rows, {"contact_id": contact_ids}


def generate_agent_day(world: World, day_index: int) -> tuple[EventRows, dict]:
    """Hires and departures, and each working agent's shift and status changes."""
    agents = world.agents
    rng = generator(world.config.seed, "agent", day_index)
    day_start, _ = _day_span(world, day_index)
    rows = EventRows("agent")
    tz_code = np.select([agents.utc_offset_hours == 1, agents.utc_offset_hours == 0], [0, 1], 2)
    hired = np.flatnonzero(agents.hired_day == day_index)
    rows.add(
        "agent.hired",
        day_start + rng.integers(0, HOUR, len(hired)),
        agent_id=hired,
        team_id=agents.team[hired],
        agent_name=agents.name_pool[hired],
        skills=agents.team[hired],
        timezone=tz_code[hired],
    )
    left = np.flatnonzero(agents.left_day == day_index)
    rows.add(
        "agent.left",
        day_start + rng.integers(17 * HOUR, 20 * HOUR, len(left)),
        agent_id=left,
        team_id=agents.team[left],
    )
    working = np.flatnonzero(world.works(np.arange(len(agents.team)), day_index))
    shift_start = (
        day_start
        + SHIFT_START_S
        - agents.utc_offset_hours[working] * HOUR
        + rng.integers(0, SHIFT_START_JITTER_S, len(working))
    )
    shift_start = np.maximum(shift_start, day_start)
    common = {
        "agent_id": working,
        "team_id": agents.team[working],
        "shift_id": np.arange(len(working)),
    }
    rows.add("agent.shift_started", shift_start, **common)
    rows.add("agent.status_changed", shift_start + 30, agent_id=working, agent_status=0)
    toggles = 3
    at = shift_start[:, None] + np.sort(
        rng.integers(HOUR, 8 * HOUR, (len(working), toggles)), axis=1
    )
    status = np.tile(np.array([1, 2, 0]), (len(working), 1))
    rows.add(
        "agent.status_changed",
        at.ravel(),
        agent_id=np.repeat(working, toggles),
        agent_status=status.ravel(),
    )
    rows.add("agent.shift_ended", shift_start + SHIFT_LENGTH_S, **common)
    shift_ids = id_array(f"SH{day_index:05d}-", working, 5)
    return rows, {
        "shift_id": shift_ids,
        "timezone": strings([AGENT_TZ[1], AGENT_TZ[0], AGENT_TZ[-5]]),
    }


def generate_billing_day(world: World, day_index: int) -> tuple[EventRows, dict]:
    """Subscription and invoice events that fall on the day (their timeline is drawn once)."""
    billing, company = world.billing, world.company
    rng = generator(world.config.seed, "billing", day_index)
    day_start, day_end = _day_span(world, day_index)
    lo, hi = np.searchsorted(billing["at"], [day_start, day_end])
    rows = EventRows("billing")
    part = {key: value[lo:hi] for key, value in billing.items()}
    invoice_numbers = part["invoice"]
    for kind, event_type in enumerate(BILLING_TYPES):
        sel = part["kind"] == kind
        if not sel.any():
            continue
        who = part["customer"][sel]
        cols = {"customer_id": who, "subscription_id": who}
        if event_type.startswith("subscription."):
            cols.update(
                plan_id=part["plan"][sel],
                billing_period=company.is_annual[who].astype(np.int64),
                mrr_amount_eur=part["mrr"][sel],
                previous_mrr_amount_eur=part["prev_mrr"][sel],
                period_end_at=part["period_end"][sel],
            )
            if event_type == "subscription.started":
                cols["discount_pct"] = company.discount_pct[who]
        else:
            cols.update(
                invoice_id=np.flatnonzero(sel),
                amount_eur=part["amount"][sel],
                attempt_number=part["attempt"][sel],
            )
            if event_type == "invoice.payment_failed":
                cols["failure_reason"] = rng.integers(0, len(FAILURE_REASONS), int(sel.sum()))
        rows.add(event_type, part["at"][sel], **cols)
    return rows, {"invoice_id": invoice_ids(invoice_numbers)}


def invoice_ids(numbers: np.ndarray) -> pa.Array:
    """The ids of invoice numbers (an account's number times 1000 plus its invoice count)."""
    return pc.binary_join_element_wise(
        id_array("INV", numbers // 1000 + 1, 7),
        pc.cast(pa.array(numbers % 1000), pa.string()),
        "-",
    )


def generate_onboarding_day(world: World, day_index: int) -> tuple[EventRows, dict]:
    """Milestones new accounts reach that day; the last one (went_live) is time to value."""
    onboarding = world.onboarding
    day_start, day_end = _day_span(world, day_index)
    lo, hi = np.searchsorted(onboarding["at"], [day_start, day_end])
    rows = EventRows("onboarding")
    rows.add(
        "onboarding.milestone_reached",
        onboarding["at"][lo:hi],
        customer_id=onboarding["customer"][lo:hi],
        milestone=onboarding["order"][lo:hi],
        milestone_order=onboarding["order"][lo:hi] + 1,
    )
    return rows, {}


def generate_nps_day(world: World, day_index: int) -> tuple[EventRows, dict, list]:
    """Quarterly relationship NPS: sent on each account's quarter day; experience drives it."""
    company = world.company
    rng = generator(world.config.seed, "nps", day_index)
    day_start, _ = _day_span(world, day_index)
    due = np.flatnonzero(world.active(day_index) & ((day_index - company.signup_day) % 90 == 45))
    sent = (
        day_start
        + ((10 - customer_utc_offset(company)[due]) % 24) * HOUR
        + rng.integers(0, HOUR, len(due))
    )
    responded = sent + (rng.lognormal(np.log(8.0), 1.0, len(due)) * HOUR).astype(np.int64)
    answered = (rng.random(len(due)) < 0.25) & (responded < world.horizon_s)
    recent = np.log(world.wait_factor[max(0, day_index - 30) : day_index + 1, T1].mean())
    score = np.clip(
        np.rint(
            8.3
            - 1.3 * company.friction[due]
            - 3.0 * recent
            + 0.6 * np.log(company.usage[due])
            + rng.normal(0, 1.4, len(due))
        ),
        0,
        10,
    ).astype(np.int64)
    rows = EventRows("survey")
    common = {
        "survey_id": np.arange(len(due)),
        "survey_type": 0,
        "customer_id": due,
        "contact_id": due,
    }
    rows.add("survey.sent", sent, **common)
    rows.add(
        "survey.responded",
        responded[answered],
        survey_id=np.flatnonzero(answered),
        survey_type=0,
        customer_id=due[answered],
        contact_id=due[answered],
        score=score[answered],
    )
    truth = [
        SurveyAnswers(
            "nps", np.flatnonzero(answered), score[answered], due[answered], responded[answered]
        )
    ]
    return rows, {"survey_id": id_array(f"NPS{day_index:05d}-", due, 7)}, truth


def generate_chat_day(world: World, day_index: int) -> tuple[EventRows, dict, pa.Table]:
    """Chat conversations: bot first once it is live, otherwise (or when handed off) agents.
    Also returns their truth (CONVERSATION_TRUTH_SCHEMA) from the events before the horizon."""
    config = world.config
    rng = generator(config.seed, "chat", day_index)
    day_start, _ = _day_span(world, day_index)
    active = np.flatnonzero(world.active(day_index))
    n = int(
        rng.poisson(
            len(active)
            * 0.012
            * world.demand[day_index].sum()
            / max(world.demand.mean(axis=0).sum(), 1e-9)
        )
    )
    n = n if len(active) else 0
    customer = active[rng.integers(0, max(len(active), 1), n)] if n else np.empty(0, np.int64)
    started = (
        day_start + rng.choice(24, size=n, p=CHAT_HOUR_SHARE) * HOUR + rng.integers(0, HOUR, n)
    )
    bot_live = (
        config.chatbot_launch_date is not None
        and config.day(day_index) >= config.chatbot_launch_date
    )
    rows = EventRows("chat")
    idx = np.arange(n)
    channel = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    rows.add(
        "conversation.started", started, conversation_id=idx, customer_id=customer, channel=channel
    )
    rows.add(
        "conversation.customer_message",
        started + 1,
        conversation_id=idx,
        customer_id=customer,
        author_type=1,
    )
    if bot_live:
        article = np.minimum(rng.zipf(1.4, n), ARTICLES) - 1
        rows.add(
            "conversation.bot_answered",
            started + rng.integers(2, 10, n),
            conversation_id=idx,
            author_type=2,
            article_id=article,
        )
        resolved = rng.random(n) < 0.45
        resolution = (rng.random(n) < 0.4).astype(np.int64)
        bot_done = started + rng.integers(60, 600, n)
        rows.add(
            "conversation.bot_resolved",
            bot_done[resolved],
            conversation_id=idx[resolved],
            resolution_type=resolution[resolved],
            article_id=article[resolved],
        )
        rows.add("conversation.closed", bot_done[resolved] + 5, conversation_id=idx[resolved])
        human = ~resolved
        handoff = started + rng.integers(30, 300, n)
        rows.add("conversation.handed_off", handoff[human], conversation_id=idx[human], team_id=T1)
    else:
        human = np.ones(n, dtype=bool)
        handoff = started
    from simulator.events.tickets import pick_agents

    agent = pick_agents(world, day_index, np.full(n, T1), rng, handoff)
    wait = world.wait_factor[day_index, T1]
    messages = (1 + rng.poisson(2.0, n)) * human
    owner = np.repeat(idx, messages)
    gaps = np.maximum(10, rng.lognormal(np.log(90 * wait), 0.7, len(owner))).astype(np.int64)
    run_start = np.repeat(np.cumsum(messages) - messages, messages)
    cumulative = np.cumsum(gaps)
    at = handoff[owner] + cumulative - np.concatenate([[0], cumulative])[run_start]
    rows.add(
        "conversation.agent_message",
        at,
        conversation_id=owner,
        agent_id=agent[owner],
        author_type=0,
    )
    rows.add(
        "conversation.customer_message", at[1::2] + 20, conversation_id=owner[1::2], author_type=1
    )
    end = handoff.copy()
    np.maximum.at(end, owner, at + 60)
    rows.add("conversation.closed", end[human], conversation_id=idx[human], agent_id=agent[human])
    ids = id_array(f"CV{day_index:05d}-", idx, 6)
    lookups = {"conversation_id": ids, "author_type": strings(("agent", "customer", "bot"))}
    return rows, lookups, _conversation_truth(rows, ids, world.horizon_s)


def _conversation_truth(rows: EventRows, ids: pa.Array, horizon: int) -> pa.Table:
    """Per conversation, what its events before ``horizon`` say: start, first bot or agent
    answer, close, bot resolution and the hand-offs and messages."""
    n = len(ids)
    types, at, cols = rows.arrays(horizon)
    part_types = np.array([event_type for event_type, _, _ in rows.parts] or [""])
    owner = cols.get("conversation_id", np.empty(0, np.int64))

    def rows_of(*event_types: str) -> np.ndarray:
        return np.isin(part_types, event_types)[types]

    def first(*event_types: str) -> tuple[np.ndarray, np.ndarray]:
        chosen = rows_of(*event_types)
        return earliest(owner[chosen], at[chosen], n)

    def count(event_type: str) -> pa.Array:
        return pa.array(np.bincount(owner[rows_of(event_type)], minlength=n).astype(np.int32))

    started, _ = first("conversation.started")
    answered, has_answer = first("conversation.bot_answered", "conversation.agent_message")
    closed, has_close = first("conversation.closed")
    resolution = np.full(n, -1)
    resolved = rows_of("conversation.bot_resolved")
    if resolved.any():
        resolution[owner[resolved]] = cols["resolution_type"][resolved]
    return pa.table(
        {
            "conversation_id": ids,
            "started_at": timestamps(started),
            "first_answered_at": timestamps(answered, ~has_answer),
            "closed_at": timestamps(closed, ~has_close),
            "bot_resolution_type": pc.take(
                strings(RESOLUTION_TYPES), pa.array(resolution, mask=resolution < 0)
            ),
            "handoff_count": count("conversation.handed_off"),
            "agent_message_count": count("conversation.agent_message"),
            "customer_message_count": count("conversation.customer_message"),
        },
        schema=CONVERSATION_TRUTH_SCHEMA,
    )


def generate_kb_day(world: World, day_index: int) -> tuple[EventRows, dict]:
    """Self-service sessions: searches (some find nothing), article views and votes."""
    rng = generator(world.config.seed, "kb", day_index)
    day_start, _ = _day_span(world, day_index)
    active = np.flatnonzero(world.active(day_index))
    n = int(rng.poisson(len(active) * 0.04)) if len(active) else 0
    customer = active[rng.integers(0, max(len(active), 1), n)] if n else np.empty(0, np.int64)
    customer = np.where(rng.random(n) < 0.7, customer, -1)
    session_start = (
        day_start + rng.choice(24, size=n, p=CHAT_HOUR_SHARE) * HOUR + rng.integers(0, HOUR, n)
    )
    rows = EventRows("kb")
    idx = np.arange(n)
    zero = rng.random(n) < 0.12
    query = np.where(
        zero,
        len(SEARCH_QUERIES) + rng.integers(0, len(ZERO_RESULT_QUERIES), n),
        rng.integers(0, len(SEARCH_QUERIES), n),
    )
    rows.add(
        "kb.searched",
        session_start,
        session_id=idx,
        customer_id=customer,
        search_query=query,
        result_count=np.where(zero, 0, rng.integers(1, 12, n)),
    )
    views = rng.integers(0, 4, n) * ~zero
    owner = np.repeat(idx, views)
    article = np.minimum(rng.zipf(1.3, len(owner)), ARTICLES) - 1
    viewed_at = session_start[owner] + rng.integers(5, 600, len(owner))
    rows.add(
        "kb.article_viewed",
        viewed_at,
        session_id=owner,
        customer_id=customer[owner],
        article_id=article,
    )
    vote = rng.random(len(owner)) < 0.1
    helpful = (rng.random(len(owner)) < 0.75).astype(np.int64)
    rows.add(
        "kb.article_voted",
        viewed_at[vote] + 30,
        session_id=owner[vote],
        customer_id=customer[owner][vote],
        article_id=article[vote],
        is_helpful=helpful[vote],
    )
    return rows, {"session_id": id_array(f"KS{day_index:05d}-", idx, 6)}


def agent_day_truth(
    event_types: list[str], kept: dict[str, np.ndarray], daily: DailyCounts
) -> None:
    """Adds to ``daily``, per agent and UTC day, from a day's emitted agent events:
    scheduled minutes (each shift from its start to its end, on its start's day) and
    occupied minutes (each busy status until the agent's next status, on its start's day)."""
    empty = np.empty(0, dtype=np.int64)
    at, agent = kept.get("_at", empty), kept.get("agent_id", empty)
    started = rows_of(event_types, kept["_type"], "agent.shift_started")
    ended = rows_of(event_types, kept["_type"], "agent.shift_ended")
    shift = kept.get("shift_id", empty)
    end_of = np.full(int(shift.max(initial=-1)) + 1, -1, dtype=np.int64)
    end_of[shift[ended]] = at[ended]
    shift_end = end_of[shift[started]] if len(started) else empty
    whole = shift_end >= 0
    statuses = rows_of(event_types, kept["_type"], "agent.status_changed")
    order = statuses[owner_then_time_order(agent[statuses], at[statuses])]
    same_agent_next = np.append(agent[order][1:] == agent[order][:-1], False)
    is_busy = kept.get("agent_status", empty)[order] == AGENT_STATUSES.index("busy")
    busy = np.flatnonzero(is_busy & same_agent_next)
    busy_from, busy_until = at[order[busy]], at[order[busy + 1]]
    daily.add(
        "scheduled_minutes",
        at[started][whole],
        agent=agent[started][whole],
        weights=(shift_end[whole] - at[started][whole]) / 60.0,
    )
    daily.add(
        "occupied_minutes",
        busy_from,
        agent=agent[order[busy]],
        weights=(busy_until - busy_from) / 60.0,
    )


def changes_truth(
    changes: tuple[tuple[str, ...], str, tuple[str, ...]],
    event_types: list[str],
    kept: dict[str, np.ndarray],
    lookups: dict[str, pa.Array],
) -> pa.Table:
    """A day's emitted events of ``changes`` (``CUSTOMER_CHANGES``, ``AGENT_CHANGES``): the
    entity, the event type and instant, and each attribute it sets (null: left as it was)."""
    changing, key, attributes = changes
    rows = rows_of(event_types, kept["_type"], *changing)

    def named(name: str) -> pa.Array:
        codes = kept.get(name, np.full(len(kept["_at"]), -1))[rows]
        return take(lookups[name], codes).cast(pa.string())

    return pa.table(
        {
            key: named(key),
            "event_type": take(strings(event_types), kept["_type"][rows]),
            "changed_at": timestamps(kept["_at"][rows]),
            **{name: named(name) for name in attributes},
        }
    )


def kb_day_truth(event_types: list[str], kept: dict[str, np.ndarray], daily: DailyCounts) -> None:
    """Adds to ``daily``, per UTC day, from a day's emitted knowledge-base events: article
    views, searches and zero-result searches, helpful and unhelpful votes, sessions with an
    event that day, and the customers signed in to it."""
    empty = np.empty(0, dtype=np.int64)
    at = kept.get("_at", empty)
    searched = rows_of(event_types, kept["_type"], "kb.searched")
    viewed = rows_of(event_types, kept["_type"], "kb.article_viewed")
    voted = rows_of(event_types, kept["_type"], "kb.article_voted")
    helpful = kept.get("is_helpful", empty)
    results = kept.get("result_count", empty)
    (_, session_day), _ = group_rows(kept.get("session_id", empty), at // DAY, groups=False)
    daily.add("article_views", at[viewed])
    daily.add("searches", at[searched])
    daily.add("zero_result_searches", at[searched][results[searched] == 0])
    daily.add("helpful_votes", at[voted][helpful[voted] == 1])
    daily.add("unhelpful_votes", at[voted][helpful[voted] == 0])
    daily.add("kb_sessions", session_day * DAY)
    customer = kept.get("customer_id", empty)
    daily.add("kb_customers", at[customer >= 0], customer=customer[customer >= 0])
