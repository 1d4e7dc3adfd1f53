"""Set up Superset over the published marts, and run its web server.

``bootstrap(home)`` makes a data directory's Superset ready: secrets, metadata database,
the dashboard bundle from ``superset/assets/`` (imported with Superset's own asset importer,
which overwrites every object by UUID), the serving connection's security settings
re-asserted and read back, and the roles, demo users, dashboard access and row-level
security from ``superset/roles.yaml``. It is safe to run again. ``start_server(home)`` runs
gunicorn on it.

Every Superset step runs in a subprocess with the environment from ``superset_env(home)``:
``superset db upgrade`` and ``superset init`` through the CLI, the rest in one Flask app
context (``python -m servops.superset_bootstrap provision <plan>``, see ``_provision``).
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
ROLES_FILE = SUPERSET_DIR / "roles.yaml"
SERVING_DB_PLACEHOLDER = "__SERVOPS_SERVING_DB__"
SERVING_DATABASE_NAME = "servops_serving"
ADMIN_USERNAME = "admin"
RLS_PREFIX = "servops: "

# DuckDB SQL is as powerful as a shell. The serving connection opens the file read-only,
# with no access to other files, URLs or databases (read_csv, ATTACH, COPY ... TO), no
# extension installs or loads, and the configuration locked so SET cannot undo any of it.
SECURE_CONNECT_ARGS: dict = {
    "read_only": True,
    "config": {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "allow_community_extensions": False,
        "lock_configuration": True,
    },
}
# The database row's own switches: no writes, no uploads, no server-side tables from SQL Lab.
SECURE_DATABASE_FLAGS = {
    "allow_dml": False,
    "allow_ctas": False,
    "allow_cvas": False,
    "allow_file_upload": False,
    "allow_run_async": False,
    "impersonate_user": False,
    "expose_in_sqllab": True,
}

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


@dataclass(frozen=True)
class DemoUser:
    """A generated user for one service-operations role, and the dashboards it may open."""

    role: str
    username: str
    password: str
    dashboards: tuple[str, ...]
    sql_lab: bool


def secret_key_file(home: Home) -> Path:
    return home.superset_dir / "secret_key"


def admin_password_file(home: Home) -> Path:
    return home.superset_dir / "admin_password"


def user_password_file(home: Home, username: str) -> Path:
    return home.superset_dir / "users" / username


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
    _write_secret_once(admin_password_file(home), log)
    credentials = Credentials(ADMIN_USERNAME, admin_password_file(home).read_text().strip())
    env = superset_env(home)

    stamp = home.superset_dir / "bootstrap_stamp"
    if _is_schema_current(home, stamp):
        log("superset: metadata database and roles already current")
    else:
        _superset(env, log, "db", "upgrade")
        _superset(env, log, "init")
        stamp.write_text(_schema_stamp(home))

    roles = load_roles()
    users_dir = home.superset_dir / "users"
    users_dir.mkdir(mode=0o700, exist_ok=True)
    for role in roles:
        _write_secret_once(user_password_file(home, role["user"]), log)

    with tempfile.TemporaryDirectory(prefix="servops-superset-") as tmp:
        bundle = render_bundle(home, Path(tmp) / "servops_bundle.zip")
        plan = _provision_plan(home, roles, bundle)
        plan_path = Path(tmp) / "plan.json"
        plan_path.write_text(json.dumps(plan))
        plan_path.chmod(0o600)
        _provision_in_subprocess(env, log, plan_path)
    verify_serving_database(home)

    elapsed = time.monotonic() - started
    log(
        f"superset: ready in {elapsed:.0f} s; admin password in {admin_password_file(home)}, "
        f"demo users' in {users_dir}"
    )
    return credentials


def load_roles(path: Path = ROLES_FILE) -> list[dict]:
    """The service-operations roles from ``superset/roles.yaml``, checked."""
    roles = (yaml.safe_load(path.read_text()) or {}).get("roles") or []
    seen: set[str] = set()
    for index, role in enumerate(roles, start=1):
        where = f"{path}: role {index}"
        for field in ("name", "user", "dashboards"):
            if not role.get(field):
                raise SupersetSetupError(f"{where}: missing field {field!r}")
        if role.get("rls") and role.get("sql_lab"):
            # SQL Lab ignores row-level security: a filtered role must not have it.
            raise SupersetSetupError(f"{where} ({role['name']}): rls excludes sql_lab")
        for key in (role["name"], role["user"]):
            if key in seen:
                raise SupersetSetupError(f"{where}: {key!r} appears twice")
            seen.add(key)
    return roles


def demo_users(home: Home) -> list[DemoUser]:
    """Every role's demo user with its generated password (after ``bootstrap``)."""
    users = []
    for role in load_roles():
        password_file = user_password_file(home, role["user"])
        if not password_file.exists():
            raise SupersetSetupError(f"no password at {password_file}: run the bootstrap first")
        users.append(
            DemoUser(
                role=role["name"],
                username=role["user"],
                password=password_file.read_text().strip(),
                dashboards=tuple(role["dashboards"]),
                sql_lab=bool(role.get("sql_lab")),
            )
        )
    return users


def bundle_configs(root: Path = ASSETS_DIR) -> dict[str, dict]:
    """Every YAML file of the bundle, parsed, by its path relative to ``root``."""
    return {
        source.relative_to(root).as_posix(): yaml.safe_load(source.read_text())
        for source in sorted(root.rglob("*.yaml"))
    }


def dashboard_datasets(configs: dict[str, dict]) -> dict[str, set[str]]:
    """Dashboard slug -> uuids of the datasets its charts and native filters read."""
    chart_datasets = {
        config["uuid"]: config["dataset_uuid"]
        for name, config in configs.items()
        if name.startswith("charts/")
    }
    result = {}
    for name, config in configs.items():
        if not name.startswith("dashboards/"):
            continue
        uuids = set()
        for item in config["position"].values():
            if isinstance(item, dict) and item.get("type") == "CHART":
                uuids.add(chart_datasets[item["meta"]["uuid"]])
        for native_filter in (config.get("metadata") or {}).get("native_filter_configuration", []):
            for target in native_filter.get("targets", []):
                if target.get("datasetUuid"):
                    uuids.add(target["datasetUuid"])
        result[config["slug"]] = uuids
    return result


def serving_database_config(configs: dict[str, dict] | None = None) -> dict:
    """The bundle's serving database, with the security settings forced on."""
    configs = bundle_configs() if configs is None else configs
    (config,) = [
        config
        for name, config in configs.items()
        if name.startswith("databases/") and config["database_name"] == SERVING_DATABASE_NAME
    ]
    config = {**config, **SECURE_DATABASE_FLAGS}
    extra = dict(config.get("extra") or {})
    engine_params = dict(extra.get("engine_params") or {})
    engine_params["connect_args"] = json.loads(json.dumps(SECURE_CONNECT_ARGS))
    extra["engine_params"] = engine_params
    config["extra"] = extra
    return config


def verify_serving_database(home: Home) -> None:
    """Read the serving connection back from the metadata database; raise unless secure."""
    path = metadata_db(home)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        connection.row_factory = sqlite3.Row
        rows = connection.execute(
            "select * from dbs where database_name = ?", (SERVING_DATABASE_NAME,)
        ).fetchall()
        others = connection.execute(
            "select database_name from dbs where database_name != ?", (SERVING_DATABASE_NAME,)
        ).fetchall()
    if len(rows) != 1:
        raise SupersetSetupError(
            f"{path}: expected one database {SERVING_DATABASE_NAME!r}, found {len(rows)}"
        )
    if others:
        names = ", ".join(row[0] for row in others)
        raise SupersetSetupError(f"{path}: unexpected databases besides the warehouse: {names}")
    (row,) = rows
    problems = [
        f"{flag} is {row[flag]!r}, must be {int(value)}"
        for flag, value in SECURE_DATABASE_FLAGS.items()
        if bool(row[flag]) != value
    ]
    connect_args = json.loads(row["extra"] or "{}").get("engine_params", {}).get("connect_args", {})
    if connect_args != SECURE_CONNECT_ARGS:
        problems.append(f"connect_args are {connect_args}, must be {SECURE_CONNECT_ARGS}")
    if problems:
        raise SupersetSetupError(
            f"the serving connection in {path} is not locked down after the import: "
            + "; ".join(problems)
        )


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
                if config["database_name"] == SERVING_DATABASE_NAME:
                    config = serving_database_config({relative: config})
                # duckdb:///<absolute path>, so four slashes before /home/...
                config["sqlalchemy_uri"] = config["sqlalchemy_uri"].replace(
                    SERVING_DB_PLACEHOLDER, serving_path
                )
                text = yaml.safe_dump(config, sort_keys=False)
            elif relative == "metadata.yaml":
                # Superset's asset importer (overwrites every kind of object by UUID).
                text = yaml.safe_dump({**yaml.safe_load(text), "type": "assets"})
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
        # Building a chart's query and shaping its result is Python work under the GIL: two
        # worker processes use both cores, their threads serve a dashboard's parallel charts.
        "--workers", "2",
        "--worker-class", "gthread",
        "--threads", "4",
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


# Debian's Chromium, headless, as root, reaching for nothing but the server.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync")
# A chart is done once it drew something (canvas, table row, big number) or said why not.
CHARTS_DONE_JS = """(count) => {
  const charts = Array.from(document.querySelectorAll('[data-test="chart-grid-component"]'));
  return charts.length === count && charts.every((chart) =>
    !chart.querySelector('[data-test="loading-indicator"]') && (
      chart.querySelector('[role="alert"], .ant-empty, canvas, table tbody tr') !== null
      || (chart.querySelector('.header-line')?.innerText.trim() ?? '') !== ''));
}"""


# The charts on the page that show an error, as "name: message" (an error counts as done for
# CHARTS_DONE_JS, so a timed render must also check that none showed one).
CHART_ERRORS_JS = """() => Array.from(
  document.querySelectorAll('[data-test="chart-grid-component"]'),
  (chart) => [chart.dataset.testChartName, chart.querySelector('[role="alert"], .ant-alert-error')],
).filter(([, alert]) => alert !== null).map(([name, alert]) => `${name}: ${alert.innerText}`)"""


def chart_requests_file(home: Home) -> Path:
    """Where the warm-up keeps the chart data requests each dashboard sends."""
    return home.superset_dir / "chart_requests.json"


def warm_cache(
    home: Home,
    url: str,
    log: Log = print,
    timeout_seconds: float = 180,
    slugs: list[str] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, float]:
    """Fill Superset's chart-data cache for every dashboard (or ``slugs``); seconds per view.

    Run it after the server starts and after every publish: results are cached per
    published warehouse file (``superset_config.py``), so after a publish the dashboards are
    cold until this runs again. It sends, through Superset's chart data API, exactly the
    requests each dashboard's page sends (its charts' and its native filters' queries),
    with ``force`` so a result cached before is recomputed: once as the admin for the
    roles without row-level security (their results are shared), and once as each
    row-filtered role's user (its rows differ).

    The pages build those requests in the browser, from each chart's settings; headless
    Chromium records them once per bundle and metadata database (in
    ``chart_requests.json`` beside the metadata), opening each dashboard as its users
    will, which warms it too. Every later warm-up is HTTP requests only.
    """
    visits = _warm_up_visits(home, slugs)
    recorded, key = _recorded_chart_requests(home)
    seconds: dict[str, float] = {}
    for credentials, visit_slugs in visits.items():
        if missing := [slug for slug in visit_slugs if slug not in recorded]:
            # Recording opens them as this user, which warms them too.
            for slug, (bodies, elapsed) in record_chart_requests(
                home, url, missing, credentials, timeout_seconds, stop
            ).items():
                recorded[slug] = bodies
                seconds[f"{slug} as {credentials.username} (recorded in Chromium)"] = elapsed
            chart_requests_file(home).write_text(json.dumps({"key": key, "dashboards": recorded}))
        if not (todo := [slug for slug in visit_slugs if slug not in missing]):
            continue
        api = ChartDataClient(url, credentials, timeout_seconds)
        for slug in todo:
            started = time.monotonic()
            try:
                api.post_all([{**body, "force": True} for body in recorded[slug]])
            except SupersetSetupError:
                # A chart changed its request (a new bundle on an old recording): record
                # again at the next warm-up.
                chart_requests_file(home).unlink(missing_ok=True)
                raise
            seconds[f"{slug} as {credentials.username}"] = time.monotonic() - started
    requests = sum(len(recorded[slug]) for visit in visits.values() for slug in visit)
    log(
        f"superset: warmed the chart cache of {len(seconds)} dashboard views "
        f"({requests} chart data requests, {sum(seconds.values()):.0f} s)"
    )
    return seconds


def _warm_up_visits(home: Home, slugs: list[str] | None) -> dict[Credentials, list[str]]:
    """Who opens which dashboards to warm them: the admin first, then each filtered role."""
    admin = Credentials(ADMIN_USERNAME, admin_password_file(home).read_text().strip())
    visits: dict[Credentials, list[str]] = {admin: []}
    for role in load_roles():
        for slug in role["dashboards"]:
            if slugs is not None and slug not in slugs:
                continue
            if role.get("rls"):
                password = user_password_file(home, role["user"]).read_text().strip()
                visits.setdefault(Credentials(role["user"], password), []).append(slug)
            elif slug not in visits[admin]:
                visits[admin].append(slug)
    return visits


def _recorded_chart_requests(home: Home) -> tuple[dict[str, list[dict]], str]:
    """The recorded requests per dashboard, if still valid, and the key they must carry.

    Requests name charts and datasets by their ids in the metadata database and follow
    the charts' settings in the bundle, so the key digests both (and Superset's version).
    """
    digest = hashlib.sha256(package_version("apache-superset").encode())
    for source in sorted(ASSETS_DIR.rglob("*.yaml")):
        digest.update(source.relative_to(ASSETS_DIR).as_posix().encode())
        digest.update(source.read_bytes())
    with sqlite3.connect(f"file:{metadata_db(home)}?mode=ro", uri=True) as connection:
        for table in ("slices", "dashboards", "tables"):
            rows = connection.execute(f"select uuid, id from {table} order by id").fetchall()
            digest.update(repr(rows).encode())
    key = digest.hexdigest()
    try:
        saved = json.loads(chart_requests_file(home).read_text())
    except (OSError, ValueError):
        return {}, key
    if not isinstance(saved, dict) or saved.get("key") != key:
        return {}, key
    return dict(saved.get("dashboards") or {}), key


def record_chart_requests(
    home: Home,
    url: str,
    slugs: list[str],
    credentials: Credentials,
    timeout_seconds: float,
    stop: threading.Event | None = None,
) -> dict[str, tuple[list[dict], float]]:
    """Open each dashboard in headless Chromium; its chart data requests and seconds.

    ``force`` is added to each request on its way (not to what is recorded), so the
    results it caches are fresh. Once ``stop`` is set it gives up within about a second
    (``WarmUpStopped``): `servops serve` stops the servers under it, and a page whose server
    went away would otherwise be waited for until the timeout.
    """
    from playwright.sync_api import sync_playwright

    counts = dashboard_chart_counts()
    recorded: dict[str, tuple[list[dict], float]] = {}

    def force(route) -> None:
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        body = json.loads(request.post_data or "{}")
        route.continue_(post_data=json.dumps({**body, "force": True}))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            browser_log_in(page, url, credentials)
            page.route("**/api/v1/chart/data**", force)
            for slug in slugs:
                bodies: list[dict] = []

                def capture(request, bodies=bodies) -> None:
                    if request.method == "POST" and "/api/v1/chart/data" in request.url:
                        bodies.append(json.loads(request.post_data or "{}"))

                page.on("request", capture)
                started = time.monotonic()
                page.goto(f"{url}/superset/dashboard/{slug}/")
                _wait_for_charts(page, counts[slug], timeout_seconds, stop)
                elapsed = time.monotonic() - started
                page.remove_listener("request", capture)
                recorded[slug] = (bodies, elapsed)
            context.close()
        finally:
            browser.close()
    return recorded


class WarmUpStopped(Exception):
    """A warm-up given up because its caller is stopping."""


def _wait_for_charts(page, count: int, timeout_seconds: float, stop: threading.Event | None):
    """Wait until the page's ``count`` charts are drawn, checking ``stop`` every second."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + timeout_seconds
    while True:
        step = max(min(1.0, deadline - time.monotonic()), 0.001)
        try:
            page.wait_for_function(CHARTS_DONE_JS, arg=count, timeout=step * 1000)
            return
        except PlaywrightTimeoutError:
            if stop is not None and stop.is_set():
                raise WarmUpStopped("the warm-up was stopped") from None
            if time.monotonic() >= deadline:
                raise


def dashboard_chart_counts() -> dict[str, int]:
    """Slug -> number of charts, for every dashboard in the bundle."""
    return {
        config["slug"]: sum(
            1
            for item in config["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        )
        for name, config in bundle_configs().items()
        if name.startswith("dashboards/")
    }


class ChartDataClient:
    """Superset's chart data API over HTTP, logged in through the login form as one user."""

    def __init__(self, url: str, credentials: Credentials, timeout_seconds: float = 180) -> None:
        self._url = url.rstrip("/")
        self._timeout = timeout_seconds
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        form = self._open("/login/").decode()
        match = re.search(r'id="csrf_token"[^>]*value="([^"]+)"', form)
        if match is None:
            raise SupersetSetupError(f"{self._url}/login/ shows no login form")
        body = urllib.parse.urlencode(
            {
                "username": credentials.username,
                "password": credentials.password,
                "csrf_token": match.group(1),
            }
        ).encode()
        self._open("/login/", body, {"Content-Type": "application/x-www-form-urlencoded"})
        token = json.loads(self._open("/api/v1/security/csrf_token/"))["result"]
        self._headers = {
            "Content-Type": "application/json",
            "X-CSRFToken": token,
            "Referer": f"{self._url}/",
        }

    def _open(self, path: str, data: bytes | None = None, headers: dict | None = None) -> bytes:
        request = urllib.request.Request(f"{self._url}{path}", data=data, headers=headers or {})
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode(errors="replace")
            raise SupersetSetupError(f"superset {path} answered {error.code}: {detail}") from None

    def post(self, body: dict) -> dict:
        """One chart data request (a dashboard's query context); its JSON answer."""
        answer = self._open("/api/v1/chart/data", json.dumps(body).encode(), self._headers)
        return json.loads(answer)

    def post_all(self, bodies: list[dict], parallel: int = 2) -> list[dict]:
        """Several requests, ``parallel`` at a time (one per core of the server)."""
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            return list(pool.map(self.post, bodies))


def browser_log_in(page, url: str, credentials: Credentials, timeout_seconds: float = 60) -> None:
    """Log a Playwright page in to Superset as ``credentials``; returns once the welcome
    page it lands on has loaded (its API calls made and answered, then 1 s of quiet).

    A person's next page comes after that: the welcome page's lists (recent activity,
    dashboards, charts, saved queries) cost the server more than a dashboard's charts, and
    left running they would be timed as part of the next page.
    """
    in_flight: set = set()
    last_call_ended: list[float] = []  # when this server's latest API call ended (0 or 1 item)

    def started(request) -> None:
        if request.url.startswith(url):
            in_flight.add(request)

    def ended(request) -> None:
        if request in in_flight:
            in_flight.discard(request)
            if "/api/v1/" in request.url:
                last_call_ended[:] = [time.monotonic()]

    # The login page's own event posts can land after the login and replace its session
    # cookie; they are not needed here.
    def swallow_event_log(route) -> None:
        route.fulfill(status=200, content_type="application/json", body="{}")

    page.route("**/superset/log/**", swallow_event_log)
    page.goto(f"{url}/login/")
    page.fill("#username", credentials.username)
    page.fill("#password", credentials.password)
    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    try:
        page.click("button[type=submit]")
        page.wait_for_url(
            "**/superset/welcome/**", wait_until="domcontentloaded", timeout=timeout_seconds * 1000
        )
        # While any route is set Playwright turns the browser's HTTP cache off: every page
        # would fetch and compile Superset's ~10 MB of scripts again, as no person's does.
        page.unroute("**/superset/log/**", swallow_event_log)
        deadline = time.monotonic() + timeout_seconds
        while not (
            last_call_ended and not in_flight and time.monotonic() - last_call_ended[0] >= 1.0
        ):
            if time.monotonic() > deadline:
                raise SupersetSetupError(
                    f"the welcome page at {url} did not finish loading in {timeout_seconds:.0f} s "
                    f"after logging in as {credentials.username}"
                )
            page.wait_for_timeout(100)  # lets Playwright deliver the request events
    finally:
        page.remove_listener("request", started)
        page.remove_listener("requestfinished", ended)
        page.remove_listener("requestfailed", ended)


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


def _provision_plan(home: Home, roles: list[dict], bundle: Path) -> dict:
    """What the app-context step must make true, all resolved to uuids and files."""
    configs = bundle_configs()
    datasets = {
        config["uuid"]: config["table_name"]
        for name, config in configs.items()
        if name.startswith("datasets/")
    }
    by_dashboard = dashboard_datasets(configs)
    granted = {slug for role in roles for slug in role["dashboards"]}
    if missing := sorted(set(by_dashboard) - granted):
        # DASHBOARD_RBAC falls back to dataset access for a dashboard without roles.
        raise SupersetSetupError(f"{ROLES_FILE}: dashboards in no role: {', '.join(missing)}")
    plan_roles = []
    for role in roles:
        if unknown := sorted(set(role["dashboards"]) - set(by_dashboard)):
            raise SupersetSetupError(
                f"{ROLES_FILE}: role {role['name']!r}: no dashboard with slug {', '.join(unknown)}"
            )
        dataset_uuids = sorted(set().union(*(by_dashboard[slug] for slug in role["dashboards"])))
        rls = role.get("rls") or {}
        tables = {datasets[uuid] for uuid in dataset_uuids}
        if unknown_tables := sorted(set(rls) - set(datasets.values())):
            raise SupersetSetupError(
                f"{ROLES_FILE}: role {role['name']!r}: rls on unknown datasets "
                f"{', '.join(unknown_tables)}"
            )
        if rls and (unfiltered := sorted(tables - set(rls))):
            # Every row the role can see must pass its filter.
            raise SupersetSetupError(
                f"{ROLES_FILE}: role {role['name']!r} is row-filtered but its dashboards read "
                f"unfiltered datasets: {', '.join(unfiltered)}"
            )
        plan_roles.append(
            {
                "name": role["name"],
                "dashboards": role["dashboards"],
                "datasets": dataset_uuids,
                "sql_lab": bool(role.get("sql_lab")),
                "rls": {uuid: rls[table] for uuid, table in datasets.items() if table in rls},
                "user": role["user"],
                "password_file": str(user_password_file(home, role["user"])),
            }
        )
    return {
        "bundle": str(bundle),
        "admin": {"username": ADMIN_USERNAME, "password_file": str(admin_password_file(home))},
        "database": {
            "name": SERVING_DATABASE_NAME,
            "flags": SECURE_DATABASE_FLAGS,
            "connect_args": SECURE_CONNECT_ARGS,
        },
        "roles": plan_roles,
    }


def _provision_in_subprocess(env: dict[str, str], log: Log, plan_path: Path) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "servops.superset_bootstrap", "provision", str(plan_path)],
        env=env,
        cwd=env["SUPERSET_HOME"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0 or "servops-provisioned" not in result.stdout:
        tail = "\n".join(output.strip().splitlines()[-30:])
        raise SupersetSetupError(
            f"superset provisioning failed (exit code {result.returncode}); its output ends:\n"
            f"{tail}"
        )
    summary = result.stdout.strip().splitlines()[-1]
    log(
        f"superset: {summary.removeprefix('servops-provisioned ')} "
        f"({time.monotonic() - started:.0f} s)"
    )


def _provision(plan: dict) -> str:
    """In a Superset app context: import the bundle, lock the connection, roles and users.

    Runs in the child process ``python -m servops.superset_bootstrap provision <plan>``.
    """
    from uuid import UUID

    from flask import g
    from superset.app import create_app
    from werkzeug.security import check_password_hash

    app = create_app()
    with app.app_context():
        from superset.commands.importers.v1.assets import ImportAssetsCommand
        from superset.commands.importers.v1.utils import get_contents_from_bundle
        from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
        from superset.models.core import Database
        from superset.models.dashboard import Dashboard

        from superset import db, security_manager

        def ensure_user(username: str, password_file: str, roles: list) -> None:
            password = Path(password_file).read_text().strip()
            user = security_manager.find_user(username=username)
            if user is None:
                created = security_manager.add_user(
                    username, username.replace("_", " ").title(), "(servops demo)",
                    f"{username}@servops.invalid", roles, password,
                )  # fmt: skip
                if not created:
                    raise SupersetSetupError(f"could not create the Superset user {username!r}")
                return
            if set(user.roles) != set(roles):
                user.roles = roles
            if not check_password_hash(user.password, password):
                security_manager.reset_password(user.id, password)

        admin = plan["admin"]
        ensure_user(
            admin["username"], admin["password_file"], [security_manager.find_role("Admin")]
        )
        db.session.commit()
        g.user = security_manager.find_user(username=admin["username"])

        with zipfile.ZipFile(plan["bundle"]) as bundle:
            contents = get_contents_from_bundle(bundle)
        ImportAssetsCommand(contents).run()

        # An import can replace the connection settings with whatever a bundle says: put
        # the locked-down ones back, whatever the bundle held.
        (database,) = (
            db.session.query(Database).filter_by(database_name=plan["database"]["name"]).all()
        )
        for flag, value in plan["database"]["flags"].items():
            setattr(database, flag, value)
        extra = json.loads(database.extra or "{}")
        extra.setdefault("engine_params", {})["connect_args"] = plan["database"]["connect_args"]
        database.extra = json.dumps(extra)
        db.session.commit()

        def dataset(uuid: str) -> SqlaTable:
            return db.session.query(SqlaTable).filter_by(uuid=UUID(uuid)).one()

        gamma = security_manager.find_role("Gamma")
        sql_lab = security_manager.find_role("sql_lab")
        dashboard_roles: dict[str, list] = {}
        wanted_filters: set[str] = set()
        for spec in plan["roles"]:
            role = security_manager.find_role(spec["name"]) or security_manager.add_role(
                spec["name"]
            )
            permissions = [
                security_manager.add_permission_view_menu("datasource_access", dataset(uuid).perm)
                for uuid in spec["datasets"]
            ]
            if spec["sql_lab"]:
                permissions.append(
                    security_manager.add_permission_view_menu("database_access", database.perm)
                )
            role.permissions = permissions
            for slug in spec["dashboards"]:
                dashboard_roles.setdefault(slug, []).append(role)
            for uuid, clause in spec["rls"].items():
                table = dataset(uuid)
                name = f"{RLS_PREFIX}{spec['name']} on {table.table_name}"
                wanted_filters.add(name)
                rls = db.session.query(RowLevelSecurityFilter).filter_by(name=name).one_or_none()
                if rls is None:
                    rls = RowLevelSecurityFilter(name=name)
                    db.session.add(rls)
                rls.filter_type = "Regular"
                rls.clause = clause
                rls.description = f"{spec['name']} sees only these rows (superset/roles.yaml)."
                rls.tables = [table]
                rls.roles = [role]
            user_roles = [gamma, role] + ([sql_lab] if spec["sql_lab"] else [])
            ensure_user(spec["user"], spec["password_file"], user_roles)
        for rls in db.session.query(RowLevelSecurityFilter).all():
            if rls.name.startswith(RLS_PREFIX) and rls.name not in wanted_filters:
                db.session.delete(rls)
        for slug, roles in dashboard_roles.items():
            (dashboard,) = db.session.query(Dashboard).filter_by(slug=slug).all()
            dashboard.roles = roles
            dashboard.published = True
        db.session.commit()
        counts = {
            "dashboards": db.session.query(Dashboard).count(),
            "roles": len(plan["roles"]),
            "row filters": len(wanted_filters),
        }
    return ", ".join(f"{count} {what}" for what, count in counts.items())


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


def main(argv: list[str]) -> int:
    """``python -m servops.superset_bootstrap provision <plan.json>`` (the bootstrap runs it)."""
    if len(argv) != 2 or argv[0] != "provision":
        print("usage: python -m servops.superset_bootstrap provision <plan.json>", file=sys.stderr)
        return 2
    summary = _provision(json.loads(Path(argv[1]).read_text()))
    print(f"servops-provisioned imported the bundle; {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

__all__ = [
    "ChartDataClient",
    "Credentials",
    "DemoUser",
    "SupersetSetupError",
    "admin_password_file",
    "bootstrap",
    "chart_requests_file",
    "dashboard_chart_counts",
    "demo_users",
    "load_roles",
    "record_chart_requests",
    "render_bundle",
    "run_superset",
    "secret_key_file",
    "start_server",
    "stop_server",
    "superset_env",
    "user_password_file",
    "verify_serving_database",
    "warm_cache",
]
