"""FHIR Appointment/$find, $hold and $book: proposals with every participant, holds of exactly
the proposal's physician, room and time, bookings through the booking service, 409 for a taken
time or room and 422 with each unmet pathway rule as its own issue."""

from __future__ import annotations

import datetime as dt

import pytest

from clinic.models import Patient, ProcedureType, Room
from scheduling import services
from scheduling.models import Appointment, SlotHold
from scheduling.pathways.eligibility import check_eligibility
from tests.conftest import NEXT_MONDAY, NEXT_THURSDAY, local
from tests.fhir import fhir_client, issues, parsed, post_parameters, resources
from tests.test_pathways import patient_with, record_procedure

pytestmark = pytest.mark.django_db

FIND = "/fhir/r4/Appointment/$find"


@pytest.fixture
def desk(front_desk):
    return fhir_client(front_desk)


def find(desk, calendar, patient=None, **extra) -> list[dict]:
    query = {"service-type": "ESI_IL", "start": NEXT_MONDAY.isoformat(), "end": NEXT_MONDAY.isoformat(),
             "practitioner": f"Practitioner/{calendar.okafor.pk}", **extra}
    if patient is not None:
        query["patient"] = f"Patient/{patient.pk}"
    return resources(parsed(desk.get(FIND, query)), "Appointment")


def hold(desk, proposal: dict):
    return post_parameters(desk, "/fhir/r4/Appointment/$hold", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}])


def room_of(appointment: dict) -> Room:
    reference = next(p["actor"]["reference"] for p in appointment["participant"]
                     if p["actor"]["reference"].startswith("Location/room-"))
    return Room.objects.get(pk=reference.removeprefix("Location/room-"))


def book(desk, proposal: dict, **extra):
    parameters = [{"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]
    parameters += [{"name": name, **value} for name, value in extra.items()]
    return post_parameters(desk, "/fhir/r4/Appointment/$book", parameters)


def test_find_proposes_appointments_with_every_participant(calendar, desk):
    patient = calendar.patients[0]
    calendar.order_for(patient)
    proposals = find(desk, calendar, patient)
    assert proposals and all(p["status"] == "proposed" for p in proposals)
    first = proposals[0]
    actors = [participant["actor"]["reference"] for participant in first["participant"]]
    assert actors[0] == f"Patient/{patient.pk}" and f"Practitioner/{calendar.okafor.pk}" in actors
    assert any(actor.startswith("Location/room-") for actor in actors)
    assert f"Location/{calendar.location.pk}" in actors
    assert first["start"] == "2026-11-30T07:30:00-06:00" and first["minutesDuration"] == 20
    patient_period = first["participant"][0]["period"]
    assert patient_period == {"start": "2026-11-30T07:00:00-06:00", "end": "2026-11-30T08:20:00-06:00"}
    assert first["slot"][0]["reference"].startswith("Slot/")
    # The same proposals through a Parameters body.
    posted = post_parameters(desk, FIND, [
        {"name": "service-type", "valueString": "ESI_IL"}, {"name": "start", "valueDate": str(NEXT_MONDAY)},
        {"name": "end", "valueDate": str(NEXT_MONDAY)},
        {"name": "practitioner", "valueReference": {"reference": f"Practitioner/{calendar.okafor.pk}"}},
        {"name": "patient", "valueReference": {"reference": f"Patient/{patient.pk}"}},
        {"name": "_count", "valueInteger": 5}])
    posted = parsed(posted)
    assert [p["id"] for p in resources(posted)] == [p["id"] for p in proposals][:5]
    # Its pages are GET links carrying the body's parameters, so a client can follow them.
    links = {link["relation"]: link["url"] for link in posted["link"]}
    assert set(links) == {"self", "next"} and "service-type=ESI_IL" in links["self"]
    following = parsed(desk.get(links["next"]))
    assert [p["id"] for p in resources(following)] == [p["id"] for p in proposals][5:10]
    assert f"Patient%2F{patient.pk}" in links["next"] and "_offset=5" in links["next"]


def test_find_for_a_patient_without_an_order_says_why_there_is_nothing(calendar, desk):
    bundle = parsed(desk.get(FIND, {"service-type": "ESI_IL", "start": str(NEXT_MONDAY),
                                    "patient": f"Patient/{calendar.patients[5].pk}"}))
    assert bundle["total"] == 0
    [outcome] = resources(bundle, "OperationOutcome")
    assert "needs a physician's order" in issues(outcome)[0]


def test_book_a_proposed_appointment_and_read_it_back(calendar, desk, front_desk):
    patient = calendar.patients[0]
    order = calendar.order_for(patient)
    proposal = find(desk, calendar, patient)[2]
    response = book(desk, proposal)
    [booked] = resources(parsed(response, 201))
    appointment = Appointment.objects.get(pk=booked["id"])
    assert (appointment.patient, appointment.physician, appointment.order) == (patient, calendar.okafor, order)
    assert appointment.booked_by == front_desk
    assert booked["start"] == proposal["start"] and booked["status"] == "booked"
    assert response["Location"].endswith(f"/fhir/r4/Appointment/{appointment.pk}")
    room = next(p for p in proposal["participant"] if p["actor"]["reference"].startswith("Location/room-"))
    assert f"room-{appointment.room_id}" in room["actor"]["reference"]
    read = parsed(desk.get(f"/fhir/r4/Appointment/{appointment.pk}"))
    assert read["basedOn"][0]["identifier"]["value"] == str(order.pk)


def test_book_against_a_named_order(calendar, desk):
    patient = calendar.patients[0]
    calendar.order_for(patient)
    second = calendar.order_for(patient)
    proposal = find(desk, calendar, patient)[0]
    [booked] = resources(parsed(book(desk, proposal, order={"valueIdentifier": {"value": str(second.pk)}}), 201))
    assert Appointment.objects.get(pk=booked["id"]).order == second
    calendar.order_for(calendar.patients[1])
    someone_elses = calendar.order_for(calendar.patients[2])
    refused = book(desk, find(desk, calendar, calendar.patients[1])[0], order={"valueString": str(someone_elses.pk)})
    assert parsed(refused, 400)["issue"][0]["expression"] == ["order"]


def test_booking_a_taken_time_answers_409(calendar, desk):
    patient, other = calendar.patients[0], calendar.patients[1]
    calendar.order_for(patient)
    calendar.order_for(other)
    proposal = find(desk, calendar, patient)[0]
    assert book(desk, proposal).status_code == 201
    again = book(desk, proposal, **{"patient-reference": {"valueReference": {"reference": f"Patient/{other.pk}"}}})
    outcome = parsed(again, 409)
    assert outcome["issue"][0]["code"] == "conflict"


def test_a_pathway_refusal_answers_422_with_each_unmet_rule_as_its_own_issue(calendar, desk):
    patient = patient_with("Prairie Mutual Health")
    # An epidural 10 days ago with little relief, and an order whose authorization is pending.
    record_procedure(calendar, patient, "ESI_IL", NEXT_MONDAY - dt.timedelta(days=10), relief=20)
    order = calendar.order_for(patient, authorization_status="pending", authorization_number="")
    unmet = check_eligibility(patient=patient, procedure_type=calendar.esi, order=order, day=NEXT_MONDAY).unmet
    assert len(unmet) >= 2
    proposal = find(desk, calendar)[0]
    response = book(desk, proposal, **{"patient-reference": {"valueReference": {"reference": f"Patient/{patient.pk}"}}})
    outcome = parsed(response, 422)
    assert issues(outcome) == [item.message for item in unmet]
    assert {issue["code"] for issue in outcome["issue"]} == {"business-rule"}
    assert not Appointment.objects.filter(patient=patient, procedure_start__gte=local(NEXT_MONDAY, 0)).exists()


def test_a_hold_answers_with_its_expiry_and_keeps_the_time_for_its_booking(calendar, desk):
    patient, other = calendar.patients[0], calendar.patients[1]
    calendar.order_for(patient)
    calendar.order_for(other)
    proposal = find(desk, calendar, patient)[0]
    held = parsed(post_parameters(desk, "/fhir/r4/Appointment/$hold", [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]))
    [appointment] = resources(held, "Appointment")
    [note] = resources(held, "OperationOutcome")
    hold = SlotHold.objects.get()
    assert appointment["status"] == "pending"
    assert appointment["identifier"] == [{"system": "urn:interval:hold", "value": hold.key}]
    assert appointment["extension"][0]["valueDateTime"] == "2026-11-24T08:10:00-06:00"
    assert "2026-11-24T08:10:00-06:00" in issues(note)[0]
    # The time is no longer offered, and another booking of it is refused as held.
    assert proposal["id"].split(".")[0] not in [p["id"].split(".")[0] for p in find(desk, calendar)]
    taken = book(desk, proposal, **{"patient-reference": {"valueReference": {"reference": f"Patient/{other.pk}"}}})
    assert issues(parsed(taken, 409))[0].startswith("That time is held for a booking in progress until 08:10")
    # The held appointment, sent back as it came, books the time and releases the hold.
    booked = post_parameters(desk, "/fhir/r4/Appointment/$book", [
        {"name": "appointment-resource", "resource": appointment}])
    [done] = resources(parsed(booked, 201))
    assert Appointment.objects.get(pk=done["id"]).patient == patient
    assert not SlotHold.objects.exists()


def test_a_booking_without_a_patient_is_refused_with_400(calendar, desk):
    proposal = find(desk, calendar)[0]
    outcome = parsed(book(desk, proposal), 400)
    assert outcome["issue"][0]["expression"] == ["patient-reference"]


def test_a_procedure_without_an_order_is_refused_with_422(calendar, desk):
    patient = Patient.objects.exclude(orders__isnull=False).first()
    proposal = find(desk, calendar)[0]
    outcome = parsed(book(desk, proposal, **{"patient-reference": {"valueReference": {
        "reference": f"Patient/{patient.pk}"}}}), 422)
    assert "needs a physician's order" in issues(outcome)[0]
    assert ProcedureType.objects.get(code="ESI_IL").requires_order


def test_a_self_bookable_consultation_books_without_an_order(calendar, desk):
    proposals = find(desk, calendar, calendar.patients[6], **{"service-type": "CONSULT_NEW",
                                                              "practitioner": f"Practitioner/{calendar.reyes.pk}",
                                                              "start": str(NEXT_MONDAY + dt.timedelta(days=1)),
                                                              "end": str(NEXT_MONDAY + dt.timedelta(days=7))})
    assert proposals
    [booked] = resources(parsed(book(desk, proposals[0]), 201))
    assert Appointment.objects.get(pk=booked["id"]).order is None


def test_a_hold_holds_the_proposals_own_room_and_its_booking_books_that_room(calendar, desk):
    patient = calendar.patients[0]
    calendar.order_for(patient)
    first_choice = room_of(find(desk, calendar, patient)[0])
    other = Room.objects.filter(location=calendar.location, capabilities__code="fluoroscopy").exclude(
        pk=first_choice.pk).order_by("name").first()
    [proposal] = [p for p in find(desk, calendar, patient, location=f"Location/room-{other.pk}")
                  if p["start"] == "2026-11-30T09:00:00-06:00"]
    assert room_of(proposal) == other
    [held] = resources(parsed(hold(desk, proposal)), "Appointment")
    assert SlotHold.objects.get().room == other and room_of(held) == other
    [booked] = resources(parsed(post_parameters(desk, "/fhir/r4/Appointment/$book", [
        {"name": "appointment-resource", "resource": held}]), 201))
    assert Appointment.objects.get(pk=booked["id"]).room == other and room_of(booked) == other


def test_holding_a_proposal_whose_room_was_taken_meanwhile_answers_409_not_another_room(calendar, desk):
    patient, other = calendar.patients[0], calendar.patients[1]
    calendar.order_for(patient)
    order = calendar.order_for(other)
    [proposal] = [p for p in find(desk, calendar, patient, practitioner=f"Practitioner/{calendar.reyes.pk}",
                                  start=str(NEXT_THURSDAY), end=str(NEXT_THURSDAY))
                  if p["start"] == "2026-12-03T09:00:00-06:00"]
    room = room_of(proposal)
    # Dr. Nair takes the room at that time; Dr. Reyes and other rooms are still free.
    services.appointment_book(patient=other, procedure_type=calendar.esi, physician=calendar.nair,
                              start=local(NEXT_THURSDAY, 9), room=room, order=order)
    outcome = parsed(hold(desk, proposal), 409)
    assert outcome["issue"][0]["code"] == "conflict"
    assert not SlotHold.objects.exists()
    assert parsed(book(desk, proposal), 409)["issue"][0]["code"] == "conflict"
    assert Appointment.objects.filter(physician=calendar.reyes).count() == 0


def test_a_rooms_schedule_offers_a_procedure_whose_follow_up_is_in_another_room(calendar, desk):
    """The SCS trial is done in the OR; its lead removal, a week later, in an exam room."""
    operating_room = Room.objects.get(name="OR 1")
    slots = resources(parsed(desk.get("/fhir/r4/Slot", {
        "service-type": "SCS_TRIAL", "schedule": f"Schedule/room-{operating_room.pk}",
        "start": [f"ge{NEXT_MONDAY}", f"le{NEXT_MONDAY}"]})), "Slot")
    assert slots and all(slot["schedule"]["reference"] == f"Schedule/room-{operating_room.pk}" for slot in slots)
    patient = calendar.patients[0]
    calendar.order_for(patient, ProcedureType.objects.get(code="SCS_TRIAL"), region="thoracic",
                       psych_evaluation_date=NEXT_MONDAY - dt.timedelta(days=30))
    [proposal, *_] = find(desk, calendar, patient, **{"service-type": "SCS_TRIAL",
                                                      "location": f"Location/room-{operating_room.pk}"})
    [booked] = resources(parsed(book(desk, proposal), 201))
    trial = Appointment.objects.get(pk=booked["id"])
    [removal] = trial.follow_ups.all()
    assert trial.room == operating_room and removal.room.capabilities.filter(code="exam").exists()
    assert removal.procedure_start.date() == NEXT_MONDAY + dt.timedelta(days=7)
