"""A FHIR `$book` is a booking like any other: its `appointment.booked` webhook reaches a real
receiver, and the visit shows in the physician's, the room's and the location's calendar feeds."""

from __future__ import annotations

import datetime as dt

import pytest
from icalendar import Calendar

from scheduling.models import Appointment, WebhookEndpoint
from scheduling.services.feeds import calendar_feed_open
from scheduling.webhooks.delivery import dispatch_due
from tests.conftest import NEXT_MONDAY
from tests.fhir import fhir_client, parsed, post_parameters, resources
from tests.webhooks import start_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOW_HTTP = True  # the receiver is on this machine, without TLS
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()


def fhir_book(calendar, user) -> Appointment:
    """Find Dr. Okafor's 09:00 epidural on Monday for a patient with an order, and $book it."""
    desk = fhir_client(user)
    patient = calendar.patients[0]
    calendar.order_for(patient)
    [proposal] = [p for p in resources(parsed(desk.get("/fhir/r4/Appointment/$find", {
        "service-type": "ESI_IL", "start": str(NEXT_MONDAY), "end": str(NEXT_MONDAY),
        "practitioner": f"Practitioner/{calendar.okafor.pk}", "patient": f"Patient/{patient.pk}"})), "Appointment")
        if p["start"] == "2026-11-30T09:00:00-06:00"]
    [booked] = resources(parsed(post_parameters(desk, "/fhir/r4/Appointment/$book", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]), 201))
    return Appointment.objects.select_related("room", "location").get(pk=booked["id"])


def test_a_fhir_booking_sends_the_appointment_booked_webhook(calendar, front_desk, receiver):
    endpoint = WebhookEndpoint.objects.create(name="Billing", url=receiver.url, events=["appointment.*"])
    receiver.secret = endpoint.secret
    appointment = fhir_book(calendar, front_desk)
    dispatch_due(budget=dt.timedelta(seconds=20))
    assert receiver.kinds() == ["appointment.booked"]
    [received] = receiver.received
    assert received.verified
    booked = received.event["data"]["appointment"]
    assert booked["id"] == appointment.pk and booked["start"] == "2026-11-30T09:00:00-06:00"
    assert booked["procedure_type"] == "ESI_IL"


def test_a_fhir_booking_shows_in_the_physicians_the_rooms_and_the_locations_feeds(calendar, front_desk, client):
    feeds = [calendar_feed_open(physician=calendar.okafor), calendar_feed_open(location=calendar.location)]
    appointment = fhir_book(calendar, front_desk)
    feeds.append(calendar_feed_open(room=appointment.room))
    for feed in feeds:
        response = client.get(f"/feeds/{feed.token}.ics")
        assert response.status_code == 200
        events = {str(event["UID"]): event for event in Calendar.from_ical(response.content).walk("VEVENT")}
        event = events[f"appointment-{appointment.pk}@interval"]
        assert event.decoded("DTSTART") <= appointment.procedure_start < event.decoded("DTEND")
        assert str(event["SUMMARY"]).startswith("ESI_IL")
