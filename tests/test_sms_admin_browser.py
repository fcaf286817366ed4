"""Staff see how texts fared and phone numbers in the national format, in a real browser at a
phone's and a desktop's width. The pages are held to axe-core and photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import Reminder
from tests.browser import sign_in
from tests.conftest import NEXT_MONDAY, local

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_staff_see_each_texts_delivery_and_the_patients_number_nationally(visitor, superuser, calendar, width):
    patient = Patient.objects.filter(payer__name="Medicare", preferred_channel="sms").order_by("pk").first()
    patient.phone = "918.555.0142"
    patient.save()
    patient.blood_thinners.clear()
    esi = ProcedureType.objects.get(code="ESI_IL")
    calendar.order_for(patient, esi)
    appointment = services.appointment_book(patient=patient, procedure_type=esi, physician=calendar.okafor,
                                            start=local(NEXT_MONDAY, 9))
    confirmation, *others = appointment.reminders.order_by("due_at")
    Reminder.objects.filter(pk=confirmation.pk).update(status="sent", provider_message_id="SM" + "1" * 32,
                                                       delivery_status="delivered")
    Reminder.objects.filter(pk=others[0].pk).update(status="sent", provider_message_id="SM" + "2" * 32,
                                                    delivery_status="undelivered", delivery_error_code="30003")

    you = visitor("sms-admin", width)
    sign_in(you, superuser)
    page = you.page
    page.goto("/admin/scheduling/reminder/")
    expect(page.locator("#result_list")).to_contain_text("Delivered")
    expect(page.locator("#result_list")).to_contain_text("Not delivered (30003)")
    you.check("reminder-list")

    page.goto(f"/admin/clinic/patient/{patient.pk}/change/")
    expect(page.locator("input[name=phone]")).to_have_value("(918) 555-0142")
    expect(page.locator("table[aria-labelledby=messages-sent]")).to_contain_text("Not delivered (30003)")
    you.check("patient-page")
