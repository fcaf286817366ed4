"""`Idempotency-Key` on FHIR `$book` and `$hold`, as on the REST API's POSTs: a retry gets the
first answer (status and body), never a second booking, hold or 409; a key reused for another
request is refused."""

from __future__ import annotations

import json

import pytest

from scheduling.models import Appointment, SlotHold
from tests.conftest import NEXT_MONDAY
from tests.fhir import FHIR_JSON, fhir_client, issues, parsed, resources
from tests.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db

FIND = "/fhir/r4/Appointment/$find"


@pytest.fixture
def desk(front_desk):
    return fhir_client(front_desk)


def proposals(desk, calendar, patient) -> list[dict]:
    return resources(parsed(desk.get(FIND, {
        "service-type": "ESI_IL", "start": str(NEXT_MONDAY), "end": str(NEXT_MONDAY),
        "practitioner": f"Practitioner/{calendar.okafor.pk}", "patient": f"Patient/{patient.pk}"})), "Appointment")


def operation(client, name: str, proposal: dict, key: str | None = "visit-7f3a"):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "appointment-reference", "valueReference": {"reference": f"Appointment/{proposal['id']}"}}]}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/fhir/r4/Appointment/${name}", json.dumps(body), content_type=FHIR_JSON, **headers)


@pytest.fixture
def proposal(calendar, desk) -> dict:
    patient = calendar.patients[0]
    calendar.order_for(patient)
    return proposals(desk, calendar, patient)[0]


def test_a_retried_book_returns_the_first_answer_and_books_once(calendar, desk, proposal):
    first = operation(desk, "book", proposal)
    retry = operation(desk, "book", proposal)
    assert parsed(first, 201) == parsed(retry, 201)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry["Location"] == first["Location"]
    assert Appointment.objects.count() == 1


def test_without_a_key_a_repeated_book_is_a_conflict(calendar, desk, proposal):
    assert operation(desk, "book", proposal, key=None).status_code == 201
    assert parsed(operation(desk, "book", proposal, key=None), 409)["issue"][0]["code"] == "conflict"


def test_a_retried_hold_returns_the_same_hold(calendar, desk, proposal):
    first = parsed(operation(desk, "hold", proposal))
    retry = operation(desk, "hold", proposal)
    assert parsed(retry) == first and retry["Idempotent-Replayed"] == "true"
    [held] = resources(first, "Appointment")
    assert held["identifier"][0]["value"] == SlotHold.objects.get().key


def test_the_same_key_for_another_request_is_refused(calendar, desk, proposal):
    assert operation(desk, "hold", proposal).status_code == 200
    refused = parsed(operation(desk, "book", proposal), 422)  # the same key, another operation
    assert "already used for a different request" in issues(refused)[0]
    other_time = proposals(desk, calendar, calendar.patients[0])[3]
    assert operation(desk, "hold", other_time).status_code == 422
    assert not Appointment.objects.exists() and SlotHold.objects.count() == 1


def test_a_refused_book_is_not_remembered_so_a_corrected_retry_goes_through(calendar, desk, proposal):
    without_order = calendar.patients[1]
    proposal = dict(proposal, id=proposal["id"].split(".")[0] + f".p{without_order.pk}")
    assert "needs a physician's order" in issues(parsed(operation(desk, "book", proposal), 422))[0]
    calendar.order_for(without_order)
    [booked] = resources(parsed(operation(desk, "book", proposal), 201))
    assert Appointment.objects.get(pk=booked["id"]).patient == without_order


def test_a_malformed_key_is_refused_with_an_operation_outcome(calendar, desk, proposal):
    outcome = parsed(operation(desk, "book", proposal, key="x" * 256), 400)
    assert outcome["issue"][0]["expression"] == ["Idempotency-Key"]
    assert not Appointment.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_a_book_with_one_key_book_once_and_all_get_the_booking(
        postgres, calendar, front_desk):
    patient = calendar.patients[0]
    calendar.order_for(patient)
    proposal = proposals(fhir_client(front_desk), calendar, patient)[0]

    def retry():
        return operation(fhir_client(front_desk), "book", proposal)

    responses = run_concurrently([retry for _ in range(6)])
    assert [getattr(r, "status_code", r) for r in responses] == [201] * 6
    assert len({r["Location"] for r in responses}) == 1
    assert Appointment.objects.count() == 1
