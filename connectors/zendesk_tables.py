"""Zendesk Support as the tables ELT tools land it (Fivetran's column shapes), CSV or Parquet.

One file per table, named after the table (``ticket.csv``, ``ticket_comment.parquet``; the
``_data`` suffix of fivetran/dbt_zendesk's seeds is accepted too). Tables of one export sit
in one folder: mapping a comment or a field change reads the sibling ``user`` and ``ticket``
tables to tell agents from customers and to know the ticket's group.

- ``ticket`` -> ``ticket.created``
- ``ticket_comment`` -> ``ticket.commented``
- ``ticket_field_history`` -> ``ticket.status_changed`` / ``ticket.priority_changed`` /
  ``ticket.assigned`` (fields ``status``, ``priority``, ``group_id``, ``assignee_id``)
- ``user`` -> ``customer.contact_added`` for end users of an organization
- ``group``, ``schedule`` -> reference tables: checked, used for lookups, no events
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors._common import read_table_rows, table_columns, text_id, utc_iso
from connectors.zendesk import AGENT_ROLES, channel, status
from servops.ingest import Candidate, UnreadableInput

NAME = "zendesk_tables"
SOURCE = "zendesk"
REQUIRED_COLUMNS = {
    "ticket": ("id", "created_at"),
    "ticket_comment": ("id", "created", "ticket_id", "user_id", "public"),
    "ticket_field_history": ("field_name", "ticket_id", "updated", "value"),
    "user": ("id", "role"),
    "group": ("id", "name"),
    "schedule": ("id", "name"),
}


def table_name(path: Path) -> str:
    """The Zendesk table a file holds, from its name (``ticket_comment_data.csv``)."""
    stem = Path(path).name.split(".")[0].lower()
    stem = stem.removesuffix("_data")
    if stem not in REQUIRED_COLUMNS:
        raise UnreadableInput(
            path, f"not a known Zendesk table name (expected one of {sorted(REQUIRED_COLUMNS)})"
        )
    return stem


def _sibling(path: Path, table: str) -> list[dict]:
    for name in (table, f"{table}_data"):
        for suffix in (".parquet", ".csv"):
            candidate = Path(path).with_name(name + suffix)
            if candidate.exists():
                return _rows(candidate, table)
    return []


def _rows(path: Path, table: str) -> list[dict]:
    rows = read_table_rows(path)
    # Checked on the header even without rows: a file of the wrong shape is an error, not
    # an empty table.
    columns = list(rows[0]) if rows else table_columns(path)
    missing = [column for column in REQUIRED_COLUMNS[table] if column not in columns]
    if missing:
        raise UnreadableInput(path, f"the {table} table lacks column(s) {missing}")
    return rows


def _bool(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "t", "f", "1", "0"):
        return value.strip().lower() in ("true", "t", "1")
    return value


def _is_deleted(row: dict) -> bool:
    return _bool(row.get("_fivetran_deleted")) is True


def _ticket_events(rows: list[dict], users: dict) -> Iterator[dict]:
    for row in rows:
        ticket_id = text_id(row.get("id"))
        requester = users.get(text_id(row.get("requester_id"))) or {}
        yield {
            "event_id": f"zendesk:ticket:{ticket_id}:created",
            "event_type": "ticket.created",
            "occurred_at": utc_iso(row.get("created_at")),
            "source": SOURCE,
            "ticket_id": ticket_id,
            "customer_id": text_id(row.get("organization_id"))
            or text_id(requester.get("organization_id"))
            or text_id(row.get("requester_id")),
            "team_id": text_id(row.get("group_id")),
            "agent_id": text_id(row.get("assignee_id")),
            "channel": channel(row.get("via_channel")),
            "priority": row.get("priority") or "normal",
            "status": "new",
            "subject": row.get("subject"),
        }


def _comment_events(rows: list[dict], users: dict, tickets: dict) -> Iterator[dict]:
    for row in rows:
        user_id = text_id(row.get("user_id"))
        user = users.get(user_id)
        if user_id in (None, "-1"):
            author_type = "bot"
        elif user is not None:
            author_type = "agent" if user.get("role") in AGENT_ROLES else "customer"
        else:
            ticket = tickets.get(text_id(row.get("ticket_id"))) or {}
            requester = text_id(ticket.get("requester_id"))
            author_type = "customer" if user_id == requester else "agent"
        yield {
            "event_id": f"zendesk:ticket_comment:{text_id(row.get('id'))}",
            "event_type": "ticket.commented",
            "occurred_at": utc_iso(row.get("created")),
            "source": SOURCE,
            "ticket_id": text_id(row.get("ticket_id")),
            "author_type": author_type,
            "is_public": _bool(row.get("public")),
            "agent_id": user_id if author_type == "agent" else None,
        }


def _history_events(rows: list[dict], tickets: dict) -> Iterator[dict]:
    # Previous values and the ticket's group at each moment come from the history itself.
    ordered = sorted(
        rows, key=lambda r: (str(r.get("ticket_id")), str(utc_iso(r.get("updated")) or ""))
    )
    previous: dict[tuple, object] = {}
    for row in ordered:
        ticket_id = text_id(row.get("ticket_id"))
        name = row.get("field_name")
        value = row.get("value")
        updated = utc_iso(row.get("updated"))
        before = previous.get((ticket_id, name))
        previous[(ticket_id, name)] = value
        base = {
            "event_id": f"zendesk:ticket_field_history:{ticket_id}:{name}:{updated}",
            "occurred_at": updated,
            "source": SOURCE,
            "ticket_id": ticket_id,
        }
        ticket = tickets.get(ticket_id) or {}
        group = previous.get((ticket_id, "group_id"), ticket.get("group_id"))
        if name == "status":
            yield {
                **base,
                "event_type": "ticket.status_changed",
                "status": status(value),
                "previous_status": status(before),
            }
        elif name == "priority":
            yield {
                **base,
                "event_type": "ticket.priority_changed",
                "priority": value,
                "previous_priority": before,
            }
        elif name == "group_id":
            yield {
                **base,
                "event_type": "ticket.assigned",
                "team_id": text_id(value),
                "previous_team_id": text_id(before),
            }
        elif name == "assignee_id" and value is not None:
            yield {
                **base,
                "event_type": "ticket.assigned",
                "team_id": text_id(group),
                "agent_id": text_id(value),
            }


def _user_events(rows: list[dict]) -> Iterator[dict]:
    for row in rows:
        if row.get("role") in AGENT_ROLES or row.get("organization_id") in (None, ""):
            continue  # agents and users without an organization are lookups, not customers
        yield {
            "event_id": f"zendesk:user:{text_id(row.get('id'))}:contact_added",
            "event_type": "customer.contact_added",
            "occurred_at": utc_iso(row.get("created_at")),
            "source": SOURCE,
            "customer_id": text_id(row.get("organization_id")),
            "contact_id": text_id(row.get("id")),
            "contact_name": row.get("name"),
            "contact_email": row.get("email"),
        }


def read(path: Path) -> Iterator[Candidate]:
    """Envelope candidates from one Zendesk table file (see the module docstring)."""
    path = Path(path)
    table = table_name(path)
    rows = [row for row in _rows(path, table) if not _is_deleted(row)]
    if table in ("group", "schedule"):
        return
    users = {text_id(user.get("id")): user for user in _sibling(path, "user")}
    if table == "ticket":
        events = _ticket_events(rows, users)
    elif table == "ticket_comment":
        tickets = {text_id(t.get("id")): t for t in _sibling(path, "ticket")}
        events = _comment_events(rows, users, tickets)
    elif table == "ticket_field_history":
        tickets = {text_id(t.get("id")): t for t in _sibling(path, "ticket")}
        events = _history_events(rows, tickets)
    else:
        events = _user_events(rows)
    for row_number, event in enumerate(events, start=1):
        yield Candidate(row_number, event)
