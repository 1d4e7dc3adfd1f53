"""Contact volume forecasts: per team and channel, by day fitted and by week reported.

The model is exponential smoothing (statsmodels' ``ETSModel``: additive error, damped additive
trend, additive weekly seasonality) fitted to *daily* counts, because the weekly pattern is
the strongest signal and a weekly series would need years of history to learn a yearly
season. Weekly figures are sums of daily ones; their prediction intervals come from simulated
sample paths, so they account for the correlation between the days of a week.

Incidents (a burst of tickets after an outage) are one-off: before fitting, days more than
``k`` robust standard deviations from a robust expectation (rolling median level plus a
median weekday effect) are replaced by that expectation (as R's ``tsclean`` does), so a
spike neither inflates the level nor repeats as "seasonality". Merely winsorising them to
the band's edge still left a spike at the end of the history lifting the level by a third.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from planning import import_library
from planning._checks import require_columns, require_non_negative

SEASON = 7
MIN_DAYS_FOR_MODEL = 3 * SEASON
INTERVALS = (0.80, 0.95)


def clean_outliers(
    y: np.ndarray, season: int = SEASON, k: float = 4.0, window: int = 21
) -> np.ndarray:
    """``y`` with days beyond expectation ± ``k`` robust sds replaced by the expectation.

    The expectation is a centred rolling median of the de-seasonalised series plus a median
    weekday effect; the spread is the larger of 1.4826·MAD of the residuals and the Poisson
    sd (sqrt of the expectation), so quiet count series are not flattened.
    """
    y = np.asarray(y, dtype=float)
    if len(y) < 2 * season:
        return y.copy()
    phase = np.arange(len(y)) % season
    centre = np.median(y)
    effect = np.array([np.median(y[phase == p]) - centre for p in range(season)])
    level = (
        pd.Series(y - effect[phase]).rolling(window, center=True, min_periods=1).median().to_numpy()
    )
    expected = np.maximum(level + effect[phase], 0.0)
    residual = y - expected
    mad = 1.4826 * np.median(np.abs(residual - np.median(residual)))
    spread = np.maximum(mad, np.sqrt(np.maximum(expected, 1.0)))
    return np.where(np.abs(residual) > k * spread, expected, y)


def seasonal_naive(y: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    """The last full season repeated: the baseline every forecast must beat."""
    y = np.asarray(y, dtype=float)
    if len(y) < season:
        return np.full(horizon, y.mean() if len(y) else 0.0)
    return np.resize(y[-season:], horizon)


ETS_SPEC = {
    "error": "add",
    "trend": "add",
    "damped_trend": True,
    "seasonal": "add",
    # Heuristic start values (from the first seasons) rather than estimated ones: five times
    # faster, and the smoothing soon forgets the start anyway.
    "initialization_method": "heuristic",
}


def _fit_ets(y: np.ndarray, season: int, params: np.ndarray | None = None):
    """The fitted ETS results for ``y``, or None when there is nothing for it to learn.

    With ``params`` (smoothing and damping from an earlier fit) the model is only run over
    ``y`` with them, not re-estimated: about ten times cheaper, which is how the rolling
    backtest updates an origin's states without refitting.
    """
    ets = import_library("statsmodels.tsa.exponential_smoothing.ets")

    if len(y) < MIN_DAYS_FOR_MODEL or np.ptp(y) == 0:
        return None
    with warnings.catch_warnings():
        # Convergence chatter on short, noisy count series; the fit is still usable.
        warnings.simplefilter("ignore")
        model = ets.ETSModel(y, seasonal_periods=season, **ETS_SPEC)
        if params is not None:
            return model.smooth(params)
        return model.fit(disp=False, maxiter=200)


def _weekday_means(y: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """Weekday means of the last four weeks, carried ``horizon`` days ahead."""
    recent = y[-4 * season :]
    phase = (np.arange(len(y)) % season)[-len(recent) :]
    means = np.array(
        [recent[phase == p].mean() if (phase == p).any() else recent.mean() for p in range(season)]
    )
    # An empty or all-missing history has no mean: forecast zero rather than fail the build.
    means = np.nan_to_num(means, nan=0.0, posinf=0.0)
    future_phase = (np.arange(len(y), len(y) + horizon)) % season
    return np.maximum(means[future_phase], 0.0)


def _fallback_paths(
    y: np.ndarray, horizon: int, n_paths: int, rng: np.random.Generator, season: int
) -> np.ndarray:
    """Poisson paths around the weekday means of the last four weeks (too little history
    or a constant series: nothing for a smoothing model to learn)."""
    means = _weekday_means(y, horizon, season)
    return rng.poisson(means, size=(n_paths, horizon)).astype(float)


def forecast_paths(
    y: np.ndarray,
    horizon: int,
    *,
    season: int = SEASON,
    n_paths: int = 400,
    seed: int = 0,
    robust: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Point forecast (``horizon`` days) and ``n_paths`` simulated sample paths, all >= 0."""
    y = np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    fit_on = clean_outliers(y, season) if robust else y
    result = _fit_ets(fit_on, season)
    if result is None:
        paths = _fallback_paths(fit_on, horizon, n_paths, rng, season)
        return paths.mean(axis=0), paths
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = np.asarray(result.forecast(horizon), dtype=float)
        simulated = result.simulate(
            nsimulations=horizon, repetitions=n_paths, anchor="end", rng=rng
        )
    paths = np.asarray(simulated, dtype=float).reshape(horizon, n_paths).T
    if not np.isfinite(point).all() or not np.isfinite(paths).all():
        paths = _fallback_paths(fit_on, horizon, n_paths, rng, season)
        return paths.mean(axis=0), paths
    return np.maximum(point, 0.0), np.maximum(paths, 0.0)


def forecast_point(
    y: np.ndarray,
    horizon: int,
    *,
    season: int = SEASON,
    robust: bool = True,
    params: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Point forecast only (no sample paths), and the parameters it used (None for the
    weekday-mean fallback). Pass ``params`` back in to run an earlier fit on more data."""
    y = np.asarray(y, dtype=float)
    fit_on = clean_outliers(y, season) if robust else y
    result = _fit_ets(fit_on, season, params)
    if result is None:
        return _weekday_means(fit_on, horizon, season), None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        point = np.asarray(result.forecast(horizon), dtype=float)
    if not np.isfinite(point).all():
        return _weekday_means(fit_on, horizon, season), None
    return np.maximum(point, 0.0), np.asarray(result.params)


def weekly_sums(daily: np.ndarray) -> np.ndarray:
    """Sum consecutive 7-day blocks along the last axis (the length must be a multiple of 7)."""
    daily = np.asarray(daily, dtype=float)
    return daily.reshape(*daily.shape[:-1], -1, 7).sum(axis=-1)


def last_full_week_end(last_date: dt.date) -> dt.date:
    """The latest Sunday on or before ``last_date``: weeks run Monday to Sunday."""
    return last_date - dt.timedelta(days=(last_date.weekday() + 1) % 7)


def daily_counts(
    frame: pd.DataFrame,
    keys: list[str],
    *,
    date_column: str = "date_day",
    count_column: str = "contact_count",
    end: dt.date | None = None,
    name: str = "daily counts",
) -> pd.DataFrame:
    """Daily counts per key, zero-filled on a shared calendar from the first day to ``end``.

    Returns a wide frame: a row per day (DatetimeIndex), a column per key tuple.
    """
    require_columns(frame, [*keys, date_column, count_column], name)
    require_non_negative(frame, count_column, name)
    data = frame.assign(**{date_column: pd.to_datetime(frame[date_column])})
    if data.empty:
        return pd.DataFrame()
    start = data[date_column].min()
    stop = pd.Timestamp(end) if end is not None else data[date_column].max()
    wide = data.pivot_table(
        index=date_column, columns=keys, values=count_column, aggfunc="sum", fill_value=0
    )
    calendar = pd.date_range(start, stop, freq="D")
    return wide.reindex(calendar, fill_value=0).astype(float)


def forecast_volume(
    frame: pd.DataFrame,
    keys: list[str],
    *,
    horizon_weeks: int = 13,
    date_column: str = "date_day",
    count_column: str = "contact_count",
    robust: bool = True,
    n_paths: int = 400,
    seed: int = 0,
) -> pd.DataFrame:
    """Weekly forecasts per key for the ``horizon_weeks`` weeks after the last full week.

    ``frame`` holds daily counts (``date_column``, ``count_column``, ``keys``). History is cut
    at the last full Monday-to-Sunday week, so every forecast week is a whole week. Columns:
    keys, week_start_date, forecast_count, lower_80/upper_80, lower_95/upper_95, history_days.
    """
    require_columns(frame, [*keys, date_column, count_column], "volume forecast input")
    if frame.empty:
        return pd.DataFrame(
            columns=[
                *keys,
                "week_start_date",
                "forecast_count",
                "lower_80",
                "upper_80",
                "lower_95",
                "upper_95",
                "history_days",
            ]
        )
    end = last_full_week_end(pd.to_datetime(frame[date_column]).max().date())
    wide = daily_counts(
        frame, keys, date_column=date_column, count_column=count_column, end=end
    ).loc[: pd.Timestamp(end)]
    horizon = 7 * horizon_weeks
    first_week = pd.Timestamp(end) + pd.Timedelta(days=1)
    weeks = pd.date_range(first_week, periods=horizon_weeks, freq="7D")
    rows = []
    for index, key in enumerate(wide.columns):
        history = wide[key].to_numpy()
        point, paths = forecast_paths(
            history, horizon, n_paths=n_paths, seed=seed + index, robust=robust
        )
        weekly_point = weekly_sums(point)
        weekly_paths = weekly_sums(paths)
        bounds = {}
        for level in INTERVALS:
            tail = (1 - level) / 2
            name = round(level * 100)
            bounds[f"lower_{name}"] = np.quantile(weekly_paths, tail, axis=0)
            bounds[f"upper_{name}"] = np.quantile(weekly_paths, 1 - tail, axis=0)
        key_values = key if isinstance(key, tuple) else (key,)
        for week_index, week_start in enumerate(weeks):
            row = dict(zip(keys, key_values, strict=True))
            row.update(
                week_start_date=week_start.date(),
                forecast_count=float(weekly_point[week_index]),
                history_days=len(history),
                **{column: float(values[week_index]) for column, values in bounds.items()},
            )
            rows.append(row)
    return pd.DataFrame(rows)


def hour_of_week_profile(
    frame: pd.DataFrame, keys: list[str], *, timestamp_column: str = "created_at", prior: float = 48
) -> pd.DataFrame:
    """Share of each key's contacts per hour of the week (168 rows per key, shares sum to 1).

    Sparse series borrow strength from the pooled profile: each key's counts get ``prior``
    pseudo-contacts spread like all contacts together, so an hour never seen is not zero.
    Columns: keys, day_of_week (1 = Monday), hour_of_day, contact_count, share.
    """
    require_columns(frame, [*keys, timestamp_column], "hour-of-week profile input")
    stamps = pd.to_datetime(frame[timestamp_column])
    data = frame[keys].assign(
        day_of_week=stamps.dt.dayofweek + 1, hour_of_day=stamps.dt.hour, contact_count=1
    )
    grid = pd.MultiIndex.from_product(
        [range(1, 8), range(24)], names=["day_of_week", "hour_of_day"]
    )
    pooled = (
        data.groupby(["day_of_week", "hour_of_day"])["contact_count"]
        .sum()
        .reindex(grid, fill_value=0)
    )
    pooled_share = (pooled + 1.0) / (pooled + 1.0).sum()
    out = []
    for key, group in data.groupby(keys):
        counts = group.groupby(["day_of_week", "hour_of_day"])["contact_count"].sum()
        counts = counts.reindex(grid, fill_value=0).astype(float)
        share = (counts + prior * pooled_share) / (counts.sum() + prior)
        part = pd.DataFrame({"contact_count": counts, "share": share}).reset_index()
        for column, value in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
            part.insert(0, column, value)
        out.append(part)
    if not out:
        return pd.DataFrame(columns=[*keys, "day_of_week", "hour_of_day", "contact_count", "share"])
    return pd.concat(out, ignore_index=True)[
        [*keys, "day_of_week", "hour_of_day", "contact_count", "share"]
    ]
