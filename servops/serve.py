"""``servops serve``: bootstrap Superset, then serve it beside the Dagster UI until stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from servops.paths import PROJECT_ROOT, Home


class ServeError(RuntimeError):
    """Serving could not start; the message says why and what to do."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_http(url: str, timeout_s: float, process: subprocess.Popen, log_path: Path) -> None:
    """Wait until ``url`` answers 200, or fail with the tail of the server's log."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
    raise ServeError(f"{url} did not come up within {timeout_s:.0f} s; its log ends:\n{tail}")


def start_dagster(home: Home, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """The Dagster UI (and daemon) over this project's definitions, logging to a file."""
    home.dagster_home.mkdir(parents=True, exist_ok=True)
    settings = home.dagster_home / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n")
    log_path = home.dagster_home / "dagster-dev.log"
    dagster = Path(sys.executable).parent / "dagster"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(dagster), "dev", "-h", host, "-p", str(port), "-m", "dagster_project.definitions"],
            cwd=PROJECT_ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    wait_for_http(f"http://{host}:{port}/server_info", 180, process, log_path)
    return process


def stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started (it leads its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def serve(home: Home, superset_port: int = 8088, dagster_port: int = 3000) -> None:
    """Bootstrap Superset from the bundle and serve it and Dagster until interrupted."""
    from servops import superset_bootstrap

    if not home.serving_db.exists():
        raise ServeError(f"no published warehouse at {home.serving_db}: run `servops build` first")
    for name, port in (("Superset", superset_port), ("Dagster", dagster_port)):
        if not port_is_free(port):
            raise ServeError(
                f"port {port} for {name} is in use (is `servops serve` already running?); "
                f"stop it or pass --{name.lower()}-port"
            )
    credentials = superset_bootstrap.bootstrap(home)
    servers = []
    try:
        servers.append(superset_bootstrap.start_server(home, port=superset_port))
        servers.append(start_dagster(home, dagster_port))
        print(
            "\nservops is serving:\n"
            f"  Superset  http://127.0.0.1:{superset_port}/superset/dashboard/support-overview/\n"
            f"            log in as {credentials.username} / {credentials.password}\n"
            f"            (the password is kept in {home.superset_dir}/admin_password)\n"
            f"  Dagster   http://127.0.0.1:{dagster_port}/\n"
            f'  SQL       servops sql "select * from marts.fct_tickets limit 5"\n'
            f"            or any DuckDB client, read-only: {home.serving_db}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(server.poll() is None for server in servers):
            time.sleep(1)
        raise ServeError("a server stopped unexpectedly; see the logs under " + str(home.root))
    except KeyboardInterrupt:
        print("stopping…", flush=True)
    finally:
        for server in servers:
            stop(server)
