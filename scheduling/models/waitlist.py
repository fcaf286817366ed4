"""Patients who would take an earlier time, and the freed times offered to them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from scheduling.models.appointments import Appointment


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting")
    MOVED = "moved", _("Moved to an earlier time")
    ENDED = "ended", _("Ended")


class WaitlistEntry(models.Model):
    """A booked visit whose patient asked to be moved earlier if a time frees up."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="waitlist_entry",
                                       verbose_name=_("appointment"))
    status = models.CharField(_("status"), max_length=20, choices=WaitlistStatus.choices,
                              default=WaitlistStatus.WAITING)
    any_physician = models.BooleanField(
        _("any physician"), default=False,
        help_text=_("Offer times with any physician who performs the visit, not only the booked one."))
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist")

    def __str__(self) -> str:
        return f"{self.appointment} ({self.get_status_display()})"


class OfferStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    TAKEN = "taken", _("Taken by someone else")
    EXPIRED = "expired", _("Expired")


class WaitlistOffer(models.Model):
    """A freed time offered to one waitlist entry. Several entries get offers for the same
    time; the first to accept is moved into it, the others find it taken."""

    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers",
                              verbose_name=_("waitlist entry"))
    physician = models.ForeignKey("clinic.Physician", on_delete=models.CASCADE, related_name="+",
                                  verbose_name=_("physician"))
    procedure_start = models.DateTimeField(_("offered time"))
    status = models.CharField(_("status"), max_length=20, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    expires_at = models.DateTimeField(_("expires"))
    created_at = models.DateTimeField(_("offered"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("waitlist offer")
        verbose_name_plural = _("waitlist offers")

    def __str__(self) -> str:
        return f"{self.procedure_start:%Y-%m-%d %H:%M} for {self.entry.appointment_id} ({self.get_status_display()})"
