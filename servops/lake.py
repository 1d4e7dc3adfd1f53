"""The event lake: one envelope, typed columns per stream, atomic append-only Parquet files.

Every event, whichever system it came from, is stored with the envelope columns and the
typed payload columns of its stream (``servops.events``, documented in ``docs/events.md``).
Files are laid out as ``raw/<stream>/event_date=YYYY-MM-DD/<batch>.parquet`` (the UTC
date of ``occurred_at``) and appear whole or not at all: write to a hidden temporary name,
fsync, rename, fsync the folder. Writing the same batch name again replaces the file with
the same content, so re-running a deterministic producer is idempotent.

A writer killed mid-write (kill -9) leaves its temporary file behind. Temporary names are
``.<file>.<pid>.tmp``: no reader's ``*.parquet`` glob matches them, and
``remove_stale_tmp`` deletes only those whose writer process is gone, never a live one's.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from servops.events import STREAMS
from servops.files import atomic_file

STREAM_SCHEMAS: dict[str, pa.Schema] = {name: stream.schema for name, stream in STREAMS.items()}

PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1, "write_statistics": True}
# Files of fewer rows than this are compressed with Snappy instead. pyarrow's zstd sets up a
# compression context for every page it writes, two per column: ~0.5 ms of a small event
# file's ~1.1 to 1.6 ms (30 to 300 rows), for no smaller file, as a small file is mostly its
# footer. A small company's history is mostly such files (500 accounts, interleaved runs:
# a year, 2,654 files, 7.0 to 7.5 user CPU-s against 7.7 to 8.0; five years, 12,057 files,
# 43.2 and 38.3 against 45.9 and 40.3, wall 2 to 5 % less; the lake the same size). From a
# thousand rows zstd's smaller pages are worth their cost.
# Snappy for every file was measured and not kept (2026-11-27, 10.5 M simulated events, 2,007
# files): writing alone 7.6 against 9.1 CPU-s (6 interleaved rounds, each faster), whole
# simulations 4 % more events/s (6 interleaved runs, 3 of 6 pairs faster), the lake 213
# against 154 MiB; DuckDB read it no faster (the floor 14.8 and 12.6 s against 13.2 and 12.6)
# nor did the full dbt build gain (53.5 and 60.3 s against 54.9 and 52.7). A third more disk
# for every event kept, for a few percent of the simulator's speed.
SMALL_FILE_ROWS = 1_000
SMALL_FILE_OPTIONS = {"compression": "snappy"}
# Event files keep min/max statistics on the envelope's times and types only (the freshness
# check reads received_at's; readers prune on times): payload statistics cost ~10 % of the
# encoding and nothing reads them.
STATISTICS_COLUMNS = ("event_type", "occurred_at", "received_at")
# A temporary file: ".<target name>.<writer pid>.tmp".
TMP_NAME = re.compile(r"^\.(?P<target>.+\.parquet)\.(?P<pid>\d+)\.tmp$")
# Test hook: seconds to hold each temporary file before its rename (a kill -9 lands there).
PAUSE_BEFORE_RENAME_ENV = "SERVOPS_LAKE_PAUSE_BEFORE_RENAME_SECONDS"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def remove_stale_tmp(root: Path, *, recursive: bool = True) -> list[Path]:
    """Delete the temporary files in ``root`` (and below, if ``recursive``) whose writer died.

    Only names this module makes are touched; a file of this process or of any live
    process is kept (it may be mid-write). The lake is assumed local to one host, where
    pids identify writers; a recycled pid only keeps a stale file, never deletes a live one.
    Returns the files removed.
    """
    removed: list[Path] = []
    if recursive:
        folders = ((Path(top), names) for top, _, names in os.walk(root))
    else:
        try:
            folders = iter([(Path(root), os.listdir(root))])
        except FileNotFoundError:
            return removed
    for folder, names in folders:
        for name in names:
            match = TMP_NAME.match(name) if name.endswith(".tmp") else None
            if match is None:
                continue
            pid = int(match["pid"])
            if pid == os.getpid() or _pid_alive(pid):
                continue
            path = folder / name
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth dictionary encoding: all but the near-unique ones.

    Event ids and timestamps rarely repeat; a dictionary for them costs encoding time
    (about a third of the writer's CPU) and makes the file larger, not smaller.
    """
    return [
        field.name
        for field in schema
        if field.name != "event_id" and not pa.types.is_timestamp(field.type)
    ]


def delta_columns(schema: pa.Schema) -> dict[str, str]:
    """Timestamp columns, written with Parquet's DELTA_BINARY_PACKED encoding.

    Times in an event file are close together and mostly ascending: stored as deltas they
    take a fraction of their plain 8 bytes before compression. 10.3 M simulated events: the
    lake 16 % smaller and written ~10 % faster; DuckDB reads it whole a little faster and
    scans the time columns alone ~38 % faster. Every Parquet reader decodes it (DuckDB,
    pyarrow, Spark's vectorized reader).
    """
    return {
        field.name: "DELTA_BINARY_PACKED" for field in schema if pa.types.is_timestamp(field.type)
    }


def statistics_columns(schema: pa.Schema) -> list[str] | bool:
    """The columns given min/max statistics: ``STATISTICS_COLUMNS`` in an event table, else all."""
    if "occurred_at" not in schema.names:
        return True
    return [name for name in STATISTICS_COLUMNS if name in schema.names]


def decoded_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with each dictionary column as its values' type: how a file of it reads back.

    A dictionary-encoded string column is written to Parquet as the dictionary-encoded strings
    it stands for (the lake's files carry no Arrow schema that would say otherwise).
    """
    fields = [
        field.with_type(field.type.value_type) if pa.types.is_dictionary(field.type) else field
        for field in schema
    ]
    return pa.schema(fields, metadata=schema.metadata)


def stores_arrow_schema(schema: pa.Schema) -> bool:
    """Whether a file of ``schema`` keeps the serialized Arrow schema in its metadata.

    A stream's event schema reads back exactly from Parquet's own types (strings, int16,
    decimal, UTC timestamps, required envelope), so event files skip it (serializing it is a
    tenth of a small file's cost); any other table keeps it, as its types may need it.
    """
    schema = decoded_schema(schema)
    return not any(schema.equals(s, check_metadata=False) for s in STREAM_SCHEMAS.values())


def write_parquet_atomic(table: pa.Table, target: Path) -> None:
    """Write ``table`` to ``target`` so that readers see the whole file or none of it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    options = {
        **(SMALL_FILE_OPTIONS if table.num_rows < SMALL_FILE_ROWS else PARQUET_OPTIONS),
        "use_dictionary": dictionary_columns(table.schema),
        "column_encoding": delta_columns(table.schema),
        "write_statistics": statistics_columns(table.schema),
        "store_schema": stores_arrow_schema(table.schema),
    }
    with atomic_file(target) as handle:
        pq.write_table(table, handle, **options)
        pause = float(os.environ.get(PAUSE_BEFORE_RENAME_ENV) or 0)
        if pause:
            time.sleep(pause)


def _time_ordered(table: pa.Table) -> bool:
    """Whether ``occurred_at`` never decreases down the table (checked on int64, no sort)."""
    micros = pc.cast(table.column("occurred_at"), pa.int64()).combine_chunks()
    values = micros.to_numpy(zero_copy_only=False)
    return bool((values[1:] >= values[:-1]).all())


def write_batch(raw_dir: Path, stream: str, table: pa.Table, batch_name: str) -> list[Path]:
    """Append one batch of a stream's events to the lake, one file per event date.

    ``table`` must have the stream's schema (string columns may be dictionary arrays of
    strings: ``decoded_schema``). Rows already in time order keep their order (a
    producer that generates in order skips the sort); others are sorted by ``occurred_at``,
    then ``event_id``. Returns the files written.
    """
    files = batch_files(raw_dir, stream, table, batch_name)
    for path, part in files:
        write_parquet_atomic(part, path)
    return [path for path, _ in files]


def batch_files(
    raw_dir: Path, stream: str, table: pa.Table, batch_name: str
) -> list[tuple[Path, pa.Table]]:
    """The files ``write_batch`` writes for this batch: (path, rows) per event date, in order.

    For a producer that writes the files itself (several at once, each with
    ``write_parquet_atomic``); checks the schema as ``write_batch`` does.
    """
    schema = STREAM_SCHEMAS[stream]
    if not decoded_schema(table.schema).equals(schema, check_metadata=False):
        raise ValueError(f"batch {batch_name!r} does not match the {stream!r} stream schema")
    if table.num_rows == 0:
        return []
    if not _time_ordered(table):
        table = table.sort_by([("occurred_at", "ascending"), ("event_id", "ascending")])
    dates = pc.cast(table.column("occurred_at"), pa.date32()).combine_chunks()
    # Sorted by time, so each date is one contiguous run of rows.
    runs = pc.run_end_encode(dates)
    ends = runs.run_ends.to_pylist()
    values = runs.values.to_pylist()
    files = []
    start = 0
    for end, day in zip(ends, values, strict=True):
        part = raw_dir / stream / f"event_date={day.isoformat()}" / f"{batch_name}.parquet"
        files.append((part, table.slice(start, end - start)))
        start = end
    return files
