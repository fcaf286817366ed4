"""/health/ answers a load balancer: 200 when all is well, 503 naming the check that failed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from clinic import health
from scheduling.models import Reminder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _embedded_broker(settings, tmp_path):
    """The broker `make run` uses (folders under var/), unless a test names another."""
    queue, control = tmp_path / "broker" / "queue", tmp_path / "broker" / "control"
    queue.mkdir(parents=True)
    control.mkdir(parents=True)
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(queue), "data_folder_out": str(queue), "control_folder": str(control)}
    return queue


@pytest.fixture
def due_reminder(calendar):
    """A link to book an ordered procedure, not sent yet."""
    def make(*, waited: dt.timedelta, status: str = "pending") -> Reminder:
        order = calendar.order_for(calendar.patients[0])
        due = timezone.now() - waited
        return Reminder.objects.create(order=order, kind="order_booking_link", channel="sms", due_at=due,
                                       next_attempt_at=due, status=status, idempotency_key=f"health:{waited}")
    return make


def test_all_well_is_200_with_every_check_named_and_needs_no_login(client, demo_clinic):
    response = client.get("/health/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {"status": "ok", "checks": {"database": "OK", "migrations": "OK", "cache": "OK", "broker": "OK",
                                               "reminder_outbox": "OK"}}
    assert "no-cache" in response["Cache-Control"]


def test_plain_text_is_one_line_a_check(client, demo_clinic):
    response = client.get("/health/", HTTP_ACCEPT="text/plain")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "reminder_outbox: OK\n" in response.content.decode()


def test_a_reminder_waiting_past_the_limit_makes_it_503_naming_the_outbox(client, settings, due_reminder):
    settings.HEALTH_OUTBOX_MAX_LAG_SECONDS = 600
    due_reminder(waited=dt.timedelta(minutes=11))
    response = client.get("/health/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert "has waited 660 s (limit 600 s)" in checks["reminder_outbox"]
    assert checks["database"] == "OK"


def test_a_reminder_held_by_a_stuck_dispatch_run_counts_too(client, settings, due_reminder):
    settings.HEALTH_OUTBOX_MAX_LAG_SECONDS = 600
    due_reminder(waited=dt.timedelta(minutes=30), status="sending")
    assert client.get("/health/").status_code == 503


def test_a_reminder_due_a_little_while_ago_is_still_healthy(client, settings, due_reminder):
    settings.HEALTH_OUTBOX_MAX_LAG_SECONDS = 600
    due_reminder(waited=dt.timedelta(minutes=9))
    due_reminder(waited=dt.timedelta(days=2), status="sent")
    assert client.get("/health/").status_code == 200


def test_the_503_names_no_patient(client, settings, due_reminder):
    reminder = due_reminder(waited=dt.timedelta(hours=2))
    patient = reminder.order.patient
    text = client.get("/health/?format=text").content.decode()
    assert "reminder_outbox: Unavailable" in text
    for detail in (patient.first_name, patient.last_name, str(patient.phone), reminder.idempotency_key):
        assert detail not in text


def test_an_unapplied_migration_makes_it_503(client, demo_clinic, monkeypatch):
    monkeypatch.setattr(health, "_all_migrations_applied", False)
    latest = MigrationRecorder(connection).applied_migrations()
    app, name = max(key for key in latest if key[0] == "scheduling")
    MigrationRecorder(connection).record_unapplied(app, name)  # rolled back with the test
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == f"Unavailable: 1 migration(s) not applied, e.g. {app}.{name}"


def test_an_unreachable_redis_broker_makes_it_503(client, demo_clinic, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("Unavailable: broker unreachable")


def test_a_reachable_redis_broker_is_ok(client, demo_clinic, settings, redis_url):
    settings.CELERY_BROKER_URL = redis_url
    assert client.get("/health/").json()["checks"]["broker"] == "OK"


def test_the_embedded_broker_without_its_folder_makes_it_503(client, demo_clinic, _embedded_broker):
    _embedded_broker.rmdir()
    response = client.get("/health/")
    assert response.status_code == 503
    assert "embedded broker" in response.json()["checks"]["broker"]


def test_it_is_answered_over_plain_http_in_production(client, demo_clinic, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/health/").status_code == 200
    assert client.get("/book/").status_code == 301  # the rest of the site still goes to https


def test_a_check_that_breaks_unexpectedly_is_a_503_that_tells_nothing_of_the_error(client, demo_clinic, monkeypatch):
    def broken(self):
        raise RuntimeError("Jane Doe +19185550111")

    monkeypatch.setattr(health.ReminderOutbox, "check", broken)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["reminder_outbox"] == "Unknown Error: unknown error"
    assert b"Jane" not in response.content and b"5550111" not in response.content


@pytest.mark.django_db
def test_a_post_is_405_not_the_forms_csrf_page():
    response = Client(enforce_csrf_checks=True).post("/health/")
    assert response.status_code == 405 and "security check" not in response.content.decode()
