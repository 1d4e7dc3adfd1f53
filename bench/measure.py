"""Measuring helpers: wall time and peak memory of a child process, medians of repeats."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence

import numpy as np


class BenchmarkError(RuntimeError):
    """A benchmark could not measure (a child command failed, a server did not start, ...);
    the message says what and where to look. ``servops bench`` prints it, no traceback."""


def run_measured(command: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run ``command``; return (wall seconds, peak resident MiB of the process tree's largest).

    Fails loudly with the command's output if it fails: a benchmark of a failure is no figure.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )
    output = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(command)} failed (exit {process.returncode}):\n"
            f"{output.decode(errors='replace')[-3000:]}"
        )
    return seconds, usage.ru_maxrss / 1024


def repeat_ms(action: Callable[[], object], times: int) -> tuple[float, float]:
    """Run ``action`` ``times`` times; return (median, worst) in milliseconds."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def reference_ms(repeats: int = 5) -> float:
    """Median milliseconds of a fixed single-threaded CPU task (a Python loop and a NumPy sort
    of the same numbers every time): how fast this machine is at that moment.

    These shared machines change speed by half within an hour (the same dashboard renders took
    1.5 times the CPU-seconds on another day, with no code change). Benchmarks print this
    before and after their runs, so two runs' figures can be compared as ratios to it: a
    slower machine moves it too, slower code does not.
    """
    numbers = np.random.default_rng(0).random(1_000_000)

    def task() -> None:
        total = 0
        for i in range(300_000):
            total += i * i
        np.sort(numbers, kind="quicksort")

    task()  # warm caches and the allocator
    return repeat_ms(task, repeats)[0]
