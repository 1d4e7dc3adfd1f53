"""Named random streams: one independent generator per (stream, day), derived from the seed.

Any day of any stream can be regenerated alone and gives the same draws, whatever else was
generated before it (NumPy's ``SeedSequence`` spawn keys).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream_key(name: str) -> int:
    """A stable 32-bit number for a stream name (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode())


def generator(seed: int, name: str, index: int = 0) -> np.random.Generator:
    """The random generator of stream ``name`` for entity or day ``index``."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(stream_key(name), index))
    return np.random.Generator(np.random.PCG64(sequence))
