"""The event contract: one envelope for every event, and each stream's typed payload.

Every event carries the envelope columns; each stream adds its entity keys and the typed
payload columns of its event types (a column an event type does not use is null). The lake
stores each stream with exactly the Arrow schema ``schema(stream)``. ``docs/events.md`` is
the human-readable version of this module; a test keeps the two in step.

Bump ``SCHEMA_VERSION`` when a stream's columns change meaning; adding a nullable column
does not need a bump (the lake is read with ``union_by_name``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

SCHEMA_VERSION = 1
UTC_MICROS = pa.timestamp("us", tz="UTC")
MONEY = pa.decimal128(18, 2)

ENVELOPE_FIELDS = (
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("event_type", pa.string(), nullable=False),
    pa.field("schema_version", pa.int16(), nullable=False),
    pa.field("occurred_at", UTC_MICROS, nullable=False),
    pa.field("received_at", UTC_MICROS, nullable=False),
    pa.field("source", pa.string(), nullable=False),
)

TICKET_STATUSES = ("new", "open", "pending", "on_hold", "solved", "closed")
AUTHOR_TYPES = ("agent", "customer", "bot")
SURVEY_TYPES = ("nps", "csat", "ces")


@dataclass(frozen=True)
class Stream:
    """A stream: its columns after the envelope, and per event type the columns it requires."""

    name: str
    fields: tuple[pa.Field, ...]
    event_types: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([*ENVELOPE_FIELDS, *self.fields])


def _f(name: str, type_: pa.DataType | None = None) -> pa.Field:
    return pa.field(name, type_ or pa.string())


STREAMS: dict[str, Stream] = {
    stream.name: stream
    for stream in (
        Stream(
            "ticket",
            (
                _f("ticket_id"),
                _f("customer_id"),
                _f("team_id"),
                _f("agent_id"),
                _f("channel"),
                _f("priority"),
                _f("status"),
                _f("previous_status"),
                _f("author_type"),
                _f("is_public", pa.bool_()),
                _f("previous_team_id"),
                _f("previous_priority"),
                _f("escalation_tier", pa.int16()),
                _f("merged_into_ticket_id"),
                _f("macro_id"),
                _f("automation_rule_id"),
                _f("subject"),
            ),
            {
                "ticket.created": ("ticket_id", "customer_id", "channel", "priority", "status"),
                "ticket.assigned": ("ticket_id", "team_id"),
                "ticket.commented": ("ticket_id", "author_type", "is_public"),
                "ticket.status_changed": ("ticket_id", "status"),
                "ticket.priority_changed": ("ticket_id", "priority"),
                "ticket.escalated": ("ticket_id", "team_id", "escalation_tier"),
                "ticket.reopened": ("ticket_id",),
                "ticket.merged": ("ticket_id", "merged_into_ticket_id"),
                "ticket.macro_applied": ("ticket_id", "macro_id"),
                "ticket.automation_fired": ("ticket_id", "automation_rule_id"),
            },
        ),
        Stream(
            "survey",
            (
                _f("survey_id"),
                _f("survey_type"),
                _f("customer_id"),
                _f("contact_id"),
                _f("ticket_id"),
                _f("agent_id"),
                _f("team_id"),
                _f("score", pa.int16()),
                _f("comment"),
            ),
            {
                "survey.sent": ("survey_id", "survey_type", "customer_id"),
                "survey.responded": ("survey_id", "survey_type", "customer_id", "score"),
            },
        ),
        Stream(
            "billing",
            (
                _f("customer_id"),
                _f("subscription_id"),
                _f("plan_id"),
                _f("billing_period"),
                _f("mrr_amount_eur", MONEY),
                _f("previous_mrr_amount_eur", MONEY),
                _f("discount_pct", pa.float64()),
                _f("period_end_at", UTC_MICROS),
                _f("invoice_id"),
                _f("amount_eur", MONEY),
                _f("attempt_number", pa.int16()),
                _f("failure_reason"),
            ),
            {
                "subscription.started": (
                    "customer_id",
                    "subscription_id",
                    "plan_id",
                    "billing_period",
                    "mrr_amount_eur",
                ),
                "subscription.upgraded": ("subscription_id", "plan_id", "mrr_amount_eur"),
                "subscription.downgraded": ("subscription_id", "plan_id", "mrr_amount_eur"),
                "subscription.renewed": ("subscription_id", "period_end_at"),
                "subscription.cancelled": ("subscription_id", "period_end_at"),
                "invoice.issued": ("invoice_id", "subscription_id", "amount_eur"),
                "invoice.paid": ("invoice_id", "amount_eur"),
                "invoice.payment_failed": ("invoice_id", "attempt_number"),
                "invoice.refunded": ("invoice_id", "amount_eur"),
            },
        ),
        Stream(
            "chat",
            (
                _f("conversation_id"),
                _f("customer_id"),
                _f("agent_id"),
                _f("team_id"),
                _f("channel"),
                _f("author_type"),
                _f("resolution_type"),
                _f("article_id"),
            ),
            {
                "conversation.started": ("conversation_id", "customer_id", "channel"),
                "conversation.bot_answered": ("conversation_id",),
                "conversation.bot_resolved": ("conversation_id", "resolution_type"),
                "conversation.handed_off": ("conversation_id", "team_id"),
                "conversation.agent_message": ("conversation_id", "agent_id"),
                "conversation.customer_message": ("conversation_id",),
                "conversation.closed": ("conversation_id",),
            },
        ),
        Stream(
            "kb",
            (
                _f("customer_id"),
                _f("session_id"),
                _f("article_id"),
                _f("search_query"),
                _f("result_count", pa.int32()),
                _f("is_helpful", pa.bool_()),
            ),
            {
                "kb.article_viewed": ("article_id",),
                "kb.searched": ("search_query", "result_count"),
                "kb.article_voted": ("article_id", "is_helpful"),
            },
        ),
        Stream(
            "onboarding",
            (_f("customer_id"), _f("milestone"), _f("milestone_order", pa.int16())),
            {"onboarding.milestone_reached": ("customer_id", "milestone", "milestone_order")},
        ),
        Stream(
            "agent",
            (
                _f("agent_id"),
                _f("team_id"),
                _f("agent_name"),
                _f("shift_id"),
                _f("agent_status"),
                _f("skills"),
                _f("timezone"),
            ),
            {
                "agent.hired": ("agent_id", "team_id", "agent_name"),
                "agent.left": ("agent_id",),
                "agent.shift_started": ("agent_id", "shift_id"),
                "agent.shift_ended": ("agent_id", "shift_id"),
                "agent.status_changed": ("agent_id", "agent_status"),
            },
        ),
        Stream(
            "customer",
            (
                _f("customer_id"),
                _f("company_name"),
                _f("segment"),
                _f("region"),
                _f("country"),
                _f("timezone"),
                _f("size_band"),
                _f("contact_id"),
                _f("contact_name"),
                _f("contact_email"),
            ),
            {
                "customer.created": ("customer_id", "company_name", "segment", "region"),
                "customer.updated": ("customer_id",),
                "customer.contact_added": ("customer_id", "contact_id"),
            },
        ),
    )
}

EVENT_TYPES: dict[str, str] = {
    event_type: stream.name for stream in STREAMS.values() for event_type in stream.event_types
}


def schema(stream: str) -> pa.Schema:
    """The lake schema of ``stream``: the envelope, then the stream's typed columns."""
    return STREAMS[stream].schema


def stream_of(event_type: str) -> str | None:
    """The stream an event type belongs to (``ticket.created`` -> ``ticket``), or None."""
    return EVENT_TYPES.get(event_type)


def build_table(stream: str, columns: dict[str, pa.Array | list]) -> pa.Table:
    """A table in ``stream``'s exact schema from the columns given; the rest are null."""
    target = schema(stream)
    unknown = set(columns) - set(target.names)
    if unknown:
        raise KeyError(f"{stream} stream has no column(s) {sorted(unknown)}")
    rows = len(next(iter(columns.values())))
    arrays = [
        pa.array(columns[f.name], type=f.type) if f.name in columns else pa.nulls(rows, f.type)
        for f in target
    ]
    return pa.Table.from_arrays(arrays, schema=target)
