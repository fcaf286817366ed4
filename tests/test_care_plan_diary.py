"""The lumbar facet pathway end to end with the patient's own diary, the clock frozen: each block's
diary filled through the link in its reminders, its outcome confirmed by a nurse as
patient-reported, and the plan moving on by it to the ablations."""

from __future__ import annotations

import datetime as dt

import pytest
from urllib.parse import urlsplit

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from scheduling import services
from scheduling.models import Outcome, OutcomeSource, Reminder, ReminderKind, ReminderStatus, StepStatus
from scheduling.reminders import dispatch
from scheduling.reminders.links import link
from tests.careplans import book_step, make_plan, patient_with, step
from tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

PROMPTS = (30, 60, 120, 180, 240, 300, 360)


def statuses(plan) -> list[str]:
    return list(plan.steps.order_by("position").values_list("status", flat=True))


def the_block_and_its_diary(visit, clock, nurse, *, baseline: int, pains: list[int]) -> dt.datetime:
    """The visit's day with the baseline asked at check-in, then the patient answering every
    prompt from the link in their pain-diary reminder; the procedure's real end."""
    clock.move_to(visit.procedure_start - dt.timedelta(minutes=20))
    services.appointment_check_in(appointment=visit, by=nurse, baseline_pain=baseline)
    services.appointment_start(appointment=visit, by=nurse, reason="Checks recorded on paper")
    clock.move_to(visit.procedure_end)
    ended = visit.procedure_end
    services.appointment_move_to_recovery(appointment=visit, by=nurse)
    clock.move_to(ended + dt.timedelta(minutes=30))
    services.appointment_complete(appointment=visit, by=nurse)
    prompt = visit.reminders.filter(kind=ReminderKind.PAIN_DIARY).order_by("due_at").first()
    url = link(visit, "diary")
    assert url in dispatch.render(prompt).body  # the link the patient follows
    patient = Client()
    for minutes, pain in zip(PROMPTS, pains):
        clock.move_to(ended + dt.timedelta(minutes=minutes))
        answered = patient.post(urlsplit(url).path, {"record": "entry", "pain": str(pain), "prompt": str(minutes)})
        assert answered.status_code in (200, 302), answered.content.decode()[-1500:]
    return ended


def confirm(visit, nurse, *, relief: int, proposed: int) -> None:
    """The nurse opens the diary's proposal on the visit's admin page and confirms it."""
    staff = Client()
    staff.force_login(nurse)
    url = reverse("admin:scheduling_appointment_diary_confirm", args=[visit.pk])
    page = staff.get(url).content.decode()
    assert f'value="{proposed}"' in page
    response = staff.post(url, {"pain_before": 8, "pain_after": 1, "relief_percent": relief,
                                "relief_duration_hours": 5, "notes": "Diary reviewed with the patient."})
    assert response.status_code == 302, response.content.decode()[-1500:]
    outcome = Outcome.objects.get(appointment=visit)
    assert (outcome.relief_percent, outcome.source, outcome.recorded_by) == (
        relief, OutcomeSource.PATIENT_DIARY, nurse)


def test_the_facet_pathway_by_the_patients_diary(calendar, clock, nurse, front_desk):
    patient = patient_with("Self-pay")
    plan = make_plan(calendar, patient)

    first = book_step(calendar, plan, 1, NEXT_MONDAY, by=front_desk)
    the_block_and_its_diary(first, clock, nurse, baseline=8, pains=[1, 1, 1, 1, 2, 3, 5])
    assert step(plan, 2).status == StepStatus.PLANNED  # the diary alone moves nothing: staff confirm it
    confirm(first, nurse, relief=85, proposed=88)

    # The second block is ready, and its booking link goes to the patient through the worker.
    second_step = step(plan, 2)
    assert second_step.status == StepStatus.READY
    offer = Reminder.objects.get(order=second_step.order, kind=ReminderKind.ORDER_BOOKING_LINK)
    message = dispatch.render(offer)
    assert "http" in message.body and "block" not in message.body.lower()  # a link; no procedure named
    dispatch.dispatch_due(now=timezone.now())
    offer.refresh_from_db()
    assert offer.status == ReminderStatus.SENT

    second = book_step(calendar, plan, 2, NEXT_MONDAY + dt.timedelta(days=7), by=front_desk)
    the_block_and_its_diary(second, clock, nurse, baseline=8, pains=[1, 1, 1, 1, 1, 2, 4])
    confirm(second, nurse, relief=88, proposed=88)

    # RFA left is bookable; RFA right is planned from 14 days after the left's day.
    assert statuses(plan) == ["done", "done", "ready", "planned"]
    left = book_step(calendar, plan, 3, NEXT_MONDAY + dt.timedelta(days=9), by=front_desk)
    right = step(plan, 4)
    assert right.window_start == NEXT_MONDAY + dt.timedelta(days=23)
    assert right.proposed_date is not None and right.proposed_date >= right.window_start
    assert left.procedure_start.date() < right.proposed_date
