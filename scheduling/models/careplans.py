"""Care plans: a patient's ordered steps (block, block, ablation; trial, implant; a series), with
the waits between them and the gates that let the next one go ahead (DESIGN.md section 4).

A template (kept by the clinic manager) is copied into a plan for one patient; the plan's steps
are then edited for that patient. Procedure steps are booked through their own procedure order,
so the order, prior-authorization and eligibility checks apply to them unchanged.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import Patient, Physician, ProcedureType
from scheduling.models.orders import Laterality, Priority, ProcedureOrder, Region


class StepKind(models.TextChoices):
    """What a step is. The first three are visits booked here (a procedure type); the others
    happen elsewhere and are marked done by staff with the day they happened."""

    PROCEDURE = "procedure", _("Procedure")
    CONSULTATION = "consultation", _("Consultation")
    FOLLOW_UP = "follow_up", _("Follow-up visit")
    PHYSICAL_THERAPY = "physical_therapy", _("Physical-therapy referral")
    PSYCH_EVALUATION = "psych_evaluation", _("Psychological evaluation")
    IMAGING = "imaging", _("Imaging")


BOOKED_HERE = (StepKind.PROCEDURE, StepKind.CONSULTATION, StepKind.FOLLOW_UP)


class Gate(models.TextChoices):
    """What must be true before a step may go ahead."""

    NONE = "none", _("None")
    RELIEF = "relief", _("The previous step's relief at or above a threshold")
    PSYCH_EVALUATION = "psych_evaluation", _("A psychological evaluation on file")
    PRIOR_AUTHORIZATION = "prior_authorization", _("Prior authorization approved")


class StepFields(models.Model):
    """The fields a template's step and a plan's step share."""

    position = models.PositiveSmallIntegerField(_("order"), validators=[MaxValueValidator(50)])
    kind = models.CharField(_("kind"), max_length=20, choices=StepKind.choices, default=StepKind.PROCEDURE)
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("procedure type"), help_text=_("For procedures, consultations and follow-ups: what is booked."),
    )
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    laterality = models.CharField(_("laterality"), max_length=20, choices=Laterality.choices, blank=True)
    min_days_after = models.PositiveSmallIntegerField(
        _("at least (days after the previous step)"), default=0, validators=[MaxValueValidator(730)])
    max_days_after = models.PositiveSmallIntegerField(
        _("at most (days after the previous step)"), null=True, blank=True, validators=[MaxValueValidator(730)],
        help_text=_("Empty: no limit."))
    gate = models.CharField(_("goes ahead when"), max_length=30, choices=Gate.choices, default=Gate.NONE)
    gate_relief_percent = models.PositiveSmallIntegerField(
        _("relief needed (%)"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("For a relief gate. Empty: what the patient's payer requires in the pathway rules of "
                    "this plan's procedures (e.g. 80% for Medicare, 50% otherwise)."),
    )
    priority = models.CharField(_("priority"), max_length=20, choices=Priority.choices, default=Priority.ROUTINE)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        errors = {}
        if self.kind in BOOKED_HERE and not self.procedure_type_id:
            errors["procedure_type"] = _("Choose the procedure type this step books.")
        if self.kind not in BOOKED_HERE and self.procedure_type_id:
            errors["procedure_type"] = _("Steps done elsewhere have no procedure type here.")
        if self.max_days_after is not None and self.max_days_after < self.min_days_after:
            errors["max_days_after"] = _("The longest wait cannot be shorter than the shortest.")
        if self.gate != Gate.RELIEF and self.gate_relief_percent is not None:
            errors["gate_relief_percent"] = _("A relief threshold belongs to a relief gate.")
        if errors:
            raise ValidationError(errors)

    @property
    def booked_here(self) -> bool:
        return self.kind in BOOKED_HERE


def relief_gate_error(steps) -> str | None:
    """The one rule on a sequence of steps (a template's or a plan's, in order): a relief gate judges
    the relief from an earlier step booked here, so one needs such a step before it; otherwise the
    plan would wait forever. `steps`: mappings or objects with `kind` and `gate` (and `position`;
    else counted from 1). None when the sequence is fine, else the words for the first step wrong."""
    booked_before = False
    for number, item in enumerate(steps, start=1):
        value = item.get if isinstance(item, dict) else lambda name, default=None: getattr(item, name, default)
        if value("gate") == Gate.RELIEF and not booked_before:
            position = value("position") or number
            return (f"Step {position} goes ahead on the relief from an earlier step booked here, but no step "
                    "before it is booked here: choose another gate, or put a step booked here before it.")
        booked_before = booked_before or value("kind", StepKind.PROCEDURE) in BOOKED_HERE
    return None


# What a step is, copied from a template's step into a plan's (its position aside).
STEP_FIELDS = ("kind", "procedure_type", "region", "laterality", "min_days_after", "max_days_after", "gate",
               "gate_relief_percent", "priority", "note")


class CarePlanTemplate(models.Model):
    """A pathway the clinic follows, copied into a plan for each patient."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("care-plan template")
        verbose_name_plural = _("care-plan templates")

    def __str__(self) -> str:
        return self.name


class CarePlanTemplateStep(StepFields):
    template = models.ForeignKey(CarePlanTemplate, on_delete=models.CASCADE, related_name="steps",
                                 verbose_name=_("template"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["template", "position"]
        verbose_name = _("template step")
        verbose_name_plural = _("template steps")
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="template_step_position")]

    def __str__(self) -> str:
        return f"{self.position}. {self.procedure_type.name if self.procedure_type_id else self.get_kind_display()}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_DECISION = "needs_decision", _("Stopped: needs the physician's decision")
    COMPLETED = "completed", _("Completed")
    ENDED = "ended", _("Ended")


class StepStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")  # later: waits for earlier steps (tentative when a gate is ahead)
    READY = "ready", _("Ready to book")  # its turn: the order is open and may be booked
    BOOKED = "booked", _("Booked")
    DONE = "done", _("Done")
    STOPPED = "stopped", _("Stopped at its gate")  # the gate failed; the physician decides
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STEP_STATUSES = (StepStatus.PLANNED, StepStatus.READY, StepStatus.BOOKED, StepStatus.STOPPED)


class CarePlan(models.Model):
    """One patient's plan, owned by a physician."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_plans",
                                verbose_name=_("patient"))
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="care_plans",
                                  verbose_name=_("physician"))
    template = models.ForeignKey(CarePlanTemplate, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="plans", verbose_name=_("from template"))
    name = models.CharField(_("name"), max_length=120)
    status = models.CharField(_("status"), max_length=20, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    status_note = models.TextField(_("why"), blank=True,
                                   help_text=_("Why the plan stopped or ended, in the physician's words."))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("care plan")
        verbose_name_plural = _("care plans")
        indexes = [models.Index(fields=["patient", "status"], name="careplan_patient_status"),
                   models.Index(fields=["status"], name="careplan_status")]

    def __str__(self) -> str:
        return f"{self.name} for {self.patient.full_name} ({self.get_status_display()})"


class CarePlanStep(StepFields):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="steps", verbose_name=_("plan"))
    status = models.CharField(_("status"), max_length=20, choices=StepStatus.choices, default=StepStatus.PLANNED)
    proposed_date = models.DateField(_("proposed for"), null=True, blank=True,
                                     help_text=_("The earliest day the step could happen, as last planned."))
    window_start = models.DateField(_("book from"), null=True, blank=True,
                                    help_text=_("The first day the plan's waits allow, as last planned."))
    window_end = models.DateField(_("book by"), null=True, blank=True,
                                  help_text=_("The last day the plan's waits allow (empty: no limit)."))
    tentative = models.BooleanField(_("tentative"), default=False,
                                    help_text=_("Planned on the assumption that a gate ahead of it passes."))
    order = models.ForeignKey(ProcedureOrder, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="care_plan_steps", verbose_name=_("order"))
    done_on = models.DateField(_("done on"), null=True, blank=True,
                               help_text=_("For steps done elsewhere: the day it happened."))
    status_note = models.TextField(_("why"), blank=True)
    planning_note = models.TextField(
        _("planning note"), blank=True,
        help_text=_("What the last planning found in the way: no free day in the window, what the order still "
                    "needs before it can be booked."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("care-plan step")
        verbose_name_plural = _("care-plan steps")
        constraints = [models.UniqueConstraint(fields=["plan", "position"], name="care_plan_step_position")]

    def __str__(self) -> str:
        what = self.procedure_type.name if self.procedure_type_id else self.get_kind_display()
        side = f" ({self.get_laterality_display().lower()})" if self.laterality else ""
        return f"{self.position}. {what}{side}"

    @property
    def status_words(self) -> str:
        """The status as staff read it: a step done elsewhere is not booked here, it is due."""
        if self.status == StepStatus.READY and not self.booked_here:
            return str(_("Due (done elsewhere; mark it done)"))
        return self.get_status_display()
