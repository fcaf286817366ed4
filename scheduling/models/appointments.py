"""Appointments: one visit each, with its instants stored explicitly."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling.models.orders import ProcedureOrder


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    IN_PROCEDURE = "in_procedure", _("In procedure")
    IN_RECOVERY = "in_recovery", _("In recovery")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NO_SHOW = "no_show", _("No-show")


# Statuses whose time spans hold the physician, room, recovery bay and patient. A completed
# visit still holds its span (it happened); a cancelled one or a no-show frees it.
HOLDING_STATUSES = [
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROCEDURE,
    AppointmentStatus.IN_RECOVERY,
    AppointmentStatus.COMPLETED,
]


# Statuses of a visit that is still to happen or under way: it still uses its order.
ACTIVE_STATUSES = [
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
    AppointmentStatus.IN_PROCEDURE,
    AppointmentStatus.IN_RECOVERY,
]

# Statuses of an upcoming visit, booked and not yet begun: the patient is expected at its time,
# so the clinic or the patient can still move it, put it on the waitlist, or cancel it (and must,
# if a change of plans strands it). Every "upcoming" check uses this list.
BOOKED_STATUSES = [
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
]


# Statuses of a visit whose procedure has not begun: what must happen before it (a blood
# thinner stopped in time) can still be checked.
BEFORE_PROCEDURE_STATUSES = [
    AppointmentStatus.SCHEDULED,
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.CHECKED_IN,
]


class Appointment(models.Model):
    """One visit, with its instants stored explicitly (DESIGN.md section 2).

    physician: [procedure_start, procedure_end)     room: [room_start, room_end)
    patient:   [arrival, discharge)                 recovery bay: [procedure_end, discharge)

    On PostgreSQL, exclusion constraints over these ranges (migration 0002) make a double
    booking impossible whatever the application does.
    """

    # A location's, a physician's and a patient's visits are found through the indexes in Meta
    # that start with them: these relations need none of their own, which every booking would
    # update too.
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="appointments",
                                 db_index=False, verbose_name=_("location"))
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="appointments",
                                  db_index=False, verbose_name=_("physician"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="appointments", verbose_name=_("room"))
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments",
                                db_index=False, verbose_name=_("patient"))
    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.PROTECT, related_name="appointments",
                                       verbose_name=_("procedure type"))
    order = models.ForeignKey(ProcedureOrder, on_delete=models.PROTECT, related_name="appointments", null=True,
                              blank=True, verbose_name=_("order"))
    status = models.CharField(_("status"), max_length=20, choices=AppointmentStatus.choices,
                              default=AppointmentStatus.SCHEDULED)
    arrival = models.DateTimeField(_("arrival"))
    procedure_start = models.DateTimeField(_("procedure start"))
    procedure_end = models.DateTimeField(_("procedure end"))
    discharge = models.DateTimeField(_("discharge"))
    room_start = models.DateTimeField(_("room from"))
    room_end = models.DateTimeField(_("room until"))
    booked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+", verbose_name=_("booked by"))
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("cancelled by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    follow_up_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups",
        verbose_name=_("follow-up of"), help_text=_("E.g. the SCS trial a lead-removal visit belongs to."),
    )
    notes = models.TextField(_("notes"), blank=True)
    # iCalendar's SEQUENCE: calendars that already hold the visit replace it only when this goes
    # up. The services that move, cancel or mark a no-show raise it; nothing else does.
    sequence = models.PositiveIntegerField(
        _("revision"), default=0, editable=False,
        help_text=_("Goes up each time the visit is moved, cancelled or marked a no-show."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # History rows are read by their visit (`id`) and date only: the relations' copies carry no
    # index, which every booking would otherwise update nine times over.
    history = HistoricalRecords(no_db_index=["location", "physician", "room", "patient", "procedure_type", "order",
                                             "booked_by", "cancelled_by", "follow_up_of"])

    class Meta:
        ordering = ["procedure_start"]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")
        permissions = [
            ("cancel_appointment", _("Can cancel an appointment")),
            ("reschedule_appointment", _("Can reschedule an appointment")),
            ("check_in_appointment", _("Can check a patient in")),
            ("progress_appointment", _("Can move an appointment through procedure, recovery and completion")),
            ("no_show_appointment", _("Can mark a no-show")),
            ("record_outcome_appointment", _("Can record a procedure's outcome")),
            ("override_eligibility_appointment", _("Can override a pathway rule for one booking")),
        ]
        indexes = [
            models.Index(fields=["location", "procedure_start"], name="appointment_location_start"),
            models.Index(fields=["physician", "procedure_start"], name="appointment_physician_start"),
            models.Index(fields=["patient", "arrival"], name="appointment_patient_arrival"),
            # The calendar feeds' Last-Modified: the clinic's latest change to any visit.
            models.Index(fields=["updated_at"], name="appointment_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(arrival__lte=models.F("procedure_start"))
                & models.Q(procedure_start__lt=models.F("procedure_end"))
                & models.Q(procedure_end__lte=models.F("discharge"))
                & models.Q(room_start__lte=models.F("procedure_start"))
                & models.Q(room_end__gte=models.F("procedure_end")),
                name="appointment_instants_in_order",
            ),
        ]

    def __str__(self) -> str:
        local = self.procedure_start.astimezone(self.location.zone)
        return f"{self.procedure_type.name}, {self.patient.full_name}, {local:%Y-%m-%d %H:%M}"

    @property
    def is_holding(self) -> bool:
        return self.status in HOLDING_STATUSES
