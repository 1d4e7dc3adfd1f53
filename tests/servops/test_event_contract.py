"""The documented contract (docs/events.md) and the code's (servops.events) agree."""

from __future__ import annotations

import pyarrow as pa
import pytest

from servops.events import ENVELOPE_FIELDS, STREAMS, build_table, schema, stream_of
from servops.paths import PROJECT_ROOT

DOC = (PROJECT_ROOT / "docs" / "events.md").read_text()


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_every_stream_column_and_event_type_is_documented(stream: str) -> None:
    section = DOC.split(f"## Stream `{stream}`", 1)[1].split("## Stream", 1)[0]
    for column in STREAMS[stream].fields:
        assert f"| `{column.name}` | {column.type} |" in section
    for event_type, required in STREAMS[stream].event_types.items():
        assert event_type.startswith(f"{stream}.") or stream in {"billing", "chat"}
        assert f"| `{event_type}` |" in section
        assert set(required) <= set(schema(stream).names)


def test_envelope_is_documented_and_event_types_map_to_one_stream() -> None:
    for column in ENVELOPE_FIELDS:
        assert f"| `{column.name}` |" in DOC
    assert stream_of("ticket.created") == "ticket"
    assert stream_of("invoice.paid") == "billing"
    assert stream_of("ticket.exploded") is None


def test_build_table_fills_absent_columns_with_nulls() -> None:
    table = build_table("kb", {"event_id": ["e1"], "article_id": ["a1"]})
    assert table.schema == schema("kb")
    assert table.column("search_query").null_count == 1
    with pytest.raises(KeyError, match="no column"):
        build_table("kb", {"nonsense": pa.array([1])})
