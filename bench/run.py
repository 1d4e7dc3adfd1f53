"""``servops bench``: run every benchmark at a scale, print a table and (optionally) JSON.

Benchmarks are modules listed in ``BENCHMARKS``; each has ``run(scale, workdir) -> list[Figure]``.
They measure, they do not assert: these machines are noisy, so repeated figures are reported
as medians with their worst case.
"""

from __future__ import annotations

import importlib
import json
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.measure import reference_ms
from servops.paths import Home

BENCHMARKS = (
    "bench.warehouse",
    "bench.backtest",
    "bench.simulator",
    "bench.ingest",
    "bench.freshness",
    "bench.dashboards",
)


@dataclass(frozen=True)
class Scale:
    name: str
    customers: int
    days: int


SCALES = {
    "small": Scale("small", customers=500, days=90),
    "medium": Scale("medium", customers=10_000, days=365),
    "large": Scale("large", customers=100_000, days=730),
    # The issues' 10 million events: a year of a 47,500-customer company.
    "10m": Scale("10m", customers=47_500, days=366),
}


@dataclass(frozen=True)
class Figure:
    benchmark: str
    metric: str
    value: float
    unit: str
    note: str = ""


def short_name(module: str) -> str:
    """``bench.warehouse`` -> ``warehouse``: what ``servops bench --only`` takes."""
    return module.rpartition(".")[2]


def machine_figure(when: str) -> Figure:
    """The machine's speed now (``bench.measure.reference_ms``), to compare runs by."""
    return Figure(
        "machine",
        f"reference task, {when}",
        reference_ms(),
        "ms",
        "median of 5; fixed CPU work: a slower machine raises it, slower code does not",
    )


def print_table(figures: list[Figure]) -> None:
    rows = [("benchmark", "metric", "value", "unit", "note")]
    for figure in figures:
        value = f"{figure.value:,.0f}" if abs(figure.value) >= 100 else f"{figure.value:,.3g}"
        rows.append((figure.benchmark, figure.metric, value, figure.unit, figure.note))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def run_benchmarks(
    home: Home, scale: str = "small", json_path: str | None = None, only: list[str] | None = None
) -> list[Figure]:
    """Run the benchmarks (``only``: their short names, in ``BENCHMARKS`` order) at ``scale``.

    They share one emptied work directory: the dashboards benchmark serves the warehouse the
    warehouse benchmark built, so ``only`` keeps ``warehouse`` when it names ``dashboards``.
    """
    chosen = SCALES[scale]
    names = [name for name in BENCHMARKS if only is None or short_name(name) in only]
    if only is not None and "dashboards" in only and "bench.warehouse" not in names:
        names.insert(0, "bench.warehouse")
    workdir = home.root / "bench" / scale
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    print(
        f"servops bench --scale {scale}: {chosen.customers:,} customers, {chosen.days} days; "
        f"work in {workdir}",
        flush=True,
    )
    figures: list[Figure] = []
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(name)
        figures.append(machine_figure(f"before {short_name(name)}"))
        figures.extend(module.run(chosen, workdir))
    figures.append(machine_figure("at the end"))
    print()
    print_table(figures)
    report = {
        "scale": asdict(chosen),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform()},
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [asdict(figure) for figure in figures],
    }
    print("\n" + json.dumps(report))
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n")
    return figures
