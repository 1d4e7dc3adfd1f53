"""Intercom conversations -> the chat stream.

Input: a JSON document holding one conversation (``GET /conversations/{id}``), a JSON array
of them, or a list object (``{"type": "conversation.list", "conversations": [...]}``). Each
conversation gives ``conversation.started`` from its ``source``, then one event per
``conversation_parts`` entry: comments by bot, user/lead and admin, assignments to a team
(hand-off) and the close. Part types the chat stream has no event for (notes, snoozes,
re-opens, ...) are quarantined as ``unmapped_source_object``, so they stay countable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors._common import load_json, text_id, utc_iso
from servops.ingest import NOT_AN_OBJECT, UNMAPPED_SOURCE_OBJECT, Candidate, UnreadableInput

NAME = "intercom"
SOURCE = "intercom"
CUSTOMER_AUTHORS = {"user", "lead", "contact"}
ASSIGNMENTS = {"assignment", "default_assignment", "away_mode_assignment", "assign_and_reopen"}


def _author(part: dict) -> tuple[str | None, str | None]:
    author = part.get("author") if isinstance(part.get("author"), dict) else {}
    return author.get("type"), text_id(author.get("id"))


def _parts(conversation: dict) -> list:
    parts = conversation.get("conversation_parts")
    if isinstance(parts, dict):
        parts = parts.get("conversation_parts")
    return parts if isinstance(parts, list) else []


def _customer(conversation: dict) -> str | None:
    contacts = conversation.get("contacts")
    if isinstance(contacts, dict):
        contacts = contacts.get("contacts")
    if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict):
        return text_id(contacts[0].get("external_id") or contacts[0].get("id"))
    source = conversation.get("source") if isinstance(conversation.get("source"), dict) else {}
    kind, author_id = _author(source)
    return author_id if kind in CUSTOMER_AUTHORS else None


def conversation_candidates(conversation: dict, position: int) -> Iterator[Candidate]:
    """Candidates for one conversation; ``position`` is its index in the file."""
    conversation_id = text_id(conversation.get("id"))
    source = conversation.get("source") if isinstance(conversation.get("source"), dict) else {}
    customer_id = _customer(conversation)
    base = {"source": SOURCE, "conversation_id": conversation_id, "customer_id": customer_id}
    yield Candidate(
        position,
        {
            **base,
            "event_id": f"intercom:conversation:{conversation_id}:started",
            "event_type": "conversation.started",
            "occurred_at": utc_iso(conversation.get("created_at")),
            "channel": "email" if source.get("type") == "email" else "chat",
            "author_type": "customer",
        },
    )
    team_id = text_id(conversation.get("team_assignee_id"))
    for part in _parts(conversation):
        if not isinstance(part, dict):
            yield Candidate(position, part, error=(NOT_AN_OBJECT, "conversation_parts", "part"))
            continue
        kind, author_id = _author(part)
        part_type = part.get("part_type")
        event = {
            **base,
            "event_id": f"intercom:conversation_part:{text_id(part.get('id'))}",
            "occurred_at": utc_iso(part.get("created_at")),
        }
        if part_type == "comment":
            if kind == "bot":
                yield Candidate(
                    position,
                    {**event, "event_type": "conversation.bot_answered", "author_type": "bot"},
                )
            elif kind == "admin":
                yield Candidate(
                    position,
                    {
                        **event,
                        "event_type": "conversation.agent_message",
                        "agent_id": author_id,
                        "team_id": team_id,
                        "author_type": "agent",
                    },
                )
            elif kind in CUSTOMER_AUTHORS:
                yield Candidate(
                    position,
                    {
                        **event,
                        "event_type": "conversation.customer_message",
                        "author_type": "customer",
                    },
                )
            else:
                yield Candidate(
                    position, part, error=(UNMAPPED_SOURCE_OBJECT, "author", f"author {kind!r}")
                )
        elif part_type in ASSIGNMENTS:
            assigned = part.get("assigned_to") if isinstance(part.get("assigned_to"), dict) else {}
            if assigned.get("type") == "team":
                team_id = text_id(assigned.get("id"))
                agent_id = None
            else:
                agent_id = text_id(assigned.get("id"))
            yield Candidate(
                position,
                {
                    **event,
                    "event_type": "conversation.handed_off",
                    "team_id": team_id,
                    "agent_id": agent_id,
                },
            )
        elif part_type == "close":
            if kind == "bot":
                # A bot closing without the customer confirming is Intercom's "assumed"
                # resolution, in the contract's vocabulary (confirmed, assumed).
                yield Candidate(
                    position,
                    {
                        **event,
                        "event_id": f"{event['event_id']}:bot_resolved",
                        "event_type": "conversation.bot_resolved",
                        "resolution_type": "assumed",
                        "author_type": "bot",
                    },
                )
            yield Candidate(
                position,
                {
                    **event,
                    "event_type": "conversation.closed",
                    "agent_id": author_id if kind == "admin" else None,
                    "author_type": {"admin": "agent", "bot": "bot"}.get(kind, "customer"),
                },
            )
        else:
            yield Candidate(
                position,
                part,
                error=(UNMAPPED_SOURCE_OBJECT, "part_type", f"part type {part_type!r}"),
            )


def read(path: Path) -> Iterator[Candidate]:
    """Envelope candidates from a file of Intercom conversations (see the module docstring)."""
    document = load_json(path)
    if isinstance(document, dict) and "conversations" in document:
        conversations = document["conversations"]
    elif isinstance(document, list):
        conversations = document
    elif isinstance(document, dict) and document.get("type") == "conversation":
        conversations = [document]
    else:
        raise UnreadableInput(path, "expected an Intercom conversation or a list of them")
    for position, conversation in enumerate(conversations or [], start=1):
        if not isinstance(conversation, dict):
            yield Candidate(position, conversation, error=(NOT_AN_OBJECT, None, "conversation"))
            continue
        yield from conversation_candidates(conversation, position)
