"""Export dashboards changed in the Superset UI back into the bundle, instance noise stripped.

    .venv/bin/python superset/export.py [--home DIR] [--dashboard SLUG ...] [--dry-run]

Runs ``superset export-dashboards`` on the data directory's Superset, unzips it and writes
the charts and dashboards (all, or those of the given slugs) into ``superset/assets/``:

- files keep the names they have in the bundle (matched by uuid); new ones are named after
  the chart's or dashboard's title;
- instance noise goes: chart ``params.datasource``/``slice_id``/``dashboards``, the
  ``query_context`` (the dashboard rebuilds queries from ``params``), per-instance chart ids
  in the dashboard (renumbered 1..n in layout order, native filter scopes with them), the
  export timestamp, label colours Superset fills in itself;
- uuids stay: they are what links the files.

Datasets are not written: they are generated from dbt's docs and ``superset/metrics.yaml``
(``superset/generate_datasets.py``); the database neither (its settings are forced by the
bootstrap). The script says when the export's datasets or database differ from the bundle,
so a metric added in the UI can be moved into ``metrics.yaml``.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
CHART_NOISE = ("datasource", "slice_id", "dashboards", "url_params", "granularity_sqla")
# The bundle's key order, so an unchanged object exports to the same text.
CHART_KEYS = (
    "slice_name", "description", "viz_type", "dataset_uuid", "uuid", "cache_timeout",
    "certified_by", "certification_details", "query_context", "version", "params",
)  # fmt: skip
DASHBOARD_KEYS = (
    "dashboard_title", "description", "slug", "uuid", "published", "css", "certified_by",
    "certification_details", "version", "metadata", "position",
)  # fmt: skip
DASHBOARD_METADATA_NOISE = ("positions", "map_label_colors", "color_scheme_domain", "chartsInScope")


def slug_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def existing_files(kind: str) -> dict[str, Path]:
    """uuid -> the bundle file of that kind holding it."""
    return {
        yaml.safe_load(path.read_text())["uuid"]: path
        for path in sorted((ASSETS / kind).rglob("*.yaml"))
    }


def ordered(config: dict, keys: tuple[str, ...]) -> dict:
    """``config`` with ``keys`` first, in that order, then any others as they came."""
    return {
        **{key: config[key] for key in keys if key in config},
        **{key: value for key, value in config.items() if key not in keys},
    }


def normalise_chart(config: dict) -> dict:
    config = dict(config)
    config["query_context"] = None
    params = dict(config.get("params") or {})
    for key in CHART_NOISE:
        params.pop(key, None)
    config["params"] = params
    config.pop("id", None)
    return ordered(config, CHART_KEYS)


def normalise_dashboard(config: dict) -> dict:
    config = dict(config)
    config.pop("id", None)
    position = config["position"]
    # Chart ids are the instance's; any numbers do, as the import maps them by uuid.
    charts = [
        item for item in position.values() if isinstance(item, dict) and item.get("type") == "CHART"
    ]
    order = _layout_order(position)
    charts.sort(key=lambda item: order.get(item["id"], len(order)))
    renumber = {}
    for number, item in enumerate(charts, start=1):
        renumber[item["meta"]["chartId"]] = number
        item["meta"]["chartId"] = number
    metadata = dict(config.get("metadata") or {})
    for key in DASHBOARD_METADATA_NOISE:
        metadata.pop(key, None)
    for native_filter in metadata.get("native_filter_configuration", []):
        native_filter.pop("chartsInScope", None)
        native_filter.pop("tabsInScope", None)
        scope = native_filter.get("scope") or {}
        if scope.get("excluded"):
            scope["excluded"] = sorted(renumber[i] for i in scope["excluded"] if i in renumber)
    if "chart_configuration" in metadata:
        metadata["chart_configuration"] = {
            str(renumber[int(key)]): {**value, "id": renumber[int(key)]}
            for key, value in metadata["chart_configuration"].items()
            if int(key) in renumber
        }
    for key in ("timed_refresh_immune_slices",):
        metadata[key] = sorted(renumber[i] for i in metadata.get(key, []) if i in renumber)
    metadata["label_colors"] = {}
    metadata["shared_label_colors"] = []
    config["metadata"] = metadata
    return ordered(config, DASHBOARD_KEYS)


def _layout_order(position: dict) -> dict[str, int]:
    """Component id -> its place walking the layout from the root, depth first."""
    order: dict[str, int] = {}

    def walk(node_id: str) -> None:
        order[node_id] = len(order)
        for child in (position.get(node_id) or {}).get("children", []):
            walk(child)

    walk("ROOT_ID")
    return order


def dump(config: dict) -> str:
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)


def normalise_export(zip_bytes: bytes, slugs: set[str] | None) -> tuple[dict[Path, str], list]:
    """(bundle path -> text to write, notes about what was not written)."""
    configs = {}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as bundle:
        for name in bundle.namelist():
            if name.endswith(".yaml"):
                relative = name.split("/", 1)[1]
                configs[relative] = yaml.safe_load(bundle.read(name))
    dashboards = {
        name: config
        for name, config in configs.items()
        if name.startswith("dashboards/") and (not slugs or config.get("slug") in slugs)
    }
    if slugs and (missing := slugs - {config.get("slug") for config in dashboards.values()}):
        raise SystemExit(f"export: no dashboard with slug {', '.join(sorted(missing))}")
    wanted_charts = {
        item["meta"]["uuid"]
        for config in dashboards.values()
        for item in config["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    chart_files, dashboard_files = existing_files("charts"), existing_files("dashboards")
    dataset_files = existing_files("datasets")
    out: dict[Path, str] = {}
    notes = []
    for name, config in configs.items():
        if name.startswith("charts/") and config["uuid"] in wanted_charts:
            path = chart_files.get(config["uuid"]) or (
                ASSETS / "charts" / f"{slug_name(config['slice_name'])}.yaml"
            )
            out[path] = dump(normalise_chart(config))
        elif name in dashboards:
            path = dashboard_files.get(config["uuid"]) or (
                ASSETS
                / "dashboards"
                / f"{slug_name(config.get('slug') or config['dashboard_title'])}.yaml"
            )
            out[path] = dump(normalise_dashboard(config))
        elif name.startswith("datasets/"):
            known = dataset_files.get(config["uuid"])
            if known is None:
                notes.append(f"new dataset {config['table_name']}: add it to superset/metrics.yaml")
                continue
            bundle_metrics = {
                metric["metric_name"]: metric["expression"]
                for metric in yaml.safe_load(known.read_text())["metrics"]
            }
            for metric in config.get("metrics") or []:
                if bundle_metrics.get(metric["metric_name"]) != metric["expression"]:
                    notes.append(
                        f"dataset {config['table_name']}: metric {metric['metric_name']} differs "
                        "from the bundle; move it into superset/metrics.yaml"
                    )
    return out, notes


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(HERE.parent))
    from servops.paths import Home
    from servops.superset_bootstrap import run_superset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="the data directory (default: SERVOPS_HOME)")
    parser.add_argument("--dashboard", action="append", default=[], help="a slug (repeatable)")
    parser.add_argument("--dry-run", action="store_true", help="list the files, write nothing")
    args = parser.parse_args(argv)
    home = Home(args.home) if args.home else Home.resolve()
    with tempfile.TemporaryDirectory(prefix="servops-export-") as tmp:
        zip_path = Path(tmp) / "export.zip"
        run_superset(home, "export-dashboards", "-f", str(zip_path), log=lambda line: None)
        files, notes = normalise_export(zip_path.read_bytes(), set(args.dashboard) or None)
    for path, text in sorted(files.items()):
        if path.exists() and path.read_text() == text:
            continue
        print(f"{'would write' if args.dry_run else 'wrote'} {path.relative_to(HERE.parent)}")
        if not args.dry_run:
            path.write_text(text)
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
