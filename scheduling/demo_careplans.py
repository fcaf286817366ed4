"""The demo clinic's care-plan templates (issue 12; DESIGN.md section 4), created when missing.

A template is keyed by its name; its steps are seeded only with the template, so a template the
manager edited (steps added, waits changed) is left exactly as they made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from simple_history.utils import bulk_create_with_history

from clinic.demo import SeedReport
from scheduling.models import CarePlanTemplate, CarePlanTemplateStep, Gate, Priority, StepKind


@dataclass(frozen=True)
class StepSeed:
    code: str = ""  # the procedure type booked here; empty for a step done elsewhere
    kind: str = StepKind.PROCEDURE
    region: str = ""
    laterality: str = ""
    min_days: int = 0
    max_days: int | None = None
    gate: str = Gate.NONE
    relief: int | None = None  # a relief gate's own threshold; None: the payer's pathway rule
    priority: str = Priority.ROUTINE
    note: str = ""


TEMPLATES = [
    ("Lumbar facet pathway",
     "Two diagnostic medial branch blocks 7-21 days apart, each judged by the patient's relief (the payer's "
     "threshold: 80% for Medicare, 50% otherwise), then radiofrequency ablation of the left side and, two weeks "
     "later, of the right.",
     [StepSeed("MBB_LUMBAR", region="lumbar", laterality="bilateral", note="First diagnostic block."),
      StepSeed("MBB_LUMBAR", region="lumbar", laterality="bilateral", min_days=7, max_days=21, gate=Gate.RELIEF,
               note="Confirmatory block."),
      StepSeed("RFA_LUMBAR", region="lumbar", laterality="left", gate=Gate.RELIEF),
      StepSeed("RFA_LUMBAR", region="lumbar", laterality="right", min_days=14)]),
    ("Spinal cord stimulation",
     "A psychological evaluation (done elsewhere), a stimulator trial (its lead removal is booked with it), and "
     "the implant 14-90 days after a trial that gave at least 50% relief.",
     [StepSeed(kind=StepKind.PSYCH_EVALUATION, note="By the patient's psychologist; record the day it was done."),
      StepSeed("SCS_TRIAL", gate=Gate.PSYCH_EVALUATION),
      StepSeed("SCS_IMPLANT", min_days=14, max_days=90, gate=Gate.RELIEF, relief=50)]),
    ("Epidural steroid injection series",
     "Up to three interlaminar epidurals at least 14 days apart, each after the first only while the last one "
     "gave at least 50% relief.",
     [StepSeed("ESI_IL", region="lumbar", laterality="midline"),
      StepSeed("ESI_IL", region="lumbar", laterality="midline", min_days=14, gate=Gate.RELIEF, relief=50),
      StepSeed("ESI_IL", region="lumbar", laterality="midline", min_days=14, gate=Gate.RELIEF, relief=50)]),
    ("Vertebral augmentation",
     "Imaging that confirms an acute compression fracture (done elsewhere), then kyphoplasty within 14 days, "
     "urgent.",
     [StepSeed(kind=StepKind.IMAGING, note="MRI (edema on STIR) or bone scan; record the day it was done."),
      StepSeed("KYPHOPLASTY", region="thoracic", max_days=14, priority=Priority.URGENT)]),
]


@transaction.atomic
def seed_demo_care_plan_templates(report: SeedReport) -> None:
    for name, description, steps in TEMPLATES:
        template, created = CarePlanTemplate.objects.get_or_create(name=name, defaults={"description": description})
        report.record("care-plan templates", created)
        if not created:
            continue
        bulk_create_with_history([
            CarePlanTemplateStep(
                template=template, position=position, kind=seed.kind,
                procedure_type=report.procedure_types[seed.code] if seed.code else None, region=seed.region,
                laterality=seed.laterality, min_days_after=seed.min_days, max_days_after=seed.max_days,
                gate=seed.gate, gate_relief_percent=seed.relief, priority=seed.priority, note=seed.note)
            for position, seed in enumerate(steps, start=1)], CarePlanTemplateStep)
