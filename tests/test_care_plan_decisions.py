"""A plan stopped at a gate: listed on needs attention for the physicians and the manager, and the
physician's decisions (end, repeat the step, change and resume), physicians only, each kept in
the plan's history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from scheduling.errors import BookingError
from scheduling.models import OrderStatus, PlanStatus, Reminder, ReminderKind, StepStatus
from scheduling.services.careplan_decisions import careplan_end, careplan_repeat_step, careplan_resume
from tests.careplans import SCS, book_step, make_plan, patient_with, relief, step, take_through
from tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

ATTENTION = "/admin/board/attention/"


@pytest.fixture
def stopped(calendar, clock, nurse):
    """A Medicare patient's facet plan, stopped after a first block with 60% relief."""
    plan = make_plan(calendar, patient_with("Medicare"))
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(visit, clock, by=nurse)
    relief(visit, 60, by=nurse)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.NEEDS_DECISION
    return plan


def decide_url(plan, decision):
    return reverse("admin:scheduling_careplan_decide", args=[plan.pk, decision])


def listed(response) -> list[str]:
    section = response.content.decode().split('id="stopped-plans"', 1)[1]
    return re.findall(r'<tr id="plan-(\d+)"', section)


# ---- Needs attention ------------------------------------------------------------------------------

def test_needs_attention_lists_the_stopped_plan_for_its_physician_first(client, calendar, stopped,
                                                                        practising_physician):
    other = make_plan(calendar, patient_with("Medicare"), SCS, name="Spinal cord stimulation")
    other.physician = calendar.reyes
    other.status, other.status_note = PlanStatus.NEEDS_DECISION, "Stopped at step 2: denied."
    other.save()
    client.force_login(practising_physician)
    response = client.get(ATTENTION)
    assert listed(response) == [str(stopped.pk), str(other.pk)]  # Dr. Okafor's own plan first
    row = response.content.decode().split(f'id="plan-{stopped.pk}"', 1)[1].split("</tr>", 1)[0]
    assert stopped.patient.full_name in row
    assert "Step 2 (Lumbar medial branch block (diagnostic), bilateral)" in row
    assert "gave 60% relief; Medicare asks for 80%." in row
    assert reverse("admin:scheduling_careplan_change", args=[stopped.pk]) in row
    assert "your patient" in row
    # No visit is stranded, but the page does not say that nothing needs attention.
    page = response.content.decode()
    assert "No booked visit needs attention" in page and "Nothing needs attention" not in page


def test_the_manager_sees_the_stopped_plans_and_the_front_desk_does_not(client, stopped, manager, front_desk):
    client.force_login(manager)
    assert listed(client.get(ATTENTION)) == [str(stopped.pk)]
    client.force_login(front_desk)
    assert "stopped-plans" not in client.get(ATTENTION).content.decode()


# ---- Deciding: physicians only -------------------------------------------------------------------

@pytest.mark.parametrize("role", ["front_desk", "nurse", "manager", "physician_user"])
def test_only_a_practising_physician_may_decide(client, stopped, role, request):
    user = request.getfixturevalue(role)  # physician_user: in the group, with no physician record
    client.force_login(user)
    for decision in ("end", "repeat", "resume"):
        assert client.get(decide_url(stopped, decision)).status_code == 403
        assert client.post(decide_url(stopped, decision), {"reason": "No", "note": ""}).status_code == 403
    with pytest.raises(BookingError, match="Only a physician"):
        careplan_end(plan=stopped, reason="No", by=user)
    stopped.refresh_from_db()
    assert stopped.status == PlanStatus.NEEDS_DECISION


def test_the_plans_page_offers_the_physician_the_decisions(client, stopped, practising_physician, nurse):
    change = reverse("admin:scheduling_careplan_change", args=[stopped.pk])
    client.force_login(practising_physician)
    text = client.get(change).content.decode()
    assert decide_url(stopped, "repeat") in text and decide_url(stopped, "end") in text
    assert "Repeat step 1 (Lumbar medial branch block (diagnostic), bilateral)" in text
    client.force_login(nurse)
    text = client.get(change).content.decode()
    assert decide_url(stopped, "end") not in text and "Stopped: needs the physician" in text


def test_ending_the_plan_cancels_its_open_steps_and_their_orders(client, stopped, practising_physician):
    client.force_login(practising_physician)
    assert client.post(decide_url(stopped, "end"), {"reason": ""}).status_code == 400
    response = client.post(decide_url(stopped, "end"), {"reason": "Patient prefers physical therapy"})
    assert response.status_code == 302
    stopped.refresh_from_db()
    assert (stopped.status, stopped.status_note) == (PlanStatus.ENDED, "Patient prefers physical therapy")
    assert [s.status for s in stopped.steps.order_by("position")] == ["done", "cancelled", "cancelled", "cancelled"]
    assert {s.order.status for s in stopped.steps.filter(position__gt=1)} == {OrderStatus.CANCELLED}
    last = stopped.history.first()
    assert (last.history_user, last.history_change_reason) == (practising_physician,
                                                               "Ended: Patient prefers physical therapy")


def test_repeating_the_step_inserts_a_ready_copy_before_the_stopped_step(client, calendar, clock, nurse, stopped,
                                                                         practising_physician):
    client.force_login(practising_physician)
    response = client.post(decide_url(stopped, "repeat"), {"note": "Block done at the wrong level"})
    assert response.status_code == 302
    stopped.refresh_from_db()
    assert stopped.status == PlanStatus.ACTIVE
    assert [(s.position, s.status) for s in stopped.steps.order_by("position")] == [
        (1, "done"), (2, "ready"), (3, "planned"), (4, "planned"), (5, "planned")]
    copy, waiting = step(stopped, 2), step(stopped, 3)
    first = step(stopped, 1)
    assert copy.procedure_type == first.procedure_type and copy.order != first.order
    assert copy.order.status == OrderStatus.OPEN and copy.gate == "none"
    assert (copy.min_days_after, copy.max_days_after) == (7, 21)  # the stopped step's waits
    assert Reminder.objects.filter(order=copy.order, kind=ReminderKind.ORDER_BOOKING_LINK).exists()
    assert waiting.status_note == "Waits for the repeat, step 2."
    assert copy.history.first().history_user == practising_physician

    # The repeat gives 85%: the second block goes ahead on it.
    repeat = book_step(calendar, stopped, 2, NEXT_MONDAY + dt.timedelta(days=7))
    take_through(repeat, clock, by=nurse)
    relief(repeat, 85, by=nurse)
    assert step(stopped, 3).status == StepStatus.READY
    assert "Step 2 (Lumbar medial branch block (diagnostic), bilateral) gave 85% relief" in step(stopped, 3).status_note


def test_changing_the_step_then_resuming_judges_it_again(stopped, practising_physician):
    # Resumed unchanged, it stops again with the same words.
    answer = careplan_resume(plan=stopped, by=practising_physician)
    stopped.refresh_from_db()
    assert answer.failed and stopped.status == PlanStatus.NEEDS_DECISION
    # The physician accepts 60% for this patient, then resumes: the second block is ready.
    stopped.steps.filter(position=2).update(gate_relief_percent=60)
    answer = careplan_resume(plan=stopped, by=practising_physician, note="60% is enough for her")
    stopped.refresh_from_db()
    assert answer.passed and stopped.status == PlanStatus.ACTIVE
    assert step(stopped, 2).status == StepStatus.READY
    assert stopped.history.filter(history_change_reason="Resumed: 60% is enough for her",
                                  history_user=practising_physician).exists()


def test_a_decision_on_a_plan_that_is_not_stopped_is_refused_in_words(calendar, practising_physician):
    plan = make_plan(calendar, patient_with("Self-pay"))
    with pytest.raises(BookingError, match="not stopped at a step"):
        careplan_repeat_step(plan=plan, by=practising_physician)


# ---- A step done elsewhere ---------------------------------------------------------------------------

def test_marking_a_step_done_elsewhere_needs_the_permission_and_a_past_day(client, calendar, nurse,
                                                                           practising_physician):
    plan = make_plan(calendar, patient_with("Self-pay"), SCS, name="Spinal cord stimulation", region="thoracic")
    url = reverse("admin:scheduling_careplan_step_done", args=[plan.pk, step(plan, 1).pk])
    client.force_login(nurse)
    assert client.post(url, {"day": "2026-11-20"}).status_code == 403
    client.force_login(practising_physician)
    assert url in client.get(reverse("admin:scheduling_careplan_change", args=[plan.pk])).content.decode()
    future = client.post(url, {"day": "2026-11-25"})
    assert future.status_code == 400 and "cannot be in the future" in future.content.decode()
    assert client.post(url, {"day": "2026-11-20", "note": "Dr. Lee, report on file"}).status_code == 302
    assert (step(plan, 1).status, step(plan, 1).done_on) == (StepStatus.DONE, dt.date(2026, 11, 20))
    assert step(plan, 2).status == StepStatus.READY


# ---- Changing the stopped step in the plan's admin, then resuming ---------------------------------

def plan_rows(plan, **changes_by_position) -> dict:
    """The plan's change form as it is, with some steps' fields changed: {2: {"gate_relief_percent": 60}}."""
    from tests.test_admin_careplans import step_rows

    rows = []
    for item in plan.steps.order_by("position"):
        row = {"id": item.pk, "plan": plan.pk, **{name: getattr(item, name) for name in (
            "position", "kind", "region", "laterality", "min_days_after", "gate", "priority", "note",
            "max_days_after", "gate_relief_percent")}, "procedure_type": item.procedure_type_id or ""}
        row.update(changes_by_position.get(f"s{item.position}", {}))
        rows.append(row)
    return {"physician": plan.physician_id, "name": plan.name, "notes": plan.notes,
            **step_rows(rows, initial=len(rows))}


def test_the_physician_changes_the_stopped_steps_threshold_in_the_admin_then_resumes(client, stopped,
                                                                                      practising_physician):
    client.force_login(practising_physician)
    change = reverse("admin:scheduling_careplan_change", args=[stopped.pk])
    response = client.post(change, plan_rows(stopped, s2={"gate_relief_percent": 60, "min_days_after": 10}))
    assert response.status_code == 302, response.content.decode()[:3000]
    second = step(stopped, 2)
    assert second.status == StepStatus.STOPPED and second.gate_relief_percent == 60
    assert second.min_days_after == 10
    response = client.post(decide_url(stopped, "resume"), {"note": "60% is enough for her"})
    assert response.status_code == 302
    stopped.refresh_from_db()
    assert stopped.status == PlanStatus.ACTIVE
    assert step(stopped, 2).status == StepStatus.READY


def test_the_stopped_step_keeps_what_its_gate_does_not_judge(client, stopped, practising_physician):
    client.force_login(practising_physician)
    change = reverse("admin:scheduling_careplan_change", args=[stopped.pk])
    page = client.post(change, plan_rows(stopped, s2={"region": "cervical"})).content.decode()
    assert "Step 2 is stopped at its gate: only its gate, relief threshold, waits, note and procedure type" in page
    assert step(stopped, 2).region != "cervical"


# ---- Plan again -----------------------------------------------------------------------------------

def test_plan_again_says_what_it_did_and_is_not_offered_on_an_ended_plan(client, calendar, stopped,
                                                                        practising_physician):
    client.force_login(practising_physician)
    change = reverse("admin:scheduling_careplan_change", args=[stopped.pk])
    replan = reverse("admin:scheduling_careplan_replan", args=[stopped.pk])
    page = client.post(replan, follow=True).content.decode()
    assert "Nothing to plan again: step 2 is stopped at its gate" in page
    assert "The timeline was planned again" not in page

    active = make_plan(calendar, patient_with("Self-pay"))
    page = client.post(reverse("admin:scheduling_careplan_replan", args=[active.pk]), follow=True).content.decode()
    assert "The timeline was planned again: 4 steps not yet booked looked at, 0 with a new day" in page

    careplan_end(plan=stopped, reason="Patient moved away", by=practising_physician)
    assert replan not in client.get(change).content.decode()
    page = client.post(replan, follow=True).content.decode()
    assert "Not planned again: the plan is ended." in page
