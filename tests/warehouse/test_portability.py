"""The models' SQL stays portable: DuckDB-only syntax lives in the project's macros.

Users who outgrow one machine will build the same dbt project on Spark. A construct below in a
model file (comments aside) would tie that model to DuckDB; each has a portable form or a
dispatching macro (``dbt/macros``) to use instead.
"""

from __future__ import annotations

import re

from servops.paths import DBT_PROJECT_DIR

DUCKDB_ONLY = {
    r"::\s*\w": "a :: cast: cast(x as type)",
    r"\bisodow\b": "isodow: macros/iso_day_of_week.sql",
    r"\b(read_parquet|read_csv\w*|read_json\w*|glob)\s*\(": (
        "a file function: macros/lake_source.sql"
    ),
    r"\bnot\s+materialized\b": "a CTE hint: macros cte_not_materialized",
    r"\btimezone\s*\(": "timezone(): macros/time_zones.sql, macros/utc_timestamp.sql",
    r"\b(epoch|epoch_ms|strftime|strptime|make_timestamp|make_date)\s*\(": "a DuckDB date "
    "function: dbt's cross-database macros (dbt.datediff, dbt.dateadd, ...) or a macro",
    r"\bdate_diff\s*\(": "date_diff(): dbt.datediff",
    r"\b(list_\w+|struct_pack|unnest|generate_series|range)\s*\(": "a DuckDB list function",
    r"\barg_(max|min)\s*\(": "arg_max/arg_min: max_by/min_by",
    r"\*\s*(exclude|replace)\b": "select * exclude/replace: name the columns",
    r"\bqualify\b": "qualify: filter a window's result in an outer query",
    r"\bstring_agg\s*\(": "string_agg(): dbt.listagg",
}


def _without_comments(text: str) -> str:
    text = re.sub(r"\{#.*?#\}", " ", text, flags=re.S)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


def test_models_use_no_duckdb_only_syntax() -> None:
    models = sorted((DBT_PROJECT_DIR / "models").rglob("*.sql"))
    assert len(models) > 40
    found = []
    for path in models:
        text = _without_comments(path.read_text()).lower()
        for pattern, instead in DUCKDB_ONLY.items():
            for match in re.finditer(pattern, text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(DBT_PROJECT_DIR)}:{line}: {instead}")
    assert found == []


def test_the_check_finds_each_construct() -> None:
    samples = [
        "select x::integer",
        "extract(isodow from d)",
        "from read_parquet('a')",
        "as not materialized (",
        "timezone('UTC', t)",
        "strftime(t, '%Y')",
        "date_diff('day', a, b)",
        "list_sum(x)",
        "arg_max(a, b)",
        "select * exclude (a)",
        "qualify row_number() over () = 1",
        "string_agg(a, ',')",
    ]
    for sample in samples:
        assert any(re.search(pattern, sample) for pattern in DUCKDB_ONLY), sample
    assert not any(re.search(p, "cast(timezone as varchar) as time_zone") for p in DUCKDB_ONLY)
