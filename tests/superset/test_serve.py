"""``servops serve`` as ``make run`` leaves it running, stopped as a person stops it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from servops.paths import Home
from servops.processes import port_is_free
from servops.superset_bootstrap import Credentials


def _processes_naming(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in command:
            found.append(f"{pid}: {command[:120]}")
    return found


def _ignore_sigint() -> None:
    """As a shell starts a background job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _copy_home(published_home: Home, tmp_path: Path) -> Home:
    """A copy of the published home: the session's own server keeps its own."""
    home = Home(tmp_path / "home")
    shutil.copytree(published_home.root, home.root, ignore=shutil.ignore_patterns("data_cache"))
    return home


def _serve(
    home: Home, superset_port: int, dagster_port: int, **popen
) -> tuple[subprocess.Popen, list[str]]:
    """``servops serve`` on ``home``, read until it says it is serving: (process, output)."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "servops.cli", "--home", str(home.root), "serve",
         "--superset-port", str(superset_port), "--dagster-port", str(dagster_port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        **popen,
    )  # fmt: skip
    output = []
    deadline = time.monotonic() + 300
    for line in serve.stdout:
        output.append(line)
        if "Press Ctrl-C to stop." in line or time.monotonic() > deadline:
            break
    if "Press Ctrl-C to stop." not in "".join(output):
        serve.kill()
        raise AssertionError("".join(output)[-3000:])
    return serve, output


def _stop(serve: subprocess.Popen, output: list[str], signum: int, times: int = 1) -> str:
    """Send ``signum`` ``times`` (half a second apart) and wait for serve to end with exit
    status 0: all it printed."""
    try:
        for _ in range(times):
            serve.send_signal(signum)
            time.sleep(0.5)
        rest, _ = serve.communicate(timeout=120)
        output.append(rest)
    finally:
        if serve.poll() is None:
            serve.kill()
    text = "".join(output)
    assert serve.returncode == 0, text[-3000:]
    return text


def _assert_stopped(home: Home, *ports: int) -> None:
    """Both servers gone: their ports free, no process left naming the home."""
    assert all(port_is_free(port) for port in ports)
    assert _processes_naming(str(home.root)) == []


def test_repeated_ctrl_c_stops_both_servers_cleanly(
    published_home: Home, superset_credentials: Credentials, tmp_path: Path, ui
) -> None:
    """Ctrl-C pressed three times while the cache warm-up has Chromium open: exit status 0,
    Superset and Dagster both stopped, their ports free (a second Ctrl-C used to cut the
    stop short, leaving Dagster running, and the process died with a segfault)."""
    home = _copy_home(published_home, tmp_path)
    (home.superset_dir / "chart_requests.json").unlink(missing_ok=True)  # record in Chromium
    superset_port, dagster_port = ui.free_port(), ui.free_port()
    serve, output = _serve(home, superset_port, dagster_port)
    time.sleep(5)  # the warm-up is now opening dashboards in headless Chromium
    text = _stop(serve, output, signal.SIGINT, times=3)
    assert "stopping…" in text
    assert "Traceback" not in text
    assert "warm-up failed" not in text  # stopping is not a failure
    _assert_stopped(home, superset_port, dagster_port)


def test_serve_started_with_sigint_ignored_stops_dagster_cleanly_on_sigterm(
    published_home: Home, tmp_path: Path, ui
) -> None:
    """A shell starts a background job with SIGINT ignored; the servers used to inherit that,
    and `dagster dev`, which maps SIGTERM to its SIGINT handler, then ignored the stop's
    SIGTERM until killed 20 s later, without shutting its services down."""
    home = _copy_home(published_home, tmp_path)
    dagster_log = home.dagster_home / "dagster-dev.log"
    logged_before = dagster_log.stat().st_size if dagster_log.exists() else 0
    superset_port, dagster_port = ui.free_port(), ui.free_port()
    serve, output = _serve(home, superset_port, dagster_port, preexec_fn=_ignore_sigint)
    _stop(serve, output, signal.SIGTERM)
    with dagster_log.open() as log:
        log.seek(logged_before)
        this_run = log.read()
    assert "Shutting down Dagster services..." in this_run, this_run[-3000:]
    assert "Dagster services shut down." in this_run, this_run[-3000:]
    _assert_stopped(home, superset_port, dagster_port)
