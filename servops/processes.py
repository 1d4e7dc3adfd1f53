"""Background servers (Superset, Dagster): start with a log file, wait until healthy, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path


class ServerStartError(RuntimeError):
    """A server did not come up; the message ends with the tail of its log."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def start_logged(
    command: Sequence[str], env: dict[str, str], cwd: Path, log_path: Path
) -> subprocess.Popen:
    """Start ``command`` in its own process group, its output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _answers(url: str, body: bytes | None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200 and (body is None or response.read().strip() == body)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_until_healthy(
    process: subprocess.Popen,
    url: str,
    log_path: Path,
    timeout_s: float = 120,
    body: bytes | None = None,
) -> float:
    """Wait until ``url`` answers 200 (with ``body`` if given); return the seconds it took.

    Stops the process and raises ``ServerStartError`` if it exits or times out.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise ServerStartError(
                f"exited with code {process.returncode} while starting; "
                f"end of {log_path}:\n{tail(log_path)}"
            )
        if _answers(url, body):
            return time.monotonic() - started
        time.sleep(0.5)
    stop(process)
    raise ServerStartError(
        f"did not answer {url} within {timeout_s:.0f} s; end of {log_path}:\n{tail(log_path)}"
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server and everything it started: TERM to its group, then KILL. Returns once
    the group is gone: a server's children (Dagster's code servers) may outlive it a moment.
    """
    deadline = time.monotonic() + timeout
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    while _group_alive(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _group_alive(group: int) -> bool:
    """Whether any process of the process group ``group`` is left."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True
