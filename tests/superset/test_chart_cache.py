"""Chart results are cached per published warehouse file: a publish makes them miss.

The dashboards read cached chart data (warmed after each publish), so a cached result must
never outlive the warehouse version it came from, and the warm-up must fill the very
results the pages ask for.
"""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from servops.publish import serving_version
from servops.superset_bootstrap import chart_requests_file, metadata_db, warm_cache

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

    # Superset's web processes keep the version servops.publish kept open (see
    # superset_config.py), found through publish's own naming.
    version = serving_version(home)
    assert version is not None and version.parent == home.versions_dir
    assert os.path.samefile(version, home.serving_db)

    # Publish the same content as a new file, renamed into place as servops.publish does.
    serving = home.serving_db
    copy = serving.with_name(serving.name + ".republish")
    copy.write_bytes(serving.read_bytes())
    os.replace(copy, serving)
    # Not one of publish's versions: the queries below open the serving file itself.
    assert serving_version(home) is None

    after = ask()
    assert not after["is_cached"], "a result cached from the previous warehouse file was served"
    # The same rows (a fresh query need not return them in the same order).
    assert sorted(after["data"], key=str) == sorted(first["data"], key=str)


def test_the_warm_up_caches_what_a_dashboard_asks_for(admin_page, superset_server, ui):
    """After a publish the API-only warm-up fills exactly the results the page then reads."""
    home, slug = superset_server.home, "support-overview"
    # The first warm-up records the page's requests in Chromium (unless one already did),
    # with Playwright's sync API, which cannot run in the thread the browser fixture runs in.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(warm_cache, home, superset_server.url, slugs=[slug]).result()
    recorded = json.loads(chart_requests_file(home).read_text())["dashboards"][slug]

    # A publish (a new file renamed into place) turns every cached result cold.
    serving = home.serving_db
    copy = serving.with_name(serving.name + ".republish")
    copy.write_bytes(serving.read_bytes())
    os.replace(copy, serving)
    with ThreadPoolExecutor(max_workers=1) as thread:
        views = thread.submit(warm_cache, home, superset_server.url, slugs=[slug]).result()
    assert list(views) == [f"{slug} as admin"], "the warm-up after a publish used Chromium"

    answers = []
    admin_page.on(
        "response",
        lambda response: (
            answers.append(response)
            if response.request.method == "POST" and "/api/v1/chart/data" in response.url
            else None
        ),
    )
    ui.open_dashboard(admin_page, superset_server, slug)
    results = [result for answer in answers for result in answer.json()["result"]]
    assert len(answers) == len(recorded) and results
    assert all(result["is_cached"] for result in results), [
        (result.get("query"), result["is_cached"]) for result in results
    ]
