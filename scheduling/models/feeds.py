"""Calendar subscription feeds: one secret address per physician, room or location."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from clinic.models import Location, Physician, Room

# The first characters of a token find its row; the whole token is then compared in constant
# time (scheduling/feeds/tokens.py), so an answer's timing tells a guesser nothing.
LOOKUP_LENGTH = 12
TOKEN_LENGTH = 48


class CalendarFeed(models.Model):
    """The secret address (`/feeds/<token>.ics`) of one physician's, room's or location's visits.

    The token is kept as it is, not hashed: staff are shown the address again on its page.
    Rotating gives a new token, and the old address answers 404 from then on; deleting the feed
    stops it altogether.
    """

    physician = models.OneToOneField(Physician, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="calendar_feed", verbose_name=_("physician"))
    room = models.OneToOneField(Room, on_delete=models.CASCADE, null=True, blank=True,
                                related_name="calendar_feed", verbose_name=_("room"))
    location = models.OneToOneField(Location, on_delete=models.CASCADE, null=True, blank=True,
                                    related_name="calendar_feed", verbose_name=_("location"))
    lookup = models.CharField(_("lookup"), max_length=LOOKUP_LENGTH, unique=True, editable=False)
    token = models.CharField(_("token"), max_length=TOKEN_LENGTH, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    rotated_at = models.DateTimeField(_("address changed"), null=True, blank=True, editable=False)
    rotated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   editable=False, related_name="+", verbose_name=_("address changed by"))

    class Meta:
        ordering = ["location__name", "room__name", "physician__user__last_name"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        permissions = [
            ("view_every_calendarfeed", _("Can see and change the address of every calendar feed")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(physician__isnull=False, room__isnull=True, location__isnull=True)
                | Q(physician__isnull=True, room__isnull=False, location__isnull=True)
                | Q(physician__isnull=True, room__isnull=True, location__isnull=False),
                name="calendar_feed_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return str(self.owner)

    @property
    def owner(self) -> Physician | Room | Location:
        return self.physician or self.room or self.location

    @property
    def kind(self) -> str:
        return "physician" if self.physician_id else "room" if self.room_id else "location"

    @property
    def kind_label(self) -> str:
        return str(_KIND_LABELS[self.kind])


_KIND_LABELS = {"physician": _("Physician"), "room": _("Room"), "location": _("Location")}
