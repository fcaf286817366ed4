"""Figure (m): free slots through FHIR next to the REST API, same window, same clinic.

`GET /fhir/r4/Slot?service-type=CODE&start=ge..&start=le..&_count=5000` against
`GET /api/v1/availability/?procedure_type=CODE&location=ID&from=..&to=..`, 7 days from tomorrow
at the large clinic, through the whole Django stack in process (Django's test client with a
token header), alternating the two requests run by run so that slow moments of a shared
machine fall on both. Target: FHIR p95 <= 1.5x REST p95.

Alone: `python -m bench.run --only fhir` (recreates the benchmark database, seeds, measures,
and writes the "FHIR slots" section of bench/results.md).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.report import replace_section, text_lines
from bench.stats import Timing
from clinic.models import Location

RUNS = 60
WARMUP = 3
DAYS = 7
TARGET_RATIO = 1.5
SECTION = "## FHIR slots"
# (procedure type, days after tomorrow the window starts): the procedure booked most in the next
# week, whose rooms the seeded calendar leaves nearly full; the same in the first week after the
# seeded calendar, open; a procedure that can also use the free ultrasound room: a large answer.
WINDOWS = (("ESI_IL", 0), ("ESI_IL", None), ("SYMPATHETIC_BLOCK", 0))


@dataclass(frozen=True)
class Pair:
    code: str
    first_day: dt.date
    rest: Timing
    fhir: Timing
    rest_slots: int
    fhir_slots: int
    rest_queries: int
    fhir_queries: int
    rest_bytes: int
    fhir_bytes: int
    rest_cpu: Timing  # the process's own CPU time per request: what waiting for a busy core does not stretch
    fhir_cpu: Timing

    @property
    def ratio(self) -> float:
        return self.fhir.p95 / self.rest.p95

    @property
    def met(self) -> bool:
        return self.ratio <= TARGET_RATIO


@dataclass(frozen=True)
class FhirFigure:
    pairs: list[Pair]


def measure(*, location: Location, token: str, first_day: dt.date, open_day: dt.date) -> FhirFigure:
    """`first_day`: tomorrow; `open_day`: the first day after the seeded calendar."""
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"}
    pairs = []
    for code, offset in WINDOWS:
        start_day = open_day if offset is None else first_day + dt.timedelta(days=offset)
        last_day = start_day + dt.timedelta(days=DAYS - 1)
        rest_path = "/api/v1/availability/?" + urlencode({"procedure_type": code, "location": location.pk,
                                                          "from": start_day.isoformat(), "to": last_day.isoformat()})
        fhir_path = "/fhir/r4/Slot?" + urlencode([("service-type", code), ("start", f"ge{start_day}"),
                                                  ("start", f"le{last_day}"), ("_count", "5000")])

        def ask(path: str):
            response = client.get(path, **headers)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} answered {response.status_code}: {response.content[:300]!r}")
            return response

        rest_samples, fhir_samples, rest_cpu, fhir_cpu = [], [], [], []
        for run in range(WARMUP + RUNS):
            for path, samples, cpu in ((rest_path, rest_samples, rest_cpu), (fhir_path, fhir_samples, fhir_cpu)):
                started, started_cpu = time.perf_counter(), time.process_time()
                ask(path)
                if run >= WARMUP:
                    samples.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - started_cpu) * 1000)
        with CaptureQueriesContext(connection) as rest_queries:
            rest = ask(rest_path)
        with CaptureQueriesContext(connection) as fhir_queries:
            fhir = ask(fhir_path)
        rest_body, fhir_body = json.loads(rest.content), json.loads(fhir.content)
        if fhir_body["total"] != rest_body["count"]:
            raise RuntimeError(f"{code}: FHIR found {fhir_body['total']} slots, the REST API {rest_body['count']}.")
        pairs.append(Pair(code=code, first_day=start_day, rest=Timing(rest_samples), fhir=Timing(fhir_samples),
                          rest_slots=rest_body["count"], fhir_slots=fhir_body["total"],
                          rest_queries=len(rest_queries), fhir_queries=len(fhir_queries),
                          rest_bytes=len(rest.content), fhir_bytes=len(fhir.content),
                          rest_cpu=Timing(rest_cpu), fhir_cpu=Timing(fhir_cpu)))
    return FhirFigure(pairs=pairs)


def _ms(value: float) -> str:
    return f"{value:.1f} ms"


def rows(figure: FhirFigure) -> list[tuple[str, ...]]:
    found = []
    for pair in figure.pairs:
        found.append((
            f"(m) FHIR `GET /fhir/r4/Slot`, {pair.code}, {DAYS} days from {pair.first_day} (in process)",
            f"p50 {_ms(pair.fhir.p50)}, p95 {_ms(pair.fhir.p95)}, {pair.fhir_queries} queries; "
            f"CPU p50 {_ms(pair.fhir_cpu.p50)}, p95 {_ms(pair.fhir_cpu.p95)}",
            f"p95 <= {TARGET_RATIO}x REST", "yes" if pair.met else "**no**", str(pair.fhir_slots),
        ))
        found.append((
            f"(m) REST `GET /api/v1/availability/`, the same window",
            f"p50 {_ms(pair.rest.p50)}, p95 {_ms(pair.rest.p95)}, {pair.rest_queries} queries; "
            f"CPU p50 {_ms(pair.rest_cpu.p50)}, p95 {_ms(pair.rest_cpu.p95)}; FHIR/REST p95 {pair.ratio:.2f}x, "
            f"CPU p95 {pair.fhir_cpu.p95 / pair.rest_cpu.p95:.2f}x",
            "-", "-", str(pair.rest_slots),
        ))
    return found


def console(figure: FhirFigure) -> str:
    return "\n".join(text_lines([("figure", "measured", "target", "met", "slots"), *rows(figure)]))


def markdown(figure: FhirFigure) -> str:
    sizes = "; ".join(f"{pair.code}: FHIR {pair.fhir_bytes / 1024:.1f} KiB, REST {pair.rest_bytes / 1024:.1f} KiB"
                      for pair in figure.pairs)
    return "\n".join([
        "",
        SECTION,
        "",
        "| figure | measured | target | met | slots |",
        "| --- | --- | --- | --- | --- |",
        *[f"| {' | '.join(row)} |" for row in rows(figure)],
        "",
        f"Windows of {DAYS} days at the large clinic (from tomorrow, and from the first day after the seeded "
        f"calendar, whose week is open), through the whole "
        f"Django stack in the benchmark's process (Django's test client with a token header), DEBUG off, "
        f"{RUNS} runs of each after {WARMUP} warm-up runs, the FHIR and REST requests alternating run by run. "
        f"Both ask the same selector (`available_slots`); the FHIR answer is a searchset Bundle with one Slot per "
        f"slot. fhir.resources (pydantic) checks the Bundle with its first entry read back, and the slot "
        f"entries are written straight to JSON text (scheduling/fhir/mapping.py `slot_entries_json`). History: "
        f"checking and writing every Slot through pydantic made FHIR 3.4x the REST p95 for 143 slots; slot "
        f"dicts written with the json module still gave 2.1-2.5x for 1,278 slots, the extra p95 being Python's "
        f"cycle collector walking the heap (some 150,000 objects, 100-250 ms a pass here) more often because "
        f"each slot was two more dicts alive at once. \"CPU\" is the benchmark process's own CPU time per "
        f"request (without PostgreSQL's), which a machine shared with other work does not stretch. "
        f"Answer sizes: {sizes}.",
        "",
    ])


def write_section(figure: FhirFigure, path: Path) -> None:
    """Put the section into results.md, replacing an earlier one."""
    replace_section(path, SECTION, markdown(figure))
