"""Writing webhook events, always inside the transaction of the change they report: an event
exists exactly when its change does (a booking rolled back writes none).

Services call these next to where they write reminder rows. Each event gets one delivery per
active endpoint that asked for its kind; with no such endpoint nothing is written.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.utils import timezone

from clinic import phone_numbers
from clinic.models import Patient
from scheduling import catalog
from scheduling.models import (
    Appointment,
    CarePlan,
    CarePlanStep,
    EventKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)


def _instant(value: dt.datetime | None, zone) -> str | None:
    """ISO 8601 with the offset of the location's zone, as the REST API gives times."""
    return value.astimezone(zone).isoformat() if value else None


def _patient_data(patient: Patient) -> dict:
    """What only an endpoint allowed to receive patient data is sent."""
    return {"first_name": patient.first_name, "last_name": patient.last_name,
            "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
            "email": patient.email, "phone": phone_numbers.raw(patient.phone) or ""}


def listening(kind: str) -> list[WebhookEndpoint]:
    """The active endpoints that asked for `kind`, from the catalog held in memory."""
    return [endpoint for endpoint in catalog.current().webhook_endpoints if endpoint.wants(kind)]


def webhook_event_write(kind: str, *, subject: str, data: dict, patient: Patient | None = None,
                        now: dt.datetime | None = None,
                        endpoints: list[WebhookEndpoint] | None = None) -> WebhookEvent | None:
    """Write the event and its deliveries to `endpoints` (by default those listening), due now;
    None when no endpoint wants it."""
    endpoints = listening(kind) if endpoints is None else endpoints
    if not endpoints:
        return None
    now = now or timezone.now()
    event = WebhookEvent.objects.create(
        public_id=f"evt_{secrets.token_hex(12)}", kind=kind, subject=subject, occurred_at=now, data=data,
        # Kept only when some endpoint may receive it: no copy of a patient's details for nothing.
        patient_data=_patient_data(patient) if patient is not None and any(
            endpoint.may_receive_patient_data for endpoint in endpoints) else {})
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(event=event, endpoint=endpoint, subject=subject, next_attempt_at=now)
        for endpoint in endpoints])
    return event


def _appointment(appointment: Appointment) -> dict:
    zone = appointment.location.zone
    return {
        "id": appointment.pk,
        "status": appointment.status,
        "procedure_type": appointment.procedure_type.code,
        "location": appointment.location_id,
        "physician": appointment.physician_id,
        "room": appointment.room_id,
        "order": appointment.order_id,
        "follow_up_of": appointment.follow_up_of_id,
        "arrival": _instant(appointment.arrival, zone),
        "start": _instant(appointment.procedure_start, zone),
        "end": _instant(appointment.procedure_end, zone),
        "discharge": _instant(appointment.discharge, zone),
    }


def appointment_event(appointment: Appointment, kind: str, *, now: dt.datetime | None = None,
                      **extra) -> WebhookEvent | None:
    """A visit booked, moved, cancelled or changing status; `extra` goes beside the visit
    (the previous start of a moved visit, the previous status)."""
    endpoints = listening(kind)
    if not endpoints:  # nothing to build: a visit's changes cost one query more, not four
        return None
    zone = appointment.location.zone
    extra = {name: _instant(value, zone) if isinstance(value, dt.datetime) else value for name, value in extra.items()}
    data = {"appointment": _appointment(appointment), "patient": {"id": appointment.patient_id}, **extra}
    if kind == EventKind.APPOINTMENT_CANCELLED:
        data["appointment"]["cancel_reason"] = appointment.cancel_reason
    return webhook_event_write(kind, subject=f"appointment:{appointment.pk}", data=data,
                               patient=appointment.patient, now=now, endpoints=endpoints)


def appointment_moved_event(appointment: Appointment, *, previous_start: dt.datetime,
                            now: dt.datetime | None = None) -> WebhookEvent | None:
    return appointment_event(appointment, EventKind.APPOINTMENT_MOVED, now=now, previous_start=previous_start)


def care_plan_event(plan: CarePlan, kind: str, *, step: CarePlanStep | None = None,
                    now: dt.datetime | None = None) -> WebhookEvent | None:
    """A care plan created, at a step ready to book, stopped, resumed, completed or ended."""
    endpoints = listening(kind)
    if not endpoints:
        return None
    data = {
        "care_plan": {"id": plan.pk, "name": plan.name, "status": plan.status, "physician": plan.physician_id,
                      "status_note": plan.status_note},
        "patient": {"id": plan.patient_id},
    }
    if step is not None:
        data["step"] = {"id": step.pk, "position": step.position, "kind": step.kind, "status": step.status,
                        "procedure_type": step.procedure_type.code if step.procedure_type_id else None,
                        "order": step.order_id, "status_note": step.status_note}
    return webhook_event_write(kind, subject=f"care_plan:{plan.pk}", data=data, patient=plan.patient, now=now,
                               endpoints=endpoints)


def patient_created_event(patient: Patient, *, now: dt.datetime | None = None) -> WebhookEvent | None:
    return webhook_event_write(EventKind.PATIENT_CREATED, subject=f"patient:{patient.pk}",
                               data={"patient": {"id": patient.pk}}, patient=patient, now=now)


def event_body(event: WebhookEvent, *, patient_data: bool) -> dict:
    """What is posted: the event's data, with the patient's details only where allowed."""
    data = {**event.data}
    if "patient" in data and patient_data and event.patient_data:
        data["patient"] = {**data["patient"], **event.patient_data}
    return {"id": event.public_id, "type": event.kind,
            "created": event.occurred_at.astimezone(dt.timezone.utc).isoformat(), "data": data}
