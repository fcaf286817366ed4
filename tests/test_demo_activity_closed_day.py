"""The demo's visits seeded on a day the clinic is closed: nothing under way, the day's other
visits on the next open day."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.demo import SeedReport
from scheduling.demo_activity import seed_demo_activity
from scheduling.models import Appointment, AppointmentStatus
from tests.conftest import local

pytestmark = pytest.mark.django_db

SATURDAY = dt.date(2026, 11, 28)
MONDAY = dt.date(2026, 11, 30)


def test_seeded_on_a_saturday_no_visit_is_under_way_and_the_days_visits_go_to_monday(demo_clinic, clock):
    clock.move_to(local(SATURDAY, 10))
    seed_demo_activity(SeedReport(), now=local(SATURDAY, 10))
    on_the_day = [AppointmentStatus.CHECKED_IN, AppointmentStatus.IN_PROCEDURE, AppointmentStatus.IN_RECOVERY,
                  AppointmentStatus.NO_SHOW]
    assert not Appointment.objects.filter(status__in=on_the_day).exists()
    assert not Appointment.objects.filter(status="completed", procedure_start__gte=local(SATURDAY, 0)).exists()
    desk = Appointment.objects.get(patient__last_name="Achebe")  # scheduled "today" in the plan
    assert desk.procedure_start.astimezone(desk.location.zone).date() == MONDAY
    assert Appointment.objects.filter(patient__last_name="Pruitt", status="completed").count() == 2
