"""Publishing swaps the serving warehouse atomically and keeps versions to roll back to."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import duckdb
import pytest

from servops.paths import Home
from servops.publish import (
    KEEP_VERSIONS,
    PublishError,
    _version_name,
    build_passed,
    build_started,
    hold_build_copy,
    publish,
    rollback,
)


def _build(home: Home, answer: int) -> None:
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(home.build_db)) as connection:
        connection.execute("create or replace table answer as select ? as value", [answer])


def _servops_publish(home: Home) -> subprocess.Popen:
    """``servops publish`` on ``home`` in a process of its own, as a person runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "servops.cli", "publish"],
        env={**os.environ, "SERVOPS_HOME": str(home.root)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def _served(home: Home) -> int:
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        return connection.execute("select value from answer").fetchone()[0]


def test_publish_then_roll_back(tmp_path) -> None:
    home = Home(tmp_path)
    with pytest.raises(PublishError, match="no build to publish"):
        publish(home)
    _build(home, 1)
    publish(home)
    _build(home, 2)
    publish(home)
    assert _served(home) == 2
    # Writing the next build does not touch what is served.
    _build(home, 3)
    assert _served(home) == 2
    rollback(home)
    assert _served(home) == 1
    with pytest.raises(PublishError, match="no earlier published version"):
        rollback(home)


def test_servops_publish_waits_while_the_build_copy_is_held(tmp_path) -> None:
    """A build (or publish) step holds the build copy: `servops publish` waits, says so, then
    publishes, never copying a file that is being written."""
    home = Home(tmp_path)
    _build(home, 1)
    build_passed(home)
    with hold_build_copy(home):
        process = _servops_publish(home)
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        assert not home.serving_db.exists()
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0
    assert "another process is writing the build copy" in output
    assert _served(home) == 1


def test_servops_publish_refuses_a_build_copy_whose_last_build_did_not_pass(tmp_path) -> None:
    """Another run's build may write the build copy between a build and its publish; if it
    failed, its tables are not served, whoever publishes next."""
    home = Home(tmp_path)
    _build(home, 1)
    build_passed(home)
    assert _servops_publish(home).wait(timeout=120) == 0
    build_started(home)
    _build(home, 2)  # ... and this build never passes
    refused = _servops_publish(home)
    _, errors = refused.communicate(timeout=120)
    assert refused.returncode != 0
    assert "did not pass its models and tests" in errors
    assert "Traceback" not in errors
    assert _served(home) == 1
    build_passed(home)
    assert _servops_publish(home).wait(timeout=120) == 0
    assert _served(home) == 2


def test_only_the_last_versions_are_kept(tmp_path) -> None:
    home = Home(tmp_path)
    for answer in range(KEEP_VERSIONS + 3):
        _build(home, answer)
        publish(home)
    assert len(list(home.versions_dir.glob("v*.duckdb"))) == KEEP_VERSIONS
    assert _served(home) == KEEP_VERSIONS + 2
    assert not list(home.warehouse_dir.glob(".*"))


def test_version_names_sort_in_publish_order() -> None:
    """Names follow the clock across a second's end (one reading for seconds and fraction)."""
    second = 1_795_000_000 * 10**9
    readings = [second + 999_999_999, second + 10**9, second + 10**9 + 1, second + 2 * 10**9 - 1]
    names = [_version_name(reading) for reading in readings]
    assert names == sorted(names)
    assert len(set(names)) == len(names)


def test_a_clock_that_stepped_back_still_publishes_last(tmp_path) -> None:
    """A newest version named later than now (clock stepped back): the next sorts after it."""
    home = Home(tmp_path)
    _build(home, 1)
    first = publish(home)
    ahead = first.with_name(_version_name(time.time_ns() + 3600 * 10**9))
    first.rename(ahead)  # the serving file is a hard link: it stays version 1
    _build(home, 2)
    second = publish(home)
    assert second.name > ahead.name
    assert _served(home) == 2
    rollback(home)
    assert _served(home) == 1
