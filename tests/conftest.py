"""Shared fixtures: one small company simulated, built and published through Dagster."""

from __future__ import annotations

import pytest

from servops.paths import Home, activate

# A small company: big enough for every chart and test, small enough for CI. Its chatbot goes
# live mid-window, as in the demo, so the bot's paths run through every mart and dashboard.
SMALL_COMPANY = {
    "seed": 7,
    "customers": 200,
    "days": 45,
    "start": "2025-03-01",
    "defects": 0.05,
    "chatbot_launch_date": "2025-03-20",
}


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A data directory whose lake was simulated and whose warehouse was built, tested and
    published by one real Dagster run of ``simulate_and_build_job``."""
    import dagster as dg

    home = activate(Home(tmp_path_factory.mktemp("servops_home")), override=True)
    from dagster_project.definitions import defs

    result = defs.resolve_job_def("simulate_and_build_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"lake__raw__ticket": {"config": SMALL_COMPANY}}},
    )
    assert result.success
    assert home.serving_db.exists()
    return home
