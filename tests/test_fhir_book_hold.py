"""$book with a hold: the hold it names is checked, never silently ignored. An unknown key is a 400;
a hold that lapsed books only while the time is still free (with a note that it had lapsed),
else a 409 saying the hold expired."""

from __future__ import annotations

import datetime as dt

import pytest

from scheduling import services
from scheduling.models import Appointment, SlotHold
from tests.conftest import NEXT_MONDAY
from tests.fhir import fhir_client, issues, parsed, post_parameters, resources

pytestmark = pytest.mark.django_db

FIND = "/fhir/r4/Appointment/$find"


@pytest.fixture
def desk(front_desk):
    return fhir_client(front_desk)


@pytest.fixture
def proposal(calendar, desk) -> dict:
    calendar.order_for(calendar.patients[0])
    bundle = parsed(desk.get(FIND, {"service-type": "ESI_IL", "start": str(NEXT_MONDAY), "end": str(NEXT_MONDAY),
                                    "practitioner": f"Practitioner/{calendar.okafor.pk}",
                                    "patient": f"Patient/{calendar.patients[0].pk}"}))
    return resources(bundle, "Appointment")[0]


def hold(desk, proposal) -> str:
    held = parsed(post_parameters(desk, "/fhir/r4/Appointment/$hold", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]))
    return resources(held, "Appointment")[0]["identifier"][0]["value"]


def book(desk, proposal, key: str):
    return post_parameters(desk, "/fhir/r4/Appointment/$book", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}},
        {"name": "hold", "valueString": key}])


@pytest.mark.parametrize("key", ["bogus", "no such key, with spaces", "x" * 65])
def test_booking_with_a_hold_that_does_not_exist_is_a_400(proposal, desk, key):
    outcome = parsed(book(desk, proposal, key), 400)
    assert issues(outcome) == ["That hold is not known (or was used already): hold the time again."]
    assert outcome["issue"][0]["expression"] == ["hold"]
    assert not Appointment.objects.exists()


def test_booking_with_the_hold_of_another_time_is_a_400(calendar, desk, proposal):
    other = resources(parsed(desk.get(FIND, {"service-type": "ESI_IL", "start": str(NEXT_MONDAY),
                                             "practitioner": f"Practitioner/{calendar.okafor.pk}"})))[-1]
    key = hold(desk, other)
    assert issues(parsed(book(desk, proposal, key), 400)) == ["That hold is for another time or physician."]


def test_booking_with_a_live_hold_books_without_a_note(desk, proposal):
    key = hold(desk, proposal)
    booked = parsed(book(desk, proposal, key), 201)
    assert resources(booked, "OperationOutcome") == []
    assert not SlotHold.objects.exists()


def test_a_lapsed_hold_still_books_a_free_time_and_says_it_had_lapsed(clock, desk, proposal):
    key = hold(desk, proposal)
    clock.shift(dt.timedelta(minutes=11))
    booked = parsed(book(desk, proposal, key), 201)
    [note] = resources(booked, "OperationOutcome")
    assert note["issue"][0]["severity"] == "information"
    assert issues(note) == ["The hold had lapsed; the time was still free, so it is booked."]
    assert Appointment.objects.count() == 1


def test_a_lapsed_hold_on_a_time_taken_since_is_a_409_saying_it_expired(calendar, clock, desk, front_desk, proposal):
    key = hold(desk, proposal)
    clock.shift(dt.timedelta(minutes=11))
    calendar.order_for(calendar.patients[1])
    services.appointment_book(patient=calendar.patients[1], procedure_type=calendar.esi, physician=calendar.okafor,
                              start=dt.datetime.fromisoformat(proposal["start"]), by=front_desk)
    outcome = parsed(book(desk, proposal, key), 409)
    assert issues(outcome) == ["The hold has expired and the time is no longer free: find another time."]
    assert Appointment.objects.count() == 1
