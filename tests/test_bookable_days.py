"""The days a patient may book (scheduling/pathways/bookable_days.py), asked by every page, the
API, the admin and the booking service: a day any of them offers is a day the booking accepts,
and a visit booked later closes the days around it, not only the ones before it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from clinic.models import BloodThinner, Patient, Physician
from scheduling import services
from scheduling.api.errors import api_exception_handler
from scheduling.bookable import bookable_times
from scheduling.errors import NotEligible, TooSoon
from scheduling.models import AppointmentStatus
from scheduling.pages.errors import patient_message
from scheduling.pathways.bookable_days import bookable_days
from scheduling.reminders.links import make_order_token
from scheduling.selectors import available_slots
from scheduling.services.order_links import order_bookable_from
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db



TODAY = NOW.date()
LATER_ESI = NEXT_MONDAY + dt.timedelta(days=21)  # Monday 2026-12-21
# At least 14 days between two epidurals: a second one before the later one fits up to 12-07.
LAST_DAY_BEFORE = LATER_ESI - dt.timedelta(days=14)


def medicare_patient() -> Patient:
    patient = Patient.objects.filter(payer__name="Medicare").order_by("pk").first()
    patient.blood_thinners.clear()
    return patient


def first_slot(calendar, day: dt.date, patient, procedure_type=None):
    slots = available_slots(procedure_type=procedure_type or calendar.esi, location=calendar.location,
                            first_day=day, last_day=day, now=NOW, physician=calendar.okafor, patient=patient,
                            apply_minimum_notice=False, limit=1)
    return slots[0] if slots else None


@pytest.fixture
def later_epidural(calendar, front_desk):
    """A Medicare patient with an epidural booked on 12-21, and a second open order."""
    patient = medicare_patient()
    booked = calendar.order_for(patient)
    services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                              start=local(LATER_ESI, 9), order=booked, by=front_desk)
    return patient, calendar.order_for(patient)


def test_a_later_booked_epidural_closes_the_days_around_it_and_the_days_before_stay_open(calendar, later_epidural):
    patient, order = later_epidural
    days = bookable_days(patient=patient, procedure_type=calendar.esi, location=calendar.location, now=NOW,
                         by_patient=True, order=order)
    assert days.allows(LAST_DAY_BEFORE)
    assert not days.allows(LAST_DAY_BEFORE + dt.timedelta(days=1))
    assert not days.allows(LATER_ESI)
    assert days.ranges()[0] == (TODAY + dt.timedelta(days=1), LAST_DAY_BEFORE)
    assert "14 days" in days.unmet(LAST_DAY_BEFORE + dt.timedelta(days=1))[0].message


def test_the_api_offers_no_time_on_a_day_the_booking_refuses(calendar, later_epidural, desk):
    patient, order = later_epidural
    body = desk.get("/api/v1/availability/", {
        "procedure_type": "ESI_IL", "location": calendar.location.pk, "from": NEXT_MONDAY.isoformat(),
        "to": (LATER_ESI + dt.timedelta(days=2)).isoformat(), "patient": patient.pk, "order": order.pk}).json()
    days = {dt.date.fromisoformat(slot["start"][:10]) for slot in body["slots"]}
    assert LAST_DAY_BEFORE in days
    assert not [day for day in days if day > LAST_DAY_BEFORE]
    assert body["eligibility"]["days"][0] == [NEXT_MONDAY.isoformat(), LAST_DAY_BEFORE.isoformat()]


def test_the_order_page_offers_no_time_in_the_gap_and_refuses_one_sent_back(calendar, later_epidural, client):
    patient, order = later_epidural
    url = f"/book/order/{make_order_token(order)}/"
    shown = {}
    for monday in (LAST_DAY_BEFORE, LAST_DAY_BEFORE + dt.timedelta(days=7)):
        page = client.get(url, {"week": monday.isoformat()}).content.decode()
        shown[monday] = [dt.datetime.fromtimestamp(int(epoch), tz=calendar.location.zone).date()
                         for epoch in re.findall(r'name="choice" value="(\d+)-\d+"', page)]
    assert LAST_DAY_BEFORE in shown[LAST_DAY_BEFORE]
    assert not [day for days in shown.values() for day in days if day > LAST_DAY_BEFORE]
    gap_day = LAST_DAY_BEFORE + dt.timedelta(days=7)
    refused = client.post(url, {"choice": f"{int(local(gap_day, 9).timestamp())}-{calendar.okafor.pk}"})
    assert refused.status_code != 302


def test_the_admin_marks_the_gap_days_as_refused(calendar, later_epidural):
    patient, order = later_epidural
    found = bookable_times(patient=patient, procedure_type=calendar.esi, location=calendar.location,
                           first_day=LAST_DAY_BEFORE, now=NOW, physician=calendar.okafor, order=order)
    assert {time.slot.start.astimezone(calendar.location.zone).date() for time in found.times} == {LAST_DAY_BEFORE}


def test_the_order_link_gives_the_first_day_the_order_page_offers(calendar):
    patient = medicare_patient()
    patient.blood_thinners.set([BloodThinner.objects.get(name="Clopidogrel")])  # 7 days before an ESI
    order = calendar.order_for(patient)
    first, _eligibility = order_bookable_from(order, now=NOW)
    # No dose on the 7 days before: the first of them tomorrow at the earliest, the visit 8 days ahead.
    assert first == TODAY + dt.timedelta(days=8)


# ---- Minimum notice -----------------------------------------------------------------------------

def consult_inside_notice(calendar, patient):
    """A consultation time today that starts inside the clinic's two hours of notice."""
    slots = available_slots(procedure_type=calendar.consult, location=calendar.location, first_day=TODAY,
                            last_day=TODAY, now=NOW, patient=patient, apply_minimum_notice=False)
    slot = next(slot for slot in slots if slot.start < NOW + dt.timedelta(hours=2))
    return slot.start, Physician.objects.get(pk=slot.physician_id)


def test_a_patient_booking_inside_the_minimum_notice_is_refused_with_too_soon(calendar):
    patient = medicare_patient()
    start, physician = consult_inside_notice(calendar, patient)
    with pytest.raises(TooSoon, match="at least 2 hours ahead") as refused:
        services.appointment_book(patient=patient, procedure_type=calendar.consult, physician=physician,
                                  start=start, by_patient=True)
    assert refused.value.code == "too_soon"
    assert "too soon to book online" in patient_message(refused.value)
    assert api_exception_handler(refused.value, {}).status_code == 400


def test_staff_may_book_inside_the_minimum_notice(calendar, front_desk):
    patient = medicare_patient()
    start, physician = consult_inside_notice(calendar, patient)
    booked = services.appointment_book(patient=patient, procedure_type=calendar.consult, physician=physician,
                                       start=start, by=front_desk)
    assert booked.status == AppointmentStatus.SCHEDULED


def test_the_api_offers_times_inside_the_minimum_notice_and_says_so(calendar, desk):
    body = desk.get("/api/v1/availability/", {"procedure_type": "CONSULT_NEW", "location": calendar.location.pk,
                                              "from": TODAY.isoformat(), "to": TODAY.isoformat()}).json()
    inside = [slot for slot in body["slots"] if slot["inside_minimum_notice"]]
    outside = [slot for slot in body["slots"] if not slot["inside_minimum_notice"]]
    # The notice counts to the patient's arrival, as the patients' own search does.
    assert inside and all(dt.datetime.fromisoformat(slot["arrival"]) < NOW + dt.timedelta(hours=2) for slot in inside)
    assert outside and all(dt.datetime.fromisoformat(slot["arrival"]) >= NOW + dt.timedelta(hours=2)
                           for slot in outside)
    patients_first = available_slots(procedure_type=calendar.consult, location=calendar.location, first_day=TODAY,
                                     last_day=TODAY, now=NOW)[0]
    assert outside[0]["start"] == patients_first.start.astimezone(calendar.location.zone).isoformat()


def test_a_patient_picking_a_time_inside_the_notice_is_told_it_is_too_soon_not_taken(calendar, client):
    start, physician = consult_inside_notice(calendar, medicare_patient())
    page = client.post("/book/hold/", {"visit": "CONSULT_NEW", "location": calendar.location.pk,
                                       "choice": f"{int(start.timestamp())}-{physician.pk}"})
    text = page.content.decode()
    assert "too soon to book online" in text and "has just been taken" not in text


def test_a_patients_own_days_for_a_procedure_start_tomorrow_and_staffs_today(calendar):
    patient = medicare_patient()
    order = calendar.order_for(patient, calendar.mbb)
    asked = dict(patient=patient, procedure_type=calendar.mbb, location=calendar.location, now=NOW, order=order,
                 first_day=TODAY)
    by_patient = bookable_days(**asked, by_patient=True)
    assert by_patient.first_day == TODAY + dt.timedelta(days=1)
    assert "a day's notice" in by_patient.unmet(TODAY)[0].message
    assert bookable_days(**asked, by_patient=False).first_day == TODAY


# ---- Every day offered is a day booked ----------------------------------------------------------

ESI_OFFSETS = st.lists(st.tuples(st.integers(-400, 80), st.sampled_from(["completed", "scheduled"]),
                                 st.one_of(st.none(), st.integers(0, 100))), max_size=4)


def _random_history(calendar, front_desk, patient, visits) -> None:
    """Earlier (completed) and later (booked) epidurals and blocks, on Okafor's procedure Mondays."""
    from tests.test_pathways import record_procedure
    taken = set()
    for offset, status, relief in visits:
        day = NEXT_MONDAY + dt.timedelta(weeks=offset // 7)
        if day in taken:
            continue  # one visit a day: the physician cannot be in two places (PostgreSQL refuses it)
        taken.add(day)
        if day <= TODAY:
            record_procedure(calendar, patient, "ESI_TF", day, relief=relief)
        elif status == "scheduled":
            slot = first_slot(calendar, day, patient)
            if slot is not None:
                try:
                    with transaction.atomic():
                        services.appointment_book(patient=patient, procedure_type=calendar.esi,
                                                  physician=calendar.okafor, start=slot.start,
                                                  order=calendar.order_for(patient), by=front_desk,
                                                  override_reason="history for the test")
                except NotEligible:
                    pass


def _procedure_mondays(days: list[dt.date]) -> list[dt.date]:
    """Of the days offered, those Dr. Okafor does procedures on (Mondays): each is booked."""
    return [day for day in days if day.weekday() == 0]


def _books(calendar, *, patient, order, day, by_patient, front_desk) -> str:
    """Book the first time of `day` and roll back: '' when booked, else the refusal."""
    slot = first_slot(calendar, day, patient)
    if slot is None or (by_patient and slot.start < NOW + dt.timedelta(hours=2)):
        return ""  # no free time that day: nothing offered, nothing to book
    try:
        with transaction.atomic():
            services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                      start=slot.start, order=order, by_patient=by_patient,
                                      by=None if by_patient else front_desk)
            transaction.set_rollback(True)
    except (NotEligible, TooSoon) as error:
        return f"{day}: {error.message}"
    return ""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking a DB example takes minutes
@given(visits=ESI_OFFSETS, drug=st.sampled_from([None, "Clopidogrel", "Warfarin", "Aspirin (primary prevention)"]),
       given_order=st.booleans(), authorization_days=st.one_of(st.none(), st.integers(5, 60)))
def test_every_day_any_caller_offers_is_a_day_the_booking_accepts(calendar, front_desk, desk, visits, drug,
                                                                  given_order, authorization_days):
    with transaction.atomic():
        patient = medicare_patient()
        if drug:
            patient.blood_thinners.set([BloodThinner.objects.get(name=drug)])
        _random_history(calendar, front_desk, patient, visits)
        until = TODAY + dt.timedelta(days=authorization_days) if authorization_days else dt.date(2027, 4, 30)
        order = calendar.order_for(patient, authorization_valid_until=until)
        asked = order if given_order else None
        refusals = []
        # The order page and the order link (the patient books).
        patient_days = bookable_days(patient=patient, procedure_type=calendar.esi, location=calendar.location,
                                     now=NOW, by_patient=True, order=order).days
        first, _why = order_bookable_from(order, now=NOW)
        assert first == (patient_days[0] if patient_days else None)
        for day in _procedure_mondays(patient_days):
            refusals.append(_books(calendar, patient=patient, order=order, day=day, by_patient=True,
                                   front_desk=front_desk))
        # The API's availability and the admin's booking page (staff book).
        query = {"procedure_type": "ESI_IL", "location": calendar.location.pk, "physician": calendar.okafor.pk,
                 "from": TODAY.isoformat(), "to": (TODAY + dt.timedelta(days=89)).isoformat(), "patient": patient.pk}
        body = desk.get("/api/v1/availability/", {**query, **({"order": order.pk} if given_order else {})}).json()
        staff_days = sorted({dt.date.fromisoformat(slot["start"][:10]) for slot in body["slots"]})
        for day in staff_days:
            refusals.append(_books(calendar, patient=patient, order=asked, day=day, by_patient=False,
                                   front_desk=front_desk))
        found = bookable_times(patient=patient, procedure_type=calendar.esi, location=calendar.location,
                               first_day=NEXT_MONDAY, now=NOW, physician=calendar.okafor, order=asked)
        for time in [time for time in found.times if not time.refused][:3]:
            refusals.append(_books(calendar, patient=patient, order=asked, front_desk=front_desk, by_patient=False,
                                   day=time.slot.start.astimezone(calendar.location.zone).date()))
        assert not [refusal for refusal in refusals if refusal]
        transaction.set_rollback(True)


def test_the_admin_offers_times_inside_the_minimum_notice_and_says_so(calendar):
    from scheduling.admin.forms import time_choices
    patient = medicare_patient()
    found = bookable_times(patient=patient, procedure_type=calendar.consult, location=calendar.location,
                           first_day=TODAY, now=NOW)
    today = [time for time in found.times if time.slot.start.astimezone(calendar.location.zone).date() == TODAY]
    inside = [time for time in today if time.inside_notice]
    assert inside and all(time.slot.start < NOW + dt.timedelta(hours=2) for time in inside)
    assert not [time for time in today if not time.inside_notice and time.slot.start < NOW + dt.timedelta(hours=2)]
    labels = dict(time_choices(found.times, calendar.location))
    assert "inside the minimum notice" in str(labels[inside[0].value])


def test_a_patient_may_not_book_a_day_their_blood_thinner_hold_cannot_be_kept_staff_may(calendar, front_desk):
    patient = medicare_patient()
    patient.blood_thinners.set([BloodThinner.objects.get(name="Clopidogrel")])  # 7 days before an ESI
    order = calendar.order_for(patient)
    start = local(NEXT_MONDAY, 9)  # six days ahead: the hold would have started yesterday
    with pytest.raises(TooSoon, match="blood-thinner holds"):
        services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                  start=start, order=order, by_patient=True)
    booked = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                       start=start, order=order, by=front_desk)
    assert booked.status == AppointmentStatus.SCHEDULED
