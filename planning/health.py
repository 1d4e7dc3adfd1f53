"""Account health: one explainable 0–100 score per account and snapshot.

Each input becomes a component score in [0, 1] (1 = healthy); the health score is their
weighted mean times 100. An input an account has no data for (no survey answered, no
onboarding tracked) is left out and the remaining weights are rescaled, so a missing survey
neither helps nor hurts. Weights (they sum to 1) and why:

- payment failures 0.20: failed payments are the most direct precursor of involuntary churn;
  component exp(−failures), so one failure already costs two thirds of it.
- CSAT 0.20: satisfied ratings / all ratings, the customer's own verdict on support.
- NPS 0.15: (score + 100) / 200; loyalty beyond support, but sparse and noisy.
- resolution experience 0.15: 1 / (1 + median full-resolution hours / 24): a day halves it.
- ticket load 0.10: 1 − percentile of tickets per 30 days among all accounts: an account
  that keeps needing help is struggling (relative, so it does not drift with growth).
- self-service 0.10: knowledge-base sessions / (sessions + tickets): engaged, self-reliant.
- onboarding 0.10: share of onboarding milestones completed; weak starts churn early.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planning._checks import require_columns

WEIGHTS: dict[str, float] = {
    "payment": 0.20,
    "csat": 0.20,
    # Not "nps": its column would be nps_score, the input's name (mean NPS points).
    "nps_points": 0.15,
    "resolution": 0.15,
    "ticket_load": 0.10,
    "self_service": 0.10,
    "onboarding": 0.10,
}

# Input column -> component; every input may be null (then it is left out for that row).
INPUTS: dict[str, str] = {
    "payment_failure_count": "payment",
    "csat_pct": "csat",
    "nps_score": "nps_points",
    "median_resolution_hours": "resolution",
    "tickets_per_30_days": "ticket_load",
    "self_service_share": "self_service",
    "onboarding_completion_pct": "onboarding",
}

BANDS = ((70.0, "healthy"), (40.0, "at_risk"), (-np.inf, "critical"))


def component_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The components in [0, 1] (columns named after ``WEIGHTS``); null where input is null."""
    require_columns(frame, list(INPUTS), "health score input")
    load = frame["tickets_per_30_days"].astype(float)
    return pd.DataFrame(
        {
            "payment": np.exp(-frame["payment_failure_count"].astype(float)),
            "csat": frame["csat_pct"].astype(float).clip(0, 100) / 100,
            "nps_points": (frame["nps_score"].astype(float).clip(-100, 100) + 100) / 200,
            "resolution": 1 / (1 + frame["median_resolution_hours"].astype(float).clip(0) / 24),
            "ticket_load": 1 - load.rank(pct=True, method="average").where(load.notna()),
            "self_service": frame["self_service_share"].astype(float).clip(0, 1),
            "onboarding": frame["onboarding_completion_pct"].astype(float).clip(0, 100) / 100,
        },
        index=frame.index,
    )


def health_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus component columns (``<component>_score``), health_score (0–100, null
    when no input is known), health_band and inputs_used_count."""
    components = component_scores(frame)
    weights = pd.Series(WEIGHTS)
    known = components.notna()
    weighted = components.fillna(0).mul(weights, axis=1).sum(axis=1)
    weight_known = known.mul(weights, axis=1).sum(axis=1)
    score = (100 * weighted / weight_known).where(weight_known > 0)
    band = pd.Series(pd.NA, index=frame.index, dtype="object")
    for floor, name in reversed(BANDS):
        band = band.mask(score >= floor, name)
    return frame.assign(
        **{f"{name}_score": components[name] for name in WEIGHTS},
        health_score=score,
        health_band=band,
        inputs_used_count=known.sum(axis=1).astype(int),
    )


def stop_at_churn(
    frame: pd.DataFrame, *, snapshot_column: str, churned_column: str
) -> pd.DataFrame:
    """Rows up to and including each account's churn date; later snapshots are dropped so a
    churned account's score stays frozen at its last value instead of updating."""
    snapshot = pd.to_datetime(frame[snapshot_column])
    churned = pd.to_datetime(frame[churned_column])
    return frame[churned.isna() | (snapshot <= churned)]
