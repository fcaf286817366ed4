"""A real Celery worker runs Interval's tasks, on Redis and on the embedded broker."""

from __future__ import annotations

import uuid

import pytest
from celery import Celery

from tests.worker import celery_worker


@pytest.fixture(autouse=True)
def _client_uses_its_own_broker(monkeypatch):
    """Celery lets CELERY_BROKER_URL in the environment win over the URL a client is given."""
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)


def test_a_worker_on_redis_runs_a_task_end_to_end(redis_url, tmp_path):
    queue = f"interval-test-{uuid.uuid4().hex[:8]}"
    client = Celery("interval-test-client", broker=redis_url, backend=redis_url)
    with celery_worker(queue=queue, log_path=tmp_path / "worker.log",
                       CELERY_BROKER_URL=redis_url, CELERY_RESULT_BACKEND=redis_url):
        result = client.send_task("clinic.ping", queue=queue).get(timeout=60)
    log = (tmp_path / "worker.log").read_text()
    assert result["pong"] is True, log
    assert "Connected to redis://" in log
    assert "clinic.ping" in log


def test_a_worker_on_the_embedded_broker_runs_a_task_end_to_end(tmp_path):
    """What `make run` uses without Redis: kombu's filesystem transport under var/."""
    var = tmp_path / "var"
    queue_dir, control_dir, results = var / "broker" / "queue", var / "broker" / "control", var / "results"
    for folder in (queue_dir, control_dir, results):
        folder.mkdir(parents=True)
    backend = f"file://{results}"
    client = Celery("interval-test-client", broker="filesystem://", backend=backend)
    client.conf.broker_transport_options = {
        "data_folder_in": str(queue_dir), "data_folder_out": str(queue_dir), "control_folder": str(control_dir)}
    queue = f"interval-test-{uuid.uuid4().hex[:8]}"
    with celery_worker(queue=queue, log_path=tmp_path / "worker.log", INTERVAL_VAR_DIR=str(var),
                       CELERY_BROKER_URL="", CELERY_RESULT_BACKEND=backend):
        result = client.send_task("clinic.ping", queue=queue).get(timeout=60)
    assert result["pong"] is True
    assert "Connected to filesystem://" in (tmp_path / "worker.log").read_text()


@pytest.mark.django_db
def test_the_ping_task_runs_in_process():
    from clinic.tasks import ping

    assert ping()["pong"] is True
