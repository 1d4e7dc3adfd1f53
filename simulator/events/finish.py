"""Turn generators' event rows into lake tables: ids, arrival times and delivery faults.

``finish`` works on one generator's day in NumPy; ``build_stream`` turns all the days of a
chunk into one Arrow table per stream at once, so Arrow's per-call costs are paid per chunk,
not per day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from servops.events import STREAMS
from simulator.columns import EventRows, build, id_array, stable_order, strings, take

HOUR = 3600
DAY = 24 * HOUR


@dataclass
class RawEvents:
    """One generator's day of a stream, still as NumPy codes (see ``simulator.columns``)."""

    stream: str
    prefix: str
    event_types: list[str]
    types: np.ndarray
    at: np.ndarray
    received: np.ndarray
    sequence: np.ndarray
    columns: dict[str, np.ndarray]
    lookups: dict[str, pa.Array]

    def __len__(self) -> int:
        return len(self.at)


def finish(
    rows: EventRows,
    lookups: dict[str, pa.Array],
    *,
    seed: int,
    source: str,
    day_index: int,
    horizon: int,
    defects: float,
    rng: np.random.Generator,
) -> tuple[RawEvents, dict[str, np.ndarray], list[str], dict[str, int]]:
    """(events to write, the kept rows' columns, malformed JSON lines, fault counts).

    Faults at rate ``defects`` each: a late first delivery (received hours to days after it
    occurred), a duplicate delivery (same ``event_id``, later ``received_at``), and a malformed
    extra copy, which cannot be typed and goes to the inbox as a JSON line instead. The counts
    also say, when there are events, what the lake receives of them: deliveries, first
    deliveries more than a day late, the greatest lateness, the last occurrence and first
    receipt.
    """
    types, at, columns = rows.arrays(horizon)
    m = len(at)
    received = at + rng.integers(0, 5, m)
    sequence = np.arange(m)
    malformed: list[str] = []
    stats = {"events": m, "duplicates": 0, "late": 0, "malformed": 0}
    broken = np.empty(0, dtype=np.int64)
    if defects > 0 and m:
        late = rng.random(m) < defects
        received = np.where(late, at + rng.integers(HOUR, 3 * 24 * HOUR, m), received)
        duplicate = np.flatnonzero(rng.random(m) < defects)
        sequence = np.concatenate([sequence, duplicate])
        received = np.concatenate(
            [received, received[duplicate] + rng.integers(1, 6 * HOUR, len(duplicate))]
        )
        broken = np.flatnonzero(rng.random(m) < defects)
        stats.update(duplicates=len(duplicate), late=int(late.sum()), malformed=len(broken))
    if m:
        # What the lake's stream will show: deliveries, and each event's first delivery
        # (received[:m]; a duplicate comes later) against when it occurred.
        first_received = received[:m]
        lateness = first_received - at
        stats.update(
            deliveries=len(received),
            late_over_a_day=int((lateness > DAY).sum()),
            max_lateness_seconds=int(lateness.max()),
            last_occurred_s=int(at.max()),
            last_received_s=int(first_received.max()),
        )
    prefix = f"sim-{seed}-{source}-{day_index:05d}-"
    # Without duplicates every row is delivered once, in order: no copy of the columns needed.
    copied = len(sequence) != m
    raw = RawEvents(
        rows.stream,
        prefix,
        rows.event_types(),
        types[sequence] if copied else types,
        at[sequence] if copied else at,
        received,
        sequence,
        {name: values[sequence] for name, values in columns.items()} if copied else columns,
        lookups,
    )
    if len(broken):
        sample = build(
            rows.stream,
            raw.event_types,
            types[broken],
            at[broken],
            received[broken],
            id_array(prefix, broken),
            {name: values[broken] for name, values in columns.items()},
            lookups,
        )
        malformed = _malformed(sample, rng)
    kept = dict(columns)
    kept["_type"] = types
    kept["_at"] = at
    return raw, kept, malformed, stats


def build_stream(stream: str, parts: list[RawEvents]) -> pa.Table:
    """One lake table from many generators' days of ``stream``, in time order."""
    event_types = list(STREAMS[stream].event_types)
    parts = [part for part in parts if len(part)]
    if not parts:
        return build(
            stream, event_types, *(np.empty(0, np.int64),) * 3, pa.array([], pa.string()), {}, {}
        )
    sizes = [len(part) for part in parts]
    at = np.concatenate([part.at for part in parts])
    # Rows in time order (ties in generation order), sorted here on int64 seconds while they
    # are still codes: the lake writer then keeps this order instead of sorting strings.
    order = stable_order(at)
    at = at[order]
    codes = np.concatenate(
        [np.array([event_types.index(t) for t in part.event_types])[part.types] for part in parts]
    )[order]
    owner = np.repeat(np.arange(len(parts)), sizes)[order]
    sequence = np.concatenate([part.sequence for part in parts])[order]
    event_ids = pc.binary_join_element_wise(
        take(strings(part.prefix for part in parts), owner),
        pc.cast(pa.array(sequence), pa.string()),
        "",
    )
    names = {name for part in parts for name in part.columns if not name.startswith("_")}
    columns, lookups = {}, {}
    for name in sorted(names):
        kind = next(part.columns[name].dtype for part in parts if name in part.columns)
        fill = np.nan if kind.kind == "f" else -1
        values = [
            part.columns[name] if name in part.columns else np.full(len(part), fill, kind)
            for part in parts
        ]
        tables = [part.lookups.get(name) for part in parts]
        if any(table is not None for table in tables):
            # Lookups differ per day (that day's ticket ids): concatenate them, shift the codes.
            distinct: dict[int, int] = {}
            pieces, offsets = [], []
            for table in tables:
                if table is None:  # this part has no such column: all its codes are null
                    offsets.append(0)
                    continue
                if id(table) not in distinct:
                    distinct[id(table)] = sum(len(piece) for piece in pieces)
                    pieces.append(table)
                offsets.append(distinct[id(table)])
            values = [
                np.where(v >= 0, v + offset, -1) if offset else v
                for v, offset in zip(values, offsets, strict=True)
            ]
            lookups[name] = pieces[0] if len(pieces) == 1 else pa.concat_arrays(pieces)
        columns[name] = np.concatenate(values)[order]
    return build(
        stream,
        event_types,
        codes,
        at,
        np.concatenate([part.received for part in parts])[order],
        event_ids,
        columns,
        lookups,
    )


FAULTS = ("missing_event_id", "bad_timestamp", "unknown_event_type", "wrong_type")


def _malformed(sample: pa.Table, rng: np.random.Generator) -> list[str]:
    """JSON envelopes each broken in one way a validator must catch."""
    lines = []
    faults = rng.integers(0, len(FAULTS), sample.num_rows)
    for record, fault in zip(sample.to_pylist(), faults, strict=True):
        record = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in record.items()}
        match FAULTS[fault]:
            case "missing_event_id":
                record.pop("event_id")
            case "bad_timestamp":
                record["occurred_at"] = "yesterday-ish"
            case "unknown_event_type":
                record["event_type"] = record["event_type"].split(".")[0] + ".exploded"
            case _:
                record["schema_version"] = "one"
        lines.append(json.dumps(record, sort_keys=True, default=str))
    return lines
