"""The Celery app. Configuration comes from Django settings (the CELERY_ names)."""

import os
import sys
from pathlib import Path

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("interval")


@app.on_configure.connect
def _stop_on_a_bad_setting(sender, **kwargs) -> None:
    """A bad environment value stops the worker with the variable named, not a traceback."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"Interval cannot start: {exc}\n")
        sys.exit(2)


app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id travels with the tasks a request sends (its signal receivers).
import clinic.request_id  # noqa: E402,F401


def _ensure_embedded_broker_folders() -> None:
    """kombu's filesystem transport expects its folders to exist."""
    for folder in (app.conf.broker_transport_options or {}).values():
        if isinstance(folder, str):
            Path(folder).mkdir(parents=True, exist_ok=True)


if app.conf.broker_url == "filesystem://":
    _ensure_embedded_broker_folders()


@after_setup_logger.connect
def _announce_broker(logger, **kwargs):  # pragma: no cover - log line for operators
    _log_as_the_web_does(logger)
    logger.info("Interval: Celery broker is %s", app.conf.broker_url.split("@")[-1])


@after_setup_task_logger.connect
def _log_as_the_web_does(logger, **kwargs) -> None:
    from django.conf import settings

    from clinic.log import worker_handlers_configured

    worker_handlers_configured(logger, log_format=settings.LOG_FORMAT)
