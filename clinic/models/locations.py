"""Clinic sites, their rooms and what the rooms can do."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from clinic.models.bulk_changes import AnnouncedQuerySet
from clinic.models.languages import in_each_language
from clinic.models.validators import validate_time_zone


class Location(models.Model):
    """A clinic site. Its time zone is the one every time at this site is shown and planned in."""

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    name = models.CharField(_("name"), max_length=120, unique=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Chicago",
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. America/Chicago. Schedules and slots follow its daylight-saving changes."),
    )
    address_line = models.CharField(_("street address"), max_length=200)
    city = models.CharField(_("city"), max_length=100)
    state = models.CharField(_("state"), max_length=50)
    postal_code = models.CharField(_("postal code"), max_length=20)
    # E.164 ("+19185550140"), shown nationally; see clinic/phone_numbers.py.
    phone = PhoneNumberField(_("phone"), max_length=32)
    recovery_bays = models.PositiveSmallIntegerField(
        _("recovery bays"),
        default=4,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Patients in recovery at the same time never exceed this number."),
    )
    slot_interval_minutes = models.PositiveSmallIntegerField(
        _("slot interval (minutes)"),
        default=15,
        choices=[(minutes, f"{minutes}") for minutes in (5, 10, 15, 20, 30, 60)],
        help_text=_("Procedure starts are offered on this grid, in local time."),
    )
    minimum_notice_hours = models.PositiveSmallIntegerField(
        _("minimum notice (hours)"),
        default=2,
        validators=[MaxValueValidator(24 * 30)],
        help_text=_("How long before a visit it can still be booked."),
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon (days)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(730)],
        help_text=_("How far ahead visits can be booked."),
    )
    late_cancellation_hours = models.PositiveSmallIntegerField(
        _("late cancellation (hours)"),
        default=24,
        validators=[MaxValueValidator(24 * 14)],
        help_text=_("A patient cancelling closer to the visit than this sees the late-cancellation note."),
    )
    late_cancellation_note = models.TextField(
        _("late-cancellation note"),
        blank=True,
        default=_("Cancelling less than a day ahead keeps another patient from that time. "
                  "If this keeps happening, we may ask you to book by phone."),
        help_text=_("Shown to patients who cancel online inside the late-cancellation window."),
    )
    what_to_bring = models.TextField(
        _("what to bring"),
        blank=True,
        default=_("Your photo ID, your insurance card, a list of the medicines you take, and any imaging "
                  "(MRI, CT) done elsewhere."),
        help_text=_("Shown on the booking confirmation and the patient's visit page."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(excluded_fields=in_each_language("what_to_bring", "late_cancellation_note"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def full_address(self) -> str:
        return f"{self.address_line}, {self.city}, {self.state} {self.postal_code}"


class Closure(models.Model):
    """Whole days a location is closed (holidays, inclement weather), in its local calendar."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closures", verbose_name=_("location"))
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"), help_text=_("Inclusive; the same as the first day for a one-day closure."))
    reason = models.CharField(_("reason"), max_length=200)
    history = HistoricalRecords()

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    class Meta:
        ordering = ["first_day"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="closure_last_day_not_before_first_day",
                violation_error_message=_("The last day of a closure cannot be before its first day."),
            ),
        ]

    def __str__(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.location}: closed {self.first_day:%Y-%m-%d} ({self.reason})"
        return f"{self.location}: closed {self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d} ({self.reason})"

    def clean(self) -> None:
        if self.first_day and self.last_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": _("The last day of a closure cannot be before its first day.")})
        if self.first_day and self.last_day and self.location_id:
            # A second closure over the same days says nothing new and doubles every list of them.
            overlapping = Closure.objects.filter(location_id=self.location_id, first_day__lte=self.last_day,
                                                 last_day__gte=self.first_day).exclude(pk=self.pk).first()
            if overlapping is not None:
                raise ValidationError(_("%(location)s is already closed on some of these days: %(closure)s. "
                                        "Change that closure instead.")
                                      % {"location": overlapping.location, "closure": overlapping})


class Capability(models.Model):
    """What a room offers: fluoroscopy (C-arm), ultrasound, CT, sterile OR, exam."""

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("capability")
        verbose_name_plural = _("capabilities")

    def __str__(self) -> str:
        return self.name


class RoomKind(models.TextChoices):
    PROCEDURE_SUITE = "procedure_suite", _("Procedure suite")
    OPERATING_ROOM = "operating_room", _("Operating room")
    EXAM_ROOM = "exam_room", _("Exam room")


class Room(models.Model):
    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms", verbose_name=_("location"))
    name = models.CharField(_("name"), max_length=80)
    kind = models.CharField(_("kind"), max_length=20, choices=RoomKind.choices)
    capabilities = models.ManyToManyField(Capability, related_name="rooms", blank=True, verbose_name=_("capabilities"))
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive rooms are never offered."))
    history = HistoricalRecords(m2m_fields=[capabilities])

    class Meta:
        ordering = ["location__name", "name"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.UniqueConstraint(
                fields=["location", "name"],
                name="room_name_unique_per_location",
                violation_error_message=_("This location already has a room with that name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.location})"


class RoomOutOfService(models.Model):
    """A period a room cannot be used (maintenance, C-arm repair)."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="out_of_service", verbose_name=_("room"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("out-of-service period")
        verbose_name_plural = _("out-of-service periods")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="room_out_of_service_ends_after_start",
                violation_error_message=_("An out-of-service period must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room.name} out of service: {self.reason}"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("An out-of-service period must end after it starts.")})
