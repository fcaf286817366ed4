"""Care-pathway rules as data, procedure outcomes, and recorded overrides (DESIGN.md section 4)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import Patient, Payer, ProcedureFamily, ProcedureType
from clinic.models.bulk_changes import AnnouncedQuerySet
from scheduling.models.appointments import Appointment
from scheduling.models.orders import Laterality, Region


class RuleKind(models.TextChoices):
    PREREQUISITE = "prerequisite", _("Needs prior procedures")
    MIN_INTERVAL = "min_interval", _("Minimum time since the last one")
    MAX_PER_YEAR = "max_per_year", _("At most N in 365 days")
    REPEAT_RELIEF = "repeat_relief", _("A repeat needs relief from the last one")


class PathwayRule(models.Model):
    """One rule for booking a procedure type, for every payer or overriding it for one payer.

    A payer's rule of a kind replaces the all-payer rule of the same kind for that procedure
    type. "Family" means the procedure type's family (all epidurals count together); "region"
    is the order's (lumbar, cervical, ...): rules count procedures in the same region.
    """

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="pathway_rules",
                                       verbose_name=_("when booking"))
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="pathway_rules", null=True, blank=True,
                              verbose_name=_("payer"), help_text=_("Empty: every payer without a rule of its own."))
    kind = models.CharField(_("rule"), max_length=20, choices=RuleKind.choices)
    prerequisite_types = models.ManyToManyField(
        ProcedureType, related_name="prerequisite_of", blank=True, verbose_name=_("prior procedures"),
        help_text=_("For 'needs prior procedures': which procedure types count."),
    )
    count = models.PositiveSmallIntegerField(
        _("how many"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text=_("Prior procedures needed, or the most allowed in 365 days."),
    )
    min_relief_percent = models.PositiveSmallIntegerField(
        _("minimum relief (%)"), null=True, blank=True, validators=[MaxValueValidator(100)],
    )
    within_days = models.PositiveSmallIntegerField(
        _("within (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Prior procedures count only this many days back."),
    )
    min_interval_days = models.PositiveSmallIntegerField(
        _("minimum interval (days)"), null=True, blank=True, validators=[MaxValueValidator(3650)])
    min_interval_months = models.PositiveSmallIntegerField(
        _("minimum interval (months)"), null=True, blank=True, validators=[MaxValueValidator(120)],
        help_text=_("Calendar months: six months after 2026-05-31 is 2026-11-30."),
    )
    same_region = models.BooleanField(_("same region only"), default=True)
    same_side = models.BooleanField(
        _("same side only"), default=False,
        help_text=_("Count only procedures that can be at the same site: a left-side procedure does not count "
                    "against a right-side one (bilateral, midline or an unrecorded side counts as either). For "
                    "minimum intervals, yearly limits and repeats, e.g. 'repeat RFA of the same site after 6 "
                    "months'."),
    )
    accepts_outside_procedures = models.BooleanField(
        _("accepts procedures done elsewhere"), default=False,
        help_text=_("For 'needs prior procedures': whether a documented procedure done at another clinic (with a "
                    "document reference and its recorded relief) counts, as this payer's policy allows. Yearly "
                    "limits and minimum intervals always count procedures done elsewhere."),
    )
    source = models.CharField(_("source"), max_length=200, blank=True,
                              help_text=_("The policy the rule comes from, e.g. Medicare LCD L33930."))
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(m2m_fields=[prerequisite_types])

    class Meta:
        ordering = ["procedure_type__name", "kind", "payer__name"]
        verbose_name = _("pathway rule")
        verbose_name_plural = _("pathway rules")
        constraints = [
            models.UniqueConstraint(fields=["procedure_type", "kind", "payer"], name="pathway_rule_unique_per_payer",
                                    violation_error_message=_("This procedure already has a rule of that kind for "
                                                              "that payer.")),
            models.UniqueConstraint(fields=["procedure_type", "kind"], condition=models.Q(payer__isnull=True),
                                    name="pathway_rule_unique_for_all_payers",
                                    violation_error_message=_("This procedure already has an all-payer rule of "
                                                              "that kind.")),
        ]

    def __str__(self) -> str:
        who = self.payer.name if self.payer_id else _("all payers")
        return f"{self.procedure_type.code}: {self.get_kind_display()} ({who})"

    def clean(self) -> None:
        errors = {}
        if self.kind == RuleKind.MIN_INTERVAL and not (self.min_interval_days or self.min_interval_months):
            errors["min_interval_days"] = _("Give the minimum interval in days or in months.")
        if self.kind == RuleKind.REPEAT_RELIEF and self.min_relief_percent is None:
            errors["min_relief_percent"] = _("Give the relief the last procedure must have given.")
        if self.accepts_outside_procedures and self.kind != RuleKind.PREREQUISITE:
            errors["accepts_outside_procedures"] = _("Only a 'needs prior procedures' rule chooses; the other rules "
                                                     "always count procedures done elsewhere.")
        if self.same_side and self.kind == RuleKind.PREREQUISITE:
            errors["same_side"] = _("'Needs prior procedures' counts blocks of the region, whatever their side; "
                                    "'same side only' is for intervals, yearly limits and repeats.")
        if errors:
            raise ValidationError(errors)


class OutcomeSource(models.TextChoices):
    STAFF = "staff", _("entered by staff")
    PATIENT_DIARY = "patient_diary", _("patient-reported (pain diary)")


class Outcome(models.Model):
    """What a completed procedure did for the patient's pain."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="outcome",
                                       verbose_name=_("appointment"))
    pain_before = models.PositiveSmallIntegerField(_("pain before (0-10)"), validators=[MaxValueValidator(10)])
    pain_after = models.PositiveSmallIntegerField(_("pain after (0-10)"), validators=[MaxValueValidator(10)])
    relief_percent = models.PositiveSmallIntegerField(_("relief (%)"), validators=[MaxValueValidator(100)])
    relief_duration_hours = models.PositiveIntegerField(
        _("relief lasted (hours)"), null=True, blank=True, validators=[MaxValueValidator(24 * 365)],
        help_text=_("For diagnostic blocks: how long the relief lasted (pain diary)."),
    )
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=OutcomeSource.choices, default=OutcomeSource.STAFF,
                              help_text=_("Patient-reported: confirmed by a nurse or physician from the patient's "
                                          "pain diary."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        constraints = [
            models.CheckConstraint(condition=models.Q(pain_before__lte=10, pain_after__lte=10, relief_percent__lte=100),
                                   name="outcome_scores_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.relief_percent}% relief ({self.pain_before} → {self.pain_after})"


class EligibilityOverride(models.Model):
    """A physician's decision to book despite one unmet rule, with the reason, kept on the visit."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="overrides",
                                    verbose_name=_("appointment"))
    rule = models.ForeignKey(PathwayRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                             verbose_name=_("rule"))
    unmet = models.TextField(_("rule not met"))
    reason = models.TextField(_("reason"))
    overridden_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("overridden by"))
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("eligibility override")
        verbose_name_plural = _("eligibility overrides")

    def __str__(self) -> str:
        return f"Override by {self.overridden_by}: {self.unmet}"


class ProcedureElsewhere(models.Model):
    """A procedure the patient had at another clinic, recorded by staff from the patient's word or
    the other clinic's report. The pathway rules count it like one done here: always for yearly
    limits, minimum intervals and repeats; for 'needs prior procedures' only where the rule accepts
    procedures done elsewhere, and then only a documented one (`is_documented`)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="procedures_elsewhere",
                                verbose_name=_("patient"))
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.PROTECT, related_name="+", verbose_name=_("procedure"),
        limit_choices_to=~models.Q(family=ProcedureFamily.OFFICE_VISIT),
    )
    day = models.DateField(_("date"))
    region = models.CharField(_("region"), max_length=20, choices=Region.choices,
                              help_text=_("The rules count procedures per region."))
    laterality = models.CharField(_("laterality"), max_length=20, choices=Laterality.choices, blank=True)
    relief_percent = models.PositiveSmallIntegerField(
        _("relief (%)"), null=True, blank=True, validators=[MaxValueValidator(100)],
        help_text=_("As the other clinic's report or the patient's diary gives it; empty if not known."),
    )
    facility = models.CharField(_("where"), max_length=200, help_text=_("The other clinic or hospital."))
    note = models.TextField(_("note"), blank=True)
    document_reference = models.CharField(
        _("document reference"), max_length=500, blank=True,
        help_text=_("The other clinic's report on file: the scanned document's id or address."),
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("recorded by"), editable=False)
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-day", "-pk"]
        verbose_name = _("procedure done elsewhere")
        verbose_name_plural = _("procedures done elsewhere")
        indexes = [models.Index(fields=["patient", "day"], name="elsewhere_patient_day")]
        constraints = [
            models.CheckConstraint(condition=models.Q(relief_percent__lte=100), name="elsewhere_relief_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_type.name} at {self.facility} on {self.day.isoformat()}"

    @property
    def is_documented(self) -> bool:
        """A report on file and the relief it gives: what a rule that accepts it asks for."""
        return bool(self.document_reference.strip()) and self.relief_percent is not None

    def clean(self) -> None:
        # The clinic's own calendar day: a procedure recorded as done cannot be later than today.
        if self.day and self.day > timezone.localdate():
            raise ValidationError({"day": _("A procedure done elsewhere cannot be in the future.")})
