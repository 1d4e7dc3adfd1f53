"""Dagster code location of the servops warehouse (``dagster_project.definitions``)."""

from servops.paths import activate

# dbt, the simulator and publishing read the data directory's paths from the environment.
activate()
