"""The run's timeline, computed once and deterministically: demand curves, staffing and
capacity (so waits grow when demand outruns staff), agents' hiring and attrition, and every
account's subscription history (experience and usage drive churn; good experience, expansion).

Day generators read it, so any day can be regenerated alone and gives the same events.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np

from simulator.columns import earliest
from simulator.config import SimulationConfig
from simulator.entities import (
    COUNTRY_UTC_OFFSET_HOURS,
    PLAN_PRICE_EUR,
    PLANS,
    T1,
    TEAM_SHARE,
    TEAMS,
    TICKETS_PER_AGENT_DAY,
    Company,
    draw_company,
)
from simulator.rng import generator

DAY = 86_400
# A working agent's shift in their own time zone: it starts at 08:00 plus up to 15 minutes and
# lasts eight and a half hours, so from 08:15 to 16:30 every working agent is on shift.
SHIFT_START_S = 8 * 3600
SHIFT_START_JITTER_S = 900
SHIFT_LENGTH_S = 8 * 3600 + 1800
ON_SHIFT_FROM_S = SHIFT_START_S + SHIFT_START_JITTER_S
ON_SHIFT_TO_S = SHIFT_START_S + SHIFT_LENGTH_S
SHIFT_WORK_S = ON_SHIFT_TO_S - ON_SHIFT_FROM_S
# How far ahead an agent's next shift is looked for (beyond it the time is kept as is).
SHIFT_SEARCH_DAYS = 14
WEEKDAY_FACTOR = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.45, 0.4])  # Monday first
WEEKDAY_FACTOR /= WEEKDAY_FACTOR.mean()  # tickets_per_customer_day is the weekly average
CHATBOT_DEFLECTION = 0.15
ANNUAL_PRICE_FACTOR = 0.85
MONTH_DAYS, YEAR_DAYS = 30, 365

# Billing event kinds (index into BILLING_TYPES).
BILLING_TYPES = (
    "subscription.started",
    "subscription.upgraded",
    "subscription.downgraded",
    "subscription.renewed",
    "subscription.cancelled",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.refunded",
)
STARTED, UPGRADED, DOWNGRADED, RENEWED, CANCELLED, ISSUED, PAID, FAILED, REFUNDED = range(9)
MILESTONES = (
    "account_created",
    "first_agent_invited",
    "first_channel_connected",
    "first_ticket_solved",
    "went_live",
)


def epoch_seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


@dataclass
class Agents:
    team: np.ndarray
    hired_day: np.ndarray
    left_day: np.ndarray
    """Day index the agent left; a large number while still employed."""
    utc_offset_hours: np.ndarray
    name_pool: np.ndarray
    day_off: np.ndarray


@dataclass
class World:
    config: SimulationConfig
    company: Company
    start_s: int
    horizon_s: int
    demand: np.ndarray
    """Expected new tickets per (day, team), after seasonality, incidents and the chatbot."""
    wait_factor: np.ndarray
    """Multiplier of waiting times per (day, team): 1 when staff keeps up, more with backlog."""
    agents: Agents
    churn_at: np.ndarray
    """Second at which each account's MRR falls to zero; horizon or later if never."""
    billing: dict[str, np.ndarray]
    onboarding: dict[str, np.ndarray]
    effects: list[dict]

    def active(self, day_index: int) -> np.ndarray:
        """Accounts signed up and not yet churned at the start of ``day_index``."""
        day_s = self.start_s + day_index * DAY
        return (self.company.signup_day <= day_index) & (self.churn_at > day_s)

    def agents_on(self, day_index: int) -> np.ndarray:
        return (self.agents.hired_day <= day_index) & (self.agents.left_day > day_index)

    def works(self, agent: np.ndarray, day_index: np.ndarray | int) -> np.ndarray:
        """Whether each ``agent`` works a shift on ``day_index``: employed, not a day off."""
        agents = self.agents
        weekday = self.config.start.weekday() + np.asarray(day_index)
        return (
            (agents.hired_day[agent] <= day_index)
            & (agents.left_day[agent] > day_index)
            & ((weekday + agents.day_off[agent]) % 7 < 5)
        )

    @functools.cached_property
    def _work_calendar(self) -> tuple[np.ndarray, np.ndarray]:
        """Per agent and local day, from the day before the window to SHIFT_SEARCH_DAYS after
        it (column = day + 1): the next day, that one or later, the agent works (-2 where none
        is left), and the number of days worked up to that day, as one ascending array (row
        ``agent`` offset by agent x (columns + 1)) to find the n-th working day after a day."""
        days = np.arange(-1, self.config.days + SHIFT_SEARCH_DAYS + 1)
        agents = np.arange(len(self.agents.team))
        works = self.works(agents[:, None], days[None, :])
        following = np.full(len(agents), -2, dtype=np.int64)
        next_day = np.empty(works.shape, dtype=np.int64)
        for column in range(len(days) - 1, -1, -1):
            following = np.where(works[:, column], days[column], following)
            next_day[:, column] = following
        worked = np.cumsum(works, axis=1) + agents[:, None] * (len(days) + 1)
        return next_day, worked.ravel()

    def _shift_start(self, agent: np.ndarray, at: np.ndarray):
        """(next_on_shift's result, whether a shift was found, its local day, the offset)."""
        agent = np.asarray(agent)
        who = np.maximum(agent, 0)
        offset = self.agents.utc_offset_hours[who].astype(np.int64) * 3600
        day = self.shift_day(at, offset)
        next_day, _ = self._work_calendar
        work_day = next_day[who, np.clip(day + 1, 0, next_day.shape[1] - 1)]
        found = (agent >= 0) & (work_day >= day) & (work_day - day < SHIFT_SEARCH_DAYS)
        shift_from = self.shift_from(work_day, offset)
        return np.where(found, np.maximum(at, shift_from), at), found, work_day, offset

    def shift_day(self, at: np.ndarray, offset: np.ndarray | int) -> np.ndarray:
        """The local day (numbered like the window's days) of the first shift hours at or
        after ``at`` in the time zone ``offset`` seconds from UTC: past today's, tomorrow."""
        day = (at + offset - self.start_s) // DAY
        return day + (at >= self.shift_from(day, offset) - ON_SHIFT_FROM_S + ON_SHIFT_TO_S)

    def shift_from(self, day: np.ndarray, offset: np.ndarray | int) -> np.ndarray:
        """When every agent working local ``day`` in that time zone is on shift."""
        return self.start_s + day * DAY - offset + ON_SHIFT_FROM_S

    def next_on_shift(self, agent: np.ndarray, at: np.ndarray) -> np.ndarray:
        """The first second at or after each ``at`` when ``agent`` is surely on shift: agents
        answer tickets in their working hours, so work arriving at night or on a day off waits
        for them. Kept as is for no agent (-1) or no shift within SHIFT_SEARCH_DAYS."""
        return self._shift_start(agent, np.asarray(at, dtype=np.int64))[0]

    def after_working(self, agent: np.ndarray, at: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """``at`` plus ``seconds`` of ``agent``'s working time: a queue moves only while its
        agent is on shift, so a wait drawn in working hours resumes at the next shift (calendar
        time where the agent has no shift ahead in the window)."""
        at = np.asarray(at, dtype=np.int64)
        left = np.broadcast_to(np.asarray(seconds, dtype=np.int64), at.shape)
        now, found, day, offset = self._shift_start(agent, at)
        day_end = self.shift_from(day, offset) - ON_SHIFT_FROM_S + ON_SHIFT_TO_S
        result = now + left
        over = found & (now + left > day_end)
        if not over.any():
            return result
        # Past the first shift: whole shifts of SHIFT_WORK_S, then the rest of the last one,
        # on the agent's n-th working day after the first.
        rows = np.flatnonzero(over)
        who, day = np.asarray(agent)[rows], day[rows]
        beyond = left[rows] - (day_end[rows] - now[rows])
        whole = (beyond - 1) // SHIFT_WORK_S
        next_day, worked = self._work_calendar
        columns = next_day.shape[1]
        wanted = worked[who * columns + day + 1] + whole + 1
        index = np.searchsorted(worked, wanted)
        column = index - who * columns
        found_day = worked[np.minimum(index, len(worked) - 1)] == wanted
        inside = (index < len(worked)) & (column < columns) & found_day
        target = column - 1
        at_target = self.shift_from(target, offset[rows]) + beyond - whole * SHIFT_WORK_S
        result[rows] = np.where(inside, at_target, now[rows] + left[rows])
        return result


def _season(config: SimulationConfig) -> np.ndarray:
    days = np.arange(config.days)
    dates = [config.day(int(i)) for i in days]
    weekday = WEEKDAY_FACTOR[[d.weekday() for d in dates]]
    doy = np.array([d.timetuple().tm_yday for d in dates])
    # Busier in January (renewals, new budgets) and quieter around late summer and Christmas.
    yearly = 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 20) / 365.25)
    yearly *= np.where(doy >= 355, 0.7, 1.0)
    return weekday * yearly


def _in_window(config: SimulationConfig, day: dt.date | None) -> int | None:
    index = config.day_index(day)
    return index if index is not None and 0 <= index < config.days else None


@functools.lru_cache(maxsize=4)
def build_world(config: SimulationConfig) -> World:
    """The timeline of ``config``: a pure function of the settings (cached per process)."""
    company = draw_company(config)
    rng = generator(config.seed, "timeline")
    n_days = config.days
    start_s = epoch_seconds(config.start)
    horizon_s = epoch_seconds(config.end)
    days = np.arange(n_days)
    effects: list[dict] = []

    # Expected active ticket weight per day (sign-ups grow it; churn is second order here).
    signup_sorted = np.sort(company.signup_day)
    weight_by_signup = np.cumsum(
        company.ticket_weight[np.argsort(company.signup_day, kind="stable")]
    )
    active_weight = weight_by_signup[np.searchsorted(signup_sorted, days, side="right") - 1]
    mean_weight = company.ticket_weight.mean()
    base = active_weight / mean_weight * config.tickets_per_customer_day * _season(config)
    volume = np.ones(n_days)
    incident = _in_window(config, config.incident_date)
    if incident is not None:
        volume[incident : incident + 2] *= [
            config.incident_volume_factor,
            1 + (config.incident_volume_factor - 1) / 3,
        ][: n_days - incident]
        effects.append(
            {
                "effect": "incident",
                "day": config.incident_date,
                "detail": f"ticket volume x{config.incident_volume_factor} that day",
            }
        )
    bot = config.day_index(config.chatbot_launch_date)
    if bot is not None and bot < n_days:
        volume[max(bot, 0) :] *= 1 - CHATBOT_DEFLECTION
        effects.append(
            {
                "effect": "chatbot_launch",
                "day": config.chatbot_launch_date,
                "detail": f"bot answers chats; {CHATBOT_DEFLECTION:.0%} fewer tickets",
            }
        )
    demand = (base * volume)[:, None] * TEAM_SHARE[None, :]
    # Tier 2 also receives the escalations from tier 1.
    demand[:, 1] += demand[:, 0] * 0.12

    agents = _draw_agents(config, company, rng, demand, effects)
    capacity = np.zeros((n_days, len(TEAMS)))
    for t in range(len(TEAMS)):
        on = (agents.hired_day[None, :] <= days[:, None]) & (
            agents.left_day[None, :] > days[:, None]
        )
        capacity[:, t] = (on & (agents.team == t)[None, :]).sum(axis=1) * TICKETS_PER_AGENT_DAY[t]
    # Rotas follow the weekly pattern: fewer agents work at the weekend.
    capacity *= _season(config)[:, None] / _season(config).mean() * 5 / 7
    capacity = np.maximum(capacity, 1.0)
    # Backlog carries over: waits grow while demand outruns capacity and recover after.
    backlog = np.zeros(len(TEAMS))
    wait_factor = np.ones((n_days, len(TEAMS)))
    for d in range(n_days):
        backlog = np.maximum(0.0, backlog + demand[d] - capacity[d])
        wait_factor[d] = (1.0 + backlog / capacity[d]) * np.maximum(1.0, demand[d] / capacity[d])
    # Customers give up and work around a backlog that deep: waits stop growing.
    wait_factor = np.minimum(wait_factor, 25.0)

    churn_at, billing = _subscriptions(
        config, company, rng, wait_factor, start_s, horizon_s, effects
    )
    onboarding = _onboarding(config, company, rng, start_s, horizon_s, billing)
    return World(
        config,
        company,
        start_s,
        horizon_s,
        demand,
        wait_factor,
        agents,
        churn_at,
        billing,
        onboarding,
        effects,
    )


def _draw_agents(config, company, rng, demand, effects) -> Agents:
    """Staff each team for its demand at 85% utilisation; lose ~1.5% a month, backfill and
    hire with growth each month (except tier 1 for 90 days after a staffing cut)."""
    n_days = config.days
    needed = demand / (TICKETS_PER_AGENT_DAY[None, :] * 5 / 7 * 0.85)
    team: list[int] = []
    hired: list[int] = []
    left: list[int] = []

    def hire(t: int, count: int, day: int) -> None:
        for _ in range(count):
            team.append(t)
            hired.append(day)
            left.append(day + 30 + int(rng.exponential(2000)))

    for t in range(len(TEAMS)):
        hire(t, max(2, int(np.ceil(needed[0, t]))), 0)
    cut = _in_window(config, config.staffing_cut_date)
    cut_done = False
    for month_start in range(0, n_days, 30):
        if cut is not None and not cut_done and month_start + 30 > cut:
            team_a, hired_a, left_a = np.array(team), np.array(hired), np.array(left)
            front = np.flatnonzero((team_a == T1) & (hired_a <= cut) & (left_a > cut))
            leaving = front[rng.random(len(front)) < config.staffing_cut_share]
            for i in leaving:
                left[i] = cut
            effects.append(
                {
                    "effect": "staffing_cut",
                    "day": config.staffing_cut_date,
                    "detail": f"{len(leaving)} of {len(front)} front-line agents left",
                }
            )
            cut_done = True
        if month_start == 0:
            continue
        team_a, hired_a, left_a = np.array(team), np.array(hired), np.array(left)
        for t in range(len(TEAMS)):
            frozen = cut is not None and t == T1 and cut <= month_start < cut + 90
            have = int(((team_a == t) & (hired_a <= month_start) & (left_a > month_start)).sum())
            want = max(2, int(np.ceil(needed[min(month_start + 15, n_days - 1), t])))
            if want > have and not frozen:
                hire(t, want - have, month_start + int(rng.integers(0, 14)))
    team_arr = np.array(team, dtype=np.int64)
    hired_day = np.minimum(np.array(hired, dtype=np.int64), n_days - 1)
    left_day = np.array(left, dtype=np.int64)
    left_day = np.where(left_day >= n_days, 10**9, np.maximum(left_day, hired_day + 1))
    offsets = rng.choice([1, 0, -5], size=len(team), p=[0.6, 0.2, 0.2])
    return Agents(
        team_arr,
        hired_day,
        left_day,
        offsets,
        rng.integers(0, 800, len(team)),
        rng.integers(0, 7, len(team)),
    )


def _price_cents(plan, is_annual, discount, at_s, change_s, change_pct) -> np.ndarray:
    price = PLAN_PRICE_EUR[plan] * np.where(is_annual, ANNUAL_PRICE_FACTOR, 1.0)
    price = price * (1 - discount / 100) * np.where(at_s >= change_s, 1 + change_pct, 1.0)
    return np.round(price * 100).astype(np.int64)


def _subscriptions(config, company, rng, wait_factor, start_s, horizon_s, effects):
    """Each account's subscription, period by period: renew, expand, contract or churn."""
    n = company.size
    change_day = _in_window(config, config.price_change_date)
    change_s = start_s + change_day * DAY if change_day is not None else 2**62
    if change_day is not None:
        effects.append(
            {
                "effect": "price_change",
                "day": config.price_change_date,
                "detail": f"list prices {config.price_change_pct:+.0%} for new business",
            }
        )
    period = np.where(company.is_annual, YEAR_DAYS, MONTH_DAYS)
    # Billing happens at a fixed second of each account's anniversary day.
    billing_second = 3600 + rng.integers(0, 6 * 3600, n)
    signup_s = start_s + company.signup_day * DAY + billing_second
    first_event_s = np.maximum(signup_s, start_s + rng.integers(0, 3600, n))
    # First period boundary at or after the window start.
    k0 = np.where(company.signup_day >= 0, 1, -(company.signup_day // period))
    plan = company.plan.copy()
    mrr = _price_cents(
        plan, company.is_annual, company.discount_pct, signup_s, change_s, config.price_change_pct
    )
    rows: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "kind",
            "at",
            "customer",
            "plan",
            "mrr",
            "prev_mrr",
            "period_end",
            "invoice",
            "amount",
            "attempt",
        )
    }

    def emit(
        kind,
        at,
        who,
        plan_=None,
        mrr_=None,
        prev=None,
        period_end=None,
        invoice=None,
        amount=None,
        attempt=None,
    ):
        m = len(who)
        rows["kind"].append(np.full(m, kind))
        rows["at"].append(at)
        rows["customer"].append(who)
        for key, value in (
            ("plan", plan_),
            ("mrr", mrr_),
            ("prev_mrr", prev),
            ("period_end", period_end),
            ("invoice", invoice),
            ("amount", amount),
            ("attempt", attempt),
        ):
            rows[key].append(
                np.full(m, -1, dtype=np.int64)
                if value is None
                else np.asarray(value, dtype=np.int64)
            )

    everyone = np.arange(n)
    first_end = signup_s + k0 * period * DAY
    emit(STARTED, first_event_s, everyone, plan, mrr, None, first_end)
    invoice_counter = np.zeros(n, dtype=np.int64)
    new = company.signup_day >= 0
    _invoice(
        emit,
        rng,
        new,
        signup_s,
        everyone,
        mrr * np.where(company.is_annual, 12, 1),
        invoice_counter,
    )
    churn_at = np.full(n, 2**62, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    k = k0.copy()
    max_periods = config.days // MONTH_DAYS + 2
    for _ in range(max_periods):
        boundary = signup_s + k * period * DAY
        due = alive & (boundary < horizon_s)
        if not due.any():
            break
        day = np.clip((boundary - start_s) // DAY, 0, config.days - 1)
        t1_wait = wait_factor[day, T1]
        experience = company.friction + 1.5 * np.log(t1_wait)
        months = period / MONTH_DAYS
        hazard = 0.012 * np.exp(0.9 * experience) * np.where(company.usage < 0.6, 2.0, 1.0)
        hazard = 1 - (1 - np.minimum(hazard, 0.5)) ** (months * 0.7)
        draw = rng.random(n)
        churn = due & (draw < hazard)
        upgrade = (
            due
            & ~churn
            & (draw > 1 - 0.02 * months * np.exp(-0.7 * experience) * company.usage)
            & (plan < len(PLANS) - 1)
        )
        downgrade = (
            due
            & ~churn
            & ~upgrade
            & (rng.random(n) < 0.006 * months * np.exp(0.5 * experience))
            & (plan > 0)
        )
        # Cancelling: notice during the period, effective (MRR to zero) at its end.
        who = np.flatnonzero(churn)
        notice = (
            boundary[who] - rng.integers(1, 20, len(who)) * DAY - rng.integers(0, 3600, len(who))
        )
        notice = np.maximum(
            notice, np.maximum(first_event_s[who] + 60, boundary[who] - period[who] * DAY + 60)
        )
        emit(CANCELLED, notice, who, period_end=boundary[who])
        churn_at[who] = boundary[who]
        alive &= ~churn
        for mask, kind, step in ((upgrade, UPGRADED, 1), (downgrade, DOWNGRADED, -1)):
            who = np.flatnonzero(mask)
            prev = mrr[who]
            plan[who] += step
            mrr[who] = _price_cents(
                plan[who],
                company.is_annual[who],
                company.discount_pct[who],
                boundary[who],
                change_s,
                config.price_change_pct,
            )
            emit(kind, boundary[who] - 1, who, plan[who], mrr[who], prev)
        renew = np.flatnonzero(due & ~churn)
        emit(
            RENEWED,
            boundary[renew],
            renew,
            plan[renew],
            mrr[renew],
            None,
            boundary[renew] + period[renew] * DAY,
        )
        amounts = mrr * np.where(company.is_annual, 12, 1)
        _invoice(emit, rng, due & ~churn, boundary + 60, everyone, amounts, invoice_counter)
        k = k + due
    billing = {key: np.concatenate(parts) for key, parts in rows.items()}
    keep = billing["at"] < horizon_s
    order = np.argsort(billing["at"][keep], kind="stable")
    billing = {key: value[keep][order] for key, value in billing.items()}
    return churn_at, billing


def _invoice(emit, rng, mask, at, everyone, amounts, counter) -> None:
    """Issue invoices; most are paid, some fail and are retried (dunning), a few refunded."""
    who = everyone[mask]
    counter[who] += 1
    invoice = who * 1000 + counter[who]
    issued = at[who]
    amount = amounts[who]
    emit(ISSUED, issued, who, invoice=invoice, amount=amount)
    failures = np.minimum(rng.geometric(0.85, len(who)) - 1, 3)
    paid_at = issued + rng.integers(600, 2 * DAY, len(who))
    for attempt in range(1, 4):
        failing = failures >= attempt
        retry_at = issued + (attempt - 1) * 3 * DAY + rng.integers(600, DAY, len(who))
        emit(
            FAILED,
            retry_at[failing],
            who[failing],
            invoice=invoice[failing],
            attempt=np.full(failing.sum(), attempt),
        )
        paid_at = np.where(failing, retry_at + 3 * DAY, paid_at)
    emit(PAID, paid_at, who, invoice=invoice, amount=amount)
    refund = rng.random(len(who)) < 0.01
    emit(
        REFUNDED,
        paid_at[refund] + 5 * DAY,
        who[refund],
        invoice=invoice[refund],
        amount=amount[refund],
    )


def _onboarding(config, company, rng, start_s, horizon_s, billing) -> dict[str, np.ndarray]:
    """Milestones of accounts that sign up in the window; friction slows time to value. An
    account is created (account_created, and customer.created) when its first subscription
    starts; one without a subscription event in the window at a drawn daytime second."""
    new = np.flatnonzero(company.signup_day >= 0)
    signup_s = start_s + company.signup_day[new] * DAY + rng.integers(8 * 3600, 18 * 3600, len(new))
    started = billing["kind"] == STARTED
    first_started, _ = earliest(billing["customer"][started], billing["at"][started], company.size)
    signup_s = np.where(first_started[new] < horizon_s, first_started[new], signup_s)
    gaps = rng.lognormal(np.log(2.5), 0.7, (len(new), len(MILESTONES) - 1)) * DAY
    gaps *= np.exp(0.25 * company.friction[new])[:, None]
    reached = np.concatenate(
        [signup_s[:, None], signup_s[:, None] + np.cumsum(gaps, axis=1)], axis=1
    ).astype(np.int64)
    customer = np.repeat(new, len(MILESTONES))
    order = np.tile(np.arange(len(MILESTONES)), len(new))
    at = reached.ravel()
    keep = at < horizon_s
    sort = np.argsort(at[keep], kind="stable")
    return {"customer": customer[keep][sort], "order": order[keep][sort], "at": at[keep][sort]}


def customer_utc_offset(company: Company) -> np.ndarray:
    return COUNTRY_UTC_OFFSET_HOURS[company.country]
