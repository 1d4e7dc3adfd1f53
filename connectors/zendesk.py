"""Zendesk Support JSON: Incremental Export tickets, ticket events/audits, satisfaction ratings.

One input file is a JSON document holding any of these arrays, as the Zendesk API returns
them (pages can be concatenated into one document):

- ``tickets`` (``GET /api/v2/incremental/tickets.json``),
- ``ticket_events`` (``GET /api/v2/incremental/ticket_events.json?include=comment_events``)
  with ``child_events``, or ``audits`` (``GET /api/v2/tickets/{id}/audits.json``) with
  ``events``,
- ``satisfaction_ratings`` (``GET /api/v2/satisfaction_ratings.json``),
- ``users`` (the ``include=users`` side-load), which tells agents from end users.

Event ids derive from Zendesk's own ids, so the same change read from an audit and from the
incremental ticket-events export is one event downstream.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors._common import load_json, text_id, utc_iso
from servops.ingest import NOT_AN_OBJECT, UNMAPPED_SOURCE_OBJECT, Candidate, UnreadableInput

NAME = "zendesk"
SOURCE = "zendesk"

# Zendesk's via.channel -> the warehouse's channels (email, web, chat, phone).
CHANNELS = {
    "email": "email",
    "mail": "email",
    "web": "web",
    "web_form": "web",
    "web_widget": "web",
    "web_service": "web",
    "api": "web",
    "mobile": "web",
    "mobile_sdk": "web",
    "help_center": "web",
    "chat": "chat",
    "native_messaging": "chat",
    "messaging": "chat",
    "voice": "phone",
    "phone": "phone",
}
STATUSES = {"hold": "on_hold"}  # Zendesk's API says hold; the help-desk vocabulary on_hold
AGENT_ROLES = {"agent", "admin"}
BOT_CHANNELS = {"rule", "answer_bot", "answer_bot_for_agents", "automation", "ai_agent"}
SYSTEM_USER = "-1"
TRACKED_FIELDS = ("status", "priority", "assignee_id", "group_id")


def channel(via: object) -> str:
    """The warehouse channel of a Zendesk ``via`` object (unknown channels count as web)."""
    name = via.get("channel") if isinstance(via, dict) else via
    return CHANNELS.get(str(name or "web").lower().replace(" ", "_"), "web")


def status(value: object) -> object:
    return STATUSES.get(value, value) if isinstance(value, str) else value


class _State:
    """What the connector knows about users and tickets while walking the document."""

    def __init__(self, document: dict):
        self.users = {
            text_id(user.get("id")): user
            for user in document.get("users") or []
            if isinstance(user, dict)
        }
        self.tickets: dict[str | None, dict] = {}

    def customer_of(self, user_id: object, organization_id: object = None) -> str | None:
        """The customer account: the organization, else the user's organization, else user."""
        if organization_id not in (None, ""):
            return text_id(organization_id)
        user = self.users.get(text_id(user_id)) or {}
        return text_id(user.get("organization_id")) or text_id(user_id)

    def author_type(self, author_id: object, via: object, requester_id: object) -> str:
        author = text_id(author_id)
        via_channel = via.get("channel") if isinstance(via, dict) else via
        if author in (None, SYSTEM_USER) or str(via_channel).lower() in BOT_CHANNELS:
            return "bot"
        user = self.users.get(author)
        if user is not None:
            return "agent" if user.get("role") in AGENT_ROLES else "customer"
        return "customer" if author == text_id(requester_id) else "agent"


def _ticket_created(ticket: dict, state: _State) -> dict:
    ticket_id = text_id(ticket.get("id"))
    return {
        "event_id": f"zendesk:ticket:{ticket_id}:created",
        "event_type": "ticket.created",
        "occurred_at": utc_iso(ticket.get("created_at")),
        "source": SOURCE,
        "ticket_id": ticket_id,
        "customer_id": state.customer_of(ticket.get("requester_id"), ticket.get("organization_id")),
        "team_id": text_id(ticket.get("group_id")),
        "agent_id": text_id(ticket.get("assignee_id")),
        "channel": channel(ticket.get("via")),
        # An unset Zendesk priority counts as normal, as Zendesk's SLA targets treat it.
        "priority": ticket.get("priority") or "normal",
        "status": "new",
        "subject": ticket.get("subject"),
    }


def _child_field(child: dict) -> tuple[str | None, object, object]:
    """(field name, value, previous value) of an audit's Change/Create child event."""
    name = child.get("field_name")
    if name is not None:
        return name, child.get("value"), child.get("previous_value")
    # The incremental ticket-events export names the changed field as a key of its own.
    for name in TRACKED_FIELDS:
        if name in child:
            return name, child.get(name), child.get("previous_value")
    return None, None, None


def _audit_events(audit: dict, state: _State) -> Iterator[dict | tuple[str, str, object]]:
    ticket_id = text_id(audit.get("ticket_id"))
    occurred_at = utc_iso(audit.get("created_at") or audit.get("timestamp"))
    ticket = state.tickets.setdefault(ticket_id, {"id": audit.get("ticket_id")})
    children = audit.get("events") or audit.get("child_events") or []
    kinds = [str(child.get("type") or child.get("event_type")) for child in children]
    if "Create" in kinds and ticket.get("created_at") is None:
        # A ticket only known from its audits: its Create events carry the initial fields.
        ticket.update({"created_at": audit.get("created_at"), "via": audit.get("via")})
        ticket.setdefault("requester_id", audit.get("author_id") or audit.get("updater_id"))
        for child in children:
            name, value, _ = _child_field(child)
            if name:
                ticket[name] = value
        ticket["_emit_created"] = True
    for child, kind in zip(children, kinds, strict=True):
        if not isinstance(child, dict):
            yield (NOT_AN_OBJECT, "events", "an audit event is not a JSON object")
            continue
        event_id = f"zendesk:event:{text_id(child.get('id'))}"
        base = {
            "event_id": event_id,
            "occurred_at": occurred_at,
            "source": SOURCE,
            "ticket_id": ticket_id,
        }
        if kind == "Comment":
            author = child.get("author_id", audit.get("author_id") or audit.get("updater_id"))
            author_type = state.author_type(
                author, child.get("via") or audit.get("via"), ticket.get("requester_id")
            )
            public = child.get("public", child.get("comment_public"))
            yield {
                **base,
                "event_type": "ticket.commented",
                "author_type": author_type,
                "is_public": public,
                "agent_id": text_id(author) if author_type == "agent" else None,
            }
            continue
        if kind != "Change":
            continue  # Create is the ticket itself; notifications, CCs, tags are not events here
        name, value, previous = _child_field(child)
        if name == "status":
            ticket["status"] = value
            yield {
                **base,
                "event_type": "ticket.status_changed",
                "status": status(value),
                "previous_status": status(previous),
            }
        elif name == "priority":
            yield {
                **base,
                "event_type": "ticket.priority_changed",
                "priority": value,
                "previous_priority": previous,
            }
        elif name == "group_id":
            ticket["group_id"] = value
            yield {
                **base,
                "event_type": "ticket.assigned",
                "team_id": text_id(value),
                "previous_team_id": text_id(previous),
                "agent_id": text_id(ticket.get("assignee_id")),
            }
        elif name == "assignee_id":
            ticket["assignee_id"] = value
            yield {
                **base,
                "event_type": "ticket.assigned",
                "team_id": text_id(ticket.get("group_id")),
                "agent_id": text_id(value),
            }


def _rating_events(rating: dict, state: _State) -> Iterator[dict]:
    rating_id = text_id(rating.get("id"))
    base = {
        "source": SOURCE,
        "survey_id": f"zendesk:satisfaction_rating:{rating_id}",
        "survey_type": "csat",
        "customer_id": state.customer_of(rating.get("requester_id")),
        "contact_id": text_id(rating.get("requester_id")),
        "ticket_id": text_id(rating.get("ticket_id")),
        "agent_id": text_id(rating.get("assignee_id")),
        "team_id": text_id(rating.get("group_id")),
    }
    yield {
        **base,
        "event_id": f"zendesk:satisfaction_rating:{rating_id}:sent",
        "event_type": "survey.sent",
        "occurred_at": utc_iso(rating.get("created_at")),
    }
    score = rating.get("score")
    if score in ("good", "bad"):
        # Zendesk CSAT is binary; on the contract's 1-5 CSAT scale good is 5 and bad is 1.
        yield {
            **base,
            "event_id": f"zendesk:satisfaction_rating:{rating_id}:responded",
            "event_type": "survey.responded",
            "occurred_at": utc_iso(rating.get("updated_at") or rating.get("created_at")),
            "score": 5 if score == "good" else 1,
            "comment": rating.get("comment"),
        }


def _audit_order(audit: object) -> tuple[str, str]:
    if not isinstance(audit, dict):
        return ("", "")
    moment = utc_iso(audit.get("created_at") or audit.get("timestamp"))
    return (str(audit.get("ticket_id")), str(moment))


def read(path: Path) -> Iterator[Candidate]:
    """Envelope candidates from a Zendesk JSON document (see the module docstring)."""
    document = load_json(path)
    if not isinstance(document, dict):
        raise UnreadableInput(path, "expected a JSON object with Zendesk arrays (tickets, ...)")
    known = ("tickets", "ticket_events", "audits", "satisfaction_ratings")
    if not any(key in document for key in known):
        raise UnreadableInput(path, f"no Zendesk arrays found (expected one of {list(known)})")
    state = _State(document)
    position = 0
    candidates: list[Candidate] = []

    def emit(item: object, origin: object) -> None:
        nonlocal position
        position += 1
        if isinstance(item, tuple):
            candidates.append(Candidate(position, origin, error=item))
        else:
            candidates.append(Candidate(position, item))

    for ticket in document.get("tickets") or []:
        if isinstance(ticket, dict):
            state.tickets[text_id(ticket.get("id"))] = dict(ticket)
    for ticket in document.get("tickets") or []:
        if not isinstance(ticket, dict):
            emit((NOT_AN_OBJECT, "tickets", "a ticket is not a JSON object"), ticket)
            continue
        emit(_ticket_created(ticket, state), ticket)
    audits = [*(document.get("audits") or []), *(document.get("ticket_events") or [])]
    # In time order per ticket, so the group known at an assignee change is the right one.
    audits.sort(key=_audit_order)

    for audit in audits:
        if not isinstance(audit, dict):
            emit((NOT_AN_OBJECT, "audits", "an audit is not a JSON object"), audit)
            continue
        kind = audit.get("event_type", "Audit")
        if kind != "Audit":
            emit((UNMAPPED_SOURCE_OBJECT, "event_type", f"ticket event type {kind!r}"), audit)
            continue
        for item in _audit_events(audit, state):
            emit(item, audit)
    for ticket in state.tickets.values():
        if ticket.pop("_emit_created", False):
            emit(_ticket_created(ticket, state), ticket)
    for rating in document.get("satisfaction_ratings") or []:
        if not isinstance(rating, dict):
            emit((NOT_AN_OBJECT, "satisfaction_ratings", "a rating is not a JSON object"), rating)
            continue
        for item in _rating_events(rating, state):
            emit(item, rating)
    yield from candidates


# Zendesk event webhooks (``zen:event-type:ticket.*``), used by ``servops receive``.
WEBHOOK_TYPES = {
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.status_changed",
    "zen:event-type:ticket.priority_changed",
    "zen:event-type:ticket.group_assignment_changed",
    "zen:event-type:ticket.agent_assignment_changed",
    "zen:event-type:ticket.comment_added",
}


def webhook_candidates(payload: object, line: int) -> list[Candidate]:
    """Candidates for one Zendesk event-webhook payload (``type``, ``id``, ``detail``, ``event``).

    The envelope ``event_id`` is Zendesk's webhook event ``id``, so a redelivery is one event.
    """
    if not isinstance(payload, dict):
        return [Candidate(line, payload, error=(NOT_AN_OBJECT, None, "payload is not an object"))]
    kind = payload.get("type")
    detail = payload.get("detail") if isinstance(payload.get("detail"), dict) else {}
    change = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    if kind not in WEBHOOK_TYPES:
        return [Candidate(line, payload, error=(UNMAPPED_SOURCE_OBJECT, "type", f"type {kind!r}"))]
    state = _State({})
    base = {
        "event_id": f"zendesk:webhook:{payload.get('id')}" if payload.get("id") else None,
        "occurred_at": utc_iso(payload.get("time")),
        "source": SOURCE,
        "ticket_id": text_id(detail.get("id")),
    }
    action = kind.rsplit(".", 1)[1]
    if action == "created":
        record = {
            **_ticket_created(detail, state),
            "event_id": base["event_id"],
            "occurred_at": base["occurred_at"],
        }
    elif action == "status_changed":
        record = {
            **base,
            "event_type": "ticket.status_changed",
            "status": status(str(change.get("current", "")).lower() or None),
            "previous_status": status(str(change.get("previous", "")).lower() or None),
        }
    elif action == "priority_changed":
        record = {
            **base,
            "event_type": "ticket.priority_changed",
            "priority": str(change.get("current") or "").lower() or None,
            "previous_priority": str(change.get("previous") or "").lower() or None,
        }
    elif action == "group_assignment_changed":
        record = {
            **base,
            "event_type": "ticket.assigned",
            "team_id": text_id(change.get("current")),
            "previous_team_id": text_id(change.get("previous")),
            "agent_id": text_id(detail.get("assignee_id")),
        }
    elif action == "agent_assignment_changed":
        record = {
            **base,
            "event_type": "ticket.assigned",
            "team_id": text_id(detail.get("group_id")),
            "agent_id": text_id(change.get("current")),
        }
    else:
        comment = change.get("comment") if isinstance(change.get("comment"), dict) else {}
        author = comment.get("author") if isinstance(comment.get("author"), dict) else {}
        is_staff = author.get("is_staff")
        author_id = text_id(author.get("id"))
        author_type = "bot" if author_id in (None, SYSTEM_USER) else None
        author_type = author_type or ("agent" if is_staff else "customer")
        record = {
            **base,
            "event_type": "ticket.commented",
            "author_type": author_type,
            "is_public": comment.get("is_public"),
            "agent_id": author_id if author_type == "agent" else None,
        }
    return [Candidate(line, record)]
