"""(i) The appointment list's CSV export for a month of 3,000 visits: the server's time from the
request to the last byte, in process (the test client drains the streamed response).

The month is the window from the seed's first day that holds the first 3,000 visits (the
large clinic books about 83 a day, so some 36 days), exported as the list would export it
with a date filter: `/admin/scheduling/appointment/export.csv?procedure_start__gte=...&procedure_start__lt=...`.

Runs inside `make bench` (after the other figures), or alone on a fresh database:
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name with bench> python -m bench.csv_export
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
import traceback
from urllib.parse import urlencode

from bench.stats import Timing

VISITS = 3_000
RUNS = 5
TARGET_MS = 1_000


@dataclasses.dataclass
class ExportFigures:
    timing: Timing
    rows: int
    days: int
    bytes: int
    queries: int


def measure(*, user) -> ExportFigures:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from scheduling.models import Appointment

    if connection.vendor == "postgresql":
        # Straight after the bulk seed the planner has no statistics yet (autovacuum analyzes
        # later), and plans the chunks' lookups as if the tables were empty: several times
        # slower than on any database that has been running for a while.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE scheduling_appointment, clinic_patient, clinic_patient_blood_thinners, "
                           "scheduling_preprocedurecheck")
    starts = list(Appointment.objects.order_by("procedure_start").values_list("procedure_start", flat=True)[:VISITS])
    if not starts:
        raise RuntimeError("No appointments to export; seed the large clinic first.")
    first, last = starts[0], starts[-1] + dt.timedelta(seconds=1)
    url = reverse("admin:scheduling_appointment_export") + "?" + urlencode(
        {"procedure_start__gte": first.isoformat(), "procedure_start__lt": last.isoformat()})
    client = Client()
    client.force_login(user)

    def export() -> tuple[int, int]:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"The export answered {response.status_code}: {response.content[:200]!r}")
        body = b"".join(response.streaming_content)
        return body.count(b"\n") - 1, len(body)  # lines less the header

    export()  # warm-up
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        rows, size = export()
        samples.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        export()
    return ExportFigures(timing=Timing(samples), rows=rows, days=(last - first).days + 1, bytes=size,
                         queries=len(captured))


def _met(figures: ExportFigures) -> str:
    return "yes" if figures.timing.p95 <= TARGET_MS else "**no**"


def markdown(figures: ExportFigures) -> str:
    return "\n".join([
        "",
        "## CSV export",
        "",
        "| figure | measured | target | met | visits |",
        "| --- | --- | --- | --- | --- |",
        f"| (i) appointment list as CSV, {figures.days} days (in process, to the last byte) | "
        f"p50 {figures.timing.p50:.0f} ms, max {max(figures.timing.samples):.0f} ms, {figures.queries} queries | "
        f"< {TARGET_MS:,} ms | {_met(figures)} | {figures.rows:,} |",
        "",
        f"(i) streams the changelist's filtered query with the csv module, {RUNS} runs after one warm-up: "
        f"{figures.bytes / 1024:.0f} KiB, visits read in chunks of 500 with their patients' blood thinners and "
        "checks prefetched per chunk.",
        "",
    ])


def console(figures: ExportFigures) -> str:
    return (f"(i) CSV export of {figures.rows:,} visits over {figures.days} days: p50 {figures.timing.p50:.0f} ms, "
            f"max {max(figures.timing.samples):.0f} ms, {figures.queries} queries, {figures.bytes / 1024:.0f} KiB "
            f"(target < {TARGET_MS:,} ms: {_met(figures).strip('*')})")


def main() -> int:
    """Alone: recreate the benchmark database, seed the large clinic, measure (i)."""
    import os

    from bench import environment

    url = environment.database_url()
    os.environ.update(environment.settings_environment(url))
    print(f"Recreating the benchmark database ({url}) ...", flush=True)
    environment.recreate_database(url)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from bench.seed import seed_large_clinic

    call_command("migrate", verbosity=0)
    print("Seeding the large clinic ...", flush=True)
    seed_large_clinic(today=timezone.localdate())
    user = get_user_model().objects.create_superuser("bench", "bench@interval.example", password=None)
    print("Measuring the CSV export (i) ...", flush=True)
    print(console(measure(user=user)))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        traceback.print_exc()
        sys.exit(1)
