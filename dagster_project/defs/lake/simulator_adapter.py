"""The simulator as the lake assets call it: the whole window or chosen days, one batch a day.

Dagster always writes one batch per simulated day (``simulator.run.simulate_days``), so
re-running any day partition replaces exactly that day's files, whether the days were first
written by a whole-window run or a backfill. (``servops simulate`` writes multi-day chunks,
which is faster; don't re-run Dagster partitions over a lake it wrote: the batches differ.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path

from simulator import run as simulator_run
from simulator.config import SimulationConfig


def simulation_config(config) -> SimulationConfig:
    """The simulator's settings from the asset's run config."""
    return SimulationConfig(
        seed=config.seed,
        customers=config.customers,
        days=config.days,
        start=dt.date.fromisoformat(config.start),
        defects=config.defects,
    )


def simulate_days(
    config: SimulationConfig,
    lake: Path,
    day_indexes: Sequence[int],
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
) -> simulator_run.SimulationSummary:
    """Only the given days of the window, each its own batch."""
    return simulator_run.simulate_days(config, lake, day_indexes, replace=replace, on_day=on_day)


def simulate_window(
    config: SimulationConfig,
    lake: Path,
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
) -> simulator_run.SimulationSummary:
    """Every day of the configured window, with the same per-day batches as a backfill."""
    return simulate_days(config, lake, range(config.days), replace=replace, on_day=on_day)
