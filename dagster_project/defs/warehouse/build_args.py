"""The incremental build's dbt command, in one place: the sensor's and the hourly schedule's
builds run it, and so does the warehouse benchmark's "one new day" (``bench.warehouse``).

No Dagster import here, so the benchmark can use it without loading the code location.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow.parquet as pq

from dagster_project.lib.lake_files import LATE_RENAME_SLACK_NS, LakeFile

# Read by dbt/macros/tests_received_since.sql when a test is compiled: data tests configured
# `where: received_since:<column>` check only the rows with <column> at or after it. An
# environment variable, not a dbt var: dbt re-parses the whole project whenever --vars change.
TESTS_RECEIVED_SINCE_ENV = "SERVOPS_TESTS_RECEIVED_SINCE"

# dbt's docs advise running unit tests in development and CI, not in production builds: they
# test the SQL, which new events do not change. Full-refresh builds (the daily build) and the
# test suite keep them.
INCREMENTAL_BUILD_ARGS = ("build", "--exclude-resource-type", "unit_test")
FULL_REFRESH_BUILD_ARGS = ("build", "--full-refresh")
# What the sensor selects when files of every stream arrived (lib/selection.py), in dbt's own
# syntax: the models downstream of the lake and their tests; planning, seeds, the ingestion
# log's models and dim_dates are left to the daily build. A test checks the two agree.
EVERY_STREAM_SELECTION = ("--select", "source:lake+", "--exclude", "path:models/planning")


def build_args(*, full_refresh: bool) -> list[str]:
    """The dbt arguments of a build (before Dagster's selection)."""
    return list(FULL_REFRESH_BUILD_ARGS if full_refresh else INCREMENTAL_BUILD_ARGS)


def build_env(tests_received_since: str | None) -> Mapping[str, str]:
    """Environment for a build's dbt process: where its new-rows-only tests start, if known."""
    return {TESTS_RECEIVED_SINCE_ENV: tests_received_since or ""}


def first_received_at(paths: Iterable[Path]) -> str | None:
    """The earliest ``received_at`` in the lake files at ``paths`` (naive UTC, ISO), from their
    Parquet column statistics; None when there are no files or one has no statistics (then
    the build tests every row, which is always safe). A file gone meanwhile is skipped: its
    rows were not loaded by this build either.
    """
    earliest = None
    for path in paths:
        try:
            metadata = pq.ParquetFile(path).metadata
        except FileNotFoundError:
            continue
        names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
        if "received_at" not in names:
            return None
        column = names.index("received_at")
        for group in range(metadata.num_row_groups):
            if metadata.row_group(group).num_rows == 0:
                continue
            statistics = metadata.row_group(group).column(column).statistics
            if statistics is None or not statistics.has_min_max:
                return None
            low = statistics.min
            if low.tzinfo is not None:
                low = low.astimezone(dt.UTC).replace(tzinfo=None)
            earliest = low if earliest is None else min(earliest, low)
    return None if earliest is None else earliest.isoformat(sep=" ")


def incremental_tests_since(
    files: Iterable[LakeFile], published_ns: int, new: Iterable[LakeFile] = ()
) -> str:
    """Where an incremental build's new-rows-only tests start: the first receipt in ``new``
    (the files that triggered the build) and in the lake files written since the last publish
    (``published_ns``: the serving file's mtime, less the lake's late-rename slack). Counting
    from the last publish too keeps the rows of a failed or still-unpublished build under test.
    Empty (test every row) when nothing was published yet or statistics are missing.
    """
    if not published_ns:
        return ""
    floor = published_ns - LATE_RENAME_SLACK_NS
    chosen = {file.path for file in files if file.mtime_ns >= floor}
    chosen.update(file.path for file in new)
    return first_received_at(sorted(chosen)) or ""
