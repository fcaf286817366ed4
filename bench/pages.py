"""Figures (f), (g), (h): the public booking pages with the large clinic.

(f) The week picker, `/book/times/`, for a new-patient consultation (CONSULT_NEW), every week
    of the booking horizon in turn: "first available" (the start page's link, no doctor), and
    one request in three for one doctor. Server time is the time Django's test client takes to
    produce the whole response in this process (middleware, sessions, the view's searches,
    template rendering); the same requests are then timed over HTTP against gunicorn.
(g) What a browser downloads for a first view of `/book/`: the HTML and every subresource it
    references (stylesheets, scripts, images, fonts, CSS url()s), fetched from gunicorn.
(h) The picker's week page: the whole page, and the week alone that its script swaps in.

Rate limits are off (RATELIMIT_ENABLE=0, bench/environment.py): one client asks hundreds of
times a minute, which a patient never does.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.utils import timezone

from bench.page_bytes import BROWSER_HEADERS, FirstView, Subresources, Transfer, fetch, first_view
from bench.server import Gunicorn
from bench.stats import ProfileLine, Timing, profile
from clinic.models import Location, Physician, ProcedureType, ScheduleBlock
from clinic.models.catalog import ScheduleKind
from scheduling.models import Appointment

VISIT = "CONSULT_NEW"
PICKER_RUNS = 240  # in process; every third for one doctor
HTTP_RUNS = 60
WARMUP = 6
PROFILE_RUNS = 20
ONE_DOCTOR_EVERY = 3
START_PATH = "/book/"
PARTIAL_HEADER = {"X-Interval-Partial": "week"}


@dataclass(frozen=True)
class PickerRequest:
    path: str
    monday: dt.date
    physician_id: int | None


@dataclass(frozen=True)
class PickerFigure:
    """One kind of picker request, timed in process over the horizon's weeks."""

    label: str
    timing: Timing
    queries: int  # of one request (the busiest week of the kind)
    times_shown: list[int]  # buttons on each timed page
    page_bytes: list[int]
    empty: list[bool]  # the week had no free time: the page offers the next free times instead

    @property
    def weeks(self) -> int:
        return len(self.times_shown)

    @property
    def empty_timing(self) -> Timing:
        return Timing([ms for ms, empty in zip(self.timing.samples, self.empty) if empty])

    @property
    def other_timing(self) -> Timing:
        return Timing([ms for ms, empty in zip(self.timing.samples, self.empty) if not empty])


@dataclass(frozen=True)
class NextFree:
    """The search an empty week runs for "the next free times", asked for `limit` slots."""

    limit: int | None  # None: the whole rest of the horizon in one load
    ms: float  # median of 5
    weeks_loaded: int  # availability_request calls: one per week searched
    queries: int


@dataclass(frozen=True)
class Slowest:
    """The slowest kind of picker request, asked again on its own."""

    path: str
    ms: float  # median of 5
    queries: int
    weeks_loaded: int  # availability_request calls (reads of the appointments table)
    empty: bool
    profile: list[ProfileLine]  # the project's functions, with callees, per request
    next_free: list[NextFree]  # when `empty`: the next-free search as the page asks it, for what it shows, unlimited


@dataclass(frozen=True)
class Calendar:
    """The clinic side of the seeded calendar: what a consultation can be booked into."""

    self_bookable: list[str]
    visit_minutes: int  # the visit's own time, which a free gap must hold
    physicians: int  # credentialed for the visit, with clinic blocks at the location
    block_hours: float  # clinic-block hours over the seeded days
    booked_hours: float  # clinic visits' physician time over the same days
    appointments: int  # clinic visits in the seeded days
    horizon_days: int
    seeded_days: int


@dataclass
class PageFigures:
    calendar: Calendar
    first_available: PickerFigure
    one_doctor: PickerFigure
    profile: list[ProfileLine]
    profile_path: str
    split: dict[str, float]  # median ms of the picker's parts, busiest first-available week
    slowest: Slowest
    http_first_available: Timing | None = None
    http_one_doctor: Timing | None = None
    server: str = ""
    first_view: FirstView | None = None
    week_page: Transfer | None = None
    week_partial: Transfer | None = None
    week_times_shown: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def all_requests(self) -> Timing:
        return Timing(self.first_available.timing.samples + self.one_doctor.timing.samples)


# ---- The seeded calendar ------------------------------------------------------------------------

def _bookable_physicians(procedure_type: ProcedureType, location: Location) -> list[int]:
    return list(Physician.objects.filter(
        is_active=True, procedure_types=procedure_type, schedule_blocks__location=location,
        schedule_blocks__kind=procedure_type.schedule_kind,
    ).distinct().order_by("pk").values_list("pk", flat=True))


def _calendar(procedure_type: ProcedureType, location: Location, first_day: dt.date, last_day: dt.date) -> Calendar:
    blocks = list(ScheduleBlock.objects.filter(location=location, kind=ScheduleKind.CLINIC))
    block_minutes = 0
    day = first_day
    while day <= last_day:
        for block in blocks:
            if block.weekday == day.weekday() and block.valid_from <= day and not (
                    block.valid_until and block.valid_until < day):
                block_minutes += (dt.datetime.combine(day, block.end_time)
                                  - dt.datetime.combine(day, block.start_time)).total_seconds() / 60
        day += dt.timedelta(days=1)
    zone = location.zone
    visits = Appointment.objects.filter(
        location=location, procedure_type__schedule_kind=ScheduleKind.CLINIC,
        procedure_start__gte=dt.datetime.combine(first_day, dt.time(0), tzinfo=zone),
        procedure_start__lt=dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
    ).values_list("procedure_start", "procedure_end")
    booked_minutes = sum((end - start).total_seconds() / 60 for start, end in visits)
    return Calendar(
        self_bookable=list(ProcedureType.objects.filter(self_bookable=True, is_active=True)
                           .order_by("code").values_list("code", flat=True)),
        visit_minutes=procedure_type.procedure_minutes,
        physicians=len(_bookable_physicians(procedure_type, location)),
        block_hours=block_minutes / 60, booked_hours=booked_minutes / 60, appointments=len(visits),
        horizon_days=location.booking_horizon_days, seeded_days=(last_day - first_day).days + 1,
    )


# ---- (f) the picker, in process -----------------------------------------------------------------

def picker_requests(*, location: Location, procedure_type: ProcedureType, today: dt.date,
                    runs: int) -> list[PickerRequest]:
    """Every week of the horizon in turn; one request in ONE_DOCTOR_EVERY for one doctor, the doctors in turn."""
    this_monday = today - dt.timedelta(days=today.weekday())
    last_monday = today + dt.timedelta(days=location.booking_horizon_days)
    last_monday -= dt.timedelta(days=last_monday.weekday())
    mondays = [this_monday + dt.timedelta(weeks=week) for week in range((last_monday - this_monday).days // 7 + 1)]
    physicians = _bookable_physicians(procedure_type, location)
    if not physicians:
        raise RuntimeError(f"No physician has {procedure_type.code} and clinic blocks at {location}.")
    requests = []
    for index in range(runs):
        monday = mondays[index % len(mondays)]
        if index % ONE_DOCTOR_EVERY == ONE_DOCTOR_EVERY - 1:
            physician_id = physicians[(index // ONE_DOCTOR_EVERY) % len(physicians)]
            params = {"visit": procedure_type.code, "location": location.pk, "physician": physician_id,
                      "week": monday.isoformat()}
        else:
            physician_id, params = None, {"visit": procedure_type.code, "week": monday.isoformat()}
        requests.append(PickerRequest("/book/times/?" + urlencode(params), monday, physician_id))
    return requests


def _times_shown(body: bytes) -> int:
    return body.count(b'name="choice"')


def _empty_week(body: bytes) -> bool:
    # pages/_week.html lays out the days only when the week has a free time.
    return b'class="days"' not in body


def _ask(client: Client, path: str):
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
    return response


def _figure(label: str, client: Client, requests: list[PickerRequest], samples: list[float],
            bodies: list[bytes]) -> PickerFigure:
    busiest = requests[max(range(len(bodies)), key=lambda index: _times_shown(bodies[index]))]
    queries, _ = _counted(lambda: _ask(client, busiest.path))
    return PickerFigure(label=label, timing=Timing(samples), queries=queries,
                        times_shown=[_times_shown(body) for body in bodies],
                        page_bytes=[len(body) for body in bodies], empty=[_empty_week(body) for body in bodies])


def _median_ms(function, runs: int = 5) -> float:
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _counted(function) -> tuple[int, int]:
    """How many queries `function` runs, and how many of them read the appointments table (one
    per `availability_request`)."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        function()
    return len(statements), sum(1 for sql in statements if 'FROM "scheduling_appointment"' in sql)


def _next_free(request: PickerRequest, location: Location, procedure_type: ProcedureType) -> list[NextFree]:
    """The empty week's search for the next free times (pages/picker.py `week_of`), as the page
    asks it (NEXT_AVAILABLE * 4 slots, for the doctors' duplicates at one time) and asked for the
    NEXT_AVAILABLE it shows."""
    from scheduling.pages.picker import NEXT_AVAILABLE, Search

    search = Search(procedure_type=procedure_type, location=location,
                    physician=Physician.objects.filter(pk=request.physician_id).first())
    out = []
    for limit in (NEXT_AVAILABLE * 4, NEXT_AVAILABLE, None):
        def ask():
            now = timezone.now()
            first, last = search.window(now)
            return search.slots(max(request.monday + dt.timedelta(days=7), first), last, now, limit=limit)

        ms = _median_ms(ask)
        queries, reads = _counted(ask)
        out.append(NextFree(limit=limit, ms=ms, weeks_loaded=reads, queries=queries))
    return out


def _slowest(client: Client, location: Location, procedure_type: ProcedureType,
             timed: list[tuple[float, PickerRequest, bytes]]) -> Slowest:
    """Ask the five slowest timed requests again; profile the one that stays slowest."""
    candidates = [(request, body) for _, request, body in sorted(timed, key=lambda item: -item[0])[:5]]
    ranked = sorted(((_median_ms(lambda: _ask(client, request.path), runs=3), request, body)
                     for request, body in candidates), key=lambda item: -item[0])
    _, request, body = ranked[0]
    ms = _median_ms(lambda: _ask(client, request.path))
    queries, reads = _counted(lambda: _ask(client, request.path))
    lines = profile(lambda: _ask(client, request.path), runs=5, top=10, project_only=True)
    empty = _empty_week(body)
    return Slowest(path=request.path, ms=ms, queries=queries, weeks_loaded=reads,
                   empty=empty, profile=lines,
                   next_free=_next_free(request, location, procedure_type) if empty and request.physician_id else [])


def _split(client: Client, location: Location, procedure_type: ProcedureType, monday: dt.date,
           path: str, runs: int = 15) -> dict[str, float]:
    """Median ms of the picker's parts for one first-available week: the whole request, the
    week's search (`week_of`: its queries and the engine) and rendering the page from it."""
    from django.test import RequestFactory
    from django.urls import reverse

    from scheduling.pages.common import render_local
    from scheduling.pages.picker import Search, parse_week, week_of

    physicians = list(Physician.objects.filter(pk__in=_bookable_physicians(procedure_type, location))
                      .select_related("user").order_by("user__last_name", "user__first_name"))
    request = RequestFactory().get(path)
    request.session = {}
    parts: dict[str, list[float]] = {"request": [], "search": [], "render": []}
    for round_ in range(runs + 2):  # the first two warm up
        started = time.perf_counter()
        _ask(client, path)
        request_ms = (time.perf_counter() - started) * 1000
        now = timezone.now()
        started = time.perf_counter()
        search = Search(procedure_type=procedure_type, location=location)
        week = week_of(search, parse_week(monday.isoformat(), search, now), now)
        search_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        render_local(request, "pages/times.html", {
            "week": week, "search": search, "locations": [location], "physicians": physicians,
            "hold_url": reverse("book-hold"), "picker_url": reverse("book-times"), "visit_code": procedure_type.code,
        }, location)
        render_ms = (time.perf_counter() - started) * 1000
        if round_ >= 2:
            parts["request"].append(request_ms)
            parts["search"].append(search_ms)
            parts["render"].append(render_ms)
    return {name: statistics.median(values) for name, values in parts.items()}


def measure_in_process(*, location: Location, today: dt.date, first_day: dt.date, last_day: dt.date,
                       runs: int = PICKER_RUNS) -> PageFigures:
    """(f) in process. `first_day`..`last_day`: the seeded days, for the calendar's description."""
    procedure_type = ProcedureType.objects.get(code=VISIT)
    requests = picker_requests(location=location, procedure_type=procedure_type, today=today, runs=runs)
    client = Client()
    for request in requests[:WARMUP]:
        _ask(client, request.path)
    timed: dict[bool, tuple[list[PickerRequest], list[float], list[bytes]]] = {False: ([], [], []), True: ([], [], [])}
    for request in requests:
        started = time.perf_counter()
        response = _ask(client, request.path)
        elapsed = (time.perf_counter() - started) * 1000
        kept_requests, samples, bodies = timed[request.physician_id is not None]
        kept_requests.append(request)
        samples.append(elapsed)
        bodies.append(response.content)
    first_available = _figure("first available", client, *timed[False])
    one_doctor = _figure("one doctor", client, *timed[True])
    # Profile and split the heaviest first-available week: the one that showed the most times.
    first_requests, _, first_bodies = timed[False]
    heaviest = first_requests[max(range(len(first_bodies)), key=lambda index: _times_shown(first_bodies[index]))]
    _ask(client, heaviest.path)
    lines = profile(lambda: _ask(client, heaviest.path), runs=PROFILE_RUNS, top=12)
    split = _split(client, location, procedure_type, heaviest.monday, heaviest.path)
    every = [item for kept_requests, samples, bodies in timed.values()
             for item in zip(samples, kept_requests, bodies)]
    return PageFigures(calendar=_calendar(procedure_type, location, first_day, last_day),
                       first_available=first_available, one_doctor=one_doctor, profile=lines,
                       profile_path=heaviest.path, split=split,
                       slowest=_slowest(client, location, procedure_type, every))


# ---- Over HTTP: (f) again, (g), (h) ------------------------------------------------------------

def _time_over_http(server: Gunicorn, requests: list[PickerRequest]) -> Timing:
    http_connection = server.connection()  # reopened by http.client whenever a sync worker closes it
    samples = []
    try:
        for index, request in enumerate(requests):
            started = time.perf_counter()
            http_connection.request("GET", request.path, headers=BROWSER_HEADERS)
            response = http_connection.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"GET {request.path} answered {response.status}: {body[:300]!r}")
            if index >= WARMUP:
                samples.append(elapsed)
    finally:
        http_connection.close()
    return Timing(samples)


def measure_over_http(figures: PageFigures, *, server: Gunicorn, location: Location, today: dt.date,
                      runs: int = HTTP_RUNS) -> None:
    """(f) over HTTP, (g) and (h), filled into `figures`."""
    procedure_type = ProcedureType.objects.get(code=VISIT)
    requests = picker_requests(location=location, procedure_type=procedure_type, today=today,
                               runs=WARMUP + runs * ONE_DOCTOR_EVERY // (ONE_DOCTOR_EVERY - 1))
    timing = _time_over_http(server, requests)
    kinds = [request.physician_id is not None for request in requests[WARMUP:]]
    figures.http_first_available = Timing([ms for ms, one in zip(timing.samples, kinds) if not one])
    figures.http_one_doctor = Timing([ms for ms, one in zip(timing.samples, kinds) if one])
    figures.server = server.config.describe()
    figures.first_view = first_view(server, START_PATH)
    # (h): next week, first available, as the start page's link and then "Later week" lead to it.
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=1)
    week_path = "/book/times/?" + urlencode({"visit": VISIT, "location": location.pk, "week": monday.isoformat()})
    figures.week_page, week_html = fetch(server, week_path)
    figures.week_partial, _ = fetch(server, week_path, {**BROWSER_HEADERS, **PARTIAL_HEADER})
    for transfer in (figures.week_page, figures.week_partial):
        if transfer.status != 200:
            figures.problems.append(f"GET {transfer.path} answered {transfer.status}.")
    figures.week_times_shown = _times_shown(week_html)
    external = Subresources()
    external.feed(week_html.decode("utf-8", "replace"))
    fetched = [url for url in external.urls if not url.startswith("data:")]  # inline, nothing to download
    if fetched:
        figures.problems.append(f"The week page references subresources: {fetched[:5]}.")
    if figures.first_view.external:
        figures.problems.append(f"{START_PATH} references other hosts: {figures.first_view.external[:5]}.")


