"""``servops serve``: bootstrap Superset, then serve it beside the Dagster UI until stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from servops.paths import PROJECT_ROOT, Home
from servops.processes import ServerStartError, port_is_free, start_logged, stop, wait_until_healthy


class ServeError(RuntimeError):
    """Serving could not start; the message says why and what to do."""


def start_dagster(home: Home, port: int, host: str = "127.0.0.1") -> subprocess.Popen:
    """The Dagster UI and daemon over this project's definitions, logging to a file."""
    from dagster_project.lib.instance import write_instance_settings

    write_instance_settings(home)
    log_path = home.dagster_home / "dagster-dev.log"
    dagster = Path(sys.executable).parent / "dagster"
    module = "dagster_project.definitions"
    command = [str(dagster), "dev", "-h", host, "-p", str(port), "-m", module]
    process = start_logged(command, os.environ.copy(), PROJECT_ROOT, log_path)
    try:
        wait_until_healthy(process, f"http://{host}:{port}/server_info", log_path, timeout_s=180)
    except ServerStartError as error:
        raise ServeError(f"the Dagster UI {error}") from None
    return process


def keep_cache_warm(home: Home, url: str, stopping: threading.Event) -> threading.Thread:
    """Warm Superset's chart cache now and again after every publish, in the background.

    Cached results are filed per published warehouse file, so a publish leaves the dashboards
    cold; this notices the new file and sends every dashboard's chart data requests once
    (``warm_cache``: HTTP only, after a first pass in Chromium records them), so that
    people's first view is a warm one. A warm-up runs only when the last one finished; a
    failed one is logged and retried at the next publish, never stopping the servers.
    """

    def identity() -> tuple[int, int] | None:
        try:
            stat = home.serving_db.stat()
        except FileNotFoundError:
            return None
        return stat.st_ino, stat.st_mtime_ns

    def loop() -> None:
        from servops.superset_bootstrap import warm_cache

        warmed = None
        while not stopping.is_set():
            current = identity()
            if current is not None and current != warmed:
                warmed = current
                try:
                    warm_cache(home, url, log=lambda line: print(line, flush=True), stop=stopping)
                except Exception as error:  # a warm-up is an optimisation: report, go on
                    if stopping.is_set():  # the servers are going away under it
                        return
                    print(f"superset: cache warm-up failed ({error}); dashboards stay cold")
            stopping.wait(5)

    thread = threading.Thread(target=loop, name="superset-cache-warmer", daemon=True)
    thread.start()
    return thread


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
    servers = []
    stopping = threading.Event()
    warmer = None
    handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    # Ctrl-C and SIGTERM stop serving from the start, whatever this process inherited: a
    # SIGTERM before its handler was set (it was set once serving) killed this process and
    # left the servers started so far running; and a shell starts a background job with
    # SIGINT ignored, which the servers inherited: `dagster dev` then ignores the SIGTERM of
    # the stop too (it maps SIGTERM to its SIGINT handler) and was killed 20 s later. A
    # handled signal is reset to its default in the servers.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        credentials = superset_bootstrap.bootstrap(home)
        servers.append(superset_bootstrap.start_server(home, port=superset_port))
        servers.append(start_dagster(home, dagster_port))
        print(
            "\nservops is serving:\n"
            f"  Superset  http://127.0.0.1:{superset_port}/superset/dashboard/support-overview/\n"
            f"            log in as {credentials.username} / {credentials.password}\n"
            f"            (kept in {superset_bootstrap.admin_password_file(home)})\n"
            + "".join(
                f"            {user.role}: {user.username} / {user.password}"
                f" -> /superset/dashboard/{user.dashboards[0]}/\n"
                for user in superset_bootstrap.demo_users(home)
            )
            + f"  Dagster   http://127.0.0.1:{dagster_port}/\n"
            '  SQL       servops sql "select * from marts.fct_tickets limit 5"\n'
            f"            or any DuckDB client, read-only: {home.serving_db}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        warmer = keep_cache_warm(home, f"http://127.0.0.1:{superset_port}", stopping)
        while all(server.poll() is None for server in servers):
            time.sleep(1)
        raise ServeError(f"a server stopped unexpectedly; see the logs under {home.root}")
    except superset_bootstrap.SupersetSetupError as error:
        raise ServeError(str(error)) from None
    except KeyboardInterrupt:
        print("stopping…", flush=True)
    finally:
        # A second Ctrl-C must not cut the stop short: it left Dagster running, and the
        # interpreter ending under the warm-up's browser session crashed (exit 139).
        _ignore_interrupts()
        stopping.set()
        for server in servers:
            stop(server)
        if warmer is not None:
            warmer.join(timeout=30)
        for number, handler in handlers.items():
            signal.signal(number, handler)


def _ignore_interrupts() -> None:
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)
