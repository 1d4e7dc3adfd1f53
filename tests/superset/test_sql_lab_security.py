"""DuckDB SQL is as powerful as a shell: SQL Lab must refuse everything but reading marts.

Each attack goes through Superset's real API as a logged-in user (POST
/api/v1/sqllab/execute/ with the CSRF token), as a non-admin analyst and as the admin, and
is refused. The connection settings Superset stored are also opened directly with DuckDB,
so the refusal does not rest on Superset's SQL parser alone.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import duckdb
import pytest

from servops.superset_bootstrap import (
    SECURE_CONNECT_ARGS,
    SERVING_DATABASE_NAME,
    metadata_db,
    verify_serving_database,
)

pytestmark = pytest.mark.browser

ANALYST = "Planning & Revenue Analyst"


def attacks(tmp_dir) -> dict[str, str]:
    """What a user might try, by name; every one must fail."""
    return {
        "read a local file": "select * from read_csv('/etc/passwd')",
        "read a file as text": "select * from read_text('/etc/hostname')",
        "list files": "select * from glob('/etc/*')",
        "attach another database": f"attach '{tmp_dir}/other.duckdb' as other",
        "copy data out": f"copy (select * from marts.fct_tickets) to '{tmp_dir}/leak.csv'",
        "export the database": f"export database '{tmp_dir}/export'",
        "install an extension": "install httpfs",
        "load an extension": "load httpfs",
        "turn external access on": "set enable_external_access = true",
        "unlock the configuration": "set lock_configuration = false",
        "change a setting": "set memory_limit = '64GB'",
        "write to the warehouse": "create table marts.stolen as select 1 as x",
    }


def serving_database_id(home) -> int:
    with sqlite3.connect(f"file:{metadata_db(home)}?mode=ro", uri=True) as metadata:
        (database_id,) = metadata.execute(
            "select id from dbs where database_name = ?", (SERVING_DATABASE_NAME,)
        ).fetchone()
    return database_id


def run_in_sql_lab(page, server, ui, sql: str):
    payload = {
        "database_id": serving_database_id(server.home),
        "sql": sql,
        "schema": "marts",
        "runAsync": False,
        "client_id": uuid.uuid4().hex[:10],
        "queryLimit": 100,
        "select_as_cta": False,
        "ctas_method": "TABLE",
        "sql_editor_id": "1",
        "tab": "security test",
        "templateParams": "{}",
        "expand_data": True,
    }
    return ui.api(page, server, "POST", "/api/v1/sqllab/execute/", payload)


def succeeded(response) -> bool:
    if response.status != 200:
        return False
    return response.json().get("status") == "success"


@pytest.fixture()
def analyst_page(users, page_as):
    return page_as(users[ANALYST])


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_sql_lab_refuses_files_attach_copy_extensions_and_settings(
    who, request, superset_server, ui, tmp_path
):
    page = request.getfixturevalue(f"{who}_page")

    # The control: reading a mart works, so a refusal below is the lock, not a broken setup.
    control = run_in_sql_lab(
        page, superset_server, ui, "select count(*) as n from marts.fct_tickets"
    )
    assert succeeded(control), control.text()

    allowed = {}
    for name, sql in attacks(tmp_path).items():
        response = run_in_sql_lab(page, superset_server, ui, sql)
        if succeeded(response):
            allowed[name] = response.text()[:300]
    assert not allowed, f"SQL Lab as {who} allowed: {allowed}"
    assert list(tmp_path.iterdir()) == [], "something was written outside the warehouse"


def test_roles_with_row_filters_have_no_sql_lab(users, page_as, superset_server, ui):
    """SQL Lab ignores row-level security, so the team lead cannot use it at all."""
    page = page_as(users["Support Team Lead"])
    response = run_in_sql_lab(page, superset_server, ui, "select count(*) from marts.fct_tickets")
    assert response.status in (401, 403), response.text()


def test_stored_connection_is_locked_down(superset_server, tmp_path):
    """What Superset will use to connect, read back from its metadata database, refuses too."""
    home = superset_server.home
    verify_serving_database(home)  # raises unless read-only, locked, external access off
    with sqlite3.connect(f"file:{metadata_db(home)}?mode=ro", uri=True) as metadata:
        (extra, allow_dml) = metadata.execute(
            "select extra, allow_dml from dbs where database_name = ?", (SERVING_DATABASE_NAME,)
        ).fetchone()
    connect_args = json.loads(extra)["engine_params"]["connect_args"]
    assert connect_args == SECURE_CONNECT_ARGS
    assert not allow_dml

    connection = duckdb.connect(str(home.serving_db), **connect_args)
    try:
        assert connection.execute("select count(*) from marts.fct_tickets").fetchone()[0] > 0
        allowed = []
        for name, sql in attacks(tmp_path).items():
            try:
                connection.execute(sql)
            except duckdb.Error:
                continue
            allowed.append(name)
    finally:
        connection.close()
    assert not allowed, f"DuckDB with Superset's settings allowed: {allowed}"
    assert list(tmp_path.iterdir()) == []
