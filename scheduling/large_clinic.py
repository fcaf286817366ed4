"""The large clinic the benchmark measures: `manage.py seed_large_clinic`.

The demo clinic (`seed_demo`: catalog, pathway rules, reminder plans, three physicians, seven
rooms) grown to 10 physicians, 12 rooms, 20 recovery bays, 2,000 patients and 5,000
appointments over the next 60 days, and one "board day" (the first weekday after them) packed
with 150 visits. With `locations > 1`, each further location gets two physicians working
procedures 07:00-17:00 on weekdays and three fluoroscopy suites, its calendar empty: bookings
there take another location's lock.

Appointments are placed in memory first, checked against each other for the physician, the
room, the patient and the recovery bays as the exclusion constraints would, then written with
bulk_create. Each day's candidate visits are taken in time order, each at random, so rooms are
packed back to back as in a real day while free time is left scattered through every day.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import transaction

from clinic import roles
from clinic.models import Capability, Location, Patient, Payer, Physician, ProcedureType, Room, RoomKind, ScheduleBlock
from clinic.models.catalog import ScheduleKind
from clinic.models.patients import Channel
from scheduling import availability as engine
from scheduling.models import Appointment, AppointmentStatus, AuthorizationStatus, ProcedureOrder, Region
from scheduling.selectors import capable_room_ids, segments_of

PATIENT_COUNT = 2_000
APPOINTMENT_COUNT = 5_000
APPOINTMENT_DAYS = 60
BOARD_DAY_VISITS = 150
RECOVERY_BAYS = 20
SEED = 20261124

EXTRA_ROOMS = [f"Fluoro Suite {number}" for number in range(3, 8)]  # with the demo's: 12 rooms, 8 fluoroscopy
# Seven more physicians: procedures four weekdays 07:00-17:00, clinic the fifth 08:00-16:00, rotating.
EXTRA_PHYSICIANS = ["Tunde Adeyemi", "Claire Brennan", "Marco Castillo", "Helene Dubois", "Lars Eriksen",
                    "Aiko Fujita", "Sean Gallagher"]
PROCEDURE_HOURS = (dt.time(7, 0), dt.time(17, 0))
CLINIC_HOURS = (dt.time(8, 0), dt.time(16, 0))
CREDENTIALS = ["CONSULT_NEW", "FOLLOW_UP", "SCS_TRIAL_REMOVAL", "ESI_IL", "ESI_TF", "ESI_CAUDAL", "MBB_LUMBAR",
               "MBB_CERVICAL", "RFA_LUMBAR", "RFA_CERVICAL", "SYMPATHETIC_BLOCK"]
BRANCH_TOWNS = ["Dewey", "Nowata", "Pawhuska", "Skiatook", "Owasso", "Collinsville", "Ramona", "Ochelata", "Copan",
                "Vera", "Talala", "Oologah"]

# What fills the calendar: mostly 20-minute fluoroscopy procedures, some office visits.
PROCEDURE_MIX = ["ESI_IL", "ESI_IL", "ESI_TF", "MBB_LUMBAR", "ESI_CAUDAL"]
CLINIC_MIX = ["FOLLOW_UP", "FOLLOW_UP", "CONSULT_NEW"]
PROCEDURE_SHARE = 0.8
ACCEPT = 0.6
PASSES = 4


class ClinicNotEmpty(Exception):
    """The large clinic is seeded into an empty database only."""


@dataclass(frozen=True)
class LargeClinic:
    location_ids: list[int]  # the large clinic first
    patient_count: int
    appointment_count: int
    first_day: dt.date  # the seeded days
    last_day: dt.date
    board_day: dt.date


@dataclass(frozen=True)
class _Kind:
    procedure_type: ProcedureType
    segments: engine.Segments
    room_ids: list[int]


def approved_order(*, patient_id: int, procedure_type: ProcedureType, physician_id: int, today: dt.date,
                   number: int) -> ProcedureOrder:
    """An open lumbar order whose prior authorization, where a payer asks for one, is approved."""
    return ProcedureOrder(
        patient_id=patient_id, procedure_type=procedure_type, ordering_physician_id=physician_id,
        region=Region.LUMBAR, authorization_status=AuthorizationStatus.APPROVED,
        authorization_number=f"LARGE-{number:07d}", authorization_valid_from=today,
        authorization_valid_until=today + dt.timedelta(days=180),
    )


def add_patients(count: int, *, label: str) -> list[Patient]:
    """`count` new patients, their payers taken in turn from the demo's (self-pay included)."""
    rng = random.Random(SEED + count)
    payers = itertools.cycle(Payer.objects.order_by("pk"))
    start = Patient.objects.count()
    return Patient.objects.bulk_create(
        Patient(first_name=f"{label}{index:05d}",
                last_name=rng.choice(["Harper", "Quinn", "Okoro", "Lindqvist", "Moreau", "Tanaka", "Silva"]),
                date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60)),
                email=f"{label.lower()}{index:05d}@example.com", phone=f"+1918555{index % 100 + 100:04d}",
                preferred_channel=Channel.EMAIL, email_consent=True, payer=next(payers))
        for index in range(start, start + count)
    )


@transaction.atomic
def seed_large_clinic(*, today: dt.date, locations: int = 1) -> LargeClinic:
    """`today` is the location's today, which `seed_demo` also uses for the schedules' start."""
    if Location.objects.exists():
        raise ClinicNotEmpty("This database already has a clinic; the large clinic is seeded into an empty, "
                             "migrated database (make bench creates its own).")
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())  # its own visits below
    location = Location.objects.get()
    location.recovery_bays = RECOVERY_BAYS
    location.save(update_fields=["recovery_bays"])
    fluoroscopy = Capability.objects.get(code="fluoroscopy")
    for name in EXTRA_ROOMS:
        Room.objects.create(location=location, name=name, kind=RoomKind.PROCEDURE_SUITE).capabilities.set([fluoroscopy])
    monday = today - dt.timedelta(days=today.weekday())
    for index, name in enumerate(EXTRA_PHYSICIANS):
        procedure_days = {(index + offset) % 5 for offset in range(4)}
        _add_physician(name, location, monday, {
            weekday: ScheduleKind.PROCEDURES if weekday in procedure_days else ScheduleKind.CLINIC
            for weekday in range(5)})
    branches = [_add_branch(number, location, fluoroscopy, monday) for number in range(locations - 1)]
    add_patients(PATIENT_COUNT - Patient.objects.count(), label="Large")
    days = [today + dt.timedelta(days=offset) for offset in range(1, APPOINTMENT_DAYS + 1)]
    placed = _place_calendar(location, days)
    board_day = next(day for day in (days[-1] + dt.timedelta(days=offset) for offset in range(1, 8))
                     if day.weekday() < 5)
    placed += _place_board_day(location, board_day)
    _write(location, placed, today)
    return LargeClinic(location_ids=[location.pk] + [branch.pk for branch in branches],
                       patient_count=Patient.objects.count(), appointment_count=Appointment.objects.count(),
                       first_day=days[0], last_day=days[-1], board_day=board_day)


def _add_physician(name: str, location: Location, monday: dt.date, kinds: dict[int, str]) -> Physician:
    first, last = name.split()
    username = f"{first}.{last}".lower()
    user = get_user_model().objects.create(username=username, first_name=first, last_name=last, is_staff=True,
                                           email=f"{username}@interval.example")
    user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    physician = Physician.objects.create(user=user, npi=f"{1000000004 + Physician.objects.count()}")
    physician.procedure_types.set(ProcedureType.objects.filter(code__in=CREDENTIALS))
    for weekday, kind in kinds.items():
        opens, closes = PROCEDURE_HOURS if kind == ScheduleKind.PROCEDURES else CLINIC_HOURS
        ScheduleBlock.objects.create(physician=physician, location=location, weekday=weekday, kind=kind,
                                     start_time=opens, end_time=closes, valid_from=monday)
    return physician


def _add_branch(number: int, main: Location, fluoroscopy: Capability, monday: dt.date) -> Location:
    town = BRANCH_TOWNS[number % len(BRANCH_TOWNS)] + (f" {number // len(BRANCH_TOWNS) + 1}" if number >= 12 else "")
    branch = Location.objects.create(
        name=f"Interval Pain Center {town}", time_zone=main.time_zone, address_line=f"{100 + number} Main St",
        city=town, state="OK", postal_code="74000", phone=main.phone, recovery_bays=RECOVERY_BAYS)
    for room in range(1, 4):
        Room.objects.create(location=branch, name=f"Fluoro Suite {room}",
                            kind=RoomKind.PROCEDURE_SUITE).capabilities.set([fluoroscopy])
    for name in [f"Branch{number:02d} Doctor", f"Branch{number:02d} Surgeon"]:
        _add_physician(name, branch, monday, dict.fromkeys(range(5), ScheduleKind.PROCEDURES))
    return branch


def _overlaps(spans: list[engine.Span], start: dt.datetime, end: dt.datetime) -> bool:
    return any(start < span_end and span_start < end for span_start, span_end in spans)


class _Day:
    """One day of the calendar being filled: what each physician, room and bay already holds."""

    def __init__(self, candidates: list[tuple[int, str, dt.datetime]]):
        self.candidates = candidates  # (physician id, procedure code, start) in time order
        self.taken: set[int] = set()
        self.physician_busy: dict[int, list[engine.Span]] = defaultdict(list)
        self.room_busy: dict[int, list[engine.Span]] = defaultdict(list)
        self.recovery: list[engine.Span] = []
        self.patients: set[int] = set()

    def place(self, kind: _Kind, physician_id: int, visit: engine.Visit) -> int | None:
        """Hold the visit's physician, a room and a bay, as the exclusion constraints would; the room, or None."""
        if _overlaps(self.physician_busy[physician_id], visit.start, visit.end):
            return None
        room_id = next((room for room in kind.room_ids
                        if not _overlaps(self.room_busy[room], visit.room_start, visit.room_end)), None)
        if room_id is None:
            return None
        if visit.discharge > visit.end:
            in_recovery = sum(1 for start, end in self.recovery if visit.end < end and start < visit.discharge)
            if in_recovery >= RECOVERY_BAYS:  # counts every overlap, so it errs on the safe side
                return None
            self.recovery.append((visit.end, visit.discharge))
        self.physician_busy[physician_id].append((visit.start, visit.end))
        self.room_busy[room_id].append((visit.room_start, visit.room_end))
        return room_id


def _kinds(location: Location, codes: list[str]) -> dict[str, _Kind]:
    rooms: dict[int, set[int]] = defaultdict(set)
    for room_id, capability_id in Room.objects.filter(location=location).values_list("id", "capabilities"):
        if capability_id is not None:
            rooms[room_id].add(capability_id)
    return {each.code: _Kind(each, segments_of(each), capable_room_ids(each, rooms))
            for each in ProcedureType.objects.filter(code__in=codes)}


def _candidates(day: dt.date, location: Location, kinds: dict[str, _Kind], rng: random.Random, *,
                procedure_minutes: int, clinic_minutes: int) -> list[tuple[int, str, dt.datetime]]:
    """Every visit the day's blocks could hold, a procedure code drawn for each, in time order."""
    candidates = []
    for block in ScheduleBlock.objects.filter(location=location, weekday=day.weekday()):
        procedures = block.kind == ScheduleKind.PROCEDURES
        mix = PROCEDURE_MIX if procedures else CLINIC_MIX
        pitch = dt.timedelta(minutes=procedure_minutes if procedures else clinic_minutes)
        start = dt.datetime.combine(day, block.start_time, tzinfo=location.zone)
        closes = dt.datetime.combine(day, block.end_time, tzinfo=location.zone)
        while start + dt.timedelta(minutes=kinds[code := rng.choice(mix)].segments.procedure) <= closes:
            candidates.append((block.physician_id, code, start))
            start += pitch
    rng.shuffle(candidates)  # physicians in random order at each start
    candidates.sort(key=lambda candidate: candidate[2])
    return candidates


Placed = tuple[_Kind, int, int, int, engine.Visit]  # kind, physician, room, patient, visit


def _fill(calendar: _Day, kinds: dict[str, _Kind], wanted: dict[str, int], probability: float,
          patients: Iterator, rng: random.Random, placed: list[Placed]) -> None:
    for index, (physician_id, code, start) in enumerate(calendar.candidates):
        group = "procedures" if code in PROCEDURE_MIX else "clinic"
        if wanted[group] <= 0 or index in calendar.taken or rng.random() > probability:
            continue
        visit = engine.visit_at(start, kinds[code].segments)
        room_id = calendar.place(kinds[code], physician_id, visit)
        if room_id is None:
            continue
        calendar.taken.add(index)
        patient_id = next(patients)  # one visit a day per patient
        while patient_id in calendar.patients:
            patient_id = next(patients)
        calendar.patients.add(patient_id)
        placed.append((kinds[code], physician_id, room_id, patient_id, visit))
        wanted[group] -= 1


def _place_calendar(location: Location, days: list[dt.date]) -> list[Placed]:
    rng = random.Random(SEED)
    kinds = _kinds(location, PROCEDURE_MIX + CLINIC_MIX)
    workdays = [_Day(_candidates(day, location, kinds, rng, procedure_minutes=15, clinic_minutes=30))
                for day in days if day.weekday() < 5]
    patients = itertools.cycle(Patient.objects.order_by("pk").values_list("pk", flat=True))
    placed: list[Placed] = []
    totals = {"procedures": round(APPOINTMENT_COUNT * PROCEDURE_SHARE)}
    totals["clinic"] = APPOINTMENT_COUNT - totals["procedures"]
    carried = {"procedures": 0, "clinic": 0}  # what a full day could not take goes to the next
    for position, calendar in enumerate(workdays):
        wanted = {group: carried[group] + total * (position + 1) // len(workdays) - total * position // len(workdays)
                  for group, total in totals.items()}
        for probability in [ACCEPT] * (PASSES - 1) + [1.0]:
            _fill(calendar, kinds, wanted, probability, patients, rng, placed)
        carried = wanted
    for calendar in workdays:  # what the last days could not take, wherever it still fits
        _fill(calendar, kinds, carried, 1.0, patients, rng, placed)
    if len(placed) != APPOINTMENT_COUNT:
        raise RuntimeError(f"Only {len(placed)} of {APPOINTMENT_COUNT} appointments fit the seeded schedule.")
    return placed


def _place_board_day(location: Location, day: dt.date) -> list[Placed]:
    """150 visits on one day, on a five-minute pitch so that rooms pack back to back."""
    rng = random.Random(SEED + 1)
    kinds = _kinds(location, PROCEDURE_MIX + CLINIC_MIX)
    calendar = _Day(_candidates(day, location, kinds, rng, procedure_minutes=5, clinic_minutes=5))
    patients = itertools.cycle(Patient.objects.order_by("-pk").values_list("pk", flat=True))
    placed: list[Placed] = []
    _fill(calendar, kinds, {"procedures": BOARD_DAY_VISITS, "clinic": BOARD_DAY_VISITS}, 1.0, patients, rng, placed)
    if len(placed) < BOARD_DAY_VISITS:
        raise RuntimeError(f"Only {len(placed)} of {BOARD_DAY_VISITS} visits fit the board day {day}.")
    return placed[:BOARD_DAY_VISITS]


def _write(location: Location, placed: list[Placed], today: dt.date) -> None:
    orders = iter(ProcedureOrder.objects.bulk_create(
        approved_order(patient_id=patient_id, procedure_type=kind.procedure_type, physician_id=physician_id,
                       today=today, number=index)
        for index, (kind, physician_id, _, patient_id, _) in enumerate(placed) if kind.procedure_type.requires_order))
    Appointment.objects.bulk_create(
        Appointment(
            location=location, physician_id=physician_id, room_id=room_id, patient_id=patient_id,
            procedure_type=kind.procedure_type,
            order_id=next(orders).pk if kind.procedure_type.requires_order else None,
            status=AppointmentStatus.CONFIRMED if index % 3 == 0 else AppointmentStatus.SCHEDULED,
            arrival=visit.arrival, procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
            room_start=visit.room_start, room_end=visit.room_end,
        )
        for index, (kind, physician_id, room_id, patient_id, visit) in enumerate(placed)
    )
