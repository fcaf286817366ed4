"""(l) A physician's calendar feed at the large clinic: `/feeds/<token>.ics` for the 210 days it
covers (30 back, 180 ahead), through the whole Django stack in process, p50/p95 over 30
requests, its size, and the 304 a polling client gets when nothing changed.

The seed books 60 days ahead and none behind; the physician with the most visits has them
copied 63 days (nine weeks: same weekdays, same wall-clock times) back, and 63 and 126 days
ahead, where no other visit lies, so that the whole window is as full as the seeded weeks.

Alone: `python -m bench.run --only feeds` (recreates the benchmark database, seeds, measures,
and writes the "Calendar feeds" section of bench/results.md).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.report import replace_section, text_lines
from bench.stats import Timing, repeat
from clinic.models import Location, Physician
from scheduling.feeds.selectors import DAYS_AHEAD, DAYS_BACK
from scheduling.models import Appointment
from scheduling.services.feeds import calendar_feed_open

RUNS = 30
WARMUP = 3
TARGET_P95_MS = 250.0
SECTION = "## Calendar feeds"
SHIFTS = (-63, 63, 126)
_COPIED = ["location_id", "physician_id", "room_id", "patient_id", "procedure_type_id", "status", "arrival",
           "procedure_start", "procedure_end", "discharge", "room_start", "room_end"]
_INSTANTS = ["arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end"]


@dataclass(frozen=True)
class FeedFigure:
    physician: str
    events: int
    first_day: dt.date
    last_day: dt.date
    timing: Timing  # written afresh on every request (the cache emptied before each)
    queries: int
    bytes: int
    gzip_bytes: int
    kept: Timing  # the body kept under its ETag, asked without If-None-Match (as Google polls)
    not_modified: Timing
    not_modified_queries: int
    load_average: float

    @property
    def met(self) -> bool:
        return self.timing.p95 <= TARGET_P95_MS


def fill_window(location: Location, physician_id: int, today: dt.date) -> int:
    """Copy the physician's seeded visits nine weeks back and nine and eighteen weeks ahead,
    within the feed's window; the number of visits added."""
    zone = location.zone
    first = dt.datetime.combine(today - dt.timedelta(days=DAYS_BACK), dt.time(), tzinfo=zone)
    last = dt.datetime.combine(today + dt.timedelta(days=DAYS_AHEAD + 1), dt.time(), tzinfo=zone)
    seeded = list(Appointment.objects.filter(physician_id=physician_id).values(*_COPIED))
    copies = []
    for days in SHIFTS:
        for visit in seeded:
            # Wall-clock arithmetic in the clinic's zone: a 09:00 visit stays at 09:00 across DST.
            moved = {name: (visit[name].astimezone(zone) + dt.timedelta(days=days)) for name in _INSTANTS}
            if first <= moved["procedure_start"] < last:
                copies.append(Appointment(**{**visit, **moved}))
    Appointment.objects.bulk_create(copies, batch_size=1000)
    return len(copies)


def measure(*, location: Location) -> FeedFigure:
    today = timezone.localdate()
    busiest = (Appointment.objects.values("physician_id").annotate(visits=Count("pk")).order_by("-visits", "physician_id")
               .first())
    fill_window(location, busiest["physician_id"], today)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scheduling_appointment")
    physician = Physician.objects.select_related("user").get(pk=busiest["physician_id"])
    feed = calendar_feed_open(physician=physician)
    path = f"/feeds/{feed.token}.ics"
    client = Client()

    def ask(**headers):
        response = client.get(path, **headers)
        if response.status_code not in (200, 304):
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    def afresh():
        cache.clear()
        started = time.perf_counter()
        answer = ask()
        return (time.perf_counter() - started) * 1000, answer

    for _ in range(WARMUP):
        afresh()
    samples = [afresh()[0] for _ in range(RUNS)]
    timing = Timing(samples)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = ask()
    queries = len(captured)
    kept, _ = repeat(ask, runs=RUNS, warmup=WARMUP)
    compressed = ask(HTTP_ACCEPT_ENCODING="gzip")
    etag = response["ETag"]
    not_modified, answer = repeat(lambda: ask(HTTP_IF_NONE_MATCH=etag), runs=RUNS, warmup=WARMUP)
    if answer.status_code != 304:
        raise RuntimeError(f"An unchanged feed answered {answer.status_code} to its own ETag.")
    with CaptureQueriesContext(connection) as captured:
        ask(HTTP_IF_NONE_MATCH=etag)
    body = response.content
    return FeedFigure(physician=physician.name, events=body.count(b"BEGIN:VEVENT"),
                      first_day=today - dt.timedelta(days=DAYS_BACK), last_day=today + dt.timedelta(days=DAYS_AHEAD),
                      timing=timing, queries=queries, bytes=len(body), gzip_bytes=len(compressed.content),
                      kept=kept, not_modified=not_modified,
                      not_modified_queries=len(captured), load_average=os.getloadavg()[0])


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def rows(figure: FeedFigure) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, target, met, size)."""
    return [(
        f"(l) a physician's feed, {figure.events} visits over 210 days, written afresh (in process)",
        f"p50 {_ms(figure.timing.p50)}, p95 {_ms(figure.timing.p95)}, {figure.queries} queries",
        f"p95 <= {TARGET_P95_MS:.0f} ms", "yes" if figure.met else "**no**",
        f"{figure.bytes:,} bytes ({figure.bytes / max(figure.events, 1):.0f} per visit); "
        f"gzip {figure.gzip_bytes:,}",
    ), (
        "(l) the same, unchanged, kept under its ETag, asked without If-None-Match",
        f"p50 {_ms(figure.kept.p50)}, p95 {_ms(figure.kept.p95)}", "-", "-", "as above",
    ), (
        "(l) the same, unchanged, asked with If-None-Match (304)",
        f"p50 {_ms(figure.not_modified.p50)}, p95 {_ms(figure.not_modified.p95)}, "
        f"{figure.not_modified_queries} queries", "-", "-", "0 bytes",
    )]


def console(figure: FeedFigure) -> str:
    return "\n".join(text_lines([("figure", "measured", "target", "met", "size"), *rows(figure)]))


def markdown(figure: FeedFigure) -> str:
    return "\n".join([
        "",
        SECTION,
        "",
        "| figure | measured | target | met | size |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows(figure)],
        "",
        f"`GET /feeds/<token>.ics` of {figure.physician} (the physician with the most seeded visits), without "
        f"signing in (the token is the key), through the whole Django stack in the benchmark's process (Django's "
        f"test client), DEBUG off, {figure.timing.runs} runs after {WARMUP} warm-up runs, first with the cache "
        f"emptied before each request (the body written afresh, as after any change to the feed), then as an "
        f"unchanged feed is asked for again without If-None-Match (the body kept under its ETag for the "
        f"15-minute refresh interval), then with If-None-Match. The window is "
        f"{figure.first_day} to {figure.last_day}; the seed books 60 days ahead, so the physician's seeded "
        f"visits are copied nine weeks back and nine and eighteen weeks ahead to fill it. Each request reads "
        f"the feed, two aggregates for its ETag and Last-Modified, and the visits as plain values in one query; "
        f"icalendar writes the header and the VTIMEZONE, scheduling/feeds/lines.py the events. A calendar client polling an unchanged feed with If-None-Match gets a "
        f"304 after the aggregates, without the visits being read. The machine's load average after the runs "
        f"was {figure.load_average:.1f} on {os.cpu_count()} cores (other work shares it).",
        "",
    ])


def write_section(figure: FeedFigure, path: Path) -> None:
    """Put the feeds' section into results.md, replacing an earlier one."""
    replace_section(path, SECTION, markdown(figure))
