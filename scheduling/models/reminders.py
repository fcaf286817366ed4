"""Reminders as a transactional outbox: rows written with the booking, drained by a beat job.

Celery's broker holds no reminder for longer than a dispatch run: a reminder days ahead is a
row here, so a broker outage or a redelivered task can delay it but never lose or double it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from clinic.models import Channel, ProcedureType
from clinic.models.bulk_changes import AnnouncedQuerySet
from scheduling.models.appointments import Appointment


class ReminderKind(models.TextChoices):
    BOOKING_CONFIRMATION = "booking_confirmation", _("Booking confirmation")
    BLOOD_THINNER_HOLD = "blood_thinner_hold", _("Blood-thinner hold")
    CONFIRMATION_REQUEST = "confirmation_request", _("Confirmation request")
    PREPARATION = "preparation", _("Preparation")
    ARRIVAL = "arrival", _("Arrival time")
    PAIN_DIARY = "pain_diary", _("Pain-diary prompt")
    TRIAL_REMOVAL = "trial_removal", _("Trial lead-removal visit")
    CHECK_IN = "post_procedure_check_in", _("Post-procedure check-in")
    VISIT_MOVED = "visit_moved", _("Visit moved")
    CLINIC_MOVED = "clinic_moved", _("Visit moved by the clinic")
    VISIT_CANCELLED = "visit_cancelled", _("Visit cancelled")
    WAITLIST_OFFER = "waitlist_offer", _("Earlier time offered")
    ORDER_BOOKING_LINK = "order_booking_link", _("Link to book an ordered procedure")


# Messages about a visit still to come: pointless, and confusing, once the patient's arrival time
# has passed (a worker that was down catches up on the rest).
BEFORE_VISIT_KINDS = frozenset({
    ReminderKind.BOOKING_CONFIRMATION, ReminderKind.BLOOD_THINNER_HOLD, ReminderKind.CONFIRMATION_REQUEST,
    ReminderKind.PREPARATION, ReminderKind.ARRIVAL, ReminderKind.VISIT_MOVED, ReminderKind.CLINIC_MOVED,
    ReminderKind.WAITLIST_OFFER,
})


class Anchor(models.TextChoices):
    BOOKED = "booked", _("when booked")
    DAYS_BEFORE = "days_before", _("days before the visit, at a local time")
    BEFORE_ARRIVAL = "before_arrival", _("minutes before arrival")
    AFTER_PROCEDURE_END = "after_procedure_end", _("minutes after the procedure's end")
    AFTER_DISCHARGE = "after_discharge", _("minutes after discharge")
    DAYS_AFTER = "days_after", _("days after the visit, at a local time")
    HOLD_START = "hold_start", _("the last-dose day of a blood thinner, at a local time")


class ReminderStep(models.Model):
    """One reminder of a procedure type's plan, and when it goes out."""

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    procedure_type = models.ForeignKey(ProcedureType, on_delete=models.CASCADE, related_name="reminder_steps",
                                       verbose_name=_("procedure type"))
    kind = models.CharField(_("reminder"), max_length=30, choices=ReminderKind.choices)
    anchor = models.CharField(_("sent"), max_length=20, choices=Anchor.choices)
    days = models.PositiveSmallIntegerField(_("days"), default=0, validators=[MaxValueValidator(60)])
    minutes = models.PositiveSmallIntegerField(_("minutes"), default=0, validators=[MaxValueValidator(24 * 60)])
    at_time = models.TimeField(_("at (local time)"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["procedure_type__name", "anchor", "-days", "minutes"]
        verbose_name = _("reminder step")
        verbose_name_plural = _("reminder plan")
        constraints = [
            models.UniqueConstraint(fields=["procedure_type", "kind", "anchor", "days", "minutes"],
                                    name="reminder_step_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.describe()})"

    def describe(self) -> str:
        at = f" at {self.at_time:%H:%M}" if self.at_time else ""
        return {
            Anchor.BOOKED: "when booked",
            Anchor.DAYS_BEFORE: f"{self.days} day(s) before{at}",
            Anchor.BEFORE_ARRIVAL: f"{self.minutes} min before arrival",
            Anchor.AFTER_PROCEDURE_END: f"{self.minutes} min after the procedure's end",
            Anchor.AFTER_DISCHARGE: f"{self.minutes} min after discharge",
            Anchor.DAYS_AFTER: f"{self.days} day(s) after{at}",
            Anchor.HOLD_START: f"on the last-dose day{at}",
        }[self.anchor]

    def clean(self) -> None:
        if self.anchor in (Anchor.DAYS_BEFORE, Anchor.DAYS_AFTER, Anchor.HOLD_START) and self.at_time is None:
            raise ValidationError({"at_time": _("Give the local time it goes out.")})


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


# Due and not out yet: waiting for a dispatch run, or held by one.
UNSENT_REMINDER_STATUSES = frozenset({ReminderStatus.PENDING, ReminderStatus.SENDING})


class TextDeliveryStatus(models.TextChoices):
    """What the SMS provider last reported about a sent text (its status callbacks)."""

    QUEUED = "queued", _("Queued at the provider")
    SENT = "sent", _("Handed to the carrier")
    DELIVERED = "delivered", _("Delivered")
    UNDELIVERED = "undelivered", _("Not delivered")
    FAILED = "failed", _("Failed at the provider")


# A report of these is final: a late "sent" arriving after "delivered" does not undo it.
FINAL_TEXT_DELIVERY_STATUSES = frozenset({TextDeliveryStatus.DELIVERED, TextDeliveryStatus.UNDELIVERED, TextDeliveryStatus.FAILED})


class Reminder(models.Model):
    """One message to send: the outbox row."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders",
                                    verbose_name=_("appointment"), null=True, blank=True)
    order = models.ForeignKey("scheduling.ProcedureOrder", on_delete=models.CASCADE, related_name="messages",
                              verbose_name=_("order"), null=True, blank=True,
                              help_text=_("For the link to book an ordered procedure, sent before any visit exists."))
    kind = models.CharField(_("reminder"), max_length=30, choices=ReminderKind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(_("status"), max_length=20, choices=ReminderStatus.choices,
                              default=ReminderStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True,
                                      help_text=_("When the sending worker last renewed its claim on the row."))
    # Which dispatch run holds the row while it is "sending": a run sends a row only while the
    # token is still its own, so a row taken back after its lease ran out is never sent twice.
    claim_token = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    # Unique by a constraint, and the provider's ID found by an index, declared in Meta rather than
    # with unique=True and db_index=True: on PostgreSQL those add a second index to each for LIKE
    # searches, which nothing asks, and every reminder written would update it.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100,
                                       help_text=_("Sent with the message so a provider can drop a repeat."))
    context = models.JSONField(_("details"), default=dict, blank=True,
                               help_text=_("What the message needs beyond the visit, e.g. a drug's last-dose day."))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    provider_message_id = models.CharField(_("provider's message ID"), max_length=64, blank=True,
                                           help_text=_("The SMS provider's ID for the text (Twilio: SM...)."))
    delivery_status = models.CharField(_("delivery"), max_length=20, choices=TextDeliveryStatus.choices, blank=True)
    delivery_error_code = models.CharField(_("delivery error code"), max_length=10, blank=True,
                                           help_text=_("The provider's error code when a text was not delivered "
                                                       "(Twilio: 30003 phone off, 30005 unknown number, ...)."))
    delivery_reported_at = models.DateTimeField(_("delivery reported"), null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="reminder_due"),
                   models.Index(fields=["provider_message_id"], name="reminder_provider_message")]
        constraints = [
            models.CheckConstraint(condition=models.Q(appointment__isnull=False) | models.Q(order__isnull=False),
                                   name="reminder_for_a_visit_or_an_order"),
            models.UniqueConstraint(fields=["idempotency_key"], name="reminder_idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} by {self.get_channel_display()} ({self.get_status_display()})"


class AttemptOutcome(models.TextChoices):
    SENT = "sent", _("Sent")
    TEMPORARY_FAILURE = "temporary_failure", _("Failed, will retry")
    PERMANENT_FAILURE = "permanent_failure", _("Failed, given up")


class ReminderAttempt(models.Model):
    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("reminder"))
    at = models.DateTimeField(_("at"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=AttemptOutcome.choices)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0,
                                              validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["at"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        # In the clinic's zone, as the page around it (the attempt inline's row label).
        return f"{self.get_outcome_display()} at {timezone.localtime(self.at):%Y-%m-%d %H:%M %Z}"
