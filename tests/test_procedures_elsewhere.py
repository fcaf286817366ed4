"""Procedures done at another clinic: the pathway rules count them (yearly limits and intervals
always; prior procedures where the rule accepts them, and only documented ones), staff record
them in the admin, and the patient's page and the API show them. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from clinic import roles
from clinic.models import ProcedureType
from scheduling.errors import NotEligible
from scheduling.models import AppointmentStatus, PathwayRule, ProcedureElsewhere
from scheduling.pathways.eligibility import check_eligibility
from tests.conftest import NEXT_MONDAY
from tests.test_pathways import book, patient_with, record_procedure

pytestmark = pytest.mark.django_db

ELSEWHERE = "Tulsa Spine Center"
LIST = reverse("admin:scheduling_procedureelsewhere_changelist")
ADD = reverse("admin:scheduling_procedureelsewhere_add")


def done_elsewhere(patient, code: str, day: dt.date, *, relief: int | None = 70, document: str = "scan-4471",
                   region: str = "lumbar", facility: str = ELSEWHERE) -> ProcedureElsewhere:
    return ProcedureElsewhere.objects.create(
        patient=patient, procedure_type=ProcedureType.objects.get(code=code), day=day, region=region,
        laterality="left", relief_percent=relief, facility=facility, document_reference=document)


def rfa_eligibility(calendar, patient):
    order = calendar.order_for(patient, ProcedureType.objects.get(code="RFA_LUMBAR"))
    return check_eligibility(patient=patient, procedure_type=order.procedure_type, order=order, day=NEXT_MONDAY)


# ---- The rules count them --------------------------------------------------------------------------

def test_an_epidural_done_elsewhere_refuses_a_fifth_one_here(calendar):
    patient = patient_with("Medicare")
    for day in (dt.date(2026, 2, 2), dt.date(2026, 5, 4), dt.date(2026, 8, 3)):
        record_procedure(calendar, patient, "ESI_IL", day, relief=70)
    order = calendar.order_for(patient)
    # Three here: a fourth is allowed.
    assert check_eligibility(patient=patient, procedure_type=calendar.esi, order=order, day=NEXT_MONDAY).eligible

    done_elsewhere(patient, "ESI_TF", dt.date(2026, 11, 2), relief=60, document="")
    with pytest.raises(NotEligible) as refused:
        book(calendar, patient)
    message = str(refused.value)
    assert ("At most 4 epidural steroid injection sessions in the lumbar region in 365 days; there are 4 from "
            "2026-02-02 to 2026-11-02, 1 of them done elsewhere (2026-11-02 at Tulsa Spine Center): the earliest "
            "day is 2027-02-02") in message
    assert not patient.appointments.filter(status=AppointmentStatus.SCHEDULED).exists()


def test_an_epidural_done_elsewhere_in_another_region_does_not_count(calendar):
    patient = patient_with("Medicare")
    for day in (dt.date(2026, 2, 2), dt.date(2026, 5, 4), dt.date(2026, 8, 3)):
        record_procedure(calendar, patient, "ESI_IL", day, relief=70)
    calendar.order_for(patient)
    done_elsewhere(patient, "ESI_TF", dt.date(2026, 11, 2), region="cervical")
    assert book(calendar, patient).status == AppointmentStatus.SCHEDULED


def test_the_minimum_interval_counts_an_epidural_done_elsewhere(calendar):
    patient = patient_with("Medicare")
    order = calendar.order_for(patient)
    done_elsewhere(patient, "ESI_CAUDAL", dt.date(2026, 11, 20), relief=80)
    result = check_eligibility(patient=patient, procedure_type=calendar.esi, order=order, day=NEXT_MONDAY)
    assert [item.kind for item in result.unmet] == ["min_interval"]
    assert ("At least 14 days must pass after the last epidural steroid injection in the lumbar region "
            "(on 2026-11-20 at Tulsa Spine Center): the earliest day is 2026-12-04") in result.explain()
    assert result.earliest == dt.date(2026, 12, 4)
    assert check_eligibility(patient=patient, procedure_type=calendar.esi, order=order,
                             day=dt.date(2026, 12, 4)).eligible


def test_a_repeat_needs_the_relief_of_an_epidural_done_elsewhere(calendar):
    patient = patient_with("Medicare")
    order = calendar.order_for(patient)
    outside = done_elsewhere(patient, "ESI_TF", dt.date(2026, 10, 1), relief=None, document="")
    result = check_eligibility(patient=patient, procedure_type=calendar.esi, order=order, day=NEXT_MONDAY)
    assert "needs the relief from the last one (on 2026-10-01 at Tulsa Spine Center) recorded first" in (
        result.explain())
    outside.relief_percent = 60
    outside.save()
    assert check_eligibility(patient=patient, procedure_type=calendar.esi, order=order, day=NEXT_MONDAY).eligible


@pytest.mark.parametrize(("payer", "eligible"), [("Prairie Mutual Health", True), ("Medicare", False)])
def test_a_documented_block_done_elsewhere_counts_toward_rfa_where_the_rule_accepts_it(calendar, payer, eligible):
    patient = patient_with(payer)
    record_procedure(calendar, patient, "MBB_LUMBAR", dt.date(2026, 10, 1), relief=90)
    done_elsewhere(patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=90)
    result = rfa_eligibility(calendar, patient)
    assert result.eligible == eligible, result.explain()
    if not eligible:
        assert ("(1 more); on record: 2026-10-01 gave 90%; not counted: Lumbar medial branch block (diagnostic) "
                "at Tulsa Spine Center on 2026-10-15 does not count: this rule (the Medicare rule) does not accept "
                "procedures done elsewhere") in result.explain()


def test_the_rules_setting_decides_whether_a_block_done_elsewhere_counts(calendar):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "MBB_LUMBAR", dt.date(2026, 10, 1), relief=90)
    done_elsewhere(patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=90)
    assert not rfa_eligibility(calendar, patient).eligible
    PathwayRule.objects.filter(procedure_type__code="RFA_LUMBAR", kind="prerequisite",
                               payer__name="Medicare").update(accepts_outside_procedures=True)
    assert rfa_eligibility(calendar, patient).eligible


@pytest.mark.parametrize(("relief", "document"), [(90, ""), (None, "scan-4471"), (90, "   ")])
def test_a_block_done_elsewhere_counts_toward_rfa_only_when_documented(calendar, relief, document):
    patient = patient_with("Prairie Mutual Health")
    record_procedure(calendar, patient, "MBB_LUMBAR", dt.date(2026, 10, 1), relief=90)
    done_elsewhere(patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=relief, document=document)
    result = rfa_eligibility(calendar, patient)
    assert not result.eligible
    assert ("not counted: Lumbar medial branch block (diagnostic) at Tulsa Spine Center on 2026-10-15 is not "
            "documented (it needs a document reference and its recorded relief)") in result.explain()


def test_a_counted_block_done_elsewhere_is_named_when_the_rule_is_still_unmet(calendar):
    patient = patient_with("Prairie Mutual Health")
    done_elsewhere(patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=40)
    result = rfa_eligibility(calendar, patient)
    assert ("(2 more); on record: 2026-10-15 at Tulsa Spine Center gave 40% (done elsewhere)"
            in result.explain())


def test_only_a_prior_procedures_rule_chooses_whether_procedures_done_elsewhere_count(calendar):
    rule = PathwayRule.objects.get(procedure_type__code="ESI_IL", kind="max_per_year", payer=None)
    rule.accepts_outside_procedures = True
    with pytest.raises(ValidationError) as refused:
        rule.full_clean()
    assert list(refused.value.message_dict) == ["accepts_outside_procedures"]


# ---- The record -----------------------------------------------------------------------------------

def test_a_procedure_done_elsewhere_cannot_be_in_the_future_nor_give_more_than_all_relief(calendar):
    patient = patient_with("Medicare")
    outside = ProcedureElsewhere(patient=patient, procedure_type=calendar.esi, day=dt.date(2026, 11, 25),
                                 region="lumbar", facility=ELSEWHERE, relief_percent=101)
    with pytest.raises(ValidationError) as refused:
        outside.full_clean()
    assert set(refused.value.message_dict) == {"day", "relief_percent"}
    outside.day, outside.relief_percent = dt.date(2026, 11, 24), 100  # today is 2026-11-24
    outside.full_clean()
    outside.relief_percent = 101
    with pytest.raises(IntegrityError), transaction.atomic():
        outside.save()  # the database refuses it too


def test_every_staff_role_records_procedures_done_elsewhere_and_only_the_manager_deletes(demo_clinic):
    for role in (roles.FRONT_DESK, roles.NURSE, roles.PHYSICIAN, roles.CLINIC_MANAGER):
        held = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
        assert {"view_procedureelsewhere", "add_procedureelsewhere", "change_procedureelsewhere"} <= held, role
        assert ("delete_procedureelsewhere" in held) == (role == roles.CLINIC_MANAGER), role


# ---- The admin --------------------------------------------------------------------------------------

def page_of(response) -> str:
    return html.unescape(response.content.decode())


def test_the_front_desk_adds_one_and_finds_it_in_the_list(client, calendar, front_desk):
    patient = patient_with("Medicare")
    client.force_login(front_desk)
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, {
        "patient": patient.pk, "procedure_type": calendar.esi.pk, "day": "2026-10-05", "region": "lumbar",
        "laterality": "bilateral", "relief_percent": "65", "facility": ELSEWHERE,
        "document_reference": "https://records.example/scan/4471", "note": "Patient brought the report"})
    assert response.status_code == 302, page_of(response)
    outside = ProcedureElsewhere.objects.get(patient=patient)
    assert (outside.recorded_by, outside.relief_percent, outside.is_documented) == (front_desk, 65, True)
    assert outside.history.get().history_user == front_desk

    listing = page_of(client.get(LIST, {"q": patient.last_name}))
    assert ELSEWHERE in listing and "Interlaminar epidural steroid injection" in listing and "65%" in listing
    assert reverse("admin:scheduling_procedureelsewhere_change", args=[outside.pk]) in listing


def test_the_admin_refuses_a_future_date_and_relief_over_100_in_words(client, calendar, front_desk):
    patient = patient_with("Medicare")
    client.force_login(front_desk)
    response = client.post(ADD, {
        "patient": patient.pk, "procedure_type": calendar.esi.pk, "day": "2026-11-25", "region": "lumbar",
        "relief_percent": "120", "facility": ELSEWHERE})
    assert response.status_code == 200
    page = page_of(response)
    assert "A procedure done elsewhere cannot be in the future." in page
    assert "Ensure this value is less than or equal to 100." in page
    assert not ProcedureElsewhere.objects.exists()


def test_a_login_without_a_role_is_refused_the_list(client, demo_clinic):
    from django.contrib.auth import get_user_model

    nobody = get_user_model().objects.create_user("norole-test", password="pw-for-tests-only", is_staff=True)
    client.force_login(nobody)
    assert client.get(LIST).status_code == 403
    assert client.get(ADD).status_code == 403


def patient_form(response, patient) -> dict:
    """The patient's change form as the page holds it, with every inline's management form."""
    data = {key: value for key, value in response.context["adminform"].form.initial.items() if value is not None}
    data["blood_thinners"] = [thinner.pk for thinner in patient.blood_thinners.all()]
    for name in ("sms_consent", "email_consent", "needs_review"):
        if data.pop(name, False):
            data[name] = "on"
    data.pop("created_at", None)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({management.add_prefix(name): value for name, value in management.initial.items()})
    return data


def test_the_front_desk_records_one_on_the_patients_page_and_sees_it_with_the_visits(client, calendar, front_desk):
    patient = patient_with("Medicare")
    record_procedure(calendar, patient, "ESI_IL", dt.date(2026, 9, 7), relief=70)
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    client.force_login(front_desk)
    form = patient_form(client.get(url), patient)
    prefix = "procedures_elsewhere"
    form.update({f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-procedure_type": str(calendar.esi.pk),
                 f"{prefix}-0-day": "2026-10-05", f"{prefix}-0-region": "lumbar",
                 f"{prefix}-0-relief_percent": "55", f"{prefix}-0-facility": ELSEWHERE})
    response = client.post(url, form)
    assert response.status_code == 302, page_of(response)
    outside = ProcedureElsewhere.objects.get(patient=patient)
    assert (outside.recorded_by, outside.day, outside.is_documented) == (front_desk, dt.date(2026, 10, 5), False)

    page = page_of(client.get(url))
    past = page[page.index('id="past-visits"'):page.index('id="outcomes"')]
    # Most recent first: the one done elsewhere (October), then the visit here (September).
    assert past.index("Done at Tulsa Spine Center") < past.index("Mon 7 Sep 2026")
    assert "55% relief" in past and "no report on file" in past
    assert reverse("admin:scheduling_procedureelsewhere_change", args=[outside.pk]) in past


def test_the_patients_page_refuses_a_future_procedure_done_elsewhere(client, calendar, front_desk):
    patient = patient_with("Medicare")
    url = reverse("admin:clinic_patient_change", args=[patient.pk])
    client.force_login(front_desk)
    form = patient_form(client.get(url), patient)
    prefix = "procedures_elsewhere"
    form.update({f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-0-procedure_type": str(calendar.esi.pk),
                 f"{prefix}-0-day": "2026-12-05", f"{prefix}-0-region": "lumbar", f"{prefix}-0-facility": ELSEWHERE})
    response = client.post(url, form)
    assert response.status_code == 200
    assert "A procedure done elsewhere cannot be in the future." in page_of(response)
    assert not ProcedureElsewhere.objects.exists()


def test_the_patients_page_counts_a_procedure_done_elsewhere_for_open_orders(client, calendar, front_desk):
    patient = patient_with("Medicare")
    calendar.order_for(patient)
    done_elsewhere(patient, "ESI_TF", dt.date(2026, 11, 20))
    client.force_login(front_desk)
    page = page_of(client.get(reverse("admin:clinic_patient_change", args=[patient.pk])))
    orders = page[page.index('id="open-orders"'):page.index('id="past-visits"')]
    assert "(on 2026-11-20 at Tulsa Spine Center): the earliest day is 2026-12-04" in orders


# ---- The API --------------------------------------------------------------------------------------------

def test_the_patient_resource_lists_procedures_done_elsewhere(calendar, front_desk):
    patient = patient_with("Medicare")
    done_elsewhere(patient, "MBB_LUMBAR", dt.date(2026, 10, 15), relief=85)
    done_elsewhere(patient, "ESI_TF", dt.date(2026, 6, 1), relief=None, document="")
    client = APIClient()
    client.force_authenticate(front_desk)
    body = client.get(f"/api/v1/patients/{patient.pk}/").json()
    assert [(item["procedure_type"], item["date"], item["documented"]) for item in body["procedures_elsewhere"]] == [
        ("MBB_LUMBAR", "2026-10-15", True), ("ESI_TF", "2026-06-01", False)]
    first = body["procedures_elsewhere"][0]
    assert (first["facility"], first["relief_percent"], first["region"], first["laterality"]) == (
        ELSEWHERE, 85, "lumbar", "left")
