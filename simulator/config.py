"""Settings of one simulation run, validated up front with messages a person can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class SimulationConfigError(ValueError):
    """A setting is out of range; the message names the setting and what is allowed."""


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: a company of ``customers`` accounts over ``days`` days from ``start``."""

    seed: int = 42
    customers: int = 500
    days: int = 90
    start: dt.date = dt.date(2025, 1, 1)
    defects: float = 0.0
    """Share of events delivered twice (later ``received_at``, same ``event_id``)."""
    tickets_per_customer_day: float = 0.03

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or self.seed < 0:
            raise SimulationConfigError(f"--seed must be a whole number >= 0, got {self.seed!r}")
        if not 1 <= self.customers <= 10_000_000:
            raise SimulationConfigError(
                f"--customers must be between 1 and 10,000,000, got {self.customers}"
            )
        if not 1 <= self.days <= 365 * 20:
            raise SimulationConfigError(f"--days must be between 1 and 7300, got {self.days}")
        if not 0.0 <= self.defects <= 0.5:
            raise SimulationConfigError(
                f"--defects must be a rate between 0 and 0.5, got {self.defects}"
            )
        if self.tickets_per_customer_day <= 0:
            raise SimulationConfigError("tickets_per_customer_day must be positive")

    @property
    def end(self) -> dt.date:
        """The first day after the simulated window; nothing happens on or after it."""
        return self.start + dt.timedelta(days=self.days)

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)
