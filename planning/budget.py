"""Budget against actual: plan, actual, variance and whether the variance is favourable.

A quarter still running is compared with its budget pro-rated to the days elapsed, so a
half-spent quarter is not reported as 50 % under budget.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planning._checks import require_columns

COLUMNS = ["metric", "planned_value", "actual_value", "is_higher_better", "elapsed_share"]


def budget_variance(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus pro-rated plan, variance, variance_pct and is_favourable.

    ``elapsed_share`` (0–1) pro-rates flow metrics (spend, volume); pass 1 for stock metrics
    (headcount) and for finished quarters. variance = actual − pro-rated plan; variance_pct
    is relative to the pro-rated plan (null when it is 0); favourable when the variance
    points the way ``is_higher_better`` says (a zero variance is favourable).
    """
    require_columns(frame, COLUMNS, "budget variance input")
    planned = frame["planned_value"].astype(float) * frame["elapsed_share"].astype(float)
    variance = frame["actual_value"].astype(float) - planned
    higher = frame["is_higher_better"].astype(bool)
    return frame.assign(
        prorated_planned_value=planned,
        variance=variance,
        variance_pct=np.where(planned != 0, 100 * variance / planned.where(planned != 0), np.nan),
        is_favourable=np.where(higher, variance >= 0, variance <= 0),
    )


def quarter_elapsed_share(quarter_start: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """Share of each quarter's days on or before ``as_of`` (0 before it starts, 1 after)."""
    start = pd.to_datetime(quarter_start)
    end = start + pd.offsets.QuarterBegin(startingMonth=1)
    days = (end - start).dt.days
    elapsed = (pd.Timestamp(as_of) + pd.Timedelta(days=1) - start).dt.days
    return (elapsed / days).clip(0, 1)


def cost_per_ticket(
    budget_eur: pd.Series,
    actual_cost_eur: pd.Series,
    tickets_solved: pd.Series,
    elapsed_share: pd.Series,
) -> pd.DataFrame:
    """Budgeted and actual cost per solved ticket, per row (team and quarter).

    planned = the budget pro-rated to the days elapsed / tickets solved; actual = the cost of
    the agents scheduled / tickets solved. Both are per the same tickets, so the variance is
    the cost difference alone. Null without a solved ticket (nothing to divide by).
    """
    solved = tickets_solved.astype(float).where(tickets_solved.astype(float) > 0)
    return pd.DataFrame(
        {
            "planned_value": budget_eur.astype(float) * elapsed_share.astype(float) / solved,
            "actual_value": actual_cost_eur.astype(float) / solved,
        }
    )
