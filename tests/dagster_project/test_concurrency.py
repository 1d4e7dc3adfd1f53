"""One writer of the build copy at a time: the build pool queues the writers, its lock holds."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import time

from servops.paths import Home

# A stand-in for the ops that write the build copy (the real build takes a minute): in the same
# pool and holding the same lock, each holds it 1 s. All start their run at the same instant:
# Dagster's pool alone let two of five such processes in at once in 5 of 36 trials.
WRITER = textwrap.dedent(
    """
    import sys, time, dagster as dg
    from pathlib import Path
    from dagster_project.lib.instance import BUILD_POOL
    from servops.publish import hold_build_copy
    from servops.paths import Home

    @dg.asset(pool=BUILD_POOL)
    def writer() -> None:
        with hold_build_copy(Home(Path(sys.argv[1]))):
            print("start", time.time(), flush=True)
            time.sleep(1)
            print("end", time.time(), flush=True)

    defs = dg.Definitions(assets=[writer], jobs=[dg.define_asset_job("j", selection="*")])
    job = defs.resolve_job_def("j")
    with dg.DagsterInstance.get() as instance:
        # Sleep to the last moment, then spin: the start is exact, and the processes still
        # importing do not share the two cores with four others' spinning.
        start = float(sys.argv[2])
        time.sleep(max(0.0, start - time.time() - 0.05))
        while time.time() < start:
            pass
        assert job.execute_in_process(instance=instance).success
    """
)
WRITERS = 5


def test_writers_started_together_never_write_the_build_copy_at_once(tmp_path) -> None:
    from dagster_project.lib.instance import write_instance_settings

    home = Home(tmp_path)
    write_instance_settings(home)
    env = {**os.environ, "DAGSTER_HOME": str(home.dagster_home)}
    # Time enough for every interpreter to import Dagster before the common start.
    start = time.time() + 8
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(start)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WRITERS)
    ]
    spans = []
    for process in processes:
        output, _ = process.communicate(timeout=180)
        assert process.returncode == 0
        times = dict(line.split() for line in output.splitlines() if line[:3] in ("sta", "end"))
        spans.append((float(times["start"]), float(times["end"])))
    spans.sort()
    for before, after in itertools.pairwise(spans):
        assert after[0] >= before[1], f"two writers overlapped: {spans}"
