"""The simulator as the lake assets call it: the whole window or chosen days.

The simulator lays days out on a fixed grid of chunks set only by its settings and names
each chunk's files ``sim-<seed>-<first day>-<last day>``; re-running any day partition
(``simulator.run.simulate_days``) rewrites the whole chunk holding it, byte for byte what
``servops simulate`` writes. So Dagster partitions and ``servops simulate`` can share a lake,
and re-running a day is idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.config import EFFECTS, SimulationConfig, effect_field

if TYPE_CHECKING:
    from servops.ingest import Summary
    from simulator.run import SimulationSummary

# ``simulator.run`` (NumPy, and pandas through pyarrow) is imported when a lake asset runs, not
# with the definitions: every run's process and every code server loads the definitions, and
# the sensor's builds never simulate.


def simulation_config(config) -> SimulationConfig:
    """The simulator's settings from the asset's run config."""
    return SimulationConfig(
        seed=config.seed,
        customers=config.customers,
        days=config.days,
        start=dt.date.fromisoformat(config.start),
        defects=config.defects,
        **{
            effect_field(effect): dt.date.fromisoformat(day)
            for effect in EFFECTS
            if (day := getattr(config, effect_field(effect), None))
        },
    )


def simulate_days(
    config: SimulationConfig,
    lake: Path,
    day_indexes: Sequence[int],
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
) -> SimulationSummary:
    """Only the given days of the window (with the rest of their chunks)."""
    from simulator import run as simulator_run

    return simulator_run.simulate_days(config, lake, day_indexes, replace=replace, on_day=on_day)


def simulate_window(
    config: SimulationConfig,
    lake: Path,
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
) -> SimulationSummary:
    """Every day of the configured window, in the same files as a backfill writes."""
    return simulate_days(config, lake, range(config.days), replace=replace, on_day=on_day)


def ingest_inbox(lake: Path) -> list[Summary]:
    """The simulator's malformed deliveries (JSON lines in ``<home>/inbox/simulator/``)
    through the jsonl connector, as any arriving file: each record lands in the lake or in
    quarantine with its reason. A file ingested before is skipped (its batch is logged)."""
    import connectors
    from servops.ingest import ingest_file
    from simulator.run import inbox_dir

    jsonl = connectors.get("jsonl")
    return [
        ingest_file(lake, "jsonl", jsonl.read, path, read_table=getattr(jsonl, "read_table", None))
        for path in sorted(inbox_dir(lake).glob("*.jsonl"))
    ]
