"""Pre-procedure checks: what a visit needed at check-in, and who confirmed each, when.

Which checks a visit needs is decided in one place, `scheduling.pathways.checks`; these rows
keep what was needed and confirmed at the time, so the record stands if the catalog changes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from scheduling.models.appointments import Appointment


class CheckKind(models.TextChoices):
    FASTING = "fasting", _("Fasting confirmed")
    DRIVER = "driver", _("Driver present")
    BLOOD_THINNER = "blood_thinner", _("Blood thinner stopped")
    CONSENT = "consent", _("Consent form signed")


class PreProcedureCheck(models.Model):
    """One check a visit needed: confirmed by someone at some time, or not (then the reason the
    procedure started without it, when it did)."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="checks",
                                    verbose_name=_("appointment"))
    kind = models.CharField(_("check"), max_length=20, choices=CheckKind.choices)
    detail = models.CharField(_("what was needed"), max_length=300, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    missing_reason = models.CharField(
        _("started without it because"), max_length=300, blank=True,
        help_text=_("Why the procedure started although this check was not confirmed."))
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        ordering = ["appointment", "pk"]
        verbose_name = _("pre-procedure check")
        verbose_name_plural = _("pre-procedure checks")
        constraints = [
            models.UniqueConstraint(fields=["appointment", "kind"], name="one_check_of_a_kind_per_visit"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.appointment_id}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
