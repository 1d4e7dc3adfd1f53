"""Publishing: the build copy becomes the serving warehouse in one atomic rename.

Builds write ``build.duckdb``; nobody reads it. Only after a build and its tests pass (the
build leaves a mark, ``.build.passed``, which publishing requires) is a checkpointed copy
renamed onto ``serving.duckdb``, which Superset and analysts open
read-only. Each published version is also kept (hard-linked, so no extra space) under
``versions/`` so that ``servops publish --rollback`` can step back.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from servops.files import atomic_file, fsync_dir, write_text_atomic
from servops.paths import Home

KEEP_VERSIONS = 5
# The lock file beside the build copy, held by whatever writes or publishes it.
BUILD_LOCK_NAME = ".build.lock"
# The mark beside the build copy that its last build passed (models and tests): removed as a
# build starts writing, written when it passed. Publishing requires it.
PASSED_MARK_NAME = ".build.passed"
_VERSION_NAME = re.compile(r"^v(?P<stamp>\d{8}T\d{6})-(?P<fraction>\d{9})\.duckdb$")


class PublishError(RuntimeError):
    """Nothing could be published; the serving warehouse is unchanged."""


def _versions(home: Home) -> list[Path]:
    return sorted(home.versions_dir.glob("v*.duckdb"))


def serving_version(home: Home) -> Path | None:
    """The kept version the serving warehouse is (a hard link of), or None.

    None when nothing is published or the serving file was replaced by other means than
    ``publish`` and ``rollback``. A version file's content never changes, so a reader may
    keep it open for as long as it stays the serving one.
    """
    try:
        serving = home.serving_db.stat()
    except OSError:
        return None
    for version in reversed(_versions(home)):  # the newest is the likeliest
        try:
            stat = version.stat()
        except OSError:  # dropped by a concurrent publish or rollback
            continue
        if (stat.st_dev, stat.st_ino) == (serving.st_dev, serving.st_ino):
            return version
    return None


def _swap_in(home: Home, source: Path) -> None:
    """Make ``source``'s content the serving warehouse atomically (link, then rename)."""
    tmp = home.warehouse_dir / f".serving.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    os.link(source, tmp)
    os.replace(tmp, home.serving_db)
    fsync_dir(home.warehouse_dir)


def _version_name(ns: int) -> str:
    """A version's file name: its UTC time to the nanosecond (names sort as times do).

    Seconds and fraction come from one reading: read apart, a publish straddling a second's
    end was named with the old second and the new fraction and sorted before the version
    published just before it, so rollback and pruning took the wrong file.
    """
    seconds, fraction = divmod(ns, 10**9)
    return f"v{time.strftime('%Y%m%dT%H%M%S', time.gmtime(seconds))}-{fraction:09d}.duckdb"


def _version_ns(path: Path) -> int | None:
    """The time a version's name gives, as ``_version_name`` wrote it (None: not one)."""
    match = _VERSION_NAME.match(path.name)
    if match is None:
        return None
    seconds = calendar.timegm(time.strptime(match["stamp"], "%Y%m%dT%H%M%S"))
    return seconds * 10**9 + int(match["fraction"])


def _next_version_name(home: Home) -> str:
    """Now, or just after the newest kept version if the clock reads earlier than that.

    Versions are ordered by name, so a new one must sort last even when the clock stepped
    back (a time sync) or an older release named versions in local time, ahead of UTC.
    """
    now = time.time_ns()
    newest = [ns for ns in map(_version_ns, _versions(home)[-1:]) if ns is not None]
    return _version_name(max([now] + [ns + 1 for ns in newest]))


@contextlib.contextmanager
def hold_build_copy(home: Home, log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the build copy for writing; wait (saying so) while another process holds it.

    The build pool queues the ops that write the build copy and shows them in the UI, but on
    Dagster's default SQLite storage it can let two ops in at once when their claims coincide
    (it reads for a free slot and takes it in separate statements, and SQLite ignores
    ``SELECT ... FOR UPDATE``): in 5 of 36 trials of five processes started together, two ran at
    once. This lock is the guarantee: an ``flock`` on a file beside the build copy, released
    when its holder (an op, ``servops publish``) ends or its process dies. Each holder takes it
    once: a second ``flock`` from the same process on another handle would wait for itself.
    """
    import fcntl

    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(home.warehouse_dir / BUILD_LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if log is not None:
                log("another process is writing the build copy: waiting until it is done")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _passed_mark(home: Home) -> Path:
    return home.warehouse_dir / PASSED_MARK_NAME


def build_started(home: Home) -> None:
    """A build is about to write the build copy: until it passes, nothing may publish it."""
    _passed_mark(home).unlink(missing_ok=True)
    fsync_dir(home.warehouse_dir)


def build_passed(home: Home) -> None:
    """The build that last wrote the build copy passed its models and tests."""
    write_text_atomic(_passed_mark(home), time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))


def check_build_passed(home: Home) -> None:
    """Refuse (``PublishError``) to publish a build copy whose last build did not pass.

    Builds queue for the build copy one step at a time, not one run at a time: another run's
    build can write it between a build and its publish. If that build failed (a data test, a
    model), its tables must not be served, whichever run publishes next.
    """
    if home.build_db.exists() and not _passed_mark(home).exists():
        raise PublishError(
            f"the last build of {home.build_db} did not pass its models and tests (or is still "
            "running): nothing was published and the last good warehouse keeps serving; "
            "run `servops build`"
        )


def publish_passed_build(home: Home, log: Callable[[str], None] | None = None) -> Path:
    """Publish the build copy as builds' publishers do: holding it, and only if its last build
    passed (``check_build_passed``); returns the kept version's path."""
    with hold_build_copy(home, log):
        check_build_passed(home)
        return publish(home)


def publish(home: Home) -> Path:
    """Publish the current build copy; returns the kept version's path."""
    if not home.build_db.exists():
        raise PublishError(
            f"no build to publish: {home.build_db} does not exist (run `servops build`)"
        )
    # A clean close checkpoints; this makes sure no write-ahead log is left behind.
    with duckdb.connect(str(home.build_db)) as connection:
        connection.execute("checkpoint")
    home.versions_dir.mkdir(parents=True, exist_ok=True)
    version = home.versions_dir / _next_version_name(home)
    with open(home.build_db, "rb") as src, atomic_file(version) as dst:
        shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)
    _swap_in(home, version)
    for old in _versions(home)[:-KEEP_VERSIONS]:
        old.unlink()
    return version


def rollback(home: Home) -> Path:
    """Serve the version published before the current one; the current one is dropped."""
    versions = _versions(home)
    if len(versions) < 2:
        raise PublishError("no earlier published version to roll back to")
    _swap_in(home, versions[-2])
    versions[-1].unlink()
    return versions[-2]
