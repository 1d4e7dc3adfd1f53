"""Sensors: build when new lake files land; report failed runs where a person sees them."""

import hashlib

import dagster as dg

from dagster_project.defs.warehouse.build_args import incremental_tests_since
from dagster_project.defs.warehouse.jobs import incremental_run_config, warehouse_job
from dagster_project.lib.failures import failure_line, record_failure
from dagster_project.lib.lake_files import LakeCursor, LakeFile, lake_files
from dagster_project.lib.selection import incremental_selection
from servops.paths import Home

# The daemon evaluates sensors at most every 5 s; a shorter interval would change nothing.
SENSOR_INTERVAL_SECONDS = 5
# Builds in flight (queued, starting or running) of the build job: one building, one waiting
# for the build pool. More would only pile up behind the pool, each building what the next one
# builds again; while two are in flight, new files wait (the cursor stays put) and go into the
# request after.
MAX_BUILDS_IN_FLIGHT = 2
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def builds_in_flight(instance) -> int:
    """How many runs of the build job are queued, starting or running."""
    return instance.get_runs_count(dg.RunsFilter(job_name=warehouse_job.name, statuses=IN_FLIGHT))


def new_files_request(
    files: list[LakeFile], root, asset_graph, *, full: bool = False, tests_received_since: str = ""
) -> dg.RunRequest:
    """The incremental build for ``files``: keyed by them, so the same files run once. Its
    new-rows-only data tests start at ``tests_received_since`` (empty: every row)."""
    streams = sorted({file.stream for file in files})
    digest = hashlib.sha256(
        "\n".join(LakeCursor._name(file, root) for file in files).encode()
    ).hexdigest()[:16]
    return dg.RunRequest(
        run_key=f"lake-{digest}",
        asset_selection=incremental_selection(asset_graph, streams, full=full),
        run_config=incremental_run_config(tests_received_since),
        tags={"servops/streams": ",".join(streams), "servops/new_files": str(len(files))},
    )


@dg.sensor(
    name="new_lake_files",
    job=warehouse_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="New files under lake/raw (simulator, connectors, webhook batches) -> build, "
    "test and publish the models downstream of their streams (not the planning models: the "
    "daily build's). At most two builds in flight; later files wait for the next request.",
)
def new_lake_files(context: dg.SensorEvaluationContext):
    home = Home.resolve()
    cursor = LakeCursor.parse(context.cursor)
    files = lake_files(home.raw)
    new = cursor.unseen(files, home.raw)
    if not new:
        return dg.SkipReason(f"no new files among the lake's {len(files)}")
    in_flight = builds_in_flight(context.instance)
    if in_flight >= MAX_BUILDS_IN_FLIGHT:
        return dg.SkipReason(
            f"{len(new)} new lake file(s) wait: {in_flight} builds are queued or running"
        )
    published_ns = home.serving_db.stat().st_mtime_ns if home.serving_db.exists() else 0
    request = new_files_request(
        new,
        home.raw,
        context.repository_def.asset_graph,
        full=not published_ns,
        tests_received_since=incremental_tests_since(files, published_ns, new),
    )
    context.log.info(f"{len(new)} new lake file(s) in {request.tags['servops/streams']}")
    return dg.SensorResult(run_requests=[request], cursor=cursor.advanced(files, home.raw).dumps())


@dg.run_failure_sensor(
    name="report_run_failures",
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="One line per failed run in the daemon's log and <home>/dagster/failures.log.",
)
def report_run_failures(context: dg.RunFailureSensorContext) -> None:
    failures = context.get_step_failure_events()
    steps = [event.step_key for event in failures if event.step_key]
    error = None
    for event in failures:
        data = event.event_specific_data
        if data is not None and getattr(data, "error", None) is not None:
            error = data.error.message
            break
    line = failure_line(
        context.dagster_run.job_name,
        context.dagster_run.run_id,
        steps,
        error or context.failure_event.message,
    )
    context.log.error(line)
    record_failure(Home.resolve(), line)


SENSORS = [new_lake_files, report_run_failures]
