"""The operations settings: read from the environment, a bad value stops start-up naming it."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parent.parent / "clinic" / "settings.py"
NAMES = ("LOG_FORMAT", "HEALTH_OUTBOX_MAX_LAG_SECONDS", "METRICS_TOKEN", "PROMETHEUS_MULTIPROC_DIR", "SENTRY_DSN")


def load_settings(monkeypatch, **env: str) -> dict:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_the_defaults_need_nothing_set(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert (loaded["LOG_FORMAT"], loaded["HEALTH_OUTBOX_MAX_LAG_SECONDS"], loaded["METRICS_TOKEN"],
            loaded["PROMETHEUS_MULTIPROC_DIR"], loaded["SENTRY_DSN"]) == ("plain", 600, "", "", "")
    assert loaded["LOGGING"]["handlers"]["console"]["formatter"] == "plain"


def test_json_logs_are_chosen_by_log_format(monkeypatch):
    loaded = load_settings(monkeypatch, LOG_FORMAT="JSON")
    assert loaded["LOGGING"]["handlers"]["console"]["formatter"] == "json"


def test_a_multiprocess_folder_is_read(monkeypatch, tmp_path):
    assert load_settings(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)


@pytest.mark.parametrize(("env", "named"), [
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
    ({"HEALTH_OUTBOX_MAX_LAG_SECONDS": "10"}, "HEALTH_OUTBOX_MAX_LAG_SECONDS"),
    ({"HEALTH_OUTBOX_MAX_LAG_SECONDS": "ten minutes"}, "HEALTH_OUTBOX_MAX_LAG_SECONDS"),
    ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
    ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent/metrics"}, "PROMETHEUS_MULTIPROC_DIR"),
    ({"SENTRY_DSN": "sentry.example.org/1"}, "SENTRY_DSN"),
])
def test_a_bad_value_names_the_variable(monkeypatch, env, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        load_settings(monkeypatch, **env)
