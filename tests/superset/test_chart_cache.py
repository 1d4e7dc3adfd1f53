"""Chart results are cached per published warehouse file: a publish makes them miss.

The dashboards read cached chart data (warmed after each publish), so a cached result must
never outlive the warehouse version it came from.
"""

from __future__ import annotations

import os
import sqlite3

import pytest

from servops.superset_bootstrap import metadata_db

pytestmark = pytest.mark.browser


def test_a_publish_turns_cached_chart_data_cold(admin_page, superset_server, ui):
    home = superset_server.home
    with sqlite3.connect(f"file:{metadata_db(home)}?mode=ro", uri=True) as meta:
        (dataset_id,) = meta.execute(
            "select id from tables where table_name = 'fct_tickets'"
        ).fetchone()
    payload = {
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [
            {
                "columns": ["channel"],
                "metrics": ["tickets_created"],
                "row_limit": 50,
                # Unlike any chart's query, so no other test has cached it.
                "extras": {"where": "ticket_id is not null"},
            }
        ],
        "result_format": "json",
        "result_type": "full",
    }

    def ask() -> dict:
        response = ui.api(admin_page, superset_server, "POST", "/api/v1/chart/data", payload)
        assert response.status == 200, response.text()
        return response.json()["result"][0]

    first, second = ask(), ask()
    assert not first["is_cached"] and second["is_cached"]
    assert second["data"] == first["data"]

    # Publish the same content as a new file, renamed into place as servops.publish does.
    serving = home.serving_db
    copy = serving.with_name(serving.name + ".republish")
    copy.write_bytes(serving.read_bytes())
    os.replace(copy, serving)

    after = ask()
    assert not after["is_cached"], "a result cached from the previous warehouse file was served"
    # The same rows (a fresh query need not return them in the same order).
    assert sorted(after["data"], key=str) == sorted(first["data"], key=str)
