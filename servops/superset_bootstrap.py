"""Set up Superset over the published marts, and run its web server.

``bootstrap(home)`` makes a data directory's Superset ready: secrets, metadata database,
admin user, roles, and the dashboard bundle from ``superset/assets/`` imported with
Superset's own CLI. It is safe to run again: it then only re-imports the bundle, which
overwrites the objects by UUID. ``start_server(home)`` runs gunicorn on it.

Every Superset command runs as a subprocess of the ``superset`` script installed beside
this interpreter, with the environment from ``superset_env(home)``.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version as package_version
from pathlib import Path

import yaml

from servops.paths import SUPERSET_DIR, Home
from servops.processes import (
    ServerStartError,
    port_is_free,
    start_logged,
    stop,
    wait_until_healthy,
)

CONFIG_PATH = SUPERSET_DIR / "superset_config.py"
ASSETS_DIR = SUPERSET_DIR / "assets"
SERVING_DB_PLACEHOLDER = "__SERVOPS_SERVING_DB__"
ADMIN_USERNAME = "admin"

# Bytecode for Superset's ~1,200 modules is cached beside the interpreter, never in the
# repo: with it a Superset command starts in about 9 s instead of 19 s.
PYCACHE_DIR = Path(sys.prefix) / "pycache"

Log = Callable[[str], None]


class SupersetSetupError(RuntimeError):
    """A Superset step failed; the message says which, with the tail of its output."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


def secret_key_file(home: Home) -> Path:
    return home.superset_dir / "secret_key"


def admin_password_file(home: Home) -> Path:
    return home.superset_dir / "admin_password"


def metadata_db(home: Home) -> Path:
    return home.superset_dir / "superset.db"


def server_log(home: Home) -> Path:
    return home.superset_dir / "server.log"


def superset_env(home: Home) -> dict[str, str]:
    """``os.environ`` plus what Superset needs to run on this data directory.

    The secret key must exist already (``bootstrap`` writes it).
    """
    key_file = secret_key_file(home)
    if not key_file.exists():
        raise SupersetSetupError(
            f"no Superset secret key at {key_file}: run the Superset bootstrap first"
        )
    env = dict(os.environ)
    env.update(home.env())
    env.update(
        {
            "SUPERSET_CONFIG_PATH": str(CONFIG_PATH),
            "SUPERSET_HOME": str(home.superset_dir),
            "SUPERSET_SECRET_KEY": key_file.read_text().strip(),
            "FLASK_APP": "superset.app:create_app()",
            "PYTHONPYCACHEPREFIX": env.get("PYTHONPYCACHEPREFIX") or str(PYCACHE_DIR),
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def bootstrap(home: Home, log: Log = print) -> Credentials:
    """Make Superset ready on ``home`` and import the dashboards; idempotent.

    Needs the published warehouse (``home.serving_db``): importing the bundle connects
    to it. Returns the admin's credentials (also kept in a 0600 file).
    """
    started = time.monotonic()
    if not home.serving_db.exists():
        raise SupersetSetupError(
            f"no published warehouse at {home.serving_db}: build and publish it first"
        )
    home.superset_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # secrets live here
    _write_secret_once(secret_key_file(home), log)
    password_was_new = _write_secret_once(admin_password_file(home), log)
    credentials = Credentials(ADMIN_USERNAME, admin_password_file(home).read_text().strip())
    env = superset_env(home)

    stamp = home.superset_dir / "bootstrap_stamp"
    if _is_schema_current(home, stamp):
        log("superset: metadata database and roles already current")
    else:
        _superset(env, log, "db", "upgrade")
        _superset(env, log, "init")
        stamp.write_text(_schema_stamp(home))

    if not _user_exists(home, ADMIN_USERNAME):
        _superset(
            env, log, "fab", "create-admin",
            "--username", ADMIN_USERNAME,
            "--firstname", "Servops",
            "--lastname", "Admin",
            "--email", "admin@servops.invalid",
            "--password", credentials.password,
            expect=f"Admin User {ADMIN_USERNAME} created",
        )  # fmt: skip
    elif password_was_new:
        # The password file was removed: the new one becomes the admin's password.
        _superset(
            env, log, "fab", "reset-password",
            "--username", ADMIN_USERNAME,
            "--password", credentials.password,
            expect="reseted",
        )  # fmt: skip
    else:
        log(f"superset: admin user {ADMIN_USERNAME!r} already exists")

    with tempfile.TemporaryDirectory(prefix="servops-superset-") as tmp:
        bundle = render_bundle(home, Path(tmp) / "support_bundle.zip")
        _superset(
            env, log, "import-dashboards", "--path", str(bundle), "--username", ADMIN_USERNAME
        )

    elapsed = time.monotonic() - started
    log(f"superset: ready in {elapsed:.0f} s; admin password in {admin_password_file(home)}")
    return credentials


def render_bundle(home: Home, zip_path: Path) -> Path:
    """Write ``superset/assets`` into an import zip, the serving path filled in."""
    serving_path = str(home.serving_db.resolve())
    if any(char in serving_path for char in "?#%"):
        # A URL is built from this path; these would change its meaning.
        raise SupersetSetupError(f"the warehouse path must not contain ?, # or %: {serving_path}")
    root = "servops_bundle"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for source in sorted(ASSETS_DIR.rglob("*.yaml")):
            relative = source.relative_to(ASSETS_DIR).as_posix()
            text = source.read_text()
            if relative.startswith("databases/"):
                config = yaml.safe_load(text)
                # duckdb:///<absolute path>, so four slashes before /home/...
                config["sqlalchemy_uri"] = config["sqlalchemy_uri"].replace(
                    SERVING_DB_PLACEHOLDER, serving_path
                )
                text = yaml.safe_dump(config, sort_keys=False)
            bundle.writestr(f"{root}/{relative}", text)
    return zip_path


def start_server(
    home: Home, host: str = "127.0.0.1", port: int = 8088, log: Log = print
) -> subprocess.Popen:
    """Start Superset's web server (gunicorn) and wait until ``/health`` answers OK.

    Logs go to ``<superset_dir>/server.log``. Stop it with ``stop_server``.
    """
    env = superset_env(home)
    if not port_is_free(port, host):
        raise SupersetSetupError(f"cannot serve Superset on {host}:{port}: the port is in use")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [
        str(gunicorn),
        "--bind", f"{host}:{port}",
        # Two cores: one worker process, its threads serve the dashboard's parallel queries.
        "--workers", "1",
        "--worker-class", "gthread",
        "--threads", "8",
        "--timeout", "120",
        "--limit-request-line", "0",
        "--limit-request-field_size", "0",
        "--error-logfile", "-",
        "--no-control-socket",
        "superset.app:create_app()",
    ]  # fmt: skip
    log_path = server_log(home)
    log(f"superset: starting server on http://{host}:{port} (log: {log_path})")
    proc = start_logged(command, env, home.superset_dir, log_path)
    try:
        seconds = wait_until_healthy(proc, f"http://{host}:{port}/health", log_path, body=b"OK")
    except ServerStartError as error:
        raise SupersetSetupError(f"Superset server {error}") from None
    log(f"superset: server up in {seconds:.0f} s")
    return proc


def stop_server(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a server from ``start_server``: TERM (graceful), then KILL its process group."""
    stop(proc, timeout)


def run_superset(home: Home, *args: str, log: Log = print) -> str:
    """Run one ``superset`` CLI command on ``home`` (e.g. ``export-dashboards -f x.zip``)."""
    return _superset(superset_env(home), log, *args)


def _superset(env: dict[str, str], log: Log, *args: str, expect: str | None = None) -> str:
    """Run one ``superset`` CLI command; raise with its output's tail if it fails.

    ``expect``: text its output must contain (some commands exit 0 on failure).
    """
    executable = Path(sys.executable).parent / "superset"
    step = " ".join(args[:2] if args[0] in ("fab", "db") else args[:1])
    started = time.monotonic()
    result = subprocess.run(
        [str(executable), *args],
        env=env,
        cwd=env["SUPERSET_HOME"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or (expect and expect not in output):
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise SupersetSetupError(
            f"superset {step} failed (exit code {result.returncode}); its output ends:\n{tail}"
        )
    log(f"superset: {step} ({time.monotonic() - started:.0f} s)")
    return output


def _write_secret_once(path: Path, log: Log) -> bool:
    """Create a 0600 file holding a new random token unless it exists; True if created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as secret_file:
        secret_file.write(secrets.token_urlsafe(32) + "\n")
    log(f"superset: generated {path}")
    return True


def _schema_stamp(home: Home) -> str:
    """Superset's version and the metadata database's migration revision."""
    return f"superset {package_version('apache-superset')} revision {_alembic_revision(home)}\n"


def _is_schema_current(home: Home, stamp: Path) -> bool:
    """True when ``db upgrade`` and ``init`` already ran with this Superset version.

    Both depend only on Superset's code and the database's revision, so while the stamp
    matches the pair they would change nothing.
    """
    return (
        stamp.exists()
        and _alembic_revision(home) is not None
        and stamp.read_text() == _schema_stamp(home)
    )


def _alembic_revision(home: Home) -> str | None:
    return _query_metadata(home, "select version_num from alembic_version")


def _user_exists(home: Home, username: str) -> bool:
    return (
        _query_metadata(home, "select username from ab_user where username = ?", username)
        is not None
    )


def _query_metadata(home: Home, sql: str, *params: str) -> str | None:
    """First value of a query on the metadata database; None if absent or not set up."""
    path = metadata_db(home)
    if not path.exists():
        return None
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            row = connection.execute(sql, params).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


__all__ = [
    "Credentials",
    "SupersetSetupError",
    "admin_password_file",
    "bootstrap",
    "render_bundle",
    "run_superset",
    "secret_key_file",
    "start_server",
    "stop_server",
    "superset_env",
]
