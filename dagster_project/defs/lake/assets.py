"""Lake assets: the simulator's event streams, written through the shared lake writer."""

import datetime as dt

import dagster as dg

from servops.paths import Home
from simulator.config import SimulationConfig
from simulator.run import simulate


class SimulatorConfig(dg.Config):
    """Settings of ``servops simulate``; the defaults are the embedded demo company."""

    seed: int = 42
    customers: int = 500
    days: int = 90
    start: str = "2025-01-01"
    defects: float = 0.0
    replace: bool = False


@dg.asset(
    key=["lake", "raw", "ticket"],
    group_name="lake",
    kinds={"parquet"},
    description="Ticket events in the lake (raw/ticket/event_date=*/…parquet), from the simulator.",
)
def simulated_ticket_events(
    context: dg.AssetExecutionContext, config: SimulatorConfig
) -> dg.MaterializeResult:
    settings = SimulationConfig(
        seed=config.seed,
        customers=config.customers,
        days=config.days,
        start=dt.date.fromisoformat(config.start),
        defects=config.defects,
    )
    summary = simulate(
        settings,
        Home.resolve().lake,
        replace=config.replace,
        on_day=lambda done, total: done % 30 == 0 and context.log.info(f"day {done}/{total}"),
    )
    context.log.info(summary.line())
    return dg.MaterializeResult(
        metadata={
            "events": summary.events,
            "files": summary.files_written,
            "events_per_second": round(summary.events_per_second),
        }
    )
