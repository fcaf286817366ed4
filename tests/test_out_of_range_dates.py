"""Dates beyond 2000-01-01 .. 2100-12-31 are a 400 saying so, in the REST API and FHIR alike (one
rule, scheduling/calendar_range.py), never the OverflowError of a window around 9999-12-31."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.conftest import NEXT_MONDAY
from tests.fhir import fhir_client, issues, parsed, post_parameters

pytestmark = pytest.mark.django_db

SAYS = "Give a date between 2000-01-01 and 2100-12-31."


@pytest.mark.parametrize("url", [
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge9999-12-31",
    "/fhir/r4/Slot?service-type=ESI_IL&start=ge0001-01-01&start=le0001-01-05",
    "/fhir/r4/Slot?service-type=ESI_IL&start=gt9999-12-31T23:59:59%2B00:00",
    "/fhir/r4/Appointment?date=9999-12-31",
    "/fhir/r4/Appointment?date=lt0001-01-01",
    "/fhir/r4/Appointment/$find?service-type=ESI_IL&start=0001-01-01&end=0001-01-02",
    "/fhir/r4/Appointment/$find?service-type=ESI_IL&end=9999-12-31T10:00:00-06:00",
])
def test_a_fhir_date_out_of_range_is_a_400_operation_outcome_saying_the_range(demo_clinic, front_desk, url):
    outcome = parsed(fhir_client(front_desk).get(url), 400)
    assert SAYS in issues(outcome)[0]
    assert outcome["issue"][0]["expression"][0] in ("start", "date", "end")


def test_a_posted_find_out_of_range_is_a_400_too(demo_clinic, front_desk):
    answer = post_parameters(fhir_client(front_desk), "/fhir/r4/Appointment/$find", [
        {"name": "service-type", "valueString": "ESI_IL"}, {"name": "start", "valueDate": "9999-12-31"}])
    assert SAYS in issues(parsed(answer, 400))[0]


@pytest.fixture
def api(front_desk) -> APIClient:
    client = APIClient()
    client.force_authenticate(front_desk)
    return client


@pytest.mark.parametrize("url", [
    "/api/v1/appointments/?date=9999-12-31",
    "/api/v1/appointments/?date=0001-01-01",
    "/api/v1/availability/?procedure_type=ESI_IL&from=9999-12-31&to=9999-12-31",
    "/api/v1/availability/?procedure_type=ESI_IL&from=0001-01-01&to=0001-01-02",
])
def test_a_rest_date_out_of_range_is_a_400_saying_the_range(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    assert SAYS in json.dumps(response.json())


@pytest.mark.parametrize("start", ["9999-12-31T09:00:00-06:00", "0001-01-01T09:00:00+00:00"])
def test_booking_or_moving_a_visit_to_a_time_out_of_range_is_a_400(api, calendar, front_desk, start):
    from scheduling import services
    from tests.conftest import local

    calendar.order_for(calendar.patients[0])
    booked = services.appointment_book(patient=calendar.patients[0], procedure_type=calendar.esi,
                                       physician=calendar.okafor, start=local(NEXT_MONDAY, 9), by=front_desk)
    for response in (
        api.post("/api/v1/appointments/", {"patient": calendar.patients[1].pk, "procedure_type": "ESI_IL",
                                           "physician": calendar.okafor.pk, "start": start}, format="json"),
        api.post(f"/api/v1/appointments/{booked.pk}/reschedule/", {"start": start}, format="json"),
    ):
        assert response.status_code == 400, response.content[:300]
        assert response.json()["errors"]["start"] == [SAYS]


def test_dates_within_the_range_still_search(api, demo_clinic, front_desk):
    assert api.get(f"/api/v1/appointments/?date={NEXT_MONDAY}").status_code == 200
    bundle = parsed(fhir_client(front_desk).get(
        "/fhir/r4/Slot?service-type=ESI_IL&start=ge2100-12-31&start=le2100-12-31"))
    assert bundle["total"] == 0


@pytest.mark.parametrize("url", [
    "/api/v1/availability/?procedure_type=ESI_IL&from=2026-02-30&to=2026-03-01",
    "/api/v1/appointments/?date=2026-02-30",
])
def test_a_day_no_calendar_has_is_said_so_not_called_a_wrong_format(api, url):
    response = api.get(url)
    assert response.status_code == 400, response.content[:300]
    assert "2026-02-30 is written as a date, but there is no such day." in json.dumps(response.json())


def test_booking_on_a_day_no_calendar_has_is_said_so(api, calendar):
    response = api.post("/api/v1/appointments/", {"patient": calendar.patients[1].pk, "procedure_type": "ESI_IL",
                                                  "physician": calendar.okafor.pk,
                                                  "start": "2026-02-30T09:00:00-06:00"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["start"] == ["2026-02-30 is written as a date, but there is no such day."]
