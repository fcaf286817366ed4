"""Procedure orders: a physician's order that a procedure is booked against."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import Patient, Physician, ProcedureType


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Region(models.TextChoices):
    CERVICAL = "cervical", _("Cervical")
    THORACIC = "thoracic", _("Thoracic")
    LUMBAR = "lumbar", _("Lumbar")
    SACRAL = "sacral", _("Sacral")


class Laterality(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BILATERAL = "bilateral", _("Bilateral")
    MIDLINE = "midline", _("Midline")


class Priority(models.TextChoices):
    ROUTINE = "routine", _("Routine")
    URGENT = "urgent", _("Urgent (e.g. an acute compression fracture)")


class AuthorizationStatus(models.TextChoices):
    NOT_REQUESTED = "not_requested", _("Not requested")
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")


class ProcedureOrder(models.Model):
    """A physician's order for a procedure; procedures whose type requires one are booked against it.

    The order carries what the payer and the pathway rules ask about: the region (rules count
    procedures per region), prior authorization, imaging for vertebral augmentation, and the
    psychological evaluation an SCS trial needs.
    """

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="orders", verbose_name=_("patient"))
    procedure_type = models.ForeignKey(
        ProcedureType, on_delete=models.PROTECT, related_name="orders", verbose_name=_("procedure type")
    )
    ordering_physician = models.ForeignKey(
        Physician, on_delete=models.PROTECT, related_name="orders", verbose_name=_("ordering physician")
    )
    status = models.CharField(_("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    region = models.CharField(_("region"), max_length=20, choices=Region.choices, blank=True)
    laterality = models.CharField(_("laterality"), max_length=20, choices=Laterality.choices, blank=True)
    levels = models.CharField(_("levels"), max_length=60, blank=True, help_text=_("E.g. L4-L5, L5-S1."))
    priority = models.CharField(_("priority"), max_length=20, choices=Priority.choices, default=Priority.ROUTINE)
    authorization_status = models.CharField(
        _("prior authorization"), max_length=20, choices=AuthorizationStatus.choices,
        default=AuthorizationStatus.NOT_REQUESTED,
    )
    authorization_number = models.CharField(_("authorization number"), max_length=60, blank=True)
    authorization_valid_from = models.DateField(_("authorization valid from"), null=True, blank=True)
    authorization_valid_until = models.DateField(_("authorization valid until"), null=True, blank=True)
    imaging_confirms_acute_fracture = models.BooleanField(
        _("imaging confirms an acute fracture"), default=False,
        help_text=_("MRI (edema on STIR) or bone scan; needed for vertebroplasty and kyphoplasty."),
    )
    imaging_date = models.DateField(_("imaging date"), null=True, blank=True)
    psych_evaluation_date = models.DateField(
        _("psychological evaluation on"), null=True, blank=True,
        help_text=_("Needed on file before a spinal cord stimulator trial."),
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("procedure order")
        verbose_name_plural = _("procedure orders")
        indexes = [models.Index(fields=["patient", "procedure_type", "status"], name="order_patient_type_status")]

    def __str__(self) -> str:
        region = f", {self.get_region_display().lower()}" if self.region else ""
        return f"{self.procedure_type.name}{region} for {self.patient.full_name} ({self.get_status_display()})"

    def clean(self) -> None:
        errors = {}
        if (self.authorization_valid_from and self.authorization_valid_until
                and self.authorization_valid_until < self.authorization_valid_from):
            errors["authorization_valid_until"] = _("The authorization cannot end before it starts.")
        if self.authorization_status == AuthorizationStatus.APPROVED and not self.authorization_number:
            errors["authorization_number"] = _("An approved authorization has a number from the payer.")
        if self.imaging_confirms_acute_fracture and not self.imaging_date:
            errors["imaging_date"] = _("Give the date of the imaging that confirms the fracture.")
        if errors:
            raise ValidationError(errors)
