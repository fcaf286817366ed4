"""A patient's own visit page, from the signed link: confirm, move, cancel, the waitlist and
its offers; and booking an ordered procedure from the clinic's link."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection, connections
from django.test import Client

from clinic.models import Patient
from scheduling import services
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    OfferStatus,
    Reminder,
    ReminderKind,
    SlotHold,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.pages.picker import Choice
from scheduling.reminders import dispatch, links
from scheduling.reminders.links import link, make_order_token
from scheduling.reminders.messages import render
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db

TUESDAY = dt.date(2026, 12, 1)  # Dr. Okafor's consultations 08:00-16:00


@pytest.fixture(autouse=True)
def _pages(settings):
    settings.BOOKING_FORM_MIN_SECONDS = 0
    cache.clear()


def path(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:8000")


def value(start, physician) -> str:
    return Choice(start, physician.pk, physician.name).value


def consult(calendar, patient, day=TUESDAY, hour=9, physician=None):
    return services.appointment_book(patient=patient, procedure_type=calendar.consult,
                                     physician=physician or calendar.okafor, start=local(day, hour))


@pytest.fixture
def visit(calendar):
    return consult(calendar, calendar.patients[0])


def manage_path(appointment) -> str:
    return path(link(appointment, "manage"))


# ---- The visit page ------------------------------------------------------------------------

def test_the_visit_page_shows_the_visit_and_confirms_it(client, visit):
    page = client.get(manage_path(visit))
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert "Tuesday, December 1, 2026" in text and "8:45 AM" in text and "Dr. Maya Okafor" in text
    assert "Booked, not yet confirmed" in text
    response = client.post(manage_path(visit), {"action": "confirm"})
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CONFIRMED
    assert "your visit is confirmed" in client.get(response["Location"]).content.decode()


def test_a_wrong_or_old_link_gets_a_clear_page_with_the_phone(client, calendar, visit):
    for url in ("/visit/garbage/", manage_path(visit)[:-4] + "xyz/"):
        page = client.get(url)
        assert page.status_code == 410
        assert "This link does not work" in page.content.decode() and "(918) 555-0140" in page.content.decode()
    old = manage_path(visit)
    services.appointment_reschedule(appointment=visit, start=local(TUESDAY, 11))
    page = client.get(old)
    assert page.status_code == 410 and "moved or removed" in page.content.decode()
    current = manage_path(visit)
    token = current.split("/")[-2]
    altered = current.replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
    other = consult(calendar, calendar.patients[1], hour=13)
    for url in (altered, current.replace(f"/{visit.pk}:", f"/{other.pk}:")):  # another visit's id, this signature
        page = client.get(url)
        assert page.status_code == 410 and "This link is not valid." in page.content.decode(), url


def test_moving_a_visit_from_its_page(client, calendar, visit):
    picker = client.get(manage_path(visit) + "reschedule/?week=2026-11-30")
    text = picker.content.decode()
    assert picker.status_code == 200 and "Choose a new time" in text
    new_time = value(local(TUESDAY, 13), calendar.okafor)
    assert new_time in text
    assert value(local(TUESDAY, 9), calendar.okafor) not in text  # its own time is no new time
    assert value(local(TUESDAY, 9, 15), calendar.okafor) in text  # while it does not block itself
    held = client.post(manage_path(visit) + "reschedule/", {"choice": new_time})
    assert held.status_code == 302 and held["Location"].endswith("/reschedule/confirm/")
    confirm = client.get(held["Location"]).content.decode()
    assert "From: Tuesday, December 1, 2026 at 9:00 AM" in confirm and "To: Tuesday, December 1, 2026 at 1:00 PM" in confirm
    moved = client.post(held["Location"])
    visit.refresh_from_db()
    assert visit.procedure_start == local(TUESDAY, 13)
    assert moved["Location"] == links.path(visit, "manage")  # the new link; the old one no longer works
    assert "Your visit has moved" in client.get(moved["Location"]).content.decode()


def test_a_confirmed_visit_moved_by_the_patient_stays_confirmed(client, calendar, visit):
    services.appointment_confirm(appointment=visit)
    held = client.post(manage_path(visit) + "reschedule/?week=2026-11-30",
                       {"choice": value(local(TUESDAY, 13), calendar.okafor)})
    client.post(held["Location"])
    visit.refresh_from_db()
    assert visit.procedure_start == local(TUESDAY, 13) and visit.status == AppointmentStatus.CONFIRMED
    assert "Confirmed: thank you." in client.get(manage_path(visit)).content.decode()
    # Moved by the clinic, it needs the patient's confirmation again.
    services.appointment_reschedule(appointment=visit, start=local(TUESDAY, 14))
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.SCHEDULED


def test_a_time_taken_before_the_move_is_confirmed_says_so(client, calendar, visit):
    held = client.post(manage_path(visit) + "reschedule/", {"choice": value(local(TUESDAY, 13), calendar.okafor)})
    from scheduling.models import SlotHold
    SlotHold.objects.update(expires_at=NOW - dt.timedelta(minutes=1))
    consult(calendar, calendar.patients[1], hour=13)
    page = client.post(held["Location"])
    assert page.status_code == 409 and "taken in the meantime" in page.content.decode()
    visit.refresh_from_db()
    assert visit.procedure_start == local(TUESDAY, 9)  # unchanged


def test_cancelling_from_the_page_needs_a_reason_and_shows_the_late_note(client, calendar):
    tomorrow = consult(calendar, calendar.patients[0], day=dt.date(2026, 11, 24), hour=14)  # six hours ahead
    url = path(link(tomorrow, "cancel"))
    page = client.get(url).content.decode()
    assert "Cancelling less than a day ahead" in page  # the clinic's late-cancellation note
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 400
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.SCHEDULED
    done = client.post(url, {"reason": "unwell"})
    assert "Your visit is cancelled" in done.content.decode()
    tomorrow.refresh_from_db()
    assert tomorrow.status == AppointmentStatus.CANCELLED and tomorrow.cancel_reason == "By the patient: I am unwell"


def test_a_cancellation_well_ahead_shows_no_late_note(client, visit):
    page = client.get(path(link(visit, "cancel"))).content.decode()
    assert "Cancelling less than a day ahead" not in page


def test_the_visit_page_of_a_cancelled_visit_says_so(client, visit):
    url = manage_path(visit)
    services.appointment_cancel(appointment=visit, reason="Clinic closed")
    page = client.get(url)
    assert page.status_code == 410 and "has been cancelled" in page.content.decode()


# ---- Waitlist --------------------------------------------------------------------------------

def test_a_freed_time_is_offered_to_the_waitlist_and_the_first_to_accept_gets_it(client, calendar):
    sms = Patient.objects.filter(preferred_channel="sms", sms_consent=True).order_by("pk")
    early = consult(calendar, sms[0], hour=9)
    later_a = consult(calendar, sms[1], day=dt.date(2026, 12, 8), hour=9)
    later_b = consult(calendar, sms[2], day=dt.date(2026, 12, 15), hour=9)
    for appointment in (later_a, later_b):
        client.post(manage_path(appointment), {"action": "waitlist_join"})
    assert WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING).count() == 2

    services.appointment_cancel(appointment=early, reason="Patient called")
    offers = WaitlistOffer.objects.order_by("entry__created_at")
    assert [offer.entry.appointment_id for offer in offers] == [later_a.pk, later_b.pk]
    notice = Reminder.objects.get(appointment=later_a, kind=ReminderKind.WAITLIST_OFFER)
    body = render(notice).body
    assert "Tuesday December 1 at 9:00 AM" in body and link(later_a, "manage") in body

    page_b = client.get(manage_path(later_b)).content.decode()
    assert "An earlier time is free" in page_b
    offer_b = offers.get(entry__appointment=later_b)
    taken_by_b = client.post(manage_path(later_b), {"action": "take_offer", "offer": offer_b.pk})
    later_b.refresh_from_db()
    assert later_b.procedure_start == local(TUESDAY, 9)
    assert taken_by_b["Location"] == links.path(later_b, "manage")

    offer_a = offers.get(entry__appointment=later_a)
    too_late = client.post(manage_path(later_a), {"action": "take_offer", "offer": offer_a.pk})
    assert "earlier=1" in too_late["Location"]
    following = client.get(too_late["Location"]).content.decode()
    assert "already been taken" in following and "Choose a new time" in following
    later_a.refresh_from_db()
    assert later_a.procedure_start == local(dt.date(2026, 12, 8), 9)
    offer_a.refresh_from_db()
    assert offer_a.status == OfferStatus.TAKEN


def test_only_later_visits_of_the_same_kind_and_physician_are_offered(calendar):
    early = consult(calendar, calendar.patients[0], hour=9)
    earlier = consult(calendar, calendar.patients[1], day=dt.date(2026, 11, 24), hour=14)  # before the freed time
    other_doctor = services.appointment_book(patient=calendar.patients[2], procedure_type=calendar.consult,
                                             physician=calendar.reyes, start=local(dt.date(2026, 12, 7), 9))
    for appointment in (earlier, other_doctor):
        services.waitlist_join(appointment=appointment)
    services.appointment_cancel(appointment=early, reason="Patient called")
    assert not WaitlistOffer.objects.exists()


def test_leaving_the_waitlist(client, visit):
    client.post(manage_path(visit), {"action": "waitlist_join", "any_physician": "1"})
    entry = WaitlistEntry.objects.get()
    assert entry.any_physician
    client.post(manage_path(visit), {"action": "waitlist_leave"})
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.ENDED


# ---- An ordered procedure, from the clinic's link --------------------------------------------------

@pytest.fixture
def order(calendar):
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    return calendar.order_for(patient, calendar.esi)


def test_an_ordered_procedure_is_booked_from_the_link_with_its_preparation(client, calendar, order):
    url = f"/book/order/{make_order_token(order)}/"
    page = client.get(url + "?week=2026-11-30")
    text = page.content.decode()
    assert page.status_code == 200 and "Before your procedure" in text
    choice = value(local(NEXT_MONDAY, 9), calendar.okafor)
    assert choice in text
    held = client.post(url, {"choice": choice})
    assert held.status_code == 302 and held["Location"] == url + "confirm/"
    review = client.get(held["Location"]).content.decode()
    assert "Monday, November 30, 2026" in review and "Getting ready" in review
    booked = client.post(held["Location"], {"held": re.search(r'name="held" value="(\d+)"', review).group(1)})
    assert booked["Location"] == "/book/done/"
    appointment = Appointment.objects.get(order=order)
    assert appointment.procedure_start == local(NEXT_MONDAY, 9) and appointment.patient == order.patient
    again = client.get(url)  # the link now shows the booked visit
    assert again.status_code == 200 and "Your procedure is booked" in again.content.decode()


def test_a_patient_who_books_the_order_in_spanish_gets_their_messages_in_spanish(client, calendar, order):
    assert order.patient.language == "en"
    url = f"/book/order/{make_order_token(order)}/"
    client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)}, HTTP_ACCEPT_LANGUAGE="es")
    review = client.get(url + "confirm/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    client.post(url + "confirm/", {"held": re.search(r'name="held" value="(\d+)"', review).group(1)},
                HTTP_ACCEPT_LANGUAGE="es")
    order.patient.refresh_from_db()
    assert order.patient.language == "es"
    confirmation = Appointment.objects.get(order=order).reminders.get(kind="booking_confirmation")
    assert "su cita está reservada" in render(confirmation).body


def order_booked_then_moved(client, calendar, order) -> tuple[str, Appointment, str]:
    """An order booked from its link, then moved: the order link, the visit, its old manage path."""
    url = f"/book/order/{make_order_token(order)}/"
    client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)})
    review = client.get(url + "confirm/").content.decode()
    client.post(url + "confirm/", {"held": re.search(r'name="held" value="(\d+)"', review).group(1)})
    appointment = Appointment.objects.get(order=order)
    old_manage = links.path(appointment, "manage")
    moved = services.appointment_reschedule(appointment=appointment, start=local(NEXT_MONDAY, 11))
    return url, moved, old_manage


def test_after_a_move_the_order_link_shows_the_visit_but_cannot_cancel_or_move_it(calendar, order):
    from django.test import Client

    url, moved, old_manage = order_booked_then_moved(Client(), calendar, order)
    stranger = Client()  # another browser: only the order link from an old message
    assert stranger.get(old_manage).status_code == 410
    page = stranger.get(url)
    text = page.content.decode()
    assert page.status_code == 200
    assert "11:00 AM" in text and "use the link in your latest message" in text
    assert "<form method=\"post\"" not in text.split("</header>", 1)[1]  # no button acts on the visit
    assert "/visit/" not in text  # no link to the visit's own pages
    assert stranger.post(url, {"choice": value(local(NEXT_MONDAY, 13), calendar.okafor)}).status_code == 200
    assert stranger.post(url + "confirm/", {"held": "1"}).status_code == 200
    moved.refresh_from_db()
    assert moved.status == AppointmentStatus.SCHEDULED and moved.procedure_start == local(NEXT_MONDAY, 11)
    assert not SlotHold.objects.filter(procedure_start=local(NEXT_MONDAY, 13)).exists()


def test_the_order_form_sent_twice_shows_the_booking_just_made(client, calendar, order):
    url = f"/book/order/{make_order_token(order)}/"
    client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)})
    review = client.get(url + "confirm/").content.decode()
    held = re.search(r'name="held" value="(\d+)"', review).group(1)
    assert client.post(url + "confirm/", {"held": held})["Location"] == "/book/done/"
    assert client.post(url + "confirm/", {"held": held})["Location"] == "/book/done/"
    assert Appointment.objects.filter(order=order).count() == 1


def test_an_order_confirmation_from_another_tab_books_nothing(client, calendar, order):
    url = f"/book/order/{make_order_token(order)}/"
    client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)})
    first_tab = client.get(url + "confirm/").content.decode()
    client.post(url, {"choice": value(local(NEXT_MONDAY, 11), calendar.okafor)})  # a second tab
    page = client.post(url + "confirm/", {"held": re.search(r'name="held" value="(\d+)"', first_tab).group(1)})
    text = page.content.decode()
    assert page.status_code == 409 and "You picked another time in another window" in text
    assert "11:00 AM" in text and not Appointment.objects.filter(order=order).exists()


def test_the_order_picker_offers_only_days_the_rules_allow(client, calendar, order):
    services.appointment_book(patient=order.patient, procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(NEXT_MONDAY, 9), order=order)
    # A second injection in the same region must wait at least 14 days.
    second = calendar.order_for(order.patient, calendar.esi)
    page = client.get(f"/book/order/{make_order_token(second)}/?week=2026-11-30")
    text = page.content.decode()
    assert value(local(dt.date(2026, 12, 2), 9), calendar.okafor) not in text


@pytest.mark.parametrize("token", ["garbage", "1:abc:def"])
def test_a_wrong_order_link_gets_a_clear_page(client, calendar, token):
    page = client.get(f"/book/order/{token}/")
    assert page.status_code == 410 and "(918) 555-0140" in page.content.decode()


def test_an_expired_order_link_says_so(client, calendar, order, settings, clock):
    url = f"/book/order/{make_order_token(order)}/"
    clock.shift(dt.timedelta(days=settings.ORDER_LINK_DAYS + 1))
    page = client.get(url)
    assert page.status_code == 410 and "expired" in page.content.decode()


# ---- Messages carry the links ------------------------------------------------------------------

def test_the_confirmation_request_links_to_changing_the_time(calendar, visit):
    body = render(visit.reminders.get(kind="confirmation_request")).body
    assert f"Change the time: {link(visit, 'manage', 'visit-reschedule')}" in body


def test_emails_carry_an_html_version_with_buttons(calendar, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    patient = Patient.objects.filter(preferred_channel="email", email_consent=True).exclude(email="").first()
    appointment = consult(calendar, patient)
    assert dispatch.dispatch_due(now=NOW) >= 1
    (email,) = [m for m in mail.outbox if patient.email in m.to]
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "See or change my visit" in html and link(appointment, "manage") in html
    assert "(918) 555-0140" in html and "consultation" not in html.lower()
    assert 'href="tel:+19185550140"' in html  # dialable, as the pages write it


def test_a_spanish_speaking_patient_gets_messages_in_spanish(calendar):
    patient = calendar.patients[0]
    patient.language = "es"
    patient.save()
    appointment = consult(calendar, patient)
    body = render(appointment.reminders.get(kind="booking_confirmation")).body
    assert "martes 1 de diciembre" in body and "Interval Pain Center Bartlesville" in body
    assert "your visit" not in body.lower()


def test_a_patient_on_a_blood_thinner_is_offered_only_days_they_can_still_stop_it_for(client, calendar, order):
    from clinic.models import BloodThinner
    order.patient.blood_thinners.set([BloodThinner.objects.get(name="Warfarin")])  # 5 days before this risk
    url = f"/book/order/{make_order_token(order)}/"
    text = client.get(url + "?week=2026-11-23").content.decode()
    assert value(local(dt.date(2026, 11, 25), 9), calendar.okafor) not in text  # would need stopping on the 20th
    refused = client.post(url, {"choice": value(local(dt.date(2026, 11, 25), 9), calendar.okafor)})
    assert refused.status_code == 400
    held = client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)})  # last dose the 24th: today
    assert held.status_code == 302
    review = client.get(held["Location"]).content.decode()
    assert "Warfarin: take your last dose on Tuesday November 24" in review


def test_moving_a_visit_keeps_its_doctor_unless_the_patient_asks_for_anyone(client, calendar, visit):
    own = client.get(manage_path(visit) + "reschedule/?week=2026-11-30").content.decode()
    nair_at_ten = value(local(TUESDAY, 10), calendar.nair)  # Dr. Nair also sees patients on Tuesday mornings
    assert nair_at_ten not in own and value(local(TUESDAY, 10), calendar.okafor) in own
    anyone = client.get(manage_path(visit) + "reschedule/?week=2026-11-30&physician=any").content.decode()
    assert nair_at_ten in anyone or value(local(TUESDAY, 10), calendar.okafor) in anyone
    assert "Dr. Okafor" in anyone or "Dr. Nair" in anyone  # first available names the doctor on each time


def test_a_change_notice_at_night_goes_by_email_when_the_patient_allows_it(calendar, clock):
    patient = Patient.objects.filter(preferred_channel="sms", sms_consent=True).exclude(phone="").first()
    patient.email, patient.email_consent = "night@example.com", True
    patient.save()
    appointment = consult(calendar, patient)
    clock.move_to(local(dt.date(2026, 11, 24), 22))  # quiet hours for texts
    services.appointment_cancel(appointment=appointment, reason="Clinic closed")
    notice = appointment.reminders.get(kind=ReminderKind.VISIT_CANCELLED)
    assert notice.channel == "email" and notice.due_at == local(dt.date(2026, 11, 24), 22)


def test_the_order_page_in_the_admin_shows_the_link_or_why_it_cannot_be_used(client, calendar, order, front_desk):
    client.force_login(front_desk)
    page = client.get(f"/admin/scheduling/procedureorder/{order.pk}/change/").content.decode()
    assert make_order_token(order) in page
    insured = Patient.objects.filter(payer__requires_prior_authorization=True).order_by("pk").first()
    pending = calendar.order_for(insured, calendar.esi, authorization_status="pending", authorization_number="")
    page = client.get(f"/admin/scheduling/procedureorder/{pending.pk}/change/").content.decode()
    assert "cannot book this online yet" in page and make_order_token(pending) not in page
    assert "yet:</strong>" in page and ").;" not in page


def test_the_order_page_of_a_booked_order_says_it_is_booked_not_why_it_cannot_be(client, calendar, order,
                                                                                  front_desk):
    """An epidural's own booked visit would count against its 14-day rule."""
    visit = services.appointment_book(patient=order.patient, procedure_type=order.procedure_type,
                                      physician=calendar.okafor, order=order, start=local(NEXT_MONDAY, 9),
                                      by=front_desk)
    client.force_login(front_desk)
    page = client.get(f"/admin/scheduling/procedureorder/{order.pk}/change/").content.decode()
    assert "<strong>Booked:</strong>" in page and f"/admin/scheduling/appointment/{visit.pk}/change/" in page
    assert "cannot book this online yet" not in page and make_order_token(order) in page


def test_the_clinic_sends_the_order_link_through_the_reminder_worker(client, calendar, order, front_desk, settings):
    from scheduling.reminders.transports import MemorySMSTransport
    settings.SMS_TRANSPORT = "memory"
    MemorySMSTransport.outbox.clear()
    patient = order.patient
    patient.phone, patient.sms_consent, patient.preferred_channel = "(918) 555-0188", True, "sms"
    patient.save()
    client.force_login(front_desk)
    response = client.post("/admin/scheduling/procedureorder/", {"action": "send_booking_link",
                                                                 "_selected_action": [order.pk]})
    assert response.status_code == 302
    message = Reminder.objects.get(order=order, kind=ReminderKind.ORDER_BOOKING_LINK)
    assert message.appointment is None
    assert dispatch.dispatch_due(now=NOW) == 1
    (sms,) = MemorySMSTransport.outbox
    MemorySMSTransport.outbox.clear()
    assert sms.to == "+19185550188" and links.order_link(order) in sms.body
    assert "Interval Pain Center Bartlesville" in sms.body and "injection" not in sms.body.lower()
    message.refresh_from_db()
    assert message.status == "sent"


def test_a_booking_at_night_is_confirmed_by_email_at_once_when_the_patient_allows_it(calendar, clock):
    patient = Patient.objects.filter(preferred_channel="sms", sms_consent=True).exclude(phone="").first()
    patient.email, patient.email_consent = "night@example.com", True
    patient.save()
    clock.move_to(local(dt.date(2026, 11, 24), 23))
    appointment = consult(calendar, patient)
    confirmation = appointment.reminders.get(kind=ReminderKind.BOOKING_CONFIRMATION)
    assert confirmation.channel == "email" and confirmation.due_at == local(dt.date(2026, 11, 24), 23)
    assert appointment.reminders.exclude(kind=ReminderKind.BOOKING_CONFIRMATION).first().channel == "sms"


@pytest.mark.django_db(transaction=True)
def test_two_presses_of_cancel_at_once_both_answer_that_the_visit_is_cancelled(postgres, calendar):
    """A double click: both requests find the visit booked; the second then finds it cancelled by
    the first, and says so rather than that the link no longer works. A row lock taken here
    holds both at the visit's row until each has read it as booked."""
    visit = consult(calendar, calendar.patients[0])
    url = path(link(visit, "cancel"))
    answers: list = []

    def press():
        try:
            answers.append(Client().post(url, {"reason": "unwell"}))
        finally:
            connections.close_all()

    blocker = connections.create_connection("default")
    try:
        blocker.set_autocommit(False)
        with blocker.cursor() as cursor:
            cursor.execute("SELECT id FROM scheduling_appointment WHERE id = %s FOR UPDATE", [visit.pk])
        presses = [threading.Thread(target=press) for _ in range(2)]
        for thread in presses:
            thread.start()
        waiting = 0
        for _ in range(200):  # both requests queue behind the lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND datname = current_database()")
                waiting = cursor.fetchone()[0]
            if waiting == 2:
                break
            threading.Event().wait(0.05)
        assert waiting == 2
        blocker.commit()
    finally:
        blocker.close()
    for thread in presses:
        thread.join(timeout=30)
    assert [answer.status_code for answer in answers] == [200, 200]
    assert all("Your visit is cancelled" in answer.content.decode() for answer in answers)
    visit.refresh_from_db()
    assert visit.status == AppointmentStatus.CANCELLED
