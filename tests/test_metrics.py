"""/metrics: Prometheus figures, protected outside development, right with several processes."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from clinic.models import Patient
from scheduling import services
from scheduling.errors import NotEligible, SlotUnavailable
from scheduling.reminders.dispatch import dispatch_due
from tests.conftest import NEXT_MONDAY, NOW, local

TOKEN = "metrics-token-for-tests-only-0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = TOKEN


def test_without_debug_and_without_a_token_setting_it_is_not_there(client, settings, db):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_without_debug_it_is_refused_without_the_token(client, production, db):
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert b"interval_" not in refused.content
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401


def test_with_the_token_it_answers_prometheus_text(client, production, db):
    client.get("/health/")
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    # Requests by view and status.
    assert 'django_http_responses_total_by_status_view_method_total{method="GET",status=' in text
    assert 'view="health"' in text
    assert "# TYPE interval_bookings_total counter" in text


def test_while_debug_is_on_it_is_open(client, settings, db):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


def test_each_booking_is_counted_once_by_its_outcome(calendar, django_capture_on_commit_callbacks):
    patient = Patient.objects.order_by("pk")[3]
    patient.blood_thinners.clear()
    calendar.order_for(patient, calendar.esi)
    before = {outcome: sample("interval_bookings_total", outcome=outcome)
              for outcome in ("booked", "slot_unavailable", "not_eligible")}
    start = local(NEXT_MONDAY, 9)
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                  start=start)
    with pytest.raises(SlotUnavailable):
        services.appointment_book(patient=calendar.patients[4], procedure_type=calendar.consult,
                                  physician=calendar.okafor, start=start)
    with pytest.raises(NotEligible):  # an ESI without an order
        services.appointment_book(patient=calendar.patients[5], procedure_type=calendar.esi,
                                  physician=calendar.okafor, start=local(NEXT_MONDAY, 13))
    after = {outcome: sample("interval_bookings_total", outcome=outcome) for outcome in before}
    assert {outcome: after[outcome] - before[outcome] for outcome in before} == {
        "booked": 1, "slot_unavailable": 1, "not_eligible": 1}


def test_a_booking_rolled_back_with_its_callers_transaction_is_not_counted(calendar,
                                                                          django_capture_on_commit_callbacks):
    patient = Patient.objects.order_by("pk")[3]
    patient.blood_thinners.clear()
    calendar.order_for(patient, calendar.esi)
    before = sample("interval_bookings_total", outcome="booked")

    class Undone(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Undone):
        with transaction.atomic():
            services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                      start=local(NEXT_MONDAY, 9))
            raise Undone
    assert callbacks == [] and not patient.appointments.exists()
    assert sample("interval_bookings_total", outcome="booked") == before


@pytest.fixture
def confirmation_due(calendar):
    """A booking confirmation by text, due at NOW."""
    patient = Patient.objects.filter(preferred_channel="sms").order_by("pk").first()
    patient.blood_thinners.clear()
    calendar.order_for(patient, calendar.esi)
    appointment = services.appointment_book(patient=patient, procedure_type=calendar.esi,
                                            physician=calendar.okafor, start=local(NEXT_MONDAY, 9))
    appointment.reminders.exclude(kind="booking_confirmation").delete()
    return appointment.reminders.get()


def test_a_sent_reminder_is_observed_from_its_due_time(confirmation_due, settings):
    settings.SMS_TRANSPORT = "memory"
    count = sample("interval_reminder_lag_seconds_count")
    total = sample("interval_reminder_lag_seconds_sum")
    late = sample("interval_reminder_lag_seconds_bucket", le="60.0")
    assert confirmation_due.due_at == NOW
    assert dispatch_due(now=NOW + dt.timedelta(seconds=90)) == 1
    assert sample("interval_reminder_lag_seconds_count") == count + 1
    assert sample("interval_reminder_lag_seconds_sum") == pytest.approx(total + 90)
    assert sample("interval_reminder_lag_seconds_bucket", le="60.0") == late  # 90 s is past the 60 s bucket


def test_a_failed_send_is_counted_by_transport(confirmation_due, settings):
    settings.SMS_TRANSPORT = "http"
    settings.SMS_HTTP_URL = "http://127.0.0.1:1/messages"  # nothing listens: the provider is unreachable
    settings.SMS_FROM = "+19185550100"
    failures = sample("interval_reminder_dispatch_failures_total", transport="sms_http")
    sent = sample("interval_reminder_lag_seconds_count")
    assert dispatch_due(now=NOW) == 0
    assert sample("interval_reminder_dispatch_failures_total", transport="sms_http") == failures + 1
    assert sample("interval_reminder_lag_seconds_count") == sent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_gunicorn_workers_report_one_total(tmp_path):
    """Requests answered by either worker all show in the figures whichever worker is scraped."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = _free_port()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "DEBUG": "1",
           "INTERVAL_VAR_DIR": str(tmp_path / "var"), "GUNICORN_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "2", "DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'db.sqlite3'}"}
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:clinic.gunicorn_conf", "clinic.wsgi"],
                              cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/metrics", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError((tmp_path / "gunicorn.log").read_text()[-3000:])
                time.sleep(0.2)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(NoRedirect)

        def favicon(_) -> int:
            try:
                return opener.open(f"{base}/favicon.ico", timeout=10).status
            except urllib.error.HTTPError as answer:
                return answer.code

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(favicon, range(60)))
        assert statuses == [301] * 60
        pids = {path.stem.rsplit("_", 1)[-1] for path in metrics_dir.glob("counter_*.db")}
        assert len(pids) == 2, pids  # both workers answered some

        def redirects_counted() -> float:
            text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
            return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                       if line.startswith("django_http_responses_total_by_status_view_method_total{")
                       and 'status="301"' in line)

        assert [redirects_counted() for _ in range(6)] == [60.0] * 6
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
        log.close()
