"""Write the bundle's dataset YAML from the dbt marts' docs and the governed metrics.

    .venv/bin/python superset/generate_datasets.py [--check]

For every dataset in ``superset/metrics.yaml`` this reads the mart's columns (name,
data_type, description) from the dbt model YAML under ``dbt/models/marts/`` (schema
``marts``) or ``dbt/models/planning/`` (a dataset with ``schema: planning``: the forecasts
and plans) and writes ``superset/assets/datasets/servops_serving/<table>.yaml``: the columns
with dbt's descriptions (Superset's column help), and the named metrics from
``metrics.yaml``. A planning Python model whose YAML gives no data_type declares its column
types in its module's ``COLUMNS`` dict; those are used instead. Rerun it
whenever a mart's columns or docs change. ``--check`` writes nothing and exits 1 if any
file would change (CI uses it to keep the bundle in step with dbt).

Column docs are never edited in the dataset files by hand: dbt is their one source.
"""

from __future__ import annotations

import argparse
import runpy
import sys
import uuid
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
MARTS = PROJECT / "dbt" / "models" / "marts"
PLANNING = PROJECT / "dbt" / "models" / "planning"
# Where each schema's models are documented.
SCHEMA_DIRS = {"marts": MARTS, "planning": PLANNING}
METRICS = HERE / "metrics.yaml"
OUT = HERE / "assets" / "datasets" / "servops_serving"
DATABASE_UUID = "00bfb49c-fc45-5790-94be-705895fb4f9c"

TEMPORAL = ("date", "timestamp", "timestamptz", "timestamp with time zone")
NUMERIC = ("double", "float", "real", "decimal", "numeric", "bigint", "integer", "int", "hugeint")
# Words that read better spelled out or upper-cased in a column's display name.
WORDS = {"id": "ID", "mrr": "MRR", "sla": "SLA", "pct": "%", "eur": "EUR", "kb": "KB"}


class DatasetError(ValueError):
    """The metrics file or a mart's YAML cannot make a dataset; says which file and field."""


def dataset_uuid(table: str, schema: str = "marts") -> str:
    """Stable: the same mart always has the same dataset uuid."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"servops/dataset/{schema}.{table}"))


def load_models(marts: Path = MARTS) -> dict[str, dict]:
    """Every model documented in dbt YAML under ``marts``, by name, with the file it is in."""
    models: dict[str, dict] = {}
    for path in sorted(marts.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            models[model["name"]] = {**model, "_file": path}
    return models


def python_column_types(model: dict) -> dict[str, str]:
    """A dbt Python model's ``COLUMNS`` (column -> DuckDB type), or {} for a SQL model."""
    source = Path(model["_file"]).parent / f"{model['name']}.py"
    if not source.exists():
        return {}
    columns = runpy.run_path(str(source)).get("COLUMNS")
    if not isinstance(columns, dict):
        raise DatasetError(f"{source}: no COLUMNS dict giving the model's column types")
    return {str(name): str(data_type) for name, data_type in columns.items()}


def with_python_types(model: dict) -> dict:
    """The model with each column's data_type filled in from its Python module if missing."""
    if all(column.get("data_type") for column in model.get("columns") or []):
        return model
    types = python_column_types(model)
    columns = []
    for column in model.get("columns") or []:
        if types and column.get("name") not in types:
            # Documented but never built: a dataset column on it would break every query
            # that selects it. Said out loud, so the docs get fixed.
            print(
                f"generate_datasets: {model['_file']}: model {model['name']} documents column "
                f"{column.get('name')!r}, which its COLUMNS does not build; left out",
                file=sys.stderr,
            )
            continue
        columns.append(
            {**column, "data_type": column.get("data_type") or types.get(column["name"])}
        )
    return {**model, "columns": columns}


def display_name(column: str) -> str:
    words = [WORDS.get(word, word) for word in column.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def column_config(model: dict, column: dict) -> dict:
    where = f"{model['_file']}: model {model['name']}, column {column.get('name')!r}"
    if not column.get("data_type"):
        raise DatasetError(f"{where}: no data_type (marts read by Superset need one)")
    if not column.get("description"):
        raise DatasetError(f"{where}: no description")
    data_type = column["data_type"].lower()
    base = data_type.split("(")[0].strip()
    is_temporal = base in TEMPORAL
    is_measure = base in NUMERIC and base not in ("integer", "int")
    return {
        "column_name": column["name"],
        "verbose_name": display_name(column["name"]),
        "description": " ".join(column["description"].split()),
        "type": data_type.upper(),
        "is_dttm": is_temporal,
        "groupby": not is_measure,
        "filterable": True,
    }


def metric_config(table: str, metric: dict) -> dict:
    for field in ("name", "verbose_name", "expression", "description"):
        if not metric.get(field):
            raise DatasetError(f"{METRICS}: dataset {table}, metric {metric!r}: no {field}")
    return {
        "metric_name": metric["name"],
        "verbose_name": metric["verbose_name"],
        "metric_type": None,
        "expression": " ".join(metric["expression"].split()),
        "description": " ".join(metric["description"].split()),
        "d3format": metric.get("d3format"),
        "extra": None,
        "warning_text": None,
    }


def dataset_config(table: str, spec: dict, model: dict, schema: str = "marts") -> dict:
    columns = [column_config(model, column) for column in model.get("columns") or []]
    names = {column["column_name"] for column in columns}
    main_dttm = spec.get("main_dttm_col")
    if main_dttm and main_dttm not in names:
        raise DatasetError(f"{METRICS}: dataset {table}: main_dttm_col {main_dttm!r} not a column")
    return {
        "table_name": table,
        "schema": schema,
        "catalog": None,
        "sql": None,
        "description": " ".join((model.get("description") or "").split()) or None,
        "main_dttm_col": main_dttm,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": dataset_uuid(table, schema),
        "database_uuid": DATABASE_UUID,
        "version": "1.0.0",
        "metrics": [metric_config(table, metric) for metric in spec.get("metrics") or []],
        "columns": columns,
    }


def render(table: str, config: dict) -> str:
    header = (
        f"# Generated by superset/generate_datasets.py from dbt's docs of {config['schema']}."
        f"{table} and\n"
        "# superset/metrics.yaml: edit those, then rerun it. Do not edit by hand.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)


def generate() -> dict[Path, str]:
    """Dataset file path -> its text, for every dataset in ``metrics.yaml``."""
    specs = (yaml.safe_load(METRICS.read_text()) or {}).get("datasets") or {}
    models = {schema: load_models(folder) for schema, folder in SCHEMA_DIRS.items()}
    files = {}
    for table, spec in specs.items():
        spec = spec or {}
        schema = spec.get("schema", "marts")
        if schema not in SCHEMA_DIRS:
            raise DatasetError(
                f"{METRICS}: dataset {table}: schema {schema!r} is not one of "
                f"{', '.join(SCHEMA_DIRS)}"
            )
        if table not in models[schema]:
            raise DatasetError(
                f"{METRICS}: dataset {table}: no model documents it in {SCHEMA_DIRS[schema]}"
            )
        model = with_python_types(models[schema][table])
        files[OUT / f"{table}.yaml"] = render(table, dataset_config(table, spec, model, schema))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that differ")
    args = parser.parse_args(argv)
    try:
        files = generate()
    except DatasetError as error:
        print(f"generate_datasets: {error}", file=sys.stderr)
        return 2
    stale = [path for path in OUT.glob("*.yaml") if path not in files]
    changed = [
        path for path, text in files.items() if not path.exists() or path.read_text() != text
    ]
    if args.check:
        for path in changed + stale:
            print(f"out of date: {path.relative_to(PROJECT)}")
        return 1 if changed or stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for path in changed:
        path.write_text(files[path])
        print(f"wrote {path.relative_to(PROJECT)}")
    for path in stale:
        path.unlink()
        print(f"removed {path.relative_to(PROJECT)} (not in metrics.yaml)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
