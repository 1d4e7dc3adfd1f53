"""Lake assets: each event stream in the lake, partitioned by the day the simulator generates.

One simulator run writes every stream it simulates (a multi-asset, ``lake/raw/<stream>``),
for a day partition, a range of them (a backfill runs as one run, drawing the company once),
or, without a partition, the whole configured window. Lake files are named by the chunk of
days they hold (``sim-<seed>-<first>-<last>.parquet``) and replaced whole, so re-running a day
is idempotent.
Connectors write the same streams through ``servops ingest``; their batches are logged in
``lake/ingestion_log`` (an external asset here, with the reconciliation check).
"""

import datetime as dt

import dagster as dg

from dagster_project.defs.lake import simulator_adapter
from servops.events import STREAMS
from servops.paths import Home

# The demo company starts on 2025-01-01; end_offset=1 includes today, for live simulation.
LAKE_START_DATE = "2025-01-01"
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=LAKE_START_DATE, end_offset=1, timezone="UTC"
)

LAKE_STREAMS = tuple(sorted(STREAMS))
TRANSIENT_RETRY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)


def stream_key(stream: str) -> dg.AssetKey:
    """The asset key of a lake stream: the lake path, so dbt sources line up with it."""
    return dg.AssetKey(["lake", "raw", stream])


LAKE_KEYS = tuple(stream_key(stream) for stream in LAKE_STREAMS)


class SimulatorConfig(dg.Config):
    """Settings of ``servops simulate``; the defaults are the embedded demo company."""

    seed: int = 42
    customers: int = 500
    days: int = 90
    start: str = "2025-01-01"
    defects: float = 0.0
    replace: bool = False
    # Known effects to inject, each a YYYY-MM-DD day inside the window or None (not injected):
    # the ``servops simulate --chatbot-launch/--incident/--staffing-cut/--price-change`` flags.
    chatbot_launch_date: str | None = None
    incident_date: str | None = None
    staffing_cut_date: str | None = None
    price_change_date: str | None = None


def _partition_days(context: dg.AssetExecutionContext) -> list[dt.date] | None:
    """The days this run materializes, or None for an unpartitioned (whole window) run."""
    if not context.has_partition_key and not context.has_partition_key_range:
        return None
    window = context.partition_time_window
    days = (window.end.date() - window.start.date()).days
    return [window.start.date() + dt.timedelta(days=offset) for offset in range(days)]


# The op keeps the name of the former single ticket asset, which tests/conftest.py configures
# (``ops: lake__raw__ticket``); rename it to ``simulated_events`` together with that file.
SIMULATOR_OP = "lake__raw__ticket"


@dg.multi_asset(
    name=SIMULATOR_OP,
    specs=[
        dg.AssetSpec(
            key,
            group_name="lake",
            kinds={"parquet"},
            description=f"{stream.capitalize()} events in the lake "
            f"(raw/{stream}/event_date=*/*.parquet), from the simulator and the connectors.",
        )
        for stream, key in zip(LAKE_STREAMS, LAKE_KEYS, strict=True)
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=TRANSIENT_RETRY,
)
def simulated_events(context: dg.AssetExecutionContext, config: SimulatorConfig):
    """Simulate the configured company's events for the run's days into the lake."""
    settings = simulator_adapter.simulation_config(config)
    days = _partition_days(context)
    lake = Home.resolve().lake

    def progress(done: int, total: int) -> None:
        if done == total or done % 30 == 0:
            context.log.info(f"simulated day {done}/{total}")

    if days is None:
        summary = simulator_adapter.simulate_window(
            settings, lake, replace=config.replace, on_day=progress
        )
    else:
        indexes = [(day - settings.start).days for day in days]
        inside = [index for index in indexes if 0 <= index < settings.days]
        if len(inside) < len(indexes):
            context.log.warning(
                f"{len(indexes) - len(inside)} of the run's {len(indexes)} days fall outside the "
                f"simulated window {settings.start}..{settings.end - dt.timedelta(days=1)}: "
                "nothing is simulated for them"
            )
        summary = simulator_adapter.simulate_days(
            settings, lake, inside, replace=config.replace, on_day=progress
        )
    context.log.info(summary.line())
    for ingested in simulator_adapter.ingest_inbox(lake):
        context.log.info(ingested.line())
    for stream, key in zip(LAKE_STREAMS, LAKE_KEYS, strict=True):
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "events": summary.events_by_stream.get(stream, 0),
                "files_written": summary.files_written,
                "events_per_second": round(summary.events_per_second),
            },
        )


ingestion_log = dg.AssetSpec(
    ["lake", "ingestion_log"],
    group_name="lake",
    kinds={"parquet"},
    description="One row per ingested batch (lake/ingestion_log/*.parquet), written last by "
    "`servops ingest` as its commit point: received, accepted and quarantined counts.",
)

quarantine = dg.AssetSpec(
    ["lake", "quarantine"],
    group_name="lake",
    kinds={"parquet"},
    description="Records `servops ingest` rejected (lake/quarantine/<connector>/<batch>.parquet), "
    "each with its reason, field and raw record.",
)
