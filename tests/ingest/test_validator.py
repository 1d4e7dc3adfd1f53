"""The validator: every reason a record is quarantined, UTC normalisation, and a property test."""

from __future__ import annotations

import datetime as dt
import decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servops.events import SCHEMA_VERSION, schema
from servops.ingest import Candidate, validate

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def ticket(**overrides: object) -> dict:
    record = {
        "event_id": "e1",
        "event_type": "ticket.created",
        "occurred_at": "2025-05-31T10:00:00+02:00",
        "source": "test",
        "ticket_id": "T1",
        "customer_id": "C1",
        "channel": "email",
        "priority": "normal",
        "status": "new",
    }
    record.update(overrides)
    return {key: value for key, value in record.items() if value is not ...}


def one(record: object, **kwargs: object):
    return validate([Candidate(1, record)], now=NOW, **kwargs)


def test_a_good_record_is_typed_normalised_to_utc_and_stamped() -> None:
    result = one(ticket())
    assert result.rejections == [] and result.accepted == 1
    table = result.tables["ticket"]
    assert table.schema.equals(schema("ticket"))
    row = table.to_pylist()[0]
    assert row["occurred_at"] == dt.datetime(2025, 5, 31, 8, 0, tzinfo=dt.UTC)
    assert row["received_at"] == NOW
    assert row["schema_version"] == SCHEMA_VERSION


def test_a_given_received_at_is_kept() -> None:
    row = one(ticket(received_at="2025-05-31T09:00:00Z")).tables["ticket"].to_pylist()[0]
    assert row["received_at"] == dt.datetime(2025, 5, 31, 9, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("record", "reason", "field"),
    [
        ([1, 2], "not_an_object", None),
        (ticket(event_type=...), "missing_field", "event_type"),
        (ticket(event_type="ticket.exploded"), "unknown_event_type", "event_type"),
        (ticket(event_type=7), "wrong_type", "event_type"),
        (ticket(ticket_id=...), "missing_field", "ticket_id"),
        (ticket(event_id=""), "missing_field", "event_id"),
        (ticket(priority=None), "missing_field", "priority"),
        (ticket(ticket_id=42), "wrong_type", "ticket_id"),
        (ticket(escalation_tier="2"), "wrong_type", "escalation_tier"),
        (ticket(escalation_tier=True), "wrong_type", "escalation_tier"),
        (ticket(escalation_tier=70000), "wrong_type", "escalation_tier"),
        (ticket(is_public="yes"), "wrong_type", "is_public"),
        (ticket(shoe_size=44), "unknown_field", "shoe_size"),
        (ticket(occurred_at="yesterday"), "bad_timestamp", "occurred_at"),
        (ticket(occurred_at="2025-05-31T10:00:00"), "bad_timestamp", "occurred_at"),
        (ticket(occurred_at=1717000000), "wrong_type", "occurred_at"),
        (ticket(occurred_at="2025-06-01T12:06:00Z"), "future_timestamp", "occurred_at"),
        (ticket(schema_version=99), "unsupported_schema_version", "schema_version"),
        (ticket(subject="a\x00b"), "invalid_unicode", "subject"),
        (ticket(subject="lone \ud800 surrogate"), "invalid_unicode", "subject"),
        (ticket(subject="x" * 70_000), "oversize", None),
    ],
)
def test_each_bad_record_is_rejected_with_its_reason(
    record: object, reason: str, field: str | None
) -> None:
    result = one(record)
    assert result.accepted == 0 and result.received == 1
    (rejection,) = result.rejections
    assert (rejection.reason, rejection.field) == (reason, field)
    assert rejection.detail and rejection.raw_record


def test_valid_unicode_is_kept_as_is() -> None:
    subject = "Grüße 👋 — 日本語 \u200b"
    row = one(ticket(subject=subject)).tables["ticket"].to_pylist()[0]
    assert row["subject"] == subject


def test_the_future_tolerance_is_configurable() -> None:
    record = ticket(occurred_at="2025-06-01T12:06:00Z")
    assert one(record, future_tolerance=dt.timedelta(minutes=10)).accepted == 1
    assert one(ticket(occurred_at="2025-06-01T12:04:00Z")).accepted == 1


def test_money_is_decimal_euros_and_rejects_fractions_of_cents() -> None:
    base = {
        "event_id": "b1",
        "event_type": "invoice.paid",
        "occurred_at": "2025-05-01T00:00:00Z",
        "source": "test",
        "invoice_id": "in_1",
    }
    row = one({**base, "amount_eur": "12.5"}).tables["billing"].to_pylist()[0]
    assert row["amount_eur"] == decimal.Decimal("12.50")
    assert one({**base, "amount_eur": 12.345}).rejections[0].reason == "wrong_type"
    assert one({**base, "amount_eur": "NaN"}).rejections[0].reason == "wrong_type"


def test_a_repeated_event_id_is_written_once_first_wins() -> None:
    first = ticket(subject="first")
    second = ticket(subject="second")
    result = validate([Candidate(1, first), Candidate(2, second)], now=NOW)
    assert (result.received, result.accepted, result.duplicates_skipped) == (2, 2, 1)
    assert result.tables["ticket"].column("subject").to_pylist() == ["first"]


def test_late_events_are_accepted() -> None:
    assert one(ticket(occurred_at="2019-01-01T00:00:00Z")).accepted == 1


# Property: whatever comes in, validate never raises and accounts for every record.
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2025-05-31T10:00:00Z", "2025-05-31T10:00:00", "2999-01-01T00:00:00+14:00"]),
)
FIELD_NAMES = st.sampled_from(
    [
        *schema("ticket").names,
        *schema("billing").names,
        "event_date",
        "nonsense",
        "\x00",
        "\ud800",
    ]
)
EVENT_TYPES = st.sampled_from(["ticket.created", "invoice.paid", "survey.responded", "x.y", ""])


@st.composite
def records(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3)))
    record = draw(st.dictionaries(FIELD_NAMES, JSON_SCALARS, max_size=8))
    if draw(st.booleans()):
        record.update(ticket(event_id=draw(st.sampled_from(["a", "b", "c"]))))
        record.update(draw(st.dictionaries(FIELD_NAMES, JSON_SCALARS, max_size=3)))
    else:
        record["event_type"] = draw(EVENT_TYPES)
    return record


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records(), max_size=12))
def test_validate_never_raises_and_accounts_for_every_record(batch: list) -> None:
    result = validate([Candidate(i, record) for i, record in enumerate(batch, 1)], now=NOW)
    assert result.received == len(batch)
    assert result.accepted + len(result.rejections) == len(batch)
    assert result.written + result.duplicates_skipped == result.accepted
    for stream, table in result.tables.items():
        assert table.schema.equals(schema(stream))
        assert table.column("event_id").null_count == 0
        ids = table.column("event_id").to_pylist()
        assert len(ids) == len(set(ids))
        occurred = table.column("occurred_at")
        assert occurred.type == pa.timestamp("us", tz="UTC") and occurred.null_count == 0


def _envelope_table(records: list[dict]) -> pa.Table:
    """Records as a Parquet-like Arrow table, the way a user's envelope file would hold them."""
    accepted = validate([Candidate(i, r) for i, r in enumerate(records, 1)], now=NOW)
    return accepted.tables["ticket"]


def test_the_vectorized_table_path_agrees_with_the_row_path() -> None:
    from servops.ingest import validate_table

    good = [
        ticket(event_id=f"e{i}", occurred_at=f"2025-05-{1 + i % 9:02d}T10:00:00Z")
        for i in range(20)
    ]
    table = _envelope_table(good)
    # Bad rows, in place: a null required column, a future time, an unknown type, a NUL,
    # and a repeated event_id (first wins).
    rows = table.to_pylist()
    rows[3]["priority"] = None
    rows[5]["occurred_at"] = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    rows[7]["event_type"] = "ticket.nope"
    rows[9]["subject"] = "a\x00b"
    rows[11]["event_id"] = "e2"
    rows[11]["subject"] = "second delivery"
    bad = pa.Table.from_pylist(rows, schema=table.schema)
    fast = validate_table(bad, now=NOW)
    by_rows = validate(
        [
            Candidate(i, {k: v for k, v in r.items() if v is not None})
            for i, r in enumerate(rows, 1)
        ],
        now=NOW,
    )
    assert (fast.received, fast.accepted, fast.duplicates_skipped) == (20, 16, 1)
    assert (by_rows.received, by_rows.accepted, by_rows.duplicates_skipped) == (20, 16, 1)
    assert (
        sorted((r.line, r.reason) for r in fast.rejections)
        == sorted((r.line, r.reason) for r in by_rows.rejections)
        == [
            (4, "missing_field"),
            (6, "future_timestamp"),
            (8, "unknown_event_type"),
            (10, "invalid_unicode"),
        ]
    )
    fast_rows = sorted(fast.tables["ticket"].to_pylist(), key=lambda r: r["event_id"])
    slow_rows = sorted(by_rows.tables["ticket"].to_pylist(), key=lambda r: r["event_id"])
    assert fast_rows == slow_rows
    assert "second delivery" not in fast.tables["ticket"].column("subject").to_pylist()
