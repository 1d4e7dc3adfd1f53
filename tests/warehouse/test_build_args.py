"""The incremental build's command: its tests' watermark from the lake files' statistics, and
the benchmark's dbt selection equal to the sensor's asset selection."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.defs.warehouse.build_args import (
    EVERY_STREAM_SELECTION,
    first_received_at,
    incremental_tests_since,
)
from dagster_project.lib.lake_files import lake_files
from servops.events import STREAMS, build_table
from servops.lake import write_batch
from servops.paths import DBT_PROJECT_DIR, Home

UTC = dt.UTC


def _write(raw: Path, batch: str, received: list[str]) -> list[Path]:
    table = build_table(
        "ticket",
        {
            "event_id": [f"{batch}-{index}" for index in range(len(received))],
            "event_type": ["ticket.created"] * len(received),
            "schema_version": [1] * len(received),
            "occurred_at": [dt.datetime(2025, 3, 1, tzinfo=UTC)] * len(received),
            "received_at": [dt.datetime.fromisoformat(at).replace(tzinfo=UTC) for at in received],
            "source": ["test"] * len(received),
            "ticket_id": [f"{batch}-t{index}" for index in range(len(received))],
        },
    )
    return write_batch(raw, "ticket", table, batch)


def test_tests_watermark_is_the_first_receipt_since_the_publish(tmp_path) -> None:
    raw = tmp_path / "raw"
    old = _write(raw, "old", ["2025-03-01 08:00:00"])
    new = _write(raw, "new", ["2025-03-02 10:30:00", "2025-03-02 09:15:00"])
    assert first_received_at(new) == "2025-03-02 09:15:00"
    assert first_received_at(old + new) == "2025-03-01 08:00:00"
    assert first_received_at([]) is None

    files = lake_files(raw)
    old_ns = max(os.stat(path).st_mtime_ns for path in old)
    # Published long after the old file: only the files written since count...
    published = old_ns + 10**12
    for path in new:
        os.utime(path, ns=(published + 1, published + 1))
    files = lake_files(raw)
    assert incremental_tests_since(files, published) == "2025-03-02 09:15:00"
    # ...and the files that triggered the build, whenever they were written.
    triggering = [file for file in files if file.path in old]
    assert incremental_tests_since(files, published, triggering) == "2025-03-01 08:00:00"
    # Nothing published yet: test every row.
    assert incremental_tests_since(files, 0) == ""


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The models `dbt ls` lists for EVERY_STREAM_SELECTION (one per line), and its log."""
    tmp_path = tmp_path_factory.mktemp("dbt_ls")
    home = Home(tmp_path / "home")
    project = str(DBT_PROJECT_DIR)
    listing = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *("--quiet", "ls", *EVERY_STREAM_SELECTION, "--resource-type", "model"),
            *("--output", "name", "--project-dir", project, "--profiles-dir", project),
            *("--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")),
        ],
        env={**os.environ, **home.env()},
        capture_output=True,
        text=True,
        check=True,
    )
    return listing.stdout, tmp_path / "logs" / "dbt.log"


def test_every_stream_selection_is_the_sensors(listed: tuple[str, Path]) -> None:
    from dagster_project.definitions import defs
    from dagster_project.lib.selection import incremental_selection

    keys = incremental_selection(defs.resolve_asset_graph(), STREAMS)
    sensor_models = {key.path[-1] for key in keys if key.path[0] not in ("warehouse",)}
    assert set(listed[0].split()) == sensor_models


def test_dbt_sends_no_usage_events(listed: tuple[str, Path]) -> None:
    """dbt sends usage events to dbt Labs unless told not to (dbt_project.yml's flags): its
    debug log names each one it sends ("Sending event") and says which setting it ran with."""
    log = listed[1].read_text()
    assert "'send_anonymous_usage_stats': 'False'" in log
    assert "Sending event" not in log
