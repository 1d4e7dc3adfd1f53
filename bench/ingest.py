"""Ingestion: JSON Lines and Parquet throughput, and the webhook receiver under load.

The receiver runs as one process and the load generator (``python -m servops.receiver
load``) as another, on loopback; every event is counted end to end in the lake: lost =
acknowledged events missing from the lake, duplicated = lake rows beyond one per event_id
(removed downstream by the first-received-wins rule). The second run kills the receiver
with SIGKILL mid-load and restarts it; clients retry until acknowledged.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from bench.run import Figure, Scale
from connectors import jsonl
from servops.ingest import Candidate, ingest_file, validate
from servops.receiver import STRIPE_SECRET_ENV

NAME = "ingest"
EVENTS = {"small": 100_000, "medium": 500_000, "large": 2_000_000}
REQUESTS = {"small": 2_000, "medium": 5_000, "large": 10_000}
SECRET = "whsec_bench"


def _envelopes(count: int) -> list[dict]:
    return [
        {
            "event_id": f"bench-{index}",
            "event_type": "ticket.commented",
            "occurred_at": f"2025-01-{1 + index % 28:02d}T{index % 24:02d}:00:00Z",
            "source": "jsonl",
            "ticket_id": f"T{index // 5}",
            "author_type": "agent",
            "agent_id": f"A{index % 50}",
            "is_public": index % 3 != 0,
        }
        for index in range(count)
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_receiver(home: Path, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "servops.cli", "--home", str(home), "receive", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline() if process.stdout else ""
    if "listening" not in line:
        raise RuntimeError(f"servops receive did not start: {line!r}")
    return process


def _webhook_run(workdir: Path, requests: int, restart: bool) -> dict:
    home = workdir / ("receiver_restart" if restart else "receiver")
    env = {**os.environ, STRIPE_SECRET_ENV: SECRET}
    port = _free_port()
    server = _start_receiver(home, port, env)
    run_id = "restart" if restart else "steady"
    load = subprocess.Popen(
        [sys.executable, "-m", "servops.receiver", "load", str(port), str(requests), run_id, "32"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if restart:
            logs = home / "lake" / "ingestion_log"
            while len(list(logs.glob("*.parquet"))) < 20 and load.poll() is None:
                time.sleep(0.02)
            server.send_signal(signal.SIGKILL)
            server.wait()
            time.sleep(0.5)
            server = _start_receiver(home, port, env)
        output, _ = load.communicate(timeout=600)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    result = json.loads(output)
    rows, distinct = duckdb.execute(
        "select count(*), count(distinct event_id) from read_parquet(?) where event_id like ?",
        [f"{home}/lake/raw/billing/*/*.parquet", f"stripe:evt_{run_id}_%"],
    ).fetchone()
    result.update(lost=result["acked"] - distinct, duplicated=rows - distinct)
    return result


def run(scale: Scale, workdir: Path) -> list[Figure]:
    count = EVENTS.get(scale.name, 100_000)
    records = _envelopes(count)
    source = workdir / "ingest_events.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    table = validate(Candidate(i, r) for i, r in enumerate(records, 1)).tables["ticket"]
    parquet = workdir / "ingest_events.parquet"
    pq.write_table(table, parquet)
    del records, table
    figures = []
    for label, path in (("JSON Lines", source), ("Parquet", parquet)):
        lake = workdir / f"ingest_lake_{path.suffix[1:]}"
        started = time.perf_counter()
        summary = ingest_file(lake, "jsonl", jsonl.read, path, read_table=jsonl.read_table)
        seconds = time.perf_counter() - started
        figures.append(
            Figure(
                NAME,
                f"{label} ingestion",
                summary.written / seconds,
                "events/s",
                f"{summary.written:,} events, 28 dates, {seconds:.1f} s incl. validation",
            )
        )
    requests = REQUESTS.get(scale.name, 2_000)
    for restart in (False, True):
        result = _webhook_run(workdir, requests, restart)
        label = "webhooks, receiver killed and restarted" if restart else "webhooks"
        figures += [
            Figure(
                NAME,
                label,
                result["acked"] / result["seconds"],
                "requests/s",
                f"{requests:,} signed Stripe events, 32 client threads, "
                f"{result['retries']} client retries",
            ),
            Figure(NAME, f"{label}: lost", result["lost"], "events", "acknowledged, not in lake"),
            Figure(
                NAME,
                f"{label}: duplicated",
                result["duplicated"],
                "events",
                "extra deliveries in the lake, removed downstream by event_id",
            ),
        ]
    return figures
