"""Survey tool CSV exports (NPS, CSAT, CES) -> the survey stream, with a column mapping.

Each row is one survey sent to a respondent, answered or not: it gives ``survey.sent`` at
the sent time and, when it has a score, ``survey.responded`` at the answered time. Column
names differ between tools; ``DEFAULT_COLUMNS`` lists the headers recognised out of the box
(Delighted, Typeform, SurveyMonkey and Zendesk-style exports), and ``--map field=Header``
on the command line overrides any of them. The survey type comes from a ``survey_type``
column or ``--survey-type`` (default nps).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connectors._common import read_csv_rows, table_columns, utc_iso
from servops.events import SURVEY_TYPES
from servops.ingest import WRONG_TYPE, Candidate, UnreadableInput

NAME = "surveys"
SOURCE = "survey_csv"
SCORE_RANGES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
# Envelope field -> the headers tried, in order.
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "survey_id": ("survey_id", "response_id", "Response ID", "id", "ID"),
    "survey_type": ("survey_type", "Survey Type", "type"),
    "score": ("score", "Score", "rating", "Rating", "nps_score"),
    "comment": ("comment", "Comment", "feedback", "Feedback", "reason"),
    "contact_id": ("respondent", "Respondent", "email", "Email", "person_email", "contact_id"),
    "customer_id": ("customer_id", "company", "Company", "account_id", "organization"),
    "ticket_id": ("ticket_id", "Ticket ID"),
    "agent_id": ("agent_id", "Agent ID", "assignee"),
    "sent_at": ("sent_at", "Sent At", "survey_sent_at", "created_at", "Created At"),
    "answered_at": ("answered_at", "Answered At", "responded_at", "Responded At", "submitted_at"),
}
REQUIRED = ("survey_id", "sent_at")


def resolve_columns(headers: list[str], mapping: dict[str, str] | None = None) -> dict[str, str]:
    """Envelope field -> the file's header, from ``mapping`` first, then the defaults."""
    chosen: dict[str, str] = {}
    for name, candidates in DEFAULT_COLUMNS.items():
        if mapping and name in mapping:
            chosen[name] = mapping[name]
            continue
        found = next((header for header in candidates if header in headers), None)
        if found:
            chosen[name] = found
    return chosen


def read(
    path: Path, mapping: dict[str, str] | None = None, survey_type: str = "nps"
) -> Iterator[Candidate]:
    """Envelope candidates from a survey CSV export (see the module docstring)."""
    path = Path(path)
    if mapping:
        unknown = sorted(set(mapping) - set(DEFAULT_COLUMNS))
        if unknown:
            raise UnreadableInput(
                path, f"--map names unknown field(s) {unknown}; use {sorted(DEFAULT_COLUMNS)}"
            )
    if survey_type not in SURVEY_TYPES:
        raise UnreadableInput(path, f"survey type {survey_type!r} is not one of {SURVEY_TYPES}")
    rows = read_csv_rows(path)
    # The header is checked even without rows: a file of another shape is an error.
    headers = list(rows[0]) if rows else table_columns(path)
    columns = resolve_columns(headers, mapping)
    missing = [name for name in REQUIRED if name not in columns or columns[name] not in headers]
    if missing:
        raise UnreadableInput(
            path,
            f"no column for {missing}; map them with --map field=Header (headers: {headers})",
            line=1,
        )
    for row_number, row in enumerate(rows, start=2):  # line 1 is the header
        value = {name: row.get(header) for name, header in columns.items()}
        kind = (value.get("survey_type") or survey_type).lower()
        survey_id = f"survey_csv:{value['survey_id']}" if value.get("survey_id") else None
        base = {
            "source": SOURCE,
            "survey_id": survey_id,
            "survey_type": kind,
            "customer_id": value.get("customer_id") or value.get("contact_id"),
            "contact_id": value.get("contact_id"),
            "ticket_id": value.get("ticket_id"),
            "agent_id": value.get("agent_id"),
        }
        yield Candidate(
            row_number,
            {
                **base,
                "event_id": f"{survey_id}:sent" if survey_id else None,
                "event_type": "survey.sent",
                "occurred_at": utc_iso(value.get("sent_at")),
            },
        )
        score_text = value.get("score")
        if score_text is None:
            continue
        responded = {
            **base,
            "event_id": f"{survey_id}:responded" if survey_id else None,
            "event_type": "survey.responded",
            "occurred_at": utc_iso(value.get("answered_at") or value.get("sent_at")),
            "comment": value.get("comment"),
        }
        try:
            score = int(score_text.strip())
        except ValueError:
            yield Candidate(
                row_number,
                {**responded, "score": score_text},
                error=(WRONG_TYPE, "score", f"{score_text!r} is not a whole number"),
            )
            continue
        low, high = SCORE_RANGES.get(kind, (0, 10))
        if not low <= score <= high:
            yield Candidate(
                row_number,
                {**responded, "score": score},
                error=(WRONG_TYPE, "score", f"{score} is outside the {kind} scale {low}-{high}"),
            )
            continue
        yield Candidate(row_number, {**responded, "score": score})
