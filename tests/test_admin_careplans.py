"""Care plans in the admin: physicians create and edit plans, the manager keeps the templates,
the front desk sees plans and sends a ready step's booking link (scheduling/admin/careplans.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import ProcedureType
from scheduling.models import (
    CarePlan,
    CarePlanTemplate,
    Gate,
    OrderStatus,
    Reminder,
    ReminderKind,
    StepKind,
    StepStatus,
)
from scheduling.services.careplans import plan_create

pytestmark = pytest.mark.django_db

ADD = "/admin/scheduling/careplan/add/"


def no_steps(prefix: str = "steps") -> dict:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}


def step_rows(rows: list[dict], initial: int = 0, prefix: str = "steps") -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{index}-{name}"] = "" if value is None else value
    return data


def blank_step(position: int, **values) -> dict:
    return {"position": position, "kind": StepKind.PROCEDURE, "procedure_type": "", "region": "", "laterality": "",
            "min_days_after": 0, "max_days_after": "", "gate": Gate.NONE, "gate_relief_percent": "",
            "priority": "routine", "note": "", **values}


def test_a_physician_creates_a_plan_from_a_template_and_sees_its_timeline(client, calendar, physician_user):
    patient = calendar.patients[0]
    template = CarePlanTemplate.objects.get(name="Lumbar facet pathway")
    client.force_login(physician_user)
    response = client.post(ADD, {"patient": patient.pk, "physician": calendar.okafor.pk, "template": template.pk,
                                 "name": "", "notes": "Axial low back pain", **no_steps()})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = CarePlan.objects.get(patient=patient)
    assert response["Location"] == f"/admin/scheduling/careplan/{plan.pk}/change/"
    assert plan.name == "Lumbar facet pathway" and plan.created_by == physician_user
    assert plan.steps.count() == 4 and plan.steps.filter(order__status=OrderStatus.OPEN).count() == 4
    page = client.get(response["Location"]).content.decode()
    assert "Proposed timeline" in page and "Wed 25 Nov 2026" in page and "tentative" in page
    first = plan.steps.get(position=1)
    # The ready step is booked at the proposed day's first free time with the plan's physician.
    assert (f"/admin/scheduling/appointment/add/?patient={patient.pk}&amp;order={first.order_id}"
            f"&amp;procedure_type={calendar.mbb.pk}&amp;physician={calendar.okafor.pk}"
            f"&amp;start=2026-11-25T07%3A30%3A00-06%3A00") in page
    assert "Send the booking link" in page


def test_a_physician_writes_a_plan_from_scratch(client, calendar, physician_user):
    patient = calendar.patients[1]
    client.force_login(physician_user)
    rows = [blank_step(2, procedure_type=calendar.esi.pk, region="lumbar", min_days_after=14, gate=Gate.RELIEF,
                       gate_relief_percent=50),
            blank_step(1, procedure_type=calendar.esi.pk, region="lumbar")]
    response = client.post(ADD, {"patient": patient.pk, "physician": calendar.okafor.pk, "template": "",
                                 "name": "Two epidurals", "notes": "", **step_rows(rows)})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = CarePlan.objects.get(patient=patient)
    first, second = plan.steps.order_by("position")
    assert (first.gate, first.status, second.gate, second.min_days_after) == (
        Gate.NONE, StepStatus.READY, Gate.RELIEF, 14)
    assert second.proposed_date == first.proposed_date + dt.timedelta(days=14) and second.tentative


def test_a_plan_needs_a_template_or_steps_but_not_both(client, calendar, physician_user):
    client.force_login(physician_user)
    template = CarePlanTemplate.objects.get(name="Epidural steroid injection series")
    base = {"patient": calendar.patients[0].pk, "physician": calendar.okafor.pk, "name": "", "notes": ""}
    page = client.post(ADD, {**base, "template": "", **no_steps()}).content.decode()
    assert "Choose a template, or write the plan&#x27;s steps here." in page
    rows = step_rows([blank_step(1, procedure_type=calendar.esi.pk)])
    page = client.post(ADD, {**base, "template": template.pk, **rows}).content.decode()
    assert "Start from the template or write the steps here, not both" in page
    assert not CarePlan.objects.exists()


def test_the_front_desk_sees_plans_but_cannot_create_or_change_them(client, calendar, front_desk, physician_user):
    plan = plan_create(patient=calendar.patients[2], physician=calendar.okafor, by=physician_user,
                       template=CarePlanTemplate.objects.get(name="Vertebral augmentation"))
    client.force_login(front_desk)
    assert client.get(ADD).status_code == 403
    template = CarePlanTemplate.objects.get(name="Lumbar facet pathway")
    response = client.post(ADD, {"patient": calendar.patients[0].pk, "physician": calendar.okafor.pk,
                                 "template": template.pk, "name": "", "notes": "", **no_steps()})
    assert response.status_code == 403 and not CarePlan.objects.filter(patient=calendar.patients[0]).exists()
    page = client.get(f"/admin/scheduling/careplan/{plan.pk}/change/").content.decode()
    assert "Proposed timeline" in page and "Kyphoplasty" in page
    assert client.post(f"/admin/scheduling/careplan/{plan.pk}/replan/").status_code == 403


def test_a_physician_edits_a_planned_step_and_the_plan_is_planned_again(client, calendar, physician_user):
    plan = plan_create(patient=calendar.patients[3], physician=calendar.okafor, by=physician_user,
                       template=CarePlanTemplate.objects.get(name="Epidural steroid injection series"))
    steps = list(plan.steps.order_by("position"))
    rows = []
    for step in steps:
        row = {"id": step.pk, "plan": plan.pk, **{name: getattr(step, name) for name in (
            "position", "kind", "region", "laterality", "min_days_after", "gate", "priority", "note")},
            "procedure_type": step.procedure_type_id, "max_days_after": step.max_days_after,
            "gate_relief_percent": step.gate_relief_percent}
        rows.append(row)
    rows[1]["min_days_after"] = 21
    rows[2]["procedure_type"] = calendar.mbb.pk  # a change of procedure: a new order, the old one cancelled
    client.force_login(physician_user)
    response = client.post(f"/admin/scheduling/careplan/{plan.pk}/change/", {
        "physician": calendar.reyes.pk, "name": plan.name, "notes": "", **step_rows(rows, initial=3)})
    assert response.status_code == 302, response.content.decode()[:3000]
    first, second, third = plan.steps.order_by("position")
    assert {step.order.ordering_physician for step in (first, second, third)} == {calendar.reyes}
    assert first.proposed_date.weekday() in (1, 3)  # Dr. Reyes does procedures on Tuesdays and Thursdays
    assert second.proposed_date >= first.proposed_date + dt.timedelta(days=21)
    old_order = steps[2].order
    old_order.refresh_from_db()
    assert old_order.status == OrderStatus.CANCELLED
    assert third.order.procedure_type == calendar.mbb and third.order.status == OrderStatus.OPEN


def test_a_booked_step_cannot_be_changed_in_the_plan(client, calendar, physician_user):
    from scheduling import services
    from tests.conftest import NEXT_MONDAY, local

    plan = plan_create(patient=calendar.patients[5], physician=calendar.okafor, by=physician_user,
                       steps=[{"procedure_type": calendar.mbb, "region": "lumbar"}])
    step = plan.steps.get()
    services.appointment_book(patient=plan.patient, procedure_type=calendar.mbb, physician=calendar.okafor,
                              order=step.order, start=local(NEXT_MONDAY, 9))
    step.status = StepStatus.BOOKED
    step.save()
    row = {"id": step.pk, "plan": plan.pk, "position": 1, "kind": step.kind, "procedure_type": calendar.mbb.pk,
           "region": "cervical", "laterality": "", "min_days_after": 0, "max_days_after": "", "gate": Gate.NONE,
           "gate_relief_percent": "", "priority": "routine", "note": ""}
    client.force_login(physician_user)
    page = client.post(f"/admin/scheduling/careplan/{plan.pk}/change/", {
        "physician": calendar.okafor.pk, "name": plan.name, "notes": "", **step_rows([row], initial=1)}
    ).content.decode()
    assert "Step 1 is booked: it cannot be changed here." in page
    step.refresh_from_db()
    assert step.region == "lumbar"


def test_the_front_desk_sends_the_ready_steps_booking_link_from_the_plan(client, calendar, front_desk,
                                                                        physician_user):
    patient = calendar.patients[0]  # consents to email
    plan = plan_create(patient=patient, physician=calendar.okafor, by=physician_user,
                       template=CarePlanTemplate.objects.get(name="Lumbar facet pathway"))
    first, second = plan.steps.order_by("position")[:2]
    client.force_login(front_desk)
    url = f"/admin/scheduling/careplan/{plan.pk}/send-link/"
    page = client.post(url, {"step": first.pk}, follow=True).content.decode()
    assert "The booking link will go out within a minute." in page
    assert Reminder.objects.filter(order=first.order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 1
    page = client.post(url, {"step": second.pk}, follow=True).content.decode()
    assert "Step 2 is not ready to book." in page
    assert not Reminder.objects.filter(order=second.order).exists()
    assert client.get(url).status_code == 403


def test_the_manager_edits_a_template_with_its_steps_in_order(client, manager, calendar):
    template = CarePlanTemplate.objects.get(name="Epidural steroid injection series")
    steps = list(template.steps.order_by("position"))
    rows = [{"id": step.pk, "template": template.pk, "position": step.position, "kind": step.kind,
             "procedure_type": step.procedure_type_id, "region": step.region, "laterality": step.laterality,
             "min_days_after": step.min_days_after, "max_days_after": step.max_days_after, "gate": step.gate,
             "gate_relief_percent": step.gate_relief_percent, "priority": step.priority, "note": step.note}
            for step in steps]
    rows[1]["min_days_after"] = 21
    follow_up = ProcedureType.objects.get(code="FOLLOW_UP")
    rows.append(blank_step(4, kind=StepKind.FOLLOW_UP, procedure_type=follow_up.pk, min_days_after=28))
    client.force_login(manager)
    response = client.post(f"/admin/scheduling/careplantemplate/{template.pk}/change/", {
        "name": template.name, "description": template.description, "is_active": "on",
        **step_rows(rows, initial=3)})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(template.steps.order_by("position").values_list("position", "min_days_after")) == [
        (1, 0), (2, 21), (3, 14), (4, 28)]


def test_a_physician_cannot_edit_templates(client, physician_user):
    template = CarePlanTemplate.objects.get(name="Epidural steroid injection series")
    client.force_login(physician_user)
    response = client.post(f"/admin/scheduling/careplantemplate/{template.pk}/change/", {
        "name": "Renamed", "description": "", "is_active": "on", **no_steps()})
    assert response.status_code == 403
    template.refresh_from_db()
    assert template.name == "Epidural steroid injection series"


def test_the_patients_page_shows_their_care_plans_with_each_steps_day_and_what_is_next(client, calendar,
                                                                                      physician_user, front_desk):
    from scheduling import services
    from tests.conftest import local

    patient = calendar.patients[0]
    plan = plan_create(patient=patient, physician=calendar.okafor, by=physician_user,
                       template=CarePlanTemplate.objects.get(name="Lumbar facet pathway"))
    first = plan.steps.get(position=1)
    visit = services.appointment_book(patient=patient, procedure_type=calendar.mbb, physician=calendar.okafor,
                                      order=first.order, start=local(dt.date(2026, 11, 25), 10))
    first.status = StepStatus.BOOKED
    first.save()
    client.force_login(front_desk)
    page = client.get(f"/admin/clinic/patient/{patient.pk}/change/").content.decode()
    section = page[page.index('id="care-plans"'):page.index('id="waitlist"') if 'id="waitlist"' in page else None]
    assert f'href="/admin/scheduling/careplan/{plan.pk}/change/"' in section and "Lumbar facet pathway" in section
    assert "1. Lumbar medial branch block (diagnostic) (bilateral): booked, Wed 25 Nov 2026" in section
    assert "2. Lumbar medial branch block (diagnostic) (bilateral): planned, proposed Wed 2 Dec 2026 (tentative)" in section
    assert f'Step 1</span>: booked, <a href="/admin/scheduling/appointment/{visit.pk}/change/">Wed 25 Nov 2026 10:00</a>' in section
    assert "New care plan" not in section  # the front desk does not create plans
    client.force_login(physician_user)
    page = client.get(f"/admin/clinic/patient/{patient.pk}/change/").content.decode()
    assert f'href="/admin/scheduling/careplan/add/?patient={patient.pk}"' in page


def test_a_step_done_elsewhere_reads_as_due_not_as_ready_to_book(client, calendar, physician_user):
    patient = calendar.patients[0]
    template = CarePlanTemplate.objects.get(name="Spinal cord stimulation")
    client.force_login(physician_user)
    response = client.post(ADD, {"patient": patient.pk, "physician": calendar.okafor.pk, "template": template.pk,
                                 "name": "", "notes": "", **no_steps()})
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = CarePlan.objects.get(patient=patient)
    assert plan.steps.get(position=1).status == StepStatus.READY
    page = client.get(response["Location"]).content.decode()
    assert "Due (done elsewhere; mark it done)" in page
    patient_page = client.get(f"/admin/clinic/patient/{patient.pk}/change/").content.decode()
    assert "due (done elsewhere; mark it done)" in patient_page


RELIEF_WORDS = "goes ahead on the relief from an earlier step booked here, but no step before it is booked here"


def test_a_template_with_a_relief_gate_and_no_step_booked_here_before_it_is_refused(client, manager, calendar):
    client.force_login(manager)
    rows = [blank_step(1, kind=StepKind.PHYSICAL_THERAPY),
            blank_step(2, procedure_type=calendar.mbb.pk, gate=Gate.RELIEF)]
    page = client.post("/admin/scheduling/careplantemplate/add/", {
        "name": "Relief first", "description": "", "is_active": "on", **step_rows(rows)}).content.decode()
    assert f"Step 2 {RELIEF_WORDS}" in page
    assert not CarePlanTemplate.objects.filter(name="Relief first").exists()


def test_a_plan_with_a_relief_gate_on_its_first_step_is_refused_new_or_changed(client, calendar, physician_user):
    client.force_login(physician_user)
    patient = calendar.patients[4]
    page = client.post(ADD, {"patient": patient.pk, "physician": calendar.okafor.pk, "template": "", "name": "",
                             "notes": "", **step_rows([blank_step(1, procedure_type=calendar.mbb.pk,
                                                                  gate=Gate.RELIEF)])}).content.decode()
    assert f"Step 1 {RELIEF_WORDS}" in page
    assert not patient.care_plans.exists()
    plan = plan_create(patient=patient, physician=calendar.okafor, by=physician_user,
                       steps=[{"procedure_type": calendar.mbb}])
    step = plan.steps.get()
    row = {"id": step.pk, "plan": plan.pk, **blank_step(1, procedure_type=calendar.mbb.pk, gate=Gate.RELIEF)}
    page = client.post(f"/admin/scheduling/careplan/{plan.pk}/change/", {
        "physician": calendar.okafor.pk, "name": plan.name, "notes": "", **step_rows([row], initial=1)}
    ).content.decode()
    assert f"Step 1 {RELIEF_WORDS}" in page
    step.refresh_from_db()
    assert step.gate == Gate.NONE


def test_the_plan_shows_when_the_link_went_out_and_a_second_click_does_not_send_it_twice(
        client, calendar, front_desk, physician_user, clock):
    plan = plan_create(patient=calendar.patients[0], physician=calendar.okafor, by=physician_user,
                       template=CarePlanTemplate.objects.get(name="Lumbar facet pathway"))
    first = plan.steps.order_by("position")[0]
    change = f"/admin/scheduling/careplan/{plan.pk}/change/"
    url = f"/admin/scheduling/careplan/{plan.pk}/send-link/"
    client.force_login(front_desk)
    page = client.get(change).content.decode()
    assert "Send the booking link" in page and "Link queued" not in page
    assert "The booking link will go out within a minute." in client.post(url, {"step": first.pk},
                                                                           follow=True).content.decode()
    page = client.get(change).content.decode()
    assert "Link queued Tue 24 Nov 08:00" in page and "Send again" in page and "Send the booking link" not in page
    # A second click within minutes: refused in words, nothing queued.
    clock.shift(dt.timedelta(minutes=3))
    page = client.post(url, {"step": first.pk}, follow=True).content.decode()
    assert "Not sent again: the booking link was queued at 08:00, less than 10 minutes ago." in page
    assert Reminder.objects.filter(order=first.order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 1
    # Later, "Send again" is a deliberate resend.
    clock.shift(dt.timedelta(minutes=10))
    assert "The booking link will go out within a minute." in client.post(url, {"step": first.pk},
                                                                           follow=True).content.decode()
    assert Reminder.objects.filter(order=first.order, kind=ReminderKind.ORDER_BOOKING_LINK).count() == 2


@pytest.mark.parametrize(("payer", "words"), [
    ("Medicare", "at or above 80% (Medicare asks for 80%)"),
    ("Self-pay", "at or above 50%"),
])
def test_the_timeline_shows_the_relief_threshold_the_gate_will_use_for_the_patient(client, calendar, physician_user,
                                                                                   payer, words):
    from tests.careplans import make_plan, patient_with

    plan = make_plan(calendar, patient_with(payer))
    client.force_login(physician_user)
    page = client.get(f"/admin/scheduling/careplan/{plan.pk}/change/").content.decode()
    assert f"Goes ahead when: relief from step 1 {words}" in page
    timeline = page.split('id="careplan-timeline"', 1)[1].split("</table>", 1)[0]
    assert "at or above a threshold" not in timeline


def test_a_ready_step_with_no_day_says_why_near_its_buttons_and_in_the_send_answer(client, calendar, front_desk,
                                                                                  physician_user):
    plan = plan_create(patient=calendar.patients[0], physician=calendar.okafor, by=physician_user, steps=[
        {"procedure_type": calendar.mbb, "region": "lumbar", "max_days_after": 0},
        {"procedure_type": calendar.mbb, "region": "lumbar", "min_days_after": 7}])
    first, second = plan.steps.order_by("position")
    assert first.status == StepStatus.READY and first.proposed_date is None and first.planning_note
    assert second.proposed_date is None and second.tentative
    client.force_login(front_desk)
    page = client.get(f"/admin/scheduling/careplan/{plan.pk}/change/").content.decode()
    timeline = page.split('id="careplan-timeline"', 1)[1].split("</table>", 1)[0]
    assert ">firm<" not in timeline and "no day yet" in timeline
    assert f"No day found: {first.planning_note}" in timeline
    page = client.post(f"/admin/scheduling/careplan/{plan.pk}/send-link/", {"step": first.pk},
                       follow=True).content.decode()
    assert "cannot be booked online yet: " in page and first.planning_note in page.split("Not sent:", 1)[1].split("</li>", 1)[0]
