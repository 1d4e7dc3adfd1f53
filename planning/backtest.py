"""Accuracy figures and rolling-origin backtests: every forecast is judged against a baseline.

Volume: WAPE (sum of absolute errors over the sum of actuals, across series and weeks) and
MASE (mean absolute error scaled by the in-sample error of the naive week-on-week forecast,
averaged over series), for the model and for the seasonal-naive baseline ("next weeks look
like the last one"). Classification: ROC AUC and top-decile lift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning import PlanningInputError
from planning.forecast import (
    SEASON,
    daily_counts,
    forecast_point,
    last_full_week_end,
    seasonal_naive,
    weekly_sums,
)


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error: sum|actual - forecast| / sum actual."""
    actual = np.asarray(actual, dtype=float)
    total = np.abs(actual).sum()
    if total == 0:
        return float("nan")
    return float(np.abs(actual - np.asarray(forecast, dtype=float)).sum() / total)


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray, lag: int = 1) -> float:
    """Mean absolute scaled error; the scale is the in-sample MAE of the lag-``lag`` naive."""
    train = np.asarray(train, dtype=float)
    if len(train) <= lag:
        return float("nan")
    scale = np.abs(train[lag:] - train[:-lag]).mean()
    if scale == 0:
        return float("nan")
    error = np.abs(np.asarray(actual, dtype=float) - np.asarray(forecast, dtype=float)).mean()
    return float(error / scale)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (rank form; ties count half). NaN without both classes."""
    from scipy.stats import rankdata

    labels = np.asarray(labels, dtype=bool)
    positives, negatives = labels.sum(), (~labels).sum()
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(np.asarray(scores, dtype=float))
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def top_lift(labels: np.ndarray, scores: np.ndarray, share: float = 0.1) -> float:
    """Positive rate among the top ``share`` by score over the overall rate (1 = no better)."""
    labels = np.asarray(labels, dtype=float)
    if len(labels) == 0 or labels.mean() == 0:
        return float("nan")
    top = max(1, round(len(labels) * share))
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    return float(labels[order[:top]].mean() / labels.mean())


@dataclass(frozen=True)
class VolumeBacktest:
    """Per-origin, per-series, per-week actuals and forecasts, and the summary figures."""

    detail: pd.DataFrame
    wape_model: float
    wape_baseline: float
    mase_model: float
    mase_baseline: float
    origins: int
    horizon_weeks: int

    def summary(self) -> pd.DataFrame:
        """One row per (metric, method): the figures a dashboard or ``servops backtest`` shows."""
        return pd.DataFrame(
            [
                ("wape", "ets_robust", self.wape_model),
                ("wape", "seasonal_naive", self.wape_baseline),
                ("mase", "ets_robust", self.mase_model),
                ("mase", "seasonal_naive", self.mase_baseline),
            ],
            columns=["metric", "method", "value"],
        ).assign(origins=self.origins, horizon_weeks=self.horizon_weeks)


def backtest_volume(
    frame: pd.DataFrame,
    keys: list[str],
    *,
    horizon_weeks: int = 4,
    max_origins: int = 6,
    min_train_weeks: int = 4,
    date_column: str = "date_day",
    count_column: str = "contact_count",
    robust: bool = True,
    refit: bool = False,
) -> VolumeBacktest:
    """Rolling-origin backtest of the weekly volume forecast against the seasonal naive.

    Origins are week ends, one week apart, the latest leaving ``horizon_weeks`` of actuals;
    at most ``max_origins`` of them, each with at least ``min_train_weeks`` of history. The
    model's parameters are estimated at each series' first origin and, unless ``refit``, only
    re-run over the longer history at later origins (its states still learn every new day):
    no origin sees data after it, and the build pays for one fit per series, not one per
    origin.
    """
    if frame.empty:
        raise PlanningInputError("volume backtest: no history to backtest on")
    end = last_full_week_end(pd.to_datetime(frame[date_column]).max().date())
    wide = daily_counts(
        frame, keys, date_column=date_column, count_column=count_column, end=end
    ).loc[: pd.Timestamp(end)]
    # Whole weeks only, counted back from the last full week.
    wide = wide.iloc[len(wide) % SEASON :]
    total_weeks = len(wide) // SEASON
    horizon_weeks = min(horizon_weeks, total_weeks - min_train_weeks)
    if horizon_weeks < 1:
        raise PlanningInputError(
            f"volume backtest: {total_weeks} full weeks of history; need at least "
            f"{min_train_weeks + 1}"
        )
    last_origin = total_weeks - horizon_weeks
    origin_weeks = list(range(max(min_train_weeks, last_origin - max_origins + 1), last_origin + 1))
    rows = []
    mase_model, mase_baseline = [], []
    for key in wide.columns:
        series = wide[key].to_numpy()
        params = None
        for origin in origin_weeks:
            cut = origin * SEASON
            train, test = series[:cut], series[cut : cut + horizon_weeks * SEASON]
            point, fitted = forecast_point(
                train, len(test), robust=robust, params=None if refit else params
            )
            params = params if params is not None else fitted
            model_weeks = weekly_sums(point)
            baseline_weeks = weekly_sums(seasonal_naive(train, len(test)))
            actual_weeks = weekly_sums(test)
            train_weeks = weekly_sums(train)
            scale = np.abs(np.diff(train_weeks)).mean() if len(train_weeks) > 1 else np.nan
            mase_model.append(mase(actual_weeks, model_weeks, train_weeks))
            mase_baseline.append(mase(actual_weeks, baseline_weeks, train_weeks))
            key_values = key if isinstance(key, tuple) else (key,)
            for step in range(len(actual_weeks)):
                row = dict(zip(keys, key_values, strict=True))
                row.update(
                    origin_date=wide.index[cut - 1].date(),
                    week_start_date=wide.index[cut + step * SEASON].date(),
                    horizon_week=step + 1,
                    actual_count=actual_weeks[step],
                    model_count=model_weeks[step],
                    baseline_count=baseline_weeks[step],
                    mase_scale=scale,
                )
                rows.append(row)
    detail = pd.DataFrame(rows)
    return VolumeBacktest(
        detail=detail,
        wape_model=wape(detail["actual_count"], detail["model_count"]),
        wape_baseline=wape(detail["actual_count"], detail["baseline_count"]),
        mase_model=float(np.nanmean(mase_model)),
        mase_baseline=float(np.nanmean(mase_baseline)),
        origins=len(origin_weeks),
        horizon_weeks=horizon_weeks,
    )
