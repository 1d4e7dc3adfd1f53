"""Ingestion that loses nothing: validate envelope records, land them, quarantine the rest.

Every way into the lake (a connector reading files, the webhook receiver) goes through
``validate`` and ``commit``:

- ``validate`` checks each candidate record against the event contract (``servops.events``)
  and returns typed Arrow tables per stream plus one ``Rejection`` per bad record, with the
  reason, the field and the source line. It never raises on bad data: every record it is
  given is either accepted or rejected (received = accepted + quarantined).
- ``commit`` writes the accepted events to ``lake/raw`` (atomic files), the rejections to
  ``lake/quarantine/<connector>/<batch>.parquet`` and, last, one row to
  ``lake/ingestion_log/<batch>.parquet``. The log entry is the commit point: a batch whose
  log entry exists is complete; one without it is re-run from the start, and because every
  file name derives from the batch id, a re-run replaces partial output instead of adding
  to it.
- ``ingest_file`` ties them together for a file; its batch id is a hash of the connector and
  the file's bytes, so ingesting the same file twice changes nothing.

``docs/ingestion.md`` documents the guarantees, the quarantine reasons and each connector.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from servops.events import (
    ENVELOPE_FIELDS,
    MONEY,
    SCHEMA_VERSION,
    STREAMS,
    UTC_MICROS,
    build_table,
    schema,
    stream_of,
)
from servops.lake import remove_stale_tmp, write_batch, write_parquet_atomic

DEFAULT_FUTURE_TOLERANCE = dt.timedelta(minutes=5)
DEFAULT_MAX_RECORD_BYTES = 64 * 1024
# Test hook: seconds to sleep between lake files, so a test can kill -9 mid-batch.
PAUSE_ENV = "SERVOPS_INGEST_PAUSE_SECONDS"

# Quarantine reasons (documented in docs/ingestion.md).
NOT_AN_OBJECT = "not_an_object"
INVALID_JSON = "invalid_json"
INVALID_UTF8 = "invalid_utf8"
INVALID_UNICODE = "invalid_unicode"
OVERSIZE = "oversize"
MISSING_FIELD = "missing_field"
UNKNOWN_EVENT_TYPE = "unknown_event_type"
UNKNOWN_FIELD = "unknown_field"
WRONG_TYPE = "wrong_type"
BAD_TIMESTAMP = "bad_timestamp"
FUTURE_TIMESTAMP = "future_timestamp"
UNSUPPORTED_SCHEMA_VERSION = "unsupported_schema_version"
UNMAPPED_SOURCE_OBJECT = "unmapped_source_object"
REASONS = (
    NOT_AN_OBJECT,
    INVALID_JSON,
    INVALID_UTF8,
    INVALID_UNICODE,
    OVERSIZE,
    MISSING_FIELD,
    UNKNOWN_EVENT_TYPE,
    UNKNOWN_FIELD,
    WRONG_TYPE,
    BAD_TIMESTAMP,
    FUTURE_TIMESTAMP,
    UNSUPPORTED_SCHEMA_VERSION,
    UNMAPPED_SOURCE_OBJECT,
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("connector", pa.string(), nullable=False),
        pa.field("source_file", pa.string()),
        pa.field("line_number", pa.int64()),
        pa.field("event_id", pa.string()),
        pa.field("event_type", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("field", pa.string()),
        pa.field("detail", pa.string()),
        pa.field("raw_record", pa.string()),
        pa.field("quarantined_at", UTC_MICROS, nullable=False),
    ]
)

LOG_SCHEMA = pa.schema(
    [
        pa.field("batch_id", pa.string(), nullable=False),
        pa.field("connector", pa.string(), nullable=False),
        pa.field("source_file", pa.string()),
        pa.field("content_sha256", pa.string()),
        pa.field("received_count", pa.int64(), nullable=False),
        pa.field("accepted_count", pa.int64(), nullable=False),
        pa.field("quarantined_count", pa.int64(), nullable=False),
        pa.field("duplicates_skipped_count", pa.int64(), nullable=False),
        pa.field("written_count", pa.int64(), nullable=False),
        pa.field("started_at", UTC_MICROS, nullable=False),
        pa.field("finished_at", UTC_MICROS, nullable=False),
    ]
)

_ENVELOPE_NAMES = {f.name for f in ENVELOPE_FIELDS}
_STREAM_TYPES = {name: {f.name: f.type for f in s.schema} for name, s in STREAMS.items()}
_INT_RANGES = {pa.int16(): 2**15, pa.int32(): 2**31, pa.int64(): 2**63}
_MAX_MONEY = decimal.Decimal(10) ** 16
_CENT = decimal.Decimal("0.01")


class UnreadableInput(Exception):
    """A whole input file cannot be read (truncated Parquet, broken JSON document, ...).

    The message names the file and, where known, the line; nothing of the file is ingested.
    """

    def __init__(self, path: str | os.PathLike, message: str, line: int | None = None):
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass(frozen=True)
class Candidate:
    """One record a connector read: an envelope dict, or a parse error to quarantine.

    ``line`` is the 1-based line or row in the source; ``raw`` the original text when the
    source is text. A connector that cannot map a source object sets ``error`` to
    ``(reason, field, detail)`` and ``record`` to the source object, so it is quarantined
    rather than dropped.
    """

    line: int
    record: object
    raw: str | None = None
    error: tuple[str, str | None, str] | None = None


@dataclass(frozen=True)
class Rejection:
    """A record that failed validation, with why, where and what it was."""

    line: int
    reason: str
    field: str | None
    detail: str
    event_id: str | None
    event_type: str | None
    raw_record: str


@dataclass
class Validated:
    """The outcome of ``validate``: typed tables per stream and every rejection."""

    tables: dict[str, pa.Table]
    rejections: list[Rejection]
    received: int
    duplicates_skipped: int

    @property
    def accepted(self) -> int:
        return self.received - len(self.rejections)

    @property
    def written(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


@dataclass(frozen=True)
class Summary:
    """What one ingestion did, as recorded in the ingestion log."""

    batch_id: str
    connector: str
    source_file: str
    received: int
    accepted: int
    quarantined: int
    duplicates_skipped: int
    written: int
    already_ingested: bool = False
    reasons: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """A one-line summary for the command line."""
        if self.already_ingested:
            return (
                f"{self.source_file}: already ingested as batch {self.batch_id} "
                f"({self.received} received); nothing to do"
            )
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.reasons.items()))
        return (
            f"{self.source_file}: received {self.received}, accepted {self.accepted}, "
            f"quarantined {self.quarantined}{f' ({reasons})' if reasons else ''}, "
            f"duplicates {self.duplicates_skipped} (batch {self.batch_id})"
        )


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _raw_text(candidate: Candidate) -> str:
    if candidate.raw is not None:
        return candidate.raw.encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        # ensure_ascii escapes lone surrogates and NUL, so any record can be stored as text.
        return json.dumps(candidate.record, default=str, ensure_ascii=True, sort_keys=True)
    except (TypeError, ValueError) as error:  # circular or otherwise unprintable
        return f"<unprintable record: {error}>"


def _record_bytes(candidate: Candidate) -> int:
    if candidate.raw is not None:
        return len(candidate.raw.encode("utf-8", "surrogatepass"))
    try:
        text = json.dumps(candidate.record, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        return 0
    return len(text.encode("utf-8", "surrogatepass"))


class _Invalid(Exception):
    def __init__(self, reason: str, field_name: str | None, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.field = field_name
        self.detail = detail


def parse_timestamp(value: object, field_name: str) -> dt.datetime:
    """An aware UTC datetime from an ISO 8601 string with an offset or an aware datetime."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise _Invalid(
                BAD_TIMESTAMP, field_name, f"{value!r} is not an ISO 8601 timestamp"
            ) from None
    elif isinstance(value, dt.datetime):
        parsed = value
    else:
        raise _Invalid(
            WRONG_TYPE,
            field_name,
            f"expected an ISO 8601 timestamp string, got {type(value).__name__}",
        )
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Invalid(BAD_TIMESTAMP, field_name, f"{value!r} has no UTC offset (add Z or +hh:mm)")
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise _Invalid(BAD_TIMESTAMP, field_name, f"{value!r} is out of range") from None


def _coerce(value: object, type_: pa.DataType, name: str) -> object:
    """``value`` as the Python value Arrow stores for ``type_``, or raise ``_Invalid``."""
    if type_ == pa.string():
        if not isinstance(value, str):
            raise _Invalid(WRONG_TYPE, name, f"expected a string, got {type(value).__name__}")
        return value
    if type_ == pa.bool_():
        if not isinstance(value, bool):
            raise _Invalid(WRONG_TYPE, name, f"expected true/false, got {type(value).__name__}")
        return value
    if type_ in _INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(WRONG_TYPE, name, f"expected an integer, got {type(value).__name__}")
        bound = _INT_RANGES[type_]
        if not -bound <= value < bound:
            raise _Invalid(WRONG_TYPE, name, f"{value} does not fit {type_}")
        return value
    if type_ == pa.float64():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(WRONG_TYPE, name, f"expected a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise _Invalid(WRONG_TYPE, name, f"{value} is not a finite number")
        return float(value)
    if type_ == MONEY:
        if isinstance(value, bool) or not isinstance(value, int | float | str | decimal.Decimal):
            raise _Invalid(
                WRONG_TYPE, name, f"expected a decimal amount, got {type(value).__name__}"
            )
        try:
            amount = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            raise _Invalid(WRONG_TYPE, name, f"{value!r} is not a decimal amount") from None
        if not amount.is_finite() or abs(amount) >= _MAX_MONEY:
            raise _Invalid(WRONG_TYPE, name, f"{value!r} is not a finite amount below 1e16")
        if amount != amount.quantize(_CENT):
            raise _Invalid(WRONG_TYPE, name, f"{value!r} has more than 2 decimal places")
        return amount.quantize(_CENT)
    if type_ == UTC_MICROS:
        return parse_timestamp(value, name)
    raise AssertionError(f"no coercion for {type_}")  # the contract only uses the types above


def _check_unicode(record: dict) -> None:
    for key, value in record.items():
        for text, what in ((key, "field name"), (value, "value")):
            if not isinstance(text, str):
                continue
            if "\x00" in text:
                raise _Invalid(INVALID_UNICODE, str(key), f"{what} contains a NUL character")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                field_name = key.encode("utf-8", "backslashreplace").decode()
                raise _Invalid(
                    INVALID_UNICODE, field_name, f"{what} contains a lone surrogate"
                ) from None


def _validate_one(
    record: dict, *, latest: dt.datetime, received_at: dt.datetime
) -> tuple[str, dict]:
    _check_unicode(record)
    event_type = record.get("event_type")
    if event_type is None:
        raise _Invalid(MISSING_FIELD, "event_type", "event_type is required")
    if not isinstance(event_type, str):
        raise _Invalid(WRONG_TYPE, "event_type", "event_type must be a string")
    stream = stream_of(event_type)
    if stream is None:
        raise _Invalid(
            UNKNOWN_EVENT_TYPE, "event_type", f"{event_type!r} is not in the event contract"
        )
    types = _STREAM_TYPES[stream]
    unknown = sorted(str(key) for key in record if key not in types)
    if unknown:
        raise _Invalid(UNKNOWN_FIELD, unknown[0], f"the {stream} stream has no column(s) {unknown}")
    row: dict = {}
    for name, value in record.items():
        if value is not None:
            row[name] = _coerce(value, types[name], name)
    version = row.setdefault("schema_version", SCHEMA_VERSION)
    if not 1 <= version <= SCHEMA_VERSION:
        raise _Invalid(
            UNSUPPORTED_SCHEMA_VERSION,
            "schema_version",
            f"schema_version {version} (this contract is version {SCHEMA_VERSION})",
        )
    row.setdefault("received_at", received_at)
    required = ("event_id", "event_type", "occurred_at", "source")
    for name in (*required, *STREAMS[stream].event_types[event_type]):
        if row.get(name) in (None, ""):
            raise _Invalid(MISSING_FIELD, name, f"{event_type} requires {name}")
    if row["occurred_at"] > latest:
        raise _Invalid(
            FUTURE_TIMESTAMP,
            "occurred_at",
            f"{row['occurred_at'].isoformat()} is later than now plus the tolerance",
        )
    return stream, row


def validate(
    candidates: Iterable[Candidate],
    *,
    now: dt.datetime | None = None,
    future_tolerance: dt.timedelta = DEFAULT_FUTURE_TOLERANCE,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Validated:
    """Check candidate envelope records against the event contract.

    Returns the accepted events as tables in each stream's exact schema (offsets normalised
    to UTC, ``received_at`` set to ``now`` where absent, a repeated ``event_id`` kept once,
    first occurrence wins) and one ``Rejection`` per bad record. Never raises on bad data.
    """
    now = now or now_utc()
    latest = now + future_tolerance
    rows: dict[str, list[dict]] = {}
    rejections: list[Rejection] = []
    seen: set[str] = set()
    received = duplicates = 0
    for candidate in candidates:
        received += 1
        record = candidate.record
        try:
            if candidate.error is not None:
                raise _Invalid(*candidate.error)
            if not isinstance(record, dict):
                raise _Invalid(
                    NOT_AN_OBJECT, None, f"expected a JSON object, got {type(record).__name__}"
                )
            size = _record_bytes(candidate)
            if size > max_record_bytes:
                raise _Invalid(
                    OVERSIZE, None, f"{size} bytes is over the {max_record_bytes} byte limit"
                )
            stream, row = _validate_one(record, latest=latest, received_at=now)
        except _Invalid as invalid:
            event_id = record.get("event_id") if isinstance(record, dict) else None
            event_type = record.get("event_type") if isinstance(record, dict) else None
            rejections.append(
                Rejection(
                    line=candidate.line,
                    reason=invalid.reason,
                    field=invalid.field,
                    detail=invalid.detail,
                    event_id=_printable(event_id),
                    event_type=_printable(event_type),
                    raw_record=_raw_text(candidate),
                )
            )
            continue
        if row["event_id"] in seen:
            duplicates += 1
            continue
        seen.add(row["event_id"])
        rows.setdefault(stream, []).append(row)
    tables = {stream: _to_table(stream, stream_rows) for stream, stream_rows in rows.items()}
    return Validated(tables, rejections, received, duplicates)


def validate_table(
    table: pa.Table,
    *,
    now: dt.datetime | None = None,
    future_tolerance: dt.timedelta = DEFAULT_FUTURE_TOLERANCE,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Validated:
    """``validate`` for envelopes already in Arrow form (a Parquet file), vectorized.

    Rows that pass every check in bulk are cast straight into their stream's schema; the
    rest go through ``validate`` row by row, which gives each its reason. The outcome is
    the same as ``validate`` on ``table.to_pylist()``, including first-wins duplicates.
    """
    now = now or now_utc()
    latest = pa.scalar(now + future_tolerance, UTC_MICROS)
    count = table.num_rows
    index = pa.array(np.arange(count, dtype=np.int64))
    table = table.append_column("__row", index)
    fast: dict[str, pa.Table] = {}
    slow_rows: list[int] = []
    event_types = table.column("event_type") if "event_type" in table.column_names else None
    if event_types is None or not pa.types.is_string(event_types.type):
        slow_rows = list(range(count))
    else:
        handled = pa.array(np.zeros(count, dtype=bool))
        for stream_name, stream in STREAMS.items():
            types = list(stream.event_types)
            in_stream = pc.fill_null(pc.is_in(event_types, pa.array(types)), False)
            if not pc.any(in_stream).as_py():
                continue
            handled = pc.or_(handled, in_stream)
            part = table.filter(in_stream)
            good, bad = _fast_stream(
                part, stream_name, now=now, latest=latest, max_record_bytes=max_record_bytes
            )
            if good is not None and good.num_rows:
                fast[stream_name] = good
            slow_rows += bad
        slow_rows += pc.indices_nonzero(pc.invert(handled)).to_pylist()
    slow_rows.sort()
    rest = table.take(pa.array(slow_rows, pa.int64())).drop_columns(["__row"])
    candidates = [
        Candidate(row + 1, {key: value for key, value in record.items() if value is not None})
        for row, record in zip(slow_rows, rest.to_pylist(), strict=True)
    ]
    slow = validate(
        candidates, now=now, future_tolerance=future_tolerance, max_record_bytes=max_record_bytes
    )
    # First occurrence wins across the fast and the slow rows, in input order.
    pieces = list(fast.items())
    for stream_name, slow_table in slow.tables.items():
        pieces.append((stream_name, _with_rows(slow_table, candidates, slow)))
    tables: dict[str, pa.Table] = {}
    all_ids = [piece.select(["event_id", "__row"]) for _, piece in pieces]
    duplicates = slow.duplicates_skipped
    if all_ids:
        ids = pa.concat_tables(all_ids)
        first = ids.group_by("event_id").aggregate([("__row", "min")])
        keep = first.column("__row_min").combine_chunks()
        for stream_name, piece in pieces:
            mask = pc.is_in(piece.column("__row"), keep)
            kept = piece.filter(mask).drop_columns(["__row"])
            duplicates += piece.num_rows - kept.num_rows
            if kept.num_rows:
                previous = tables.get(stream_name)
                tables[stream_name] = (
                    kept if previous is None else pa.concat_tables([previous, kept])
                )
    return Validated(tables, slow.rejections, count, duplicates)


def _with_rows(table: pa.Table, candidates: list[Candidate], validated: Validated) -> pa.Table:
    """The slow path's accepted rows with their input row numbers (matched by event_id)."""
    first_row: dict[str, int] = {}
    rejected = {rejection.line for rejection in validated.rejections}
    for candidate in candidates:
        if candidate.line in rejected:
            continue
        first_row.setdefault(candidate.record["event_id"], candidate.line - 1)
    rows = [first_row[event_id] for event_id in table.column("event_id").to_pylist()]
    return table.append_column("__row", pa.array(rows, pa.int64()))


def _fast_stream(
    part: pa.Table,
    stream: str,
    *,
    now: dt.datetime,
    latest: pa.Scalar,
    max_record_bytes: int,
) -> tuple[pa.Table | None, list[int]]:
    """Split one stream's rows into a typed table of rows passing every check in bulk and
    the row numbers that need the row-by-row path (to be accepted or told why not)."""
    rows = part.column("__row")
    target = schema(stream)
    names = set(target.names)
    extra = [name for name in part.column_names if name not in names and name != "__row"]
    ok = pa.array(np.ones(part.num_rows, dtype=bool))
    for name in extra:  # a value in a column the stream lacks: unknown_field, row by row
        ok = pc.and_(ok, pc.is_null(part.column(name)))
    columns = {}
    size = pa.array(np.zeros(part.num_rows, dtype=np.int64))
    for field_ in target:
        if field_.name not in part.column_names:
            columns[field_.name] = pa.nulls(part.num_rows, field_.type)
            continue
        column = part.column(field_.name)
        if pa.types.is_timestamp(field_.type) and not (
            pa.types.is_timestamp(column.type) and column.type.tz is not None
        ):
            return None, rows.to_pylist()  # text or naive timestamps: checked row by row
        if pa.types.is_string(field_.type) and not pa.types.is_string(column.type):
            return None, rows.to_pylist()
        try:
            cast = pc.cast(column, field_.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None, rows.to_pylist()
        if pa.types.is_timestamp(field_.type):
            cast = pc.cast(column, UTC_MICROS)
        if pa.types.is_string(field_.type):
            ok = pc.and_(ok, pc.invert(pc.fill_null(pc.match_substring(cast, "\x00"), False)))
            size = pc.add(size, pc.fill_null(pc.binary_length(cast), 0))
        else:
            size = pc.add(size, 16)
        columns[field_.name] = cast
    ok = pc.and_(ok, pc.less_equal(size, max_record_bytes))
    columns["schema_version"] = pc.fill_null(columns["schema_version"], SCHEMA_VERSION)
    version = columns["schema_version"]
    ok = pc.and_(ok, pc.and_(pc.greater_equal(version, 1), pc.less_equal(version, SCHEMA_VERSION)))
    columns["received_at"] = pc.fill_null(columns["received_at"], pa.scalar(now, UTC_MICROS))
    for name in ("event_id", "event_type", "occurred_at", "source"):
        ok = pc.and_(ok, _present(columns[name]))
    event_type = columns["event_type"]
    for kind, required in STREAMS[stream].event_types.items():
        is_kind = pc.equal(event_type, kind)
        for name in required:
            ok = pc.and_(ok, pc.or_(pc.invert(is_kind), _present(columns[name])))
    ok = pc.and_(ok, pc.fill_null(pc.less_equal(columns["occurred_at"], latest), False))
    ok = pc.fill_null(ok, False)
    good = pa.Table.from_arrays([columns[f.name] for f in target], schema=target).append_column(
        "__row", rows
    )
    bad = pc.indices_nonzero(pc.invert(ok))
    return good.filter(ok), rows.take(bad).to_pylist()


def _present(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    present = pc.is_valid(column)
    if pa.types.is_string(column.type):
        present = pc.and_(present, pc.fill_null(pc.not_equal(column, ""), False))
    return present


def _printable(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def _to_table(stream: str, rows: list[dict]) -> pa.Table:
    names = _STREAM_TYPES[stream]
    columns = {name: [row.get(name) for row in rows] for name in names}
    return build_table(stream, columns)


# Writing a batch -------------------------------------------------------------------------


def quarantine_dir(lake: Path) -> Path:
    return lake / "quarantine"


def log_dir(lake: Path) -> Path:
    return lake / "ingestion_log"


def log_path(lake: Path, batch_id: str) -> Path:
    return log_dir(lake) / f"{batch_id}.parquet"


def _pause() -> None:
    seconds = float(os.environ.get(PAUSE_ENV, "0") or 0)
    if seconds:
        time.sleep(seconds)


def write_events(raw: Path, tables: dict[str, pa.Table], batch_id: str) -> list[Path]:
    """Write each stream's events, one atomic file per UTC event date, named by the batch."""
    written: list[Path] = []
    for stream, table in sorted(tables.items()):
        dates = pc.cast(table.column("occurred_at"), pa.date32())
        for day in pc.unique(dates).to_pylist():
            part = table.filter(pc.equal(dates, pa.scalar(day, pa.date32())))
            written += write_batch(raw, stream, part, batch_id)
            _pause()
    return written


def commit(
    lake: Path,
    *,
    batch_id: str,
    connector: str,
    source_file: str,
    validated: Validated,
    started_at: dt.datetime,
    content_sha256: str | None = None,
) -> Summary:
    """Land a validated batch: events, then quarantine, then (last) the ingestion-log row."""
    write_events(lake / "raw", validated.tables, batch_id)
    if validated.rejections:
        stamp = now_utc()
        rejections = validated.rejections
        table = pa.Table.from_pydict(
            {
                "batch_id": [batch_id] * len(rejections),
                "connector": [connector] * len(rejections),
                "source_file": [source_file] * len(rejections),
                "line_number": [r.line for r in rejections],
                "event_id": [r.event_id for r in rejections],
                "event_type": [r.event_type for r in rejections],
                "reason": [r.reason for r in rejections],
                "field": [_printable(r.field) for r in rejections],
                "detail": [_printable(r.detail) for r in rejections],
                "raw_record": [r.raw_record for r in rejections],
                "quarantined_at": [stamp] * len(rejections),
            },
            schema=QUARANTINE_SCHEMA,
        )
        write_parquet_atomic(table, quarantine_dir(lake) / connector / f"{batch_id}.parquet")
        _pause()
    summary = Summary(
        batch_id=batch_id,
        connector=connector,
        source_file=source_file,
        received=validated.received,
        accepted=validated.accepted,
        quarantined=len(validated.rejections),
        duplicates_skipped=validated.duplicates_skipped,
        written=validated.written,
        reasons=_count_reasons(validated.rejections),
    )
    assert summary.received == summary.accepted + summary.quarantined
    log = pa.Table.from_pylist(
        [
            {
                "batch_id": batch_id,
                "connector": connector,
                "source_file": source_file,
                "content_sha256": content_sha256,
                "received_count": summary.received,
                "accepted_count": summary.accepted,
                "quarantined_count": summary.quarantined,
                "duplicates_skipped_count": summary.duplicates_skipped,
                "written_count": summary.written,
                "started_at": started_at,
                "finished_at": now_utc(),
            }
        ],
        schema=LOG_SCHEMA,
    )
    write_parquet_atomic(log, log_path(lake, batch_id))
    return summary


def _count_reasons(rejections: list[Rejection]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rejection in rejections:
        counts[rejection.reason] = counts.get(rejection.reason, 0) + 1
    return counts


def _batch_folders(lake: Path, connector: str, validated: Validated) -> list[Path]:
    """The folders a batch writes to: its event dates', its quarantine's and the log's."""
    folders = [quarantine_dir(lake) / connector, log_dir(lake)]
    for stream, table in validated.tables.items():
        dates = pc.unique(pc.cast(table.column("occurred_at"), pa.date32())).to_pylist()
        folders += [lake / "raw" / stream / f"event_date={day.isoformat()}" for day in dates]
    return folders


def file_sha256(path: Path, connector: str, options: str = "") -> str:
    """The hash a file's batch id derives from: the connector, its options, the file's bytes."""
    digest = hashlib.sha256(f"{connector}\0{options}\0".encode())
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise UnreadableInput(path, error.strerror or str(error)) from None
    return digest.hexdigest()


def batch_id_for(connector: str, sha256: str) -> str:
    return f"{connector}-{sha256[:24]}"


def read_log(lake: Path, batch_id: str) -> dict | None:
    """The ingestion-log row of ``batch_id``, or None when the batch is not (fully) ingested."""
    path = log_path(lake, batch_id)
    if not path.exists():
        return None
    return pq.read_table(path).to_pylist()[0]


Reader = Callable[[Path], Iterator[Candidate]]


def ingest_file(
    lake: Path,
    connector: str,
    read: Reader,
    path: Path,
    *,
    now: dt.datetime | None = None,
    future_tolerance: dt.timedelta = DEFAULT_FUTURE_TOLERANCE,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    options: str = "",
    read_table: Callable[[Path], pa.Table | None] | None = None,
) -> Summary:
    """Ingest one file with a connector's ``read``; skip it if this content was ingested.

    Raises ``UnreadableInput`` (naming file and line) when the file cannot be read at all;
    then nothing of it is written. ``options`` (e.g. a column mapping) count as part of the
    input: the same file read with other options is another batch. A connector whose
    input is already envelopes in Arrow form passes ``read_table`` (returning None when the
    file is not such a table) and gets the vectorized ``validate_table``.
    """
    started = now_utc()
    path = Path(path)
    sha256 = file_sha256(path, connector, options)
    batch_id = batch_id_for(connector, sha256)
    done = read_log(lake, batch_id)
    if done is not None:
        return Summary(
            batch_id=batch_id,
            connector=connector,
            source_file=str(path),
            received=done["received_count"],
            accepted=done["accepted_count"],
            quarantined=done["quarantined_count"],
            duplicates_skipped=done["duplicates_skipped_count"],
            written=done["written_count"],
            already_ingested=True,
        )
    # Read everything before writing anything: an unreadable file leaves no trace.
    limits = {
        "now": now,
        "future_tolerance": future_tolerance,
        "max_record_bytes": max_record_bytes,
    }
    table = read_table(path) if read_table is not None else None
    if table is not None:
        validated = validate_table(table, **limits)
    else:
        validated = validate(list(read(path)), **limits)
    # A run of this batch killed mid-write (kill -9) left temporary files where this one
    # writes; clear the dead writers' ones. (``servops ingest`` also sweeps the whole lake.)
    for folder in _batch_folders(lake, connector, validated):
        remove_stale_tmp(folder, recursive=False)
    return commit(
        lake,
        batch_id=batch_id,
        connector=connector,
        source_file=str(path),
        validated=validated,
        started_at=started,
        content_sha256=sha256,
    )
