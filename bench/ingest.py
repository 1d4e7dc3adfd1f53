"""Ingestion: JSON Lines and Parquet throughput, and the webhook receiver under load.

The receiver runs as one process and the load generator (``python -m servops.receiver
load``) as another, on loopback; every event is counted end to end in the lake: lost =
acknowledged events missing from the lake, duplicated = lake rows beyond one per event_id
(removed downstream by the first-received-wins rule). The second run kills the receiver
with SIGKILL mid-load and restarts it; clients retry until acknowledged.

The bad-input corpus (``bad_input_corpus``: malformed files and records for every
connector) is ingested file by file; the figures count files, unreadable files (a clear
one-line error each), records received, accepted and quarantined by reason. Any other
exception would be a traceback and stops the bench.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

import connectors
from bench.measure import BenchmarkError
from bench.run import Figure, Scale
from connectors import jsonl
from servops.events import build_table
from servops.ingest import Candidate, UnreadableInput, ingest_file, validate
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
        raise BenchmarkError(f"servops receive did not start: {line!r}")
    return process


def _webhook_run(workdir: Path, requests: int, restart: bool, attempt: int = 0) -> dict:
    home = workdir / f"receiver_{'restart' if restart else 'steady'}_{attempt}"
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
    result.update(
        lost=result["acked"] - distinct,
        duplicated=rows - distinct,
        tmp_left=len(list((home / "lake").rglob("*.tmp"))),
    )
    return result


def _bad_envelope(index: int, **changes: object) -> dict:
    record = {
        "event_id": f"bad-{index}",
        "event_type": "ticket.created",
        "occurred_at": "2025-01-02T10:00:00Z",
        "source": "jsonl",
        "ticket_id": f"T{index}",
        "customer_id": "C1",
        "channel": "web",
        "priority": "normal",
        "status": "new",
    }
    record.update(changes)
    return {key: value for key, value in record.items() if value is not None}


def bad_input_corpus(folder: Path) -> list[tuple[str, Path]]:
    """Malformed inputs for every connector, as ``(connector, file)`` pairs.

    Record-level defects (quarantined with a reason) and file-level ones (a clear error
    naming the file, nothing ingested): truncated Parquet, wrong types, broken JSON,
    unknown types, huge payloads, odd Unicode, bad timestamps, unmapped source objects.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(_bad_envelope(1)),
        '{"event_id": "broken", "event_type": ',
        json.dumps(_bad_envelope(2, event_type="ticket.teleported")),
        json.dumps(_bad_envelope(3, priority=3)),
        json.dumps(_bad_envelope(4, occurred_at="31/12/2024 10:00")),
        json.dumps(_bad_envelope(5, occurred_at="2025-01-02T10:00:00")),  # no offset
        json.dumps(_bad_envelope(6, occurred_at="2999-01-01T00:00:00Z")),
        json.dumps(_bad_envelope(7, subject="x" * 100_000)),
        json.dumps(_bad_envelope(8, subject="nul \x00 inside")),
        json.dumps(_bad_envelope(9, subject="\ud83d half an emoji")),
        json.dumps(_bad_envelope(10, subject="Grüße 👋 ﷽ \u202e rtl")),  # odd but valid
        json.dumps([1, 2, 3]),
        json.dumps(_bad_envelope(11, ticket_id=None)),  # required key missing
        json.dumps(_bad_envelope(12, mood="happy")),  # not in the contract
        json.dumps(_bad_envelope(13, schema_version=99)),
        json.dumps(_bad_envelope(14, is_public="yes")),
        json.dumps(_bad_envelope(1)),  # a duplicate: skipped, not quarantined
        "[" * 5000 + "]" * 5000,  # deeply nested
    ]
    files = []
    records = folder / "records.jsonl"
    records.write_bytes("\n".join(lines).encode() + b"\n" + b'{"event_id": "\xff\xfe"}\n')
    files.append(("jsonl", records))
    garbage = folder / "garbage.jsonl"
    garbage.write_bytes(bytes(range(256)) * 8)
    files.append(("jsonl", garbage))
    empty = folder / "empty.jsonl"
    empty.write_bytes(b"")
    files.append(("jsonl", empty))
    whole = folder / "whole.parquet"
    pq.write_table(
        build_table("ticket", {"event_id": ["p1"], "event_type": ["ticket.reopened"]}), whole
    )
    truncated = folder / "truncated.parquet"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    files.append(("jsonl", truncated))
    wrong = folder / "wrong_types.parquet"
    pq.write_table(
        pa.table(
            {
                "event_id": ["w1", "w2", "w3"],
                "event_type": ["ticket.created"] * 3,
                "occurred_at": ["2025-01-02T10:00:00Z", "yesterday", "2025-01-02T11:00:00Z"],
                "source": ["jsonl"] * 3,
                "ticket_id": ["T1", "T2", None],
                "priority": [1, 2, 3],
            }
        ),
        wrong,
    )
    files.append(("jsonl", wrong))
    broken = folder / "export.json"
    broken.write_text('{"tickets": [\n  {"id": 1,\n   "subject": "cut here\n')
    files.append(("zendesk", broken))
    stripe = folder / "stripe_events.json"
    stripe_events = [
        {"id": "evt_u", "object": "event", "type": "customer.created", "created": 1740819540,
         "data": {"object": {"id": "cus_1", "object": "customer"}}},
        {"id": "evt_usd", "object": "event", "type": "invoice.paid", "created": 1740819540,
         "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_1",
                             "currency": "usd", "amount_paid": 100}}},
        42,
        {"id": "evt_ok", "object": "event", "type": "invoice.paid", "created": 1740819540,
         "data": {"object": {"id": "in_2", "object": "invoice", "customer": "cus_1",
                             "currency": "eur", "amount_paid": 100}}},
    ]  # fmt: skip
    stripe.write_text(json.dumps(stripe_events))
    files.append(("stripe", stripe))
    survey = folder / "survey.csv"
    survey.write_text(
        "Response ID,Email,Company,Score,Comment,Sent At,Responded At\n"
        "s-1,a@x.example,1,9,fine,2025-03-12T09:00:00Z,2025-03-12T10:00:00Z\n"
        "s-2,b@x.example,2,11,off the scale,2025-03-12T09:00:00Z,2025-03-12T10:00:00Z\n"
        "s-3,c@x.example,3,nine,a word,2025-03-12T09:00:00Z,2025-03-12T10:00:00Z\n"
        "s-4,d@x.example,4,7,bad date,12 March,2025-03-12T10:00:00Z\n"
    )
    files.append(("surveys", survey))
    not_csv = folder / "ticket.csv"
    not_csv.write_bytes(b"\x00\x01PK\x03\x04 a zip, not a CSV")
    files.append(("zendesk_tables", not_csv))
    return files


def _bad_input(workdir: Path) -> list[Figure]:
    lake = workdir / "bad_input_lake"
    totals = {"received": 0, "accepted": 0, "quarantined": 0, "duplicates": 0}
    reasons: dict[str, int] = {}
    unreadable = []
    corpus = bad_input_corpus(workdir / "bad_input")
    for connector, path in corpus:
        try:
            summary = ingest_file(lake, connector, connectors.get(connector).read, path)
        except UnreadableInput as error:
            unreadable.append(str(error).replace(str(path.parent) + "/", ""))
            continue
        assert summary.received == summary.accepted + summary.quarantined, summary
        print(f"bad input: {summary.line().replace(str(path.parent) + '/', '')}", flush=True)
        totals["received"] += summary.received
        totals["accepted"] += summary.accepted
        totals["quarantined"] += summary.quarantined
        totals["duplicates"] += summary.duplicates_skipped
        for reason, count in summary.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + count
    for message in unreadable:
        print(f"bad input: {message} (nothing ingested)", flush=True)
    figures = [
        Figure(NAME, "bad input: files", len(corpus), "files", f"{len(unreadable)} unreadable"),
        Figure(NAME, "bad input: records received", totals["received"], "records"),
        Figure(NAME, "bad input: accepted", totals["accepted"], "records"),
        Figure(
            NAME,
            "bad input: quarantined",
            totals["quarantined"],
            "records",
            f"received = accepted + quarantined; {totals['duplicates']} duplicates skipped",
        ),
    ]
    figures += [
        Figure(NAME, f"bad input: quarantined {reason}", count, "records")
        for reason, count in sorted(reasons.items())
    ]
    return figures


def run(scale: Scale, workdir: Path) -> list[Figure]:
    count = EVENTS.get(scale.name, 100_000)
    records = _envelopes(count)
    source = workdir / "ingest_events.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    table = validate(Candidate(i, r) for i, r in enumerate(records, 1)).tables["ticket"]
    parquet = workdir / "ingest_events.parquet"
    pq.write_table(table, parquet)
    del records, table
    figures = _bad_input(workdir)
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
        # Three runs each: the machine is shared and noisy, so the median and the worst.
        results = [_webhook_run(workdir, requests, restart, attempt) for attempt in range(3)]
        rates = sorted(result["acked"] / result["seconds"] for result in results)
        label = "webhooks, receiver killed and restarted" if restart else "webhooks"
        figures += [
            Figure(
                NAME,
                label,
                statistics.median(rates),
                "requests/s",
                f"median of 3 (worst {rates[0]:,.0f}); {requests:,} signed Stripe events each, "
                f"32 client threads, {sum(r['retries'] for r in results)} client retries in all"
                + ("; incl. the receiver's restart" if restart else ""),
            ),
            Figure(
                NAME,
                f"{label}: acknowledged",
                sum(result["acked"] for result in results),
                "events",
                f"of {3 * requests:,} sent",
            ),
            Figure(
                NAME,
                f"{label}: lost",
                sum(result["lost"] for result in results),
                "events",
                "acknowledged, not in lake",
            ),
            Figure(
                NAME,
                f"{label}: duplicated",
                sum(result["duplicated"] for result in results),
                "events",
                "extra deliveries in the lake, removed downstream by event_id",
            ),
            Figure(
                NAME,
                f"{label}: temporary files left",
                sum(result["tmp_left"] for result in results),
                "files",
                "after the run (a restart removes the killed writer's)",
            ),
        ]
    return figures
