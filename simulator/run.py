"""Run a simulation: draw the company once, then generate and write each day's events."""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from servops.lake import write_batch, write_parquet_atomic
from simulator.config import SimulationConfig
from simulator.entities import draw_company
from simulator.events.tickets import generate_ticket_day

MANIFEST_NAME = "simulator.json"


class LakeConflictError(RuntimeError):
    """The lake already holds a simulation made with other settings."""


@dataclass
class SimulationSummary:
    events_by_stream: Counter = field(default_factory=Counter)
    events_by_type: Counter = field(default_factory=Counter)
    files_written: int = 0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.events_by_stream.values())

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        streams = ", ".join(f"{k} {v:,}" for k, v in sorted(self.events_by_stream.items()))
        return (
            f"simulated {self.events:,} events ({streams}) into {self.files_written} files "
            f"in {self.seconds:.1f} s: {self.events_per_second:,.0f} events/s"
        )


def _manifest(config: SimulationConfig) -> dict:
    settings = dataclasses.asdict(config)
    settings["start"] = config.start.isoformat()
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
                for old in stream_dir.glob("event_date=*/sim-*.parquet"):
                    old.unlink()
            shutil.rmtree(lake / "truth", ignore_errors=True)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n")


def simulate(
    config: SimulationConfig,
    lake: Path,
    *,
    replace: bool = False,
    on_day: Callable[[int, int], None] | None = None,
) -> SimulationSummary:
    """Write ``config``'s events into ``lake`` (and its truth beside them); idempotent."""
    started = time.perf_counter()
    _claim_lake(lake, config, replace)
    company = draw_company(config)
    summary = SimulationSummary()
    for day_index in range(config.days):
        events, truth = generate_ticket_day(config, company, day_index)
        batch = f"sim-{config.seed}-{day_index:05d}"
        summary.files_written += len(write_batch(lake / "raw", "ticket", events, batch))
        created_date = config.day(day_index).isoformat()
        write_parquet_atomic(
            truth, lake / "truth" / "tickets" / f"created_date={created_date}.parquet"
        )
        summary.events_by_stream["ticket"] += events.num_rows
        for event_type, count in zip(
            *events.column("event_type").value_counts().flatten(), strict=True
        ):
            summary.events_by_type[event_type.as_py()] += count.as_py()
        if on_day:
            on_day(day_index + 1, config.days)
    summary.seconds = time.perf_counter() - started
    return summary
