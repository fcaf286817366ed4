"""`Idempotency-Key` on POST bookings and orders: a retry gets the first answer, never a second
booking or a 409; a key reused for another request is refused."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, IdempotentRequest, ProcedureOrder
from tests.conftest import NEXT_MONDAY, NOW, local
from tests.conftest import api_as
from tests.test_api import book_payload
from tests.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def book(client: APIClient, payload: dict, key: str | None = "visit-7f3a"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/appointments/", payload, format="json", **headers)


def test_a_retried_booking_returns_the_first_answer_and_books_once(calendar, desk):
    calendar.order_for(calendar.patients[0])
    first = book(desk, book_payload(calendar))
    retry = book(desk, book_payload(calendar))
    assert first.status_code == 201, first.json()
    assert retry.status_code == 201, retry.json()
    assert retry.json() == first.json()
    assert retry.content == first.content  # the very body, its keys in their order
    assert retry["Idempotent-Replayed"] == "true"
    assert Appointment.objects.count() == 1


def test_without_a_key_a_repeated_booking_is_a_conflict(calendar, desk):
    calendar.order_for(calendar.patients[0])
    assert book(desk, book_payload(calendar), key=None).status_code == 201
    assert book(desk, book_payload(calendar), key=None).status_code == 409


def test_the_same_key_with_a_different_body_is_refused(calendar, desk):
    calendar.order_for(calendar.patients[0])
    assert book(desk, book_payload(calendar)).status_code == 201
    other = book(desk, book_payload(calendar, start=local(NEXT_MONDAY, 11)))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1


def test_a_refused_booking_is_not_remembered_so_a_corrected_retry_goes_through(calendar, desk):
    refused = book(desk, book_payload(calendar))  # no order yet
    assert refused.status_code == 400 and refused.json()["code"] == "not_eligible"
    calendar.order_for(calendar.patients[0])
    assert book(desk, book_payload(calendar)).status_code == 201
    assert IdempotentRequest.objects.get().status_code == 201


def test_keys_belong_to_one_user(calendar, desk, nurse, manager):
    calendar.order_for(calendar.patients[0])
    calendar.order_for(calendar.patients[1])
    assert book(desk, book_payload(calendar)).status_code == 201
    other_user = api_as(manager)
    response = book(other_user, book_payload(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 11)))
    assert response.status_code == 201
    assert Appointment.objects.count() == 2


def test_a_key_is_forgotten_after_a_day(calendar, desk):
    calendar.order_for(calendar.patients[0])
    assert book(desk, book_payload(calendar)).status_code == 201
    with time_machine.travel(NOW + dt.timedelta(hours=25), tick=False):
        again = book(desk, book_payload(calendar))
    assert again.status_code == 409  # a new request: the visit is already booked
    assert again.json()["code"] == "slot_unavailable"


def test_a_malformed_key_is_refused_with_a_clear_error(calendar, desk):
    response = book(desk, book_payload(calendar), key="x" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]


def test_a_retried_order_returns_the_first_order(calendar, physician_user):
    client = api_as(physician_user)
    payload = {"patient": calendar.patients[0].pk, "procedure_type": "ESI_IL",
               "ordering_physician": calendar.okafor.pk, "region": "lumbar"}
    first = client.post("/api/v1/orders/", payload, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    retry = client.post("/api/v1/orders/", payload, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert first.status_code == retry.status_code == 201, first.json()
    assert retry.json()["id"] == first.json()["id"]
    assert ProcedureOrder.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_book_once_and_all_get_the_booking(postgres, calendar, front_desk):
    calendar.order_for(calendar.patients[0])
    payload = book_payload(calendar)

    def retry():
        return book(api_as(front_desk), payload)

    responses = run_concurrently([retry for _ in range(8)])
    assert [getattr(r, "status_code", r) for r in responses] == [201] * 8
    assert len({r.json()["id"] for r in responses}) == 1
    assert Appointment.objects.count() == 1
