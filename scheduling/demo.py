"""The demo clinic's pathway rules (DESIGN.md section 4) and reminder plans, created when missing.

Both belong to their procedure type, and neither has a key the manager cannot edit (a step's
days, a rule's figures are what the admin changes): a procedure type's plan, or its rules, are
seeded when it has none at all, and otherwise left exactly as the manager made them. Keyed by
their own fields, an edited reminder step gained a twin on the next run, and a deleted one
came back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from clinic.demo import SeedReport
import datetime as dt

from clinic.models import BleedingRisk, ProcedureFamily
from scheduling.models import Anchor, PathwayRule, ReminderKind, ReminderStep, RuleKind, WebhookEndpoint

ESI_SOURCE = "Medicare LCD L33906; eviCore CMM-200"
FACET_SOURCE = "Medicare LCD L33930 / article A57787; eviCore CMM-208"
SCS_SOURCE = "CMS LCD for spinal cord stimulators"


@dataclass(frozen=True)
class RuleSeed:
    code: str
    kind: str
    payer: str | None = None
    count: int = 1
    min_relief_percent: int | None = None
    within_days: int | None = None
    min_interval_days: int | None = None
    min_interval_months: int | None = None
    prerequisites: tuple[str, ...] = ()
    source: str = ""
    accepts_outside_procedures: bool = False
    same_side: bool = False


RULES = [
    # Epidural steroid injections: at most 4 sessions per region in 12 months, at least 14 days
    # apart, and a repeat only after at least 50% relief from the last one.
    *[
        rule
        for code in ("ESI_IL", "ESI_TF", "ESI_CAUDAL")
        for rule in (
            RuleSeed(code, RuleKind.MAX_PER_YEAR, count=4, source=ESI_SOURCE),
            RuleSeed(code, RuleKind.MIN_INTERVAL, min_interval_days=14, source=ESI_SOURCE),
            RuleSeed(code, RuleKind.REPEAT_RELIEF, min_relief_percent=50, source=ESI_SOURCE),
        )
    ],
    # RFA after two diagnostic medial branch blocks of the same region: 50% relief each by
    # consensus, 80% for Medicare; at most 2 per region in 12 months; a repeat of the same side at least
    # 6 months after it.
    # A documented block done at another clinic counts toward it for commercial payers; the
    # demo's Medicare rule wants blocks done here (the manager changes either in the admin).
    *[
        rule
        for code, block in (("RFA_LUMBAR", "MBB_LUMBAR"), ("RFA_CERVICAL", "MBB_CERVICAL"))
        for rule in (
            RuleSeed(code, RuleKind.PREREQUISITE, count=2, min_relief_percent=50, within_days=365,
                     prerequisites=(block,), source="Spine Intervention Society consensus; eviCore CMM-208",
                     accepts_outside_procedures=True),
            RuleSeed(code, RuleKind.PREREQUISITE, payer="Medicare", count=2, min_relief_percent=80, within_days=365,
                     prerequisites=(block,), source=FACET_SOURCE),
            RuleSeed(code, RuleKind.MAX_PER_YEAR, count=2, source=FACET_SOURCE),
            # "Repeat ... of the same anatomic site" (L39242): the other side may follow in weeks.
            RuleSeed(code, RuleKind.MIN_INTERVAL, min_interval_months=6, same_side=True, source=FACET_SOURCE),
        )
    ],
    # An SCS implant only after a trial with at least 50% relief, within 180 days of it.
    RuleSeed("SCS_IMPLANT", RuleKind.PREREQUISITE, count=1, min_relief_percent=50, within_days=180,
             prerequisites=("SCS_TRIAL",), source=SCS_SOURCE),
]


DIARY_PROMPTS = (30, 60, 120, 180, 240, 300, 360)


def reminder_plan(procedure_type) -> list[tuple[str, str, int, int, dt.time | None]]:
    """The demo's reminder plan for a procedure type: (kind, anchor, days, minutes, local time)."""
    office_visit = procedure_type.family == ProcedureFamily.OFFICE_VISIT
    removal = procedure_type.code == "SCS_TRIAL_REMOVAL"
    steps = [
        (ReminderKind.BOOKING_CONFIRMATION, Anchor.BOOKED, 0, 0, None),
        (ReminderKind.CONFIRMATION_REQUEST, Anchor.DAYS_BEFORE, 2, 0, dt.time(10)),
        (ReminderKind.TRIAL_REMOVAL if removal else ReminderKind.PREPARATION, Anchor.DAYS_BEFORE, 1, 0, dt.time(17)),
        (ReminderKind.ARRIVAL, Anchor.BEFORE_ARRIVAL, 0, 120, None),
    ]
    if procedure_type.bleeding_risk != BleedingRisk.NONE:
        steps.append((ReminderKind.BLOOD_THINNER_HOLD, Anchor.HOLD_START, 0, 0, dt.time(9)))
    if procedure_type.family == ProcedureFamily.DIAGNOSTIC_BLOCK:
        # The diary's prompts: 30 minutes after the block, then every hour to 6 hours (the
        # hours the local anaesthetic lasts); the diary page asks at the same times.
        steps += [(ReminderKind.PAIN_DIARY, Anchor.AFTER_PROCEDURE_END, 0, minutes, None) for minutes in DIARY_PROMPTS]
    if not office_visit and not removal:
        steps.append((ReminderKind.CHECK_IN, Anchor.DAYS_AFTER, 1, 0, dt.time(10)))
    return steps


@transaction.atomic
def seed_demo_reminder_plans(report: SeedReport) -> None:
    for procedure_type in report.procedure_types.values():
        steps = reminder_plan(procedure_type)
        if ReminderStep.objects.filter(procedure_type=procedure_type).exists():
            report.record("reminder steps", False, count=len(steps))
            continue
        bulk_create_with_history([
            ReminderStep(procedure_type=procedure_type, kind=kind, anchor=anchor, days=days, minutes=minutes,
                         at_time=at_time)
            for kind, anchor, days, minutes, at_time in steps], ReminderStep)
        report.record("reminder steps", True, count=len(steps))


@transaction.atomic
def seed_demo_pathways(report: SeedReport) -> None:
    with_rules = set(PathwayRule.objects.values_list("procedure_type__code", flat=True).distinct())
    for seed in RULES:
        if seed.code in with_rules:
            report.record("pathway rules", False)
            continue
        rule = PathwayRule.objects.create(
            procedure_type=report.procedure_types[seed.code],
            kind=seed.kind,
            payer=report.payers[seed.payer] if seed.payer else None,
            count=seed.count,
            min_relief_percent=seed.min_relief_percent,
            within_days=seed.within_days,
            min_interval_days=seed.min_interval_days,
            min_interval_months=seed.min_interval_months,
            source=seed.source,
            accepts_outside_procedures=seed.accepts_outside_procedures,
            same_side=seed.same_side,
        )
        if seed.prerequisites:
            rule.prerequisite_types.set([report.procedure_types[code] for code in seed.prerequisites])
        report.record("pathway rules", True)


DEMO_WEBHOOK_NAME = "Example receiver (inactive)"


def seed_demo_webhook_endpoint(report: SeedReport) -> None:
    """An example webhook endpoint, inactive: the demo shows how one is set up and posts nowhere."""
    _endpoint, created = WebhookEndpoint.objects.get_or_create(name=DEMO_WEBHOOK_NAME, defaults={
        "url": "https://receiver.example.org/interval", "events": ["appointment.*"], "is_active": False})
    report.record("webhook endpoints", created)
