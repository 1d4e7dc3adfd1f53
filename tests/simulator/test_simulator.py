"""The simulator is deterministic, per-day independent, and its truth matches its events."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from servops.events import STREAMS, build_table
from servops.lake import SMALL_FILE_ROWS, write_batch
from simulator.columns import coded, strings, take
from simulator.config import SimulationConfig, SimulationConfigError
from simulator.events.finish import build_stream
from simulator.run import LakeConflictError, generate_day, simulate, simulate_days
from simulator.timeline import build_world

CONFIG = SimulationConfig(seed=3, customers=150, days=12, start=dt.date(2025, 3, 28), defects=0.1)
# A company big enough for its causal links to show, with every known effect injected.
EFFECTS = SimulationConfig(
    seed=11,
    customers=3000,
    days=150,
    start=dt.date(2025, 1, 1),
    chatbot_launch_date=dt.date(2025, 4, 1),
    incident_date=dt.date(2025, 2, 12),
    staffing_cut_date=dt.date(2025, 3, 3),
    price_change_date=dt.date(2025, 2, 1),
)


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in {".parquet", ".jsonl"}
    }


@pytest.fixture(scope="module")
def effects_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lake = tmp_path_factory.mktemp("effects") / "lake"
    simulate(EFFECTS, lake)
    return lake


def _events(lake: Path, stream: str) -> str:
    return f"read_parquet('{lake}/raw/{stream}/*/*.parquet', hive_partitioning = true)"


def test_same_seed_gives_the_same_bytes_whatever_the_worker_count(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path / "a" / "lake", chunk_size=4, workers=1)
    simulate(CONFIG, tmp_path / "b" / "lake", chunk_size=4, workers=2)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first and first == second
    assert any(name.endswith(".jsonl") for name in first), "defects write malformed records"
    assert {name.split("/")[-1] for name in first if "/raw/ticket/" in name} == {
        "sim-3-00000-00003.parquet",
        "sim-3-00004-00007.parquet",
        "sim-3-00008-00011.parquet",
    }


def test_another_seed_gives_other_events(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path / "a")
    other = dataclasses.replace(CONFIG, seed=4)
    simulate(other, tmp_path / "b")
    assert _files(tmp_path / "a") != _files(tmp_path / "b")


def test_any_day_regenerates_alone(tmp_path: Path) -> None:
    world = build_world(CONFIG)
    day_five = generate_day(world, 5)
    generate_day(world, 2)
    again = generate_day(world, 5)
    for stream, parts in day_five.tables.items():
        assert build_stream(stream, parts).equals(build_stream(stream, again.tables[stream]))
    assert not build_stream("ticket", day_five.tables["ticket"]).equals(
        build_stream("ticket", generate_day(world, 6).tables["ticket"])
    )
    # Written alone, a day gives the same files (its chunk's) whatever else was written.
    simulate_days(CONFIG, tmp_path / "a", [5], chunk_size=4)
    simulate_days(CONFIG, tmp_path / "b", [3, 5, 9], chunk_size=4)
    alone = _files(tmp_path / "a")
    among = {k: v for k, v in _files(tmp_path / "b").items() if "00004-00007" in k}
    assert {k for k in alone if "sim-" in k} == set(among)
    assert among and all(alone[k] == v for k, v in among.items())


def test_simulate_and_simulate_days_write_the_same_files(tmp_path: Path) -> None:
    """A day regenerated alone rewrites the files a whole-window run wrote, byte for byte."""
    whole = simulate(CONFIG, tmp_path / "lake", chunk_size=5)
    before = _files(tmp_path)
    again = simulate_days(CONFIG, tmp_path / "lake", [6], chunk_size=5)
    assert _files(tmp_path) == before
    assert 0 < again.events < whole.events
    days = simulate_days(CONFIG, tmp_path / "days" / "lake", range(CONFIG.days), chunk_size=5)
    assert days.events == whole.events
    assert _files(tmp_path / "days") == before
    # Another grid replaces the old chunks' files instead of duplicating their events.
    simulate(CONFIG, tmp_path / "lake", chunk_size=CONFIG.days)
    names = {Path(name).stem for name in _files(tmp_path) if not name.startswith("days/")}
    assert {name for name in names if name.startswith("sim-")} == {"sim-3-00000-00011"}
    raw = sum(
        duckdb.execute(f"select count(*) from {_events(tmp_path / 'lake', s)}").fetchone()[0]
        for s in STREAMS
    )
    assert raw == whole.events


def test_rerun_is_idempotent_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path)
    before = _files(tmp_path)
    simulate(CONFIG, tmp_path)
    assert _files(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]


def test_lake_with_another_simulation_is_refused_unless_replaced(tmp_path: Path) -> None:
    simulate(CONFIG, tmp_path)
    other = dataclasses.replace(CONFIG, days=5)
    with pytest.raises(LakeConflictError, match="--replace"):
        simulate(other, tmp_path)
    simulate(other, tmp_path, replace=True)
    days = duckdb.execute(
        f"select count(distinct ticket_id[2:6]) from '{tmp_path}/raw/ticket/*/*.parquet'"
    ).fetchone()[0]
    assert days == 5


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("customers", 0, "--customers"),
        ("days", -1, "--days"),
        ("defects", 0.9, "--defects"),
        ("seed", -3, "--seed"),
    ],
)
def test_bad_settings_are_named(setting: str, value: object, message: str) -> None:
    with pytest.raises(SimulationConfigError, match=message):
        SimulationConfig(**{setting: value})


def test_every_stream_and_event_type_is_present(effects_lake: Path) -> None:
    for stream, spec in STREAMS.items():
        found = {
            row[0]
            for row in duckdb.execute(
                f"select distinct event_type from {_events(effects_lake, stream)}"
            ).fetchall()
        }
        assert found == set(spec.event_types), stream
        # Event files carry no serialized Arrow schema: Parquet's own types must give the
        # contract's schema back exactly (types, UTC timestamps, required envelope columns).
        for path in (effects_lake / "raw" / stream).glob("*/*.parquet"):
            assert pq.read_schema(path).equals(spec.schema, check_metadata=False), path
    statuses = {
        row[0]
        for row in duckdb.execute(
            f"select distinct status from {_events(effects_lake, 'ticket')} "
            "where status is not null"
        ).fetchall()
    }
    assert statuses == {"new", "open", "pending", "on_hold", "solved", "closed"}


def test_events_are_in_their_partition_and_inside_the_window(effects_lake: Path) -> None:
    for stream in STREAMS:
        misplaced, outside = duckdb.execute(
            f"select count(*) filter (cast(timezone('UTC', occurred_at) as date) != event_date), "
            f"count(*) filter (occurred_at >= timestamptz '{EFFECTS.end} 00:00:00+00' "
            f"or occurred_at < timestamptz '{EFFECTS.start} 00:00:00+00') "
            f"from {_events(effects_lake, stream)}"
        ).fetchone()
        assert (misplaced, outside) == (0, 0), stream
        # Generated in time order, so the lake writer keeps the rows' order instead of sorting.
        unordered = duckdb.execute(
            "select count(*) from (select occurred_at < lag(occurred_at) over ("
            "partition by filename order by file_row_number) as is_back "
            f"from read_parquet('{effects_lake}/raw/{stream}/*/*.parquet', "
            "filename = true, file_row_number = true)) where is_back"
        ).fetchone()[0]
        assert unordered == 0, stream


def test_no_ticket_stays_unsolved_for_ever(effects_lake: Path) -> None:
    # A help desk closes what it will not answer and solves what waits on a silent customer:
    # the backlog at the end is recent (weeks at the most, through the staffing cut's waits),
    # not every month's leftovers piling up.
    old_unsolved, old, closed_unreplied, auto_solved = duckdb.execute(
        f"""
        with tickets as (
            select
                ticket_id,
                min(occurred_at) as created_at,
                arg_max(status, occurred_at) filter (status is not null) as status,
                count(*) filter (author_type = 'agent' and is_public) as replies,
                count(*) filter (event_type = 'ticket.merged') as merges
            from {_events(effects_lake, "ticket")}
            group by ticket_id
        )
        select
            count(*) filter (status not in ('solved', 'closed')),
            count(*),
            count(*) filter (status = 'closed' and replies = 0 and merges = 0),
            (select count(*) from {_events(effects_lake, "ticket")}
             where automation_rule_id = 'rule_solve_pending_after_7_days')
        from tickets
        where created_at < (select max(occurred_at) - interval 45 days
                            from {_events(effects_lake, "ticket")})
        """
    ).fetchone()
    assert old > 5_000 and old_unsolved == 0
    assert closed_unreplied > 0.01 * old and auto_solved > 0.03 * old


def test_lake_writer_sorts_only_rows_out_of_time_order(tmp_path: Path) -> None:
    def at(*hours: int) -> list[dt.datetime]:
        return [dt.datetime(2025, 1, 1, hour, tzinfo=dt.UTC) for hour in hours]

    def table(ids: list[str], hours: tuple[int, ...]) -> pa.Table:
        return build_table(
            "kb",
            {
                "event_id": ids,
                "event_type": ["kb.article_viewed"] * 3,
                "schema_version": [1] * 3,
                "occurred_at": at(*hours),
                "received_at": at(*hours),
                "source": ["test"] * 3,
            },
        )

    written = {}
    for name, rows in (
        ("ordered", table(["c", "b", "a"], (1, 2, 2))),
        ("mixed", table(["c", "b", "a"], (2, 1, 2))),
    ):
        (path,) = write_batch(tmp_path, "kb", rows, name)
        written[name] = pq.read_table(path).column("event_id").to_pylist()
    assert written == {"ordered": ["c", "b", "a"], "mixed": ["b", "a", "c"]}
    statistics = pq.read_metadata(path).row_group(0)
    with_min_max = {
        statistics.column(i).path_in_schema
        for i in range(statistics.num_columns)
        if statistics.column(i).statistics is not None
        and statistics.column(i).statistics.has_min_max
    }
    assert {"event_type", "occurred_at", "received_at"} <= with_min_max
    assert "event_id" not in with_min_max


def test_lake_writer_compresses_small_files_with_snappy_and_larger_with_zstd(
    tmp_path: Path,
) -> None:
    day = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

    def table(rows: int) -> pa.Table:
        return build_table(
            "kb",
            {
                "event_id": [f"e{i}" for i in range(rows)],
                "event_type": ["kb.article_viewed"] * rows,
                "schema_version": [1] * rows,
                "occurred_at": [day + dt.timedelta(seconds=i) for i in range(rows)],
                "received_at": [day + dt.timedelta(seconds=i) for i in range(rows)],
                "source": ["test"] * rows,
            },
        )

    codecs = {}
    for rows in (SMALL_FILE_ROWS - 1, SMALL_FILE_ROWS):
        (path,) = write_batch(tmp_path, "kb", table(rows), f"b{rows}")
        group = pq.read_metadata(path).row_group(0)
        codecs[rows] = {group.column(i).compression for i in range(group.num_columns)}
        assert pq.read_table(path).num_rows == rows
    assert codecs == {SMALL_FILE_ROWS - 1: {"SNAPPY"}, SMALL_FILE_ROWS: {"ZSTD"}}


def test_truth_agrees_with_the_events(tmp_path: Path) -> None:
    summary = simulate(CONFIG, tmp_path)
    events = _events(tmp_path, "ticket")
    truth = f"'{tmp_path}/truth/tickets/*.parquet'"
    raw = sum(
        duckdb.execute(f"select count(*) from {_events(tmp_path, s)}").fetchone()[0]
        for s in STREAMS
    )
    assert raw == summary.events
    ticket_raw, distinct, created = duckdb.execute(
        f"select count(*), count(distinct event_id), "
        f"count(distinct event_id) filter (event_type = 'ticket.created') from {events}"
    ).fetchone()
    assert ticket_raw > distinct, "defects=0.1 must redeliver some events"
    assert created == duckdb.execute(f"select count(*) from {truth}").fetchone()[0]
    # First reply = earliest public agent comment; solved = last solve; reopens counted.
    mismatched = duckdb.execute(
        f"""
        with deduplicated as (
            select * from {events} qualify row_number() over (
                partition by event_id order by received_at) = 1
        ),
        per_ticket as (
            select
                ticket_id,
                min(occurred_at) filter (event_type = 'ticket.commented'
                    and author_type = 'agent' and is_public) as first_reply,
                count(*) filter (event_type = 'ticket.commented'
                    and author_type = 'agent' and is_public) as replies,
                max(occurred_at) filter (event_type = 'ticket.status_changed'
                    and status = 'solved') as solved,
                count(*) filter (event_type = 'ticket.reopened') as reopens
            from deduplicated
            group by ticket_id
        )
        select count(*) from {truth} as truth
        left join per_ticket using (ticket_id)
        where truth.first_replied_at is distinct from per_ticket.first_reply
            or truth.solved_at is distinct from per_ticket.solved
            or truth.public_agent_reply_count != per_ticket.replies
            or truth.reopen_count != per_ticket.reopens
            or truth.is_one_touch != (per_ticket.solved is not null and per_ticket.replies <= 1)
        """
    ).fetchone()[0]
    assert mismatched == 0
    # Survey truth = the responses in the lake.
    responses = duckdb.execute(
        f"select count(distinct survey_id) from {_events(tmp_path, 'survey')} "
        "where event_type = 'survey.responded'"
    ).fetchone()[0]
    truth_surveys = duckdb.execute(
        f"select count(*) from '{tmp_path}/truth/survey_responses/*.parquet'"
    ).fetchone()[0]
    assert responses == truth_surveys > 0


def test_mrr_truth_is_the_replayed_billing_events(effects_lake: Path) -> None:
    billing = _events(effects_lake, "billing")
    truth = f"'{effects_lake}/truth/mrr_monthly/*.parquet'"
    mismatched, compared = duckdb.execute(
        f"""
        with months as (
            select distinct month_start_date from {truth}
        ),
        cuts as (
            select
                month_start_date,
                least(
                    timezone('UTC', (month_start_date + interval 1 month)::timestamp),
                    timestamptz '{EFFECTS.end} 00:00:00+00'
                ) as cut_at
            from months
        ),
        events as (
            select distinct on (event_id) * from {billing}
        ),
        states as (
            select customer_id, occurred_at, mrr_amount_eur from events
            where event_type in ('subscription.started', 'subscription.upgraded',
                'subscription.downgraded', 'subscription.renewed')
        ),
        cancels as (
            select customer_id, period_end_at from events
            where event_type = 'subscription.cancelled'
        ),
        replayed as (
            select
                cuts.month_start_date,
                states.customer_id,
                arg_max(states.mrr_amount_eur, states.occurred_at) as mrr
            from cuts
            inner join states on states.occurred_at < cuts.cut_at
            group by all
        ),
        expected as (
            select
                replayed.month_start_date,
                replayed.customer_id,
                case when cancels.period_end_at <= cuts.cut_at then 0 else replayed.mrr end
                    as mrr
            from replayed
            inner join cuts using (month_start_date)
            left join cancels using (customer_id)
            where cancels.period_end_at is null
                or cancels.period_end_at >= timezone('UTC', replayed.month_start_date::timestamp)
        )
        select
            count(*) filter (where truth.mrr_amount_eur is distinct from expected.mrr),
            count(*)
        from expected
        full join {truth} as truth using (month_start_date, customer_id)
        """
    ).fetchone()
    assert compared > EFFECTS.customers
    assert mismatched == 0
    churned = duckdb.execute(
        f"select count(*), max(churned_at) from '{effects_lake}/truth/churn/*.parquet'"
    ).fetchone()
    assert churned[0] > 0
    assert churned[1] < dt.datetime(2025, 5, 31, tzinfo=dt.UTC)


def test_slow_tickets_get_lower_csat(effects_lake: Path) -> None:
    fast, slow = duckdb.execute(
        f"""
        select
            avg(score) filter (tickets.full_resolution_calendar_minutes < 8 * 60),
            avg(score) filter (tickets.full_resolution_calendar_minutes > 48 * 60)
        from '{effects_lake}/truth/survey_responses/*.parquet' as surveys
        inner join '{effects_lake}/truth/tickets/*.parquet' as tickets using (ticket_id)
        where survey_type = 'csat'
        """
    ).fetchone()
    assert fast - slow > 0.5


def test_poor_experience_raises_churn(effects_lake: Path) -> None:
    poor, good = duckdb.execute(
        f"""
        with experience as (
            select customer_id, median(first_reply_calendar_minutes) as reply_minutes
            from '{effects_lake}/truth/tickets/*.parquet' as tickets
            inner join (
                select distinct ticket_id, customer_id
                from {_events(effects_lake, "ticket")} where event_type = 'ticket.created'
            ) using (ticket_id)
            group by customer_id
            having count(*) >= 3
        ),
        ranked as (
            select customer_id, ntile(4) over (order by reply_minutes) as quartile
            from experience
        )
        select
            avg((churn.customer_id is not null)::int) filter (quartile = 4),
            avg((churn.customer_id is not null)::int) filter (quartile = 1)
        from ranked
        left join '{effects_lake}/truth/churn/*.parquet' as churn using (customer_id)
        """
    ).fetchone()
    assert poor > 1.5 * good


def test_agents_work_tickets_in_their_shifts(effects_lake: Path) -> None:
    # Replies and solves by an agent fall inside one of that agent's shifts (work arriving
    # at night or on their day off waits for the next one), and the first reply comes
    # later for tickets created after the shifts end than for those created mid-morning.
    with duckdb.connect() as connection:
        outside, acted = connection.execute(
            f"""
            with shifts as (
                select
                    agent_id,
                    shift_id,
                    min(occurred_at) filter (event_type = 'agent.shift_started') as started_at,
                    max(occurred_at) filter (event_type = 'agent.shift_ended') as ended_at
                from {_events(effects_lake, "agent")}
                where shift_id is not null
                group by all
            ),
            actions as (
                select event_id, agent_id, occurred_at
                from {_events(effects_lake, "ticket")}
                where
                    agent_id is not null
                    and (
                        (event_type = 'ticket.commented' and author_type = 'agent')
                        or (event_type = 'ticket.status_changed' and status = 'solved')
                    )
            )
            select
                count(*) filter (
                    where not exists (
                        select 1 from shifts
                        where
                            shifts.agent_id = actions.agent_id
                            and actions.occurred_at between shifts.started_at and shifts.ended_at
                    )
                ),
                count(*)
            from actions
            """
        ).fetchone()
        by_hour = dict(
            connection.execute(
                f"""
                select hour(created_at) >= 22, median(first_reply_calendar_minutes)
                from read_parquet('{effects_lake}/truth/tickets/*.parquet')
                where hour(created_at) >= 22 or hour(created_at) between 8 and 10
                group by all
                """
            ).fetchall()
        )
    assert acted > 10_000
    assert outside / acted < 0.005, (outside, acted)
    assert by_hour[True] > 2 * by_hour[False], by_hour


def test_injected_incident_raises_volume(effects_lake: Path) -> None:
    per_day = dict(
        duckdb.execute(
            f"select cast(created_at as date), count(*) "
            f"from '{effects_lake}/truth/tickets/*.parquet' group by all"
        ).fetchall()
    )
    incident = per_day[EFFECTS.incident_date]
    same_weekday = [per_day[EFFECTS.incident_date + dt.timedelta(days=7 * k)] for k in (-2, -1, 2)]
    assert incident > 2 * max(same_weekday)
    effects = {
        row[0]
        for row in duckdb.execute(
            f"select effect from '{effects_lake}/truth/effects/*.parquet'"
        ).fetchall()
    }
    assert effects == {"incident", "chatbot_launch", "staffing_cut", "price_change"}


def test_defects_come_at_about_the_requested_rates(tmp_path: Path) -> None:
    config = dataclasses.replace(CONFIG, customers=600, days=20, defects=0.05)
    summary = simulate(config, tmp_path / "lake")
    unique = summary.events - summary.defects["duplicates"]
    for fault in ("duplicates", "late", "malformed"):
        assert 0.035 < summary.defects[fault] / unique < 0.065, fault
    lines = [
        line
        for path in (tmp_path / "inbox" / "simulator").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert len(lines) == summary.defects["malformed"]
    assert all(isinstance(json.loads(line), dict) for line in lines[:50])
    late = duckdb.execute(
        f"select count(*) from {_events(tmp_path / 'lake', 'ticket')} "
        "where received_at > occurred_at + interval 1 hour"
    ).fetchone()[0]
    assert late > 0
    recorded = duckdb.execute(
        f"select sum(malformed), sum(duplicates) from '{tmp_path}/lake/truth/defects/*.parquet'"
    ).fetchone()
    assert recorded == (summary.defects["malformed"], summary.defects["duplicates"])


def test_live_mode_emits_only_what_has_happened(tmp_path: Path) -> None:
    from simulator.live import live

    config = dataclasses.replace(CONFIG, days=3, defects=0.0)
    cutoffs = []
    # Each reading of the clock is 0.1 s after the last, however busy the machine: the three
    # days (two seconds at this speed) pass in 20 ticks.
    readings = itertools.count()
    summary = live(
        config,
        tmp_path,
        speed=3 * 86_400 / 2.0,
        tick_seconds=0.001,
        on_tick=lambda _summary, cutoff: cutoffs.append(cutoff),
        clock=lambda: next(readings) * 0.1,
    )
    assert len(cutoffs) == 20 and cutoffs == sorted(cutoffs)
    batches = {p.name for p in (tmp_path / "raw").rglob("live-*.parquet")}
    assert len(batches) > 10
    # The whole window emitted: the same events as a backfill of it.
    backfill = simulate(config, tmp_path / "backfill")
    assert summary.events == backfill.events


def test_take_gives_nulls_for_negative_codes() -> None:
    table = strings(["a", "bb", "", "ccc"])
    for codes in ([], [-1, -1], [3, -1, 0, -1, 2, 1, -1], [1, 1, 0], [-1, 3]):
        expected = [None if code < 0 else table[code].as_py() for code in codes]
        got = take(table, np.array(codes, dtype=np.int64))
        got.validate(full=True)
        assert got.type == pa.string()
        assert got.to_pylist() == expected, codes
    sliced = take(table.slice(1), np.array([-1, 2, 0]))
    assert sliced.to_pylist() == [None, "ccc", "bb"]


def test_coded_keeps_the_values_and_a_dictionary_of_those_used() -> None:
    # A vocabulary as a process may assemble it: a value twice, others never used.
    vocabulary = strings(["open", "solved", "new", "open", "pending"])
    for codes in ([-1, -1], [3, -1, 0, 2], [1, 1, 2], [4, -1, 3]):
        got = coded(vocabulary, np.array(codes, dtype=np.int64))
        got.validate(full=True)
        assert got.to_pylist() == take(vocabulary, np.array(codes)).to_pylist(), codes
        if pa.types.is_dictionary(got.type):
            used = {vocabulary[code].as_py() for code in codes if code >= 0}
            assert got.dictionary.to_pylist() == sorted(used)
    # A large vocabulary (ids) is copied as strings.
    ids = strings([f"c-{i}" for i in range(1000)])
    assert take(ids, np.array([5, -1])).equals(coded(ids, np.array([5, -1])))


def test_lake_files_read_back_as_the_stream_schema(tmp_path: Path) -> None:
    world = build_world(CONFIG)
    for stream, parts in generate_day(world, 3).tables.items():
        table = build_stream(stream, parts)
        assert any(pa.types.is_dictionary(field.type) for field in table.schema), stream
        for path in write_batch(tmp_path, stream, table, "b"):
            stored = pq.ParquetFile(path)
            assert b"ARROW:schema" not in (stored.metadata.metadata or {}), path
            back = stored.read()
            assert back.schema.equals(STREAMS[stream].schema, check_metadata=False), path
        written = pa.concat_tables(
            pq.ParquetFile(p).read() for p in (tmp_path / stream).rglob("*.parquet")
        )
        # A duplicate delivery keeps its event id and arrives later.
        order = [("event_id", "ascending"), ("received_at", "ascending")]
        assert written.sort_by(order).equals(table.cast(STREAMS[stream].schema).sort_by(order))
