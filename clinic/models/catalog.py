"""The procedure catalog and the blood-thinner hold table."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models.bulk_changes import AnnouncedQuerySet
from clinic.models.languages import in_each_language
from clinic.models.locations import Capability
from clinic.models.validators import code_validator


class ScheduleKind(models.TextChoices):
    """The kind of a physician's schedule block, and the kind a procedure type is booked into."""

    CLINIC = "clinic", _("Clinic (consults, follow-ups)")
    PROCEDURES = "procedures", _("Procedures")


class Sedation(models.TextChoices):
    NONE = "none", _("None")
    MINIMAL = "minimal", _("Minimal (oral anxiolytic)")
    MODERATE = "moderate", _("Moderate (IV conscious sedation)")
    GENERAL = "general", _("General anesthesia / MAC")


class BleedingRisk(models.TextChoices):
    """ASRA Pain Medicine (2018) procedure bleeding-risk categories; `none` for office visits."""

    NONE = "none", _("None")
    LOW = "low", _("Low")
    INTERMEDIATE = "intermediate", _("Intermediate")
    HIGH = "high", _("High")


class ProcedureFamily(models.TextChoices):
    """Groups procedure types that pathway rules count together (e.g. all epidurals)."""

    OFFICE_VISIT = "office_visit", _("Office visit")
    EPIDURAL = "epidural", _("Epidural steroid injection")
    DIAGNOSTIC_BLOCK = "diagnostic_block", _("Diagnostic block")
    SYMPATHETIC_BLOCK = "sympathetic_block", _("Sympathetic block")
    RADIOFREQUENCY_ABLATION = "rfa", _("Radiofrequency ablation")
    SCS = "scs", _("Spinal cord stimulation")
    VERTEBRAL_AUGMENTATION = "vertebral_augmentation", _("Vertebral augmentation")


def _minutes(verbose: str, *, default: int = 0, minimum: int = 0, help_text: str = "") -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        verbose,
        default=default,
        validators=[MinValueValidator(minimum), MaxValueValidator(12 * 60)],
        help_text=help_text,
    )


class ProcedureType(models.Model):
    """One entry of the catalog. `code` is the stable identifier the API and integrations use.

    A visit is split into segments (DESIGN.md section 2): the patient arrives `prep_minutes`
    before the procedure starts and is discharged `recovery_minutes` after it ends; the room is
    held `setup_minutes` before the start and `turnover_minutes` after the end.
    """

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(_("name"), max_length=120, unique=True)
    family = models.CharField(_("family"), max_length=30, choices=ProcedureFamily.choices)
    schedule_kind = models.CharField(
        _("booked into"),
        max_length=20,
        choices=ScheduleKind.choices,
        default=ScheduleKind.PROCEDURES,
        help_text=_("Which kind of physician schedule block this visit is booked into."),
    )
    prep_minutes = _minutes(_("prep (minutes)"), help_text=_("From arrival to the procedure's start."))
    procedure_minutes = _minutes(_("procedure (minutes)"), default=20, minimum=5)
    recovery_minutes = _minutes(_("recovery (minutes)"), help_text=_("In a recovery bay, from the end to discharge."))
    setup_minutes = _minutes(_("room setup (minutes)"))
    turnover_minutes = _minutes(_("room turnover (minutes)"))
    required_capabilities = models.ManyToManyField(
        Capability,
        related_name="required_by",
        blank=True,
        verbose_name=_("room must have all of"),
    )
    alternative_capabilities = models.ManyToManyField(
        Capability,
        related_name="accepted_by",
        blank=True,
        verbose_name=_("room must have at least one of"),
        help_text=_("E.g. fluoroscopy or ultrasound for a sympathetic block. Leave empty when not needed."),
    )
    sedation = models.CharField(_("sedation"), max_length=20, choices=Sedation.choices, default=Sedation.NONE)
    fasting_hours = models.PositiveSmallIntegerField(
        _("fasting (hours, solids)"), default=0, validators=[MaxValueValidator(24)]
    )
    driver_required = models.BooleanField(_("driver required"), default=False)
    bleeding_risk = models.CharField(
        _("bleeding risk"), max_length=20, choices=BleedingRisk.choices, default=BleedingRisk.NONE
    )
    self_bookable = models.BooleanField(_("patients may self-book"), default=False)
    requires_order = models.BooleanField(_("requires a physician's order"), default=True)
    prior_authorization_required = models.BooleanField(_("prior authorization required"), default=False)
    requires_psych_evaluation = models.BooleanField(
        _("needs a psychological evaluation on file"), default=False,
        help_text=_("CMS: a spinal cord stimulator trial needs one."),
    )
    requires_fracture_imaging = models.BooleanField(
        _("needs imaging confirming an acute fracture"), default=False,
        help_text=_("Vertebroplasty and kyphoplasty (LCDs L33569, L34976, L38201, L38737)."),
    )
    follow_up_type = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("books a follow-up of type"),
        help_text=_("Booked in the same transaction with the same physician, e.g. the SCS trial's lead removal."),
    )
    follow_up_days = models.PositiveSmallIntegerField(
        _("follow-up after (days)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(90)],
    )
    patient_preparation = models.TextField(
        _("patient preparation"),
        blank=True,
        help_text=_("Shown to the patient and sent in the preparation reminder: what to wear and bring, etc."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(excluded_fields=in_each_language("name", "patient_preparation"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("procedure type")
        verbose_name_plural = _("procedure types")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(self_bookable=True, requires_order=True),
                name="procedure_type_self_bookable_needs_no_order",
                violation_error_message=_("A visit patients book themselves cannot also require an order."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def total_minutes(self) -> int:
        """Arrival to discharge."""
        return self.prep_minutes + self.procedure_minutes + self.recovery_minutes

    @property
    def is_sedated(self) -> bool:
        return self.sedation not in (Sedation.NONE, "")

    @property
    def needs_fasting(self) -> bool:
        """Moderate sedation and anesthesia need an empty stomach; an oral anxiolytic does not."""
        return self.sedation in (Sedation.MODERATE, Sedation.GENERAL)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.self_bookable and self.requires_order:
            errors["requires_order"] = _("A visit patients book themselves cannot also require an order.")
        # Sedation implies fasting and a ride home (ASA fasting guidance; clinic instructions).
        if self.needs_fasting and not self.fasting_hours:
            errors["fasting_hours"] = _("Moderate sedation or anesthesia needs fasting hours (6 for solids is usual).")
        if self.is_sedated and not self.driver_required:
            errors["driver_required"] = _("A sedated patient cannot drive home: tick 'driver required'.")
        if bool(self.follow_up_type_id) != bool(self.follow_up_days):
            errors["follow_up_days"] = _("Give both the follow-up's type and how many days later it is.")
        if errors:
            raise ValidationError(errors)


class BloodThinner(models.Model):
    """A row of the hold table: days without a dose before a procedure, by bleeding risk.

    Figures from the ASRA Pain Medicine guideline (2018); the clinic manager edits them.
    "N days" means no dose on the N days before the procedure day, nor on that day.
    """

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    name = models.CharField(_("name"), max_length=80, unique=True)
    hold_days_high = models.PositiveSmallIntegerField(
        _("hold days, high risk"), default=0, validators=[MaxValueValidator(30)]
    )
    hold_days_intermediate = models.PositiveSmallIntegerField(
        _("hold days, intermediate risk"), default=0, validators=[MaxValueValidator(30)]
    )
    hold_days_low = models.PositiveSmallIntegerField(_("hold days, low risk"), default=0, validators=[MaxValueValidator(30)])
    restart_guidance = models.CharField(
        _("restart guidance"),
        max_length=300,
        blank=True,
        help_text=_("E.g. 'Restart 24 hours after the procedure unless your physician says otherwise.'"),
    )
    history = HistoricalRecords(excluded_fields=in_each_language("restart_guidance"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("blood thinner")
        verbose_name_plural = _("blood thinners")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A riskier procedure never needs a shorter hold (ASRA 2018 table is monotonic).
        if self.hold_days_high < self.hold_days_intermediate:
            raise ValidationError({"hold_days_high": _("High-risk hold days cannot be fewer than intermediate-risk ones.")})
        if self.hold_days_intermediate < self.hold_days_low:
            raise ValidationError(
                {"hold_days_intermediate": _("Intermediate-risk hold days cannot be fewer than low-risk ones.")}
            )

    def hold_days(self, bleeding_risk: str) -> int:
        return {
            BleedingRisk.HIGH: self.hold_days_high,
            BleedingRisk.INTERMEDIATE: self.hold_days_intermediate,
            BleedingRisk.LOW: self.hold_days_low,
        }.get(bleeding_risk, 0)

    def last_dose_date(self, bleeding_risk: str, procedure_day: datetime.date) -> datetime.date | None:
        """The last day a dose may be taken, or None when no hold is needed.

        With a hold of N days, no dose is taken on the N days before the procedure day nor on
        the day itself, so the last dose falls N + 1 days before it.
        """
        days = self.hold_days(bleeding_risk)
        if not days:
            return None
        return procedure_day - datetime.timedelta(days=days + 1)
