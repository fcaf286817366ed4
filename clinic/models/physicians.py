"""Physicians, their credentials, weekly schedules and time off."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models.bulk_changes import AnnouncedQuerySet
from clinic.models.catalog import ProcedureType, ScheduleKind
from clinic.models.locations import Location
from clinic.models.validators import validate_npi


def default_zone() -> zoneinfo.ZoneInfo:
    """The clinic's default zone (TIME_ZONE), for times that belong to no location."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Physician(models.Model):
    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="physician",
        verbose_name=_("staff user"),
    )
    credentials = models.CharField(_("credentials"), max_length=40, default="MD", help_text=_("E.g. MD, DO."))
    npi = models.CharField(
        _("NPI"),
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text=_("National Provider Identifier, 10 digits."),
    )
    procedure_types = models.ManyToManyField(
        ProcedureType,
        related_name="physicians",
        blank=True,
        verbose_name=_("credentialed for"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(m2m_fields=[procedure_types])

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("physician")
        verbose_name_plural = _("physicians")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The zone of the physician's own times (time off may span locations): that of the
        first location they have blocks at, else the clinic's default."""
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("schedule_blocks")
        if prefetched is not None:  # a list of time off prefetches the blocks and their locations
            locations = sorted((block.location.name, block.location.time_zone) for block in prefetched)
            time_zone = locations[0][1] if locations else None
        else:
            time_zone = self.schedule_blocks.order_by("location__name").values_list(
                "location__time_zone", flat=True).first()
        return zoneinfo.ZoneInfo(time_zone) if time_zone else default_zone()

    @property
    def name(self) -> str:
        full_name = self.user.get_full_name() if self.user_id else ""
        return f"Dr. {full_name}" if full_name else (self.user.get_username() if self.user_id else "")

    def clean(self) -> None:
        if self.user_id and not self.user.is_staff:
            raise ValidationError({"user": _("A physician's user must be a staff user (tick 'staff status').")})


class ScheduleBlock(models.Model):
    """A weekly recurring block of a physician's time at one location, in its local time.

    A block lies within one day: it starts and ends on the same local date, so a block
    cannot run past midnight. It applies from `valid_from` to `valid_until` (inclusive).
    """

    physician = models.ForeignKey(
        Physician, on_delete=models.CASCADE, related_name="schedule_blocks", verbose_name=_("physician")
    )
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="schedule_blocks", verbose_name=_("location")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ScheduleKind.choices)
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("starts"))
    end_time = models.TimeField(_("ends"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True, help_text=_("Empty: until further notice."))
    history = HistoricalRecords()

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    class Meta:
        ordering = ["physician", "weekday", "start_time"]
        verbose_name = _("schedule block")
        verbose_name_plural = _("schedule blocks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="schedule_block_ends_after_start",
                violation_error_message=_("A schedule block must end after it starts, on the same day."),
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=models.F("valid_from")),
                name="schedule_block_valid_until_not_before_valid_from",
                violation_error_message=_("'Valid until' cannot be before 'valid from'."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M} "
            f"{self.get_kind_display()} at {self.location}"
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.start_time and self.end_time and self.end_time <= self.start_time:
            errors["end_time"] = _(
                "A schedule block must end after it starts, on the same day (blocks cannot run past midnight)."
            )
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("'Valid until' cannot be before 'valid from'.")
        if errors:
            raise ValidationError(errors)
        if self.physician_id and self.start_time and self.end_time and self.valid_from and self.weekday is not None:
            clash = self.overlapping_blocks().first()
            if clash is not None:
                raise ValidationError(
                    _("This overlaps the physician's block %(block)s: a physician cannot be in two blocks at once."),
                    params={"block": clash},
                    code="overlapping_block",
                )

    def overlapping_blocks(self) -> models.QuerySet[ScheduleBlock]:
        """The physician's other blocks on the same weekday whose times and validity overlap this one."""
        blocks = (
            ScheduleBlock.objects.filter(
                physician_id=self.physician_id,
                weekday=self.weekday,
                start_time__lt=self.end_time,
                end_time__gt=self.start_time,
            )
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=self.valid_from))
            .exclude(pk=self.pk)
            .select_related("location")
        )
        if self.valid_until:
            blocks = blocks.filter(valid_from__lte=self.valid_until)
        return blocks


class TimeOff(models.Model):
    physician = models.ForeignKey(Physician, on_delete=models.CASCADE, related_name="time_off", verbose_name=_("physician"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("time off")
        verbose_name_plural = _("time off")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="time_off_ends_after_start",
                violation_error_message=_("Time off must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        zone = self.zone
        starts, ends = self.starts_at.astimezone(zone), self.ends_at.astimezone(zone)
        return f"{self.physician} off {starts:%Y-%m-%d %H:%M} to {ends:%Y-%m-%d %H:%M %Z}"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """Staff read and type time off in the physician's zone."""
        return self.physician.zone if self.physician_id else default_zone()

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("Time off must end after it starts.")})
