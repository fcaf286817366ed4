"""Care pathways through the services and the API: orders, eligibility, trial then implant,
overrides, outcomes and blood-thinner holds, with the clock frozen."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from clinic.models import BloodThinner, Patient, Payer, ProcedureType, Room
from scheduling import services
from scheduling.availability import visit_at
from scheduling.errors import NotEligible, SlotUnavailable
from scheduling.models import Appointment, AppointmentStatus, EligibilityOverride, Outcome, ProcedureOrder
from scheduling.pathways.eligibility import check_eligibility
from scheduling.pathways.holds import blood_thinner_holds
from scheduling.selectors import segments_of
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local

pytestmark = pytest.mark.django_db


def record_procedure(calendar, patient, code: str, day: dt.date, relief: int | None, region: str = "lumbar",
                     status: str = AppointmentStatus.COMPLETED) -> Appointment:
    """A procedure already on the patient's record (in the past: booked before the clock's now)."""
    procedure_type = ProcedureType.objects.get(code=code)
    visit = visit_at(local(day, 9), segments_of(procedure_type))
    order = ProcedureOrder.objects.create(patient=patient, procedure_type=procedure_type, region=region,
                                          ordering_physician=calendar.okafor, status="completed")
    appointment = Appointment.objects.create(
        location=calendar.location, physician=calendar.okafor, room=Room.objects.get(name="Exam 3"), patient=patient,
        procedure_type=procedure_type, order=order, status=status, arrival=visit.arrival,
        procedure_start=visit.start, procedure_end=visit.end, discharge=visit.discharge,
        room_start=visit.room_start, room_end=visit.room_end,
    )
    if relief is not None:
        Outcome.objects.create(appointment=appointment, pain_before=8, pain_after=2, relief_percent=relief)
    return appointment


def patient_with(payer_name: str) -> Patient:
    return Patient.objects.filter(payer__name=payer_name, blood_thinners__isnull=True).order_by("pk").first()


def book(calendar, patient, code="ESI_IL", start=None, physician=None, **kwargs) -> Appointment:
    return services.appointment_book(patient=patient, procedure_type=ProcedureType.objects.get(code=code),
                                     physician=physician or calendar.okafor, start=start or local(NEXT_MONDAY, 9),
                                     **kwargs)


# ---- Epidurals -------------------------------------------------------------------------------

def test_an_epidural_13_days_after_the_last_is_refused_and_14_is_booked(calendar):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=13), relief=80)
    calendar.order_for(patient)
    with pytest.raises(NotEligible, match="the earliest day is 2026-12-01"):
        book(calendar, patient)
    Appointment.objects.filter(patient=patient).update(
        procedure_start=local(NEXT_MONDAY - dt.timedelta(days=14), 9),
        procedure_end=local(NEXT_MONDAY - dt.timedelta(days=14), 9, 20),
        arrival=local(NEXT_MONDAY - dt.timedelta(days=14), 8, 30),
        discharge=local(NEXT_MONDAY - dt.timedelta(days=14), 9, 50),
        room_start=local(NEXT_MONDAY - dt.timedelta(days=14), 8, 55),
        room_end=local(NEXT_MONDAY - dt.timedelta(days=14), 9, 30))
    assert book(calendar, patient).status == AppointmentStatus.SCHEDULED


def test_the_fifth_epidural_in_a_year_is_refused(calendar):
    patient = patient_with("Medicare")
    for day in (dt.date(2026, 1, 12), dt.date(2026, 4, 13), dt.date(2026, 7, 13), dt.date(2026, 10, 12)):
        record_procedure(calendar, patient, "ESI_TF", day, relief=70)
    calendar.order_for(patient)
    with pytest.raises(NotEligible, match="At most 4 epidural steroid injection sessions in the lumbar region"):
        book(calendar, patient)


def test_the_availability_for_a_patient_starts_when_the_rules_allow(calendar, front_desk):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", dt.date(2026, 11, 23), relief=80)
    calendar.order_for(patient)
    client = APIClient()
    client.force_authenticate(front_desk)
    body = client.get("/api/v1/availability/", {"procedure_type": "ESI_IL", "from": "2026-11-30",
                                                 "to": "2026-12-14", "patient": patient.pk}).json()
    assert body["eligibility"]["first_day"] == "2026-12-07"
    assert body["slots"] and body["slots"][0]["start"].startswith("2026-12-07")
    assert "14 days" in body["eligibility"]["unmet"][0]["message"]


def test_availability_for_an_ineligible_patient_is_empty_with_the_reason(calendar, front_desk):
    patient = patient_with("Medicare")
    calendar.order_for(patient, ProcedureType.objects.get(code="RFA_LUMBAR"))
    client = APIClient()
    client.force_authenticate(front_desk)
    body = client.get("/api/v1/availability/", {"procedure_type": "RFA_LUMBAR", "from": "2026-11-30",
                                                 "to": "2026-12-14", "patient": patient.pk}).json()
    assert body["count"] == 0 and body["eligibility"]["eligible"] is False
    assert "Needs 2 prior" in body["eligibility"]["unmet"][0]["message"]


# ---- Block then ablation, payer overrides -----------------------------------------------------

@pytest.mark.parametrize(("payer", "relief", "eligible"), [
    ("Medicare", 79, False), ("Medicare", 80, True),
    ("Prairie Mutual Health", 50, True), ("Prairie Mutual Health", 49, False),
])
def test_rfa_needs_two_blocks_and_the_payers_threshold_takes_precedence(calendar, payer, relief, eligible):
    patient = patient_with(payer)
    record_procedure(calendar, patient, "MBB_LUMBAR", dt.date(2026, 10, 1), relief=90)
    record_procedure(calendar, patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=relief)
    order = calendar.order_for(patient, ProcedureType.objects.get(code="RFA_LUMBAR"))
    result = check_eligibility(patient=patient, procedure_type=order.procedure_type, order=order, day=NEXT_MONDAY)
    assert result.eligible == eligible, result.explain()
    if not eligible:
        threshold = 80 if payer == "Medicare" else 50
        assert f"each with at least {threshold}% relief" in result.explain()


def test_rfa_repeats_six_months_apart_at_most_twice_a_year(calendar):
    patient = patient_with("Medicare")
    for day in (dt.date(2026, 1, 5), dt.date(2026, 2, 2)):
        record_procedure(calendar, patient, "MBB_LUMBAR", day, relief=90)
    record_procedure(calendar, patient, "RFA_LUMBAR", dt.date(2026, 6, 1), relief=80)
    order = calendar.order_for(patient, ProcedureType.objects.get(code="RFA_LUMBAR"))
    rfa = order.procedure_type
    assert not check_eligibility(patient=patient, procedure_type=rfa, order=order, day=dt.date(2026, 11, 30)).eligible
    assert check_eligibility(patient=patient, procedure_type=rfa, order=order, day=dt.date(2026, 12, 1)).eligible


# ---- Order requirements ------------------------------------------------------------------------

def test_a_commercial_payer_needs_a_valid_prior_authorization(calendar):
    patient = patient_with("Prairie Mutual Health")
    calendar.order_for(patient, authorization_status="pending", authorization_number="")
    with pytest.raises(NotEligible, match="requires prior authorization .* it is pending"):
        book(calendar, patient)
    ProcedureOrder.objects.filter(patient=patient).update(authorization_status="approved",
                                                          authorization_number="PA-77",
                                                          authorization_valid_until=dt.date(2026, 11, 29))
    with pytest.raises(NotEligible, match=r"\(PA-77\) expired on 2026-11-29"):
        book(calendar, patient)
    ProcedureOrder.objects.filter(patient=patient).update(authorization_valid_until=dt.date(2026, 11, 30))
    assert book(calendar, patient).order.authorization_number == "PA-77"


def test_medicare_needs_no_prior_authorization_for_an_epidural(calendar):
    patient = patient_with("Medicare")
    calendar.order_for(patient, authorization_status="not_requested", authorization_number="")
    assert book(calendar, patient).status == AppointmentStatus.SCHEDULED


def test_vertebral_augmentation_needs_imaging_of_an_acute_fracture(calendar):
    patient = patient_with("Medicare")
    kyphoplasty = ProcedureType.objects.get(code="KYPHOPLASTY")
    calendar.order_for(patient, kyphoplasty, region="thoracic", priority="urgent")
    with pytest.raises(NotEligible, match="imaging that confirms an acute fracture"):
        book(calendar, patient, "KYPHOPLASTY", physician=calendar.nair, start=local(NEXT_THURSDAY, 9))
    ProcedureOrder.objects.filter(patient=patient).update(imaging_confirms_acute_fracture=True,
                                                          imaging_date=dt.date(2026, 11, 20))
    booked = book(calendar, patient, "KYPHOPLASTY", physician=calendar.nair, start=local(NEXT_THURSDAY, 9))
    assert booked.room.capabilities.filter(code="sterile-or").exists()


# ---- SCS: trial then implant -------------------------------------------------------------------

def test_a_trial_needs_a_psychological_evaluation(calendar):
    patient = patient_with("Medicare")
    calendar.order_for(patient, ProcedureType.objects.get(code="SCS_TRIAL"))
    with pytest.raises(NotEligible, match="psychological evaluation"):
        book(calendar, patient, "SCS_TRIAL")


def test_trial_then_implant_end_to_end(calendar, clock, nurse, physician_user):
    patient = patient_with("Medicare")
    trial_type = ProcedureType.objects.get(code="SCS_TRIAL")
    calendar.order_for(patient, trial_type, region="thoracic", psych_evaluation_date=dt.date(2026, 11, 2))
    trial = book(calendar, patient, "SCS_TRIAL")

    # The lead removal is booked with it: 7 days later, same physician, an exam room.
    removal = trial.follow_ups.get()
    assert removal.procedure_type.code == "SCS_TRIAL_REMOVAL"
    assert removal.procedure_start.date() == (NEXT_MONDAY + dt.timedelta(days=7))
    assert removal.physician == trial.physician and removal.room.capabilities.filter(code="exam").exists()

    # Moving the trial moves the removal; cancelling it cancels the removal.
    services.appointment_reschedule(appointment=trial, start=local(NEXT_MONDAY, 11))
    services.appointment_reschedule(appointment=trial, start=local(NEXT_MONDAY + dt.timedelta(days=14), 9))
    removal.refresh_from_db()
    assert removal.procedure_start.astimezone(calendar.location.zone).date() == NEXT_MONDAY + dt.timedelta(days=21)
    services.appointment_reschedule(appointment=trial, start=local(NEXT_MONDAY, 9))

    # The trial happens and gives 40% relief: the implant is refused with the reason.
    clock.move_to(local(NEXT_MONDAY, 8, 30))
    for step in (services.appointment_check_in, start_with_checks_on_paper, services.appointment_move_to_recovery,
                 services.appointment_complete):
        step(appointment=trial, by=nurse)
    services.outcome_record(appointment=trial, pain_before=8, pain_after=5, relief_percent=40, by=nurse)
    clock.move_to(local(NEXT_MONDAY + dt.timedelta(days=7), 12))  # the leads are out
    implant_type = ProcedureType.objects.get(code="SCS_IMPLANT")
    with pytest.raises(NotEligible, match="Needs 1 prior Spinal cord stimulator trial procedure.*gave 40%"):
        services.order_create(patient=patient, procedure_type=implant_type, ordering_physician=calendar.okafor,
                              region="thoracic", by=physician_user)

    # Recorded again at 60%: the implant order opens, and the implant books.
    services.outcome_record(appointment=trial, pain_before=8, pain_after=3, relief_percent=60, by=nurse)
    order = services.order_create(patient=patient, procedure_type=implant_type, ordering_physician=calendar.okafor,
                                  region="thoracic", by=physician_user, authorization_status="approved",
                                  authorization_number="PA-SCS-1")
    implant = book(calendar, patient, "SCS_IMPLANT", start=local(NEXT_MONDAY + dt.timedelta(days=14), 9), order=order)
    assert implant.order == order


def test_cancelling_the_trial_cancels_its_lead_removal(calendar):
    patient = patient_with("Medicare")
    calendar.order_for(patient, ProcedureType.objects.get(code="SCS_TRIAL"), psych_evaluation_date=dt.date(2026, 11, 2))
    trial = book(calendar, patient, "SCS_TRIAL")
    services.appointment_cancel(appointment=trial, reason="Patient unwell")
    removal = trial.follow_ups.get()
    assert removal.status == AppointmentStatus.CANCELLED and "Patient unwell" in removal.cancel_reason


def test_a_trial_whose_lead_removal_cannot_be_booked_is_not_booked(calendar):
    from clinic.models import TimeOff

    patient = patient_with("Medicare")
    calendar.order_for(patient, ProcedureType.objects.get(code="SCS_TRIAL"), psych_evaluation_date=dt.date(2026, 11, 2))
    removal_day = NEXT_MONDAY + dt.timedelta(days=7)
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(removal_day, 0), ends_at=local(removal_day, 23))
    with pytest.raises(SlotUnavailable, match=r"follow-up \(SCS trial lead removal\) must be 7 days later, on 2026-12-07"):
        book(calendar, patient, "SCS_TRIAL")
    assert not Appointment.objects.filter(patient=patient).exists()
    from scheduling.selectors import available_slots

    offered = available_slots(procedure_type=ProcedureType.objects.get(code="SCS_TRIAL"), location=calendar.location,
                              first_day=NEXT_MONDAY, last_day=NEXT_MONDAY + dt.timedelta(days=7),
                              now=local(NEXT_MONDAY, 0))
    offered_days = {slot.start.astimezone(calendar.location.zone).date() for slot in offered}
    assert NEXT_MONDAY not in offered_days  # its lead removal would fall on the day off
    assert NEXT_MONDAY + dt.timedelta(days=2) in offered_days  # Wednesday: its removal falls on a working day


# ---- Overrides ----------------------------------------------------------------------------------

def test_a_physician_overrides_a_rule_with_a_reason_that_stays_on_record(calendar, django_user_model):
    from django.contrib.auth.models import Group

    from clinic import roles

    okafor_user = calendar.okafor.user
    okafor_user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    okafor_user = django_user_model.objects.get(pk=okafor_user.pk)
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=80)
    calendar.order_for(patient)
    booked = book(calendar, patient, by=okafor_user, override_reason="Severe radicular flare; discussed risks")
    override = EligibilityOverride.objects.get(appointment=booked)
    assert override.overridden_by == okafor_user and "14 days" in override.unmet
    assert override.reason == "Severe radicular flare; discussed risks"


def test_only_a_physician_may_override(calendar, front_desk, nurse):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=80)
    calendar.order_for(patient)
    for user in (front_desk, nurse):
        with pytest.raises(NotEligible, match="Only a physician can override"):
            book(calendar, patient, by=user, override_reason="Patient insists")
    assert not EligibilityOverride.objects.exists()


def test_the_api_explains_what_is_unmet_and_takes_an_override(calendar, front_desk):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=30)
    calendar.order_for(patient)
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post("/api/v1/appointments/", {"patient": patient.pk, "procedure_type": "ESI_IL",
                                                     "physician": calendar.okafor.pk,
                                                     "start": local(NEXT_MONDAY, 9).isoformat()}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "not_eligible"
    assert {item["kind"] for item in body["unmet"]} == {"min_interval", "repeat_relief"}
    assert any(item["earliest"] == "2026-12-04" for item in body["unmet"])


# ---- Outcomes -----------------------------------------------------------------------------------

def test_outcomes_are_recorded_through_the_api_by_clinical_staff(calendar, clock, nurse, front_desk):
    patient = patient_with("Medicare")
    calendar.order_for(patient, calendar.mbb)
    block = book(calendar, patient, "MBB_LUMBAR")
    url = f"/api/v1/appointments/{block.pk}/outcome/"
    clinical, desk = APIClient(), APIClient()
    clinical.force_authenticate(nurse)
    desk.force_authenticate(front_desk)
    early = clinical.post(url, {"pain_before": 8, "pain_after": 2}, format="json")
    assert early.status_code == 409 and "completed visits" in early.json()["detail"]
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    for step in (services.appointment_check_in, start_with_checks_on_paper, services.appointment_complete):
        step(appointment=block)
    assert desk.post(url, {"pain_before": 8, "pain_after": 2}, format="json").status_code == 403
    bad = clinical.post(url, {"pain_before": 11, "pain_after": -1, "relief_percent": 120}, format="json")
    assert bad.status_code == 400 and set(bad.json()["errors"]) == {"pain_before", "pain_after", "relief_percent"}
    done = clinical.post(url, {"pain_before": 8, "pain_after": 2, "relief_duration_hours": 6}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["outcome"]["relief_percent"] == 75 and done.json()["outcome"]["relief_duration_hours"] == 6
    assert Outcome.objects.get(appointment=block).recorded_by == nurse


# ---- Blood-thinner holds ------------------------------------------------------------------------

HOLD_TABLE = {  # DESIGN.md section 2: (high, intermediate, low)
    "Warfarin": (5, 5, 0), "Clopidogrel": (7, 7, 0), "Prasugrel": (7, 7, 0), "Ticagrelor": (5, 5, 0),
    "Apixaban": (3, 3, 0), "Rivaroxaban": (3, 3, 0), "Edoxaban": (3, 3, 0), "Dabigatran": (4, 4, 0),
    "Aspirin (primary prevention)": (6, 0, 0),
}
RISK_CODES = {"high": "KYPHOPLASTY", "intermediate": "ESI_IL", "low": "MBB_LUMBAR"}


@pytest.mark.parametrize("drug", sorted(HOLD_TABLE))
@pytest.mark.parametrize("risk", ["high", "intermediate", "low"])
def test_every_drug_and_risk_gives_the_right_last_dose(demo_clinic, drug, risk):
    patient = patient_with("Medicare")
    patient.blood_thinners.set([BloodThinner.objects.get(name=drug)])
    procedure_day = dt.date(2026, 12, 10)
    holds = blood_thinner_holds(patient=patient, procedure_type=ProcedureType.objects.get(code=RISK_CODES[risk]),
                                procedure_day=procedure_day)
    days = HOLD_TABLE[drug][["high", "intermediate", "low"].index(risk)]
    if days == 0:
        assert holds == []
    else:
        (hold,) = holds
        # No dose on the `days` days before the procedure day nor on it: the last dose is one day earlier.
        assert hold.last_dose == procedure_day - dt.timedelta(days=days + 1)
        assert hold.first_day_without == procedure_day - dt.timedelta(days=days)
        assert "approval of the doctor who prescribes it" in hold.instruction()


def test_holds_show_on_the_appointment(calendar, front_desk):
    patient = patient_with("Medicare")
    patient.blood_thinners.set([BloodThinner.objects.get(name="Clopidogrel")])
    calendar.order_for(patient)
    booked = book(calendar, patient)
    client = APIClient()
    client.force_authenticate(front_desk)
    holds = client.get(f"/api/v1/appointments/{booked.pk}/").json()["blood_thinner_holds"]
    assert holds == [{"drug": "Clopidogrel", "hold_days": 7, "last_dose": "2026-11-22",
                      "restart_guidance": holds[0]["restart_guidance"], "instruction": holds[0]["instruction"],
                      "too_late": True}]  # booked on the 24th: the hold should have begun on the 23rd
    from django.test import Client

    page = Client()
    page.force_login(front_desk)
    html = page.get(f"/admin/scheduling/appointment/{booked.pk}/change/").content.decode()
    assert "CHECK, the hold should have begun already: Clopidogrel: take your last dose on Sunday November 22" in html


def test_payers_in_the_demo(demo_clinic):
    assert set(Payer.objects.values_list("name", flat=True)) >= {"Medicare", "Prairie Mutual Health"}


# ---- Found by trying it as a clinic would ---------------------------------------------------------

def test_the_order_that_qualifies_is_chosen(calendar):
    patient = patient_with("Medicare")
    trial_type = ProcedureType.objects.get(code="SCS_TRIAL")
    calendar.order_for(patient, trial_type)  # no psychological evaluation on file
    good = calendar.order_for(patient, trial_type, psych_evaluation_date=dt.date(2026, 11, 10))
    assert book(calendar, patient, "SCS_TRIAL").order == good


def test_a_physician_books_with_an_override_through_the_api(calendar):
    from django.contrib.auth.models import Group

    from clinic import roles

    user = calendar.okafor.user
    user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=80)
    calendar.order_for(patient)
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    response = client.post("/api/v1/appointments/", {
        "patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
        "start": local(NEXT_MONDAY, 9).isoformat(), "override_reason": "Flare; benefits outweigh the wait"},
        format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["overrides"][0]["reason"] == "Flare; benefits outweigh the wait"


def test_a_nurse_records_an_outcome_on_the_appointment_page(calendar, clock, nurse):
    from django.test import Client

    patient = patient_with("Medicare")
    calendar.order_for(patient, calendar.mbb)
    block = book(calendar, patient, "MBB_LUMBAR")
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    for step in (services.appointment_check_in, start_with_checks_on_paper, services.appointment_complete):
        step(appointment=block)
    page = Client()
    page.force_login(nurse)
    url = f"/admin/scheduling/appointment/{block.pk}/change/"
    assert 'name="outcome-0-pain_before"' in page.get(url).content.decode()
    response = page.post(url, {
        "notes": "", "outcome-TOTAL_FORMS": 1, "outcome-INITIAL_FORMS": 0, "outcome-MIN_NUM_FORMS": 0,
        "outcome-MAX_NUM_FORMS": 1, "outcome-0-pain_before": 7, "outcome-0-pain_after": 2,
        "outcome-0-relief_duration_hours": 5, "outcome-0-appointment": block.pk,
        "follow_ups-TOTAL_FORMS": 0, "follow_ups-INITIAL_FORMS": 0, "follow_ups-MIN_NUM_FORMS": 0,
        "follow_ups-MAX_NUM_FORMS": 0, "overrides-TOTAL_FORMS": 0, "overrides-INITIAL_FORMS": 0,
        "overrides-MIN_NUM_FORMS": 0, "overrides-MAX_NUM_FORMS": 0,
        **{f"reminders-{key}": 0 for key in ("INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")},
        "reminders-TOTAL_FORMS": 0,
    })
    assert response.status_code == 302, response.content.decode()[-3000:]
    outcome = Outcome.objects.get(appointment=block)
    assert (outcome.relief_percent, outcome.recorded_by) == (71, nurse)


def test_history_cannot_be_reverted(calendar, front_desk):
    from django.test import Client

    patient = patient_with("Medicare")
    calendar.order_for(patient)
    appointment = book(calendar, patient)
    services.appointment_cancel(appointment=appointment, reason="Called to cancel", by=front_desk)
    page = Client()
    page.force_login(front_desk)
    first = appointment.history.order_by("history_id").first()
    response = page.post(f"/admin/scheduling/appointment/{appointment.pk}/history/{first.history_id}/",
                         {"notes": "", "_save": "Revert"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert response.status_code in (302, 403, 404)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_dates_far_out_are_refused_cleanly(calendar, front_desk, day):
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.get("/api/v1/availability/", {"procedure_type": "ESI_IL", "from": day, "to": day})
    assert response.status_code == 400 and "from" in response.json()["errors"]


def start_with_checks_on_paper(*, appointment, by=None):
    """Start a procedure whose checks these tests do not record."""
    return services.appointment_start(appointment=appointment, by=by, reason="Checks recorded on paper")
