"""Reads of care plans that several pages share."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch

from scheduling.careplans.steps import capital_label
from scheduling.models import CarePlan, CarePlanStep, PlanStatus, StepStatus

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
