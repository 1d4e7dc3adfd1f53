"""Where everything lives: one data directory shared by every command.

The data directory defaults to ``./data``; ``SERVOPS_HOME`` or ``--home`` overrides it.
Layout (documented in the README)::

    <home>/lake/raw/<stream>/event_date=YYYY-MM-DD/<batch>.parquet   the event lake
    <home>/lake/truth/<entity>.parquet                               the simulator's truth
    <home>/warehouse/build.duckdb                                    written by builds only
    <home>/warehouse/serving.duckdb                                  published, read-only
    <home>/warehouse/versions/                                       last published versions
    <home>/superset/                                                 Superset's metadata and secrets
    <home>/dagster/                                                  DAGSTER_HOME
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
SEEDS_DIR = PROJECT_ROOT / "seeds"
SUPERSET_DIR = PROJECT_ROOT / "superset"


@dataclass(frozen=True)
class Home:
    """The data directory and the well-known paths inside it."""

    root: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None) -> Home:
        """``--home`` wins, then ``SERVOPS_HOME``, then ``./data``; always absolute."""
        chosen = home or os.environ.get("SERVOPS_HOME") or "data"
        return cls(Path(chosen).expanduser().resolve())

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def raw(self) -> Path:
        return self.lake / "raw"

    @property
    def truth(self) -> Path:
        return self.lake / "truth"

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    @property
    def serving_db(self) -> Path:
        return self.warehouse_dir / "serving.duckdb"

    @property
    def versions_dir(self) -> Path:
        return self.warehouse_dir / "versions"

    @property
    def superset_dir(self) -> Path:
        return self.root / "superset"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def env(self) -> dict[str, str]:
        """Environment variables that dbt, Dagster and Superset read these paths from."""
        return {
            "SERVOPS_HOME": str(self.root),
            "SERVOPS_LAKE": str(self.lake),
            "SERVOPS_BUILD_DB": str(self.build_db),
            "SERVOPS_SERVING_DB": str(self.serving_db),
            "DAGSTER_HOME": str(self.dagster_home),
            "SUPERSET_HOME": str(self.superset_dir),
            # numpy sets and then deletes these while it is first imported; when a dbt Python
            # model imports it in one thread as another reads os.environ, dbt fails with a
            # KeyError. Set for good, numpy leaves os.environ alone.
            "OPENBLAS_MAIN_FREE": "1",
            "GOTOBLAS_MAIN_FREE": "1",
        }


def activate(home: Home | None = None, *, override: bool = False) -> Home:
    """Export ``home``'s paths to this process's environment, for dbt, Dagster and Superset.

    The virtual environment's ``bin`` goes first on ``PATH`` so that subprocesses (dbt,
    superset, dagster) are this environment's, activated or not.
    """
    home = home or Home.resolve()
    for name, value in home.env().items():
        if override:
            os.environ[name] = value
        else:
            os.environ.setdefault(name, value)
    venv_bin = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != venv_bin:
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    return home
