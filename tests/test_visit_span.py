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
from django.db import connection

from clinic.models import Location, Patient, ProcedureType, Room
from scheduling import availability as engine
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import availability_request, segments_of
from scheduling.visit_span import _span_sql, visit_request
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db


def _visit(*, location, physician, room, patient, procedure_type, start, status=AppointmentStatus.SCHEDULED,
           **instants):
    """A visit as its procedure type times it, or with the instants given instead."""
    visit = engine.visit_at(start, segments_of(procedure_type))
    times = {"arrival": visit.arrival, "procedure_start": visit.start, "procedure_end": visit.end,
             "discharge": visit.discharge, "room_start": visit.room_start, "room_end": visit.room_end, **instants}
    return Appointment(location=location, physician=physician, room=room, patient=patient,
                       procedure_type=procedure_type, status=status, **times)


def _room_only(start, room_start, room_end) -> dict:
    """The instants of a 20-minute procedure whose stay is the procedure alone (no preparation,
    no recovery) and whose room time is given: it holds a room, and no bay."""
    end = start + dt.timedelta(minutes=20)
    return {"procedure_start": start, "procedure_end": end, "arrival": start, "discharge": end,
            "room_start": room_start, "room_end": room_end}


@pytest.fixture
def crowded_day(calendar):
    """NEXT_MONDAY at the demo location with one recovery bay, and visits of every kind around it.

    Dr. Okafor alone has a procedure block that Monday (07:30-15:30), so her starts reach the
    checks after the block; the patient asked about is the first demo patient."""
    home = calendar.location
    home.recovery_bays = 1
    home.save(update_fields=["recovery_bays"])
    annex = Location.objects.create(name="Annex", time_zone="America/Chicago", address_line="1 Main", city="Tulsa",
                                    state="OK", postal_code="74101", phone="+19185550100")
    annex_room = Room.objects.create(location=annex, name="Annex Procedure", kind="procedure_room")
    rooms = list(Room.objects.filter(location=home, is_active=True).order_by("pk"))
    fluoroscopy = [room for room in rooms if room.capabilities.filter(code="fluoroscopy")]
    assert len(fluoroscopy) == 3 and len(rooms) > 3
    first, second, third = fluoroscopy
    other = next(room for room in rooms if room not in fluoroscopy)
    patients = list(Patient.objects.order_by("pk")[:16])
    esi, okafor, reyes, nair = calendar.esi, calendar.okafor, calendar.reyes, calendar.nair
    day = NEXT_MONDAY

    def at(hour, minute=0):
        return local(day, hour, minute)

    visits = [
        # Recoveries at home: with one bay, a recovery beside any of these is refused.
        _visit(location=home, physician=okafor, room=first, patient=patients[1], procedure_type=esi, start=at(9)),
        _visit(location=home, physician=reyes, room=second, patient=patients[2], procedure_type=esi,
               start=at(9, 15)),
        _visit(location=home, physician=okafor, room=first, patient=patients[3], procedure_type=esi, start=at(10, 30)),
        # A kyphoplasty whose hour of recovery (08:00-09:00) begins as its procedure ends: a visit
        # arriving then shares the bay with it.
        _visit(location=home, physician=reyes, room=third, patient=patients[9],
               procedure_type=ProcedureType.objects.get(code="KYPHOPLASTY"), start=at(7)),
        # An implant in a room no injection uses: its recovery (09:00-10:30) runs long after its
        # room time ends (09:20), so a visit at 10:00 shares the bay though not the room's time.
        _visit(location=home, physician=nair, room=other, patient=patients[10],
               procedure_type=ProcedureType.objects.get(code="SCS_IMPLANT"), start=at(7)),
        # Every fluoroscopy room held from 11:25 to 13:10 by visits whose stay is their procedure
        # alone (room time the stay does not cover), and one room held from 14:30 by a visit whose
        # patient arrives only at 15:30 (room time before the stay).
        *[_visit(location=home, physician=nair, room=room, patient=patients[11 + index], procedure_type=esi,
                 start=at(11, 30), **_room_only(at(11, 30) + dt.timedelta(minutes=20 * index), at(11, 25), at(13, 10)))
          for index, room in enumerate(fluoroscopy)],
        _visit(location=home, physician=reyes, room=second, patient=patients[14], procedure_type=esi, start=at(15, 30),
               **_room_only(at(15, 30), at(14, 30), at(15, 55))),
        # The physician elsewhere, the patient elsewhere (with someone else), the annex's own day.
        _visit(location=annex, physician=okafor, room=annex_room, patient=patients[4], procedure_type=esi,
               start=at(7, 30)),
        _visit(location=annex, physician=nair, room=annex_room, patient=patients[0], procedure_type=esi,
               start=at(16)),
        _visit(location=annex, physician=nair, room=annex_room, patient=patients[5], procedure_type=esi,
               start=at(11)),
        # Cancelled and no-show visits free their time; a week ago's visit holds nothing today.
        _visit(location=home, physician=reyes, room=first, patient=patients[6], procedure_type=esi, start=at(14),
               status=AppointmentStatus.CANCELLED),
        _visit(location=home, physician=okafor, room=second, patient=patients[7], procedure_type=esi,
               start=at(15, 30), status=AppointmentStatus.NO_SHOW),
        _visit(location=home, physician=okafor, room=first, patient=patients[0], procedure_type=esi,
               start=local(day - dt.timedelta(days=7), 9), status=AppointmentStatus.COMPLETED),
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
    # The day reached every kind of answer the visits around were set up to give.
    okafor, fluoro_2 = calendar.okafor.pk, rooms[1].pk
    bays = "Every recovery bay is taken for this patient's recovery time."
    room_taken = "That room is taken at that time."
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 8, 30), okafor) == bays  # the kyphoplasty's
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 10), okafor) == bays  # the implant's
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 12), okafor) == "No suitable room is free at that time."
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 13), okafor, fluoro_2) == room_taken
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 14, 30), okafor, fluoro_2) == room_taken
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 14, 30), okafor) is None
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 15), okafor) == (
        "The patient already has a visit at that time.")
    assert engine.explain_unavailable(full, local(NEXT_MONDAY, 7, 45), okafor) == (
        "The physician is already booked or off at that time.")
    assert decided > 500 and None in refused


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


def test_the_visits_near_the_span_are_found_through_the_range_indexes(postgres, calendar, crowded_day):
    """On PostgreSQL, at a location with years of visits, each kind of visit near the span is read
    through its index, the id inside the index's condition: the location's through its span, the
    physician's and the patient's through the exclusion constraints'. Not every visit they ever had."""
    home, rooms, patient = crowded_day
    Appointment.objects.bulk_create(
        _visit(location=home, physician=calendar.okafor, room=rooms[0], patient=patient, procedure_type=calendar.esi,
               start=local(NEXT_MONDAY - dt.timedelta(days=days), 9), status=AppointmentStatus.COMPLETED)
        for days in range(8, 1500))
    start = local(NEXT_MONDAY, 12)
    visit = engine.visit_at(start, segments_of(calendar.esi))
    sql, params = _span_sql(location=home, physician=calendar.okafor, procedure_type=calendar.esi, patient=patient,
                            room=None, day=NEXT_MONDAY, span_from=min(visit.arrival, visit.room_start),
                            span_until=max(visit.discharge, visit.room_end), now=NOW, exclude_appointment=None,
                            exclude_hold=None, count_holds=True)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Appointment._meta.db_table}")
        cursor.execute("EXPLAIN " + sql, params)
        plan = [line for line, in cursor.fetchall()]
    for index, column in [("appointment_location_span", "location_id"),
                          ("appointment_physician_no_overlap", "physician_id"),
                          ("appointment_patient_no_overlap", "patient_id")]:
        at = next((number for number, line in enumerate(plan) if f"Index Scan on {index}" in line), None)
        assert at is not None, "\n".join(plan)
        condition = plan[at + 1]
        assert f"({column} = " in condition and "tstzrange" in condition, "\n".join(plan)
