"""A time a patient has picked on the booking pages and is holding while they fill in the form."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from clinic.models import Location, Physician, ProcedureType, Room


class SlotHold(models.Model):
    """Keeps a picked time from being offered to anyone else until it expires (10 minutes).

    The availability selector counts unexpired holds as busy; the booking made with the hold's
    key ignores its own hold and deletes it. Expired rows are harmless and swept now and then.
    """

    key = models.CharField(_("key"), max_length=64, unique=True)
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+", verbose_name=_("location"))
    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="+", verbose_name=_("physician"))
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+", verbose_name=_("room"))
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="+",
                                       verbose_name=_("procedure type"))
    procedure_start = models.DateTimeField(_("procedure start"))
    procedure_end = models.DateTimeField(_("procedure end"))
    discharge = models.DateTimeField(_("discharge"))
    room_start = models.DateTimeField(_("room from"))
    room_end = models.DateTimeField(_("room until"))
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("slot hold")
        verbose_name_plural = _("slot holds")

    def __str__(self) -> str:
        return f"{self.procedure_type} at {self.procedure_start:%Y-%m-%d %H:%M} until {self.expires_at:%H:%M}"
