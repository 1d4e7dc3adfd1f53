"""How ``servops bench`` reports a benchmark that cannot measure: one message, no traceback."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import bench.run
from bench.measure import BenchmarkError, run_measured
from servops.cli import main
from servops.paths import Home


def test_a_failed_child_command_names_itself_and_its_output() -> None:
    command = [sys.executable, "-c", "import sys; print('no lake here'); sys.exit(3)"]
    with pytest.raises(BenchmarkError) as failure:
        run_measured(command)
    message = str(failure.value)
    assert "failed (exit 3)" in message and "no lake here" in message
    assert sys.executable in message


def test_servops_bench_prints_the_failure_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(*args, **kwargs):
        run_measured([sys.executable, "-c", "import sys; print('dbt: no seeds'); sys.exit(1)"])

    monkeypatch.setattr(bench.run, "run_benchmarks", fail)
    # main() exports the home's paths to the environment: put them back afterwards.
    for name in [*Home(tmp_path).env(), "PATH"]:
        monkeypatch.setenv(name, os.environ.get(name, ""))
    assert main(["--home", str(tmp_path), "bench", "--only", "backtest"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("servops bench: a benchmark failed: ")
    assert "dbt: no seeds" in err and "Traceback" not in err
