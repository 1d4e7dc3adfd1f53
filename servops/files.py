"""Whole-or-nothing file writes: a hidden temporary name, then a rename, then the folder synced.

The lake's Parquet files (``servops.lake.write_parquet_atomic``), published versions, dbt's
saved parse and the small state files beside them (the build's passed mark, the models'
fingerprints, Dagster's settings, the simulator's malformed lines) are written this way, so a
reader or a crash never sees half a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def fsync_dir(path: Path) -> None:
    """Make the entries renamed into (or removed from) the folder ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_file(target: Path) -> Iterator[BinaryIO]:
    """A binary handle on a hidden temporary beside ``target`` (``.<name>.<pid>.tmp``, which
    no reader's glob matches); when the block ends, its content is synced, renamed onto
    ``target`` and the folder synced. If the block raises, the temporary goes and ``target``
    is untouched."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(target.parent)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never part."""
    with atomic_file(path) as handle:
        handle.write(text.encode())
