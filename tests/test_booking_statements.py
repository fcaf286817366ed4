"""What one booking through the API costs the database: a small, fixed number of statements,
however full the day is. Runs on SQLite and on PostgreSQL (which adds the lock's statement, and
writes the visit and its history row in one)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clinic.models import BloodThinner
from scheduling import services
from scheduling.models import Appointment, Reminder
from tests.conftest import NEXT_MONDAY, local

pytestmark = pytest.mark.django_db

# The token with its user and their permissions, the patient, the order, the lock
# (PostgreSQL only), the visit's span with the physician's blocks, the patient's visits (the
# order's other bookings and the rules' history), their procedures elsewhere, the appointment
# with its history row (one statement on PostgreSQL, two on SQLite), its reminders, the access
# log. The procedure type, physician, room, rules, reminder plan, webhook endpoints and blood
# thinners come from the catalog held in memory.
API_BOOKING_STATEMENTS = 10


@pytest.fixture
def token_client(front_desk) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=front_desk).key}")
    return client


def _consenting_patient_on_a_blood_thinner(patient):
    patient.email, patient.email_consent = "pat@example.com", True
    patient.save()
    patient.blood_thinners.set([BloodThinner.objects.get(name__iexact="warfarin")])
    return patient


def _fill_the_day(calendar) -> None:
    """Visits of other patients on the booked day, so the day's calendar is not empty."""
    for patient, hour in zip(calendar.patients[5:9], (8, 10, 12, 14)):
        calendar.order_for(patient, procedure_type=calendar.mbb)
        services.appointment_book(patient=patient, procedure_type=calendar.mbb, physician=calendar.okafor,
                                  start=local(NEXT_MONDAY, hour))


def test_one_api_booking_runs_a_small_fixed_number_of_statements(calendar, token_client):
    _fill_the_day(calendar)
    patient = _consenting_patient_on_a_blood_thinner(calendar.patients[0])
    order = calendar.order_for(patient)
    room = calendar.location.rooms.filter(capabilities__code="fluoroscopy").order_by("pk").first()
    payload = {"patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
               "start": local(NEXT_MONDAY, 9).isoformat(), "room": room.pk, "order": order.pk}

    with CaptureQueriesContext(connection) as captured:
        response = token_client.post("/api/v1/appointments/", payload, format="json")

    assert response.status_code == 201, response.json()
    # The test's own transaction makes the booking's a savepoint; a request's is the outermost.
    statements = [query["sql"][:120] for query in captured.captured_queries
                  if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(statements) <= API_BOOKING_STATEMENTS, "\n".join(statements)
    booked = Appointment.objects.get(pk=response.json()["id"])
    # The count covers every write the booking makes: the visit, its history and its reminders.
    assert booked.history.filter(history_type="+").count() == 1
    assert Reminder.objects.filter(appointment=booked, kind="blood_thinner_hold").exists()
    assert response.json()["blood_thinner_holds"][0]["drug"].lower() == "warfarin"


def test_the_answer_to_a_booking_shows_the_visit_as_read_back(calendar, token_client, desk):
    patient = _consenting_patient_on_a_blood_thinner(calendar.patients[0])
    calendar.order_for(patient)
    payload = {"patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
               "start": local(NEXT_MONDAY, 9).isoformat()}

    answer = token_client.post("/api/v1/appointments/", payload, format="json").json()

    assert answer == desk.get(f"/api/v1/appointments/{answer['id']}/").json()



@pytest.mark.skipif(not connection.settings_dict.get("OPTIONS", {}).get("prepare_threshold"),
                    reason="DATABASE_PREPARED_STATEMENTS is off")
@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_a_kept_connection_runs_the_bookings_statements_prepared(calendar, token_client):
    """From a statement's sixth run on a connection, PostgreSQL runs it prepared: parsed and
    planned once (DATABASE_PREPARED_STATEMENTS, on by default)."""
    starts = [local(NEXT_MONDAY, 7, 30) + dt.timedelta(hours=hour) for hour in range(8)]  # Dr. Okafor's block
    for start, patient in zip(starts, calendar.patients[:len(starts)], strict=True):
        calendar.order_for(patient)
        payload = {"patient": patient.pk, "procedure_type": "ESI_IL", "physician": calendar.okafor.pk,
                   "start": start.isoformat()}
        assert token_client.post("/api/v1/appointments/", payload, format="json").status_code == 201

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        prepared = cursor.fetchall()

    def runs(*words: str, plans: str = "both") -> int:
        counts = {"generic": lambda generic, custom: generic, "custom": lambda generic, custom: custom,
                  "both": lambda generic, custom: generic + custom}[plans]
        return max((counts(generic, custom) for sql, generic, custom in prepared
                    if all(word in sql for word in words)), default=0)

    # The visit's span against its neighbours', the visit's insert and its reminders', each run
    # without being parsed and planned again (a statement is told apart by its parameters'
    # types too: an id past 32767 travels as a larger integer, and starts its count again).
    assert runs("tstzrange", "scheduling_appointment") >= 1, prepared
    assert runs('INSERT INTO "scheduling_appointment"') >= 1, prepared
    assert runs('INSERT INTO "scheduling_reminder"') >= 1, prepared
    # ... and planned once: the booking's transaction runs its prepared statements on their
    # generic plan (scheduling/locks.py), which PostgreSQL would not choose for the span.
    assert runs("tstzrange", "scheduling_appointment", plans="generic") >= 1, prepared
    assert runs("tstzrange", "scheduling_appointment", plans="custom") == 0, prepared
