"""The lake as files: which stream, which event date, when written. Shared by sensors and checks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class LakeFile:
    """One Parquet file of the lake; ordered by (mtime_ns, path) so a cursor can follow it."""

    mtime_ns: int
    path: Path
    stream: str
    event_date: dt.date | None


def _event_date(folder: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(folder.removeprefix("event_date="))
    except ValueError:
        return None


def lake_files(raw: Path, streams: set[str] | None = None) -> list[LakeFile]:
    """Every visible file under ``raw/<stream>/event_date=*/``, oldest first.

    Hidden temporary files (``.name.tmp``, written before the atomic rename) are not events yet.
    """
    found = []
    for path in raw.glob("*/event_date=*/*.parquet"):
        stream = path.parent.parent.name
        if path.name.startswith(".") or (streams is not None and stream not in streams):
            continue
        try:
            mtime_ns = path.stat().st_mtime_ns
        except FileNotFoundError:  # replaced between glob and stat
            continue
        found.append(LakeFile(mtime_ns, path, stream, _event_date(path.parent.name)))
    return sorted(found)


# A file may be renamed into place a little after its mtime (the writer sets the mtime while
# writing the hidden temporary file): files this close to the newest one seen are remembered by
# name, so a late rename is still picked up, exactly once.
LATE_RENAME_SLACK_NS = 120 * 10**9


@dataclass
class LakeCursor:
    """The newest file mtime seen, and the files seen near it (``path@mtime_ns``)."""

    watermark_ns: int = 0
    recent: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, text: str | None) -> LakeCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(data["watermark_ns"], set(data["recent"]))

    def dumps(self) -> str:
        return json.dumps({"watermark_ns": self.watermark_ns, "recent": sorted(self.recent)})

    @staticmethod
    def _name(file: LakeFile, root) -> str:
        return f"{file.path.relative_to(root)}@{file.mtime_ns}"

    def unseen(self, files: list[LakeFile], root) -> list[LakeFile]:
        """Files not yet seen: newer than the slack window, or in it and not remembered."""
        floor = self.watermark_ns - LATE_RENAME_SLACK_NS
        return [f for f in files if f.mtime_ns >= floor and self._name(f, root) not in self.recent]

    def advanced(self, files: list[LakeFile], root) -> LakeCursor:
        """The cursor after seeing ``files`` (the whole listing)."""
        watermark = max([self.watermark_ns, *(file.mtime_ns for file in files)])
        floor = watermark - LATE_RENAME_SLACK_NS
        recent = {self._name(file, root) for file in files if file.mtime_ns >= floor}
        return LakeCursor(watermark, recent)
