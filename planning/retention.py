"""Logo and revenue retention by cohort and plan, and its forecast with intervals.

Input: monthly MRR per customer (``customer_id``, ``month_start_date``, ``mrr_amount``,
``plan_id``; optionally ``invoiced_months``: the months of MRR the customer was invoiced for
that month, 1 for a monthly bill, 12 for an annual one, null without an invoice). A customer
is active in a month with MRR > 0, and its cohort is its first active month.

The forecast ("account bootstrap") carries every active account forward month by month,
multiplying its MRR by a ratio drawn from the month-on-month MRR ratios that accounts of the
same size tier showed over the last ``window`` months (0 = churned, 1 = unchanged, above 1
= expanded, below = contracted). That keeps what a logo-count model misses, and what made
the first version lose to the flat baseline on MRR:

- expansion and contraction of retained accounts enter at their arithmetic mean (the first
  version compounded the mean *log* ratio, which understates upgrades several-fold);
- churn is weighted by revenue: a small account churning costs its own MRR, not the average;
- annual plans (MRR at a twelfth of the invoice) can only churn or change plan at renewal:
  between renewals their MRR is carried flat, and at the renewal month a year's worth of
  monthly ratios is applied at once. Renewal is 12 months after the last annual invoice; an
  annual account whose invoice predates the history renews at a random month of those left.

Percentiles of the paths give the 80 % intervals. New business is not forecast (existing
cohorts only), and it is not in the backtest's actuals either. The baseline it is backtested
against carries the last month flat (no churn, no expansion).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning._checks import require_columns
from planning.backtest import wape

COLUMNS = ["customer_id", "month_start_date", "mrr_amount", "plan_id"]
TIERS = 3
ANNUAL_INVOICE_MONTHS = 6
MIN_PLAN_TRANSITIONS = 60


def _prepare(mrr: pd.DataFrame) -> pd.DataFrame:
    require_columns(mrr, COLUMNS, "monthly MRR")
    extra = ["invoiced_months"] if "invoiced_months" in mrr else []
    data = mrr[COLUMNS + extra].copy()
    if not extra:
        data["invoiced_months"] = np.nan
    data["month_start_date"] = pd.to_datetime(data["month_start_date"]).dt.to_period("M")
    data = data[data["mrr_amount"].astype(float) > 0]
    data["mrr_amount"] = data["mrr_amount"].astype(float)
    data["invoiced_months"] = pd.to_numeric(data["invoiced_months"], errors="coerce")
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


def account_billing(data: pd.DataFrame) -> pd.DataFrame:
    """Per customer: is_annual, and for annual accounts active in the last month the months
    from it to the next renewal (``renewal_in_months``; NaN when no annual invoice is in the
    history) and, when that is unknown, ``renewal_window_months``: the renewal falls
    uniformly in that many months (those not yet seen without an invoice)."""
    last = data["month_start_date"].max()
    ordinal = (data["month_start_date"] - last).map(lambda offset: offset.n)
    data = data.assign(month_index=ordinal)
    per = data.groupby("customer_id").agg(
        first_index=("month_index", "min"),
        last_index=("month_index", "max"),
        annual_invoice_index=(
            "month_index",
            lambda index: index[
                data.loc[index.index, "invoiced_months"] >= ANNUAL_INVOICE_MONTHS
            ].max(),
        ),
        invoice_count=("invoiced_months", "count"),
    )
    has_invoices = bool(data["invoiced_months"].notna().any())
    months_active = per["last_index"] - per["first_index"] + 1
    # Annual: an annual invoice in the history, or none at all over three or more active
    # months, which a monthly bill cannot do.
    is_annual = per["annual_invoice_index"].notna() | (
        has_invoices & (per["invoice_count"] == 0) & (months_active >= 3)
    )
    renewal = per["annual_invoice_index"] + 12 - per["last_index"]
    return pd.DataFrame(
        {
            "is_annual": is_annual,
            "renewal_in_months": renewal.where(is_annual).clip(lower=1),
            "renewal_window_months": (12 - months_active)
            .clip(lower=1)
            .where(is_annual & per["annual_invoice_index"].isna()),
        },
        index=per.index,
    )


def transition_ratios(data: pd.DataFrame, window: int, exclude: pd.Index) -> pd.DataFrame:
    """Month-on-month MRR ratios (0 = churned) over the last ``window`` transitions of the
    accounts not in ``exclude`` (the annual ones), with their plan and starting MRR."""
    months = sorted(data["month_start_date"].unique())[-(window + 1) :]
    recent = data[data["month_start_date"].isin(months) & ~data["customer_id"].isin(exclude)]
    wide = recent.pivot_table(
        index="customer_id", columns="month_start_date", values="mrr_amount", aggfunc="sum"
    ).reindex(columns=months)
    plan = recent.groupby("customer_id")["plan_id"].last().reindex(wide.index).to_numpy()
    before = wide.iloc[:, :-1].to_numpy()
    after = wide.iloc[:, 1:].to_numpy()
    was = ~np.isnan(before)
    return pd.DataFrame(
        {
            "plan_id": np.broadcast_to(plan[:, None], before.shape)[was],
            "mrr_before": before[was],
            "ratio": np.nan_to_num(after[was], nan=0.0) / before[was],
        }
    )


@dataclass(frozen=True)
class _Pools:
    """Ratios per MRR tier; ``edges`` cut an MRR into its tier."""

    edges: np.ndarray
    ratios: list[np.ndarray]

    def tier(self, mrr: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.edges, mrr, side="right")

    def draw(self, tiers: np.ndarray, rng: np.random.Generator, shape: tuple) -> np.ndarray:
        """A ratio per element of ``shape`` (paths x accounts) from each account's tier."""
        out = np.empty(shape)
        for tier, pool in enumerate(self.ratios):
            columns = np.flatnonzero(tiers == tier)
            if len(columns):
                out[:, columns] = rng.choice(pool, size=(shape[0], len(columns)))
        return out


def _pools(transitions: pd.DataFrame) -> _Pools:
    """Ratio pools per MRR tier (terciles of the starting MRR)."""
    if transitions.empty:
        return _Pools(np.array([]), [np.ones(1)])
    edges = np.unique(np.quantile(transitions["mrr_before"], np.linspace(0, 1, TIERS + 1)[1:-1]))
    tiers = np.searchsorted(edges, transitions["mrr_before"].to_numpy(), side="right")
    ratios = transitions["ratio"].to_numpy()
    pools = [ratios[tiers == tier] for tier in range(len(edges) + 1)]
    return _Pools(edges, [pool if len(pool) else ratios for pool in pools])


def plan_pools(transitions: pd.DataFrame, plans) -> dict:
    """Tiered ratio pools per plan; a plan with under ``MIN_PLAN_TRANSITIONS`` transitions
    borrows the pools of all plans together."""
    pooled = _pools(transitions)
    out = {}
    for plan in plans:
        own = transitions[transitions["plan_id"] == plan]
        out[plan] = _pools(own) if len(own) >= MIN_PLAN_TRANSITIONS else pooled
    return out


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
    billing = account_billing(data)
    transitions = transition_ratios(data, window, billing.index[billing["is_annual"]])
    last_month = data["month_start_date"].max()
    accounts = (
        data[data["month_start_date"] == last_month]
        .groupby("customer_id")
        .agg(
            cohort_month=("cohort_month", "first"),
            plan_id=("plan_id", "first"),
            mrr=("mrr_amount", "sum"),
        )
        .join(billing)
    )
    start = (
        data[data["month_start_date"] == data["cohort_month"]]
        .groupby(["cohort_month", "plan_id"])
        .agg(logos=("customer_id", "nunique"), mrr=("mrr_amount", "sum"))
    )
    rng = np.random.default_rng(seed)
    groups = accounts.groupby(["cohort_month", "plan_id"]).ngroup().to_numpy()
    keys = (
        accounts[["cohort_month", "plan_id"]]
        .drop_duplicates()
        .set_index(
            accounts.groupby(["cohort_month", "plan_id"]).ngroup().drop_duplicates().to_numpy()
        )
        .sort_index()
    )
    # Groups x accounts indicator: sums accounts into their cohort x plan per path.
    member = np.zeros((len(keys), len(accounts)))
    member[groups, np.arange(len(accounts))] = 1.0
    pools = plan_pools(transitions, accounts["plan_id"].unique())
    plan_of = accounts["plan_id"].to_numpy()
    by_plan = [(np.flatnonzero(plan_of == plan), pool) for plan, pool in pools.items()]
    tiers = np.empty(len(accounts), dtype=int)
    for columns, pool in by_plan:
        tiers[columns] = pool.tier(accounts["mrr"].to_numpy()[columns])

    def draw(subset: np.ndarray) -> np.ndarray:
        """A ratio per path for each account in ``subset`` (indices), from its plan's pools."""
        out = np.empty((n_paths, len(subset)))
        for columns, pool in by_plan:
            inside = np.flatnonzero(np.isin(subset, columns))
            if len(inside):
                out[:, inside] = pool.draw(tiers[subset[inside]], rng, (n_paths, len(inside)))
        return out

    annual = accounts["is_annual"].to_numpy()
    monthly = np.flatnonzero(~annual)
    renewal = np.broadcast_to(
        accounts["renewal_in_months"].fillna(0).to_numpy(), (n_paths, len(accounts))
    ).copy()
    window_months = accounts["renewal_window_months"].to_numpy()
    unknown = np.flatnonzero(~np.isnan(window_months))
    if len(unknown):
        renewal[:, unknown] = rng.integers(
            1, window_months[unknown].astype(int) + 1, size=(n_paths, len(unknown))
        )
    level = np.broadcast_to(accounts["mrr"].to_numpy(), (n_paths, len(accounts))).copy()
    rows = []
    for step in range(1, horizon_months + 1):
        ratio = np.ones(level.shape)
        ratio[:, monthly] = draw(monthly)
        renewing = annual & (renewal == step)
        due = np.flatnonzero(renewing.any(axis=0))
        if len(due):
            # A year of monthly changes at once, at the renewal (only on the paths where the
            # account renews this month).
            year = np.prod([draw(due) for _ in range(12)], axis=0)
            ratio[:, due] = np.where(renewing[:, due], year, 1.0)
        level = level * ratio
        logos = (level > 0).astype(float) @ member.T
        revenue = level @ member.T
        for group, (cohort, plan) in keys.iterrows():
            first = start.loc[(cohort, plan)]
            rows.append(
                {
                    "cohort_month": cohort.to_timestamp().date(),
                    "plan_id": plan,
                    "month_start_date": (last_month + step).to_timestamp().date(),
                    "horizon_month": step,
                    "forecast_logo_count": float(logos[:, group].mean()),
                    "logo_lower_80": float(np.quantile(logos[:, group], 0.1)),
                    "logo_upper_80": float(np.quantile(logos[:, group], 0.9)),
                    "forecast_mrr_amount": float(revenue[:, group].mean()),
                    "mrr_lower_80": float(np.quantile(revenue[:, group], 0.1)),
                    "mrr_upper_80": float(np.quantile(revenue[:, group], 0.9)),
                    "logo_retention": float(logos[:, group].mean() / first.logos),
                    "revenue_retention": float(revenue[:, group].mean() / first.mrr),
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class RetentionBacktest:
    """Pooled WAPE over every origin, cohort and forecast month, model against flat."""

    wape_logos_model: float
    wape_logos_baseline: float
    wape_mrr_model: float
    wape_mrr_baseline: float
    horizon_months: int
    origins: int = 1
    mrr_interval_coverage: float = float("nan")

    def summary(self) -> pd.DataFrame:
        """One row per (metric, method), as ``servops backtest`` prints them."""
        return pd.DataFrame(
            [
                ("wape_logos", "account_bootstrap", self.wape_logos_model),
                ("wape_logos", "flat_last_month", self.wape_logos_baseline),
                ("wape_mrr", "account_bootstrap", self.wape_mrr_model),
                ("wape_mrr", "flat_last_month", self.wape_mrr_baseline),
                ("mrr_80_interval_coverage", "account_bootstrap", self.mrr_interval_coverage),
            ],
            columns=["metric", "method", "value"],
        ).assign(horizon_months=self.horizon_months, origins=self.origins)


def _backtest_origin(mrr: pd.DataFrame, cut, horizon_months: int, window: int) -> pd.DataFrame:
    month = pd.to_datetime(mrr["month_start_date"]).dt.to_period("M")
    history = mrr[month <= cut]
    forecast = forecast_retention(history, horizon_months=horizon_months, window=window)
    actual = cohort_retention(mrr[month <= cut + horizon_months])
    keys = ["cohort_month", "plan_id", "month_start_date"]
    joined = forecast.merge(
        actual[[*keys, "active_logo_count", "mrr_amount"]], on=keys, how="left"
    ).fillna({"active_logo_count": 0, "mrr_amount": 0})
    last = _prepare(history)
    last = (
        last[last["month_start_date"] == cut]
        .groupby(["cohort_month", "plan_id"])
        .agg(flat_logos=("customer_id", "nunique"), flat_mrr=("mrr_amount", "sum"))
        .reset_index()
    )
    last["cohort_month"] = last["cohort_month"].dt.to_timestamp().dt.date
    return joined.merge(last, on=["cohort_month", "plan_id"], how="left").assign(
        origin_month=cut.to_timestamp().date()
    )


def backtest_retention(
    mrr: pd.DataFrame,
    *,
    horizon_months: int = 3,
    window: int = 6,
    max_origins: int = 1,
    min_history_months: int = 4,
) -> RetentionBacktest:
    """Rolling origins: at each of the last ``max_origins`` month ends that leave
    ``horizon_months`` of actuals (and ``min_history_months`` of history), forecast the
    existing cohorts from the history up to it and compare with what happened."""
    data = _prepare(mrr)
    months = sorted(data["month_start_date"].unique())
    last_cut = len(months) - 1 - horizon_months
    first_cut = max(min_history_months - 1, last_cut - max_origins + 1)
    cuts = [months[index] for index in range(first_cut, last_cut + 1)]
    if not cuts:
        nan = float("nan")
        return RetentionBacktest(nan, nan, nan, nan, horizon_months, 0)
    joined = pd.concat(
        [_backtest_origin(mrr, cut, horizon_months, window) for cut in cuts], ignore_index=True
    )
    inside = joined["mrr_amount"].between(joined["mrr_lower_80"], joined["mrr_upper_80"])
    return RetentionBacktest(
        wape_logos_model=wape(joined["active_logo_count"], joined["forecast_logo_count"]),
        wape_logos_baseline=wape(joined["active_logo_count"], joined["flat_logos"]),
        wape_mrr_model=wape(joined["mrr_amount"], joined["forecast_mrr_amount"]),
        wape_mrr_baseline=wape(joined["mrr_amount"], joined["flat_mrr"]),
        horizon_months=horizon_months,
        origins=len(cuts),
        mrr_interval_coverage=float(inside.mean()),
    )
