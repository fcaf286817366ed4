"""A care plan's course as webhook events: stopped at a gate for the physician's decision,
resumed (changed, or with a step repeated), completed, or ended, each posted in order about the
plan to a real receiver on this machine."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling.models import WebhookEndpoint
from scheduling.services.careplan_decisions import careplan_end, careplan_repeat_step, careplan_resume
from scheduling.webhooks.delivery import dispatch_due
from tests.careplans import FACET, book_step, make_plan, patient_with, relief, take_through
from tests.conftest import NEXT_MONDAY
from tests.webhooks import start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the receiver is on this machine, without TLS
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True
    found, server = start_receiver()
    endpoint = WebhookEndpoint.objects.create(name="EHR", url=found.url, events=["care_plan.*"])
    found.secret = endpoint.secret
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def stopped(calendar, clock, nurse, receiver):
    """A facet plan stopped after a first block with 60% relief (the second block wants 80%)."""
    plan = make_plan(calendar, patient_with("Medicare"))
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(visit, clock, by=nurse)
    relief(visit, 60, by=nurse)
    return plan


def posted(receiver) -> list[tuple[str, dict]]:
    dispatch_due(budget=dt.timedelta(seconds=20))
    assert all(item.verified for item in receiver.received)
    return [(item.headers["Interval-Event"], item.event["data"]) for item in receiver.received]


def test_a_plan_stopped_at_its_gate_tells_which_step_and_why(stopped, receiver):
    events = posted(receiver)
    assert [kind for kind, _data in events] == ["care_plan.created", "care_plan.step_ready", "care_plan.stopped"]
    data = events[-1][1]
    assert data["care_plan"]["id"] == stopped.pk and data["care_plan"]["status"] == "needs_decision"
    assert data["care_plan"]["status_note"].startswith("Stopped at")
    assert data["step"]["position"] == 2 and data["step"]["status"] == "stopped"
    assert "60%" in data["step"]["status_note"]
    assert data["patient"] == {"id": stopped.patient_id}


def test_a_plan_resumed_after_the_physician_changed_its_step_tells_the_step_then_that_it_is_ready(
        stopped, receiver, practising_physician):
    posted(receiver)
    stopped.steps.filter(position=2).update(gate_relief_percent=60)
    careplan_resume(plan=stopped, by=practising_physician, note="60% is enough for her")
    events = posted(receiver)[3:]
    assert [kind for kind, _data in events] == ["care_plan.resumed", "care_plan.step_ready"]
    resumed, ready = (data for _kind, data in events)
    assert resumed["care_plan"]["status"] == "active"
    assert resumed["care_plan"]["status_note"] == "60% is enough for her"
    assert resumed["step"]["position"] == 2
    assert ready["step"]["position"] == 2 and ready["step"]["status"] == "ready"


def test_a_plan_resumed_with_a_step_repeated_tells_that_the_repeat_is_ready(stopped, receiver, practising_physician):
    posted(receiver)
    careplan_repeat_step(plan=stopped, by=practising_physician, note="Block done at the wrong level")
    events = posted(receiver)[3:]
    assert [kind for kind, _data in events] == ["care_plan.resumed", "care_plan.step_ready"]
    resumed, ready = (data for _kind, data in events)
    assert resumed["care_plan"]["status"] == "active" and "step" not in resumed
    assert "Block done at the wrong level" in resumed["care_plan"]["status_note"]
    assert ready["step"]["position"] == 2 and ready["step"]["procedure_type"] == "MBB_LUMBAR"


def test_a_plan_ended_by_the_physician_tells_why(stopped, receiver, practising_physician):
    careplan_end(plan=stopped, reason="Patient prefers physical therapy", by=practising_physician)
    kind, data = posted(receiver)[-1]
    assert kind == "care_plan.ended"
    assert (data["care_plan"]["status"], data["care_plan"]["status_note"]) == (
        "ended", "Patient prefers physical therapy")


def test_a_plan_whose_last_step_is_done_tells_it_is_completed(calendar, clock, nurse, receiver):
    plan = make_plan(calendar, patient_with("Self-pay"), FACET[:1], name="One block")
    visit = book_step(calendar, plan, 1, NEXT_MONDAY)
    take_through(visit, clock, by=nurse)
    events = posted(receiver)
    assert [kind for kind, _data in events] == ["care_plan.created", "care_plan.step_ready", "care_plan.completed"]
    data = events[-1][1]
    assert data["care_plan"]["id"] == plan.pk and data["care_plan"]["status"] == "completed"
    assert {item.event["data"]["care_plan"]["id"] for item in receiver.received} == {plan.pk}
