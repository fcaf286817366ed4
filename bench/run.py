"""`make bench`: seed a large clinic in its own PostgreSQL database, measure, print the figures.

The benchmark measures through public functions and URLs only (the API, /admin/board/,
/book/times/, `find_slots`, `available_slots`, `dispatch_due` and the dispatch task), so it
measures whatever the code does when run. Missing a target is printed, not a failure; the exit
status is 1 when something is broken (a booking answered other than 201 or 409, a page not 200).
Figures are copied by hand into bench/results.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from bench import environment

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "bench" / "output"  # logs and pytest-benchmark's JSON; ignored by git
BROKER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
LOCATIONS = 10
BOOKINGS = 1_500  # planned per load run; a run ends when they are sent or after load.TIME_LIMIT
REMINDERS = 5_000
WARM_UP = 64  # bookings sent before the load is measured


def yardstick() -> float:
    """CPU ms of a fixed pure-Python loop: this machine's speed at the moment (a shared machine's
    cores run at different speeds from one minute to the next), to compare runs by."""
    started, total = time.process_time(), 0
    for number in range(3_000_000):
        total += number * number % 7
    return (time.process_time() - started) * 1000


def line(name: str, measured: str, target: str = "", met: bool | None = None) -> None:
    verdict = "" if met is None else ("  met" if met else "  MISSED")
    print(f"{name:<58} {measured:<44} {target}{verdict}", flush=True)


def engine_benchmarks(settings_environment: dict[str, str]) -> None:
    """pytest-benchmark in a process of its own, against the seeded database. Timed in CPU time:
    for this single-threaded code it equals wall-clock time on a quiet machine, and unlike wall-clock
    time it does not grow while other work on a shared machine holds the cores."""
    report = OUTPUT / "engine.json"
    subprocess.run([sys.executable, "-m", "pytest", "bench/test_engine.py", "-q", "-p", "no:cacheprovider",
                    "--benchmark-max-time=1", "--benchmark-min-rounds=15",
                    "--benchmark-timer=time.process_time", f"--benchmark-json={report}"],
                   cwd=ROOT, env={**os.environ, **settings_environment}, check=True, stdout=subprocess.DEVNULL)
    for each in json.loads(report.read_text())["benchmarks"]:
        stats = each["stats"]
        name = {"test_find_slots_plain_month[30-2640]": ("find_slots, plain month, 30 days (2,640 slots)", 10),
                "test_find_slots_plain_month[90-7680]": ("find_slots, plain months, 90 days (7,680 slots)", 25),
                "test_available_slots_large_clinic_30_days": ("available_slots, large clinic, ESI_IL, 30 days", None),
                }[each["name"]]
        line(name[0], f"CPU median {stats['median'] * 1000:.1f} ms, min {stats['min'] * 1000:.1f} ms",
             f"median <= {name[1]} ms" if name[1] else "", stats["median"] * 1000 <= name[1] if name[1] else None)


class Wsgi:
    """Requests handed straight to Django's WSGI handler, as gunicorn hands them: the test
    client's own instrumentation (signals connected for each request, the context it keeps for
    assertions) is no part of what a request costs in production."""

    def __init__(self):
        from django.core.handlers.wsgi import WSGIHandler
        from django.test import RequestFactory

        self.handler, self.factory = WSGIHandler(), RequestFactory()

    def get(self, path: str, **headers) -> tuple[int, bytes]:
        status = []
        response = self.handler(self.factory.get(path, **headers).environ,
                                lambda line, headers, exc_info=None: status.append(line))
        try:
            body = b"".join(response)
        finally:
            response.close()  # request_finished, as a server sends it
        return int(status[0].split()[0]), body


def availability(client: Wsgi, token: str, location, first_day: dt.date) -> None:
    """The API's 30-day availability, its SQL floor run by run, and an empty day's fixed cost.

    Twice: over the seeded month, whose days are full for an epidural (every candidate is tried
    and none fits), and over 30 days from the seeded month's last 15, which finds thousands."""
    from django.db import connection

    from bench.stats import Timed, Timing, repeat
    from clinic.models import ScheduleBlock
    from scheduling.models import HOLDING_STATUSES
    from scheduling.nearby import near_locations, near_physicians
    from scheduling.selectors import window_bounds

    physicians = list(ScheduleBlock.objects.filter(location=location).values_list("physician_id", flat=True).distinct())

    def ask(url: str) -> bytes:
        status, body = client.get(url, HTTP_AUTHORIZATION=f"Token {token}")
        assert status == 200, body[:300]
        return body

    def measure(first: dt.date, label: str) -> None:
        last = first + dt.timedelta(days=29)
        path = f"/api/v1/availability/?procedure_type=ESI_IL&location={location.pk}&from={first}&to={last}"
        window_start, window_end = window_bounds(location, first, last)
        at_location, location_params = near_locations([location.pk], window_start, window_end)
        of_physicians, physician_params = near_physicians(physicians, window_start, window_end)

        def floor():
            """The window's holding visits as the search finds them (`scheduling.nearby`), nothing more."""
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT physician_id, room_id, patient_id, EXTRACT(EPOCH FROM arrival)::bigint,"
                    " EXTRACT(EPOCH FROM procedure_start)::bigint, EXTRACT(EPOCH FROM procedure_end)::bigint,"
                    " EXTRACT(EPOCH FROM discharge)::bigint, EXTRACT(EPOCH FROM room_start)::bigint,"
                    f" EXTRACT(EPOCH FROM room_end)::bigint FROM scheduling_appointment WHERE ({at_location} OR"
                    f" {of_physicians}) AND arrival < %s AND discharge > %s AND status = ANY(%s)",
                    [*location_params, *physician_params, window_end, window_start,
                     [str(status) for status in HOLDING_STATUSES]])
                return cursor.fetchall()

        request, sql = [], []
        for run in range(33):  # paired run by run: the machine is shared, so each ratio compares one moment
            request.append(repeat(lambda: ask(path), runs=1, warmup=0))
            sql.append(repeat(floor, runs=1, warmup=0))
        request, sql = request[3:], sql[3:]
        api = Timed.joined(request)
        ratio = Timing([a.wall.samples[0] / b.wall.samples[0] for a, b in zip(request, sql)])
        slots = json.loads(ask(path))["count"]
        line(f"availability, ESI_IL, 30 days, all physicians (API), {label}", f"{api}, {slots:,} slots",
             "p95 <= 30 ms", api.wall.p95 <= 30)
        line("  SQL floor: the window's busy spans, raw SQL", f"p50 {Timed.joined(sql).wall.p50:.1f} ms "
             f"({len(floor()):,} rows)")
        line("  availability / floor, run by run", f"median {ratio.p50:.1f}x, p95 {ratio.p95:.1f}x", "<= 3x",
             ratio.p50 <= 3)

    measure(first_day, "seeded month")
    measure(first_day + dt.timedelta(days=45), "half seeded, half open")
    sunday = first_day + dt.timedelta(days=6 - first_day.weekday())
    empty = repeat(lambda: ask(f"/api/v1/availability/?procedure_type=ESI_IL&location={location.pk}"
                               f"&from={sunday}&to={sunday}"), runs=30)
    line("availability of an empty day (fixed cost)", f"{empty}", "p50 <= 5 ms", empty.wall.p50 <= 5)


def pages(client, location, board_day: dt.date) -> None:
    """The day board (times to book found afresh, and kept) and the patient week picker."""
    from django.core.cache import cache
    from django.utils import timezone

    from bench.stats import Timed, repeat
    from clinic.models import ScheduleBlock
    from scheduling.stranded import attention_count

    board = f"/admin/board/?location={location.pk}&date={board_day}"

    def get(path: str) -> None:
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"

    def forget_the_day():
        """The cache emptied as after a change to the day, but for the location's needs-attention
        count, which every board of the location shares for a minute whatever the day."""
        cache.clear()
        attention_count(location, now=timezone.now())

    afresh = repeat(lambda: get(board), runs=20, prepare=forget_the_day)
    kept = repeat(lambda: get(board), runs=20)
    line("day board, 150 visits, 12 rooms, times to book found afresh", f"{afresh}", "p95 <= 100 ms",
         afresh.wall.p95 <= 100)
    line("day board, times to book kept", f"{kept}", "p95 <= 100 ms", kept.wall.p95 <= 100)
    # Every week of the horizon in turn; one request in three names a doctor who sees new patients.
    doctors = sorted(set(ScheduleBlock.objects.filter(location=location, kind="clinic")
                         .values_list("physician_id", flat=True)))
    monday = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    paths = [f"/book/times/?visit=CONSULT_NEW&week={monday + dt.timedelta(weeks=week % 13)}"
             + (f"&location={location.pk}&physician={doctors[week % len(doctors)]}" if week % 3 == 2 else "")
             for week in range(60)]
    picker = Timed.joined([repeat(lambda path=path: get(path), runs=1, warmup=0) for path in paths][6:])
    line("patient week picker, /book/times/, 54 weeks", f"{picker}", "p95 <= 100 ms", picker.wall.p95 <= 100)


def statements_per_booking(client, token: str, payload: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/appointments/", payload, content_type="application/json",
                               HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 201, response.content[:300]
    control = sum(query["sql"] in ("BEGIN", "COMMIT") for query in captured.captured_queries)
    statements = len(captured) - control
    line("SQL statements per booking (API)", f"{statements} (and {control} BEGIN/COMMIT)", "<= 12", statements <= 12)


def reminders(database_url: str) -> None:
    """Reminders/s through `dispatch_due` (what the dispatch task runs, claim tokens and lease
    renewal per message included), then a Celery worker's memory across 10,000 reminders, after 5,000 to warm it up."""
    from django.conf import settings
    from django.utils import timezone

    from bench.load import children, peak_rss_mb
    from clinic.models import Patient
    from scheduling.models import Appointment, Reminder, ReminderStatus
    from scheduling.reminders.dispatch import dispatch_due

    appointments = list(Appointment.objects.values_list("pk", flat=True)[:500])
    # Texts need the patient's consent (the seeded patients gave it for email only).
    Patient.objects.filter(appointments__in=appointments).update(sms_consent=True)

    def due(count: int) -> None:
        now = timezone.now()
        Reminder.objects.bulk_create([
            Reminder(appointment_id=appointments[index % len(appointments)], kind="arrival", channel="sms",
                     due_at=now, next_attempt_at=now, idempotency_key=f"bench:{uuid.uuid4().hex}")
            for index in range(count)], batch_size=1000)

    settings.SMS_TRANSPORT = "null"
    Reminder.objects.all().delete()
    due(REMINDERS)
    started = time.perf_counter()
    sent = dispatch_due(budget=dt.timedelta(minutes=5))
    rate = sent / (time.perf_counter() - started)
    line("reminders sent per second (dispatch_due, null transport)", f"{rate:,.0f}/s ({sent:,})", ">= 1,000/s",
         rate >= 1000)

    Reminder.objects.all().delete()
    log = open(OUTPUT / "worker.log", "w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "--app", "clinic", "worker", "--beat", "--schedule",
         str(OUTPUT / "beat-schedule"), "--concurrency", "2", "--loglevel", "WARNING", "--without-mingle",
         "--without-gossip"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "DATABASE_URL": database_url, "CELERY_BROKER_URL": BROKER, "SMS_TRANSPORT": "null",
             "REMINDER_DISPATCH_SECONDS": "10"})
    peaks = []
    try:
        # A warm-up first, as for the bookings: a new process's allocator grows once, by up to
        # 2.5 MB, in its first or its second burst of sending (it held steady over 20,000 more).
        for _ in range(3):
            due(REMINDERS)
            deadline = time.monotonic() + 90
            waiting = Reminder.objects.filter(status__in=[ReminderStatus.PENDING, ReminderStatus.SENDING])
            while waiting.exists() and time.monotonic() < deadline:
                time.sleep(0.5)
            # The pool's processes send (the webhook dispatch polls in the other); the largest.
            peaks.append(max(peak_rss_mb(pid) for pid in children(worker.pid)))
        peaks = peaks[1:]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        log.close()
    sent = Reminder.objects.filter(status=ReminderStatus.SENT).count()
    line("Celery worker process peak RSS, 5,000 / 10,000 reminders", f"{peaks[0]:.0f} MB / {peaks[1]:.0f} MB "
         f"({sent:,} sent, 5,000 of them to warm up)", "no growth", peaks[1] - peaks[0] < 2 and sent == 3 * REMINDERS)


def load(settings_environment: dict[str, str], token: str, locations) -> bool:
    from bench import load
    from clinic.models import ProcedureType

    esi = ProcedureType.objects.get(code="ESI_IL")
    healthy = True
    with load.Gunicorn(settings_environment) as server:
        # Each worker's first requests import, connect and read the catalog: not what a booking costs.
        warm = load.run(server, token, load.plan(locations=locations[-1:], procedure_type=esi, count=WARM_UP))
        healthy &= not warm.failed
        runs = [("1 location", locations[:1], False), (f"{len(locations)} locations", locations, False),
                ("1 location, same times together (one day's lock)", locations[:1], True)]
        for label, where, together in runs:
            figure = load.run(server, token, load.plan(locations=where, procedure_type=esi, count=BOOKINGS,
                                                       same_times_together=together))
            line(f"bookings/s, 16 clients, {label}", f"{figure.per_second:.0f}/s ({figure.booked:,} booked, "
                 f"{figure.refused} refused, {figure.seconds:.1f} s)", ">= 200/s", figure.per_second >= 200)
            line("  latency", f"p50 {figure.latency.p50:.0f} ms, p99 {figure.latency.p99:.0f} ms", "p99 <= 200 ms",
                 figure.latency.p99 <= 200)
            line("  per booking: web CPU + time in PostgreSQL statements", f"{figure.web_cpu_ms:.1f} + "
                 f"{figure.database_ms:.1f} ms", "<= 10 ms", figure.web_cpu_ms + figure.database_ms <= 10)
            line("  peak RSS of a web worker", f"{figure.worker_peak_rss_mb:.0f} MB", "<= 150 MB",
                 figure.worker_peak_rss_mb <= 150)
            for failure in figure.failed[:5]:
                print(f"  unexpected answer: {failure}")
            healthy &= not figure.failed
    return healthy


def main() -> int:
    started = time.perf_counter()
    OUTPUT.mkdir(exist_ok=True)
    url = environment.database_url()
    settings_environment = {**environment.settings_environment(url), "CELERY_BROKER_URL": BROKER}
    os.environ.update(settings_environment)
    print(f"Recreating {url}, migrating, seeding the large clinic ({LOCATIONS} locations) ...", flush=True)
    environment.recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench.load import plan
    from clinic.models import Location, ProcedureType
    from scheduling.large_clinic import seed_large_clinic

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # the admin's pages name them by manifest
    clinic = seed_large_clinic(today=timezone.localdate(), locations=LOCATIONS)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by now in production: the planner's statistics
    user = get_user_model().objects.create_superuser("bench", "bench@interval.example", password=None)
    token = Token.objects.create(user=user).key
    locations = list(Location.objects.filter(pk__in=clinic.location_ids).order_by("pk"))
    client = Client()
    client.force_login(user)
    print(f"Seeded in {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; yardstick loop {yardstick():.0f} ms (smaller is a faster machine). Figures:",
          flush=True)

    engine_benchmarks(settings_environment)
    api = Client()  # an integration's client: a token, no staff session to read
    availability(Wsgi(), token, locations[0], clinic.first_day)
    pages(client, locations[0], clinic.board_day)
    statements_per_booking(api, token, plan(locations=locations[1:2], procedure_type=ProcedureType.objects.get(
        code="ESI_IL"), count=1)[0])
    healthy = load(settings_environment, token, locations)
    reminders(url)
    print(f"make bench took {time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores (other work on the machine included); yardstick loop {yardstick():.0f} ms",
          flush=True)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
