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
from datetime import timedelta

from flask_caching.backends.filesystemcache import FileSystemCache

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
    "SERVOPS_SERVING_DB": os.environ.get("SERVOPS_SERVING_DB", ""),
    "CACHE_KEY_PREFIX": "servops_data_",
    "CACHE_DEFAULT_TIMEOUT": _DATA_CACHE_SECONDS,
}

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

_SPINNER = {"brandSpinnerUrl": "/static/assets/images/loading.gif", "brandSpinnerSvg": None}
THEME_DEFAULT = {**THEME_DEFAULT, "token": {**THEME_DEFAULT["token"], **_SPINNER}}
if THEME_DARK:
    THEME_DARK = {**THEME_DARK, "token": {**THEME_DARK["token"], **_SPINNER}}
