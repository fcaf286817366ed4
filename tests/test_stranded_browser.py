"""A change of plans in a real browser, at the staff's widths: a manager closes the clinic on a
day with booked visits, sees them before saving, saves, moves them all, and the patients'
messages wait in the outbox. The confirmation and the attention pages are held to axe-core."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from playwright.sync_api import expect

from clinic.models import Closure, Location, Patient, Physician, ProcedureType
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus, ProcedureOrder, ReminderKind, ReminderStatus
from tests.browser import STAFF_WIDTHS, sign_in
from tests.conftest import NOW, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONDAY = dt.date(2027, 1, 11)  # Dr. Okafor: procedures 07:30-15:30
WEDNESDAY = MONDAY + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def clinic_clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def monday_visits(demo_clinic):
    okafor = Physician.objects.get(user__username="okafor")
    block = ProcedureType.objects.get(code="MBB_LUMBAR")
    visits = []
    for hour, name in ((9, "Ana"), (13, "Ben")):
        patient = Patient.objects.create(first_name=name, last_name="Stranded", date_of_birth=dt.date(1960, 5, 1),
                                         email=f"{name.lower()}@example.com", email_consent=True)
        order = ProcedureOrder.objects.create(patient=patient, procedure_type=block, ordering_physician=okafor,
                                              region="lumbar")
        visits.append(services.appointment_book(patient=patient, procedure_type=block, physician=okafor,
                                                start=local(MONDAY, hour), order=order))
    return visits


@pytest.fixture
def clinic_manager(demo_clinic):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from clinic import roles

    user = get_user_model().objects.create_user("manager-browser", password="pw-for-tests-only", is_staff=True,
                                                first_name="Lena", last_name="Manager")
    user.groups.add(Group.objects.get(name=roles.CLINIC_MANAGER))
    return user


@pytest.mark.parametrize("width", STAFF_WIDTHS)
def test_a_manager_closes_a_day_sees_the_stranded_visits_first_and_moves_them_all(
        visitor, clinic_manager, monday_visits, width):
    you = visitor("stranded", width)
    sign_in(you, clinic_manager)
    page = you.page
    location = Location.objects.get()

    page.goto("/admin/clinic/closure/add/")
    page.locator("#id_location").select_option(str(location.pk))
    page.locator("#id_first_day").fill(MONDAY.isoformat())
    page.locator("#id_last_day").fill(MONDAY.isoformat())
    page.locator("#id_reason").fill("Ice storm")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("These 2 visits would be stranded")
    rows = page.locator(".stranded tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Ana Stranded")
    expect(rows.nth(0)).to_contain_text("Mon 11 Jan 2027 09:00 CST")
    expect(rows.nth(0)).to_contain_text("The clinic is closed that day (Ice storm).")
    expect(rows.nth(1)).to_contain_text("Ben Stranded")
    assert not Closure.objects.filter(first_day=MONDAY).exists()
    you.check("confirmation")

    page.get_by_role("button", name="Save anyway").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Needs attention")
    expect(page.locator(".messagelist")).to_contain_text("Saved. 2 visits need a new time or cancelling.")
    expect(page.locator(".attention tbody tr")).to_have_count(2)
    assert Closure.objects.filter(first_day=MONDAY, reason="Ice storm").exists()
    you.check("attention")

    page.get_by_role("button", name=re.compile("Move all 2")).click()
    expect(page.locator(".messagelist")).to_contain_text("Ana Stranded, Lumbar medial branch block (diagnostic): "
                                                         "Moved to Wed 13 Jan 2027 07:30 CST")
    expect(page.locator(".messagelist")).to_contain_text("Moved to Wed 13 Jan 2027 08:00 CST")
    expect(page.locator(".attention")).to_contain_text("Every visit your change left without a possible time now has one")
    you.check("moved")

    for visit in monday_visits:
        visit.refresh_from_db()
        assert visit.procedure_start.astimezone(location.zone).date() == WEDNESDAY
        assert visit.status == AppointmentStatus.SCHEDULED
        notices = visit.reminders.filter(kind=ReminderKind.CLINIC_MOVED, status=ReminderStatus.PENDING)
        assert notices.count() == 1
    assert not Appointment.objects.filter(pk__in=[v.pk for v in monday_visits],
                                          procedure_start__date=MONDAY).exists()
