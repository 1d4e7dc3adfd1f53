"""Input checks shared by the planning modules: fail with a message naming row and field."""

from __future__ import annotations

import pandas as pd

from planning import PlanningInputError


def require_columns(frame: pd.DataFrame, columns: list[str], name: str) -> None:
    """Raise if ``frame`` (called ``name`` in the message) lacks any of ``columns``."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise PlanningInputError(
            f"{name}: missing column(s) {', '.join(missing)}; has {', '.join(frame.columns)}"
        )


def require_non_negative(frame: pd.DataFrame, column: str, name: str) -> None:
    """Raise naming the first row whose ``column`` is negative or null."""
    values = frame[column]
    bad = values.isna() | (values < 0)
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise PlanningInputError(
            f"{name}: row {row} field {column} must be a number >= 0, got {values.iloc[row]!r}"
        )
