"""Forward-looking planning on the warehouse's marts: pure functions on pandas DataFrames.

Modules: ``forecast`` (volume by team, channel and week with intervals; hour-of-week profile),
``backtest`` (rolling-origin accuracy against baselines), ``staffing`` (Erlang C),
``health`` (account health score), ``churn`` (churn-risk model), ``retention`` (logo and
revenue retention, MRR), ``budget`` (budget against actual). dbt Python models under
``dbt/models/planning/`` call them, so they run in the normal build.
"""

import importlib
import threading
from types import ModuleType

# dbt runs the Python models in threads of one process. statsmodels and scikit-learn both
# import narwhals, whose stable API modules import each other: two first imports at once can
# deadlock, and Python breaks it with an ImportError in one model (seen with 4 dbt threads).
_IMPORT_LOCK = threading.Lock()


def import_library(name: str) -> ModuleType:
    """Import module ``name`` of a heavy library, one thread at a time (see _IMPORT_LOCK).

    The planning modules import statsmodels and scikit-learn only through this, and only
    when a model needs them, so importing ``planning`` stays cheap.
    """
    with _IMPORT_LOCK:
        return importlib.import_module(name)


class PlanningInputError(ValueError):
    """Input the planning functions cannot use; the message names the frame, row and field."""
