"""Logo and revenue retention by cohort and plan, and its forecast with intervals.

Input: monthly MRR per customer (``customer_id``, ``month_start_date``, ``mrr_amount``,
``plan_id``); a customer is active in a month with MRR > 0, and its cohort is its first
active month. The forecast carries each existing cohort × plan forward month by month:

- logos: Binomial(active, 1 − p) with the monthly churn rate p drawn per path from its Beta
  posterior (churned + 1, retained + 1) over the last ``window`` months of that plan;
- MRR per retained logo: grows by a monthly log-ratio drawn from Normal(mean, se) of the
  plan's survivors' month-on-month changes (expansion minus contraction).

Percentiles of the paths give the intervals. The baseline it is backtested against carries
the last month flat (no churn, no expansion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning._checks import require_columns
from planning.backtest import wape

COLUMNS = ["customer_id", "month_start_date", "mrr_amount", "plan_id"]


def _prepare(mrr: pd.DataFrame) -> pd.DataFrame:
    require_columns(mrr, COLUMNS, "monthly MRR")
    data = mrr[COLUMNS].copy()
    data["month_start_date"] = pd.to_datetime(data["month_start_date"]).dt.to_period("M")
    data = data[data["mrr_amount"].astype(float) > 0]
    data["mrr_amount"] = data["mrr_amount"].astype(float)
    data["cohort_month"] = data.groupby("customer_id")["month_start_date"].transform("min")
    return data


def cohort_retention(mrr: pd.DataFrame) -> pd.DataFrame:
    """Actual logos, MRR and retention per cohort month, plan and month."""
    data = _prepare(mrr)
    grouped = (
        data.groupby(["cohort_month", "plan_id", "month_start_date"])
        .agg(active_logo_count=("customer_id", "nunique"), mrr_amount=("mrr_amount", "sum"))
        .reset_index()
    )
    start = grouped[grouped["cohort_month"] == grouped["month_start_date"]].set_index(
        ["cohort_month", "plan_id"]
    )
    base = grouped.set_index(["cohort_month", "plan_id"]).join(
        start[["active_logo_count", "mrr_amount"]], rsuffix="_at_start"
    )
    base["logo_retention"] = base["active_logo_count"] / base["active_logo_count_at_start"]
    base["revenue_retention"] = base["mrr_amount"] / base["mrr_amount_at_start"]
    base = base.reset_index()
    for column in ("cohort_month", "month_start_date"):
        base[column] = base[column].dt.to_timestamp().dt.date
    return base


def plan_rates(data: pd.DataFrame, window: int = 6) -> pd.DataFrame:
    """Per plan over the last ``window`` month transitions: churned and retained logo
    counts, mean and standard error of survivors' monthly MRR log-ratio."""
    months = sorted(data["month_start_date"].unique())
    recent = set(months[-(window + 1) :])
    pivot = data[data["month_start_date"].isin(recent)]
    rows = []
    for plan, group in pivot.groupby("plan_id"):
        wide = group.pivot_table(
            index="customer_id", columns="month_start_date", values="mrr_amount", aggfunc="sum"
        ).sort_index(axis=1)
        churned = retained = 0
        ratios = []
        for before, after in zip(wide.columns[:-1], wide.columns[1:], strict=True):
            was = wide[before].notna()
            stays = was & wide[after].notna()
            churned += int((was & ~stays).sum())
            retained += int(stays.sum())
            ratios.extend(np.log(wide.loc[stays, after] / wide.loc[stays, before]).tolist())
        ratios = np.array(ratios) if ratios else np.zeros(1)
        rows.append(
            {
                "plan_id": plan,
                "churned_count": churned,
                "retained_count": retained,
                "growth_mean": float(ratios.mean()),
                "growth_se": float(ratios.std(ddof=1) / np.sqrt(len(ratios)))
                if len(ratios) > 1
                else 0.0,
            }
        )
    return pd.DataFrame(rows)


def forecast_retention(
    mrr: pd.DataFrame,
    *,
    horizon_months: int = 6,
    window: int = 6,
    n_paths: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Forecast logos and MRR of every existing cohort × plan for ``horizon_months`` months.

    Columns: cohort_month, plan_id, month_start_date, horizon_month, forecast_logo_count,
    logo lower_80/upper_80, forecast_mrr_amount, mrr lower_80/upper_80, logo_retention and
    revenue_retention (forecast relative to the cohort's first month).
    """
    data = _prepare(mrr)
    if data.empty:
        return pd.DataFrame()
    rates = plan_rates(data, window).set_index("plan_id")
    last_month = data["month_start_date"].max()
    current = (
        data[data["month_start_date"] == last_month]
        .groupby(["cohort_month", "plan_id"])
        .agg(logos=("customer_id", "nunique"), mrr=("mrr_amount", "sum"))
    )
    start = (
        data[data["month_start_date"] == data["cohort_month"]]
        .groupby(["cohort_month", "plan_id"])
        .agg(logos=("customer_id", "nunique"), mrr=("mrr_amount", "sum"))
    )
    rng = np.random.default_rng(seed)
    rows = []
    for (cohort, plan), now in current.iterrows():
        rate = rates.loc[plan]
        churn = rng.beta(rate.churned_count + 1, rate.retained_count + 1, size=n_paths)
        growth = rng.normal(rate.growth_mean, rate.growth_se, size=n_paths)
        logos = np.full(n_paths, int(now.logos))
        per_logo = np.full(n_paths, now.mrr / now.logos)
        first = start.loc[(cohort, plan)]
        for step in range(1, horizon_months + 1):
            logos = rng.binomial(logos, 1 - churn)
            per_logo = per_logo * np.exp(growth)
            revenue = logos * per_logo
            rows.append(
                {
                    "cohort_month": cohort.to_timestamp().date(),
                    "plan_id": plan,
                    "month_start_date": (last_month + step).to_timestamp().date(),
                    "horizon_month": step,
                    "forecast_logo_count": float(logos.mean()),
                    "logo_lower_80": float(np.quantile(logos, 0.1)),
                    "logo_upper_80": float(np.quantile(logos, 0.9)),
                    "forecast_mrr_amount": float(revenue.mean()),
                    "mrr_lower_80": float(np.quantile(revenue, 0.1)),
                    "mrr_upper_80": float(np.quantile(revenue, 0.9)),
                    "logo_retention": float(logos.mean() / first.logos),
                    "revenue_retention": float(revenue.mean() / first.mrr),
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RetentionBacktest:
    wape_logos_model: float
    wape_logos_baseline: float
    wape_mrr_model: float
    wape_mrr_baseline: float
    horizon_months: int

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                ("wape_logos", "beta_binomial", self.wape_logos_model),
                ("wape_logos", "flat_last_month", self.wape_logos_baseline),
                ("wape_mrr", "beta_binomial", self.wape_mrr_model),
                ("wape_mrr", "flat_last_month", self.wape_mrr_baseline),
            ],
            columns=["metric", "method", "value"],
        ).assign(horizon_months=self.horizon_months)


def backtest_retention(
    mrr: pd.DataFrame, *, horizon_months: int = 3, window: int = 6
) -> RetentionBacktest:
    """Cut the last ``horizon_months`` off, forecast them, compare with what happened."""
    data = _prepare(mrr)
    cut = data["month_start_date"].max() - horizon_months
    history = mrr[pd.to_datetime(mrr["month_start_date"]).dt.to_period("M") <= cut]
    forecast = forecast_retention(history, horizon_months=horizon_months, window=window)
    actual = cohort_retention(mrr)
    keys = ["cohort_month", "plan_id", "month_start_date"]
    joined = forecast.merge(actual, on=keys, how="left").fillna(
        {"active_logo_count": 0, "mrr_amount": 0}
    )
    last = _prepare(history)
    last = (
        last[last["month_start_date"] == cut]
        .groupby(["cohort_month", "plan_id"])
        .agg(flat_logos=("customer_id", "nunique"), flat_mrr=("mrr_amount", "sum"))
        .reset_index()
    )
    last["cohort_month"] = last["cohort_month"].dt.to_timestamp().dt.date
    joined = joined.merge(last, on=["cohort_month", "plan_id"], how="left")
    return RetentionBacktest(
        wape_logos_model=wape(joined["active_logo_count"], joined["forecast_logo_count"]),
        wape_logos_baseline=wape(joined["active_logo_count"], joined["flat_logos"]),
        wape_mrr_model=wape(joined["mrr_amount"], joined["forecast_mrr_amount"]),
        wape_mrr_baseline=wape(joined["mrr_amount"], joined["flat_mrr"]),
        horizon_months=horizon_months,
    )
