"""The servops command line as a user runs it: real processes, real exit codes and output."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from servops.paths import Home

SERVOPS = [sys.executable, "-m", "servops.cli"]


def run(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SERVOPS_HOME": str(home)}
    return subprocess.run(
        [*SERVOPS, *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL
    )


@pytest.mark.parametrize(
    "command",
    ["simulate", "build", "publish", "serve", "sql", "bench", "ingest", "receive", "backtest"],
)
def test_every_command_has_help(command: str, tmp_path: Path) -> None:
    result = run(command, "--help", home=tmp_path)
    assert result.returncode == 0
    assert "usage: servops" in result.stdout


def test_sql_prints_csv_and_json(published_home: Home) -> None:
    query = "select count(*) as tickets, min(created_date) as first_day from marts.fct_tickets"
    expected = (
        duckdb.connect(str(published_home.serving_db), read_only=True).execute(query).fetchone()
    )
    as_csv = run("sql", query, home=published_home.root)
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows == [["tickets", "first_day"], [str(expected[0]), str(expected[1])]]
    as_json = run("sql", query, "--format", "json", home=published_home.root)
    assert json.loads(as_json.stdout) == [{"tickets": expected[0], "first_day": str(expected[1])}]


def test_sql_is_read_only_and_errors_are_one_clear_line(published_home: Home) -> None:
    for query in ["delete from marts.fct_tickets", "select * from no_such_table"]:
        result = run("sql", query, home=published_home.root)
        assert result.returncode == 2
        assert result.stderr.startswith("servops sql: query failed:")
        assert "Traceback" not in result.stderr
    count = run("sql", "select count(*) from marts.fct_tickets", home=published_home.root)
    assert int(count.stdout.splitlines()[1]) > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--customers", "0"], "--customers must be between"),
        (["simulate", "--start", "2025-13-01"], "invalid fromisoformat value"),
        (
            ["simulate", "--days", "10", "--incident", "2025-01-11"],
            "--incident 2025-01-11 is outside the simulated window 2025-01-01 to 2025-01-10",
        ),
        (["build"], "holds no events yet"),
        (["sql", "select 1"], "no published warehouse"),
        (["publish", "--rollback"], "no earlier published version"),
    ],
)
def test_bad_input_gets_a_clear_error(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args, home=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_names_what_it_could_not_write(tmp_path: Path) -> None:
    """A lake it cannot write (here a stream's folder is a file) is one line naming the path."""
    blocked = tmp_path / "lake" / "raw" / "survey"
    blocked.parent.mkdir(parents=True)
    blocked.write_text("not a folder")
    result = run("simulate", "--customers", "30", "--days", "3", home=tmp_path)
    assert result.returncode == 2
    assert f"could not write the lake at {tmp_path / 'lake'}: Not a directory" in result.stderr
    assert str(blocked) in result.stderr
    assert "Traceback" not in result.stderr


def test_simulate_injects_the_effects_asked_for(tmp_path: Path) -> None:
    """Each effect flag reaches the truth's effects record; the bot shows up in the chat lake."""
    result = run(
        "simulate",
        *("--customers", "40", "--days", "6", "--start", "2025-03-01"),
        *("--chatbot-launch", "2025-03-03", "--incident", "2025-03-02"),
        *("--staffing-cut", "2025-03-04", "--price-change", "2025-03-05"),
        home=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    # A connection of its own: the module-level default one may hold another test's result.
    connection = duckdb.connect()
    effects = connection.sql(
        f"select effect, cast(effect_date as varchar) as day "
        f"from read_parquet('{tmp_path}/lake/truth/effects/*.parquet') order by effect"
    ).fetchall()
    assert effects == [
        ("chatbot_launch", "2025-03-03"),
        ("incident", "2025-03-02"),
        ("price_change", "2025-03-05"),
        ("staffing_cut", "2025-03-04"),
    ]
    bot_days = connection.sql(
        f"select min(occurred_at)::date from read_parquet('{tmp_path}/lake/raw/chat/*/*.parquet') "
        "where event_type like 'conversation.bot%'"
    ).fetchall()[0][0]
    assert str(bot_days) == "2025-03-03"


def test_build_full_refresh_rebuilds_from_the_lake(tmp_path: Path) -> None:
    home = Home(tmp_path / "home")
    simulated = run("simulate", "--customers", "40", "--days", "4", home=home.root)
    assert simulated.returncode == 0, simulated.stderr
    first = run("build", home=home.root)
    assert first.returncode == 0, first.stderr
    # A row no event in the lake stands for: only a build from the whole lake drops it.
    with duckdb.connect(str(home.build_db)) as connection:
        connection.execute(
            "insert into marts.fct_tickets "
            "select * replace ('T-not-in-the-lake' as ticket_id) from marts.fct_tickets limit 1"
        )
        query = "select count(*) from marts.fct_tickets where ticket_id = 'T-not-in-the-lake'"
        assert connection.execute(query).fetchall() == [(1,)]
    again = run("build", "--full-refresh", home=home.root)
    assert again.returncode == 0, again.stderr
    assert "dbt build --full-refresh" in again.stdout + again.stderr
    with duckdb.connect(str(home.serving_db), read_only=True) as connection:
        assert connection.execute(query).fetchall() == [(0,)]
