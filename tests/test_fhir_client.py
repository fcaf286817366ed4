"""A real FHIR client (fhirpy) against a live server: search free slots, $find, $book, and read
the appointment back, as an EHR would."""

from __future__ import annotations

import pytest
from fhirpy import SyncFHIRClient
from rest_framework.authtoken.models import Token

from scheduling.models import Appointment
from tests.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def ehr(live_server, calendar, front_desk) -> SyncFHIRClient:
    token = Token.objects.create(user=front_desk).key
    return SyncFHIRClient(f"{live_server.url}/fhir/r4", authorization=f"Bearer {token}")


def test_an_ehr_finds_books_and_reads_back_an_appointment(calendar, ehr):
    patient = calendar.patients[0]
    order = calendar.order_for(patient)
    free = ehr.resources("Slot").search(**{"service-type": "ESI_IL", "status": "free"}).search(
        start__ge=str(NEXT_MONDAY), start__le=str(NEXT_MONDAY)).limit(10)
    slots = free.fetch_all()  # follows the Bundle's next links, 10 at a time
    assert len(slots) > 10 and len({slot.id for slot in slots}) == len(slots)
    assert all(slot["status"] == "free" and slot["start"].startswith("2026-11-30T") for slot in slots)
    assert free.count() == len(slots)

    found = ehr.execute("Appointment/$find", method="get", params={
        "service-type": "ESI_IL", "start": str(NEXT_MONDAY), "end": str(NEXT_MONDAY),
        "patient": f"Patient/{patient.pk}"})
    proposal = found["entry"][0]["resource"]
    assert proposal["slot"][0]["reference"] == f"Slot/{slots[0].id}"

    booked = ehr.execute("Appointment/$book", method="post", data={
        "resourceType": "Parameters",
        "parameter": [{"name": "appointment-reference",
                       "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]})
    appointment_id = booked["entry"][0]["resource"]["id"]
    appointment = ehr.reference("Appointment", appointment_id).to_resource()
    assert appointment["status"] == "booked" and appointment["start"] == proposal["start"]
    assert Appointment.objects.get(pk=appointment_id).order == order
    practitioner = ehr.reference("Practitioner", proposal["participant"][1]["actor"]["reference"].split("/")[1])
    assert practitioner.to_resource()["name"][0]["family"]
    assert not ehr.resources("Slot").search(**{"service-type": "ESI_IL"}).search(
        start__ge=proposal["start"], start__le=proposal["start"],
        schedule=f"Schedule/physician-{calendar.okafor.pk}-location-{calendar.location.pk}").fetch()
