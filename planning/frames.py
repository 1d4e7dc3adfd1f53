"""Typed output frames for the dbt Python models: a table's column types must not depend on
whether it has rows (an empty pandas object column reaches DuckDB as type NULL)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "boolean": pa.bool_(),
}


def typed(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """``frame`` reduced to ``columns`` (name -> SQL type) in that order, Arrow-typed."""
    out = {}
    for name, sql_type in columns.items():
        values = frame[name] if name in frame else pd.Series([None] * len(frame))
        array = pa.array(values.tolist(), type=ARROW_TYPES[sql_type], from_pandas=True)
        out[name] = pd.Series(array, dtype=pd.ArrowDtype(ARROW_TYPES[sql_type]))
    return pd.DataFrame(out)
