"""Rules the code states once: the upcoming statuses beside the model, the choice between a text
held for quiet hours and an email now, and what an Idempotency-Key may be."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from clinic.models import Channel, Patient
from scheduling.api.idempotency import PARAMETER
from scheduling.models import (
    BOOKED_STATUSES,
    IDEMPOTENCY_KEY_MAX_LENGTH,
    AppointmentStatus,
    IdempotentRequest,
)
from scheduling.reminders.outbox import channel_now

SOURCE = Path(__file__).resolve().parent.parent / "scheduling"
CHICAGO = ZoneInfo("America/Chicago")


def test_the_upcoming_statuses_are_spelled_out_only_beside_the_model():
    spelled = re.compile(r"AppointmentStatus\.SCHEDULED,\s*AppointmentStatus\.CONFIRMED\s*[,)\]]")
    found = [str(path.relative_to(SOURCE)) for path in SOURCE.rglob("*.py")
             if "migrations" not in path.parts and path != SOURCE / "models" / "appointments.py"
             and spelled.search(path.read_text())]
    assert found == []
    assert BOOKED_STATUSES == [AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED]


def texting_patient(**details) -> Patient:
    return Patient(**{"first_name": "Ada", "last_name": "Quill", "date_of_birth": dt.date(1960, 1, 1),
                      "phone": "+19185550142", "sms_consent": True, "preferred_channel": Channel.SMS, **details})


def test_a_message_due_in_quiet_hours_goes_by_email_now_when_the_patient_takes_email():
    late = dt.datetime(2026, 11, 24, 22, 30, tzinfo=CHICAGO)
    patient = texting_patient(email="ada@example.com", email_consent=True)
    assert channel_now(patient, zone=CHICAGO, now=late, deadline=late + dt.timedelta(days=1)) == (Channel.EMAIL, late)


def test_a_text_due_in_quiet_hours_waits_for_the_morning_without_email():
    late = dt.datetime(2026, 11, 24, 22, 30, tzinfo=CHICAGO)
    channel, due = channel_now(texting_patient(), zone=CHICAGO, now=late, deadline=late + dt.timedelta(days=1))
    assert channel == Channel.SMS and due == dt.datetime(2026, 11, 25, 8, 0, tzinfo=CHICAGO)


def test_a_text_outside_quiet_hours_goes_now_and_without_consent_nothing_goes():
    noon = dt.datetime(2026, 11, 24, 12, 0, tzinfo=CHICAGO)
    assert channel_now(texting_patient(), zone=CHICAGO, now=noon, deadline=noon) == (Channel.SMS, noon)
    assert channel_now(texting_patient(sms_consent=False), zone=CHICAGO, now=noon, deadline=noon) is None


def test_the_idempotency_key_schema_the_check_and_the_column_agree():
    schema = PARAMETER.type
    assert schema["maxLength"] == IDEMPOTENCY_KEY_MAX_LENGTH == IdempotentRequest._meta.get_field("key").max_length
    assert f"1 to {IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII" in PARAMETER.description


@pytest.mark.django_db
@pytest.mark.parametrize("key, accepted", [("k" * IDEMPOTENCY_KEY_MAX_LENGTH, True),
                                           ("k" * (IDEMPOTENCY_KEY_MAX_LENGTH + 1), False),
                                           ("two words", False), ("tab\tin", False)])
def test_an_idempotency_key_is_accepted_only_in_the_documented_format(front_desk, calendar, key, accepted):
    client = APIClient()
    client.force_authenticate(front_desk)
    response = client.post("/api/v1/appointments/", {
        "patient": calendar.patients[0].pk, "procedure_type": "CONSULT_NEW", "physician": calendar.reyes.pk,
        "start": "2026-12-01T09:00:00-06:00"}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (response.status_code != 400 or "Idempotency-Key" not in response.json().get("errors", {})) == accepted


def test_every_service_names_the_acting_user_by():
    import ast
    other_names = {"booked_by", "user", "actor", "acting_user", "cancelled_by", "recorded_by", "changed_by"}
    found = []
    for path in sorted((SOURCE / "services").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                found += [f"{node.name}({arg.arg})" for arg in node.args.kwonlyargs if arg.arg in other_names]
    assert found == []
