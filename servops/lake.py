"""The event lake: one envelope, typed columns per stream, atomic append-only Parquet files.

Every event, whichever system it came from, is stored with the envelope columns and the
typed payload columns of its stream (``servops.events``, documented in ``docs/events.md``).
Files are laid out as ``raw/<stream>/event_date=YYYY-MM-DD/<batch>.parquet`` (the UTC
date of ``occurred_at``) and appear whole or not at all: write to a hidden temporary name,
fsync, rename, fsync the folder. Writing the same batch name again replaces the file with
the same content, so re-running a deterministic producer is idempotent.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from servops.events import STREAMS

STREAM_SCHEMAS: dict[str, pa.Schema] = {name: stream.schema for name, stream in STREAMS.items()}

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1, "write_statistics": True}


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet_atomic(table: pa.Table, target: Path) -> None:
    """Write ``table`` to ``target`` so that readers see the whole file or none of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            pq.write_table(table, handle, **PARQUET_OPTIONS)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(target.parent)


def write_batch(raw_dir: Path, stream: str, table: pa.Table, batch_name: str) -> list[Path]:
    """Append one batch of a stream's events to the lake, one file per event date.

    ``table`` must have the stream's schema. Returns the files written.
    """
    schema = STREAM_SCHEMAS[stream]
    if not table.schema.equals(schema, check_metadata=False):
        raise ValueError(f"batch {batch_name!r} does not match the {stream!r} stream schema")
    if table.num_rows == 0:
        return []
    table = table.sort_by([("occurred_at", "ascending"), ("event_id", "ascending")])
    dates = pc.cast(table.column("occurred_at"), pa.date32()).combine_chunks()
    # Sorted by time, so each date is one contiguous run of rows.
    runs = pc.run_end_encode(dates)
    ends = runs.run_ends.to_pylist()
    values = runs.values.to_pylist()
    written = []
    start = 0
    for end, day in zip(ends, values, strict=True):
        part = raw_dir / stream / f"event_date={day.isoformat()}" / f"{batch_name}.parquet"
        write_parquet_atomic(table.slice(start, end - start), part)
        written.append(part)
        start = end
    return written
