"""Generic envelopes: JSON Lines (one envelope object per line) or Parquet (one per row).

This is how a tool without a connector gets in, and how tests write hand-made histories.
Each line is validated on its own: a broken line is quarantined (``invalid_json``) with its
line number, the rest of the file still lands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors._common import read_parquet_rows
from servops.ingest import INVALID_JSON, INVALID_UTF8, Candidate, UnreadableInput

NAME = "jsonl"


def read_table(path: Path) -> pa.Table | None:
    """A ``.parquet`` file of envelopes as one Arrow table (validated in bulk), else None."""
    path = Path(path)
    if path.suffix.lower() != ".parquet":
        return None
    try:
        return pq.read_table(path)
    except (pa.ArrowException, OSError) as error:
        raise UnreadableInput(path, f"not a readable Parquet file ({error})") from None


def read(path: Path) -> Iterator[Candidate]:
    """Candidates from a ``.jsonl``/``.ndjson`` file, or a ``.parquet`` file of envelopes."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        for row_number, row in enumerate(read_parquet_rows(path), start=1):
            yield Candidate(row_number, {key: value for key, value in row.items()})
        return
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UnreadableInput(path, error.strerror or str(error)) from None
    for line_number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as error:
            raw = line.decode("utf-8", "backslashreplace")
            yield Candidate(
                line_number,
                None,
                raw=raw,
                error=(INVALID_UTF8, None, f"not UTF-8 at byte {error.start} of the line"),
            )
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            yield Candidate(
                line_number,
                None,
                raw=text,
                error=(INVALID_JSON, None, f"{error.msg} at column {error.colno}"),
            )
            continue
        except RecursionError:
            yield Candidate(line_number, None, raw=text, error=(INVALID_JSON, None, "too deep"))
            continue
        yield Candidate(line_number, record, raw=text)
