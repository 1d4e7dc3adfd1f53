"""The dbt project as Dagster assets (dagster-dbt): one cached DbtProject, one @dbt_assets."""

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from dagster_project.lib.translator import ServopsDbtTranslator
from servops.paths import DBT_PROJECT_DIR, Home

servops_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        sources.extend((DBT_PROJECT_DIR / folder).rglob("*"))
    return any(path.is_file() and path.stat().st_mtime > built for path in sources)


# The manifest is derived from the project: (re)parse when it is missing or older than the SQL.
if _manifest_is_stale(servops_dbt_project):
    servops_dbt_project.preparer.prepare(servops_dbt_project)


@dbt_assets(
    manifest=servops_dbt_project.manifest_path,
    project=servops_dbt_project,
    dagster_dbt_translator=ServopsDbtTranslator(),
    pool="warehouse_build",
)
def servops_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Builds and tests every model into the build copy; nothing here touches serving."""
    Home.resolve().warehouse_dir.mkdir(parents=True, exist_ok=True)
    yield from dbt.cli(["build"], context=context).stream()


dbt_resource = DbtCliResource(project_dir=servops_dbt_project)
