"""Fixtures for publishing tests: a private copy of the session's published data directory."""

from __future__ import annotations

import datetime as dt
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from servops.lake import write_batch
from servops.paths import Home


@pytest.fixture
def own_home(published_home: Home, tmp_path, monkeypatch) -> Home:
    """A copy of ``published_home`` (lake and warehouse) that this test may change."""
    home = Home(tmp_path / "home")
    shutil.copytree(published_home.lake, home.lake)
    shutil.copytree(published_home.warehouse_dir, home.warehouse_dir)
    for name, value in home.env().items():
        monkeypatch.setenv(name, value)
    return home


@pytest.fixture
def add_tickets():
    """A function writing new tickets into a home's lake (see ``_add_tickets``)."""
    return _add_tickets


def _add_tickets(home: Home, count: int, batch: str, **overrides: str) -> pa.Table:
    """Write ``count`` new tickets (copies of existing ticket.created events under new ids)."""
    created_parts, found = [], 0
    for source in sorted(home.raw.glob("ticket/event_date=*/*.parquet")):
        table = pq.ParquetFile(source).read()  # not read_table: it adds event_date
        part = table.filter(pc.equal(table["event_type"], "ticket.created"))
        created_parts.append(part)
        found += part.num_rows
        if found >= count:
            break
    created = pa.concat_tables(created_parts).slice(0, count)
    assert created.num_rows == count
    # Received now: incremental marts pick up events received after their last build.
    now = dt.datetime.now(dt.UTC)
    replaced = {
        "received_at": [now] * count,
        "event_id": [f"{batch}-event-{n}" for n in range(count)],
        "ticket_id": [f"{batch}-ticket-{n}" for n in range(count)],
        **{column: [value] * count for column, value in overrides.items()},
    }
    for column, values in replaced.items():
        index = created.schema.get_field_index(column)
        created = created.set_column(
            index, created.schema.field(index), pa.array(values, created.schema.field(index).type)
        )
    write_batch(home.raw, "ticket", created, batch)
    return created
