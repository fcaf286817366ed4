"""The order admin's *Send the booking link* says the right thing for each order, and the
location admin edits what patients are told."""

from __future__ import annotations

import pytest

from clinic.models import Location, Patient
from scheduling import services
from scheduling.models import OrderStatus, Reminder, ReminderKind
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(calendar):
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    return calendar.order_for(patient, calendar.esi)


def send_link(client, order) -> str:
    response = client.post("/admin/scheduling/procedureorder/", {"action": "send_booking_link",
                                                                 "_selected_action": [order.pk]}, follow=True)
    return response.content.decode()


def test_sending_the_link_of_a_booked_order_says_when_and_links_to_the_visit(client, calendar, order, front_desk):
    visit = services.appointment_book(patient=order.patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                      start=local(NEXT_MONDAY, 9), order=order)
    client.force_login(front_desk)
    page = send_link(client, order)
    assert "already booked for" in page and "Mon 2026-11-30 09:00 CST" in page
    assert f'href="/admin/scheduling/appointment/{visit.pk}/change/"' in page
    assert "cannot be booked online yet" not in page
    assert not Reminder.objects.filter(order=order, kind=ReminderKind.ORDER_BOOKING_LINK).exists()


@pytest.mark.parametrize("status, words", [(OrderStatus.COMPLETED, "the order is completed"),
                                           (OrderStatus.CANCELLED, "the order is cancelled")])
def test_sending_the_link_of_a_closed_order_says_why_not(client, calendar, order, front_desk, status, words):
    order.status = status
    order.save()
    client.force_login(front_desk)
    page = send_link(client, order)
    assert words in page and "cannot be booked online yet" not in page
    assert not Reminder.objects.filter(order=order).exists()


def test_sending_the_link_of_an_open_order_queues_it(client, calendar, order, front_desk):
    client.force_login(front_desk)
    page = send_link(client, order)
    assert "1 booking link will go out within a minute." in page
    assert Reminder.objects.filter(order=order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 1


def test_the_location_admin_edits_what_to_bring_and_the_late_cancellation_policy(client, manager):
    location = Location.objects.get()
    client.force_login(manager)
    page = client.get(f"/admin/clinic/location/{location.pk}/change/").content.decode()
    for name in ("what_to_bring_en", "what_to_bring_es", "late_cancellation_hours", "late_cancellation_note_en",
                 "late_cancellation_note_es"):
        assert f'name="{name}"' in page


def test_the_order_list_says_which_open_orders_are_booked_and_filters_by_it(client, calendar, front_desk):
    booked, waiting = calendar.order_for(calendar.patients[0]), calendar.order_for(calendar.patients[1])
    visit = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                      physician=calendar.okafor, start=local(NEXT_MONDAY, 9), order=booked)
    client.force_login(front_desk)
    page = client.get("/admin/scheduling/procedureorder/").content.decode()
    assert f'href="/admin/scheduling/appointment/{visit.pk}/change/">Mon 2026-11-30 09:00 CST</a>' in page
    not_booked = client.get("/admin/scheduling/procedureorder/?booked=no").content.decode()
    assert f"/admin/scheduling/procedureorder/{waiting.pk}/change/" in not_booked
    assert f"/admin/scheduling/procedureorder/{booked.pk}/change/" not in not_booked
    only_booked = client.get("/admin/scheduling/procedureorder/?booked=yes").content.decode()
    assert f"/admin/scheduling/procedureorder/{booked.pk}/change/" in only_booked
    assert f"/admin/scheduling/procedureorder/{waiting.pk}/change/" not in only_booked


def test_an_orders_page_asks_only_for_the_requirements_its_procedure_has(client, calendar, manager):
    from clinic.models import ProcedureType

    client.force_login(manager)
    epidural = calendar.order_for(calendar.patients[0])
    page = client.get(f"/admin/scheduling/procedureorder/{epidural.pk}/change/").content.decode()
    assert "imaging_confirms_acute_fracture" not in page and "psych_evaluation_date" not in page
    vertebroplasty = calendar.order_for(calendar.patients[1], ProcedureType.objects.get(code="VERTEBROPLASTY"),
                                        region="thoracic", imaging_confirms_acute_fracture=True)
    page = client.get(f"/admin/scheduling/procedureorder/{vertebroplasty.pk}/change/").content.decode()
    assert 'name="imaging_confirms_acute_fracture"' in page and "psych_evaluation_date" not in page
    trial = calendar.order_for(calendar.patients[2], ProcedureType.objects.get(code="SCS_TRIAL"))
    page = client.get(f"/admin/scheduling/procedureorder/{trial.pk}/change/").content.decode()
    assert 'name="psych_evaluation_date"' in page and "imaging_confirms_acute_fracture" not in page
    assert 'name="imaging_confirms_acute_fracture"' in client.get("/admin/scheduling/procedureorder/add/").content.decode()
