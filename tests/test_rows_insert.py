"""New rows written out (`clinic.rows.insert`) are the rows `bulk_create` writes: every field's
value as read back, the primary key set on the instance; the booking's history row is the one
simple-history's `bulk_history_create` writes. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic import rows
from clinic.models import Patient, PatientAccess
from scheduling.models import Appointment, AppointmentStatus, ProcedureOrder, Reminder
from scheduling.services.booking import _history
from tests.test_demo_activity import _seeded, activity  # noqa: F401  (the demo's visits, seeded once here)
from tests.test_rows import values

pytestmark = pytest.mark.django_db


def read_back(instance) -> dict:
    found = values(type(instance).objects.get(pk=instance.pk))
    del found[instance._meta.pk.attname]
    return found


def pair(instance):
    """Two new copies of `instance`: one to write with bulk_create, one with insert."""
    fields = {field.attname: getattr(instance, field.attname) for field in instance._meta.concrete_fields
              if not field.primary_key}
    return type(instance)(**fields), type(instance)(**fields)


def test_a_visit_is_written_as_bulk_create_writes_it(activity):
    visit = Appointment.objects.exclude(notes="").exclude(follow_up_of=None).first() or Appointment.objects.first()
    visit.status = AppointmentStatus.CANCELLED  # copies of a booked visit would overlap it
    by_orm, written = pair(visit)
    Appointment.objects.bulk_create([by_orm])
    assert rows.insert([written]) == [written]
    assert written.pk and written.pk != by_orm.pk and not written._state.adding and written._state.db == "default"
    assert read_back(written) == read_back(by_orm)


def test_reminders_with_their_context_are_written_as_bulk_create_writes_them(activity):
    visit = Appointment.objects.first()
    due = visit.procedure_start - dt.timedelta(days=1)

    def reminders(tag: str) -> list[Reminder]:
        return [Reminder(appointment=visit, kind="arrival", channel=channel, due_at=due, next_attempt_at=due,
                         context={"drug": "warfarin", "last_dose": "2026-11-27", "doses": [1, 2.5, None]},
                         idempotency_key=f"{tag}:{index}")
                for index, channel in enumerate(["sms", "email", "sms"])]

    by_orm, written = Reminder.objects.bulk_create(reminders("orm")), rows.insert(reminders("rows"))
    assert len({reminder.pk for reminder in by_orm + written}) == 6
    for expected, found in zip(by_orm, written):
        expected_values, found_values = read_back(expected), read_back(found)
        assert expected_values.pop("idempotency_key") != found_values.pop("idempotency_key")
        assert found_values == expected_values


def test_access_rows_are_written_in_batches_all_or_none(activity, front_desk):
    patient_ids = list(Patient.objects.values_list("pk", flat=True))
    count = rows.INSERT_BATCH * 2 + 7
    written = rows.insert([PatientAccess(user=front_desk, username="desk", patient_id=patient_ids[index % len(
        patient_ids)], address="2001:db8::1", what=f"GET /{index}") for index in range(count)])
    assert len({row.pk for row in written}) == count
    assert PatientAccess.objects.filter(address="2001:db8::1").count() == count
    by_orm = PatientAccess.objects.bulk_create([PatientAccess(user=front_desk, username="desk",
                                                              patient_id=patient_ids[0], address="2001:db8::1",
                                                              what="GET /0")])
    assert read_back(by_orm[0]) == read_back(written[0])

    before = PatientAccess.objects.count()
    broken = [PatientAccess(user=front_desk, username="desk", patient_id=patient_ids[0], what="GET /")
              for _ in range(rows.INSERT_BATCH + 1)]
    broken[-1].username = None  # NOT NULL: the last batch fails, and the first is undone with it
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.insert(broken)
    assert PatientAccess.objects.count() == before


def test_written_rows_and_mixed_models_are_refused(activity, front_desk):
    visit = Appointment.objects.first()
    with pytest.raises(ValueError, match="written already"):
        rows.insert([visit])
    with pytest.raises(TypeError, match="one model"):
        rows.insert([PatientAccess(user=front_desk, username="desk", what="x"),
                     Reminder(appointment=visit, kind="arrival", channel="sms", due_at=visit.procedure_start,
                              next_attempt_at=visit.procedure_start, idempotency_key="x")])
    assert rows.insert([]) == []


def test_a_bookings_history_row_is_the_one_simple_history_writes(activity, front_desk):
    """A new visit and its history row, one statement on PostgreSQL: the history row equals the
    one simple-history's `bulk_history_create` writes for an equal visit, but for the visit's id."""
    visit = Appointment.objects.exclude(notes="").first() or Appointment.objects.first()
    visit.status = AppointmentStatus.CANCELLED  # copies of a booked visit would overlap it
    by_orm, written = pair(visit)
    Appointment.objects.bulk_create([by_orm])
    by_history = Appointment.history.bulk_history_create([by_orm], default_user=front_desk,
                                                         default_change_reason="Booked by the desk")
    history = _history(written, by=front_desk, reason="Booked by the desk")
    with CaptureQueriesContext(connection) as captured:
        assert rows.insert_with_history(written, Appointment.history.model, **history) is written
    assert len(captured) == (1 if connection.vendor == "postgresql" else 2)
    assert written.pk and written.pk != by_orm.pk and not written._state.adding
    assert read_back(written) == read_back(by_orm)
    expected, found = (values(Appointment.history.model.objects.get(history_id=row.history_id))
                       for row in (by_history[0], Appointment.history.get(id=written.pk)))
    assert found.pop("id") == (int, repr(written.pk)) and expected.pop("id") == (int, repr(by_orm.pk))
    for name in ("history_id", "history_date", "created_at", "updated_at"):
        assert found.pop(name)[0] is expected.pop(name)[0]
    assert found == expected
    assert Appointment.history.get(id=written.pk).history_user_id == front_desk.pk


def test_several_rows_of_every_kind_of_value_are_written_as_bulk_create_writes_them(activity):
    """Several rows go to PostgreSQL as one JSON array: dates, times of day, UUIDs, nested JSON,
    text beyond ASCII and empty values read back as bulk_create writes them."""
    visit = Appointment.objects.first()
    orders = list(ProcedureOrder.objects.order_by("pk")[:2])
    for order in orders:
        order.imaging_date, order.authorization_valid_until = dt.date(2026, 10, 1), None
        order.notes = "Patientin: «Schmerz» 7/10 \\ \"links\" ✓"

    def reminders(tag: str) -> list[Reminder]:
        due = visit.procedure_start - dt.timedelta(days=1, microseconds=1)
        return [Reminder(appointment=visit, kind="arrival", channel="sms", due_at=due, next_attempt_at=due,
                         claim_token=uuid.UUID(int=index + 1), context={"nested": {"list": [index, "ü"]}},
                         idempotency_key=f"{tag}:{index}") for index in range(2)]

    for model, made in ((ProcedureOrder, lambda tag: [pair(order)[0] for order in orders]), (Reminder, reminders)):
        by_orm = model.objects.bulk_create(made("orm"))
        with CaptureQueriesContext(connection) as captured:
            written = rows.insert(made("rows"))
        assert ("json_populate_recordset" in captured[-1]["sql"]) == (connection.vendor == "postgresql")
        for expected, found in zip(by_orm, written):
            expected_values, found_values = read_back(expected), read_back(found)
            expected_values.pop("idempotency_key", None), found_values.pop("idempotency_key", None)
            assert found_values == expected_values


def test_values_without_an_exact_json_form_send_their_rows_by_column(activity, front_desk, monkeypatch):
    assert rows._rows_json([PatientAccess._meta.get_field("what")], [[float("nan")]]) is None
    assert rows._rows_json([PatientAccess._meta.get_field("what")], [[b"\x00"], [dt.timedelta(1)]]) is None
    monkeypatch.setattr(rows, "_rows_json", lambda fields, values: None)  # as for such a value
    patient = Patient.objects.first()
    made = [PatientAccess(user=front_desk, username="desk", patient=patient, address="192.0.2.7",
                          what=f"GET /{index}") for index in range(3)]
    written, by_orm = rows.insert(made), PatientAccess.objects.bulk_create(
        [PatientAccess(user=front_desk, username="desk", patient=patient, address="192.0.2.7", what="GET /0")])
    assert [row.what for row in PatientAccess.objects.filter(pk__in=[row.pk for row in written]).order_by("pk")] == [
        "GET /0", "GET /1", "GET /2"]
    assert read_back(written[0]) == read_back(by_orm[0])
