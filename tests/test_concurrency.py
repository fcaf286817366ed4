"""Real concurrent transactions on PostgreSQL: no resource is ever double-booked."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections import Counter

import pytest
from django.db import connection, connections

from scheduling import services
from scheduling.errors import BookingError, SlotUnavailable
from scheduling.models import Appointment, ProcedureOrder, SlotHold, WaitlistOffer
from scheduling.selectors import available_slots
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local

pytestmark = [pytest.mark.django_db(transaction=True)]

OVERLAP_AUDIT = """
    SELECT %(label)s, count(*) FROM scheduling_appointment a
    JOIN scheduling_appointment b ON a.id < b.id AND a.{resource} = b.{resource}
     AND tstzrange(a.{start}, a.{end}, '[)') && tstzrange(b.{start}, b.{end}, '[)')
    WHERE a.status NOT IN ('cancelled', 'no_show') AND b.status NOT IN ('cancelled', 'no_show')
"""

RECOVERY_AUDIT = """
    SELECT coalesce(max(in_recovery - l.recovery_bays), 0) FROM (
        SELECT a.location_id, a.procedure_end AS instant, (
            SELECT count(*) FROM scheduling_appointment b
            WHERE b.location_id = a.location_id AND b.status NOT IN ('cancelled', 'no_show')
              AND b.procedure_end <= a.procedure_end AND a.procedure_end < b.discharge
        ) AS in_recovery
        FROM scheduling_appointment a WHERE a.status NOT IN ('cancelled', 'no_show')
    ) peaks JOIN clinic_location l ON l.id = peaks.location_id
"""


def audit() -> dict[str, int]:
    """Overlaps per resource found by SQL, and how far recovery ever exceeds its bays."""
    found = {}
    with connection.cursor() as cursor:
        for label, resource, start, end in [
            ("physician", "physician_id", "procedure_start", "procedure_end"),
            ("room", "room_id", "room_start", "room_end"),
            ("patient", "patient_id", "arrival", "discharge"),
        ]:
            cursor.execute(OVERLAP_AUDIT.format(resource=resource, start=start, end=end), {"label": label})
            found[label] = cursor.fetchone()[1]
        cursor.execute(RECOVERY_AUDIT)
        found["recovery_over_capacity"] = max(cursor.fetchone()[0], 0)
    return found


def run_concurrently(jobs) -> list:
    """Start every job at once (a barrier), each in its own thread with its own connection."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            results[index] = job()
        except Exception as error:  # collected and asserted on by the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_clients_booking_the_same_slot_one_wins(postgres, calendar):
    patients = calendar.patients[:10] + list(type(calendar.patients[0]).objects.order_by("pk")[10:20])
    for patient in patients:
        calendar.order_for(patient)
    start = local(NEXT_MONDAY, 9)

    def job(patient):
        return lambda: services.appointment_book(patient=patient, procedure_type=calendar.esi,
                                                 physician=calendar.okafor, start=start)

    results = run_concurrently([job(patient) for patient in patients])
    booked = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(booked) == 1, results
    assert len(refused) == 19, [r for r in results if not isinstance(r, (Appointment, SlotUnavailable))]
    assert Appointment.objects.count() == 1
    assert audit() == {"physician": 0, "room": 0, "patient": 0, "recovery_over_capacity": 0}


def test_two_hundred_random_concurrent_bookings_and_reschedules_never_overlap(postgres, calendar):
    rng = random.Random(7)
    patients = list(type(calendar.patients[0]).objects.order_by("pk")[:40])
    calendar.location.recovery_bays = 2  # scarce, so the bay check is exercised
    calendar.location.save()
    days = [NEXT_MONDAY, NEXT_THURSDAY, NEXT_MONDAY + dt.timedelta(days=7), NEXT_THURSDAY + dt.timedelta(days=7)]
    starts = [local(day, hour, minute) for day in days for hour in range(8, 15) for minute in (0, 15, 30, 45)]
    physicians = {NEXT_MONDAY.weekday(): [calendar.okafor], NEXT_THURSDAY.weekday(): [calendar.reyes, calendar.nair]}
    block = calendar.mbb  # diagnostic blocks have no interval rules: only the calendar limits them
    for patient in patients:
        for _ in range(5):
            ProcedureOrder.objects.create(patient=patient, procedure_type=block, ordering_physician=calendar.okafor,
                                          region="lumbar")
    # A first wave of bookings so that there is something to reschedule.
    for patient in patients[:10]:
        start = rng.choice(starts)
        try:
            services.appointment_book(patient=patient, procedure_type=block,
                                      physician=rng.choice(physicians[start.weekday()]), start=start)
        except BookingError:
            pass
    existing = list(Appointment.objects.all())

    def booking():
        start = rng.choice(starts)
        patient, physician = rng.choice(patients), rng.choice(physicians[start.weekday()])
        return lambda: services.appointment_book(patient=patient, procedure_type=block,
                                                 physician=physician, start=start)

    def rescheduling():
        start = rng.choice(starts)
        appointment, physician = rng.choice(existing), rng.choice(physicians[start.weekday()])
        return lambda: services.appointment_reschedule(appointment=Appointment.objects.get(pk=appointment.pk),
                                                       start=start, physician=physician)

    jobs = [booking() if rng.random() < 0.7 else rescheduling() for _ in range(200)]
    outcomes = Counter()
    for wave in range(0, len(jobs), 20):  # 20 threads at a time, 10 waves
        for result in run_concurrently(jobs[wave:wave + 20]):
            outcomes[type(result).__name__] += 1
    unexpected = {name: n for name, n in outcomes.items() if name not in
                  {"Appointment", "SlotUnavailable", "NotEligible", "BookingError", "InvalidTransition"}}
    assert not unexpected, outcomes
    assert outcomes["Appointment"] > 20 and outcomes["SlotUnavailable"] > 0, outcomes
    assert audit() == {"physician": 0, "room": 0, "patient": 0, "recovery_over_capacity": 0}


def test_the_database_refuses_a_double_booking_the_application_did_not_check(postgres, calendar):
    """Even a write that skips the services cannot overlap: the exclusion constraints hold."""
    calendar.order_for(calendar.patients[0])
    first = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                      physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    from django.db import IntegrityError

    clone = Appointment.objects.get(pk=first.pk)
    clone.pk = None
    clone.patient = calendar.patients[1]
    clone.room = next(room for room in calendar.location.rooms.all() if room != first.room)
    with pytest.raises(IntegrityError, match="appointment_physician_no_overlap"):
        clone.save()


def test_availability_agrees_with_booking_under_load(postgres, calendar):
    slots = available_slots(procedure_type=calendar.esi, location=calendar.location, first_day=NEXT_MONDAY,
                            last_day=NEXT_MONDAY, now=local(NEXT_MONDAY, 0))
    assert slots
    for patient in calendar.patients[:3]:
        calendar.order_for(patient)
    slot = slots[0]
    results = run_concurrently([
        (lambda p=patient: services.appointment_book(patient=p, procedure_type=calendar.esi,
                                                     physician=calendar.okafor, start=slot.start))
        for patient in calendar.patients[:3]
    ])
    assert sum(isinstance(r, Appointment) for r in results) == 1


def test_ten_visitors_holding_the_same_time_one_gets_it(postgres, calendar):
    start = local(dt.date(2026, 12, 1), 9)  # Dr. Okafor's consultations

    def job(index):
        return lambda: services.slot_hold(key=f"visitor-{index}", procedure_type=calendar.consult,
                                          physician=calendar.okafor, start=start)

    results = run_concurrently([job(index) for index in range(10)])
    held = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(held) == 1 and len(refused) == 9, results
    assert SlotHold.objects.count() == 1


def test_two_patients_taking_one_freed_time_at_once_one_gets_it(postgres, calendar):
    tuesday = dt.date(2026, 12, 1)
    patients = list(type(calendar.patients[0]).objects.order_by("pk")[:3])

    def consult(patient, day, hour):
        return services.appointment_book(patient=patient, procedure_type=calendar.consult,
                                         physician=calendar.okafor, start=local(day, hour))

    freed = consult(patients[0], tuesday, 9)
    waiting = [consult(patients[1], dt.date(2026, 12, 8), 9), consult(patients[2], dt.date(2026, 12, 15), 9)]
    for appointment in waiting:
        services.waitlist_join(appointment=appointment)
    services.appointment_cancel(appointment=freed, reason="Patient called")
    offers = list(WaitlistOffer.objects.all())
    assert len(offers) == 2

    results = run_concurrently([lambda offer=offer: services.waitlist_accept(offer=offer) for offer in offers])
    moved = [r for r in results if isinstance(r, Appointment)]
    refused = [r for r in results if isinstance(r, services.OfferGone)]
    assert len(moved) == 1 and len(refused) == 1, results
    assert Appointment.objects.filter(procedure_start=local(tuesday, 9), status="scheduled").count() == 1
    assert audit() == {"physician": 0, "room": 0, "patient": 0, "recovery_over_capacity": 0}
