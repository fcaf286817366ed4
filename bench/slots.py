"""Figures (a), (a') and (b): availability through the API, in process, and its floor.

The API is called through Django's test client: the whole request path (middleware, token
authentication, DRF, the view, JSON rendering) runs in this process, so the queries can be
counted and the time split into loading, the engine and JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from urllib.parse import urlencode

import psycopg
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from bench.stats import ProfileLine, Timing, profile, repeat
from clinic.models import Location, ProcedureType
from scheduling import availability as engine
from scheduling.api.views import slots_json
from scheduling.selectors import availability_request

API_RUNS = 30
SPLIT_RUNS = 15
FLOOR_RUNS = 40


@dataclasses.dataclass(frozen=True)
class ApiFigure:
    path: str
    timing: Timing
    slots: int
    queries: int
    response_bytes: int


@dataclasses.dataclass(frozen=True)
class Split:
    """Median milliseconds of each part of one answer. Each round asks the API once and then
    runs each part on its own, so slow and fast moments of the machine fall on all of them."""

    api: float  # the whole request through the test client
    load: float  # availability_request: its queries and the rows turned into spans
    load_sql: float  # of which inside cursor.execute (PostgreSQL and the network)
    engine: float  # find_slots on the loaded request
    json_build: float  # the view's slot dicts (astimezone + isoformat)
    json_render: float  # DRF's JSONRenderer
    slots: int

    @property
    def parts(self) -> float:
        return self.load + self.engine + self.json_build + self.json_render


@dataclasses.dataclass(frozen=True)
class Floor:
    sql: str  # the selector's own query for the busy spans, as it ran
    selector_queries: int  # all the queries availability_request ran
    rows: int
    timestamps: int  # timestamp values among the rows' columns (each parsed into a datetime)
    django: Timing  # execute + fetchall with a cursor on Django's connection
    driver: Timing  # the same on a plain psycopg connection (psycopg's own loaders, in C)
    server_ms: float  # EXPLAIN ANALYZE: planning + execution inside PostgreSQL, median of 5
    plan: str  # the plan's nodes, outermost first
    paired_api: Timing  # the (a) request run just before each fetch
    ratios: Timing  # (a) / (b), run by run (not milliseconds)


def availability_path(params: dict) -> str:
    return "/api/v1/availability/?" + urlencode(params)


def appointments_read(client: Client, token: str, params: dict) -> tuple[int, int]:
    """How many queries on appointments one API request runs, and how many rows they return."""
    with CaptureQueriesContext(connection) as captured:
        client.get(availability_path(params), HTTP_AUTHORIZATION=f"Token {token}")
    queries = [query["sql"] for query in captured if 'FROM "scheduling_appointment"' in query["sql"]]
    rows = 0
    with connection.cursor() as cursor:
        for sql in queries:
            cursor.execute(sql)
            rows += len(cursor.fetchall())
    return len(queries), rows


def measure_api(client: Client, token: str, params: dict, *, runs: int = API_RUNS) -> ApiFigure:
    path = availability_path(params)

    def ask():
        response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
        if response.status_code != 200:
            raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
        return response

    timing, response = repeat(ask, runs=runs)
    body = json.loads(response.content)
    if body["count"] != len(body["slots"]):
        raise RuntimeError(f"GET {path}: count {body['count']} but {len(body['slots'])} slots")
    with CaptureQueriesContext(connection) as captured:
        ask()
    return ApiFigure(path, timing, body["count"], len(captured), len(response.content))


def _slot_dicts(slots: list[engine.Slot], location: Location) -> dict:
    """The availability view's response body, built by the view's own helper."""
    return {"time_zone": location.time_zone, **slots_json(slots, location)}


def split_answer(client: Client, token: str, *, procedure_type: ProcedureType, location: Location,
                 first_day: dt.date, last_day: dt.date, runs: int = SPLIT_RUNS) -> Split:
    params = {"procedure_type": procedure_type.code, "location": location.pk, "from": first_day.isoformat(),
              "to": last_day.isoformat()}
    path = availability_path(params)
    sql_seconds = [0.0]

    def timed_execute(execute, sql, sql_params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, sql_params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    def timed(function):
        started = time.perf_counter()
        result = function()
        return (time.perf_counter() - started) * 1000, result

    def load():
        with connection.execute_wrapper(timed_execute):
            return availability_request(procedure_type=procedure_type, location=location, first_day=first_day,
                                        last_day=last_day, now=timezone.now())

    parts: dict[str, list[float]] = {name: [] for name in Split.__dataclass_fields__ if name != "slots"}
    slots: list[engine.Slot] = []
    for round_ in range(runs + 2):  # the first two warm up
        api_ms, _ = timed(lambda: client.get(path, HTTP_AUTHORIZATION=f"Token {token}"))
        sql_seconds[0] = 0.0
        load_ms, request = timed(load)
        engine_ms, slots = timed(lambda: engine.find_slots(request))
        build_ms, body = timed(lambda: _slot_dicts(slots, location))
        render_ms, _ = timed(lambda: JSONRenderer().render(body))
        if round_ < 2:
            continue
        for name, value in [("api", api_ms), ("load", load_ms), ("load_sql", sql_seconds[0] * 1000),
                            ("engine", engine_ms), ("json_build", build_ms),
                            ("json_render", render_ms)]:
            parts[name].append(value)
    return Split(**{name: Timing(values).p50 for name, values in parts.items()}, slots=len(slots))


def profile_api(client: Client, token: str, params: dict, *, runs: int = 5) -> list[ProfileLine]:
    """Where one whole API answer spends its time, by function, per request."""
    path = availability_path(params)
    client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
    return profile(lambda: client.get(path, HTTP_AUTHORIZATION=f"Token {token}"), runs=runs)


def busy_spans_query(*, procedure_type: ProcedureType, location: Location, first_day: dt.date,
                     last_day: dt.date) -> tuple[str, int]:
    """The SQL with which the selector loads the window's appointments, as it ran (parameters
    inlined), and how many queries the selector ran in all."""
    with CaptureQueriesContext(connection) as captured:
        availability_request(procedure_type=procedure_type, location=location, first_day=first_day,
                             last_day=last_day, now=timezone.now())
    found = [query["sql"] for query in captured if 'FROM "scheduling_appointment"' in query["sql"]]
    if len(found) != 1:
        raise RuntimeError(f"Expected the selector to read appointments in one query; it ran {len(found)}.")
    return found[0], len(captured)


def measure_floor(client: Client, token: str, *, api_params: dict, sql: str, selector_queries: int,
                  database_url: str, runs: int = FLOOR_RUNS) -> Floor:
    """Time the selector's busy-span query alone, each run paired with one (a) request so that
    the ratio compares the two at the same moments of a machine that is not always equally fast."""

    def fetch(cursor):
        cursor.execute(sql)
        return cursor.fetchall()

    path = availability_path(api_params)
    api_samples, floor_samples, ratios = [], [], []
    with connection.cursor() as cursor:
        for _ in range(3):  # warm up
            rows = fetch(cursor)
        for _ in range(runs):
            started = time.perf_counter()
            client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
            api_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            rows = fetch(cursor)
            floor_ms = (time.perf_counter() - started) * 1000
            api_samples.append(api_ms)
            floor_samples.append(floor_ms)
            ratios.append(api_ms / floor_ms)
        server_times = []
        for _ in range(5):
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
            explained = cursor.fetchone()[0]
            explained = json.loads(explained) if isinstance(explained, str) else explained
            server_times.append(explained[0]["Planning Time"] + explained[0]["Execution Time"])
    server_ms = Timing(server_times).p50
    with psycopg.connect(database_url) as plain, plain.cursor() as cursor:
        driver_timing, driver_rows = repeat(lambda: fetch(cursor), runs=runs)
    if len(driver_rows) != len(rows):
        raise RuntimeError("The busy-span query returned different rows on two connections.")
    timestamps = sum(isinstance(value, dt.datetime) for value in rows[0]) * len(rows) if rows else 0
    return Floor(sql=sql, selector_queries=selector_queries, rows=len(rows), timestamps=timestamps, django=Timing(floor_samples), driver=driver_timing,
                 server_ms=server_ms, plan=_plan_summary(explained[0]["Plan"]), paired_api=Timing(api_samples),
                 ratios=Timing(ratios))


def _plan_summary(plan: dict) -> str:
    nodes, stack = [], [plan]
    while stack:
        node = stack.pop()
        label = node["Node Type"]
        if node.get("Index Name"):
            label += f" on {node['Index Name']}"
        elif node.get("Relation Name"):
            label += f" on {node['Relation Name']}"
        nodes.append(label)
        stack.extend(reversed(node.get("Plans", [])))
    return " > ".join(nodes)
