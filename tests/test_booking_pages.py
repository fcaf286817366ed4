"""The public booking pages, view by view: pick a time, hold it, give details, book; and every
way it can go wrong."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from icalendar import Calendar

from clinic.models import Patient, ProcedureType
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus, SlotHold
from scheduling.pages.picker import Choice
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db

# Tuesday 2026-12-01: Dr. Okafor's clinic block 08:00-16:00 (consultations).
NEXT_TUESDAY = dt.date(2026, 12, 1)


@pytest.fixture(autouse=True)
def _pages(settings):
    settings.BOOKING_FORM_MIN_SECONDS = 0
    cache.clear()  # rate-limit counters
    yield
    cache.clear()


def value(start: dt.datetime, physician) -> str:
    return Choice(start, physician.pk, physician.name).value


def details(**overrides) -> dict:
    data = {"first_name": "Rosa", "last_name": "Quintero", "date_of_birth": "1958-04-02", "phone": "(918) 555-0111",
            "email": "rosa@example.com", "sms_consent": "on", "email_consent": "on", "note": "", "website": ""}
    data.update(overrides)
    return data


def rendered(client) -> dict:
    """The hidden fields of the details form as the page shows it: when it was shown (the guard
    against scripts) and the held time it books."""
    page = client.get("/book/details/").content.decode()
    return {name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1) for name in ("started", "held", "shown")}


def started(page: str) -> str:
    """The id of the form a page shows (each showing has its own; a sent one is used up)."""
    return re.search(r'name="started" value="([^"]+)"', page).group(1)


def hold(client, calendar, start=None, physician=None):
    return client.post("/book/hold/", {"visit": "CONSULT_NEW", "location": calendar.location.pk,
                                       "choice": value(start or local(NEXT_TUESDAY, 9), physician or calendar.okafor)})


def book(client, calendar, **overrides):
    assert hold(client, calendar).status_code == 302
    return client.post("/book/details/", {**details(**overrides), **rendered(client)})


# ---- Start page and picker -------------------------------------------------------------------

def test_the_start_page_names_the_clinic_and_the_self_bookable_visits(client, calendar):
    page = client.get("/book/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Interval Pain Center Bartlesville" in text and "(918) 555-0140" in text
    assert "New patient consultation" in text and "Follow-up visit" in text
    assert "Interlaminar epidural" not in text  # procedures need an order
    assert "booked from the link the clinic sends" in text
    assert "no-store" in page["Cache-Control"]


def test_the_picker_shows_a_week_of_offered_times_in_the_clinic_zone(client, calendar):
    page = client.get("/book/times/?visit=CONSULT_NEW&week=2026-11-30")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Times are Central Time (CST)." in text
    assert "Tuesday, December 1" in text
    assert value(local(NEXT_TUESDAY, 8), calendar.okafor) in text  # Dr. Okafor's clinic opens at 08:00
    assert "no-store" in page["Cache-Control"]


def test_the_picker_swaps_in_the_week_alone_for_the_script(client, calendar):
    page = client.get("/book/times/?visit=CONSULT_NEW&week=2026-12-07", HTTP_X_INTERVAL_PARTIAL="week")
    text = page.content.decode()
    assert text.startswith("<section id=\"week\"") and "<html" not in text
    assert "Monday, December 7" in text


def test_a_week_with_no_times_shows_the_next_free_ones(client, calendar):
    services.slot_hold  # the week of Christmas is open; close it with time off for everyone
    from clinic.models import Physician, TimeOff
    for physician in Physician.objects.all():
        TimeOff.objects.create(physician=physician, starts_at=local(dt.date(2026, 12, 7), 0),
                               ends_at=local(dt.date(2026, 12, 14), 0), reason="Conference")
    text = client.get("/book/times/?visit=CONSULT_NEW&week=2026-12-07").content.decode()
    assert "There are no free times this week." in text
    assert "The next free times" in text and "Monday, December 14" in text


@pytest.mark.parametrize("query", ["visit=ESI_IL", "visit=NOPE", "", "visit=CONSULT_NEW&week=not-a-date&location=x"])
def test_a_bad_picker_link_gets_a_clear_page_not_an_error(client, calendar, query):
    page = client.get(f"/book/times/?{query}")
    assert page.status_code in (200, 404)
    if page.status_code == 404:
        assert "cannot be booked online" in page.content.decode() and "(918) 555-0140" in page.content.decode()


@pytest.mark.parametrize(("week", "shown", "says", "dice"), [
    ("2026-99-99", "Monday, November 23", "The link asked for a week that is not a date.", "no es una fecha"),
    ("2026-10-05", "Monday, November 23", "That week has gone by.", "Esa semana ya pasó."),
    ("2027-12-06", "Monday, February 22", "Times can be booked online up to Monday, February 22, 2027.",
     "Se puede reservar en línea hasta el"),
    ("2026-11-23", "Monday, November 23", None, None),  # this week, begun before today: the week asked for
    ("2026-12-09", "Monday, December 7", None, None),  # any day names its week
])
def test_a_picker_link_to_a_week_it_cannot_show_says_which_it_shows_instead(client, calendar, week, shown, says,
                                                                           dice):
    for partial in ({}, {"HTTP_X_INTERVAL_PARTIAL": "week"}):
        page = client.get(f"/book/times/?visit=CONSULT_NEW&week={week}", **partial)
        text = page.content.decode()
        assert page.status_code == 200 and f"Week of {shown}" in text
        assert (says in text) if says else ('class="alert" role="status"' not in text)
    if says:
        spanish = client.get(f"/book/times/?visit=CONSULT_NEW&week={week}", HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert dice in spanish


# ---- Hold, details, booking ----------------------------------------------------------------------

def test_booking_a_consultation_end_to_end_creates_a_patient_for_review(client, calendar):
    response = book(client, calendar)
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    appointment = Appointment.objects.get(patient__last_name="Quintero")
    assert appointment.procedure_start == local(NEXT_TUESDAY, 9)
    assert appointment.booked_by is None and appointment.status == AppointmentStatus.SCHEDULED
    patient = appointment.patient
    assert patient.needs_review and patient.sms_consent and patient.preferred_channel == "sms"
    assert not SlotHold.objects.exists()  # the hold is released by the booking
    done = client.get("/book/done/").content.decode()
    assert "Your visit is booked" in done and "Tuesday, December 1, 2026" in done
    assert "8:45 AM" in done and "9:00 AM" in done  # arrival 15 minutes ahead
    assert "photo ID" in done  # what to bring
    assert "/calendar.ics" in done and "/visit/" in done
    assert appointment.reminders.filter(kind="booking_confirmation").exists()


def test_patient_details_never_appear_in_a_url(client, calendar):
    response = book(client, calendar)
    for url in (response["Location"],):
        assert "Quintero" not in url and "1958" not in url and "555" not in url


def test_a_returning_patient_is_matched_by_name_birth_date_and_phone(client, calendar):
    patient = Patient.objects.filter(phone__startswith="+1918555").exclude(phone="").order_by("pk").first()
    before = Patient.objects.count()
    book(client, calendar, first_name=patient.first_name.upper(), last_name=patient.last_name,
         date_of_birth=patient.date_of_birth.isoformat(), phone=re.sub(r"\D", "", str(patient.phone)), email="",
         email_consent="")
    assert Patient.objects.count() == before
    assert Appointment.objects.filter(patient=patient, procedure_start=local(NEXT_TUESDAY, 9)).exists()


def test_the_same_name_and_birth_date_with_other_contacts_is_a_new_record(client, calendar):
    patient = Patient.objects.order_by("pk").first()
    page = book(client, calendar, first_name=patient.first_name, last_name=patient.last_name,
                date_of_birth=patient.date_of_birth.isoformat(), phone="(918) 555-0199", email="other@example.com")
    assert page.status_code == 302  # the same page as any booking: nothing says a record exists
    new = Appointment.objects.get(procedure_start=local(NEXT_TUESDAY, 9)).patient
    assert new.pk != patient.pk and new.needs_review


def test_a_held_time_is_not_offered_to_anyone_else(client, client2, calendar):
    hold(client, calendar)
    text = client2.get("/book/times/?visit=CONSULT_NEW&physician=%d&week=2026-11-30" % calendar.okafor.pk
                       ).content.decode()
    assert value(local(NEXT_TUESDAY, 9), calendar.okafor) not in text
    assert value(local(NEXT_TUESDAY, 9, 15), calendar.okafor) not in text  # 45-minute consultation
    taken = hold(client2, calendar)
    assert taken.status_code == 409
    text = taken.content.decode()
    assert "that time has just been taken" in text
    assert value(local(NEXT_TUESDAY, 9, 45), calendar.okafor) in text or "nearest" in text


def test_a_time_taken_while_filling_in_the_form_offers_alternatives_and_keeps_the_details(client, calendar):
    hold(client, calendar)
    token = rendered(client)
    SlotHold.objects.update(expires_at=NOW - dt.timedelta(minutes=1))  # the hold ran out ...
    other = Patient.objects.order_by("pk").first()
    services.appointment_book(patient=other, procedure_type=calendar.consult, physician=calendar.okafor,
                              start=local(NEXT_TUESDAY, 9))  # ... and the front desk gave the time away
    page = client.post("/book/details/", {**details(), **token})
    text = page.content.decode()
    assert page.status_code == 409
    assert "taken while you were filling in the form" in text
    assert 'value="Quintero"' in text  # nothing typed is lost
    choice = re.search(r'name="choice" value="([^"]+)"', text).group(1)
    retry = client.post("/book/details/", {**details(), **token, "choice": choice, "started": started(text)})
    assert retry.status_code == 302
    assert Appointment.objects.filter(patient__last_name="Quintero").exists()


def test_details_without_a_held_time_go_back_to_the_start(client, calendar):
    response = client.get("/book/details/")
    assert response.status_code == 302 and response["Location"] == "/book/"


@pytest.mark.parametrize("bad", [{"date_of_birth": "2030-01-01"}, {"date_of_birth": "31/02/1950"},
                                 {"phone": "", "email": ""}, {"sms_consent": "on", "phone": ""},
                                 {"email": "not-an-email"}, {"first_name": ""}])
def test_bad_details_are_explained_and_nothing_is_booked(client, calendar, bad):
    page = book(client, calendar, **bad)
    assert page.status_code == 400
    assert 'class="errorlist' in page.content.decode()
    assert not Appointment.objects.filter(procedure_start=local(NEXT_TUESDAY, 9)).exists()


def test_a_form_filled_in_by_a_script_is_not_booked(client, calendar, settings):
    page = book(client, calendar, website="http://spam.example")
    assert page.status_code == 400 and "send the form again" in page.content.decode()
    settings.BOOKING_FORM_MIN_SECONDS = 3
    page = book(client, calendar)  # the clock is frozen: sent back "instantly"
    assert page.status_code == 400
    page = client.post("/book/details/", {**details(), **rendered(client), "started": "forged"})
    assert page.status_code == 400
    assert not Appointment.objects.filter(procedure_start=local(NEXT_TUESDAY, 9)).exists()


def test_a_form_id_from_one_session_is_refused_in_another(calendar, settings, clock):
    from django.test import Client

    settings.BOOKING_FORM_MIN_SECONDS = 3
    first = Client()
    assert hold(first, calendar).status_code == 302
    copied = rendered(first)["started"]
    clock.shift(dt.timedelta(seconds=10))  # old enough for a person
    for start in (local(NEXT_TUESDAY, 10), local(NEXT_TUESDAY, 11), local(NEXT_TUESDAY, 13)):
        script = Client()  # a fresh session sends its own form at once, with the copied id
        assert hold(script, calendar, start=start).status_code == 302
        page = script.post("/book/details/", {**details(), **rendered(script), "started": copied})
        assert page.status_code == 400 and "send the form again" in page.content.decode()
    assert not Appointment.objects.exists()


def test_a_form_id_is_used_up_when_the_form_is_sent(client, calendar, settings, clock):
    settings.BOOKING_FORM_MIN_SECONDS = 3
    assert hold(client, calendar).status_code == 302
    form = rendered(client)
    clock.shift(dt.timedelta(seconds=10))
    refused = client.post("/book/details/", {**details(phone="not a phone"), **form})
    assert refused.status_code == 400 and "send the form again" not in refused.content.decode()
    again = client.post("/book/details/", {**details(), **form})  # the same id a second time
    assert again.status_code == 400 and "send the form again" in again.content.decode()
    fresh = started(again.content.decode())
    assert fresh != form["started"]
    clock.shift(dt.timedelta(seconds=10))
    assert client.post("/book/details/", {**details(), **form, "started": fresh}).status_code == 302


def test_a_form_id_expires_after_half_an_hour(client, calendar, settings, clock):
    settings.BOOKING_FORM_MIN_SECONDS = 3
    assert hold(client, calendar).status_code == 302
    form = rendered(client)
    clock.shift(dt.timedelta(minutes=31))
    page = client.post("/book/details/", {**details(), **form})
    assert page.status_code == 400 and "send the form again" in page.content.decode()


def test_a_form_id_is_bound_to_the_held_time_it_was_shown_for(rf, calendar):
    from django.contrib.sessions.backends.db import SessionStore

    from scheduling.pages import fill_time

    request = rf.post("/book/details/")
    request.session = SessionStore()
    first = SlotHold(pk=1)
    form_id = fill_time.form_shown(request, first)
    assert not fill_time.filled_in_by_a_person(request, form_id, held="2")
    assert fill_time.filled_in_by_a_person(request, fill_time.form_shown(request, first), held="1")


def test_forms_need_their_csrf_token(calendar):
    from django.test import Client
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/book/hold/", {"visit": "CONSULT_NEW", "choice": "1-1"})
    assert response.status_code == 403
    assert "security check" in response.content.decode()


def test_searches_and_bookings_are_rate_limited_per_client(client, calendar, settings):
    settings.BOOKING_SEARCH_RATE = "3/m"
    for _ in range(3):
        assert client.get("/book/times/?visit=CONSULT_NEW").status_code == 200
    limited = client.get("/book/times/?visit=CONSULT_NEW")
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    assert "Please wait a moment" in limited.content.decode()
    other = client.get("/book/times/?visit=CONSULT_NEW", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_unknown_pages_get_a_friendly_404(client, calendar, settings):
    settings.DEBUG = False
    page = client.get("/book/nothing-here/")
    assert page.status_code == 404
    assert "Page not found" in page.content.decode() and "(918) 555-0140" in page.content.decode()


def test_the_pages_are_in_spanish_for_a_spanish_browser(client, calendar):
    page = client.get("/book/", HTTP_ACCEPT_LANGUAGE="es")
    text = page.content.decode()
    assert 'lang="es"' in text and "Reservar una cita" in text
    week = client.get("/book/times/?visit=CONSULT_NEW&week=2026-11-30", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "martes" in week.lower() and "diciembre" in week.lower()


def test_a_spanish_browser_reads_the_catalog_texts_in_spanish(client, calendar):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "es"
    start = client.get("/book/").content.decode()
    assert "Consulta de paciente nuevo" in start and "New patient consultation" not in start
    assert book(client, calendar).status_code == 302
    done = client.get("/book/done/").content.decode()
    assert "Llegar a la hora indicada le da tiempo" in done  # the consultation's preparation
    assert "Su identificación con foto" in done and "photo ID" not in done  # the location's "what to bring"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "New patient consultation" in client.get("/book/").content.decode()


def test_a_catalog_text_not_yet_translated_reads_in_english(client, calendar):
    follow_up = ProcedureType.objects.get(code="FOLLOW_UP")
    follow_up.name_es = None
    follow_up.save()
    start = client.get("/book/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Follow-up visit" in start and "Consulta de paciente nuevo" in start


# ---- The calendar file ------------------------------------------------------------------------

def test_the_calendar_file_has_the_visit_in_the_clinic_zone(client, calendar):
    book(client, calendar)
    done = client.get("/book/done/").content.decode()
    url = re.search(r'href="(/visit/[^"]+/calendar.ics)"', done).group(1)
    response = client.get(url)
    assert response["Content-Type"].startswith("text/calendar")
    parsed = Calendar.from_ical(response.content)
    (event,) = parsed.walk("VEVENT")
    assert event.decoded("dtstart") == local(NEXT_TUESDAY, 8, 45)
    assert str(event.decoded("dtstart").tzinfo) == "America/Chicago"
    assert "consultation" not in str(event["summary"]).lower()
    assert parsed.walk("VTIMEZONE")


@pytest.fixture
def client2():
    from django.test import Client
    return Client()


def test_a_server_error_gets_the_static_apology_page(calendar, settings, monkeypatch):
    from django.test import Client

    settings.DEBUG = False

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("scheduling.pages.booking.render_local", broken)
    page = Client(raise_request_exception=False).get("/book/")
    assert page.status_code == 500
    text = page.content.decode()
    assert "Something went wrong on our side" in text and "nothing was changed" in text
    assert "Traceback" not in text and "RuntimeError" not in text


def test_a_held_time_beside_a_booked_visit_and_time_off_keeps_the_picker_working(client, client2, calendar):
    from clinic.models import TimeOff
    other = Patient.objects.order_by("pk").first()
    services.appointment_book(patient=other, procedure_type=calendar.consult, physician=calendar.okafor,
                              start=local(NEXT_TUESDAY, 11))
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(NEXT_TUESDAY, 14),
                           ends_at=local(NEXT_TUESDAY, 15), reason="Meeting")
    hold(client, calendar)  # 09:00: a hold, a booking and time off for one physician on one day
    for url in ("/book/times/?visit=CONSULT_NEW&week=2026-11-30",
                "/book/times/?visit=CONSULT_NEW&physician=%d&week=2026-11-30" % calendar.okafor.pk):
        page = client2.get(url)
        assert page.status_code == 200
        text = page.content.decode()
        for taken in (local(NEXT_TUESDAY, 9), local(NEXT_TUESDAY, 11), local(NEXT_TUESDAY, 14)):
            assert value(taken, calendar.okafor) not in text
        assert value(local(NEXT_TUESDAY, 12), calendar.okafor) in text


def test_a_new_patients_phone_is_stored_in_e164_and_shown_in_the_clinics_usual_form(client, calendar):
    book(client, calendar, phone="918.555.0177", email="", email_consent="")
    patient = Appointment.objects.get(procedure_start=local(NEXT_TUESDAY, 9)).patient
    stored = Patient.objects.filter(pk=patient.pk).values_list("phone", flat=True).get()
    assert stored == "+19185550177" and str(patient.phone) == "(918) 555-0177"
    assert patient.preferred_channel == "sms"


def test_a_refused_booking_leaves_no_new_patient_record(client, calendar):
    hold(client, calendar)
    token = rendered(client)
    SlotHold.objects.update(expires_at=NOW - dt.timedelta(minutes=1))
    services.appointment_book(patient=Patient.objects.order_by("pk").first(), procedure_type=calendar.consult,
                              physician=calendar.okafor, start=local(NEXT_TUESDAY, 9))
    before = Patient.objects.count()
    assert client.post("/book/details/", {**details(), **token}).status_code == 409
    assert Patient.objects.count() == before


def test_someone_elses_visit_at_the_held_time_is_never_shown_as_yours(client, calendar):
    victim = Patient.objects.exclude(phone="").order_by("pk").first()
    hold(client, calendar)
    token = rendered(client)
    SlotHold.objects.update(expires_at=NOW - dt.timedelta(minutes=1))  # the hold lapsed ...
    services.appointment_book(patient=victim, procedure_type=calendar.consult, physician=calendar.okafor,
                              start=local(NEXT_TUESDAY, 9))  # ... and the front desk booked the victim there
    page = client.post("/book/details/", {**details(first_name=victim.first_name, last_name=victim.last_name,
                                                    date_of_birth=victim.date_of_birth.isoformat(),
                                                    phone=victim.phone, email="", email_consent=""),
                                          **token})
    assert page.status_code == 409
    assert client.get("/book/done/").status_code == 302  # nothing of the victim's to see


def test_the_form_sent_twice_lands_on_the_one_booking(client, calendar):
    hold(client, calendar)
    token = rendered(client)
    first = client.post("/book/details/", {**details(), **token})
    again = client.post("/book/details/", {**details(), **token})
    assert first["Location"] == again["Location"] == "/book/done/"
    assert Appointment.objects.filter(patient__last_name="Quintero").count() == 1


def test_a_form_from_another_tab_books_nothing_and_says_which_time_is_held_now(client, calendar):
    hold(client, calendar, start=local(NEXT_TUESDAY, 9))
    first_tab = rendered(client)  # the form for 09:00 ...
    hold(client, calendar, start=local(NEXT_TUESDAY, 11))  # ... then 11:00 picked in a second tab
    page = client.post("/book/details/", {**details(), **first_tab})
    text = page.content.decode()
    assert page.status_code == 409
    assert not Appointment.objects.filter(patient__last_name="Quintero").exists()
    assert "You picked another time in another window" in text
    assert "11:00 AM" in text and 'value="Quintero"' in text  # the time held now; nothing typed is lost
    assert value(local(NEXT_TUESDAY, 9), calendar.okafor) in text  # the form's own time can be picked again
    assert 'name="choice"' in text and not re.search(r'name="choice" value="[^"]+" checked', text)
    # Sent again as the page now shows it, the form books the time it shows.
    again = client.post("/book/details/", {**details(), **rendered(client)})
    assert again.status_code == 302
    assert Appointment.objects.get(patient__last_name="Quintero").procedure_start == local(NEXT_TUESDAY, 11)


def test_the_other_tabs_form_can_take_back_its_own_time(client, calendar):
    hold(client, calendar, start=local(NEXT_TUESDAY, 9))
    first_tab = rendered(client)
    hold(client, calendar, start=local(NEXT_TUESDAY, 11))
    text = client.post("/book/details/", {**details(), **first_tab}).content.decode()
    assert "send the form again" not in text  # the form was not sent to book: nothing to check
    held_now = re.search(r'name="held" value="([^"]+)"', text).group(1)
    choice = value(local(NEXT_TUESDAY, 9), calendar.okafor)
    booked = client.post("/book/details/", {**details(), **first_tab, "held": held_now, "choice": choice,
                                            "started": started(text)})
    assert booked.status_code == 302
    assert Appointment.objects.get(patient__last_name="Quintero").procedure_start == local(NEXT_TUESDAY, 9)


def test_a_form_from_another_tab_after_the_visit_was_booked_there_says_so(client, calendar):
    hold(client, calendar, start=local(NEXT_TUESDAY, 9))
    first_tab = rendered(client)
    hold(client, calendar, start=local(NEXT_TUESDAY, 11))
    assert client.post("/book/details/", {**details(), **rendered(client)}).status_code == 302  # booked 11:00
    late = client.post("/book/details/", {**details(), **first_tab}, follow=True)
    text = late.content.decode()
    assert "This form was not sent: you booked the visit below in another window." in text
    assert Appointment.objects.filter(patient__last_name="Quintero").count() == 1
    assert Appointment.objects.get(patient__last_name="Quintero").procedure_start == local(NEXT_TUESDAY, 11)


def test_a_form_without_its_held_time_books_nothing(client, calendar):
    hold(client, calendar)
    fields = rendered(client)
    del fields["held"]
    page = client.post("/book/details/", {**details(), **fields})
    assert page.status_code == 409 and not Appointment.objects.filter(patient__last_name="Quintero").exists()


def test_an_ordered_procedures_hold_cannot_be_booked_through_the_public_form(client, calendar):
    from scheduling.reminders.links import make_order_token
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    order = calendar.order_for(patient, calendar.esi)
    url = f"/book/order/{make_order_token(order)}/"
    assert client.post(url, {"choice": value(local(NEXT_MONDAY, 9), calendar.okafor)}).status_code == 302
    assert client.get("/book/details/")["Location"] == "/book/"


@pytest.mark.parametrize("choice", ["253402300799-1", "-5-1", "1796050800-0", "abc", "1796050800-99999999999999999999"])
def test_a_forged_choice_gets_a_clear_page(client, calendar, choice):
    page = client.post("/book/hold/", {"visit": "CONSULT_NEW", "location": calendar.location.pk, "choice": choice})
    assert page.status_code in (400, 409)


def test_a_client_can_hold_only_so_many_times(client, calendar, settings):
    settings.BOOKING_HOLD_RATE = "3/10m"
    for hour in (9, 10, 11):
        assert hold(client, calendar, start=local(NEXT_TUESDAY, hour)).status_code == 302
    assert hold(client, calendar, start=local(NEXT_TUESDAY, 13)).status_code == 429
