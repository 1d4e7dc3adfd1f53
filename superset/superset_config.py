"""Superset settings for servops, every one of them read from the environment.

Superset loads this file through ``SUPERSET_CONFIG_PATH``; ``servops.superset_bootstrap``
sets that, ``SUPERSET_HOME`` (the data directory's ``superset/`` folder) and
``SUPERSET_SECRET_KEY`` (generated into a 0600 file there, never committed).
Superset reads only the published marts, through a read-only DuckDB connection that the
dashboard bundle in ``assets/`` defines; nothing here reaches the network.

This folder has no ``__init__.py`` on purpose: it must never shadow the installed
``superset`` package.
"""

import hashlib
import logging
import os
import threading
from datetime import timedelta
from pathlib import Path

from flask_caching.backends.filesystemcache import FileSystemCache
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool
from superset.utils.log import StdOutEventLogger

from servops.paths import Home
from servops.publish import serving_version

SUPERSET_HOME = os.environ.get("SUPERSET_HOME")
if not SUPERSET_HOME:
    raise RuntimeError(
        "SUPERSET_HOME is not set: run Superset through servops (servops.superset_bootstrap)"
    )

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY")
if not SECRET_KEY:
    raise RuntimeError(
        "SUPERSET_SECRET_KEY is not set: run Superset through servops (servops.superset_bootstrap)"
    )

# The published warehouse (read-only), which the chart queries and result cache follow.
_SERVING_DB = os.environ.get("SERVOPS_SERVING_DB", "")

# The metadata database: users, charts, dashboards. Not the data, which is DuckDB.
SQLALCHEMY_DATABASE_URI = (
    f"sqlite:///{os.path.join(SUPERSET_HOME, 'superset.db')}?check_same_thread=false"
)

WTF_CSRF_ENABLED = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Superset never writes to the warehouse: the bootstrap forces allow_dml, allow_ctas,
# allow_cvas and allow_file_upload off on the serving connection, and opens DuckDB
# read-only with external access off and its configuration locked (see
# servops.superset_bootstrap.SECURE_CONNECT_ARGS), then reads that back after every import.
PREVENT_UNSAFE_DB_CONNECTIONS = True
# Embedding is off; this secret is never the public default all the same.
GUEST_TOKEN_JWT_SECRET = hashlib.sha256(f"guest-token:{SECRET_KEY}".encode()).hexdigest()

# Metadata lookups are cached per process.
CACHE_DEFAULT_TIMEOUT = int(timedelta(minutes=5).total_seconds())
CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_KEY_PREFIX": "servops_meta_",
    "CACHE_DEFAULT_TIMEOUT": int(timedelta(minutes=5).total_seconds()),
}


class _WarehouseVersionCache(FileSystemCache):
    """Chart results on disk, filed under the published warehouse file's identity.

    Publishing renames a new file onto ``serving.duckdb`` (a new inode), so every result
    cached from the previous version stops matching at that instant: a result can be kept
    for a day without ever showing data older than the warehouse. Files, not memory, so
    both gunicorn workers and a restarted server share what a warm-up
    (``servops.superset_bootstrap.warm_cache``) put there.
    """

    def __init__(self, cache_dir: str, serving_db: str, **kwargs) -> None:
        super().__init__(cache_dir, **kwargs)
        self._serving_db = serving_db

    @classmethod
    def factory(cls, app, config, args, kwargs):
        kwargs.update(threshold=config["CACHE_THRESHOLD"], ignore_errors=True)
        return cls(config["CACHE_DIR"], config["SERVOPS_SERVING_DB"], **kwargs)

    def _get_filename(self, key: str) -> str:
        if key == self._fs_count_file:  # the cache's own bookkeeping, not a result
            return super()._get_filename(key)
        try:
            stat = os.stat(self._serving_db)
            version = f"{stat.st_dev}.{stat.st_ino}.{stat.st_mtime_ns}"
        except OSError:
            version = "no-warehouse"
        return super()._get_filename(f"{version}/{key}")


# Superset copies this file's upper-case names into superset.config, where Flask-Caching can
# import the class from (this file itself is not importable by name).
SERVOPS_WAREHOUSE_VERSION_CACHE = _WarehouseVersionCache
_DATA_CACHE_SECONDS = int(
    os.environ.get(
        "SERVOPS_SUPERSET_DATA_CACHE_SECONDS", str(int(timedelta(days=1).total_seconds()))
    )
)
DATA_CACHE_CONFIG = {
    # 0 turns result caching off (the dashboard benchmark measures real queries cold).
    "CACHE_TYPE": (
        "superset.config.SERVOPS_WAREHOUSE_VERSION_CACHE"
        if _DATA_CACHE_SECONDS > 0
        else "NullCache"
    ),
    "CACHE_DIR": os.path.join(SUPERSET_HOME, "data_cache"),
    "CACHE_THRESHOLD": 5000,
    "SERVOPS_SERVING_DB": _SERVING_DB,
    "CACHE_KEY_PREFIX": "servops_data_",
    "CACHE_DEFAULT_TIMEOUT": _DATA_CACHE_SECONDS,
}


class _PublishedVersionPin:
    """Chart queries read the published version file, through a DuckDB instance kept open.

    Superset opens a new connection per query; opening the 10 M event warehouse costs DuckDB
    0.1 to 0.3 s (catalog, then cold data blocks) before the query starts. This connection
    mutator points the serving connection at the published version the serving file is
    (``servops.publish.serving_version``) and keeps one connection to it open in each web
    process, so every query's connection joins that open instance (DuckDB's instance
    cache): a millisecond, with its data blocks already in memory.

    A version file's content never changes, so a kept instance is never stale: after a
    publish the serving file is another inode, the next query opens the new version and the
    old one is closed (queries still running on it finish first). Without a matching version
    file (the serving file was replaced by hand) a query opens the serving file itself, as
    Superset would. The connection settings are the database's own (read-only, locked down).
    """

    def __init__(self, home: Home | None) -> None:
        self._home = home
        self._serving_db = os.path.realpath(home.serving_db) if home else ""
        self._lock = threading.Lock()
        self._identity: tuple[int, int, int] | None = None
        self._version: str | None = None
        self._held: dict[str, object] = {}

    def __call__(self, url, engine_kwargs, username, security_manager, source):
        if (
            not self._serving_db
            or url.get_backend_name() != "duckdb"
            or not url.database
            or os.path.realpath(url.database) != self._serving_db
        ):
            return url, engine_kwargs
        version = self._published_version()
        if version is None:
            return url, engine_kwargs
        url = url.set(database=version)
        self._hold_open(version, url, engine_kwargs)
        return url, engine_kwargs

    def _published_version(self) -> str | None:
        """The version file the serving file is a hard link of, or None."""
        try:
            stat = os.stat(self._serving_db)
        except OSError:
            return None
        identity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if identity == self._identity:
                return self._version
        found = serving_version(self._home)
        version = str(found) if found is not None else None
        with self._lock:
            self._identity, self._version = identity, version
        return version

    def _hold_open(self, version: str, url, engine_kwargs) -> None:
        with self._lock:
            if version in self._held:
                return
            stale = [self._held.pop(path) for path in list(self._held)]
            kwargs = {**engine_kwargs, "poolclass": NullPool}
            self._held[version] = create_engine(url, **kwargs).raw_connection()
        for connection in stale:
            try:
                connection.close()
            except Exception:  # an old version's instance; closing is tidiness only
                logging.getLogger(__name__).debug("closing an old warehouse version failed")


# The data directory servops exported (``servops.paths.Home.env``); its published versions.
_HOME = Home(Path(os.environ["SERVOPS_HOME"])) if os.environ.get("SERVOPS_HOME") else None
DB_CONNECTION_MUTATOR = _PublishedVersionPin(_HOME)


def _reserved_words_once() -> None:
    """duckdb_engine asks DuckDB for its reserved words each time it makes a dialect, and
    Superset makes one per engine, four or five per chart request (~8 ms each): ask once."""
    import duckdb
    import duckdb_engine
    from sqlalchemy.dialects.postgresql.base import PGIdentifierPreparer

    reserved = {
        keyword
        for (keyword,) in duckdb.execute(
            "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'"
        ).fetchall()
    }

    def init(self, dialect, **kwargs) -> None:
        PGIdentifierPreparer.__init__(self, dialect, **kwargs)
        self.reserved_words = self.reserved_words | reserved

    duckdb_engine.DuckDBIdentifierPreparer.__init__ = init


_reserved_words_once()


# Superset's action log (who opened which dashboard and chart) goes to the server log
# (<home>/superset/server.log), not into the metadata database: the default wrote and committed
# a SQLite row (an fsync) up to six times per chart data request, and each commit expired every
# object the request had loaded: about 0.15 s of a 0.65 s cached chart, and a write lock both
# web processes queued on. The audit trail stays, one line per action.
EVENT_LOGGER = StdOutEventLogger()


class _StaticCompressionCache:
    """Flask-Compress's cache, for the static files only: each compressed once per process.

    Superset compresses every response, and a fresh browser fetches ~10 MB of scripts on
    its first dashboard (brotli on the 1.7 MB vendor bundle alone took 0.25 to 0.45 s of a
    web process); the files are content-hashed, so their compressed bytes never change.
    Other responses are never stored (their key is never set), so never served from here.
    """

    def __init__(self) -> None:
        self._items: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self._items.get(key)

    def set(self, key: str, value: bytes) -> None:
        if key.partition(";")[2].startswith("/static/"):
            self._items[key] = value


COMPRESS_CACHE_BACKEND = _StaticCompressionCache
COMPRESS_CACHE_KEY = lambda request: request.path  # noqa: E731 (Flask-Compress calls it)

# One local process, no CDN, no telemetry: the content security policy allows this
# origin only, so the browser does not even try the default allow-list of outside hosts
# (the usage pixel, map tiles, web fonts).
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
CONTENT_SECURITY_POLICY_WARNING = False
THEME_FONT_URL_ALLOWED_DOMAINS: list[str] = []
ENABLE_CORS = False
MAPBOX_API_KEY = ""

# Quiet by default; SUPERSET_LOG_LEVEL=INFO (or DEBUG) when investigating.
LOG_LEVEL = getattr(logging, os.environ.get("SUPERSET_LOG_LEVEL", "WARNING").upper())
ENABLE_TIME_ROTATE = False
SHOW_STACKTRACE = False
DEBUG = False

FEATURE_FLAGS = {
    # Each dashboard opens only for the roles it lists (superset/roles.yaml); without it any
    # role with access to one of a dashboard's datasets could open it.
    "DASHBOARD_RBAC": True,
    # Row-level security does not apply in SQL Lab: roles with row filters get no SQL Lab
    # (the bootstrap refuses a role with both).
    "RLS_IN_SQLLAB": False,
    # Draw every chart of a dashboard, not only those scrolled into view: the dashboards are
    # a screen or two, and a page (or screenshot) is then complete once it has loaded.
    "DASHBOARD_VIRTUALIZATION": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "ENABLE_TEMPLATE_PROCESSING": False,
}

# The wheel lacks the source SVG of the default loading spinner (each page view would log
# a warning); use the GIF the wheel does ship. superset.config is mid-import when it loads
# this file, with its themes already defined.
from superset.config import THEME_DARK, THEME_DEFAULT  # noqa: E402

# Charts draw at once, without ECharts' one-second entrance animation (Superset 6's theme
# overrides): an operations page is read for its numbers, and an animating chart redraws
# its canvas every frame while the rest of the dashboard is still loading. Interleaved
# renders of every dashboard, 4 rounds: median 3.58 s with the animation, 3.45 s without.
_CHARTS = {"echartsOptionsOverrides": {"animation": False}}
_SPINNER = {"brandSpinnerUrl": "/static/assets/images/loading.gif", "brandSpinnerSvg": None}
THEME_DEFAULT = {**THEME_DEFAULT, **_CHARTS, "token": {**THEME_DEFAULT["token"], **_SPINNER}}
if THEME_DARK:
    THEME_DARK = {**THEME_DARK, **_CHARTS, "token": {**THEME_DARK["token"], **_SPINNER}}
