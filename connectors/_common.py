"""Helpers the connectors share: reading JSON documents and Parquet/CSV with clear errors."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from servops.ingest import UnreadableInput


def load_json(path: Path) -> object:
    """A whole JSON document; ``UnreadableInput`` naming the line when it is broken."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableInput(path, f"not UTF-8 at byte {error.start}") from None
    except OSError as error:
        raise UnreadableInput(path, error.strerror or str(error)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableInput(
            path, f"broken JSON: {error.msg} (column {error.colno})", line=error.lineno
        ) from None


def read_parquet_rows(path: Path) -> list[dict]:
    """Every row of a Parquet file as dicts; ``UnreadableInput`` when it is truncated."""
    try:
        return pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as error:
        raise UnreadableInput(path, f"not a readable Parquet file ({error})") from None


def read_csv_rows(path: Path) -> list[dict]:
    """Every row of a CSV file with a header, as dicts of strings ('' becomes None)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = []
            for row in reader:
                if None in row:
                    raise UnreadableInput(
                        path, "more values than header columns", line=reader.line_num
                    )
                rows.append({key: (value if value != "" else None) for key, value in row.items()})
            return rows
    except UnicodeDecodeError as error:
        raise UnreadableInput(path, f"not UTF-8 at byte {error.start}") from None
    except csv.Error as error:
        raise UnreadableInput(path, f"broken CSV: {error}") from None
    except OSError as error:
        raise UnreadableInput(path, error.strerror or str(error)) from None


def table_columns(path: Path) -> list[str]:
    """The column names of a CSV (its header) or Parquet file, even one without rows."""
    if Path(path).suffix.lower() == ".parquet":
        try:
            return pq.read_schema(path).names
        except (pa.ArrowException, OSError) as error:
            raise UnreadableInput(path, f"not a readable Parquet file ({error})") from None
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return next(csv.reader(handle), [])
    except UnicodeDecodeError as error:
        raise UnreadableInput(path, f"not UTF-8 at byte {error.start}") from None
    except csv.Error as error:
        raise UnreadableInput(path, f"broken CSV: {error}", line=1) from None
    except OSError as error:
        raise UnreadableInput(path, error.strerror or str(error)) from None


def read_table_rows(path: Path) -> list[dict]:
    """Rows of a table landed by an ELT tool, as CSV or Parquet (by file extension)."""
    if Path(path).suffix.lower() == ".parquet":
        return read_parquet_rows(path)
    return read_csv_rows(path)


def utc_iso(value: object) -> str | None:
    """A source timestamp as ISO 8601 UTC text; naive values are taken as UTC.

    ELT tools (Fivetran, Airbyte) and the tools' APIs give UTC; a naive value means UTC.
    Unix seconds (int) are accepted too, as Stripe and Intercom send them.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).isoformat()
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.isoformat()
    text = str(value).strip()
    try:
        moment = dt.datetime.fromisoformat(text.replace(" UTC", "+00:00"))
    except ValueError:
        return text  # left as is: the validator quarantines it as a bad timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.isoformat()


def text_id(value: object) -> str | None:
    """A source id (often an integer) as the envelope's string id."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)
