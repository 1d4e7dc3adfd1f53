"""The simulator alone: events/s generated and written to the lake, peak memory, history's cost.

Each measurement runs in a child process (``run_measured``: wall time and peak RSS of the
largest process). Throughput is measured at a scale of at least 10 million events:
``THROUGHPUT_CUSTOMERS`` accounts (or the scale's, if more) for as many days as reach
``THROUGHPUT_EVENTS``, ``THROUGHPUT_RUNS`` times with the default worker count (medians) and
once with one process. The cost of a day, a year and five years of history is measured (not
extrapolated) at the default company size of ``servops simulate``
(``SimulationConfig().customers``).

Besides wall time each run reports CPU seconds (all its processes): on a shared machine the
events per CPU second say more about the code than the events per wall second.
"""

from __future__ import annotations

import json
import math
import shutil
import statistics
import sys
from pathlib import Path

from bench.measure import run_measured
from bench.run import Figure, Scale
from simulator.config import SimulationConfig

NAME = "simulator"
THROUGHPUT_CUSTOMERS = 100_000
THROUGHPUT_EVENTS = 10_000_000
# Throughput runs with the default worker count; the figures are their medians.
THROUGHPUT_RUNS = 3
# Events per account and day at the default settings (measured), to size the window.
EVENTS_PER_CUSTOMER_DAY = 0.6
HISTORY_DAYS = {"1 day": 1, "1 year": 365, "5 years": 1826}
CHILD = """
import datetime as dt, json, resource, sys
from pathlib import Path
from simulator.config import SimulationConfig
from simulator.run import simulate

def main():
    customers, days, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    workers = int(sys.argv[4]) if sys.argv[4] != "auto" else None
    config = SimulationConfig(seed=1, customers=customers, days=days, start=dt.date(2024, 1, 1))
    summary = simulate(config, out / "lake", workers=workers)
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (resource.getrusage(resource.RUSAGE_SELF),
                      resource.getrusage(resource.RUSAGE_CHILDREN))
    )
    (out / "summary.json").write_text(json.dumps({
        "events": summary.events, "seconds": summary.seconds, "files": summary.files_written,
        "cpu_seconds": cpu,
    }))

if __name__ == "__main__":  # worker processes are spawned and import this module
    main()
"""


def _simulate(
    customers: int, days: int, workdir: Path, workers: str = "auto"
) -> tuple[dict, float, float]:
    out = workdir / f"sim-{customers}-{days}-{workers}"
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", CHILD, str(customers), str(days), str(out), workers]
    wall, peak = run_measured(command)
    return json.loads((out / "summary.json").read_text()), wall, peak


def throughput_scale(scale: Scale) -> tuple[int, int]:
    """(customers, days) of the throughput run: at least ``THROUGHPUT_EVENTS`` events."""
    customers = max(scale.customers, THROUGHPUT_CUSTOMERS)
    days = math.ceil(THROUGHPUT_EVENTS / (customers * EVENTS_PER_CUSTOMER_DAY))
    return customers, max(days, scale.days if customers == scale.customers else 0)


def run(scale: Scale, workdir: Path) -> list[Figure]:
    figures = []
    customers, days = throughput_scale(scale)
    for workers, runs in (("auto", THROUGHPUT_RUNS), ("1", 1)):
        samples = []
        for _ in range(runs):
            summary, wall, peak = _simulate(customers, days, workdir, workers)
            lake = workdir / f"sim-{customers}-{days}-{workers}" / "lake" / "raw"
            size = sum(path.stat().st_size for path in lake.rglob("*.parquet")) / 2**20
            samples.append((summary, wall, peak, size))
            # Free the disk between runs: a 10 M event lake takes a few hundred megabytes.
            shutil.rmtree(workdir / f"sim-{customers}-{days}-{workers}", ignore_errors=True)
        summary = samples[0][0]
        label = "" if workers == "auto" else " (1 process)"
        note = f"{customers:,} customers x {days} days, workers {workers}, median of {runs}"

        figures += [
            Figure(NAME, "events" + label, summary["events"], "events", note),
            Figure(
                NAME,
                "events/s" + label,
                statistics.median([s["events"] / s["seconds"] for s, *_ in samples]),
                "events/s",
                "generated and written to Parquet, in process after imports",
            ),
            Figure(
                NAME,
                "events per CPU s" + label,
                statistics.median([s["events"] / s["cpu_seconds"] for s, *_ in samples]),
                "events/s",
                "all processes' user+sys time, incl. imports and the world",
            ),
            Figure(
                NAME,
                "peak memory" + label,
                max(peak for *_, peak, _ in samples),
                "MiB",
                "resident, largest process (worst run)",
            ),
            Figure(
                NAME,
                "process wall" + label,
                statistics.median([wall for _, wall, *_ in samples]),
                "s",
                "incl. interpreter start, imports",
            ),
            Figure(NAME, "files" + label, summary["files"], "files", "stream x event date x chunk"),
            Figure(NAME, "lake size" + label, samples[0][3], "MiB", "Parquet files of raw/"),
        ]
    default = SimulationConfig().customers
    for label, history in HISTORY_DAYS.items():
        summary, wall, _ = _simulate(default, history, workdir)
        figures.append(
            Figure(
                NAME,
                f"cost of {label}",
                summary["seconds"],
                "s",
                f"measured, {default:,} customers, {summary['events']:,} events, "
                f"{wall:.1f} s with process start",
            )
        )
    return figures
