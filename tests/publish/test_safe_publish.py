"""Builds never break readers: a rebuild under load, and a failing dbt test publishing nothing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import dagster as dg
import duckdb
import pytest

from servops.paths import Home
from servops.publish import PublishError, check_build_passed

COUNT_SQL = "select count(*) from marts.fct_tickets"

# Like Superset: a new read-only connection per query, as fast as it can, until told to stop.
READER = textwrap.dedent(
    """
    import json, sys, time, duckdb
    path, stop, sql = sys.argv[1:4]
    import os
    while not os.path.exists(stop):
        started = time.time()
        try:
            with duckdb.connect(path, read_only=True) as connection:
                value = connection.execute(sql).fetchone()[0]
            print(json.dumps({"t": started, "value": value}), flush=True)
        except Exception as error:
            print(json.dumps({"t": started, "error": str(error)}), flush=True)
        time.sleep(0.02)
    """
)


def _served(home: Home, sql: str = COUNT_SQL):
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        return connection.execute(sql).fetchone()[0]


def _build(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    """The incremental build of the support marts (what fct_tickets needs), then publish."""
    from dagster_project.definitions import defs

    marts = dg.AssetSelection.assets(dg.AssetKey(["marts", "fct_tickets"])).upstream()
    serving = dg.AssetSelection.assets(dg.AssetKey(["warehouse", "serving"]))
    job = defs.resolve_job_def("warehouse_job")
    selection = (marts | serving).resolve(defs.resolve_asset_graph())
    return job.execute_in_process(
        instance=instance,
        asset_selection=[key for key in selection if key.path[0] != "lake"],
        raise_on_error=False,
    )


def test_rebuild_while_dashboards_query_switches_answers_only_at_publish(
    own_home, add_tickets, tmp_path
):
    old = _served(own_home)
    add_tickets(own_home, 7, "extra-tickets")
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(own_home.serving_db), str(stop), COUNT_SQL],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)
        instance = dg.DagsterInstance.ephemeral()
        result = _build(instance)
        time.sleep(1.0)
    finally:
        stop.touch()
        output, _ = reader.communicate(timeout=30)
    assert result.success
    answers = [json.loads(line) for line in output.splitlines()]
    failures = [answer for answer in answers if "error" in answer]
    assert failures == [], failures[:3]
    values = [answer["value"] for answer in answers]
    assert values[0] == old and values[-1] == old + 7
    # Old answers until the switch, new ones after it: never back, never anything else.
    switch = values.index(old + 7)
    assert set(values[:switch]) == {old} and set(values[switch:]) == {old + 7}
    # The switch happened during the publish step, not while dbt was building.
    logs = instance.all_logs(result.run_id)
    publish_started = next(
        log.timestamp
        for log in logs
        if log.step_key == "warehouse__serving"
        and log.dagster_event
        and log.dagster_event.event_type_value == "STEP_START"
    )
    dbt_started = next(
        log.timestamp
        for log in logs
        if log.step_key == "servops_dbt_models"
        and log.dagster_event
        and log.dagster_event.event_type_value == "STEP_START"
    )
    assert answers[switch]["t"] >= publish_started
    reads_during_build = [a for a in answers if dbt_started <= a["t"] < publish_started]
    assert len(reads_during_build) > 10
    assert _served(own_home) == old + 7


def test_a_failing_dbt_test_publishes_nothing_and_reports_the_failure(own_home, add_tickets):
    from dagster_project.defs.sensors.sensors import report_run_failures

    old = _served(own_home)
    versions = sorted(own_home.versions_dir.glob("v*.duckdb"))
    # A channel outside fct_tickets.channel's accepted values: dbt's test fails.
    add_tickets(own_home, 3, "bad-channel", channel="carrier_pigeon")
    instance = dg.DagsterInstance.ephemeral()
    result = _build(instance)
    assert not result.success
    failed = [event.step_key for event in result.all_events if event.is_step_failure]
    assert failed == ["servops_dbt_models"]
    # The dbt test shows as a failed asset check in Dagster.
    evaluations = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert any(
        not evaluation.passed and evaluation.asset_key.to_user_string() == "marts/fct_tickets"
        for evaluation in evaluations
    )
    # Nothing was published: the same versions, the old answers; nor will a later publish
    # (another run's, or `servops publish`) serve what this build left in the build copy.
    assert sorted(own_home.versions_dir.glob("v*.duckdb")) == versions
    assert _served(own_home) == old
    with pytest.raises(PublishError, match="did not pass"):
        check_build_passed(own_home)
    # The run-failure sensor writes one clear line a person can find.
    run = instance.get_run_by_id(result.run_id)
    # (execute_in_process keeps its RUN_FAILURE event out of the result; the step's will do.)
    failure = next(event for event in result.all_events if event.is_step_failure)
    context = dg.build_run_status_sensor_context(
        sensor_name="report_run_failures",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()
    report_run_failures(context)
    lines = (own_home.dagster_home / "failures.log").read_text().splitlines()
    assert len(lines) == 1
    assert result.run_id in lines[0] and "servops_dbt_models" in lines[0]
    assert "nothing was published" in lines[0]
