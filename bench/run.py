"""`make bench`: seed a large clinic on PostgreSQL, measure, print, write bench/results.md.

Steps: recreate the benchmark database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/interval_bench), migrate, seed; measure availability in
process (a, a'), its floor (b), the booking pages' week picker (f); plan bookings; start
gunicorn and measure availability over HTTP, the booking pages over HTTP and their bytes (f, g,
h), and booking throughput (c); time the booking's locked section in process; audit; reminder
dispatch (d, e); the CSV export (i), the day board (j) and a physician's calendar feed (l).

Missing a target is reported, not a failure. The exit status is 1 only when something is
broken: an overlap or recovery excess in the audit, a booking answered other than 201/409,
a server that does not start, a booking page answered other than 200.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
import traceback

from bench import environment

BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "1800"))
COLLISIONS = BOOKINGS // 20
# In process after the load: one through the API to count its queries, then 80 timed and 20
# profiled through the service.
IN_PROCESS_BOOKINGS = 101


def _machine(connection) -> dict[str, str]:
    import django
    import gunicorn
    import psycopg

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0].split()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu_model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kilobytes = int(meminfo.readline().split()[1])
            memory = f"{kilobytes / 1024 / 1024:.0f} GB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "nproc": str(os.cpu_count()),
        "CPU": cpu_model or platform.processor() or "unknown",
        "memory": memory or "unknown",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": f"{postgres} (local, synchronous_commit {synchronous_commit})",
        "Django": django.get_version(),
        "psycopg": psycopg.__version__,
        "gunicorn": gunicorn.__version__,
    }


def board_only() -> int:
    """`python -m bench.run --only board`: the day board's figure alone, into results.md."""
    url = environment.database_url()
    os.environ.update(environment.settings_environment(url))
    print(f"Recreating the benchmark database ({url}) ...", flush=True)
    environment.recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from bench import board
    from bench.report import RESULTS_PATH
    from bench.seed import seed_large_clinic
    from clinic.models import Location

    call_command("migrate", verbosity=0)
    print("Seeding the large clinic ...", flush=True)
    clinic = seed_large_clinic(today=timezone.localdate())
    user = get_user_model().objects.create_superuser("bench", "bench@interval.example", password=None)
    print("Measuring the day board (j) ...", flush=True)
    figure = board.measure(location=Location.objects.get(pk=clinic.location_id), user=user,
                           first_day=clinic.first_day, last_day=clinic.last_day)
    board.write_section(figure, RESULTS_PATH)
    print(board.console(figure))
    print(f"Written to bench/{RESULTS_PATH.name} ({board.SECTION[3:]})")
    return 0


def _only_setup():
    """Recreate and seed the benchmark database for one figure; the large clinic."""
    url = environment.database_url()
    os.environ.update(environment.settings_environment(url))
    print(f"Recreating the benchmark database ({url}) ...", flush=True)
    environment.recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from bench.seed import seed_large_clinic

    call_command("migrate", verbosity=0)
    print("Seeding the large clinic ...", flush=True)
    return seed_large_clinic(today=timezone.localdate())


def feeds_only() -> int:
    """`python -m bench.run --only feeds`: a physician's calendar feed alone, into results.md."""
    clinic = _only_setup()
    from bench import feeds
    from bench.report import RESULTS_PATH
    from clinic.models import Location

    print("Measuring a physician's calendar feed (l) ...", flush=True)
    figure = feeds.measure(location=Location.objects.get(pk=clinic.location_id))
    feeds.write_section(figure, RESULTS_PATH)
    print(feeds.console(figure))
    print(f"Written to bench/{RESULTS_PATH.name} ({feeds.SECTION[3:]})")
    return 0


def fhir_only() -> int:
    """`python -m bench.run --only fhir`: FHIR slots next to the REST API's (m), into results.md."""
    clinic = _only_setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench import fhir
    from bench.report import RESULTS_PATH
    from clinic.models import Location

    user = get_user_model().objects.create_superuser("bench", "bench@interval.example", password=None)
    token = Token.objects.create(user=user).key
    print("Measuring FHIR slots next to the REST API (m) ...", flush=True)
    figure = fhir.measure(location=Location.objects.get(pk=clinic.location_id), token=token,
                          first_day=timezone.localdate() + dt.timedelta(days=1),
                          open_day=clinic.last_day + dt.timedelta(days=1))
    fhir.write_section(figure, RESULTS_PATH)
    print(fhir.console(figure))
    print(f"Written to bench/{RESULTS_PATH.name} ({fhir.SECTION[3:]})")
    return 0


_ONLY = {"board": board_only, "feeds": feeds_only, "fhir": fhir_only}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--only" and sys.argv[2] in _ONLY:
        return _ONLY[sys.argv[2]]()
    if sys.argv[1:]:
        print("usage: python -m bench.run [--only board|feeds|fhir]", file=sys.stderr)
        return 2
    started_at_clock = time.perf_counter()
    url = environment.database_url()
    server_environment = environment.settings_environment(url)
    os.environ.update(server_environment)
    print(f"Recreating the benchmark database ({url}) ...", flush=True)
    database = environment.recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench import audit, load as booking_load, lock as booking_lock, pages as booking_pages, pages_report
    from bench import plan as booking_plan, report, slots
    from bench.seed import seed_large_clinic
    from bench.server import Gunicorn, ServerConfig
    from clinic.models import Location, ProcedureType

    call_command("migrate", verbosity=0)
    started_at = timezone.localtime()
    today = timezone.localdate()
    print("Seeding the large clinic ...", flush=True)
    clinic = seed_large_clinic(today=today)
    print(f"  {len(clinic.physician_ids)} physicians, {clinic.room_count} rooms, {clinic.patient_count:,} patients, "
          f"{clinic.appointment_count:,} appointments {clinic.first_day} to {clinic.last_day}", flush=True)
    user = get_user_model().objects.create_superuser("bench", "bench@interval.example", password=None)
    token = Token.objects.create(user=user).key
    location = Location.objects.get(pk=clinic.location_id)
    esi = ProcedureType.objects.get(code="ESI_IL")
    sympathetic = ProcedureType.objects.get(code="SYMPATHETIC_BLOCK")
    first_day, last_day = today + dt.timedelta(days=1), today + dt.timedelta(days=30)
    first_window = (today, today + dt.timedelta(days=29))
    client = Client()

    def params(code: str, first: dt.date, last: dt.date, limit: int | None = None) -> dict:
        values = {"procedure_type": code, "location": location.pk, "from": first.isoformat(), "to": last.isoformat()}
        return {**values, "limit": limit} if limit else values

    print("Measuring availability in process (a, a') ...", flush=True)
    all_slots = slots.measure_api(client, token, params("ESI_IL", first_day, last_day))
    wide_answer = slots.measure_api(client, token, params("SYMPATHETIC_BLOCK", first_day, last_day))
    first_slots = slots.measure_api(client, token, params("ESI_IL", *first_window, limit=20))
    first_slots_horizon = slots.measure_api(
        client, token, params("ESI_IL", today, today + dt.timedelta(days=89), limit=20))
    all_slots_split = slots.split_answer(client, token, procedure_type=esi, location=location, first_day=first_day,
                                         last_day=last_day)
    wide_answer_split = slots.split_answer(client, token, procedure_type=sympathetic, location=location,
                                           first_day=first_day, last_day=last_day)
    first_slots_read = slots.appointments_read(client, token, params("ESI_IL", *first_window, limit=20))
    horizon_read = slots.appointments_read(client, token, params("ESI_IL", today, today + dt.timedelta(days=89),
                                                                 limit=20))
    sunday = first_day + dt.timedelta(days=(6 - first_day.weekday()) % 7)  # no schedule blocks
    overhead = slots.measure_api(client, token, params("ESI_IL", sunday, sunday))
    profile = slots.profile_api(client, token, params("ESI_IL", first_day, last_day))
    print("Measuring the floor (b) ...", flush=True)
    busy_sql, selector_queries = slots.busy_spans_query(procedure_type=esi, location=location, first_day=first_day,
                                                        last_day=last_day)
    floor = slots.measure_floor(client, token, api_params=params("ESI_IL", first_day, last_day), sql=busy_sql,
                                selector_queries=selector_queries, database_url=url)
    print("Measuring the booking pages' week picker in process (f) ...", flush=True)
    page_failures = []
    try:
        page_figures = booking_pages.measure_in_process(location=location, today=today, first_day=clinic.first_day,
                                                        last_day=clinic.last_day)
    except Exception as error:  # a broken page is reported; the other figures still count
        traceback.print_exc()
        page_figures = None
        page_failures.append(f"Booking pages in process: {error}")

    print(f"Planning {BOOKINGS:,} bookings and {COLLISIONS} collisions ...", flush=True)
    plan = booking_plan.plan_bookings(location=location, procedure_type=esi, first_day=first_day,
                                      last_day=today + dt.timedelta(days=89), count=BOOKINGS,
                                      collisions=COLLISIONS, in_process=IN_PROCESS_BOOKINGS)
    config = ServerConfig.from_environment()
    print(f"Starting {config.describe()} ...", flush=True)
    connection.close()  # the server's workers open their own
    with Gunicorn(config=config, environment=server_environment, token=token) as server:
        print(f"  listening on 127.0.0.1:{server.port}; availability over HTTP ...", flush=True)
        http_timing, http_count = server.time_get(slots.availability_path(params("ESI_IL", first_day, last_day)),
                                                  runs=slots.API_RUNS, warmup=2 * config.workers)
        if page_figures is not None:
            print("  booking pages over HTTP (f, g, h) ...", flush=True)
            try:
                booking_pages.measure_over_http(page_figures, server=server, location=location, today=today)
            except Exception as error:
                traceback.print_exc()
                page_failures.append(f"Booking pages over HTTP: {error}")
        print(f"Booking over HTTP with {booking_plan.CLIENTS} clients (c) ...", flush=True)
        load = booking_load.run_load(server=server, plan=plan, procedure_code="ESI_IL", zone=location.zone,
                                     database_url=url, database=database)

    print("Timing the booking's locked section in process ...", flush=True)
    api_job, *service_jobs = plan.in_process
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/api/v1/appointments/", data=json.dumps(api_job.payload("ESI_IL", location.zone)),
                               content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}")
    problems = []
    if response.status_code != 201:
        problems.append(f"The in-process API booking answered {response.status_code}: {response.content[:200]!r}")
    timed_jobs, profiled_jobs = service_jobs[:-20], service_jobs[-20:]
    lock = booking_lock.measure_lock_hold(jobs=timed_jobs, procedure_type=esi, user=user)
    booking_profile = booking_lock.profile_bookings(jobs=profiled_jobs, procedure_type=esi, user=user)
    print("Auditing ...", flush=True)
    found = audit.audit()
    expected = (clinic.appointment_count + len(plan.warmup) + load.booked + (response.status_code == 201)
                + lock.bookings + len(profiled_jobs))

    if found.overlap_count:
        problems.append(f"The audit found {found.overlap_count} overlapping pairs: {found.overlaps}.")
    if found.recovery_over_capacity:
        problems.append(f"Recovery held {found.recovery_over_capacity} more patients than there are bays.")
    if found.appointments != expected:
        problems.append(f"{found.appointments:,} appointments hold time; expected {expected:,}.")
    problems += [f"Booking failed: {failure}" for failure in load.failures[:10]]
    problems += page_failures + (page_figures.problems if page_figures is not None else [])
    problems += [f"The service refused a planned booking: {refusal}" for refusal in lock.refused[:10]]
    if load.unexpected_conflicts:
        problems.append(f"{load.unexpected_conflicts} planned bookings were refused with 409, e.g. "
                        + "; ".join(load.conflict_examples))

    results = report.Results(
        started_at=started_at, duration_seconds=time.perf_counter() - started_at_clock,
        machine=_machine(connection), clinic=clinic, window=(first_day, last_day), first_window=first_window,
        all_slots=all_slots, all_slots_split=all_slots_split, wide_answer=wide_answer,
        wide_answer_split=wide_answer_split, first_slots=first_slots, first_slots_read=first_slots_read,
        horizon_read=horizon_read, first_slots_horizon=first_slots_horizon, all_slots_http=http_timing, all_slots_http_count=http_count,
        overhead=overhead, floor=floor, profile=profile, booking_profile=booking_profile,
        server=config.describe(), plan=plan, load=load, lock=lock, audit=found, expected_appointments=expected,
        booking_queries=len(captured), problems=problems,
    )
    print("Measuring reminder dispatch (d, e) ...", flush=True)
    from bench import reminders as reminder_bench  # Django is set up by now

    dispatch = reminder_bench.measure(url)
    from bench import csv_export

    print("Measuring the CSV export (i) ...", flush=True)
    exported = csv_export.measure(user=user)
    # After the export, whose month the board's extra day must not change.
    print("Measuring the day board (j) ...", flush=True)
    from bench import board as day_board

    board_figure = day_board.measure(location=location, user=user, first_day=clinic.first_day,
                                     last_day=clinic.last_day)
    from bench import fhir as fhir_slots

    print("Measuring FHIR slots next to the REST API (m) ...", flush=True)
    fhir_figure = fhir_slots.measure(location=location, token=token, first_day=first_day,
                                     open_day=clinic.last_day + dt.timedelta(days=1))
    # Last: it adds visits (a physician's, copied into the weeks the seed leaves empty).
    print("Measuring a physician's calendar feed (l) ...", flush=True)
    from bench import feeds as calendar_feeds

    feed_figure = calendar_feeds.measure(location=location)
    path = report.write(results)
    with open(path, "a", encoding="utf-8") as markdown:
        markdown.write(reminder_bench.markdown(dispatch))
        markdown.write(csv_export.markdown(exported))
        if page_figures is not None:
            markdown.write(pages_report.markdown(page_figures))
        markdown.write(day_board.markdown(board_figure))
        markdown.write(calendar_feeds.markdown(feed_figure))
        markdown.write(fhir_slots.markdown(fhir_figure))
    print()
    print(report.console_table(results))
    print(reminder_bench.console(dispatch))
    print(csv_export.console(exported))
    if page_figures is not None:
        print()
        print(pages_report.console(page_figures))
    print()
    print(day_board.console(board_figure))
    print()
    print(calendar_feeds.console(feed_figure))
    print()
    print(fhir_slots.console(fhir_figure))
    print()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"Written to {path.relative_to(path.parent.parent)}")
    broken = bool(found.overlap_count or found.recovery_over_capacity or load.failures or lock.refused
                  or response.status_code != 201 or page_failures)
    return 1 if broken else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
