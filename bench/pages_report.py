"""Figures (f), (g), (h) as a console table and as a section of bench/results.md."""

from __future__ import annotations

import statistics

from bench.pages import ONE_DOCTOR_EVERY, PROFILE_RUNS, START_PATH, VISIT, WARMUP, PageFigures, Slowest
from bench.report import text_lines
from bench.seed import CLINIC_HOURS, EXTRA_PHYSICIANS
from bench.stats import Timing

TARGET_PICKER_P95_MS = 100.0
TARGET_FIRST_VIEW_BYTES = 100_000  # 100 KB


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _ms(value: float) -> str:
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def _kb(size: int) -> str:
    return f"{size / 1000:.1f} KB"


def rows(figures: PageFigures) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, target, met, times shown)."""
    f = figures
    every, shown = f.all_requests, f.first_available.times_shown + f.one_doctor.times_shown
    out = [(
        f"(f) week picker, {VISIT}, {every.runs} requests over the horizon's weeks (in process)",
        f"p50 {_ms(every.p50)}, p95 {_ms(every.p95)}", f"p95 <= {TARGET_PICKER_P95_MS:.0f} ms",
        _yes(every.p95 <= TARGET_PICKER_P95_MS), f"median {statistics.median(shown):.0f}, max {max(shown)}",
    )]
    for picker in (f.first_available, f.one_doctor):
        shown = picker.times_shown
        out.append((
            f"(f) of which {picker.label} ({picker.weeks})",
            f"p50 {_ms(picker.timing.p50)}, p95 {_ms(picker.timing.p95)}, {picker.queries} queries",
            f"p95 <= {TARGET_PICKER_P95_MS:.0f} ms", _yes(picker.timing.p95 <= TARGET_PICKER_P95_MS),
            f"median {statistics.median(shown):.0f}, max {max(shown)}",
        ))
    if f.http_first_available is not None:
        http = Timing(f.http_first_available.samples + f.http_one_doctor.samples)
        out.append((f"(f) the same over HTTP ({f.server}), {http.runs} requests",
                    f"p50 {_ms(http.p50)}, p95 {_ms(http.p95)}", f"p95 <= {TARGET_PICKER_P95_MS:.0f} ms",
                    _yes(http.p95 <= TARGET_PICKER_P95_MS), "-"))
    if f.first_view is not None:
        view = f.first_view
        compressed = (f"sent gzipped: {_kb(view.wire_bytes)} with headers" if view.page.content_encoding
                      else f"sent uncompressed; gzip would make it {_kb(view.gzip_bytes)}")
        out.append((f"(g) first view of {START_PATH}: HTML + {len(view.subresources)} subresources",
                    f"{_kb(view.decoded_bytes)} ({view.decoded_bytes:,} bytes; {compressed})",
                    f"< {TARGET_FIRST_VIEW_BYTES // 1000} KB", _yes(view.decoded_bytes < TARGET_FIRST_VIEW_BYTES),
                    "-"))
    if f.week_page is not None:
        week, partial = f.week_page, f.week_partial
        out.append(("(h) picker week page, next week, first available",
                    f"{_kb(week.decoded_bytes)} (gzip {_kb(week.gzip_bytes)}); the week alone "
                    f"{_kb(partial.decoded_bytes)} (gzip {_kb(partial.gzip_bytes)})",
                    "-", "-", f"{f.week_times_shown}"))
    return out


def _empty_weeks_note(f: PageFigures) -> str:
    parts = []
    for picker in (f.first_available, f.one_doctor):
        empty, other = picker.empty_timing, picker.other_timing
        if not empty.runs:
            parts.append(f"every {picker.label} request found a free time in its week")
            continue
        parts.append(
            f"{empty.runs} of the {picker.timing.runs} {picker.label} requests found no free time in their week and "
            f"searched on for the next free times: p50 {_ms(empty.p50)}, p95 {_ms(empty.p95)}, against p50 "
            + (f"{_ms(other.p50)}, p95 {_ms(other.p95)} for the others" if other.runs else "- for no others"))
    return ("Where a week has no free time the page offers the next free times after it: " + "; ".join(parts)
            + ". A doctor's week is "
            f"empty when its clinic day is booked through or leaves no gap of {f.calendar.visit_minutes} minutes "
            "with an exam room free.")


def _slowest_note(slowest: Slowest) -> list[str]:
    out = [
        f"The slowest request, asked again on its own: `{slowest.path}`, p50 {_ms(slowest.ms)}, {slowest.queries} "
        f"queries, {slowest.weeks_loaded} reads of the appointments (one `availability_request` each)."
    ]
    if slowest.next_free:
        asked, shown, whole = slowest.next_free
        out[0] += (
            " Its week has no free time, so `week_of` (scheduling/pages/picker.py) asks `search.slots` for the next "
            f"{asked.limit} slots after the week, of which the page shows {shown.limit}; with a `limit`, "
            "`available_slots` (scheduling/selectors.py) walks the rest of the horizon a week at a time "
            "(LIMITED_CHUNK_DAYS) and builds each week's `availability_request` afresh with all its queries "
            "(blocks, time off, closures, rooms and their capabilities, rooms out of service, appointments, "
            "holds), most of which return the same rows week after week. That search alone, timed on its "
            f"own: asked for {asked.limit} (as the page asks), {asked.weeks_loaded} weeks loaded, {asked.queries} "
            f"queries, {_ms(asked.ms)}; asked for the {shown.limit} it shows (one doctor has one slot per time, so "
            f"none is a duplicate), {shown.weeks_loaded} weeks, {shown.queries} queries, {_ms(shown.ms)}; the whole "
            f"rest of the horizon without a limit, in one load, {whole.weeks_loaded} read, {whole.queries} queries, "
            f"{_ms(whole.ms)}."
        )
    out += [
        "",
        "By the project's functions, with what they call, per request (5 requests profiled):",
        "",
        "| function | calls | own ms | with callees ms |",
        "| --- | --- | --- | --- |",
        *[f"| `{line.function}` | {line.calls:,} | {line.own_ms:.1f} | {line.total_ms:.1f} |"
          for line in slowest.profile],
    ]
    return out


def console(figures: PageFigures) -> str:
    lines = text_lines([("figure", "measured", "target", "met", "times shown"), *rows(figures)])
    slowest = figures.slowest
    lines.append(f"slowest picker request: {slowest.path} p50 {_ms(slowest.ms)}, {slowest.queries} queries, "
                 f"{slowest.weeks_loaded} weeks loaded" + (" (an empty week: the next free times searched)"
                                                           if slowest.empty else ""))
    return "\n".join(lines)


def markdown(figures: PageFigures) -> str:
    f, c = figures, figures.calendar
    fa, od = f.first_available, f.one_doctor
    out = [
        "",
        "## Booking pages",
        "",
        "| figure | measured | target | met | times shown |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows(f)],
        "",
        f"The seeded clinic's self-bookable visits: {', '.join(c.self_bookable)}. {c.physicians} physicians "
        f"see {VISIT} patients in clinic blocks (the demo's {c.physicians - len(EXTRA_PHYSICIANS)} on their own "
        f"days, the {len(EXTRA_PHYSICIANS)} others one weekday each, {CLINIC_HOURS[0]:%H:%M}-"
        f"{CLINIC_HOURS[1]:%H:%M}). Over the {c.seeded_days} seeded days the {c.appointments:,} clinic visits "
        f"({', '.join(code for code in c.self_bookable)}) take {c.booked_hours:,.0f} of the clinic blocks' "
        f"{c.block_hours:,.0f} hours ({c.booked_hours / max(1, c.block_hours):.0%}); the rest of the "
        f"{c.horizon_days}-day booking horizon is open.",
        "",
        f"(f) asks `/book/times/?visit={VISIT}&week=...` for every week of the horizon in turn, this week first; "
        f"one request in {ONE_DOCTOR_EVERY} names a doctor (`&location=...&physician=...`, the doctors in turn). "
        f"{fa.timing.runs + od.timing.runs} requests after {WARMUP} warm-up requests, through Django's test client "
        "in the benchmark's process (middleware, session, CSRF token, the view's searches, template rendering), "
        "DEBUG off; the queries counted are those of the week that showed the most times. "
        f"Pages in process: first available {_kb(min(fa.page_bytes))} to {_kb(max(fa.page_bytes))}, one "
        f"doctor {_kb(min(od.page_bytes))} to {_kb(max(od.page_bytes))}.",
    ]
    out += ["", _empty_weeks_note(f)]
    if f.http_first_available is not None:
        out += [
            "",
            f"Over HTTP to {f.server} on 127.0.0.1, one request at a time, the same mix: first available p50 "
            f"{_ms(f.http_first_available.p50)}, p95 {_ms(f.http_first_available.p95)} "
            f"({f.http_first_available.runs} requests); one doctor p50 {_ms(f.http_one_doctor.p50)}, p95 "
            f"{_ms(f.http_one_doctor.p95)} ({f.http_one_doctor.runs}).",
        ]
    split = f.split
    out += [
        "",
        f"Where the heaviest first-available week (`{f.profile_path}`) spends its time: the whole request p50 "
        f"{_ms(split['request'])}; the week's search (`week_of`: `available_slots` and the doctors' names) "
        f"{_ms(split['search'])}; rendering `pages/times.html` from it {_ms(split['render'])}; the rest "
        "(middleware, session, the view's other queries) about "
        f"{_ms(max(0.0, split['request'] - split['search'] - split['render']))}. By function, own time per "
        f"request ({PROFILE_RUNS} requests profiled; times under the profiler run higher than without it):",
        "",
        "| function | calls | own ms | with callees ms |",
        "| --- | --- | --- | --- |",
        *[f"| `{line.function}` | {line.calls:,} | {line.own_ms:.1f} | {line.total_ms:.1f} |" for line in f.profile],
    ]
    out += ["", *_slowest_note(f.slowest)]
    if f.first_view is not None:
        view = f.first_view
        listed = "; ".join(f"`{t.path}` {t.content_type} {t.decoded_bytes:,} bytes" for t in view.transfers)
        encoding = (f"gzip ({view.page.body_bytes:,} bytes sent)" if view.page.content_encoding
                    else "none: the server sends HTML uncompressed although the browser accepts gzip")
        out += [
            "",
            f"(g) fetches `{START_PATH}` from gunicorn as a browser would (Accept-Encoding: gzip, deflate, br), "
            "parses it for what a browser loads with it (`<link>` stylesheets, icons and preloads, "
            "`<script src>`, `<img>`/`<source>` `src` and `srcset`, CSS `url()` and `@import`) and fetches each: "
            f"{len(view.subresources)} found, {len(view.external)} on other hosts; {view.inline_styles} inline "
            f"`<style>` and {view.inline_scripts} inline `<script>` element(s). {listed}. Content-Encoding: "
            f"{encoding}. With response headers: {view.wire_bytes:,} bytes on the wire. "
            + ("" if view.names_icon else
               f"The page names no icon, so browsers also ask for `/favicon.ico`: {view.favicon.status}, "
               f"{view.favicon.decoded_bytes:,} bytes (not counted above)."),
        ]
    if f.week_page is not None:
        week, partial = f.week_page, f.week_partial
        out += [
            "",
            f"(h) `{week.path}`: {week.decoded_bytes:,} bytes ({week.wire_bytes:,} with headers; gzip "
            f"{week.gzip_bytes:,}). The picker's script switches weeks by fetching the week alone "
            f"(X-Interval-Partial: week): {partial.decoded_bytes:,} bytes (gzip {partial.gzip_bytes:,}).",
        ]
    if f.problems:
        out += ["", *[f"- Problem: {problem}" for problem in f.problems]]
    out.append("")
    return "\n".join(out)
