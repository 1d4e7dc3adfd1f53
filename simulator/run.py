"""Run a simulation: build the timeline once, then generate, fault and write every stream
chunk by chunk of days (memory is bounded by the chunk, not by history), with the truth
beside the lake. Chunks lie on a fixed grid of the settings (``chunk_grid``) and name their
files (``sim-<seed>-<first day>-<last day>``), so ``simulate`` (the window, optionally in
several worker processes) and ``simulate_days`` (the chunks of chosen days: a Dagster
partition) write the same files with the same bytes. ``live`` keeps emitting on a real or
accelerated clock."""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime as dt
import gc
import json
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import (
    FIRST_EXCEPTION,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from servops.events import UTC_MICROS
from servops.files import write_text_atomic
from servops.lake import batch_files, write_parquet_atomic
from simulator.columns import SurveyAnswers, earliest, money, strings, take, timestamps
from simulator.config import SimulationConfig
from simulator.events import activity
from simulator.events.finish import RawEvents, build_stream, finish
from simulator.events.tickets import generate_ticket_day
from simulator.rng import generator
from simulator.timeline import (
    CANCELLED,
    DOWNGRADED,
    FAILED,
    ISSUED,
    MILESTONES,
    PAID,
    REFUNDED,
    RENEWED,
    STARTED,
    UPGRADED,
    World,
    build_world,
    epoch_seconds,
)

MANIFEST_NAME = "simulator.json"
# A process's file writers: Parquet encoding releases the GIL, so two files are written at
# once, and more threads hide the fsyncs of a slow disk.
_WRITERS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lake-writer")
# Events held in memory per chunk: bounds peak memory whatever the history's length.
CHUNK_EVENTS = 1_000_000
# Events per ticket, all streams (measured at the default settings), to estimate volumes.
EVENTS_PER_TICKET = 16
STREAM_ORDER = ("customer", "agent", "ticket", "survey", "billing", "chat", "kb", "onboarding")
SURVEY_TRUTH_SCHEMA = pa.schema(
    [
        ("survey_id", pa.string()),
        ("survey_type", pa.string()),
        ("score", pa.int16()),
        ("customer_id", pa.string()),
        ("ticket_id", pa.string()),
        ("agent_id", pa.string()),
        ("team_id", pa.string()),
        ("responded_at", UTC_MICROS),
    ]
)

# What the lake receives of each stream (truth/deliveries): one row per generator and day with
# events; a reader sums the counts and takes the greatest lateness and the latest instants
# per stream over the files. Lateness, late events (over a day) and the last receipt are those
# of each event's first delivery; ``deliveries`` counts redeliveries too.
DELIVERY_TRUTH_SCHEMA = pa.schema(
    [
        ("stream", pa.string()),
        ("events", pa.int64()),
        ("deliveries", pa.int64()),
        ("late_over_a_day", pa.int64()),
        ("max_lateness_seconds", pa.int64()),
        ("last_occurred_at", UTC_MICROS),
        ("last_received_at", UTC_MICROS),
    ]
)


class LakeConflictError(RuntimeError):
    """The lake already holds a simulation made with other settings."""


@dataclass
class SimulationSummary:
    events_by_stream: Counter = field(default_factory=Counter)
    events_by_type: Counter = field(default_factory=Counter)
    defects: Counter = field(default_factory=Counter)
    files_written: int = 0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.events_by_stream.values())

    def add(self, other: SimulationSummary) -> None:
        """Count ``other``'s events, faults and files in this summary too."""
        self.events_by_stream.update(other.events_by_stream)
        self.events_by_type.update(other.events_by_type)
        self.defects.update(other.defects)
        self.files_written += other.files_written

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        streams = ", ".join(f"{k} {v:,}" for k, v in sorted(self.events_by_stream.items()))
        faults = ""
        if self.defects:
            faults = " with " + ", ".join(f"{v:,} {k}" for k, v in sorted(self.defects.items()))
        return (
            f"simulated {self.events:,} events ({streams}){faults} into {self.files_written} "
            f"files in {self.seconds:.1f} s: {self.events_per_second:,.0f} events/s"
        )


def _manifest(config: SimulationConfig) -> dict:
    settings = dataclasses.asdict(config)
    for key, value in settings.items():
        if isinstance(value, dt.date):
            settings[key] = value.isoformat()
    return settings


def _claim_lake(lake: Path, config: SimulationConfig, replace: bool) -> None:
    """Refuse to mix two different simulations in one lake, unless asked to replace it."""
    manifest_path = lake / "manifests" / MANIFEST_NAME
    wanted = _manifest(config)
    if manifest_path.exists():
        existing = json.loads(manifest_path.read_text())
        if existing != wanted and not replace:
            raise LakeConflictError(
                f"the lake at {lake} already holds a simulation with other settings "
                f"({existing}); pass --replace to remove the simulator's files first, "
                "or choose another --home"
            )
        if existing != wanted:
            for stream_dir in (lake / "raw").glob("*"):
                for pattern in ("sim-*.parquet", "live-*.parquet"):
                    for old in stream_dir.glob(f"event_date=*/{pattern}"):
                        old.unlink()
            shutil.rmtree(lake / "truth", ignore_errors=True)
            for old in inbox_dir(lake).glob("sim-*.jsonl"):
                old.unlink()
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n")


def inbox_dir(lake: Path) -> Path:
    """Where the simulator delivers its malformed records (JSON lines), beside the lake."""
    return lake.parent / "inbox" / "simulator"


@dataclass
class DayOutput:
    tables: dict[str, list[RawEvents]]
    """Per stream, each generator's events still as NumPy codes (``build_stream`` types them)."""
    tickets: pa.Table
    surveys: pa.Table
    conversations: pa.Table
    daily: pa.Table
    """Per-day measures (``DAILY_TRUTH_SCHEMA``): backlog, flows, agents' work, automation,
    the kb."""
    deliveries: pa.Table
    """What the lake receives of each generator's stream (``DELIVERY_TRUTH_SCHEMA``)."""
    customers: pa.Table
    """The customer.created and customer.updated events (``activity.CUSTOMER_CHANGES``)."""
    agents: pa.Table
    """The agent.hired and agent.left events (``activity.AGENT_CHANGES``)."""
    malformed: list[str]
    stats: Counter


def generate_day(world: World, day_index: int) -> DayOutput:
    """Every stream's events of one day (and the truth of its tickets and surveys)."""
    config = world.config
    shared = activity.world_lookups(world)
    tables: dict[str, list[RawEvents]] = {}
    malformed: list[str] = []
    stats: Counter = Counter()
    survey_truth = []
    deliveries: dict[str, list] = {name: [] for name in DELIVERY_TRUTH_SCHEMA.names}

    def emit(source: str, rows, lookups) -> dict:
        rng = generator(config.seed, f"delivery-{source}", day_index)
        table, kept, bad, counts = finish(
            rows,
            {**shared, **lookups},
            seed=config.seed,
            source=source,
            day_index=day_index,
            horizon=world.horizon_s,
            defects=config.defects,
            rng=rng,
        )
        tables.setdefault(rows.stream, []).append(table)
        malformed.extend(bad)
        for key in ("duplicates", "late", "malformed"):
            stats[key] += counts[key]
        if counts["events"]:
            row = {
                **counts,
                "stream": rows.stream,
                "last_occurred_at": counts["last_occurred_s"] * 1_000_000,
                "last_received_at": counts["last_received_s"] * 1_000_000,
            }
            for name, values in deliveries.items():
                values.append(row[name])
        return kept

    ticket_rows, survey_rows, ticket_info = generate_ticket_day(world, day_index)
    emit("ticket", ticket_rows, ticket_info["lookups"])
    emit("csat", survey_rows, ticket_info["lookups"])
    survey_truth.extend(
        (answers, {**shared, **ticket_info["lookups"]}) for answers in ticket_info["surveys"]
    )
    nps_rows, nps_lookups, nps_truth = activity.generate_nps_day(world, day_index)
    emit("nps", nps_rows, nps_lookups)
    survey_truth.extend((answers, nps_lookups) for answers in nps_truth)
    daily = ticket_info["daily"]
    changes = {}
    for source, generate, day_truth, changing in (
        ("customer", activity.generate_customer_day, None, activity.CUSTOMER_CHANGES),
        ("agent", activity.generate_agent_day, activity.agent_day_truth, activity.AGENT_CHANGES),
        ("billing", activity.generate_billing_day, None, None),
        ("onboarding", activity.generate_onboarding_day, None, None),
        ("kb", activity.generate_kb_day, activity.kb_day_truth, None),
    ):
        rows, lookups = generate(world, day_index)
        kept = emit(source, rows, lookups)
        if day_truth is not None:
            day_truth(rows.event_types(), kept, daily)
        if changing is not None:
            changes[source] = activity.changes_truth(
                changing, rows.event_types(), kept, {**shared, **lookups}
            )
    chat_rows, chat_lookups, conversations = activity.generate_chat_day(world, day_index)
    emit("chat", chat_rows, chat_lookups)
    return DayOutput(
        tables,
        ticket_info["tickets"],
        _survey_table(world.company.customer_ids, survey_truth),
        conversations,
        daily.table({name: shared[name] for name in ("team_id", "agent_id", "customer_id")}),
        pa.table(deliveries, schema=DELIVERY_TRUTH_SCHEMA),
        changes["customer"],
        changes["agent"],
        malformed,
        stats,
    )


# The day's truth tables: their folder under ``truth/`` (one file per batch), and the
# DayOutput field holding them.
DAY_TRUTHS = {
    "tickets": "tickets",
    "survey_responses": "surveys",
    "conversations": "conversations",
    "daily": "daily",
    "deliveries": "deliveries",
    "customer_changes": "customers",
    "agent_changes": "agents",
}


def write_day_truths(lake: Path, batch: str, outputs: list[DayOutput]) -> None:
    """Each of the days' truth tables as one file of ``batch`` in its ``truth/`` folder."""
    for name, field_name in DAY_TRUTHS.items():
        write_parquet_atomic(
            pa.concat_tables([getattr(out, field_name) for out in outputs]),
            lake / "truth" / name / f"{batch}.parquet",
        )


def _survey_table(
    customer_ids: pa.Array, parts: list[tuple[SurveyAnswers, dict[str, pa.Array]]]
) -> pa.Table:
    """truth/survey_responses from each generator's answers and the lookups its codes index."""
    tables = []
    for answers, lookups in parts:
        n = len(answers.numbers)
        named = {
            name: take(lookups[name], codes) if codes is not None else pa.nulls(n, pa.string())
            for name, codes in (
                ("ticket_id", answers.tickets),
                ("agent_id", answers.agents),
                ("team_id", answers.teams),
            )
        }
        tables.append(
            pa.table(
                {
                    "survey_id": take(lookups["survey_id"], answers.numbers),
                    "survey_type": pa.array([answers.survey_type] * n, pa.string()),
                    "score": pa.array(np.asarray(answers.scores, dtype=np.int16)),
                    "customer_id": take(customer_ids, answers.customers),
                    **named,
                    "responded_at": timestamps(answers.responded_at),
                },
                schema=SURVEY_TRUTH_SCHEMA,
            )
        )
    return pa.concat_tables(tables)


def chunk_days(world: World) -> int:
    """Days per written chunk: about CHUNK_EVENTS events, from the expected daily volume."""
    tickets_per_day = world.demand.sum(axis=1).mean()
    return _days_per_chunk(tickets_per_day * EVENTS_PER_TICKET + world.company.size * 0.25)


def _days_per_chunk(events_per_day: float) -> int:
    return int(np.clip(CHUNK_EVENTS // max(1.0, events_per_day), 1, 92))


def chunk_grid(world: World, chunk_size: int | None = None) -> list[list[int]]:
    """The run's chunks of days: a fixed grid from day 0, a function of the settings only.

    Every writer names its files after the chunk (``sim-<seed>-<first>-<last>``), so a day
    always lands in the same files whether the whole window or only that day was asked for.
    """
    size = chunk_size or chunk_days(world)
    days = world.config.days
    return [list(range(first, min(first + size, days))) for first in range(0, days, size)]


def batch_name(config: SimulationConfig, days: list[int]) -> str:
    """The lake and truth file name of a chunk of days."""
    return f"sim-{config.seed}-{days[0]:05d}-{days[-1]:05d}"


def _remove_off_grid(lake: Path, config: SimulationConfig, grid: list[list[int]]) -> None:
    """Delete this simulation's files named after other chunks (another ``chunk_size``, or an
    older layout of one batch per day): they hold events the grid's files also hold."""
    wanted = {batch_name(config, days) for days in grid}
    patterns = (
        "raw/*/event_date=*/sim-*.parquet",
        *(f"truth/{name}/sim-*.parquet" for name in DAY_TRUTHS),
        "truth/defects/sim-*.parquet",
    )
    stale = [path for pattern in patterns for path in lake.glob(pattern)]
    stale += list(inbox_dir(lake).glob("sim-*.jsonl"))
    for path in stale:
        if path.stem not in wanted:
            path.unlink(missing_ok=True)


def _write_chunk(
    lake: Path, world: World, days: list[int], outputs: list[DayOutput]
) -> SimulationSummary:
    config = world.config
    batch = batch_name(config, days)
    summary = SimulationSummary()
    tables = {}
    futures = []
    for stream in STREAM_ORDER:
        parts = [t for out in outputs for t in out.tables.get(stream, [])]
        if parts:
            tables[stream] = table = build_stream(stream, parts)
            # Each file is written by a thread of its own as soon as its stream is typed: a
            # stream's dates spread over the threads (tickets are half the events) and the
            # disk overlaps the fsyncs.
            futures += [
                _WRITERS.submit(write_parquet_atomic, rows, path)
                for path, rows in batch_files(lake / "raw", stream, table, batch)
            ]
    for stream, table in tables.items():
        summary.events_by_stream[stream] += table.num_rows
        counts = table.column("event_type").value_counts()
        for event_type, count in zip(
            counts.field(0).to_pylist(), counts.field(1).to_pylist(), strict=True
        ):
            summary.events_by_type[event_type] += count
    for future in futures:
        future.result()
    summary.files_written += len(futures)
    write_day_truths(lake, batch, outputs)
    truth = lake / "truth"
    stats = Counter()
    for out in outputs:
        stats.update(out.stats)
    summary.defects.update({k: v for k, v in stats.items() if v})
    write_parquet_atomic(
        pa.table(
            {
                "batch": [batch],
                "first_day": [config.day(days[0])],
                "last_day": [config.day(days[-1])],
                "duplicates": [stats["duplicates"]],
                "late": [stats["late"]],
                "malformed": [stats["malformed"]],
            }
        ),
        truth / "defects" / f"{batch}.parquet",
    )
    lines = [line for out in outputs for line in out.malformed]
    inbox = inbox_dir(lake)
    target = inbox / f"{batch}.jsonl"
    if lines:
        inbox.mkdir(parents=True, exist_ok=True)
        write_text_atomic(target, "\n".join(lines) + "\n")
    else:
        target.unlink(missing_ok=True)
    return summary


# glibc's mallopt parameters (malloc.h) and the values set for a run.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's largest allowed value
_TRIM_THRESHOLD_BYTES = 1 << 30


def _keep_freed_memory() -> None:
    """Let glibc's malloc reuse freed memory instead of returning it to the kernel.

    A chunk allocates and frees the same few hundred megabytes of columns again and again;
    by default every block over 128 KiB is a fresh mmap whose pages the kernel zeroes on first
    touch (about a tenth of a run's CPU). Held memory stays bounded by the largest chunk.
    """
    with contextlib.suppress(OSError, AttributeError, ValueError):
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # not glibc: nothing to tune
            return
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


@contextlib.contextmanager
def _run_allocators():
    """During a run Arrow allocates from the system's malloc (tuned by ``_keep_freed_memory``)
    like NumPy, so both reuse the same freed blocks, and the garbage collector skips the
    objects that exist before it (imports, the world: it would walk them again and again).
    The previous pool and collector state come back after the run."""
    _keep_freed_memory()
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    frozen = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen:  # leave a caller's own frozen objects frozen
            gc.unfreeze()
        pa.set_memory_pool(previous)


# The chunk counters a worker process shares with the run (``_Chunks``), set as it starts.
_WORKER_CHUNKS: list[_Chunks] = []


class _Chunks:
    """The run's chunks, handed out to its processes one at a time as each asks for more.

    Two counters in shared memory: the next chunk to hand out, and the days written so far
    (for the progress bar). Which process writes a chunk changes nothing in its files.
    """

    def __init__(self, context) -> None:
        self._counters = context.Array("q", 2)

    def claim(self) -> int:
        with self._counters.get_lock():
            index = self._counters[0]
            self._counters[0] = index + 1
        return index

    def stop(self) -> None:
        """Hand out no more chunks (the run failed): every process ends after its chunk."""
        with self._counters.get_lock():
            self._counters[0] = 2**62

    def written(self, days: int) -> None:
        """Count ``days`` more as written."""
        with self._counters.get_lock():
            self._counters[1] += days

    @property
    def days_written(self) -> int:
        return self._counters[1]


def _start_worker(chunks: _Chunks) -> None:
    """Set up a worker process as it starts (while the run builds its world)."""
    _keep_freed_memory()
    pa.set_memory_pool(pa.system_memory_pool())
    _WORKER_CHUNKS.append(chunks)


def _worker_started() -> None:
    """An empty task: submitting it starts the worker processes."""


def _worker_run(world: World, lake: Path, groups: list[list[int]]) -> SimulationSummary:
    """A worker process's task: the parent's world (not drawn again, Faker and all), then
    chunks until none are left."""
    gc.freeze()
    return _write_chunks(world, lake, groups, _WORKER_CHUNKS[0])


def _write_chunks(
    world: World,
    lake: Path,
    groups: list[list[int]],
    chunks: _Chunks,
    on_written: Callable[[], None] | None = None,
) -> SimulationSummary:
    """Generate and write the chunks this process claims, one at a time.

    Generating the next chunk while this one is written would keep two in memory and cost
    more CPU than it saves: with a process per core, the others' work fills the cores while
    this one waits for its files (measured: ~7 % more events/s without the overlap).
    """
    summary = SimulationSummary()
    while (index := chunks.claim()) < len(groups):
        days = groups[index]
        summary.add(_write_chunk(lake, world, days, [generate_day(world, d) for d in days]))
        chunks.written(len(days))
        if on_written:
            on_written()
    return summary


def write_run_truth(lake: Path, world: World) -> None:
    """Run-level truth from the billing events: MRR at each month's end, churn, invoices,
    effects; and the onboarding milestones each account reached before the horizon."""
    truth = lake / "truth"
    mrr, churn = mrr_truth(world)
    write_parquet_atomic(mrr, truth / "mrr_monthly" / "mrr_monthly.parquet")
    write_parquet_atomic(churn, truth / "churn" / "churn.parquet")
    write_parquet_atomic(invoice_truth(world), truth / "invoices" / "invoices.parquet")
    onboarding = world.onboarding
    write_parquet_atomic(
        pa.table(
            {
                "customer_id": take(world.company.customer_ids, onboarding["customer"]),
                "milestone": take(strings(MILESTONES), onboarding["order"]),
                "reached_at": timestamps(onboarding["at"]),
            }
        ),
        truth / "onboarding" / "onboarding.parquet",
    )
    effects = world.effects
    write_parquet_atomic(
        pa.table(
            {
                "effect": pa.array([e["effect"] for e in effects], pa.string()),
                "effect_date": pa.array([e["day"] for e in effects], pa.date32()),
                "detail": pa.array([e["detail"] for e in effects], pa.string()),
            }
        ),
        truth / "effects" / "effects.parquet",
    )


def invoice_truth(world: World) -> pa.Table:
    """Each invoice with an event before the horizon: its customer, issue, payment, failed
    payment attempts and refunds, from the billing timeline the events are drawn from."""
    billing = world.billing
    rows = (billing["invoice"] >= 0) & (billing["at"] < world.horizon_s)
    kind, at = billing["kind"][rows], billing["at"][rows]
    number, amount = billing["invoice"][rows], billing["amount"][rows]
    invoices, invoice = np.unique(number, return_inverse=True)
    n = len(invoices)

    def total(of_kind: int, values: np.ndarray) -> np.ndarray:
        return np.bincount(invoice[kind == of_kind], values[kind == of_kind], minlength=n)

    def first(of_kind: int) -> tuple[np.ndarray, np.ndarray]:
        return earliest(invoice[kind == of_kind], at[kind == of_kind], n)

    issued_at, issued = first(ISSUED)
    paid_at, paid = first(PAID)
    customer = np.zeros(n, dtype=np.int64)
    customer[invoice] = billing["customer"][rows]
    return pa.table(
        {
            "invoice_id": activity.invoice_ids(invoices),
            "customer_id": take(world.company.customer_ids, customer),
            "issued_at": timestamps(issued_at, ~issued),
            "invoiced_amount": money(total(ISSUED, amount).astype(np.int64)),
            "paid_at": timestamps(paid_at, ~paid),
            "paid_amount": money(total(PAID, amount).astype(np.int64)),
            "failed_payment_count": pa.array(total(FAILED, np.ones(len(at))).astype(np.int32)),
            "refunded_amount": money(total(REFUNDED, amount).astype(np.int64)),
        }
    )


def _month_starts(config: SimulationConfig) -> list[dt.date]:
    month = config.start.replace(day=1)
    months = []
    while month < config.end:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def mrr_truth(world: World) -> tuple[pa.Table, pa.Table]:
    """Replay the emitted subscription events: each account's MRR at each month's end (or
    at the window's end for the last month) and the moment it fell to zero for good."""
    billing, n = world.billing, world.company.size
    config = world.config
    kind = billing["kind"]
    state = np.isin(kind, (STARTED, UPGRADED, DOWNGRADED, RENEWED))
    shift = np.int64(2**34)
    keys = billing["customer"][state] * shift + billing["at"][state]
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], billing["mrr"][state][order]
    owners = billing["customer"][state][order]
    cancel_end = np.full(n, 2**62, dtype=np.int64)
    cancels = kind == CANCELLED
    cancel_end[billing["customer"][cancels]] = billing["period_end"][cancels]
    everyone = np.arange(n, dtype=np.int64)
    columns = {"customer": [], "month": [], "mrr": []}
    for month in _month_starts(config):
        month_s = epoch_seconds(month)
        next_month = (month + dt.timedelta(days=32)).replace(day=1)
        cut = min(epoch_seconds(next_month), world.horizon_s)
        idx = np.searchsorted(keys, everyone * shift + cut, side="left") - 1
        started = (idx >= 0) & (owners[np.maximum(idx, 0)] == everyone)
        listed = started & (cancel_end >= month_s)
        amount = np.where(cancel_end <= cut, 0, values[np.maximum(idx, 0)])
        who = everyone[listed]
        columns["customer"].append(who)
        columns["month"].append(
            np.full(len(who), (month - dt.date(1970, 1, 1)).days, dtype=np.int32)
        )
        columns["mrr"].append(amount[listed])
    mrr = pa.table(
        {
            "customer_id": take(world.company.customer_ids, np.concatenate(columns["customer"])),
            "month_start_date": pa.array(np.concatenate(columns["month"]), pa.int32()).cast(
                pa.date32()
            ),
            "mrr_amount_eur": money(np.concatenate(columns["mrr"])),
        }
    )
    churned = np.flatnonzero(cancel_end < world.horizon_s)
    churn = pa.table(
        {
            "customer_id": take(world.company.customer_ids, churned),
            "churned_at": timestamps(cancel_end[churned]),
        }
    )
    return mrr, churn


# A day costs about as much as this many events whatever the company's size: its files (one
# per stream and event date, ~2-5 ms each to encode, fsync and rename) and its generators.
DAY_COST_EVENTS = 13_000


def default_workers(config: SimulationConfig) -> int:
    """Processes for a run: two on a multi-core machine once the run has two chunks or more
    and about two chunks' work (a worker costs about a second of CPU to start, spent on the
    other core while this process builds the world), else one. Long histories of a small
    company count too: their cost is mostly per day (files), not per event. Estimated from
    the settings alone (``chunk_days``'s estimate with every customer active), so the worker
    can start before the world is built."""
    days = config.days
    per_day = config.customers * (config.tickets_per_customer_day * EVENTS_PER_TICKET + 0.25)
    chunks = -(-days // _days_per_chunk(per_day))
    expected = (per_day + DAY_COST_EVENTS) * days
    worth_it = chunks >= 2 and expected > 2 * CHUNK_EVENTS
    return 2 if (os.cpu_count() or 1) >= 2 and worth_it else 1


class _Run:
    """A run's processes: this one and ``workers - 1`` spawned workers, started at once (they
    import while this process builds the world) and given the world once it is built."""

    def __init__(self, workers: int) -> None:
        # spawn, not fork: forking a process that runs Arrow's thread pools can deadlock.
        context = multiprocessing.get_context("spawn")
        self.chunks = _Chunks(context)
        self.workers = workers
        self.pool = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(
                workers - 1,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.chunks,),
            )
            self.pool.submit(_worker_started)

    def __enter__(self) -> _Run:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.chunks.stop()
            self.pool.shutdown(cancel_futures=True)

    def write(
        self,
        world: World,
        lake: Path,
        groups: list[list[int]],
        on_day: Callable[[int, int], None] | None,
        summary: SimulationSummary,
    ) -> None:
        """The run's truth, then ``groups`` (chunks of days), each as one batch, generated
        and written in every process of the run."""
        total = sum(len(days) for days in groups)
        shown = 0

        def progress() -> None:
            nonlocal shown
            done = self.chunks.days_written
            if on_day and done != shown:
                shown = done
                on_day(done, total)

        remote = []
        if self.pool is not None and len(groups) > 1:
            remote = [
                self.pool.submit(_worker_run, world, lake, groups) for _ in range(self.workers - 1)
            ]
        # The truth is a function of the world alone: written here, it overlaps the worker's
        # receiving the world (~0.4 s at 100,000 accounts) instead of ending the run on one core.
        write_run_truth(lake, world)
        # On an error here, leaving the run (``__exit__``) stops the workers' chunks.
        with _run_allocators():
            summary.add(_write_chunks(world, lake, groups, self.chunks, progress))
        pending = set(remote)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_EXCEPTION)
            progress()
            for future in done:
                summary.add(future.result())  # a worker's error is raised here


def simulate_days(
    config: SimulationConfig,
    lake: Path,
    day_indexes: Iterable[int],
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    workers: int = 1,
) -> SimulationSummary:
    """Generate and write the chunks holding ``day_indexes`` (e.g. Dagster day partitions).

    Files are named by chunk of the run's fixed grid (``chunk_grid``), exactly as
    ``simulate`` names them, so the two can share a lake: a day regenerated here rewrites its
    chunk's files with the same bytes. A chunk holds at most about ``CHUNK_EVENTS`` events.
    """
    started = time.perf_counter()
    wanted = set(day_indexes)
    bad = sorted(d for d in wanted if not 0 <= d < config.days)
    if bad:
        raise ValueError(f"day index {bad[0]} is outside the window 0..{config.days - 1}")
    _claim_lake(lake, config, replace)
    summary = SimulationSummary()
    with _Run(workers) as run:
        world = build_world(config)
        grid = chunk_grid(world, chunk_size)
        _remove_off_grid(lake, config, grid)
        groups = [days for days in grid if wanted.intersection(days)]
        run.write(world, lake, groups, on_day, summary)
    summary.seconds = time.perf_counter() - started
    return summary


def simulate(
    config: SimulationConfig,
    lake: Path,
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
) -> SimulationSummary:
    """Write ``config``'s events into ``lake`` (and its truth beside them); idempotent.

    Days are generated and written in chunks of about ``CHUNK_EVENTS`` events (one file per
    stream and event date per chunk), which bounds memory whatever the history's length.
    ``chunk_size`` (days) overrides the grid; ``workers`` processes share the chunks (default:
    ``default_workers``); neither changes what is generated. Workers are spawned, so a script
    that calls this must guard its entry point with ``if __name__ == "__main__":``.
    """
    started = time.perf_counter()
    _claim_lake(lake, config, replace)
    summary = SimulationSummary()
    with _Run(default_workers(config) if workers is None else workers) as run:
        world = build_world(config)
        grid = chunk_grid(world, chunk_size)
        _remove_off_grid(lake, config, grid)
        run.write(world, lake, grid, on_day, summary)
    summary.seconds = time.perf_counter() - started
    return summary
