"""Reads of care plans that several pages share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone

from clinic.models import Location
from scheduling.careplans.steps import capital_label
from scheduling.models import (
    CarePlan,
    CarePlanStep,
    PlanStatus,
    Reminder,
    ReminderKind,
    ReminderStatus,
    StepStatus,
)

MAX_LISTED = 200


def sees_plan_decisions(user) -> bool:
    """Physicians (who decide) and the clinic manager (who keeps the pathways) see the plans that
    wait for a decision."""
    return user.has_perm("scheduling.change_careplan") or user.has_perm("scheduling.change_careplantemplate")


@dataclass(frozen=True)
class StoppedPlan:
    plan: CarePlan
    step: CarePlanStep | None  # the step it stopped at
    why: str  # the outcome that stopped it, in words
    own: bool  # the user is the plan's physician

    @property
    def step_label(self) -> str:
        return capital_label(self.step) if self.step else ""


def plans_needing_decision(*, user) -> list[StoppedPlan]:
    """The plans stopped at a gate, the user's own first (a physician's), then the longest waiting."""
    stopped_steps = CarePlanStep.objects.filter(status=StepStatus.STOPPED).select_related("procedure_type")
    plans = (CarePlan.objects.filter(status=PlanStatus.NEEDS_DECISION)
             .select_related("patient", "physician__user")
             .prefetch_related(Prefetch("steps", queryset=stopped_steps, to_attr="stopped_steps"))
             .order_by("updated_at", "pk")[:MAX_LISTED])
    rows = [StoppedPlan(plan=plan, step=(plan.stopped_steps or [None])[0],
                        why=(plan.stopped_steps[0].status_note if plan.stopped_steps else "") or plan.status_note,
                        own=plan.physician.user_id == user.pk)
            for plan in plans]
    return sorted(rows, key=lambda row: not row.own)


def plans_waiting_count(*, user) -> int:
    """How many plans wait for a decision that concern the user, for the board's "Needs attention" tab:
    all of them for the clinic manager, a physician's own, none for the other roles. One COUNT."""
    if user.has_perm("scheduling.change_careplantemplate"):
        return CarePlan.objects.filter(status=PlanStatus.NEEDS_DECISION).count()
    if user.has_perm("scheduling.change_careplan"):
        return CarePlan.objects.filter(status=PlanStatus.NEEDS_DECISION, physician__user=user).count()
    return 0


def own_plans_waiting_count(physician) -> int:
    """How many of a physician's own plans wait for their decision: the line on My day."""
    return CarePlan.objects.filter(status=PlanStatus.NEEDS_DECISION, physician=physician).count()


@dataclass(frozen=True)
class LinkSent:
    """The last booking link queued for an order: when (local to the site the message names) and
    whether it went out yet."""

    at: dt.datetime  # sent_at when sent, else when it was queued
    sent: bool


def last_booking_links(order_ids) -> dict[int, LinkSent]:
    """Each order's last booking link still queued or sent (cancelled and failed ones left out)."""
    links: dict[int, LinkSent] = {}
    reminders = (Reminder.objects.filter(order_id__in=[pk for pk in order_ids if pk],
                                         kind=ReminderKind.ORDER_BOOKING_LINK)
                 .exclude(status__in=[ReminderStatus.CANCELLED, ReminderStatus.FAILED]).order_by("created_at", "pk"))
    zones = {}
    for reminder in reminders:
        location_id = (reminder.context or {}).get("location")
        if location_id not in zones:
            location = Location.objects.filter(pk=location_id).first() if location_id else None
            zones[location_id] = location.zone if location else timezone.get_current_timezone()
        when = reminder.sent_at or reminder.created_at
        links[reminder.order_id] = LinkSent(at=when.astimezone(zones[location_id]),
                                            sent=reminder.status == ReminderStatus.SENT)
    return links
