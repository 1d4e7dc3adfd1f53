"""Ingestion guarantees: idempotent re-ingest, nothing lost, crash-safe, clear errors."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import connectors
from connectors import jsonl
from servops.events import build_table
from servops.ingest import UnreadableInput, ingest_file, log_dir, quarantine_dir
from servops.lake import PAUSE_BEFORE_RENAME_ENV, remove_stale_tmp

SERVOPS = [sys.executable, "-m", "servops.cli"]


def run(home: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*SERVOPS, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def lake_snapshot(lake: Path) -> dict[str, str]:
    """Every visible lake file and a hash of its bytes."""
    return {
        str(path.relative_to(lake)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(lake.rglob("*.parquet"))
    }


def events(lake: Path) -> list[tuple]:
    files = sorted((lake / "raw").glob("*/*/*.parquet"))
    if not files:
        return []
    paths = [str(path) for path in files]
    return duckdb.execute(
        "select event_id, count(*) from read_parquet(?, union_by_name = true) group by event_id",
        [paths],
    ).fetchall()


def envelope(index: int, day: int = 1) -> dict:
    return {
        "event_id": f"ev-{index}",
        "event_type": "ticket.created",
        "occurred_at": f"2025-01-{day:02d}T10:00:{index % 60:02d}Z",
        "source": "jsonl",
        "ticket_id": f"T{index}",
        "customer_id": "C1",
        "channel": "web",
        "priority": "normal",
        "status": "new",
    }


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_ingesting_the_same_file_twice_changes_nothing(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [envelope(i, 1 + i % 3) for i in range(30)])
    lake = tmp_path / "lake"
    first = ingest_file(lake, "jsonl", jsonl.read, source)
    assert (first.received, first.accepted, first.written) == (30, 30, 30)
    before = lake_snapshot(lake)
    again = ingest_file(lake, "jsonl", jsonl.read, source)
    assert again.already_ingested and again.batch_id == first.batch_id
    assert lake_snapshot(lake) == before
    # Through the command line too: a clear line, exit 0, nothing new.
    result = run(tmp_path, "ingest", "jsonl", str(source))
    assert result.returncode == 0, result.stderr
    assert "already ingested" in result.stdout
    assert lake_snapshot(lake) == before


def test_the_same_event_in_two_files_is_kept_once_downstream(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = write_jsonl(tmp_path / "a.jsonl", [envelope(1), envelope(2)])
    second = write_jsonl(
        tmp_path / "b.jsonl", [{**envelope(2), "received_at": "2030-01-01T00:00:00Z"}]
    )
    ingest_file(lake, "jsonl", jsonl.read, first)
    ingest_file(lake, "jsonl", jsonl.read, second)
    assert dict(events(lake))["ev-2"] == 2  # the lake keeps every delivery ...
    kept = duckdb.execute(
        # ... and the staging rule (stg_lake__*): first received wins.
        "select event_id, received_at from ("
        "  select *, row_number() over (partition by event_id order by received_at, occurred_at)"
        "  as delivery_rank from read_parquet(?, union_by_name = true))"
        " where delivery_rank = 1 and event_id = 'ev-2'",
        [[str(path) for path in (lake / "raw").glob("*/*/*.parquet")]],
    ).fetchall()
    assert len(kept) == 1 and kept[0][1].year < 2030  # the earlier delivery, not the 2030 one


def bad_corpus(folder: Path) -> dict[str, Path]:
    """Malformed inputs: record-level problems in JSON Lines, file-level ones elsewhere."""
    folder.mkdir()
    good = envelope(1)
    lines = [
        json.dumps(good),
        '{"event_id": "broken", "event_type": ',  # broken JSON
        json.dumps({**envelope(2), "event_type": "ticket.teleported"}),  # unknown type
        json.dumps({**envelope(3), "priority": 3}),  # wrong type
        json.dumps({**envelope(4), "occurred_at": "31/12/2024 10:00"}),  # bad timestamp
        json.dumps({**envelope(5), "occurred_at": "2999-01-01T00:00:00Z"}),  # future
        json.dumps({**envelope(6), "subject": "x" * 100_000}),  # huge payload
        json.dumps({**envelope(7), "subject": "nul \x00 inside"}),  # NUL
        json.dumps({**envelope(8), "subject": "\ud83d half an emoji"}),  # lone surrogate
        json.dumps({**envelope(9), "subject": "Grüße 👋"}),  # fine
        json.dumps([1, 2, 3]),  # not an object
    ]
    data = "\n".join(lines).encode() + b"\n" + b'{"event_id": "\xff\xfe"}\n'  # not UTF-8
    corpus = {"records.jsonl": folder / "records.jsonl"}
    corpus["records.jsonl"].write_bytes(data)
    table = build_table("ticket", {"event_id": ["p1"], "event_type": ["ticket.reopened"]})
    whole = folder / "whole.parquet"
    pq.write_table(table, whole)
    truncated = folder / "truncated.parquet"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    corpus["truncated.parquet"] = truncated
    broken = folder / "export.json"
    broken.write_text('{"tickets": [\n  {"id": 1,\n   "subject": "cut here\n')
    corpus["export.json"] = broken
    return corpus


def test_a_bad_input_corpus_is_quarantined_with_reasons_never_dropped(tmp_path: Path) -> None:
    corpus = bad_corpus(tmp_path / "bad")
    result = run(tmp_path / "home", "ingest", "jsonl", str(corpus["records.jsonl"]))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "received 12, accepted 2, quarantined 10" in result.stdout
    lake = tmp_path / "home" / "lake"
    quarantined = pq.read_table(next(quarantine_dir(lake).glob("jsonl/*.parquet"))).to_pylist()
    by_line = {row["line_number"]: row["reason"] for row in quarantined}
    assert by_line == {
        2: "invalid_json",
        3: "unknown_event_type",
        4: "wrong_type",
        5: "bad_timestamp",
        6: "future_timestamp",
        7: "oversize",
        8: "invalid_unicode",
        9: "invalid_unicode",
        11: "not_an_object",
        12: "invalid_utf8",
    }
    assert all(row["raw_record"] and row["source_file"] for row in quarantined)
    (log,) = pq.read_table(next(log_dir(lake).glob("*.parquet"))).to_pylist()
    assert log["received_count"] == log["accepted_count"] + log["quarantined_count"] == 12
    assert sorted(event_id for event_id, _ in events(lake)) == ["ev-1", "ev-9"]


@pytest.mark.parametrize(
    ("connector", "name", "message"),
    [
        ("jsonl", "truncated.parquet", "truncated.parquet: not a readable Parquet file"),
        ("zendesk", "export.json", "export.json, line 3: broken JSON"),
    ],
)
def test_an_unreadable_file_is_a_clear_error_naming_file_and_line(
    tmp_path: Path, connector: str, name: str, message: str
) -> None:
    corpus = bad_corpus(tmp_path / "bad")
    home = tmp_path / "home"
    result = run(home, "ingest", connector, str(corpus[name]))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1  # one line
    assert not (home / "lake").exists() or not list((home / "lake").rglob("*.parquet"))
    with pytest.raises(UnreadableInput, match=message.split(":")[0]):
        ingest_file(home / "lake", connector, connectors.get(connector).read, corpus[name])


def test_a_missing_file_and_an_unknown_connector_are_clear_errors(tmp_path: Path) -> None:
    result = run(tmp_path, "ingest", "jsonl", str(tmp_path / "nope.jsonl"))
    assert result.returncode == 2 and "nope.jsonl: no such file" in result.stderr
    result = run(tmp_path, "ingest", "salesforce", "x")
    assert result.returncode == 2 and "invalid choice" in result.stderr


def tmp_files(lake: Path) -> list[Path]:
    return sorted(lake.rglob("*.tmp"))


def test_kill_9_mid_batch_leaves_no_partial_file_and_a_rerun_completes(tmp_path: Path) -> None:
    # 20 event dates -> 20 lake files; the hook holds each temporary file 0.1 s before its
    # rename, so the kill lands mid-batch with a half-done write on disk.
    records = [envelope(i, 1 + i % 20) for i in range(400)]
    records += [{**envelope(1000 + i), "event_type": "ticket.nope"} for i in range(5)]
    source = write_jsonl(tmp_path / "big.jsonl", records)
    home = tmp_path / "home"
    lake = home / "lake"
    raw = lake / "raw"
    process = subprocess.Popen(
        [*SERVOPS, "--home", str(home), "ingest", "jsonl", str(source)],
        env={**os.environ, PAUSE_BEFORE_RENAME_ENV: "0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        len(list(raw.glob("*/*/*.parquet"))) >= 5 and tmp_files(lake)
    ):
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    written = list(raw.glob("*/*/*.parquet"))
    assert 5 <= len(written) < 20, "the kill should land mid-batch"
    (left,) = tmp_files(lake)
    assert str(process.pid) in left.name, "the killed writer's temporary file is left"
    for path in written:  # every visible file is whole
        pq.read_table(path)
    assert not list(log_dir(lake).glob("*.parquet")), "no log row: batch incomplete"
    # Readers (the dbt sources' glob) do not see the temporary file.
    (seen,) = duckdb.execute(
        "select count(*) from read_parquet(?, hive_partitioning = true, union_by_name = true)",
        [f"{raw}/ticket/*/*.parquet"],
    ).fetchone()
    assert 0 < seen < 400

    result = run(home, "ingest", "jsonl", str(source))
    assert result.returncode == 0, result.stderr
    assert "received 405, accepted 400, quarantined 5" in result.stdout
    assert tmp_files(lake) == [], "the re-run removed the dead writer's temporary file"
    counts = dict(events(lake))
    assert len(counts) == 400 and set(counts.values()) == {1}, "no loss, no duplicate"
    assert len(list(raw.glob("*/*/*.parquet"))) == 20
    again = run(home, "ingest", "jsonl", str(source))
    assert "already ingested" in again.stdout


def test_only_dead_writers_temporary_files_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "lake" / "raw" / "ticket" / "event_date=2025-01-01"
    folder.mkdir(parents=True)
    dead = subprocess.Popen(["true"])  # a writer that has exited
    dead.wait()
    live = subprocess.Popen(["sleep", "30"])  # a live writer elsewhere
    try:
        files = {
            "dead": folder / f".b1.parquet.{dead.pid}.tmp",
            "live": folder / f".b2.parquet.{live.pid}.tmp",
            "mine": folder / f".b3.parquet.{os.getpid()}.tmp",
            "not ours": folder / "notes.1.tmp",
        }
        for path in files.values():
            path.write_bytes(b"PAR1 half a file")
        # An ingestion writing to that folder clears it before writing ...
        ingest_file(
            tmp_path / "lake", "jsonl", jsonl.read, write_jsonl(tmp_path / "a.jsonl", [envelope(1)])
        )
        assert {name for name, path in files.items() if path.exists()} == {
            "live",
            "mine",
            "not ours",
        }
        # ... and a sweep of the whole lake (servops ingest, a starting receiver) likewise.
        files["dead"].write_bytes(b"PAR1 half a file")
        assert remove_stale_tmp(tmp_path / "lake") == [files["dead"]]
        assert not files["dead"].exists() and files["live"].exists()
    finally:
        live.kill()
        live.wait()


def test_parquet_envelopes_are_ingested_like_json_lines(tmp_path: Path) -> None:
    records = [envelope(i) for i in range(5)]
    from servops.ingest import Candidate, validate

    table = validate([Candidate(i, r) for i, r in enumerate(records, 1)]).tables["ticket"]
    path = tmp_path / "events.parquet"
    pq.write_table(table, path)
    summary = ingest_file(tmp_path / "lake", "jsonl", jsonl.read, path)
    assert (summary.received, summary.accepted, summary.quarantined) == (5, 5, 0)
    assert isinstance(pq.read_table(path), pa.Table)
