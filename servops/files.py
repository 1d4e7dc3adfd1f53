"""Whole-or-nothing file writes: a hidden temporary name, then a rename, then the folder synced.

The lake's Parquet files (``servops.lake.write_parquet_atomic``), published versions and the
small state files beside them (the build's passed mark, the models' fingerprints, Dagster's
settings, the simulator's malformed lines) are written this way, so a reader or a crash never
sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make the entries renamed into (or removed from) the folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never part."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
