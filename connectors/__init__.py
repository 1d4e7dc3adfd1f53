"""Connectors: one module per outside system, its format in, envelope records out.

Each module has ``NAME`` (the connector name used by ``servops ingest <name>`` and in the
batch id) and ``read(path) -> Iterator[servops.ingest.Candidate]``, raising
``servops.ingest.UnreadableInput`` (file and line) when the file cannot be read at all.
Records that cannot be mapped are yielded as candidates with an ``error`` so they are
quarantined, never dropped. ``docs/ingestion.md`` has each connector's mapping table.
"""

from __future__ import annotations

import importlib
from types import ModuleType

CONNECTORS = ("jsonl", "zendesk", "zendesk_tables", "stripe", "surveys", "intercom")


def get(name: str) -> ModuleType:
    """The connector module called ``name`` (one of ``CONNECTORS``)."""
    if name not in CONNECTORS:
        raise KeyError(name)
    return importlib.import_module(f"connectors.{name}")
