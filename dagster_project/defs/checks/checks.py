"""Python asset checks for what dbt cannot see: the lake's files, ingestion counts, freshness.

- ``lake_completeness`` (each stream): every file is a readable Parquet file; each day the run
  materialized (or, unpartitioned, each day between the stream's first and last) has files.
  Unreadable files fail with ERROR (blocking: downstream steps of the same run do not run);
  missing days WARN (a quiet stream may skip a day).
- ``ingestion_reconciles`` (the ingestion log): per batch, received = accepted + quarantined,
  the quarantine file holds ``quarantined_count`` rows, and the lake holds ``written_count``
  events named after the batch.
- ``freshness`` (each stream): newest ``received_at`` against now. Thresholds
  (``FRESHNESS_WARN_AFTER``): a live stream should land within minutes, so older than 1 hour
  WARNs (never ERROR: a historical simulation is stale by design, which the description says).
"""

import datetime as dt
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq

from dagster_project.defs.lake.assets import LAKE_STREAMS, ingestion_log, stream_key
from dagster_project.lib.lake_files import LakeFile, lake_files
from servops.paths import Home

FRESHNESS_WARN_AFTER = {stream: dt.timedelta(hours=1) for stream in LAKE_STREAMS}
# The newest files by write time hold the newest receipts; reading their statistics only
# keeps the check cheap on a large lake.
FRESHNESS_FILES_SCANNED = 50
MAX_LISTED = 10


def _listed(items: list) -> str:
    shown = ", ".join(str(item) for item in items[:MAX_LISTED])
    return shown + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _run_days(context: dg.AssetCheckExecutionContext) -> list[dt.date] | None:
    """Days of the run's partition (or range), or None for an unpartitioned run."""
    tags = context.run.tags
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not start:
        return None
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def completeness(files: list[LakeFile], days: list[dt.date] | None) -> dg.AssetCheckResult:
    """The completeness verdict for one stream's files (see the module docstring)."""
    if days is not None:
        wanted = set(days)
        files = [file for file in files if file.event_date in wanted]
    unreadable = []
    for file in files:
        try:
            pq.read_metadata(file.path)
        except Exception as error:  # any unreadable file is the finding, whatever the cause
            unreadable.append(f"{file.path} ({type(error).__name__}: {error})")
    present = {file.event_date for file in files if file.event_date}
    if days is None and present:
        first, last = min(present), max(present)
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    missing = sorted(set(days or []) - present)
    metadata = {"files": len(files), "days_with_files": len(present), "missing_days": len(missing)}
    if unreadable:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{len(unreadable)} unreadable file(s): {_listed(unreadable)}",
            metadata=metadata,
        )
    if missing:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            description=f"no files for {len(missing)} day(s): {_listed(missing)}",
            metadata=metadata,
        )
    scope = f"{len(days)} day(s)" if days else "no days yet (the stream has no files)"
    return dg.AssetCheckResult(
        passed=True, description=f"{len(files)} readable file(s) for {scope}", metadata=metadata
    )


def newest_received_at(files: list[LakeFile]) -> dt.datetime | None:
    """The newest ``received_at`` in the most recently written files (Parquet statistics)."""
    newest = None
    for file in files[-FRESHNESS_FILES_SCANNED:]:
        metadata = pq.read_metadata(file.path)
        column = metadata.schema.names.index("received_at")
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(column).statistics
            if stats is not None and stats.has_min_max:
                value = stats.max
                if value.tzinfo is None:
                    value = value.replace(tzinfo=dt.UTC)
                newest = value if newest is None else max(newest, value)
    return newest


def freshness(stream: str, files: list[LakeFile], now: dt.datetime) -> dg.AssetCheckResult:
    """The freshness verdict for one stream's files (see the module docstring)."""
    limit = FRESHNESS_WARN_AFTER[stream]
    newest = newest_received_at(files) if files else None
    if newest is None:
        return dg.AssetCheckResult(
            passed=True, description=f"no {stream} events in the lake yet: nothing to be late"
        )
    age = now - newest
    metadata = {
        "newest_received_at": newest.isoformat(),
        "age_minutes": round(age.total_seconds() / 60, 1),
    }
    if age <= limit:
        return dg.AssetCheckResult(
            passed=True,
            description=f"newest {stream} event received {age} ago (limit {limit})",
            metadata=metadata,
        )
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"newest {stream} event was received at {newest:%Y-%m-%d %H:%M} UTC, "
        f"{age.days} d {age.seconds // 3600} h ago (limit {limit}); expected for a "
        "historical simulation, a stalled feed otherwise",
        metadata=metadata,
    )


def reconcile_ingestion(lake: Path) -> dg.AssetCheckResult:
    """received = accepted + quarantined per logged batch, and the files agree with the log."""
    log_dir = lake / "ingestion_log"
    logs = sorted(path for path in log_dir.glob("*.parquet") if not path.name.startswith("."))
    if not logs:
        return dg.AssetCheckResult(
            passed=True,
            description=f"no ingestion log yet ({log_dir} holds no batches): nothing to reconcile",
        )
    problems = []
    batches = 0
    written_by_batch: dict[str, int] = defaultdict(int)
    for file in lake_files(lake / "raw"):
        written_by_batch[file.path.stem] += pq.read_metadata(file.path).num_rows
    for log in logs:
        for row in pq.read_table(log).to_pylist():
            batches += 1
            batch = row["batch_id"]
            received, accepted = row["received_count"], row["accepted_count"]
            quarantined = row["quarantined_count"]
            if received != accepted + quarantined:
                problems.append(
                    f"{log.name}: batch {batch} received {received} != accepted {accepted} "
                    f"+ quarantined {quarantined}"
                )
            quarantine = lake / "quarantine" / row["connector"] / f"{batch}.parquet"
            held = pq.read_metadata(quarantine).num_rows if quarantine.exists() else 0
            if held != quarantined:
                problems.append(
                    f"{log.name}: batch {batch} logs {quarantined} quarantined, {quarantine} "
                    f"holds {held}"
                )
            if written_by_batch.get(batch, 0) < row["written_count"]:
                problems.append(
                    f"{log.name}: batch {batch} logs {row['written_count']} written, the lake "
                    f"holds {written_by_batch.get(batch, 0)}"
                )
    metadata = {"batches": batches, "problems": len(problems)}
    if problems:
        return dg.AssetCheckResult(
            passed=False,
            severity=dg.AssetCheckSeverity.ERROR,
            description=_listed(problems),
            metadata=metadata,
        )
    return dg.AssetCheckResult(
        passed=True,
        description=f"{batches} batch(es): received = accepted + quarantined, files agree",
        metadata=metadata,
    )


def _completeness_check(stream: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=stream_key(stream),
        name="lake_completeness",
        blocking=True,
        description=f"Every {stream} file is readable Parquet and each day has files.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        files = lake_files(Home.resolve().raw, {stream})
        return completeness(files, _run_days(context))

    return _check


def _freshness_check(stream: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=stream_key(stream),
        name="freshness",
        description=f"The newest {stream} event was received within "
        f"{FRESHNESS_WARN_AFTER[stream]} (WARN otherwise).",
    )
    def _check() -> dg.AssetCheckResult:
        files = lake_files(Home.resolve().raw, {stream})
        return freshness(stream, files, dt.datetime.now(dt.UTC))

    return _check


@dg.asset_check(
    asset=ingestion_log.key,
    name="ingestion_reconciles",
    description="Per ingested batch: received = accepted + quarantined, and the quarantine and "
    "lake files hold what the log says.",
)
def ingestion_reconciles() -> dg.AssetCheckResult:
    return reconcile_ingestion(Home.resolve().lake)


LAKE_CHECKS = [
    *(_completeness_check(stream) for stream in LAKE_STREAMS),
    *(_freshness_check(stream) for stream in LAKE_STREAMS),
    ingestion_reconciles,
]
