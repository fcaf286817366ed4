"""The day board's server time: `/admin/board/` for a day with 150 visits at the large clinic
(12 rooms), through the whole Django stack in process, p50/p95 over 30 requests.

The seeded calendar gives a weekday about 120 visits with gaps no visit fits; the first weekday
after the seeded days is filled with 150 visits placed as the seed places them (physician, room, patient and recovery bays
checked as the exclusion constraints would), on a five-minute pitch so rooms pack back to back;
the ultrasound room takes sympathetic blocks, the exam rooms follow-ups and consultations.

Alone: `python -m bench.run --only board` (recreates the benchmark database, seeds, measures,
and writes the "Day board" section of bench/results.md).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path

from django.core.management import call_command
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.report import replace_section, text_lines
from bench.seed import CLINIC_MIX, PROCEDURE_MIX, SEED, _Day, _Kind
from bench.stats import Timing, repeat
from clinic.models import Location, Patient, ProcedureType, Room, ScheduleBlock
from clinic.models.catalog import ScheduleKind
from scheduling import availability as engine
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import capable_room_ids, day_visits, segments_of
from scheduling.stranded import attention_count

VISITS = 150
RUNS = 30
WARMUP = 3
TARGET_P95_MS = 100.0
PITCH = dt.timedelta(minutes=5)
SECTION = "## Day board"
# The seed's procedures, and the sympathetic block, which the ultrasound room can also take.
FILL_MIX = PROCEDURE_MIX + ["SYMPATHETIC_BLOCK"]


@dataclass(frozen=True)
class BoardFigure:
    day: dt.date
    visits: int
    rooms: int
    added: int  # visits placed on top of the seeded ones to reach VISITS
    timing: Timing  # the times to book kept from an earlier request (as while the day does not change)
    queries: int
    cold: Timing  # the times to book found afresh on every request
    cold_queries: int
    offers: int  # "book here" times the page showed
    page_bytes: int
    load_average: float  # the machine's 1-minute load average after the runs (others' work included)
    cpu: Timing  # the process's own CPU time per request, times to book kept: what waiting for a core hides
    cold_cpu: Timing
    attention: Timing  # the location's needs-attention count read afresh (kept a minute, shared by its boards)
    attention_kept: Timing  # the same once its minute is over, the verdicts of unchanged visits kept

    @property
    def met(self) -> bool:
        return self.timing.p95 <= TARGET_P95_MS

    @property
    def cold_met(self) -> bool:
        return self.cold.p95 <= TARGET_P95_MS


def fill_day(location: Location, day: dt.date, visits: int = VISITS) -> int | None:
    """Add visits to `day` until it has `visits`: how many were added, or None (and nothing
    written) when they do not fit."""
    existing = list(day_visits(location=location, day=day))
    missing = visits - len(existing)
    if missing <= 0:
        return 0
    zone = location.zone
    rng = random.Random(SEED + 1)
    room_capabilities: dict[int, set[int]] = {}
    for room_id, capability_id in Room.objects.filter(location=location, is_active=True).values_list(
            "id", "capabilities"):
        room_capabilities.setdefault(room_id, set())
        if capability_id is not None:
            room_capabilities[room_id].add(capability_id)
    kinds = {procedure_type.code: _Kind(procedure_type, segments_of(procedure_type),
                                        capable_room_ids(procedure_type, room_capabilities))
             for procedure_type in ProcedureType.objects.filter(code__in=FILL_MIX + CLINIC_MIX)}
    calendar = _Day(day, [])
    for visit in existing:
        calendar.physician_busy[visit.physician_id].append((visit.procedure_start, visit.procedure_end))
        calendar.room_busy[visit.room_id].append((visit.room_start, visit.room_end))
        if visit.discharge > visit.procedure_end:
            calendar.recovery.append((visit.procedure_end, visit.discharge))
        calendar.patients.add(visit.patient_id)
    candidates = []
    for block in ScheduleBlock.objects.filter(location=location, weekday=day.weekday()):
        mix = FILL_MIX if block.kind == ScheduleKind.PROCEDURES else CLINIC_MIX
        start = dt.datetime.combine(day, block.start_time, tzinfo=zone)
        closes = dt.datetime.combine(day, block.end_time, tzinfo=zone)
        while True:
            code = rng.choice(mix)
            if start + dt.timedelta(minutes=kinds[code].segments.procedure) > closes:
                break
            candidates.append((block.physician_id, code, start))
            start += PITCH
    rng.shuffle(candidates)
    candidates.sort(key=lambda candidate: candidate[2])
    patient_ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    rng.shuffle(patient_ids)
    patients = (pk for pk in itertools.cycle(patient_ids) if pk not in calendar.patients)
    added = []
    for physician_id, code, start in candidates:
        if len(added) == missing:
            break
        visit = engine.visit_at(start, kinds[code].segments)
        room_id = calendar.place(kinds[code], physician_id, visit)
        if room_id is None:
            continue
        patient_id = next(patients)
        calendar.patients.add(patient_id)
        added.append(Appointment(
            location=location, physician_id=physician_id, room_id=room_id, patient_id=patient_id,
            procedure_type=kinds[code].procedure_type, status=AppointmentStatus.CONFIRMED,
            arrival=visit.arrival, procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
            room_start=visit.room_start, room_end=visit.room_end, notes="bench: board day"))
    if len(added) < missing:
        return None
    Appointment.objects.bulk_create(added)
    return len(added)


def measure(*, location: Location, user, first_day: dt.date, last_day: dt.date) -> BoardFigure:
    """`first_day`..`last_day`: the seeded days. The board's day is the first weekday after
    them that takes 150 visits: the seeded days leave gaps of a few minutes between visits,
    which no further visit fits, so a day filled from empty packs its rooms tighter."""
    # The admin's pages name their static files through the manifest, as in production.
    call_command("collectstatic", interactive=False, verbosity=0)
    for offset in range(1, 8):
        day = last_day + dt.timedelta(days=offset)
        added = fill_day(location, day)
        if added is not None:
            break
    else:
        raise RuntimeError(f"No weekday after {last_day} takes {VISITS} visits.")
    client = Client()
    client.force_login(user)
    path = f"/admin/board/?location={location.pk}&date={day.isoformat()}"

    def ask():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return response

    def forget_the_day():
        """Untimed: the cache emptied, as after a change to the day, but for the location's
        needs-attention count, which every board of the location shares for a minute whatever
        the day (timed on its own below)."""
        cache.clear()
        attention_count(location, now=timezone.now())

    def count_afresh():
        cache.clear()
        return attention_count(location, now=timezone.now())

    # Counted at once: each request resets the connection's query log the counts index into.
    cold = Timing(_afresh_ms(ask, forget_the_day, time.perf_counter, runs=RUNS))
    forget_the_day()
    with CaptureQueriesContext(connection) as captured:
        ask()
    cold_queries = len(captured)
    timing, response = repeat(ask, runs=RUNS, warmup=WARMUP)
    with CaptureQueriesContext(connection) as captured:
        ask()
    queries = len(captured)
    cpu = Timing([_cpu_ms(ask) for _ in range(RUNS)])
    cold_cpu = Timing(_afresh_ms(ask, forget_the_day, time.process_time, runs=RUNS))
    attention, _ = repeat(count_afresh, runs=10, warmup=1)

    def count_again():
        """The count's minute over, nothing changed since: only the count is gone, not the verdicts."""
        cache.delete(f"attention-count:{location.pk}")
        return attention_count(location, now=timezone.now())

    attention_kept, _ = repeat(count_again, runs=10, warmup=1)
    cache.clear()
    page = response.content.decode()
    shown = int(re.search(r"(\d+) visits on", page).group(1))
    return BoardFigure(day=day, visits=shown, rooms=Room.objects.filter(location=location).count(), added=added,
                       timing=timing, queries=queries, cold=cold, cold_queries=cold_queries,
                       offers=page.count('class="offer"'),
                       page_bytes=len(response.content), load_average=os.getloadavg()[0], cpu=cpu,
                       cold_cpu=cold_cpu, attention=attention, attention_kept=attention_kept)


def _afresh_ms(function, prepare, clock, *, runs: int) -> list[float]:
    """`function`'s time on `clock`, `prepare` run (untimed) before each call; warm-up runs first."""
    samples = []
    for run in range(WARMUP + runs):
        prepare()
        started = clock()
        function()
        if run >= WARMUP:
            samples.append((clock() - started) * 1000)
    return samples


def _cpu_ms(function) -> float:
    started = time.process_time()
    function()
    return (time.process_time() - started) * 1000


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def rows(figure: BoardFigure) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, target, met, visits)."""
    return [(
        f"(j) day board, {figure.visits} visits, {figure.rooms} rooms (in process), times to book found afresh",
        f"p50 {_ms(figure.cold.p50)}, p95 {_ms(figure.cold.p95)}, {figure.cold_queries} queries; "
        f"CPU p50 {_ms(figure.cold_cpu.p50)}",
        f"p95 <= {TARGET_P95_MS:.0f} ms", "yes" if figure.cold_met else "**no**", f"{figure.visits}",
    ), (
        "(j) the same, times to book kept (the day unchanged since the last request)",
        f"p50 {_ms(figure.timing.p50)}, p95 {_ms(figure.timing.p95)}, {figure.queries} queries; "
        f"CPU p50 {_ms(figure.cpu.p50)}",
        f"p95 <= {TARGET_P95_MS:.0f} ms", "yes" if figure.met else "**no**", f"{figure.visits}",
    ), (
        "(j) the location's needs-attention count read afresh (at most once a minute, shared by its boards)",
        f"p50 {_ms(figure.attention.p50)}, p95 {_ms(figure.attention.p95)}", "-", "-", "-",
    ), (
        "(j) the same once its minute is over, nothing changed (each unchanged visit's verdict kept)",
        f"p50 {_ms(figure.attention_kept.p50)}, p95 {_ms(figure.attention_kept.p95)}", "-", "-", "-",
    )]


def console(figure: BoardFigure) -> str:
    return "\n".join(text_lines([("figure", "measured", "target", "met", "visits"), *rows(figure)]))


def markdown(figure: BoardFigure) -> str:
    return "\n".join([
        "",
        SECTION,
        "",
        "| figure | measured | target | met | visits |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows(figure)],
        "",
        f"`GET /admin/board/?location=&date={figure.day.isoformat()}` as a signed-in superuser, through the whole "
        f"Django stack in the benchmark's process (Django's test client), DEBUG off, {figure.timing.runs} runs "
        f"after {WARMUP} warm-up runs, first with the cache emptied before each request but for the "
        f"location's needs-attention count (the times to book found afresh, as after any change to the day), "
        f"then as the board's 30-second refresh finds it "
        f"when nothing changed (the times to book kept for a minute under the day's fingerprint). The day is the "
        f"first weekday after the seeded days, filled with "
        f"{figure.added} visits placed as the seed places them, on a five-minute pitch; the page draws every visit's "
        f"segments in the room lanes, the recovery lane in 15-minute steps, the list of visits, and {figure.offers} "
        f"\"book here\" times found by the availability engine (one availability load shared by the "
        f"procedure types offered, the engine walking each type's day once for all its rooms). Its queries do not grow with the visits (tests/test_board.py checks "
        f"10 against 150); the page is {figure.page_bytes / 1024:.0f} KiB. The machine's load average "
        f"after the runs was {figure.load_average:.1f} on {os.cpu_count()} cores (other work shares it), which "
        f"stretches wall-clock times; \"CPU\" is the benchmark process's own CPU time per request (without "
        f"PostgreSQL's), which waiting for a core does not lengthen.",
        "",
        "The needs-attention count in the board's tabs checks every booked visit of the location up to its "
        "booking horizon against the engine's rule (some 5,000 here); it is kept for a minute per location, "
        "whatever the day and however many boards are open, and emptied by the admin's changes of plans. It is "
        "left out of the request times above and timed on its own: a board that finds it expired pays it once "
        "for everyone. The third row empties the whole cache first, so every visit is judged (as after a change "
        "to a block, a room, a physician, a closure or time off); the fourth lets only the count expire, as "
        "every minute: the visits and the clinic's facts are read again, and the verdicts of the visits whose "
        "row and facts did not change are kept (scheduling/stranded.py).",
        "",
        "Where a request's time goes: the day's visits are read as plain values in one query (no model object "
        "per visit), each patient's blood thinners in one more, and the lanes, blocks and rows are written in "
        "Python (scheduling/templatetags/board.py) rather than template language, the list's rows and the "
        "recovery lane's bars included; the times to book share one availability load "
        "(`selectors.availability_requests`) and the engine answers for each room on its own in one walk of "
        "each procedure type's day (`availability.find_slots_by_room`, scheduling/board_offers.py).",
        "",
    ])


def write_section(figure: BoardFigure, path: Path) -> None:
    """Put the board's section into results.md, replacing an earlier one."""
    replace_section(path, SECTION, markdown(figure))
