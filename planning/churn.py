"""Churn risk: a logistic regression on account snapshots, backtested on a later window.

Each training row is an account at a snapshot date with features from the trailing window
and a label: did the account churn within the following ``horizon`` days. Logistic
regression (scikit-learn; median imputation, standardised features) was picked over boosted
trees: with a few thousand accounts it is as accurate, trains in milliseconds, and its
coefficients say which signal drives the risk, which a customer-success lead can act on.

The backtest trains on snapshots whose labels were fully known before the cut-off and scores
the snapshot at the cut-off; the figures are AUC and top-decile lift, against two baselines:
the inverted health score (no learning) and a coin flip (AUC 0.5).

On the warehouse the model learns *monthly* churn (churned within 30 days of a snapshot) and
turns it into the 90-day risk as 1 - (1 - p)^3. A 90-day label is only known three months
after its snapshot, so with under a year of history the 90-day model had one snapshot to learn
from (about 40 churners); 30-day labels are known after a month and triple the snapshots it
learns from, without looking past the cut-off. Besides the health inputs it sees
``EXTRA_FEATURES``: first-reply wait and reopens (the friction that drives churn), MRR and its
change (expansion follows usage), tenure, and whether the plan renews within the horizon (an
annual plan cannot be cancelled before its renewal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning import PlanningInputError, import_library
from planning._checks import require_columns
from planning.backtest import roc_auc, top_lift

EXTRA_FEATURES = [
    "median_first_reply_hours",
    "mean_reopen_count",
    "log_mrr_amount",
    "mrr_ratio_90_days",
    "tenure_days",
    "renewal_due_share",
    "has_mrr",
]


def model_features(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the derived model inputs (log MRR; has_mrr: 0 before the account pays)."""
    mrr = frame["mrr_amount"].astype(float)
    return frame.assign(
        log_mrr_amount=np.log(mrr.where(mrr > 0)), has_mrr=mrr.notna().astype(float)
    )


def horizon_probability(monthly: np.ndarray, months: int = 3) -> np.ndarray:
    """Probability of churning within ``months`` months from a monthly probability."""
    return 1 - (1 - np.asarray(monthly, dtype=float)) ** months


def build_model():
    """The untrained pipeline: impute medians, standardise, L2 logistic regression."""
    impute = import_library("sklearn.impute")
    linear_model = import_library("sklearn.linear_model")
    pipeline = import_library("sklearn.pipeline")
    preprocessing = import_library("sklearn.preprocessing")

    return pipeline.make_pipeline(
        impute.SimpleImputer(strategy="median", keep_empty_features=True),
        preprocessing.StandardScaler(),
        linear_model.LogisticRegression(C=1.0, max_iter=1000),
    )


def train_churn_model(frame: pd.DataFrame, features: list[str], label: str):
    """Fit the model on ``frame``; raises if the labels hold only one class."""
    require_columns(frame, [*features, label], "churn training data")
    labels = frame[label].astype(bool)
    if labels.nunique() < 2:
        raise PlanningInputError(
            f"churn training data: {len(frame)} rows but only "
            f"{'churned' if labels.all() else 'retained'} accounts; need both to learn from"
        )
    return build_model().fit(frame[features].astype(float), labels)


def churn_probability(model, frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    """The model's probability that each row's account churns within the horizon."""
    return model.predict_proba(frame[features].astype(float))[:, 1]


@dataclass(frozen=True)
class ChurnBacktest:
    """Figures on the held-out (later) window."""

    auc_model: float
    auc_health_baseline: float
    lift_model: float
    lift_health_baseline: float
    train_rows: int
    test_rows: int
    test_churn_rate: float
    coefficients: dict[str, float]

    def summary(self) -> pd.DataFrame:
        """One row per (metric, method), as ``servops backtest`` and fct_churn_backtest show."""
        return pd.DataFrame(
            [
                ("auc", "logistic_regression", self.auc_model),
                ("auc", "health_score", self.auc_health_baseline),
                ("auc", "random", 0.5),
                ("top_decile_lift", "logistic_regression", self.lift_model),
                ("top_decile_lift", "health_score", self.lift_health_baseline),
                ("top_decile_lift", "random", 1.0),
            ],
            columns=["metric", "method", "value"],
        ).assign(
            train_rows=self.train_rows,
            test_rows=self.test_rows,
            test_churn_rate=self.test_churn_rate,
        )


def backtest_churn(
    frame: pd.DataFrame,
    features: list[str],
    *,
    label: str = "is_churned_within_horizon",
    snapshot_column: str = "snapshot_date",
    label_known_column: str = "label_known_date",
    health_column: str = "health_score",
    cutoff=None,
    train_label: str | None = None,
    train_label_known_column: str | None = None,
) -> ChurnBacktest:
    """Train on rows whose label was known by ``cutoff`` (default: the latest snapshot),
    test on the rows at the ``cutoff`` snapshot.

    With ``train_label`` (and its ``train_label_known_column``) the model learns a shorter
    label, e.g. churn within 30 days, and is judged on ``label`` (90 days) at the cut-off.
    """
    train_label = train_label or label
    train_known = train_label_known_column or label_known_column
    require_columns(
        frame,
        [*features, label, train_label, snapshot_column, train_known],
        "churn backtest input",
    )
    snapshot = pd.to_datetime(frame[snapshot_column])
    cutoff = pd.Timestamp(cutoff) if cutoff is not None else snapshot.max()
    train = frame[pd.to_datetime(frame[train_known]) <= cutoff]
    test = frame[snapshot == cutoff]
    if test.empty:
        raise PlanningInputError(f"churn backtest: no snapshot at the cut-off {cutoff.date()}")
    model = train_churn_model(train, features, train_label)
    scores = churn_probability(model, test, features)
    labels = test[label].astype(bool).to_numpy()
    if health_column in test:
        health = test[health_column].astype(float)
        baseline = -health.fillna(health.median()).to_numpy()
    else:
        baseline = np.zeros(len(test))
    coefficients = model[-1].coef_[0]
    return ChurnBacktest(
        auc_model=roc_auc(labels, scores),
        auc_health_baseline=roc_auc(labels, baseline),
        lift_model=top_lift(labels, scores),
        lift_health_baseline=top_lift(labels, baseline),
        train_rows=len(train),
        test_rows=len(test),
        test_churn_rate=float(labels.mean()),
        coefficients=dict(zip(features, map(float, coefficients), strict=True)),
    )
