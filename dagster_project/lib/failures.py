"""Run-failure reporting a person sees: one line in the log and in <home>/dagster/failures.log."""

from __future__ import annotations

import datetime as dt

from servops.paths import Home

FAILURES_LOG = "failures.log"


def failure_line(job_name: str, run_id: str, failed_steps: list[str], error: str | None) -> str:
    """One line saying what failed and what it means for readers of the warehouse."""
    first_error = (error or "").strip().splitlines()[0][:300] if error else "see the run's logs"
    steps = ", ".join(failed_steps) or "start-up"
    return (
        f"run {run_id} of {job_name} failed at {steps}: {first_error} | nothing was published; "
        "the last good warehouse keeps serving"
    )


def record_failure(home: Home, line: str) -> None:
    """Append ``line`` with a UTC timestamp to ``<home>/dagster/failures.log``."""
    home.dagster_home.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with open(home.dagster_home / FAILURES_LOG, "a", encoding="utf-8") as log:
        log.write(f"{stamp} {line}\n")
