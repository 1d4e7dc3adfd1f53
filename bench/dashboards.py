"""Dashboards at the bench scale: every chart's query and every dashboard's render.

Runs after ``bench.warehouse`` (which builds and publishes ``<workdir>/home``). Bootstraps
Superset on that warehouse and, for each dashboard:

- cold: with result caching off, renders it in headless Chromium as the admin, from
  navigation to every chart drawn (repeated; median and worst), recording the chart data
  requests the page sends and how long the server took for each, and for the dashboard's
  own API calls (its charts, datasets);
- warm: restarts the server with the chart-data cache on (empty), runs the warm-up
  (``servops.superset_bootstrap.warm_cache``, as after a publish) and renders again;
- asks Superset for each chart data request's SQL (``result_type: query``) and runs it
  against the serving database the way Superset does, a new read-only, locked-down DuckDB
  connection per query (repeated; per chart median and worst).

Targets from the issue: 200 ms median and 1 s worst per query, 5 s per dashboard render.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import time
from pathlib import Path

import duckdb
import yaml

from bench.run import Figure, Scale
from servops.paths import SUPERSET_DIR, Home
from servops.superset_bootstrap import (
    CHARTS_DONE_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SECURE_CONNECT_ARGS,
    Credentials,
    bootstrap,
    browser_log_in,
    start_server,
    stop_server,
    warm_cache,
)

NAME = "dashboards"
RENDERS = 3
QUERY_REPEATS = 5
PORT = 8399
# The dashboard's own API calls, named by what they fetch.
API_CALLS = {
    "chart data": re.compile(r"/api/v1/chart/data"),
    "dashboard datasets": re.compile(r"/api/v1/dashboard/[^/]+/datasets"),
    "dashboard charts": re.compile(r"/api/v1/dashboard/[^/]+/charts"),
    "dashboard": re.compile(r"/api/v1/dashboard/[^/?]+/?(\?|$)"),
}


def dashboards() -> dict[str, int]:
    """Slug -> number of charts, for every dashboard in the bundle."""
    result = {}
    for path in sorted((SUPERSET_DIR / "assets" / "dashboards").glob("*.yaml")):
        config = yaml.safe_load(path.read_text())
        result[config["slug"]] = sum(
            1
            for item in config["position"].values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        )
    return result


def run(scale: Scale, workdir: Path) -> list[Figure]:
    home = Home(workdir / "home")
    if not home.serving_db.exists():
        raise RuntimeError(f"bench.dashboards needs bench.warehouse first: no {home.serving_db}")
    os.environ.update(home.env())
    credentials = bootstrap(home, log=lambda line: print(line, flush=True))

    # Cold: every chart query runs (no result cache).
    os.environ["SERVOPS_SUPERSET_DATA_CACHE_SECONDS"] = "0"
    cold = _render_all(home, credentials, warm=False)
    # Warm: the cache filled by the warm-up a publish or start would run.
    del os.environ["SERVOPS_SUPERSET_DATA_CACHE_SECONDS"]
    shutil.rmtree(home.superset_dir / "data_cache", ignore_errors=True)
    warm = _render_all(home, credentials, warm=True)

    query_ms = cold["query_ms"]
    figures = []
    per_chart_median = [statistics.median(samples) for samples in query_ms.values()]
    per_chart_worst = [max(samples) for samples in query_ms.values()]
    slowest = max(query_ms, key=lambda key: statistics.median(query_ms[key]))
    figures += [
        Figure(NAME, "chart queries measured", len(query_ms), "queries",
               f"{len(cold['requests'])} dashboards, {QUERY_REPEATS} runs each"),
        Figure(NAME, "chart query, median over charts", statistics.median(per_chart_median),
               "ms", "target 200 ms; new read-only connection per query"),
        Figure(NAME, "chart query, slowest chart's median", max(per_chart_median), "ms",
               f"{slowest}"),
        Figure(NAME, "chart query, worst single run", max(per_chart_worst), "ms",
               "target 1,000 ms"),
        Figure(NAME, "cache warm-up, all dashboards", sum(warm["warmup"].values()), "s",
               f"{len(warm['warmup'])} dashboard views, after the server started"),
    ]  # fmt: skip
    for label, result in (("cold", cold), ("warm", warm)):
        for call, samples in result["calls"].items():
            if samples:
                figures.append(
                    Figure(NAME, f"{label}: server time, {call}", statistics.median(samples),
                           "ms", f"median of {len(samples)}, worst {max(samples):,.0f} ms")
                )  # fmt: skip
        for slug, samples in result["renders"].items():
            figures.append(
                Figure(NAME, f"{label}: render {slug}", statistics.median(samples), "s",
                       f"median of {RENDERS}, worst {max(samples):.1f} s; target 5 s")
            )  # fmt: skip
    return figures


def _render_all(home: Home, credentials: Credentials, warm: bool) -> dict:
    """Start a server, (warm it,) render every dashboard RENDERS times, stop it."""
    from playwright.sync_api import sync_playwright

    server = start_server(home, port=PORT, log=lambda line: print(line, flush=True))
    url = f"http://127.0.0.1:{PORT}"
    result: dict = {"renders": {}, "requests": {}, "query_ms": {}, "warmup": {}}
    calls: dict[str, list[float]] = {call: [] for call in API_CALLS}
    try:
        if warm:
            result["warmup"] = warm_cache(home, url, log=lambda line: print(line, flush=True))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            browser_log_in(page, url, credentials)

            def timed(request) -> None:
                for call, pattern in API_CALLS.items():
                    if pattern.search(request.url):
                        timing = request.timing
                        # From sending the request to the response's first byte: the server.
                        calls[call].append(timing["responseStart"] - timing["requestStart"])
                        return

            page.on("requestfinished", timed)
            for slug, count in dashboards().items():
                captured: list[dict] = []

                def capture(request, captured=captured):
                    if request.method == "POST" and "/api/v1/chart/data" in request.url:
                        captured.append(json.loads(request.post_data or "{}"))

                page.on("request", capture)
                result["renders"][slug] = []
                for _ in range(RENDERS):
                    captured.clear()
                    started = time.perf_counter()
                    page.goto(f"{url}/superset/dashboard/{slug}/")
                    page.wait_for_function(CHARTS_DONE_JS, arg=count, timeout=120_000)
                    result["renders"][slug].append(time.perf_counter() - started)
                page.remove_listener("request", capture)
                result["requests"][slug] = list(captured)
            if not warm:
                for slug, bodies in result["requests"].items():
                    for index, body in enumerate(bodies):
                        for number, sql in enumerate(_chart_sql(page, url, body)):
                            result["query_ms"][f"{slug}#{index}.{number}"] = _time_query(home, sql)
            browser.close()
    finally:
        stop_server(server)
    result["calls"] = calls
    return result


def _chart_sql(page, url: str, body: dict) -> list[str]:
    """The SQL Superset runs for one chart data request."""
    token = page.request.get(f"{url}/api/v1/security/csrf_token/").json()["result"]
    response = page.request.post(
        f"{url}/api/v1/chart/data",
        data={**body, "result_type": "query"},
        headers={"X-CSRFToken": token, "Referer": url},
    )
    if response.status != 200:
        raise RuntimeError(f"chart data query failed ({response.status}): {response.text()[:500]}")
    return [result["query"] for result in response.json()["result"] if result.get("query")]


def _time_query(home: Home, sql: str) -> list[float]:
    samples = []
    for _ in range(QUERY_REPEATS):
        started = time.perf_counter()
        with duckdb.connect(str(home.serving_db), **SECURE_CONNECT_ARGS) as connection:
            connection.execute(sql).fetchall()
        samples.append((time.perf_counter() - started) * 1000)
    return samples
