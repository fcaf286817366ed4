"""The longest input the API accepts is stored, never a 500 (found by the schemathesis run on
PostgreSQL, which refuses an overlong value where SQLite keeps it)."""

from __future__ import annotations

import pytest

from scheduling.models import Appointment
from tests.conftest import api_as
from tests.test_api import book_payload

pytestmark = pytest.mark.django_db


def test_a_cancel_reason_of_the_longest_allowed_length_cancels_the_visit(postgres, calendar, front_desk):
    calendar.order_for(calendar.patients[0])
    client = api_as(front_desk)
    booked = client.post("/api/v1/appointments/", book_payload(calendar), format="json").json()
    reason = "Patient moving out of state; " * 10 + "x" * 10  # 300 characters, the documented maximum
    assert len(reason) == 300
    response = client.post(f"/api/v1/appointments/{booked['id']}/cancel/", {"reason": reason}, format="json")
    assert response.status_code == 200, response.content[:200]
    appointment = Appointment.objects.get(pk=booked["id"])
    assert appointment.cancel_reason == reason.strip()
    assert appointment.history.first().history_change_reason.startswith("Cancelled: Patient moving out")
