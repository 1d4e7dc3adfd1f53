"""The bundle is consistent before any Superset starts: datasets in step with dbt's docs,
every chart's metrics and columns defined on its dataset, every dashboard given a role."""

from __future__ import annotations

import importlib.util

from servops.paths import SUPERSET_DIR
from servops.superset_bootstrap import bundle_configs, dashboard_datasets, load_roles


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, SUPERSET_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dataset_files_are_generated_from_dbt_docs():
    """Rerun superset/generate_datasets.py when this fails."""
    generator = load_script("generate_datasets")
    for path, text in generator.generate().items():
        assert path.exists() and path.read_text() == text, f"out of date: {path}"


def test_every_chart_uses_metrics_and_columns_of_its_dataset():
    configs = bundle_configs()
    datasets = {
        config["uuid"]: config for name, config in configs.items() if name.startswith("datasets/")
    }
    problems = []
    for name, chart in configs.items():
        if not name.startswith("charts/"):
            continue
        dataset = datasets[chart["dataset_uuid"]]
        metrics = {metric["metric_name"] for metric in dataset["metrics"]}
        columns = {column["column_name"] for column in dataset["columns"]}
        params = chart["params"]
        used_metrics = [
            *params.get("metrics", []),
            *[params[k] for k in ("metric",) if k in params],
        ]
        used_columns = [
            *params.get("groupby", []),
            *params.get("groupbyRows", []),
            *params.get("groupbyColumns", []),
            *([params["x_axis"]] if isinstance(params.get("x_axis"), str) else []),
            *[f["subject"] for f in params.get("adhoc_filters", []) if "subject" in f],
        ]
        problems += [f"{name}: metric {m}" for m in used_metrics if m not in metrics]
        problems += [f"{name}: column {c}" for c in used_columns if c not in columns]
    assert not problems, f"undefined on the chart's dataset: {problems}"


def test_every_dashboard_has_a_role_and_filters_cover_row_security():
    configs = bundle_configs()
    by_dashboard = dashboard_datasets(configs)
    roles = load_roles()
    granted = {slug for role in roles for slug in role["dashboards"]}
    assert set(by_dashboard) == granted
    tables = {
        config["uuid"]: config["table_name"]
        for name, config in configs.items()
        if name.startswith("datasets/")
    }
    for role in roles:
        if role.get("rls"):
            read = {tables[uuid] for slug in role["dashboards"] for uuid in by_dashboard[slug]}
            assert read <= set(role["rls"]), (
                f"{role['name']} reads unfiltered {read - set(role['rls'])}"
            )
