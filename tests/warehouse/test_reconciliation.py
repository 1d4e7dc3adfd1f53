"""The warehouse's figures equal the truth the simulator generated."""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest

from servops.paths import SEEDS_DIR, Home


@pytest.fixture(scope="module")
def warehouse(published_home: Home):
    connection = duckdb.connect(str(published_home.serving_db), read_only=True)
    yield connection
    connection.close()


def _truth(home: Home) -> str:
    return f"read_parquet('{home.truth}/tickets/*.parquet')"


def test_fct_tickets_matches_the_simulated_truth(warehouse, published_home: Home) -> None:
    truth = _truth(published_home)
    counts = warehouse.execute(
        f"""
        select
            (select count(*) from marts.fct_tickets),
            (select count(*) from {truth}),
            (select count(first_replied_at) from marts.fct_tickets),
            (select count(first_replied_at) from {truth}),
            (select count(*) from marts.fct_tickets where is_solved),
            (select count(solved_at) from {truth})
        """
    ).fetchone()
    assert counts[0] == counts[1] > 200
    assert counts[2] == counts[3]
    assert counts[4] == counts[5]
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.ticket_id is null or truth.ticket_id is null),
            count(*) filter (where fct.first_reply_calendar_minutes
                is distinct from truth.first_reply_calendar_minutes),
            count(*) filter (where fct.full_resolution_calendar_minutes
                is distinct from truth.full_resolution_calendar_minutes),
            count(*) filter (where fct.public_agent_reply_count
                != truth.public_agent_reply_count),
            count(*) filter (where fct.created_at != timezone('UTC', truth.created_at))
        from marts.fct_tickets as fct
        full join {truth} as truth using (ticket_id)
        """
    ).fetchone()
    assert differences == (0, 0, 0, 0, 0)


class BusinessHours:
    """The seeds' business hours (seeds/team_schedules.csv, seeds/holidays.csv), walked day by
    day with zoneinfo: a reference written apart from the warehouse's SQL (a spine of local
    days and running sums of business seconds, int_team_business_days_spined), so the two
    agree only if both follow the documented rule."""

    def __init__(self) -> None:
        with open(SEEDS_DIR / "holidays.csv", newline="") as file:
            holidays = defaultdict(set)
            for row in csv.DictReader(file):
                holidays[row["holiday_calendar"]].add(dt.date.fromisoformat(row["holiday_date"]))
        self.hours: dict[str, dict[int, tuple[dt.time, dt.time]]] = defaultdict(dict)
        self.zone: dict[str, ZoneInfo] = {}
        self.holidays: dict[str, set[dt.date]] = {}
        with open(SEEDS_DIR / "team_schedules.csv", newline="") as file:
            for row in csv.DictReader(file):
                team = row["team_id"]
                self.hours[team][int(row["iso_day_of_week"])] = (
                    dt.time.fromisoformat(row["start_time"]),
                    dt.time.fromisoformat(row["end_time"]),
                )
                self.zone[team] = ZoneInfo(row["time_zone"])
                self.holidays[team] = holidays[row["holiday_calendar"]]

    def seconds(self, team: str, start: dt.datetime, end: dt.datetime) -> int:
        """Seconds of [start, end) (aware datetimes) in ``team``'s business hours; a team
        without rows of its own keeps the default schedule."""
        team = team if team in self.hours else "default"
        zone, total = self.zone[team], 0
        day = start.astimezone(zone).date()
        while day <= end.astimezone(zone).date():
            hours = self.hours[team].get(day.isoweekday())
            if hours and day not in self.holidays[team]:
                opens = dt.datetime.combine(day, hours[0], zone)
                closes = dt.datetime.combine(day, hours[1], zone)
                total += max(0, int((min(end, closes) - max(start, opens)).total_seconds()))
            day += dt.timedelta(days=1)
        return total

    def minutes_held(self, owners, until: dt.datetime | None) -> float | None:
        """Business minutes from the first owner's start to ``until`` (None: not reached),
        each (team, start, end) owner counting its own hours while it held the ticket."""
        if until is None:
            return None
        return (
            sum(
                self.seconds(team, start, min(until, end or until))
                for team, start, end in owners
                if until > start
            )
            / 60
        )


def test_business_minutes_match_a_reference_calendar(warehouse, published_home: Home) -> None:
    # Every ticket's business minutes to its first reply, first and last solve, from the
    # simulator's truth (its team, the escalation that moved it, its milestones) and the
    # reference above: each owner counts its own hours while it holds the ticket. The
    # fixture's window spans weekends, the move to summer time (2025-03-30) and escalations.
    # Then the SLA verdicts: the targets (seeds/sla_policies.csv) of the truth's priority at
    # creation and the plan the warehouse found at creation, against the reference minutes.
    hours = BusinessHours()
    with open(SEEDS_DIR / "sla_policies.csv", newline="") as file:
        targets = {
            (row["priority"], row["plan_id"]): (
                int(row["first_reply_target_business_minutes"]),
                int(row["resolution_target_business_minutes"]),
            )
            for row in csv.DictReader(file)
        }
    rows = warehouse.execute(
        f"""
        select
            truth.ticket_id, truth.team_id, truth.escalated_at, truth.priority, fct.plan_id,
            fct.first_reply_target_business_minutes, fct.resolution_target_business_minutes,
            fct.is_first_reply_sla_breached, fct.is_resolution_sla_breached, fct.is_sla_breached,
            truth.created_at, truth.first_replied_at, truth.first_solved_at, truth.solved_at,
            fct.first_reply_business_minutes, fct.first_resolution_business_minutes,
            fct.full_resolution_business_minutes
        from {_truth(published_home)} as truth
        inner join marts.fct_tickets as fct using (ticket_id)
        """
    ).fetchall()
    names = ("first reply", "first solve", "last solve")
    wrong, escalated, measured, breaches = [], 0, 0, 0
    for ticket, team, moved, priority, plan, *rest in rows:
        ticket_targets, verdicts = tuple(rest[:2]), rest[2:5]
        created, milestones, figures = rest[5], rest[6:9], rest[9:]
        owners = [(team, created, moved)] + ([("support_t2", moved, None)] if moved else [])
        escalated += moved is not None
        measured += sum(milestone is not None for milestone in milestones)
        reference = [hours.minutes_held(owners, milestone) for milestone in milestones]
        for name, figure, expected in zip(names, figures, reference, strict=True):
            if (figure is None) != (expected is None) or (
                figure is not None and abs(figure - expected) > 1e-6
            ):
                wrong.append(f"{ticket} {name}: {figure} business minutes, reference {expected}")
        if (priority, plan) not in targets:
            wrong.append(f"{ticket}: no SLA policy for priority {priority}, plan {plan}")
            continue
        if ticket_targets != targets[priority, plan]:
            wrong.append(f"{ticket} SLA targets {ticket_targets}, {priority}/{plan}'s policy")
        reply, resolution = reference[0], reference[2]
        reply_breached = None if reply is None else reply > targets[priority, plan][0]
        resolution_breached = (
            None if resolution is None else resolution > targets[priority, plan][1]
        )
        expected_verdicts = (
            reply_breached,
            resolution_breached,
            bool(reply_breached) or bool(resolution_breached),
        )
        breaches += expected_verdicts[2]
        if tuple(verdicts) != expected_verdicts:
            wrong.append(f"{ticket} SLA breached {verdicts}, reference {expected_verdicts}")
    assert measured > 500 and escalated > 5, (measured, escalated)
    assert 0 < breaches < len(rows), breaches
    assert not wrong, "\n".join(wrong[:10])


def test_redelivered_events_are_counted_once(warehouse, published_home: Home) -> None:
    raw, distinct = warehouse.execute(
        f"select count(*), count(distinct event_id) "
        f"from read_parquet('{published_home.raw}/ticket/*/*.parquet')"
    ).fetchone()
    assert raw > distinct, "the fixture simulates redeliveries (defects=0.05)"
    staged = warehouse.execute("select count(*) from staging.stg_lake__ticket_events").fetchone()[0]
    assert staged == distinct


def test_delivery_faults_reach_the_quality_marts(warehouse, published_home: Home) -> None:
    # Nothing lost: every malformed delivery the simulator made is quarantined with its
    # reason, and every redelivery is counted as one.
    malformed, duplicates = warehouse.execute(
        f"select sum(malformed), sum(duplicates) from {_truth_of(published_home, 'defects')}"
    ).fetchone()
    quarantined, reasons, received, accepted, logged_quarantined, redelivered = warehouse.execute(
        """
        select
            (select sum(quarantined_count) from marts.fct_quarantine_reasons),
            (select count(distinct reason) from marts.fct_quarantine_reasons),
            sum(received_count),
            sum(accepted_count),
            sum(quarantined_count),
            (select sum(duplicate_delivery_count) from marts.fct_stream_freshness)
        from marts.fct_ingestion_daily
        """
    ).fetchone()
    assert malformed > 100 and duplicates > 100
    assert quarantined == logged_quarantined == received - accepted
    assert received == malformed and reasons >= 3, (received, malformed, reasons)
    assert redelivered == duplicates


def test_stream_freshness_matches_the_truth(warehouse, published_home: Home) -> None:
    # Per stream: distinct events, deliveries and redeliveries, first deliveries more than a
    # day after the event occurred, the greatest lateness, the last event and receipt.
    checks = (
        "streams",
        "events",
        "deliveries",
        "redeliveries",
        "late",
        "max lateness",
        "last occurred",
        "last received",
    )
    differences = warehouse.execute(
        f"""
        with truth as (
            select
                stream,
                sum(events) as events,
                sum(deliveries) as deliveries,
                sum(late_over_a_day) as late,
                max(max_lateness_seconds) as max_lateness_seconds,
                max(last_occurred_at) as last_occurred_at,
                max(last_received_at) as last_received_at
            from {_truth_of(published_home, "deliveries")}
            group by stream
        )
        select
            count(*) filter (where fct.stream is null or truth.stream is null),
            count(*) filter (where fct.event_count != truth.events),
            count(*) filter (where fct.delivery_count != truth.deliveries),
            count(*) filter (
                where fct.duplicate_delivery_count != truth.deliveries - truth.events
            ),
            count(*) filter (where fct.late_event_count != truth.late),
            count(*) filter (
                where fct.max_lateness_minutes != truth.max_lateness_seconds / 60.0
            ),
            count(*) filter (
                where fct.last_occurred_at != timezone('UTC', truth.last_occurred_at)
            ),
            count(*) filter (
                where fct.last_received_at != timezone('UTC', truth.last_received_at)
            ),
            count(*) filter (where truth.late > 0) - 7,
            count(*) filter (where truth.deliveries > truth.events) - 7
        from marts.fct_stream_freshness as fct
        full join truth on fct.stream = truth.stream
        """
    ).fetchone()
    _assert_none_differ(differences, checks, "all eight streams with late and redelivered events")


def test_daily_mart_adds_up_to_the_tickets(warehouse) -> None:
    created, solved, fct_created, fct_solved = warehouse.execute(
        """
        select
            (select sum(tickets_created_count) from marts.fct_support_daily),
            (select sum(tickets_solved_count) from marts.fct_support_daily),
            (select count(*) from marts.fct_tickets),
            (select count(*) from marts.fct_tickets where is_solved)
        """
    ).fetchone()
    assert (created, solved) == (fct_created, fct_solved)
    median_hours, expected = warehouse.execute(
        """
        select
            (select median_full_resolution_hours from marts.fct_support_daily
             where date_day = '2025-03-10'),
            (select median(full_resolution_calendar_minutes) / 60 from marts.fct_tickets
             where solved_date = '2025-03-10' and is_solved)
        """
    ).fetchone()
    assert median_hours == pytest.approx(expected)


def _assert_none_differ(differences, checks, present: str) -> None:
    """``differences``: a count of wrong rows per check, then counts of cases the fixture must
    have (``present`` says which), so that the checks are not vacuous."""
    wrong = dict(zip(checks, differences[: len(checks)], strict=True))
    assert set(wrong.values()) == {0}, wrong
    assert min(differences[len(checks) :]) > 0, present


def _truth_of(home: Home, name: str) -> str:
    return f"read_parquet('{home.truth}/{name}/*.parquet')"


def test_ticket_reopens_and_one_touch_match_the_truth(warehouse, published_home: Home) -> None:
    truth = _truth(published_home)
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.reopen_count != truth.reopen_count),
            count(*) filter (where fct.is_one_touch != truth.is_one_touch),
            count(*) filter (where fct.last_solved_at
                is distinct from timezone('UTC', truth.solved_at)),
            count(*) filter (where truth.reopen_count > 0)
        from marts.fct_tickets as fct
        inner join {truth} as truth using (ticket_id)
        """
    ).fetchone()
    assert differences[:3] == (0, 0, 0)
    assert differences[3] > 0, "the fixture's company reopens some tickets"


def test_status_times_match_the_truth(warehouse, published_home: Home) -> None:
    # Requester wait (new, open, on hold), agent work (new, open), agent wait (pending) and
    # on-hold minutes up to the last solve, as the simulator's status timeline had them.
    measures = (
        "requester_wait_calendar_minutes",
        "agent_work_calendar_minutes",
        "agent_wait_calendar_minutes",
        "on_hold_calendar_minutes",
    )
    mismatches = ", ".join(
        f"count(*) filter (where (fct.{m} is null) != (truth.{m} is null) "
        f"or abs(fct.{m} - truth.{m}) >= 1e-6)"
        for m in measures
    )
    differences = warehouse.execute(
        f"""
        select
            {mismatches},
            count(*) filter (where truth.agent_wait_calendar_minutes > 0),
            count(*) filter (where truth.on_hold_calendar_minutes > 0)
        from marts.fct_tickets as fct
        inner join {_truth(published_home)} as truth using (ticket_id)
        """
    ).fetchone()
    _assert_none_differ(
        differences, measures, "the fixture's tickets wait on customers and go on hold"
    )


def test_conversations_match_the_truth(warehouse, published_home: Home) -> None:
    # Each chat conversation's bot outcome, hand-offs, messages and waits, as the simulator
    # emitted them (the fixture's chatbot goes live mid-window: bot and human conversations).
    truth = _truth_of(published_home, "conversations")
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.conversation_id is null or truth.conversation_id is null),
            count(*) filter (where fct.is_bot_resolved_confirmed
                != coalesce(truth.bot_resolution_type = 'confirmed', false)),
            count(*) filter (where fct.is_bot_resolved_assumed
                != coalesce(truth.bot_resolution_type = 'assumed', false)),
            count(*) filter (where fct.handoff_count != truth.handoff_count
                or fct.agent_message_count != truth.agent_message_count
                or fct.customer_message_count != truth.customer_message_count),
            count(*) filter (where fct.started_at != timezone('UTC', truth.started_at)
                or fct.closed_at is distinct from timezone('UTC', truth.closed_at)
                or fct.first_answer_wait_minutes is distinct from
                    date_diff('second', truth.started_at, truth.first_answered_at) / 60.0),
            count(*) filter (where truth.bot_resolution_type = 'confirmed'),
            count(*) filter (where truth.bot_resolution_type = 'assumed'),
            count(*) filter (where truth.handoff_count > 0)
        from marts.fct_conversations as fct
        full join {truth} as truth using (conversation_id)
        """
    ).fetchone()
    checks = ("unmatched", "confirmed", "assumed", "hand-offs and messages", "times and waits")
    _assert_none_differ(
        differences, checks, "bot-confirmed, bot-assumed and handed-off conversations"
    )


def test_onboarding_matches_the_truth(warehouse, published_home: Home) -> None:
    # Every milestone each account reached, and its days since the account was created (the
    # truth's account_created milestone): time to value is the final one's.
    truth = _truth_of(published_home, "onboarding")
    unmatched, wrong_days, negative, rows = warehouse.execute(
        f"""
        with truth as (
            select
                *,
                min(reached_at) filter (where milestone = 'account_created')
                    over (partition by customer_id) as created_at
            from {truth}
        )
        select
            count(*) filter (where fct.customer_id is null or truth.customer_id is null),
            count(*) filter (where abs(fct.days_since_start
                - date_diff('second', truth.created_at, truth.reached_at) / 86400.0) >= 1e-9),
            count(*) filter (where fct.days_since_start < 0),
            count(*)
        from marts.fct_onboarding as fct
        full join truth
            on fct.customer_id = truth.customer_id
            and fct.milestone = truth.milestone
            and fct.reached_at = timezone('UTC', truth.reached_at)
        """
    ).fetchone()
    assert rows > 50
    assert (unmatched, wrong_days, negative) == (0, 0, 0)


def test_mrr_matches_the_truth_to_the_cent(warehouse, published_home: Home) -> None:
    truth = _truth_of(published_home, "mrr_monthly")
    unmatched, wrong, rows = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.customer_id is null or truth.customer_id is null),
            count(*) filter (where fct.mrr_amount != truth.mrr_amount_eur),
            count(*)
        from (select * from marts.fct_mrr_monthly where mrr_amount > 0) as fct
        full join (select * from {truth} where mrr_amount_eur > 0) as truth
            on fct.customer_id = truth.customer_id
            and fct.month_start_date = truth.month_start_date
        """
    ).fetchone()
    assert rows > 50
    assert (unmatched, wrong) == (0, 0)
    # Movements add up to the change in total MRR, month by month.
    assert warehouse.execute(
        """
        select count(*) from (
            select month_start_date, sum(mrr_movement_amount) as moved,
                sum(mrr_amount) - sum(previous_mrr_amount) as changed
            from marts.fct_mrr_monthly group by month_start_date
        ) where moved != changed
        """
    ).fetchone() == (0,)


def test_churn_matches_the_truth(warehouse, published_home: Home) -> None:
    truth = _truth_of(published_home, "churn")
    unmatched, churns = warehouse.execute(
        f"""
        select count(*) filter (where fct.customer_id is null or truth.customer_id is null),
            count(*)
        from marts.fct_customer_churn as fct
        full join {truth} as truth
            on fct.customer_id = truth.customer_id
            and fct.churned_at = timezone('UTC', truth.churned_at)
        """
    ).fetchone()
    assert churns > 0
    assert unmatched == 0


class MrrSeries:
    """Each customer's MRR at each month's end from ``truth/mrr_monthly`` (a month the truth
    does not list is zero), classified and rolled up in Python, apart from the marts' SQL."""

    MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation")

    def __init__(self, rows) -> None:
        months = sorted({month for _, month, _ in rows})
        mrr = defaultdict(dict)
        for customer, month, amount in rows:
            mrr[customer][month] = amount
        # One row per customer and month from its first month with MRR, while it has MRR or
        # had some the month before: (movement, amount, previous, MRR).
        self.rows = {}
        for customer, amounts in mrr.items():
            paying = [month for month in months if amounts.get(month, 0) > 0]
            if not paying:
                continue
            previous, had_mrr = Decimal(0), False
            for month in months[months.index(paying[0]) :]:
                amount = amounts.get(month, Decimal(0))
                if amount > 0 or previous > 0:
                    self.rows[customer, month] = (
                        self._movement(amount, previous, had_mrr),
                        amount - previous,
                        previous,
                        amount,
                    )
                had_mrr = had_mrr or amount > 0
                previous = amount

    @staticmethod
    def _movement(amount: Decimal, previous: Decimal, had_mrr: bool) -> str:
        if previous == 0 and amount > 0:
            return "reactivation" if had_mrr else "new"
        if previous > 0 and amount == 0:
            return "churn"
        if amount != previous:
            return "expansion" if amount > previous else "contraction"
        return "unchanged"

    def bridge(self) -> dict:
        """Per month: opening and closing MRR, each movement's amount, opening, new,
        reactivated, churned and closing customers."""
        months = defaultdict(lambda: defaultdict(Decimal))
        for (_, month), (movement, moved, previous, amount) in self.rows.items():
            row = months[month]
            row["opening_mrr_amount"] += previous
            row["closing_mrr_amount"] += amount
            if movement in self.MOVEMENTS:
                row[f"{movement}_mrr_amount"] += moved
            row["opening_customer_count"] += previous > 0
            row["closing_customer_count"] += amount > 0
            row["new_customer_count"] += movement == "new"
            row["reactivated_customer_count"] += movement == "reactivation"
            row["churned_customer_count"] += movement == "churn"
        return months

    def cohorts(self) -> dict:
        """Per sign-up cohort (the month of a customer's first MRR) and month: the cohort's
        customers, those still paying and their MRR."""
        cohort_of = {
            customer: month
            for (customer, month), (movement, *_) in sorted(self.rows.items(), reverse=True)
            if movement == "new"
        }
        sizes = defaultdict(int)
        for cohort in cohort_of.values():
            sizes[cohort] += 1
        cells = defaultdict(lambda: [0, 0, Decimal(0)])
        for (customer, month), (*_, amount) in self.rows.items():
            cohort = cohort_of[customer]
            cell = cells[cohort, month]
            cell[0] = sizes[cohort]
            cell[1] += amount > 0
            cell[2] += amount
        return {key: tuple(cell) for key, cell in cells.items()}


def test_revenue_marts_match_the_truth(warehouse, published_home: Home) -> None:
    # Every customer-month's movement, the monthly MRR bridge and the cohorts, from the
    # truth's MRR series: the movements and rates stand on more than the MRR amounts.
    truth = MrrSeries(
        warehouse.execute(
            f"""select customer_id, month_start_date, mrr_amount_eur
            from {_truth_of(published_home, "mrr_monthly")}"""
        ).fetchall()
    )
    built = {
        (customer, month): (movement, moved, previous, amount)
        for customer, month, movement, moved, previous, amount in warehouse.execute(
            """select customer_id, month_start_date, mrr_movement, mrr_movement_amount,
                previous_mrr_amount, mrr_amount
            from marts.fct_mrr_monthly"""
        ).fetchall()
    }
    assert built == truth.rows
    movements = {movement for movement, *_ in truth.rows.values()}
    assert {"new", "expansion", "churn", "unchanged"} <= movements, movements

    expected = truth.bridge()
    columns = list(next(iter(expected.values())))
    bridge = warehouse.execute(
        f"""select month_start_date, {", ".join(columns)}, gross_revenue_retention,
            net_revenue_retention, logo_churn_rate
        from marts.fct_mrr_movements_monthly order by month_start_date"""
    ).fetchall()
    assert [row[0] for row in bridge] == sorted(expected)
    for month, *values, grr, nrr, logo_churn in bridge:
        want = expected[month]
        assert dict(zip(columns, values, strict=True)) == {
            column: want[column] for column in columns
        }, month
        opening = want["opening_mrr_amount"]
        if opening:
            kept = opening + want["churn_mrr_amount"] + want["contraction_mrr_amount"]
            assert grr == pytest.approx(float(kept / opening))
            assert nrr == pytest.approx(float((kept + want["expansion_mrr_amount"]) / opening))
            assert logo_churn == pytest.approx(
                float(want["churned_customer_count"] / want["opening_customer_count"])
            )

    cohorts = warehouse.execute(
        """select cohort_month_start_date, month_start_date, cohort_customer_count,
            active_customer_count, mrr_amount
        from marts.fct_cohort_retention"""
    ).fetchall()
    assert {(cohort, month): tuple(cell) for cohort, month, *cell in cohorts} == truth.cohorts()
    assert len(cohorts) >= 3


def _folded_versions(changes) -> tuple[list[tuple], int]:
    """A type-2 history from ``changes``, rows of (key, instant, *attributes) in order: a null
    attribute leaves it as it was and a change that changes nothing starts no version. Returns
    (key, valid from, valid to, *attributes, first instant) per version, and how many keys
    have more than one version."""
    versions = defaultdict(list)
    for key, at, *values in changes:
        held = versions[key][-1][1] if versions[key] else (None,) * len(values)
        now = tuple(
            held if value is None else value for value, held in zip(values, held, strict=True)
        )
        if not versions[key] or now != held:
            versions[key].append((at, now))
    rows = [
        (
            key,
            dt.datetime(1900, 1, 1) if number == 0 else at,
            history[number + 1][0] if number + 1 < len(history) else None,
            *values,
            history[0][0],
        )
        for key, history in sorted(versions.items())
        for number, (at, values) in enumerate(history)
    ]
    return rows, sum(len(history) > 1 for history in versions.values())


def _assert_versions_match(
    warehouse, truth: str, first_event: str, values: str, dimension: str, columns: str
) -> tuple[int, int]:
    """``dimension``'s rows (key, valid from, valid to, ``columns``) equal the history folded
    from ``truth``'s events (key, instant, ``values``; ``first_event`` first on a tie).
    Returns the versions and the keys with more than one."""
    key = columns.split(",")[0]
    expected, changed = _folded_versions(
        warehouse.execute(
            f"""
            select {key}, timezone('UTC', changed_at), {values}
            from {truth}
            order by {key}, changed_at, event_type != '{first_event}'
            """
        ).fetchall()
    )
    built = warehouse.execute(
        f"""
        select {key}, valid_from_at, valid_to_at, {columns.split(",", 1)[1]}
        from marts.{dimension}
        where {key} in (select {key} from {truth})
        order by {key}, version_number
        """
    ).fetchall()
    assert built == expected
    return len(expected), changed


def test_customer_versions_match_the_truth(warehouse, published_home: Home) -> None:
    # The customer dimension's history: a version per change of attributes (an upgrade moves
    # the account up a size band; one already at the top changes nothing), each attribute
    # carried forward from the simulator's customer.created and customer.updated events.
    attributes = "company_name, segment, region, country, size_band"
    _, changed = _assert_versions_match(
        warehouse,
        _truth_of(published_home, "customer_changes"),
        "customer.created",
        attributes,
        "dim_customers",
        f"customer_id, {attributes}, customer_created_at",
    )
    assert changed >= 2, "size-band changes"


def test_agent_versions_match_the_truth(warehouse, published_home: Home) -> None:
    # The agent dimension's history: hired, then a version when the agent leaves; the shifts
    # name each agent's team again and start no version.
    versions, _ = _assert_versions_match(
        warehouse,
        _truth_of(published_home, "agent_changes"),
        "agent.hired",
        "team_id, agent_name, skills, timezone, "
        "case when event_type = 'agent.left' then timezone('UTC', changed_at) end",
        "dim_agents",
        "agent_id, team_id, agent_name, skills, time_zone, left_at, hired_at",
    )
    assert versions >= 10


def test_invoices_match_the_truth(warehouse, published_home: Home) -> None:
    # Every invoice: its customer, issue, payment, dunning and refunds, amounts to the cent.
    truth = _truth_of(published_home, "invoices")
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.invoice_id is null or truth.invoice_id is null),
            count(*) filter (where fct.customer_id != truth.customer_id
                or fct.issued_at is distinct from timezone('UTC', truth.issued_at)
                or fct.paid_at is distinct from timezone('UTC', truth.paid_at)),
            count(*) filter (where fct.invoiced_amount != truth.invoiced_amount
                or fct.paid_amount != truth.paid_amount
                or fct.refunded_amount != truth.refunded_amount),
            count(*) filter (where fct.failed_payment_count != truth.failed_payment_count),
            count(*) filter (where fct.invoice_status != case
                when truth.refunded_amount > 0 then 'refunded'
                when truth.paid_at is not null then 'paid'
                when truth.failed_payment_count > 0 then 'failing'
                else 'open' end),
            count(*) filter (where truth.refunded_amount > 0),
            count(*) filter (where truth.failed_payment_count > 0),
            count(*) filter (where truth.paid_at is null)
        from marts.fct_invoices as fct
        full join {truth} as truth using (invoice_id)
        """
    ).fetchone()
    checks = ("unmatched", "customer and times", "amounts", "failed payments", "status")
    _assert_none_differ(differences, checks, "refunded, dunned and unpaid invoices")


def test_survey_responses_match_the_truth(warehouse, published_home: Home) -> None:
    # Every response: its survey, score, customer, ticket, the instant it was given, and the
    # agent and team named on it (none for NPS, which is about the relationship).
    truth = _truth_of(published_home, "survey_responses")
    checks = ("unmatched", "score", "type", "customer", "ticket", "responded", "agent", "team")
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.response_id is null or truth.survey_id is null),
            count(*) filter (where fct.score != truth.score),
            count(*) filter (where fct.survey_type != truth.survey_type),
            count(*) filter (where fct.customer_id != truth.customer_id),
            count(*) filter (where fct.ticket_id is distinct from truth.ticket_id),
            count(*) filter (where fct.responded_at != timezone('UTC', truth.responded_at)),
            count(*) filter (where fct.agent_id != coalesce(truth.agent_id, '-1')),
            count(*) filter (where fct.team_id != coalesce(truth.team_id, '-1')),
            count(*) filter (where truth.survey_type = 'nps'),
            count(*) filter (where truth.agent_id is not null) - 20
        from marts.fct_survey_responses as fct
        full join {truth} as truth on fct.response_id = truth.survey_id
        """
    ).fetchone()
    _assert_none_differ(differences, checks, "NPS responses, and over 20 about tickets")


def test_unsolved_ages_count_to_the_warehouse_end_not_today(warehouse) -> None:
    unsolved, ages, as_of = warehouse.execute(
        """
        select
            (select count(*) from marts.fct_tickets
             where current_status in ('new', 'open', 'pending', 'on_hold')),
            (select count(*) from marts.fct_unsolved_ticket_ages as ages
             inner join marts.fct_tickets as tickets using (ticket_id)
             where ages.team_id is not distinct from tickets.team_id
                 and ages.current_team_id is not distinct from tickets.current_team_id
                 and ages.assignee_agent_id is not distinct from tickets.assignee_agent_id
                 and abs(ages.age_hours
                     - date_diff('second', tickets.created_at, ages.as_of_at) / 3600.0) < 1e-9),
            (select max(as_of_at) = (select max(greatest(last_received_at, created_at))
                                     from marts.fct_tickets)
             from marts.fct_unsolved_ticket_ages)"""
    ).fetchone()
    assert unsolved > 0 and ages == unsolved and as_of
    # The simulated history ends in 2025: counted from today, every ticket would be over 30
    # days old (band 5); counted to the warehouse's end, the backlog is recent, as the
    # simulated help desk leaves no ticket unsolved for ever.
    (oldest, bands) = warehouse.execute(
        "select max(age_hours), list(distinct age_band) from marts.fct_unsolved_ticket_ages"
    ).fetchone()
    assert oldest < 30 * 24 and "5: over 30 days" not in bands


def test_automatic_resolutions_are_the_rule_firings_that_solved_a_ticket(warehouse) -> None:
    # The rule that closes solved tickets four days on resolves nothing; the rule that solves
    # a ticket waiting on a silent customer resolves one with every firing.
    firings = {
        rule: (fired, resolved)
        for rule, fired, resolved in warehouse.execute(
            """
            select automation_id, count(*), count(*) filter (where is_automatic_resolution)
            from marts.fct_automation_actions
            where action_type = 'rule'
            group by automation_id"""
        ).fetchall()
    }
    closing_fired, closing_resolved = firings["rule_close_solved_after_4_days"]
    assert closing_fired > 0 and closing_resolved == 0
    stale_fired, stale_resolved = firings["rule_solve_pending_after_7_days"]
    assert stale_fired > 0 and stale_resolved == stale_fired


def test_automation_actions_match_the_truth(warehouse, published_home: Home) -> None:
    # Every day's applications of each macro and firings of each rule, and the automatic
    # resolutions: the solves no agent made, each at a rule's firing.
    differences = warehouse.execute(
        f"""
        with truth as (
            select
                activity_date,
                split_part(measure, ':', 1) as measure,
                split_part(measure, ':', 2) as automation_id,
                sum(value) as actions
            from {_truth_of(published_home, "daily")}
            where
                measure like 'macro_applied:%'
                or measure like 'rule_fired:%'
                or measure = 'automatic_resolutions'
            group by all
        ),
        fct as (
            select
                occurred_date as activity_date,
                case when action_type = 'macro' then 'macro_applied' else 'rule_fired' end
                    as measure,
                automation_id,
                count(*) as actions
            from marts.fct_automation_actions
            group by all
            union all
            select occurred_date, 'automatic_resolutions', '', count(*)
            from marts.fct_automation_actions
            where is_automatic_resolution
            group by all
        )
        select
            count(*) filter (where fct.actions is null or truth.actions is null),
            count(*) filter (where fct.actions != truth.actions),
            count(distinct truth.automation_id) filter (where truth.measure = 'macro_applied')
                - 3,
            count(distinct truth.automation_id) filter (where truth.measure = 'rule_fired') - 3,
            sum(truth.actions) filter (where truth.measure = 'automatic_resolutions')
        from fct
        full join truth using (activity_date, measure, automation_id)
        """
    ).fetchone()
    _assert_none_differ(
        differences,
        ("unmatched days and actions", "counts"),
        "every macro and rule in use, and automatic resolutions",
    )


def _daily_truth(home: Home, measures: dict[str, str], keys: str) -> str:
    """truth/daily's ``measures`` (truth name: mart column) summed per ``keys``, as SQL."""
    sums = ", ".join(
        f"sum(value) filter (where measure = '{name}') as {column}"
        for name, column in measures.items()
    )
    names = ", ".join(f"'{name}'" for name in measures)
    return (
        f"(select {keys}, {sums} from {_truth_of(home, 'daily')} "
        f"where measure in ({names}) group by {keys})"
    )


def _mismatches(columns) -> str:
    return ", ".join(
        f"count(*) filter (where abs(coalesce(fct.{c}, 0) - coalesce(truth.{c}, 0)) >= 1e-6)"
        for c in columns
    )


def test_backlog_matches_the_truth(warehouse, published_home: Home) -> None:
    # The simulator's status timeline gives each day's backlog changes: the backlog at a
    # day's end is their running sum, from the first simulated day (nothing before it).
    flows = {
        "tickets_created": "tickets_created_count",
        "tickets_reopened": "tickets_reopened_count",
        "tickets_solved": "tickets_solved_count",
        "backlog_change": "backlog_change",
    }
    truth = _daily_truth(published_home, flows, "activity_date")
    differences = warehouse.execute(
        f"""
        with days as (
            select cast(date_day as date) as date_day
            from generate_series(
                (select min(date_day) from marts.fct_backlog_daily),
                (select max(date_day) from marts.fct_backlog_daily),
                interval 1 day
            ) as spine(date_day)
        ),
        truth as (
            select
                days.date_day,
                daily.tickets_created_count,
                daily.tickets_reopened_count,
                daily.tickets_solved_count,
                sum(coalesce(daily.backlog_change, 0)) over (order by days.date_day)
                    as backlog_count
            from days
            left join {truth} as daily on daily.activity_date = days.date_day
        )
        select
            count(*) filter (where fct.date_day is null or truth.date_day is null),
            {_mismatches(["backlog_count", *list(flows.values())[:3]])},
            (select count(*) from {truth} where activity_date not in
                (select date_day from marts.fct_backlog_daily)),
            sum(truth.tickets_reopened_count),
            max(truth.backlog_count)
        from marts.fct_backlog_daily as fct
        full join truth using (date_day)
        """
    ).fetchone()
    checks = ("unmatched days", "backlog", "created", "reopened", "solved", "days outside")
    assert differences[:6] == (0,) * 6, dict(zip(checks, differences, strict=False))
    assert differences[6] > 0 and differences[7] > 5, "reopens, and a backlog to count"


def test_team_backlogs_match_the_truth(warehouse, published_home: Home) -> None:
    # Per owning team: an escalation moves the ticket to tier 2's backlog when it happens.
    truth = _daily_truth(
        published_home, {"backlog_change": "backlog_change"}, "team_id, activity_date"
    )
    differences = warehouse.execute(
        f"""
        with truth as (
            select
                fct.team_id,
                fct.date_day,
                sum(coalesce(daily.backlog_change, 0)) over (
                    partition by fct.team_id order by fct.date_day
                ) as backlog_count
            from marts.fct_team_backlog_daily as fct
            left join {truth} as daily
                on daily.team_id = fct.team_id and daily.activity_date = fct.date_day
        )
        select
            {_mismatches(["backlog_count"])},
            (select count(*) from {truth} as daily where not exists (
                select 1 from marts.fct_team_backlog_daily as fct
                where fct.team_id = daily.team_id and fct.date_day = daily.activity_date)),
            count(distinct fct.team_id) filter (where fct.backlog_count > 0),
            (select min(date_day) from marts.fct_team_backlog_daily)
                = (select min(activity_date) from {truth})
        from marts.fct_team_backlog_daily as fct
        inner join truth using (team_id, date_day)
        """
    ).fetchone()
    assert differences[:2] == (0, 0), differences
    assert differences[2] >= 3 and differences[3], "teams with backlogs, from the first day"


AGENT_MEASURES = {
    "public_replies": "public_reply_count",
    "tickets_replied": "tickets_replied_count",
    "agent_solves": "tickets_solved_count",
    "agent_solve_work_minutes": "solve_work_minutes",
    "agent_solves_reopened": "solves_reopened_count",
    "csat_responses": "csat_response_count",
    "csat_satisfied": "csat_satisfied_count",
    "scheduled_minutes": "scheduled_minutes",
    "occupied_minutes": "occupied_minutes",
}


def _assert_mart_matches_daily_truth(
    warehouse, home: Home, mart: str, keys: str, measures: dict[str, str], ratios=()
) -> None:
    """Every row of ``mart`` (per ``keys``) against truth/daily's ``measures``, exactly: no
    row on one side only, no measure off, each measure present in the fixture; ``ratios``
    (column, numerator, denominator) are checked against the truth's ratio (null: none)."""
    truth = _daily_truth(home, measures, keys)
    columns = list(measures.values())
    first_key = keys.split(",")[0].strip()
    ratio_checks = "".join(
        f"count(*) filter (where abs(coalesce(fct.{column}, -1) - coalesce("
        f"truth.{numerator} / nullif(truth.{denominator}, 0), -1)) >= 1e-6),"
        for column, numerator, denominator in ratios
    )
    differences = warehouse.execute(
        f"""
        select
            count(*) filter (where fct.{first_key} is null or truth.{first_key} is null),
            {_mismatches(columns)},
            {ratio_checks}
            {", ".join(f"sum(truth.{c})" for c in columns)}
        from marts.{mart} as fct
        full join {truth} as truth using ({keys})
        """
    ).fetchone()
    checks = ["unmatched rows", *columns, *(column for column, _, _ in ratios)]
    wrong = dict(zip(checks, differences, strict=False))
    assert set(wrong.values()) == {0}, wrong
    totals = dict(zip(columns, differences[len(checks) :], strict=True))
    assert min(totals.values()) > 0, f"every measure happens in the fixture: {totals}"


def test_agent_days_match_the_truth(warehouse, published_home: Home) -> None:
    # Every agent-day's replies, solves (by the agent of the latest assignment, tier 2's
    # after an escalation), reopens of those solves, CSAT, shifts and busy time.
    _assert_mart_matches_daily_truth(
        warehouse,
        published_home,
        "fct_agent_daily",
        "agent_id, activity_date",
        AGENT_MEASURES,
        ratios=(
            ("average_handle_minutes", "occupied_minutes", "tickets_replied_count"),
            ("occupancy_rate", "occupied_minutes", "scheduled_minutes"),
            ("average_solve_work_minutes", "solve_work_minutes", "tickets_solved_count"),
        ),
    )
    # Backlog owned at each of the agent's days' end: the running sum of its changes (an
    # unsolved ticket is the agent's from an event naming the agent to one naming another).
    truth = _daily_truth(
        published_home, {"agent_backlog_change": "backlog_change"}, "agent_id, activity_date"
    )
    wrong, owned = warehouse.execute(
        f"""
        with owned as (
            select
                fct.agent_id,
                fct.activity_date,
                fct.backlog_owned_count,
                coalesce(sum(truth.backlog_change), 0) as truth_count
            from marts.fct_agent_daily as fct
            left join {truth} as truth
                on truth.agent_id = fct.agent_id and truth.activity_date <= fct.activity_date
            group by all
        )
        select
            count(*) filter (where abs(backlog_owned_count - truth_count) >= 1e-6),
            count(*) filter (where truth_count > 0)
        from owned
        """
    ).fetchone()
    assert wrong == 0 and owned > 100, (wrong, owned)


KB_MEASURES = {
    "article_views": "article_view_count",
    "searches": "search_count",
    "zero_result_searches": "zero_result_search_count",
    "helpful_votes": "helpful_vote_count",
    "unhelpful_votes": "unhelpful_vote_count",
    "kb_sessions": "kb_session_count",
}


def test_kb_activity_matches_the_truth(warehouse, published_home: Home) -> None:
    _assert_mart_matches_daily_truth(
        warehouse, published_home, "fct_kb_activity", "activity_date", KB_MEASURES
    )
    # Distinct customers: signed-in knowledge-base users, and customers who created a ticket,
    # and the self-service score, their ratio.
    wrong, days, score = warehouse.execute(
        f"""
        with customers as (
            select
                activity_date,
                count(distinct customer_id) filter (where measure = 'kb_customers') as kb,
                count(distinct customer_id) filter (where measure = 'ticket_customers') as asked
            from {_truth_of(published_home, "daily")}
            where measure in ('kb_customers', 'ticket_customers')
            group by activity_date
        )
        select
            count(*) filter (where fct.kb_customer_count != coalesce(truth.kb, 0)
                or fct.ticket_customer_count != coalesce(truth.asked, 0)
                or abs(coalesce(fct.self_service_score, -1)
                    - coalesce(truth.kb / nullif(truth.asked, 0), -1)) >= 1e-9),
            count(*),
            sum(truth.kb) / sum(truth.asked)
        from marts.fct_kb_activity as fct
        left join customers as truth using (activity_date)
        """
    ).fetchone()
    assert wrong == 0 and days > 30 and score > 0, (wrong, days, score)
