"""SQL statements per request, as ordinary tests: a booking, an availability search.

The benchmark (bench/) prints the same counts at its large clinic; these keep them from
growing unnoticed. One booking's own count is pinned in tests/test_booking_statements.py, the
day board's in tests/test_board.py. The ceilings are today's counts: lower one when a change
makes the request cheaper.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

AVAILABILITY_CEILING = 11


def booking_statements(calendar, desk, patient, start: dt.datetime) -> int:
    calendar.order_for(patient)
    payload = {"patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
               "start": start.isoformat()}
    with CaptureQueriesContext(connection) as captured:
        response = desk.post("/api/v1/appointments/", payload, format="json")
    assert response.status_code == 201, response.json()
    return len(captured)


def test_a_bookings_statements_do_not_grow_with_the_day_it_joins(calendar, desk):
    for patient in calendar.patients:  # a drug to hold adds its reminder's statements: alike patients
        patient.blood_thinners.clear()
    booking_statements(calendar, desk, calendar.patients[9], local(NEXT_MONDAY, 15))  # the token's first use
    first = booking_statements(calendar, desk, calendar.patients[0], local(NEXT_MONDAY, 8))
    for index, hour in enumerate(range(9, 14), start=1):
        booking_statements(calendar, desk, calendar.patients[index], local(NEXT_MONDAY, hour))
    assert booking_statements(calendar, desk, calendar.patients[6], local(NEXT_MONDAY, 14)) == first


def test_an_availability_search_through_the_api_stays_within_its_statements(calendar, desk):
    query = {"procedure_type": "ESI_IL", "from": NEXT_MONDAY.isoformat(),
             "to": (NEXT_MONDAY + dt.timedelta(days=29)).isoformat()}
    desk.get("/api/v1/availability/", query)
    with CaptureQueriesContext(connection) as captured:
        response = desk.get("/api/v1/availability/", query)
    assert response.status_code == 200 and response.json()["count"] > 0
    assert len(captured) <= AVAILABILITY_CEILING
