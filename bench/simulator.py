"""The simulator alone: events/s generated and written to the lake, and peak memory.

Each measurement runs in a child process (``run_measured``: wall time and peak RSS). The
cost of a day, a year and five years of history is measured at this scale's customer count
for one day and for the scale's window, and extrapolated linearly from the window.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.measure import run_measured
from bench.run import Figure, Scale

NAME = "simulator"
CHILD = """
import datetime as dt, json, sys
from pathlib import Path
from simulator.config import SimulationConfig
from simulator.run import simulate
customers, days, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
config = SimulationConfig(seed=1, customers=customers, days=days, start=dt.date(2024, 1, 1))
summary = simulate(config, out / "lake")
(out / "summary.json").write_text(json.dumps(
    {"events": summary.events, "seconds": summary.seconds, "files": summary.files_written}))
"""


def _simulate(customers: int, days: int, workdir: Path) -> tuple[dict, float, float]:
    out = workdir / f"sim-{customers}-{days}"
    out.mkdir(parents=True, exist_ok=True)
    wall, peak = run_measured([sys.executable, "-c", CHILD, str(customers), str(days), str(out)])
    return json.loads((out / "summary.json").read_text()), wall, peak


def run(scale: Scale, workdir: Path) -> list[Figure]:
    figures = []
    summary, wall, peak = _simulate(scale.customers, scale.days, workdir)
    note = f"{scale.customers:,} customers x {scale.days} days"
    rate = summary["events"] / summary["seconds"]
    figures += [
        Figure(NAME, "events", summary["events"], "events", note),
        Figure(NAME, "generate+write", summary["seconds"], "s", "in process, after imports"),
        Figure(NAME, "events/s", rate, "events/s", "generated and written to Parquet"),
        Figure(NAME, "peak memory", peak, "MiB", "resident, child process"),
        Figure(NAME, "process wall", wall, "s", "incl. interpreter start and imports"),
        Figure(NAME, "files", summary["files"], "files", "one per stream, event date, chunk"),
    ]
    one_day, _, _ = _simulate(scale.customers, 1, workdir)
    per_day = summary["seconds"] / scale.days
    figures += [
        Figure(
            NAME,
            "cost of 1 day",
            one_day["seconds"],
            "s",
            f"measured, {one_day['events']:,} events",
        ),
        Figure(NAME, "cost of 1 year", per_day * 365, "s", "extrapolated from the window"),
        Figure(NAME, "cost of 5 years", per_day * 1826, "s", "extrapolated from the window"),
    ]
    return figures
