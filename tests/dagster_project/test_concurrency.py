"""One writer of the build copy at a time: the instance servops writes gives its pool one slot."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from servops.paths import Home

# A stand-in for the build step (the real one takes a minute): same pool, holds it 3 s.
WRITER = textwrap.dedent(
    """
    import sys, time, dagster as dg
    from dagster_project.lib.instance import BUILD_POOL

    @dg.asset(pool=BUILD_POOL)
    def writer() -> None:
        print("start", time.time(), flush=True)
        time.sleep(3)
        print("end", time.time(), flush=True)

    defs = dg.Definitions(assets=[writer], jobs=[dg.define_asset_job("j", selection="*")])
    with dg.DagsterInstance.get() as instance:
        assert defs.resolve_job_def("j").execute_in_process(instance=instance).success
    """
)


def test_two_processes_never_hold_the_build_pool_at_once(tmp_path) -> None:
    from dagster_project.lib.instance import write_instance_settings

    home = Home(tmp_path)
    write_instance_settings(home)
    env = {**os.environ, "DAGSTER_HOME": str(home.dagster_home)}
    processes = [
        subprocess.Popen([sys.executable, "-c", WRITER], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    spans = []
    for process in processes:
        output, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        times = dict(line.split() for line in output.splitlines() if line[:3] in ("sta", "end"))
        spans.append((float(times["start"]), float(times["end"])))
    first, second = sorted(spans)
    assert second[0] >= first[1], f"the two writers overlapped: {spans}"
