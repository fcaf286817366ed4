"""The booking's check reads only what the visit's own span touches (`visit_request`), and
decides every start as the search's full day (`availability_request`) does.

The visits around are written straight to the table: at the location and at another one, of the
physician elsewhere, of the patient elsewhere, cancelled ones, old ones, and recoveries enough to
fill the bays. Every start of the day on the grid, with each physician, with and without a
named room, is then asked both ways; on PostgreSQL the span's visits are found through the
range indexes, on SQLite by plain comparisons.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import Location, ProcedureType, Room
from scheduling import availability as engine
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import availability_request, segments_of
from scheduling.visit_span import visit_request
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db


def _visit(*, location, physician, room, patient, procedure_type, start, status=AppointmentStatus.SCHEDULED):
    visit = engine.visit_at(start, segments_of(procedure_type))
    return Appointment(location=location, physician=physician, room=room, patient=patient,
                       procedure_type=procedure_type, status=status, arrival=visit.arrival,
                       procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
                       room_start=visit.room_start, room_end=visit.room_end)


@pytest.fixture
def crowded_day(calendar):
    """NEXT_MONDAY at the demo location with one recovery bay, and visits of every kind around it."""
    home = calendar.location
    home.recovery_bays = 1
    home.save(update_fields=["recovery_bays"])
    annex = Location.objects.create(name="Annex", time_zone="America/Chicago", address_line="1 Main", city="Tulsa",
                                    state="OK", postal_code="74101", phone="+19185550100")
    annex_room = Room.objects.create(location=annex, name="Annex Procedure", kind="procedure_room")
    rooms = list(Room.objects.filter(location=home, is_active=True).order_by("pk"))
    assert len(rooms) >= 3
    first, second = rooms[0], rooms[1]
    patients = calendar.patients
    esi = calendar.esi
    visits = [
        # Recoveries at home: with one bay, a recovery beside any of these is refused.
        _visit(location=home, physician=calendar.okafor, room=first, patient=patients[1], procedure_type=esi,
               start=local(NEXT_MONDAY, 9)),
        _visit(location=home, physician=calendar.reyes, room=second, patient=patients[2], procedure_type=esi,
               start=local(NEXT_MONDAY, 9, 15)),
        _visit(location=home, physician=calendar.okafor, room=first, patient=patients[3], procedure_type=esi,
               start=local(NEXT_MONDAY, 10, 30)),
        # A kyphoplasty whose hour of recovery outlasts its procedure by far: a visit arriving as
        # that procedure ends still shares the bay with it.
        _visit(location=home, physician=calendar.reyes, room=rooms[2], patient=patients[9],
               procedure_type=ProcedureType.objects.get(code="KYPHOPLASTY"), start=local(NEXT_MONDAY, 7)),
        # The physician elsewhere, the patient elsewhere (with someone else), the annex's own day.
        _visit(location=annex, physician=calendar.okafor, room=annex_room, patient=patients[4], procedure_type=esi,
               start=local(NEXT_MONDAY, 13)),
        _visit(location=annex, physician=calendar.nair, room=annex_room, patient=patients[0], procedure_type=esi,
               start=local(NEXT_MONDAY, 15)),
        _visit(location=annex, physician=calendar.nair, room=annex_room, patient=patients[5], procedure_type=esi,
               start=local(NEXT_MONDAY, 11)),
        # Cancelled and no-show visits free their time; a week ago's visit holds nothing today.
        _visit(location=home, physician=calendar.reyes, room=first, patient=patients[6], procedure_type=esi,
               start=local(NEXT_MONDAY, 14), status=AppointmentStatus.CANCELLED),
        _visit(location=home, physician=calendar.okafor, room=second, patient=patients[7], procedure_type=esi,
               start=local(NEXT_MONDAY, 15, 30), status=AppointmentStatus.NO_SHOW),
        _visit(location=home, physician=calendar.okafor, room=first, patient=patients[0], procedure_type=esi,
               start=local(NEXT_MONDAY - dt.timedelta(days=7), 9), status=AppointmentStatus.COMPLETED),
        # The evening before, running past midnight into the day's first hours.
        _visit(location=home, physician=calendar.reyes, room=second, patient=patients[8],
               procedure_type=esi, start=local(NEXT_MONDAY - dt.timedelta(days=1), 23, 30)),
    ]
    Appointment.objects.bulk_create(visits)
    return home, rooms, patients[0]


def test_every_start_of_the_day_is_decided_as_the_full_day_decides_it(calendar, crowded_day):
    home, rooms, patient = crowded_day
    esi = calendar.esi
    asked = dict(procedure_type=esi, location=home, now=NOW, patient=patient)
    full = availability_request(first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, apply_minimum_notice=False, **asked)
    decided, refused = 0, set()
    start = local(NEXT_MONDAY, 6)
    while start < local(NEXT_MONDAY, 19):
        for physician in (calendar.okafor, calendar.reyes, calendar.nair):
            for room in (None, *rooms):
                near = visit_request(physician=physician, start=start, room=room, **asked)
                expected = engine.explain_unavailable(full, start, physician.pk, room.pk if room else None)
                assert engine.explain_unavailable(near, start, physician.pk, room.pk if room else None) == expected, (
                    start, physician, room)
                decided += 1
                refused.add(expected)
        start += dt.timedelta(minutes=15)
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 8, 30), calendar.okafor.pk) == (
        "Every recovery bay is taken for this patient's recovery time.")
    # The day reached every kind of answer the visits around were set up to give.
    assert decided > 500
    assert {None, "Every recovery bay is taken for this patient's recovery time.",
            "The patient already has a visit at that time.",
            "The physician is already booked or off at that time."} <= refused


def test_a_visit_excluded_from_the_check_frees_its_own_time(calendar, crowded_day):
    """Rescheduling checks the new time without the visit being moved."""
    home, rooms, patient = crowded_day
    moved = Appointment.objects.get(patient=calendar.patients[3])
    start = moved.procedure_start
    asked = dict(procedure_type=calendar.esi, location=home, now=NOW, patient=moved.patient)
    with_it = visit_request(physician=moved.physician, start=start, room=moved.room, **asked)
    without = visit_request(physician=moved.physician, start=start, room=moved.room, exclude_appointment=moved, **asked)
    assert engine.explain_unavailable(with_it, start, moved.physician_id, moved.room_id) is not None
    assert engine.explain_unavailable(without, start, moved.physician_id, moved.room_id) is None
