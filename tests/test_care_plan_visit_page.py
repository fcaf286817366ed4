"""The patient sees their care plan on their visit page: what comes next and what it waits for, in
plain words, without the names of procedures or diagnoses, in English and Spanish."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from scheduling.models import StepStatus
from scheduling.reminders.links import link
from tests.careplans import book_step, make_plan, patient_with, relief, step, take_through
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

# Words of the clinic's records that the patient's page keeps to itself.
CLINICAL = re.compile(r"block|ablation|lumbar|medial|diagnos|radiofrequen|stimulator|relief|\d+ ?%|Medicare",
                      re.IGNORECASE)


def plan_card(client, visit, **headers) -> str:
    page = client.get(link(visit, "manage").removeprefix("http://127.0.0.1:8000"), **headers)
    assert page.status_code == 200
    found = re.search(r'<div class="card plan".*?</ol>', page.content.decode(), re.DOTALL)
    assert found, "no care plan on the visit page"
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))))


@pytest.fixture
def facet(calendar):
    plan = make_plan(calendar, patient_with("Self-pay"))
    return plan, book_step(calendar, plan, 1, NEXT_MONDAY)


def test_the_visit_page_says_what_comes_next_and_what_it_waits_for(client, facet):
    plan, visit = facet
    card = plan_card(client, visit)
    assert "This visit is step 1 of 4 in the plan your doctor made with you." in card
    assert "A treatment visit Planned for around Monday, December 7, 2026, if all goes well. It waits: after your " \
           "diary shows how the treatment at this visit worked at least 7 days after this visit" in card
    assert "A treatment visit (left side)" in card and "A treatment visit (right side)" in card
    assert "at least 14 days after the step before it" in card
    assert not CLINICAL.search(card), CLINICAL.search(card)


def test_on_the_day_it_is_todays_treatment_then_the_next_one_can_be_booked(client, clock, nurse, facet):
    plan, visit = facet
    take_through(visit, clock, by=nurse)
    assert "after your diary shows how today's treatment worked" in plan_card(client, visit)
    relief(visit, 85, by=nurse)
    assert step(plan, 2).status == StepStatus.READY
    card = plan_card(client, visit)
    assert "A treatment visit You can book it now: we have sent you a link." in card
    assert "today's treatment" not in card and not CLINICAL.search(card)


def test_a_stopped_plan_says_the_doctor_will_talk_with_the_patient(client, calendar, clock, nurse):
    plan = make_plan(calendar, patient_with("Medicare"))
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(visit, clock, by=nurse)
    relief(visit, 60, by=nurse)
    card = plan_card(client, visit)
    assert "Your doctor will talk with you about what comes next." in card
    assert "right side" not in card  # what follows the stopped step is the doctor's decision
    assert not CLINICAL.search(card), CLINICAL.search(card)


def test_the_plan_in_spanish(client, facet):
    plan, visit = facet
    patient = plan.patient
    patient.language = "es"
    patient.save()
    card = plan_card(client, visit, HTTP_ACCEPT_LANGUAGE="es")
    assert "Su plan de atención" in card
    assert "Esta visita es el paso 1 de 4 del plan que su médico preparó con usted." in card
    assert "al menos 7 días después de esta visita" in card
    assert "cuando su diario muestre cómo funcionó el tratamiento de esta visita" in card


def test_a_visit_outside_the_plan_shows_the_patients_open_plan(client, calendar, facet):
    from scheduling import services

    plan, _visit = facet
    consult = services.appointment_book(patient=plan.patient, procedure_type=calendar.consult,
                                        physician=calendar.okafor, start=local(NEXT_MONDAY + dt.timedelta(days=1), 9))
    card = plan_card(client, consult)
    assert "Your doctor made a plan of 4 steps with you." in card
    assert "A treatment visit Booked for Monday, November 30, 2026." in card


def test_a_step_after_a_treatment_without_a_diary_waits_for_the_care_team_not_a_diary(client, calendar):
    from clinic.models import ProcedureType
    from scheduling.models import Gate, StepKind
    from tests.careplans import make_plan as plan_for

    patient = patient_with("Self-pay")
    plan = plan_for(calendar, patient, [
        (StepKind.PROCEDURE, "ESI_IL", "", 0, None, Gate.NONE),
        (StepKind.PROCEDURE, "ESI_IL", "", 14, None, Gate.RELIEF),
    ], name="Epidural series")
    assert not ProcedureType.objects.get(code="ESI_IL").reminder_steps.filter(kind="pain_diary").exists()
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    card = plan_card(client, visit)
    assert "after your care team knows how the treatment at this visit worked" in card and "diary" not in card
