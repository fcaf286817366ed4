"""The large clinic: the demo clinic (`manage.py seed_demo`: catalog, pathway rules, three
physicians, seven rooms), grown to 10 physicians, 12 rooms, 2,000 patients and 5,000
appointments over the next 60 days.

Appointments are placed in memory first, checked against each other for the physician, the
room, the patient and the recovery bays as the exclusion constraints would, then written with
bulk_create. Each day gets its share of the 5,000; its candidate visits are taken in time
order, each at random, so rooms are packed back to back as in a real day while free time is
left scattered through every day.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import random
from collections import defaultdict
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
RECOVERY_BAYS = 20
SEED = 20261124

# With the demo's seven rooms: eight with fluoroscopy, one ultrasound, three exam rooms.
EXTRA_ROOMS = [f"Fluoro Suite {number}" for number in range(3, 8)]

# Seven more physicians (the demo has three). Each works procedures four weekdays 07:00-17:00
# and sees clinic patients on the fifth, 08:00-16:00; the clinic day rotates between them.
EXTRA_PHYSICIANS = [
    ("adeyemi", "Tunde", "Adeyemi"),
    ("brennan", "Claire", "Brennan"),
    ("castillo", "Marco", "Castillo"),
    ("dubois", "Helene", "Dubois"),
    ("eriksen", "Lars", "Eriksen"),
    ("fujita", "Aiko", "Fujita"),
    ("gallagher", "Sean", "Gallagher"),
]
PROCEDURE_HOURS = (dt.time(7, 0), dt.time(17, 0))
CLINIC_HOURS = (dt.time(8, 0), dt.time(16, 0))
CREDENTIALS = ["CONSULT_NEW", "FOLLOW_UP", "SCS_TRIAL_REMOVAL", "ESI_IL", "ESI_TF", "ESI_CAUDAL", "MBB_LUMBAR",
               "MBB_CERVICAL", "RFA_LUMBAR", "RFA_CERVICAL", "SYMPATHETIC_BLOCK"]

# What fills the calendar: mostly 20-minute fluoroscopy procedures, some office visits.
PROCEDURE_MIX = ["ESI_IL", "ESI_IL", "ESI_TF", "MBB_LUMBAR", "ESI_CAUDAL"]
CLINIC_MIX = ["FOLLOW_UP", "FOLLOW_UP", "CONSULT_NEW"]
PROCEDURE_SHARE = 0.8
PROCEDURE_PITCH = dt.timedelta(minutes=15)  # the location's slot grid
CLINIC_PITCH = dt.timedelta(minutes=30)
ACCEPT = 0.6
PASSES = 4


@dataclass(frozen=True)
class LargeClinic:
    location_id: int
    physician_ids: list[int]
    room_count: int
    fluoroscopy_rooms: int
    patient_count: int
    appointment_count: int
    first_day: dt.date
    last_day: dt.date
    physician_utilization: float  # booked procedure minutes / block minutes over the 60 days
    fluoroscopy_utilization: float  # occupied fluoroscopy room minutes / their minutes open (07:00-17:00)


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
        authorization_number=f"BENCH-{number:06d}", authorization_valid_from=today,
        authorization_valid_until=today + dt.timedelta(days=180),
    )


def _overlaps(spans: list[engine.Span], start: dt.datetime, end: dt.datetime) -> bool:
    return any(start < span_end and span_start < end for span_start, span_end in spans)


@transaction.atomic
def seed_large_clinic(*, today: dt.date) -> LargeClinic:
    """`today` must be the location's today, which `seed_demo` also uses for the schedules' start."""
    call_command("seed_demo", "--no-activity", stdout=io.StringIO())  # its own visits below
    location = Location.objects.get(name="Interval Pain Center Bartlesville")
    location.recovery_bays = RECOVERY_BAYS
    location.save(update_fields=["recovery_bays"])
    fluoroscopy = Capability.objects.get(code="fluoroscopy")
    for name in EXTRA_ROOMS:
        Room.objects.create(location=location, name=name, kind=RoomKind.PROCEDURE_SUITE).capabilities.set([fluoroscopy])
    _add_physicians(location, today)
    add_patients(PATIENT_COUNT - Patient.objects.count())
    return _add_appointments(location, today)


def _add_physicians(location: Location, today: dt.date) -> None:
    User = get_user_model()
    physician_group = Group.objects.get(name=roles.PHYSICIAN)
    credentials = list(ProcedureType.objects.filter(code__in=CREDENTIALS))
    monday = today - dt.timedelta(days=today.weekday())
    for index, (username, first, last) in enumerate(EXTRA_PHYSICIANS):
        user = User.objects.create(username=username, first_name=first, last_name=last, is_staff=True,
                                   email=f"{username}@interval.example")
        user.groups.add(physician_group)
        physician = Physician.objects.create(user=user, npi=f"{1000000004 + index}")
        physician.procedure_types.set(credentials)
        procedure_days = {(index + offset) % 5 for offset in range(4)}
        for weekday in range(5):
            kind, (opens, closes) = (
                (ScheduleKind.PROCEDURES, PROCEDURE_HOURS) if weekday in procedure_days
                else (ScheduleKind.CLINIC, CLINIC_HOURS)
            )
            ScheduleBlock.objects.create(physician=physician, location=location, weekday=weekday, kind=kind,
                                         start_time=opens, end_time=closes, valid_from=monday)


def add_patients(count: int, *, label: str = "Bench") -> list[Patient]:
    """`count` new patients, their payers taken in turn from the demo's (self-pay included)."""
    rng = random.Random(SEED + count)
    payers = itertools.cycle(Payer.objects.order_by("pk"))
    start = Patient.objects.count()
    return Patient.objects.bulk_create(
        Patient(
            first_name=f"{label}{index:05d}",
            last_name=rng.choice(["Harper", "Quinn", "Okoro", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak"]),
            date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60)),
            email=f"{label.lower()}{index:05d}@example.com",
            phone=f"(918) 555-{index % 100 + 100:04d}",
            preferred_channel=Channel.EMAIL,
            email_consent=True,
            payer=next(payers),
        )
        for index in range(start, start + count)
    )


class _Day:
    """One day of the calendar being filled: what each physician, room and bay already holds."""

    def __init__(self, day: dt.date, candidates: list[tuple[int, str, dt.datetime]]):
        self.day = day
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
        room_id = next(
            (room for room in kind.room_ids if not _overlaps(self.room_busy[room], visit.room_start, visit.room_end)),
            None,
        )
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


def _candidates(day: dt.date, blocks: list[ScheduleBlock], kinds: dict[str, _Kind], zone, rng: random.Random):
    """Every visit the day's blocks could hold, a procedure code drawn for each, in time order."""
    candidates = []
    for block in blocks:
        if block.valid_from > day or (block.valid_until and block.valid_until < day):
            continue
        procedures = block.kind == ScheduleKind.PROCEDURES
        mix, pitch = (PROCEDURE_MIX, PROCEDURE_PITCH) if procedures else (CLINIC_MIX, CLINIC_PITCH)
        start = dt.datetime.combine(day, block.start_time, tzinfo=zone)
        closes = dt.datetime.combine(day, block.end_time, tzinfo=zone)
        while True:
            code = rng.choice(mix)
            if start + dt.timedelta(minutes=kinds[code].segments.procedure) > closes:
                break
            candidates.append((block.physician_id, code, start))
            start += pitch
    rng.shuffle(candidates)  # physicians in random order at each start
    candidates.sort(key=lambda candidate: candidate[2])
    return candidates


def _block_minutes(blocks: list[ScheduleBlock], day: dt.date) -> int:
    return sum(
        (block.end_time.hour - block.start_time.hour) * 60 + block.end_time.minute - block.start_time.minute
        for block in blocks
        if block.valid_from <= day and not (block.valid_until and block.valid_until < day)
    )


def _add_appointments(location: Location, today: dt.date) -> LargeClinic:
    rng = random.Random(SEED)
    zone = location.zone
    room_capabilities: dict[int, set[int]] = defaultdict(set)
    for room_id, capability_id in Room.objects.filter(location=location, is_active=True).values_list("id", "capabilities"):
        if capability_id is not None:
            room_capabilities[room_id].add(capability_id)
    kinds = {
        procedure_type.code: _Kind(procedure_type, segments_of(procedure_type),
                                   capable_room_ids(procedure_type, room_capabilities))
        for procedure_type in ProcedureType.objects.filter(code__in=PROCEDURE_MIX + CLINIC_MIX)
    }
    blocks: dict[int, list[ScheduleBlock]] = defaultdict(list)
    for block in ScheduleBlock.objects.filter(location=location):
        blocks[block.weekday].append(block)
    patient_ids = list(Patient.objects.order_by("pk").values_list("pk", flat=True))
    days = [today + dt.timedelta(days=offset) for offset in range(1, APPOINTMENT_DAYS + 1)]
    workdays = [_Day(day, _candidates(day, blocks[day.weekday()], kinds, zone, rng))
                for day in days if blocks[day.weekday()]]

    # Each day gets its share of the 5,000. Candidates are taken in time order, each with
    # probability ACCEPT on the first passes, so rooms are packed back to back as a real day
    # is, with gaps left at random; the last pass takes whatever still fits.
    placed: list[tuple[str, int, int, int, engine.Visit]] = []  # code, physician, room, patient, visit
    wanted_total = {"procedures": round(APPOINTMENT_COUNT * PROCEDURE_SHARE)}
    wanted_total["clinic"] = APPOINTMENT_COUNT - wanted_total["procedures"]
    carried = {"procedures": 0, "clinic": 0}  # what a full day could not take goes to the next

    patients = itertools.cycle(patient_ids)

    def fill(calendar: _Day, wanted: dict[str, int], probability: float) -> None:
        for index, (physician_id, code, start) in enumerate(calendar.candidates):
            group = "procedures" if code in PROCEDURE_MIX else "clinic"
            if wanted[group] <= 0 or index in calendar.taken or rng.random() > probability:
                continue
            visit = engine.visit_at(start, kinds[code].segments)
            room_id = calendar.place(kinds[code], physician_id, visit)
            if room_id is None:
                continue
            calendar.taken.add(index)
            # One visit a day per patient: 2,000 patients taken in turn, ~120 visits a day.
            patient_id = next(patients)
            while patient_id in calendar.patients:
                patient_id = next(patients)
            calendar.patients.add(patient_id)
            placed.append((code, physician_id, room_id, patient_id, visit))
            wanted[group] -= 1

    for position, calendar in enumerate(workdays):
        wanted = {
            group: carried[group] + total * (position + 1) // len(workdays) - total * position // len(workdays)
            for group, total in wanted_total.items()
        }
        for probability in [ACCEPT] * (PASSES - 1) + [1.0]:
            fill(calendar, wanted, probability)
        carried = wanted
    for calendar in workdays:  # what the last days could not take, wherever it still fits
        fill(calendar, carried, 1.0)
    if len(placed) != APPOINTMENT_COUNT:
        raise RuntimeError(f"Only {len(placed)} of {APPOINTMENT_COUNT} appointments fit the seeded schedule.")

    orders = ProcedureOrder.objects.bulk_create(
        approved_order(patient_id=patient_id, procedure_type=kinds[code].procedure_type, physician_id=physician_id,
                       today=today, number=index)
        for index, (code, physician_id, _, patient_id, _) in enumerate(placed)
        if kinds[code].procedure_type.requires_order
    )
    order_ids = iter(order.pk for order in orders)
    Appointment.objects.bulk_create(
        Appointment(
            location=location, physician_id=physician_id, room_id=room_id, patient_id=patient_id,
            procedure_type=kinds[code].procedure_type,
            order_id=next(order_ids) if kinds[code].procedure_type.requires_order else None,
            status=AppointmentStatus.CONFIRMED if index % 3 == 0 else AppointmentStatus.SCHEDULED,
            arrival=visit.arrival, procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
            room_start=visit.room_start, room_end=visit.room_end,
        )
        for index, (code, physician_id, room_id, patient_id, visit) in enumerate(placed)
    )
    physician_minutes = sum((visit.end - visit.start).total_seconds() / 60 for *_, visit in placed)
    block_minutes = sum(_block_minutes(blocks[calendar.day.weekday()], calendar.day) for calendar in workdays)
    fluoroscopy_rooms = len(kinds["ESI_IL"].room_ids)
    fluoroscopy_minutes = sum(
        (visit.room_end - visit.room_start).total_seconds() / 60 for code, *_, visit in placed if code in PROCEDURE_MIX
    )
    opens, closes = PROCEDURE_HOURS
    open_minutes = fluoroscopy_rooms * len(workdays) * (closes.hour * 60 + closes.minute - opens.hour * 60 - opens.minute)
    return LargeClinic(
        location_id=location.pk,
        physician_ids=list(Physician.objects.order_by("pk").values_list("pk", flat=True)),
        room_count=Room.objects.filter(location=location).count(),
        fluoroscopy_rooms=fluoroscopy_rooms,
        patient_count=Patient.objects.count(),
        appointment_count=Appointment.objects.count(),
        first_day=days[0],
        last_day=days[-1],
        physician_utilization=physician_minutes / block_minutes,
        fluoroscopy_utilization=fluoroscopy_minutes / open_minutes,
    )
