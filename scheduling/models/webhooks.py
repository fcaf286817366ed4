"""Webhooks: the endpoints a manager registers, and an outbox of deliveries to them.

Each change worth telling (a visit booked, a care plan stopped...) writes one event and one
delivery per endpoint that asked for it, in the transaction of the change. The worker drains
the deliveries like the reminders (scheduling/outbox.py).
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from clinic.models.bulk_changes import AnnouncedQuerySet


class EventKind(models.TextChoices):
    APPOINTMENT_BOOKED = "appointment.booked", _("visit booked")
    APPOINTMENT_MOVED = "appointment.moved", _("visit moved")
    APPOINTMENT_CANCELLED = "appointment.cancelled", _("visit cancelled")
    APPOINTMENT_STATUS_CHANGED = "appointment.status_changed", _(
        "visit confirmed, checked in, started, in recovery, completed or no-show")
    CARE_PLAN_CREATED = "care_plan.created", _("care plan created")
    CARE_PLAN_STEP_READY = "care_plan.step_ready", _("care plan's step ready to book")
    CARE_PLAN_STOPPED = "care_plan.stopped", _("care plan stopped for the physician's decision")
    CARE_PLAN_RESUMED = "care_plan.resumed", _("stopped care plan goes on")
    CARE_PLAN_COMPLETED = "care_plan.completed", _("care plan's steps all done")
    CARE_PLAN_ENDED = "care_plan.ended", _("care plan ended by the physician")
    PATIENT_CREATED = "patient.created", _("patient record created")


# What an endpoint may ask for: each kind, or every kind of a family ("care_plan.*"), shown with
# the names the receiver sees in the Interval-Event header.
EVENT_FAMILIES = sorted({kind.split(".")[0] for kind in EventKind.values})
EVENT_CHOICES = [
    *[(f"{family}.*", format_lazy("{}.* ({})", family, _("all of them, also kinds added later")))
      for family in EVENT_FAMILIES],
    *[(value, format_lazy("{} ({})", value, label)) for value, label in EventKind.choices],
]

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


class WebhookEndpoint(models.Model):
    """A URL of another system that is told about changes, with the secret that signs them."""

    objects = AnnouncedQuerySet.as_manager()  # other processes hold these rows (scheduling/catalog.py)

    name = models.CharField(_("name"), max_length=100, help_text=_("Whose system this is, e.g. 'Billing'."))
    url = models.URLField(_("URL"), max_length=500, help_text=_(
        "Where the events are posted (https://). Each request is signed with the endpoint's secret."))
    events = models.JSONField(_("events"), default=list, help_text=_("The events this endpoint receives."))
    is_active = models.BooleanField(_("active"), default=True, help_text=_(
        "An inactive endpoint is sent nothing, and no delivery is written for it."))
    may_receive_patient_data = models.BooleanField(_("may receive patient data"), default=False, help_text=_(
        "Only then do events carry the patient's name, date of birth and contact details; otherwise ids, "
        "times and statuses only."))
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True, editable=False)
    # After a rotation the old secret signs too, for a day, while the receiver is updated.
    previous_secret = models.CharField(_("previous secret"), max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(_("previous secret signs until"), null=True, blank=True,
                                                 editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name

    def wants(self, kind: str) -> bool:
        return kind in self.events or f"{kind.split('.')[0]}.*" in self.events

    def signing_secrets(self, *, at) -> list[str]:
        """The secrets a delivery at `at` is signed with: the current one, and the previous one
        while its day of grace lasts."""
        if self.previous_secret and self.previous_secret_until and at < self.previous_secret_until:
            return [self.secret, self.previous_secret]
        return [self.secret]

    @property
    def secret_hint(self) -> str:
        return f"{SECRET_PREFIX}…{self.secret[-4:]}"


class WebhookEvent(models.Model):
    """One change, as told to every endpoint that wants it. `public_id` is the
    `Interval-Webhook-Id` header and the body's `id`: a receiver drops a repeat by it."""

    public_id = models.CharField(_("event id"), max_length=40, unique=True, editable=False)
    kind = models.CharField(_("event"), max_length=40, choices=EventKind.choices)
    # Deliveries about the same subject ("appointment:12") go out in the order they were written.
    subject = models.CharField(_("about"), max_length=60)
    occurred_at = models.DateTimeField(_("occurred"))
    data = models.JSONField(_("data"), help_text=_("Ids, times and statuses."))
    patient_data = models.JSONField(_("patient data"), default=dict, blank=True, help_text=_(
        "Name, date of birth and contact: sent only to endpoints that may receive patient data."))

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.kind} ({self.public_id})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Given up")


# A later event about the same subject waits while an earlier one is in one of these.
UNSETTLED_DELIVERY_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row."""

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries",
                              verbose_name=_("event"))
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 verbose_name=_("endpoint"))
    subject = models.CharField(_("about"), max_length=60)  # the event's, here for the ordering query
    status = models.CharField(_("status"), max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim_token = models.UUIDField(_("claim"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due"),
            models.Index(fields=["endpoint", "subject", "status"], name="webhook_delivery_order"),
        ]

    def __str__(self) -> str:
        return f"{self.event.kind} to {self.endpoint} ({self.get_status_display()})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("delivery"))
    at = models.DateTimeField(_("at"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    duration_ms = models.PositiveIntegerField(_("took (ms)"), default=0)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")

    def __str__(self) -> str:
        # In the clinic's zone, as the page around it (the attempt inline's row label).
        return f"{self.status_code or self.error[:40]} at {timezone.localtime(self.at):%Y-%m-%d %H:%M:%S %Z}"
