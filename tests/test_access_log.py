"""Who saw which patient: every staff view of a patient's record or visit is logged, the log is
append-only, and the clinic manager can read and filter it."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from clinic.access_log import record_access
from clinic.models import AppendOnly, Patient, PatientAccess
from tests.conftest import api_as
from tests.test_api import book_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(calendar, front_desk) -> dict:
    calendar.order_for(calendar.patients[0])
    response = api_as(front_desk).post("/api/v1/appointments/", book_payload(calendar), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def signed_in(user) -> Client:
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.force_login(user)
    return client


def test_an_admin_patient_page_logs_who_saw_the_patient_from_where(calendar, front_desk):
    patient = calendar.patients[0]
    response = signed_in(front_desk).get(f"/admin/clinic/patient/{patient.pk}/change/", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    (entry,) = PatientAccess.objects.all()
    assert (entry.user, entry.username, entry.patient, entry.address) == (front_desk, front_desk.username, patient,
                                                                         "203.0.113.9")
    assert entry.what == f"GET /admin/clinic/patient/{patient.pk}/change/"


def test_an_admin_visit_page_logs_the_visits_patient(calendar, front_desk, booked):
    page = f"/admin/scheduling/appointment/{booked['id']}/change/"
    assert signed_in(front_desk).get(page).status_code == 200
    assert list(PatientAccess.objects.filter(what=f"GET {page}").values_list("patient_id", flat=True)) == [
        booked["patient"]]


def test_an_admin_order_page_logs_the_orders_patient(calendar, physician_user):
    order = calendar.order_for(calendar.patients[2])
    assert signed_in(physician_user).get(f"/admin/scheduling/procedureorder/{order.pk}/change/").status_code == 200
    assert list(PatientAccess.objects.values_list("patient_id", flat=True)) == [calendar.patients[2].pk]


def test_a_booking_answer_is_logged_too(calendar, booked):
    assert PatientAccess.objects.get().what == "POST /api/v1/appointments/"


def test_the_api_logs_a_visit_read_and_a_list_one_row_per_patient(calendar, front_desk, booked):
    client = api_as(front_desk)
    before = PatientAccess.objects.count()
    client.get(f"/api/v1/appointments/{booked['id']}/")
    client.get("/api/v1/patients/")
    rows = PatientAccess.objects.order_by("pk")[before:]
    assert rows[0].what == f"GET /api/v1/appointments/{booked['id']}/"
    listed = [row for row in rows if row.what == "GET /api/v1/patients/"]
    assert len(listed) == min(Patient.objects.count(), 50)
    assert len({row.patient_id for row in listed}) == len(listed)


def test_a_list_is_logged_in_one_insert(calendar, front_desk):
    client = api_as(front_desk)
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/patients/")
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT INTO \"clinic_patientaccess\"")]
    assert len(inserts) == 1


def test_a_refused_request_logs_nothing(calendar, nurse, front_desk):
    api_as(front_desk).get("/api/v1/appointments/999999/")
    assert not PatientAccess.objects.exists()


def test_reads_without_patient_data_log_nothing(calendar, front_desk):
    api_as(front_desk).get("/api/v1/locations/")
    api_as(front_desk).get("/api/v1/procedure-types/")
    assert not PatientAccess.objects.exists()


def test_an_entry_cannot_be_changed_or_deleted(calendar, front_desk, rf):
    request = rf.get("/export/")
    request.user = front_desk
    record_access(request, [calendar.patients[0], calendar.patients[0].pk, calendar.patients[1]], "export")
    assert PatientAccess.objects.count() == 2  # one row per patient
    entry = PatientAccess.objects.first()
    entry.what = "something else"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()


@pytest.mark.postgres
def test_the_database_refuses_to_change_the_log(postgres, calendar, front_desk, rf):
    request = rf.get("/export/")
    request.user = front_desk
    record_access(request, [calendar.patients[0]], "export")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PatientAccess.objects.update(what="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        PatientAccess.objects.all().delete()


def test_the_manager_reads_and_filters_the_log_but_cannot_add_change_or_delete(calendar, manager, front_desk):
    signed_in(front_desk).get(f"/admin/clinic/patient/{calendar.patients[0].pk}/change/")
    client = signed_in(manager)
    listing = client.get("/admin/clinic/patientaccess/", {"user__id__exact": front_desk.pk})
    assert listing.status_code == 200
    assert front_desk.username in listing.content.decode()
    other = calendar.patients[5]
    assert client.get("/admin/clinic/patientaccess/", {"patient": other.pk}).context["cl"].result_count == 0
    assert client.get("/admin/clinic/patientaccess/",
                      {"patient": calendar.patients[0].pk}).context["cl"].result_count == 1
    entry = PatientAccess.objects.get()
    assert client.get(f"/admin/clinic/patientaccess/{entry.pk}/change/").status_code == 200  # a read-only view
    assert client.post(f"/admin/clinic/patientaccess/{entry.pk}/change/", {"what": "x"}).status_code == 403
    assert client.get("/admin/clinic/patientaccess/add/").status_code == 403
    assert client.post(f"/admin/clinic/patientaccess/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PatientAccess.objects.get().what == entry.what


def test_other_roles_cannot_read_the_log(calendar, front_desk, nurse, physician_user):
    for user in (front_desk, nurse, physician_user):
        assert signed_in(user).get("/admin/clinic/patientaccess/").status_code == 403
