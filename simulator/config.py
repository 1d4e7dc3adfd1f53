"""Settings of one simulation run, validated up front with messages a person can act on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# The known effects a simulation can inject: SimulationConfig's ``<effect>_date`` field (None: not
# injected) and what it does. The CLI's flags and Dagster's run config are derived from this.
EFFECTS = {
    "chatbot_launch": "a bot answers chats first and deflects tickets",
    "incident": "a bad release: ticket volume x3 that day and the next",
    "staffing_cut": "30 % of the front-line agents leave that day",
    "price_change": "new subscriptions and plan changes cost 10 % more",
}


def effect_field(effect: str) -> str:
    """The SimulationConfig field that sets ``effect``'s day."""
    return f"{effect}_date"


class SimulationConfigError(ValueError):
    """A setting is out of range; the message names the setting and what is allowed."""


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: a company of ``customers`` accounts over ``days`` days from ``start``.

    The ``*_date`` settings inject known effects (None: not injected) so tests and analysts can
    check that the warehouse recovers them; each is recorded in ``truth/effects``.
    """

    seed: int = 42
    customers: int = 500
    days: int = 90
    start: dt.date = dt.date(2025, 1, 1)
    defects: float = 0.0
    """Rate of each delivery fault: duplicates (same ``event_id``, later ``received_at``), late
    arrivals (``received_at`` hours to days after ``occurred_at``) and malformed extra copies
    (written as JSON Lines to the inbox, for the validator to quarantine)."""
    tickets_per_customer_day: float = 0.03
    chatbot_launch_date: dt.date | None = None
    """From this day a bot answers chats first and deflects some tickets."""
    incident_date: dt.date | None = None
    """A bad release: ticket volume on this day and the next is ``incident_volume_factor`` x."""
    incident_volume_factor: float = 3.0
    staffing_cut_date: dt.date | None = None
    """On this day ``staffing_cut_share`` of the front-line agents leave."""
    staffing_cut_share: float = 0.3
    price_change_date: dt.date | None = None
    """From this day new subscriptions and plan changes use prices x ``1 + price_change_pct``."""
    price_change_pct: float = 0.1

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or self.seed < 0:
            raise SimulationConfigError(f"--seed must be a whole number >= 0, got {self.seed!r}")
        if not 1 <= self.customers <= 10_000_000:
            raise SimulationConfigError(
                f"--customers must be between 1 and 10,000,000, got {self.customers}"
            )
        if not 1 <= self.days <= 365 * 20:
            raise SimulationConfigError(f"--days must be between 1 and 7300, got {self.days}")
        if not isinstance(self.start, dt.date) or not 1970 <= self.start.year <= 2200:
            raise SimulationConfigError(
                f"--start must be a date between 1970 and 2200, got {self.start!r}"
            )
        if not 0.0 <= self.defects <= 0.5:
            raise SimulationConfigError(
                f"--defects must be a rate between 0 and 0.5, got {self.defects}"
            )
        if self.tickets_per_customer_day <= 0:
            raise SimulationConfigError("tickets_per_customer_day must be positive")
        if not 0.0 <= self.staffing_cut_share < 1.0:
            raise SimulationConfigError("staffing_cut_share must be in [0, 1)")
        if self.incident_volume_factor < 1.0:
            raise SimulationConfigError("incident_volume_factor must be at least 1")
        if not -0.9 <= self.price_change_pct <= 10:
            raise SimulationConfigError("price_change_pct must be between -0.9 and 10")

    @property
    def end(self) -> dt.date:
        """The first day after the simulated window; nothing happens on or after it."""
        return self.start + dt.timedelta(days=self.days)

    def day(self, index: int) -> dt.date:
        return self.start + dt.timedelta(days=index)

    def day_index(self, day: dt.date | None) -> int | None:
        """The index of ``day`` in the window (may fall outside it), or None."""
        return None if day is None else (day - self.start).days
