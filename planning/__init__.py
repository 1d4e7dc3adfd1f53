"""Forward-looking planning on the warehouse's marts: pure functions on pandas DataFrames.

Modules: ``forecast`` (volume by team, channel and week with intervals; hour-of-week profile),
``backtest`` (rolling-origin accuracy against baselines), ``staffing`` (Erlang C),
``health`` (account health score), ``churn`` (churn-risk model), ``retention`` (logo and
revenue retention, MRR), ``budget`` (budget against actual). dbt Python models under
``dbt/models/planning/`` call them, so they run in the normal build.
"""


class PlanningInputError(ValueError):
    """Input the planning functions cannot use; the message names the frame, row and field."""
