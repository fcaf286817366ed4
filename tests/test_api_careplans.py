"""`/api/v1/care-plans/`: staff who see plans read them, physicians create them (from a template
or from steps), with their steps, statuses, proposed days, tentative flags and orders."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from scheduling.models import CarePlan, CarePlanTemplate, ProcedureOrder
from scheduling.services.careplans import plan_create
from tests.conftest import api_as

pytestmark = pytest.mark.django_db
URL = "/api/v1/care-plans/"


def facet() -> CarePlanTemplate:
    return CarePlanTemplate.objects.get(name="Lumbar facet pathway")


def test_a_physician_creates_a_plan_from_a_template(calendar, physician_user):
    patient = calendar.patients[0]
    response = api_as(physician_user).post(URL, {"patient": patient.pk, "physician": calendar.okafor.pk,
                                                 "template": facet().pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    plan = CarePlan.objects.get(pk=body["id"])
    assert (body["patient"], body["physician"], body["name"], body["status"]) == (
        patient.pk, calendar.okafor.pk, "Lumbar facet pathway", "active")
    assert body["next_step"] == 1
    steps = body["steps"]
    assert [step["position"] for step in steps] == [1, 2, 3, 4]
    assert [step["procedure_type"] for step in steps] == ["MBB_LUMBAR", "MBB_LUMBAR", "RFA_LUMBAR", "RFA_LUMBAR"]
    assert [step["status"] for step in steps] == ["ready", "planned", "planned", "planned"]
    assert [step["tentative"] for step in steps] == [False, True, True, True]
    assert steps[0]["proposed_date"] == "2026-11-25"
    assert steps[1]["window_start"] == "2026-12-02" and steps[1]["window_end"] == "2026-12-16"
    assert {step["order"] for step in steps} == set(
        ProcedureOrder.objects.filter(care_plan_steps__plan=plan).values_list("pk", flat=True))


def test_a_physician_creates_a_plan_from_steps(calendar, physician_user):
    response = api_as(physician_user).post(URL, {
        "patient": calendar.patients[1].pk, "physician": calendar.okafor.pk, "name": "Epidural and review",
        "steps": [{"procedure_type": "ESI_IL", "region": "lumbar"},
                  {"kind": "follow_up", "procedure_type": "FOLLOW_UP", "min_days_after": 14, "max_days_after": 28}]},
        format="json")
    assert response.status_code == 201, response.json()
    first, review = response.json()["steps"]
    assert (first["procedure_type"], first["status"], review["kind"], review["max_days_after"]) == (
        "ESI_IL", "ready", "follow_up", 28)
    assert review["proposed_date"] is not None and review["tentative"] is False


@pytest.mark.parametrize("body, field", [
    ({}, "template"),
    ({"steps": []}, "steps"),
    ({"steps": [{"kind": "procedure"}]}, None),
    ({"steps": [{"procedure_type": "ESI_IL", "min_days_after": 9, "max_days_after": 3}]}, None),
    ({"steps": [{"procedure_type": "NOPE"}]}, "steps"),
])
def test_a_plan_with_neither_template_nor_valid_steps_is_refused_in_words(calendar, physician_user, body, field):
    response = api_as(physician_user).post(URL, {"patient": calendar.patients[0].pk,
                                                 "physician": calendar.okafor.pk, **body}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    if field:
        assert field in response.json()["errors"]
    else:
        assert response.json()["detail"].startswith("Step 1:")
    assert not CarePlan.objects.exists()


def test_both_a_template_and_steps_is_refused(calendar, physician_user):
    response = api_as(physician_user).post(URL, {"patient": calendar.patients[0].pk, "physician": calendar.okafor.pk,
                                                 "template": facet().pk,
                                                 "steps": [{"procedure_type": "ESI_IL"}]}, format="json")
    assert response.status_code == 400 and "template" in response.json()["errors"]


@pytest.mark.parametrize("role", ["front_desk", "nurse", "manager"])
def test_only_physicians_create_plans(request, calendar, role):
    user = request.getfixturevalue(role)
    response = api_as(user).post(URL, {"patient": calendar.patients[0].pk, "physician": calendar.okafor.pk,
                                       "template": facet().pk}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not CarePlan.objects.exists()


@pytest.mark.parametrize("role", ["front_desk", "nurse", "manager", "physician_user"])
def test_staff_who_see_plans_list_a_patients_plans(request, calendar, physician_user, role):
    mine = plan_create(patient=calendar.patients[0], physician=calendar.okafor, template=facet(), by=physician_user)
    plan_create(patient=calendar.patients[1], physician=calendar.okafor, template=facet(), by=physician_user)
    client = api_as(request.getfixturevalue(role))
    body = client.get(URL, {"patient": calendar.patients[0].pk}).json()
    assert [plan["id"] for plan in body["results"]] == [mine.pk]
    assert client.get(f"{URL}{mine.pk}/").json()["steps"][0]["status"] == "ready"
    assert client.get(URL, {"patient": 0}).status_code == 400
    assert client.get(f"{URL}999999/").status_code == 404


def test_a_staff_login_without_a_role_cannot_read_plans(calendar, physician_user):
    from django.contrib.auth import get_user_model

    plan_create(patient=calendar.patients[0], physician=calendar.okafor, template=facet(), by=physician_user)
    nobody = get_user_model().objects.create_user("no-role", password="x", is_staff=True)
    assert api_as(nobody).get(URL).status_code == 403
    assert APIClient().get(URL).status_code in (401, 403)


def test_a_retried_create_with_its_idempotency_key_makes_one_plan(calendar, physician_user):
    client = api_as(physician_user)
    body = {"patient": calendar.patients[0].pk, "physician": calendar.okafor.pk, "template": facet().pk}
    first = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="plan-1")
    again = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="plan-1")
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert CarePlan.objects.count() == 1


def test_the_schema_documents_care_plans_with_their_errors():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    create = schema["paths"]["/api/v1/care-plans/"]["post"]
    assert {"201", "400", "401", "403", "415", "422", "429"} <= set(create["responses"])
    listing = schema["paths"]["/api/v1/care-plans/"]["get"]
    assert {"patient", "status"} <= {parameter["name"] for parameter in listing["parameters"]}
    step = schema["components"]["schemas"]["CarePlanStep"]["properties"]
    assert step["proposed_date"]["nullable"] is True and step["tentative"]["type"] == "boolean"


def test_a_relief_gate_on_the_first_step_is_refused_in_words(calendar, physician_user):
    response = api_as(physician_user).post(URL, {
        "patient": calendar.patients[0].pk, "physician": calendar.okafor.pk,
        "steps": [{"procedure_type": "MBB_LUMBAR", "gate": "relief"}, {"procedure_type": "MBB_LUMBAR", "gate": "relief"}]},
        format="json")
    assert response.status_code == 400, response.json()
    assert "Step 1 goes ahead on the relief from an earlier step booked here" in response.json()["errors"]["steps"][0]
    assert not CarePlan.objects.exists()


def test_a_done_or_booked_steps_proposed_date_is_its_real_day(calendar, clock, nurse, practising_physician):
    import datetime as dt

    from scheduling.services.careplan_progress import careplan_step_mark_done
    from tests.careplans import SCS, book_step, make_plan, patient_with, step
    from tests.conftest import NEXT_MONDAY

    plan = make_plan(calendar, patient_with("Self-pay"), SCS, name="Spinal cord stimulation")
    evaluation = step(plan, 1)
    assert evaluation.proposed_date != dt.date(2026, 11, 20)
    careplan_step_mark_done(step=evaluation, day=dt.date(2026, 11, 20), by=practising_physician)
    trial = step(plan, 2)
    booked_day = trial.proposed_date + dt.timedelta(days=7 - trial.proposed_date.weekday())  # the next Monday
    book_step(calendar, plan, 2, max(booked_day, NEXT_MONDAY + dt.timedelta(days=7)))
    steps = api_as(nurse).get(f"{URL}{plan.pk}/").json()["steps"]
    assert steps[0]["status"] == "done"
    assert steps[0]["proposed_date"] == steps[0]["done_on"] == "2026-11-20"
    assert steps[1]["status"] == "booked"
    assert steps[1]["proposed_date"] == max(booked_day, NEXT_MONDAY + dt.timedelta(days=7)).isoformat()


def test_an_unknown_status_filter_lists_the_valid_ones(calendar, nurse):
    response = api_as(nurse).get(URL, {"status": "stopped"})
    assert response.status_code == 400
    assert ('"stopped" is not a plan status: use one of active, needs_decision, completed, ended.'
            in str(response.json()))
