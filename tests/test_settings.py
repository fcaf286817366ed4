"""Settings come from the environment; a bad value stops start-up naming the variable."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "clinic" / "settings.py"
PRODUCTION = {
    "DEBUG": "0",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "").startswith("postgres") and os.environ["DATABASE_URL"]
    or "postgres://postgres@127.0.0.1:5432/interval",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/2",
    "SECRET_KEY": "x7#Qm2!vR9pL4sT8wZ1yB6nC3dF0gH5jK-uE_aI*oP&rS^tV@wX(yZ)",
    "ALLOWED_HOSTS": "clinic.example.org",
}


def load_settings(monkeypatch, **env: str) -> dict:
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DATABASE_PREPARED_STATEMENTS",
                 "CELERY_BROKER_URL", "TIME_ZONE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_development_needs_nothing_set(monkeypatch):
    loaded = load_settings(monkeypatch)
    assert loaded["DEBUG"] is True
    assert loaded["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert str(loaded["DATABASES"]["default"]["NAME"]).endswith("var/interval.sqlite3")
    assert loaded["CELERY_BROKER_URL"] == "filesystem://"
    assert loaded["TIME_ZONE"] == "America/Chicago"


def test_database_and_broker_urls_are_read(monkeypatch):
    loaded = load_settings(monkeypatch, DATABASE_URL="postgres://clinic:secret@db.internal:5432/interval",
                           CELERY_BROKER_URL="redis://cache.internal:6379/0")
    database = loaded["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["NAME"]) == (
        "django.db.backends.postgresql", "db.internal", "interval")
    assert loaded["CELERY_BROKER_URL"] == "redis://cache.internal:6379/0"


def test_postgresql_statements_are_prepared_unless_turned_off(monkeypatch):
    url = "postgres://clinic:secret@db.internal:5432/interval"
    options = load_settings(monkeypatch, DATABASE_URL=url)["DATABASES"]["default"]["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 5)

    off = load_settings(monkeypatch, DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="0")
    assert "prepare_threshold" not in off["DATABASES"]["default"].get("OPTIONS", {})
    assert "server_side_binding" not in off["DATABASES"]["default"].get("OPTIONS", {})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DATABASE_URL": "mongodb://localhost/interval"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgres://db.internal/interval", "DATABASE_PREPARED_STATEMENTS": "maybe"},
         "DATABASE_PREPARED_STATEMENTS"),
        ({"DATABASE_PREPARED_STATEMENTS": "maybe"}, "DATABASE_PREPARED_STATEMENTS"),  # on SQLite too
        ({"CELERY_BROKER_URL": "localhost:6379"}, "CELERY_BROKER_URL"),
        ({"TIME_ZONE": "Central Time"}, "TIME_ZONE"),
        ({"TIME_ZONE": "localtime"}, "TIME_ZONE"),
        ({"EMAIL_PORT": "99999"}, "EMAIL_PORT"),
        ({"EMAIL_PORT": "twenty-five"}, "EMAIL_PORT"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_TLS"),
        ({"SECURE_HSTS_SECONDS": "-1"}, "SECURE_HSTS_SECONDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"CACHE_URL": "memcached://localhost"}, "CACHE_URL"),
        ({"BOOKING_SEARCH_RATE": "lots"}, "BOOKING_SEARCH_RATE"),
        ({"BOOKING_SUBMIT_RATE": "10 per minute"}, "BOOKING_SUBMIT_RATE"),
        ({"BOOKING_FORM_MIN_SECONDS": "-3"}, "BOOKING_FORM_MIN_SECONDS"),
        ({"ORDER_LINK_DAYS": "0"}, "ORDER_LINK_DAYS"),
        ({"WEBHOOK_RETENTION_DAYS": "0"}, "WEBHOOK_RETENTION_DAYS"),
        ({"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES"),
        ({"CALENDAR_FEED_PATIENT_NAMES": "surname"}, "CALENDAR_FEED_PATIENT_NAMES"),
        ({"DEBUG": "0", "ALLOWED_HOSTS": "clinic.example.org"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": "short", "ALLOWED_HOSTS": "clinic.example.org"}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": PRODUCTION["SECRET_KEY"], "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(monkeypatch, env, named):
    with pytest.raises(ImproperlyConfigured, match=named):
        load_settings(monkeypatch, **env)


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


def test_manage_py_reports_a_bad_setting_without_a_traceback():
    result = run_manage("check", TIME_ZONE="Central Time")
    assert result.returncode == 2
    assert "Interval cannot start: TIME_ZONE must be an IANA time zone" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_production_configuration_passes_check_deploy_with_no_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_warns_about_the_embedded_database_broker_and_cache():
    result = run_manage("check", "--deploy", **{**PRODUCTION, "DATABASE_URL": "sqlite:///var/interval.sqlite3",
                                                "CELERY_BROKER_URL": "", "CACHE_URL": ""})
    assert "interval.W001" in result.stderr + result.stdout
    assert "interval.W002" in result.stderr + result.stdout
    assert "interval.W003" in result.stderr + result.stdout
    assert "interval.W004" not in result.stderr + result.stdout


def test_check_deploy_warns_when_webhooks_may_go_to_private_addresses():
    result = run_manage("check", "--deploy", **PRODUCTION, WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1")
    assert "interval.W004" in result.stderr + result.stdout


def test_a_var_dir_that_cannot_be_made_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_manage("check", INTERVAL_VAR_DIR=str(blocker / "var"))
    assert result.returncode == 2 and "INTERVAL_VAR_DIR must be a folder" in result.stderr


def test_webhooks_to_private_addresses_are_allowed_only_while_developing(monkeypatch):
    assert load_settings(monkeypatch)["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] is True
    assert load_settings(monkeypatch, **PRODUCTION)["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] is False
    assert load_settings(monkeypatch, **PRODUCTION, WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1")[
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] is True


def test_production_defaults_are_secure(monkeypatch):
    loaded = load_settings(monkeypatch, **PRODUCTION)
    assert loaded["SECURE_SSL_REDIRECT"] and loaded["SESSION_COOKIE_SECURE"] and loaded["CSRF_COOKIE_SECURE"]
    assert loaded["SECURE_HSTS_SECONDS"] >= 31_536_000


def test_a_mail_server_that_stops_answering_cannot_hold_a_send_past_its_lease(monkeypatch):
    assert load_settings(monkeypatch)["EMAIL_TIMEOUT"] == 30  # of the default 300 s lease
    assert load_settings(monkeypatch, REMINDER_LEASE_SECONDS="60")["EMAIL_TIMEOUT"] == 15
    with pytest.raises(ImproperlyConfigured, match="EMAIL_TIMEOUT"):
        load_settings(monkeypatch, EMAIL_TIMEOUT="200")
