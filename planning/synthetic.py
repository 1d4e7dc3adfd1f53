"""Synthetic inputs with a known answer, for the unit tests and for the backtest benchmark
while the simulator has no billing or churn streams yet."""

from __future__ import annotations

import numpy as np
import pandas as pd

WEEKDAY_FACTOR = np.array([1.15, 1.1, 1.05, 1.0, 0.95, 0.45, 0.4])


def daily_volume(
    *,
    days: int = 140,
    start: str = "2025-01-06",
    levels: dict[str, float] | None = None,
    growth_per_year: float = 0.25,
    spike_day: int | None = None,
    spike_size: float = 0.0,
    seed: int = 0,
) -> pd.DataFrame:
    """Poisson daily counts per team: weekday pattern times linear growth; optionally one
    three-day incident spike adding ``spike_size`` contacts a day to the first team."""
    rng = np.random.default_rng(seed)
    levels = levels or {"support": 40.0, "billing": 12.0, "technical": 6.0}
    dates = pd.date_range(start, periods=days, freq="D")
    trend = 1 + growth_per_year * np.arange(days) / 365
    frames = []
    for index, (team, level) in enumerate(levels.items()):
        counts = rng.poisson(level * WEEKDAY_FACTOR[dates.dayofweek] * trend).astype(float)
        if index == 0 and spike_day is not None:
            counts[spike_day : spike_day + 3] += spike_size
        frames.append(pd.DataFrame({"date_day": dates, "team_id": team, "contact_count": counts}))
    return pd.concat(frames, ignore_index=True)


def account_snapshots(
    *, accounts: int = 1500, snapshots: int = 4, horizon_days: int = 90, seed: int = 0
) -> pd.DataFrame:
    """Account snapshots 90 days apart whose churn depends on payment failures, CSAT,
    onboarding and ticket load (known logistic signal), plus one pure-noise feature."""
    rng = np.random.default_rng(seed)
    rows = []
    base = pd.Timestamp("2025-01-01")
    for snapshot in range(snapshots):
        date = base + pd.Timedelta(days=horizon_days * snapshot)
        failures = rng.poisson(0.3, accounts)
        csat = np.clip(rng.normal(85, 10, accounts), 0, 100)
        onboarding = np.clip(rng.beta(4, 1.5, accounts) * 100, 0, 100)
        tickets = rng.gamma(2.0, 1.5, accounts)
        noise = rng.normal(0, 1, accounts)
        logit = (
            -2.6
            + 0.9 * failures
            - 0.05 * (csat - 85)
            - 0.02 * (onboarding - 70)
            + 0.12 * (tickets - 3)
        )
        churned = rng.random(accounts) < 1 / (1 + np.exp(-logit))
        rows.append(
            pd.DataFrame(
                {
                    "customer_id": [f"C{i:05d}" for i in range(accounts)],
                    "snapshot_date": date,
                    "label_known_date": date + pd.Timedelta(days=horizon_days),
                    "payment_failure_count": failures,
                    "csat_pct": np.where(rng.random(accounts) < 0.3, np.nan, csat),
                    "nps_score": np.where(
                        rng.random(accounts) < 0.6, np.nan, rng.normal(20, 40, accounts)
                    ),
                    "median_resolution_hours": rng.gamma(2.0, 6.0, accounts),
                    "tickets_per_30_days": tickets,
                    "self_service_share": rng.beta(2, 3, accounts),
                    "onboarding_completion_pct": onboarding,
                    "noise_feature": noise,
                    "is_churned_within_horizon": churned,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def monthly_mrr(
    *, customers: int = 600, months: int = 18, churn: dict[str, float] | None = None, seed: int = 0
) -> pd.DataFrame:
    """Monthly MRR per customer: customers join over time on a plan, churn at a constant
    monthly rate per plan and expand slowly (1 % a month)."""
    rng = np.random.default_rng(seed)
    churn = churn or {"starter": 0.05, "growth": 0.03, "enterprise": 0.01}
    price = {"starter": 49.0, "growth": 199.0, "enterprise": 799.0}
    plans = rng.choice(list(churn), size=customers, p=[0.6, 0.3, 0.1])
    joined = rng.integers(0, months, customers)
    rows = []
    for customer, (plan, first) in enumerate(zip(plans, joined, strict=True)):
        amount = price[plan]
        for month in range(first, months):
            rows.append((f"C{customer:05d}", month, plan, amount))
            if rng.random() < churn[plan]:
                break
            amount *= 1.01
    frame = pd.DataFrame(rows, columns=["customer_id", "month", "plan_id", "mrr_amount"])
    frame["month_start_date"] = (pd.Period("2024-01", "M") + frame.pop("month")).map(
        lambda period: period.to_timestamp().date()
    )
    return frame
