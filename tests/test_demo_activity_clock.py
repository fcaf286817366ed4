"""The demo's day seeded at different hours: only visits whose times have passed (in the
location's zone) are under way, done or missed; the later ones are still scheduled or confirmed."""

from __future__ import annotations

import pytest

from clinic.demo import SeedReport
from scheduling.demo_activity import seed_demo_activity
from scheduling.models import Appointment, AppointmentStatus
from tests.conftest import NOW, local

pytestmark = pytest.mark.django_db

TODAY = NOW.date()  # a Tuesday the clinic is open
S = AppointmentStatus
# Each status, and the time that must have passed for a visit to be in it.
DUE = {S.CHECKED_IN: "arrival", S.NO_SHOW: "arrival", S.IN_PROCEDURE: "procedure_start",
       S.IN_RECOVERY: "procedure_end", S.COMPLETED: "discharge"}


def seeded_at(clock, hour: int) -> tuple[list[Appointment], object]:
    now = local(TODAY, hour)
    clock.move_to(now)
    seed_demo_activity(SeedReport(), now=now)
    today = [visit for visit in Appointment.objects.select_related("location")
             if visit.procedure_start.astimezone(visit.location.zone).date() == TODAY]
    return today, now


def test_seeded_before_opening_nothing_today_is_under_way_done_or_missed(demo_clinic, clock):
    today, now = seeded_at(clock, 6)
    assert len(today) >= 9
    assert {visit.status for visit in today} <= {S.SCHEDULED, S.CONFIRMED, S.CANCELLED}
    assert all(visit.arrival > now for visit in today)


def test_seeded_at_one_oclock_the_morning_has_moved_on_and_the_afternoon_has_not(demo_clinic, clock):
    today, now = seeded_at(clock, 13)
    assert {visit.status for visit in today} == set(S.values)
    for visit in today:
        if visit.status in DUE:
            assert getattr(visit, DUE[visit.status]) <= now, (visit, visit.status)
        if visit.arrival > now:
            assert visit.status in (S.SCHEDULED, S.CONFIRMED, S.CANCELLED), (visit, visit.status)
    # The statuses the plan put on the day are all reached before 13:00: nothing was held back.
    assert S.COMPLETED in {visit.status for visit in today if visit.procedure_type.code == "CONSULT_NEW"}
