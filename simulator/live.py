"""Live mode: keep emitting the simulated company's events on a real or accelerated clock.

The simulated clock starts at the window's start and runs ``speed`` times faster than the wall
clock (``speed=60``: one simulated minute per second). Every ``tick_seconds`` the events that
have happened by then are written to the lake as one small atomic batch per stream
(``live-<seed>-<tick>``), until the window ends or the caller stops it (Ctrl-C, or ``stop``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from servops.events import UTC_MICROS
from servops.lake import STREAM_SCHEMAS, write_batch
from simulator.config import SimulationConfig
from simulator.events.finish import build_stream
from simulator.run import (
    SimulationSummary,
    _claim_lake,
    generate_day,
    write_day_truths,
    write_run_truth,
)
from simulator.timeline import DAY, build_world


def live(
    config: SimulationConfig,
    lake: Path,
    *,
    speed: float = 60.0,
    tick_seconds: float = 1.0,
    replace: bool = False,
    stop: threading.Event | None = None,
    on_tick: Callable[[SimulationSummary, int], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> SimulationSummary:
    """Emit events as their simulated time comes; returns when stopped or the window ends.

    ``clock`` gives wall seconds (a test passes one that steps, so ticks do not depend on
    how fast the machine is).
    """
    if speed <= 0 or tick_seconds <= 0:
        raise ValueError("--speed and the tick must be positive")
    _claim_lake(lake, config, replace)
    world = build_world(config)
    # The simulated clock starts once the company is drawn.
    started = clock()
    summary = SimulationSummary()
    pending: dict[str, list[pa.Table]] = {}
    generated = 0
    tick = 0
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            sim_now = world.start_s + int((clock() - started) * speed)
            cutoff = min(sim_now, world.horizon_s)
            # Generate each day once the clock reaches it; its events wait in ``pending``.
            while generated < config.days and world.start_s + generated * DAY <= cutoff:
                out = generate_day(world, generated)
                for stream, parts in out.tables.items():
                    # As strings: a day's table keeps small vocabularies as dictionary
                    # arrays or not depending on its values, and pending days concatenate.
                    table = build_stream(stream, parts)
                    pending.setdefault(stream, []).append(table.cast(STREAM_SCHEMAS[stream]))
                batch = f"live-{config.seed}-{generated:05d}"
                write_day_truths(lake, batch, [out])
                generated += 1
            due_before = pa.scalar(cutoff * 1_000_000, UTC_MICROS)
            for stream, tables in pending.items():
                if not tables:
                    continue
                table = pa.concat_tables(tables)
                due = pc.less(table.column("occurred_at"), due_before)
                ready = table.filter(due)
                pending[stream] = [table.filter(pc.invert(due))]
                if ready.num_rows:
                    name = f"live-{config.seed}-{tick:08d}"
                    summary.files_written += len(write_batch(lake / "raw", stream, ready, name))
                    summary.events_by_stream[stream] += ready.num_rows
            if on_tick:
                on_tick(summary, cutoff)
            tick += 1
            if cutoff >= world.horizon_s:
                write_run_truth(lake, world)
                break
            stop.wait(tick_seconds)
    except KeyboardInterrupt:
        pass  # Every batch written so far is whole; the rest is simply not emitted yet.
    summary.seconds = clock() - started
    return summary
