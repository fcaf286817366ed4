"""The figures as a console table and as bench/results.md."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.audit import Audit
from bench.load import LOAD_TIME_LIMIT, LoadResult
from bench.lock import LockHold
from bench.plan import CLIENTS, Plan
from bench.seed import LargeClinic
from bench.slots import SPLIT_RUNS, ApiFigure, Floor, Split
from bench.stats import ProfileLine, Timing

RESULTS_PATH = Path(__file__).resolve().parent / "results.md"

TARGET_API_P95_MS = 50.0
TARGET_RATIO = 3.0
TARGET_BOOKINGS_PER_SECOND = 200.0
TARGET_BOOKING_P99_MS = 200.0


@dataclass
class Results:
    started_at: dt.datetime
    duration_seconds: float
    machine: dict[str, str]
    clinic: LargeClinic
    window: tuple[dt.date, dt.date]
    first_window: tuple[dt.date, dt.date]
    all_slots: ApiFigure  # (a), ESI_IL
    all_slots_split: Split
    wide_answer: ApiFigure  # (a) for SYMPATHETIC_BLOCK, whose slots the ultrasound room can also take
    wide_answer_split: Split
    first_slots: ApiFigure  # (a')
    first_slots_horizon: ApiFigure  # (a') asked up to the booking horizon
    first_slots_read: tuple[int, int]  # (a'): queries on appointments, rows they return
    horizon_read: tuple[int, int]  # the same asked up to the horizon
    overhead: ApiFigure  # the same request for one day without blocks: the fixed cost of a request
    all_slots_http: Timing
    all_slots_http_count: int
    floor: Floor
    profile: list[ProfileLine]
    booking_profile: list[ProfileLine]
    server: str
    plan: Plan
    load: LoadResult
    lock: LockHold
    audit: Audit
    expected_appointments: int
    booking_queries: int  # statements of one booking through the API, in process
    problems: list[str] = field(default_factory=list)



def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def rows(results: Results) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, target, met, slots returned)."""
    r = results
    a, wide, first, load = r.all_slots, r.wide_answer, r.first_slots, r.load
    return [
        ("(a) every ESI_IL slot, 30 days, all physicians (API, in process)",
         f"p50 {_ms(a.timing.p50)}, p95 {_ms(a.timing.p95)}, {a.queries} queries",
         f"p95 <= {TARGET_API_P95_MS:.0f} ms", _yes(a.timing.p95 <= TARGET_API_P95_MS), f"{a.slots:,}"),
        ("(a) the same for SYMPATHETIC_BLOCK (fluoroscopy or ultrasound)",
         f"p50 {_ms(wide.timing.p50)}, p95 {_ms(wide.timing.p95)}, {wide.queries} queries",
         f"p95 <= {TARGET_API_P95_MS:.0f} ms", _yes(wide.timing.p95 <= TARGET_API_P95_MS), f"{wide.slots:,}"),
        ("(a') first 20 ESI_IL slots from now (API, in process)",
         f"p50 {_ms(first.timing.p50)}, p95 {_ms(first.timing.p95)}, {first.queries} queries",
         f"p95 <= {TARGET_API_P95_MS:.0f} ms", _yes(first.timing.p95 <= TARGET_API_P95_MS), f"{first.slots:,}"),
        ("(b) floor: raw SQL of the busy spans of (a)'s window",
         f"p50 {_ms(r.floor.django.p50)}, p95 {_ms(r.floor.django.p95)} ({r.floor.rows:,} rows)",
         "-", "-", "-"),
        ("(a)/(b) ESI_IL, run by run", f"median {r.floor.ratios.p50:.1f}x, p95 {r.floor.ratios.p95:.1f}x",
         f"<= {TARGET_RATIO:.0f}x", _yes(r.floor.ratios.p50 <= TARGET_RATIO), f"{a.slots:,}"),
        (f"(c) bookings over HTTP, {CLIENTS} clients ({r.server})",
         f"{load.bookings_per_second:.0f} bookings/s ({load.booked:,} in {load.wall_seconds:.1f} s)",
         f">= {TARGET_BOOKINGS_PER_SECOND:.0f}/s", _yes(load.bookings_per_second >= TARGET_BOOKINGS_PER_SECOND),
         f"{load.booked:,} booked"),
        ("(c) booking latency", f"p50 {_ms(load.latency.p50)}, p99 {_ms(load.latency.p99)}",
         f"p99 <= {TARGET_BOOKING_P99_MS:.0f} ms", _yes(load.latency.p99 <= TARGET_BOOKING_P99_MS), "-"),
        ("(c) SQL audit: overlapping pairs", f"{r.audit.overlap_count} "
         f"(physician {r.audit.overlaps['physician']}, room {r.audit.overlaps['room']}, "
         f"patient {r.audit.overlaps['patient']})", "0", _yes(r.audit.overlap_count == 0), "-"),
    ]


def text_lines(table: list[tuple[str, ...]]) -> list[str]:
    """A markdown-style table (header first, **bold** marks) as aligned plain-text lines."""
    widths = [max(len(row[column].replace("**", "")) for row in table) for column in range(len(table[0]))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.replace("**", "").ljust(width) for cell, width in zip(row, widths)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def console_table(results: Results) -> str:
    return "\n".join(text_lines([("figure", "measured", "target", "met", "slots returned"), *rows(results)]))


def markdown(results: Results) -> str:
    r = results
    c, s, ws = r.clinic, r.all_slots_split, r.wide_answer_split
    load, lock, floor = r.load, r.lock, r.floor
    share = load.cpu_share
    cpu_ms = {  # CPU milliseconds per booking
        group: percent / 100 * share.cores * load.wall_seconds * 1000 / max(1, load.booked)
        for group, percent in (("server", share.server), ("database", share.database))
    }
    cpu_ceiling = share.cores * 1000 / max(0.001, cpu_ms["server"] + cpu_ms["database"])
    out = [
        "# Interval benchmark: availability and booking throughput",
        "",
        f"Run {r.started_at:%Y-%m-%d %H:%M %Z} with `make bench` (code in `bench/`), {r.duration_seconds:.0f} s in all.",
        "",
        "Machine: " + ", ".join(f"{key} {value}" for key, value in r.machine.items()) + ".",
        "",
        "## The clinic",
        "",
        f"A fresh PostgreSQL database, seeded with the demo catalog grown to {len(c.physician_ids)} physicians, "
        f"{c.room_count} rooms ({c.fluoroscopy_rooms} with fluoroscopy, one ultrasound, three exam rooms), "
        f"{c.patient_count:,} patients and {c.appointment_count:,} appointments from {c.first_day} to {c.last_day} "
        f"(the next 60 days), 20 recovery bays, a 15-minute slot grid. Physicians work procedures 07:00-17:00 "
        f"four weekdays and clinic the fifth (the demo's three keep their own blocks). The appointments take "
        f"{c.physician_utilization:.0%} of the physicians' block time but {c.fluoroscopy_utilization:.0%} of the "
        "fluoroscopy rooms' hours (07:00-17:00): a 20-minute procedure holds its room 35 minutes, which on a "
        "15-minute grid leaves the room idle until the next quarter hour. The rooms, not the physicians, "
        f"decide how many procedure slots are left: {r.all_slots.slots:,} ESI_IL slots in (a)'s 30 days, "
        f"against {r.plan.candidate_slots:,} over the 89 days up to the booking horizon, most of them after "
        f"{c.last_day}.",
        "",
        f"(a) asks for {r.window[0]} to {r.window[1]} (30 days from tomorrow); (a') for {r.first_window[0]} to "
        f"{r.first_window[1]} with `limit=20`. (a) is measured for ESI_IL, the procedure booked most, and for "
        "SYMPATHETIC_BLOCK, which has the same segments but can also use the ultrasound room, the one "
        "procedure room the seeded calendar leaves free: a large answer over the same loaded calendar.",
        "",
        "## Figures",
        "",
        "| figure | measured | target | met | slots returned |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows(r)],
        "",
        "Availability figures are requests through the whole Django stack in the benchmark's process "
        "(Django's test client with a token header: middleware, token authentication, DRF, the view, "
        f"JSON rendering), DEBUG off, {r.all_slots.timing.runs} runs after 3 warm-up runs. The same ESI_IL "
        f"request over HTTP to the gunicorn server: p50 {_ms(r.all_slots_http.p50)}, p95 "
        f"{_ms(r.all_slots_http.p95)} ({r.all_slots_http_count:,} slots). (a') asked up to the booking horizon "
        f"(90 days) instead of 30: p50 {_ms(r.first_slots_horizon.timing.p50)}, p95 "
        f"{_ms(r.first_slots_horizon.timing.p95)}.",
        "",
        "## What limits each figure",
        "",
        "### (a) every slot of 30 days",
        "",
        f"Median time of each part over {SPLIT_RUNS} rounds; each round asks the API once and then runs each part on "
        "its own (ms):",
        "",
        "| part | ESI_IL | SYMPATHETIC_BLOCK |",
        "| --- | --- | --- |",
        f"| loading: `availability_request`, {floor.selector_queries} queries | {s.load:.1f} | {ws.load:.1f} |",
        f"| of which inside `cursor.execute` | {s.load_sql:.1f} | {ws.load_sql:.1f} |",
        f"| engine: `find_slots` | {s.engine:.1f} | {ws.engine:.1f} |",
        f"| JSON: the view's slot dicts | {s.json_build:.1f} | {ws.json_build:.1f} |",
        f"| JSON: rendering | {s.json_render:.1f} | {ws.json_render:.1f} |",
        f"| the four parts together | {s.parts:.1f} | {ws.parts:.1f} |",
        f"| the whole request | {s.api:.1f} | {ws.api:.1f} |",
        "",
        _loading_note(r),
        f"- **The engine** (`find_slots`, {s.engine:.1f} ms for ESI_IL, {ws.engine:.1f} ms for SYMPATHETIC_BLOCK) "
        "walks every grid start of every block of every physician in the window and tests the physician, the "
        "recovery bays, the patient and then each capable room in turn; the profile below names its "
        "heaviest functions.",
        f"- **The rest of the request**: the same request for one day without schedule blocks "
        f"({r.overhead.path.split('from=')[1][:10]}, a Sunday) takes p50 {_ms(r.overhead.timing.p50)} with "
        f"{r.overhead.queries} queries: middleware, token authentication, DRF, the query serializer and the "
        "selector's queries on an empty day. (Timed on their own, the four parts can add up to a little more "
        "or less than the whole request.)",
        f"- **JSON** is four `astimezone().isoformat()` per slot and then rendering; it grows with the answer "
        f"({s.slots:,} vs {ws.slots:,} slots).",
        "",
        "Where one whole ESI_IL request spends its time, by function (own time per request):",
        "",
        "| function | calls | own ms | with callees ms |",
        "| --- | --- | --- | --- |",
        *[f"| `{line.function}` | {line.calls:,} | {line.own_ms:.1f} | {line.total_ms:.1f} |" for line in r.profile],
        "",
        "### (a') the first 20 slots",
        "",
        _first_slots_note(r),
        "",
        "### (b) the floor",
        "",
        "The selector's own query for the busy spans of (a)'s window, captured as it ran and run again alone "
        f"with a cursor on Django's connection, {floor.django.runs} times, each right after one (a) request so "
        "that the ratio compares the two at the same moments (other processes share this machine):",
        "",
        "```sql",
        _format_sql(floor.sql),
        "```",
        "",
        f"{floor.rows:,} rows; plan: {floor.plan}. p50 {_ms(floor.django.p50)} on Django's connection, "
        f"{_ms(floor.driver.p50)} on a plain psycopg connection, {floor.server_ms:.1f} ms inside PostgreSQL "
        f"(EXPLAIN ANALYZE). The paired (a) requests took p50 {_ms(floor.paired_api.p50)}; run by run, (a) "
        f"took {floor.ratios.p50:.1f} times (b) at the median and {floor.ratios.p95:.1f} times at p95.",
        "",
        "### (c) booking throughput",
        "",
        f"{r.server}, DEBUG off, on 127.0.0.1. The worker setup was chosen by trial on this machine: 2 and 3 "
        "sync workers did best, within noise of each other; 1 and 5 sync workers did worse, 2 gthread workers "
        "x 4 threads worst (BENCH_WORKER_CLASS, BENCH_WORKERS and BENCH_THREADS change it). "
        f"{CLIENTS} client threads in the benchmark's process, each with its own HTTP/1.1 connection (reopened "
        "whenever the server closes it, as gunicorn's sync workers do after every answer), POST "
        "`/api/v1/appointments/` (ESI_IL with patient, physician, start, room and order) from a shared queue "
        f"until it is empty or {LOAD_TIME_LIMIT:.0f} s have passed; {load.sent:,} of its {load.planned:,} "
        f"bookings were sent. The queue: {load.planned - load.collisions:,} bookings planned to fit together "
        + (f"(all the free calendar could take of the {r.plan.requested:,} asked for) "
           if load.planned - load.collisions < r.plan.requested else "")
        + f"(picked from {r.plan.candidate_slots:,} engine slots between {r.plan.days[0]} and {r.plan.days[1]}) "
        f"and {load.collisions} deliberate collisions (another patient at a planned physician, room and start). "
        f"Each client first sends {len(r.plan.warmup) // CLIENTS} warm-up bookings, not counted.",
        "",
        "- Answers: " + ", ".join(f"{count:,} x {status}" for status, count in sorted(load.statuses.items()))
        + f"; each collision and the booking it copies: one 201 and one 409 ({load.unexpected_conflicts} "
        f"exceptions); {len(load.failures)} answers other than 201 or 409.",
        f"- Latency of every measured request: p50 {_ms(load.latency.p50)}, p99 {_ms(load.latency.p99)} "
        f"(booked only: p50 {_ms(load.booked_latency.p50)}, p99 {_ms(load.booked_latency.p99)}).",
        f"- Audit after the run: {r.audit.overlap_count} overlapping pairs, recovery over capacity by "
        f"{r.audit.recovery_over_capacity}; {r.audit.appointments:,} appointments hold time "
        f"(expected {r.expected_appointments:,}).",
        "",
        f"**What limits it.** Every booking locks the location's row (`scheduling/locks.py`) for its whole "
        "check-and-insert, so bookings at one location run one at a time. Booked one at a time in process "
        f"through `appointment_book` ({lock.bookings} bookings), the lock is held p50 {_ms(lock.held.p50)} "
        f"(p95 {_ms(lock.held.p95)}) of a {_ms(lock.total.p50)} call: at most about {lock.ceiling:.0f} "
        "bookings/s for one location however many workers or cores, before any contention. During the run "
        f"an average of {load.lock_waiting:.1f} server connections were waiting for a lock (peak "
        f"{load.lock_waiting_peak}) and {load.active:.1f} were running a statement; the CPUs were "
        f"{share.machine:.0f}% busy ({share.cores} cores: gunicorn {share.server:.0f}%, PostgreSQL "
        f"{share.database:.0f}%, the load clients {share.clients:.0f}%, other processes "
        f"{max(0.0, share.machine - share.server - share.database - share.clients):.0f}% of the machine). "
        f"Each booking cost {cpu_ms['server']:.0f} ms of CPU in gunicorn and {cpu_ms['database']:.0f} ms in "
        f"PostgreSQL: without the lock, {share.cores} cores would still complete at most about {cpu_ceiling:.0f} "
        "bookings/s. One booking through the "
        f"API runs {r.booking_queries} SQL statements; {lock.queries} of them in `appointment_book`, "
        f"{lock.locked_queries} while the location is locked: "
        + ", ".join(f"{statement}" + (f" x{count}" if count > 1 else "")
                    for statement, count in Counter(lock.locked_statements).items()) + ". "
        f"Of the {_ms(lock.held.p50)} the lock is held, {_ms(lock.locked_sql.p50)} are spent inside "
        "`cursor.execute` (the slowest: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in lock.slowest_locked)
        + " per booking); the rest is Python: building the queries, turning rows into spans, the engine's "
        "check, the eligibility rules, saving the appointment and its history row.",
        "",
        "Where one `appointment_book` call spends its time, by the project's functions, with what they call "
        "(20 bookings profiled, per booking; times under the profiler run higher than without it):",
        "",
        "| function | calls | own ms | with callees ms |",
        "| --- | --- | --- | --- |",
        *[f"| `{line.function}` | {line.calls:,} | {line.own_ms:.1f} | {line.total_ms:.1f} |"
          for line in r.booking_profile],
        "",
    ]
    if r.problems:
        out += ["## Problems", "", *[f"- {problem}" for problem in r.problems], ""]
    return "\n".join(out)


def _loading_note(r: Results) -> str:
    s, floor = r.all_slots_split, r.floor
    note = (f"- **Loading** ({s.load:.1f} ms, {s.load_sql:.1f} ms of it inside `cursor.execute`) reads "
            f"{floor.rows:,} appointment rows; PostgreSQL needs {floor.server_ms:.1f} ms for that query, and "
            f"fetching its rows takes {_ms(floor.django.p50)} on Django's connection, {_ms(floor.driver.p50)} on a "
            "plain psycopg connection.")
    if floor.timestamps:
        note += (f" The rows hold {floor.timestamps:,} timestamps, and Django parses each in Python: it "
                 "registers its own timestamptz loader, a subclass of psycopg's pure-Python one, in place of "
                 "psycopg's C loader (Django ticket #36960, psycopg issue #1273).")
    else:
        note += " The query returns instants as epoch seconds computed by PostgreSQL: no timestamp is parsed."
    note += (f" The rest of loading ({s.load - floor.django.p50:.0f} ms) is the other "
             f"{floor.selector_queries - 1} queries, the ORM's work on every row and building the spans "
             "(see the profile below).")
    return note


def _first_slots_note(r: Results) -> str:
    (queries, rows), (horizon_queries, horizon_rows) = r.first_slots_read, r.horizon_read
    return (
        f"To find them, one request read {rows:,} appointment rows in {queries} "
        f"quer{'y' if queries == 1 else 'ies'}, where (a)'s whole 30-day window is {r.floor.rows:,} rows; the "
        f"engine stops at the end of the first day that reaches the limit. Asked up to the 90-day horizon "
        f"instead of 30 days, the same 20 slots take p50 {_ms(r.first_slots_horizon.timing.p50)} and read "
        f"{horizon_rows:,} rows in {horizon_queries} quer{'y' if horizon_queries == 1 else 'ies'}."
    )


def _format_sql(sql: str) -> str:
    """One selected column a line, and the clauses on lines of their own."""
    sql = re.sub(r', (?=("|EXTRACT|CAST))', ",\n       ", sql)
    sql = re.sub(r" (?<!EPOCH )(FROM|WHERE|AND|ORDER BY) ", lambda match: "\n" + match.group(1).rjust(6) + " ", sql)
    return sql


def write(results: Results) -> Path:
    RESULTS_PATH.write_text(markdown(results))
    return RESULTS_PATH


def replace_section(path: Path, title: str, section: str) -> None:
    """Put `section` (starting with the line `title`) into results.md, replacing an earlier one."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Interval benchmark\n"
    pattern = re.compile(rf"\n{re.escape(title)}\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(lambda _: section.rstrip("\n") + "\n", text) if pattern.search(text) else \
        text.rstrip("\n") + "\n" + section
    path.write_text(text, encoding="utf-8")
