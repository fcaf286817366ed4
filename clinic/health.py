"""`/health/` for load balancers: 200 when every check passes, else 503 naming the failed ones.

Checks run under django-health-check: the broker's in a thread of its own, the others in turn on
the request's own thread and database connection (a test's transaction included). The answer is JSON
(`{"status": "ok" | "failing", "checks": {name: "OK" | what is wrong}}`), or one line a check
in plain text for `Accept: text/plain` or `?format=text`. It names services and counts, never
a patient, and needs no login.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
from pathlib import Path

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from health_check.base import HealthCheck
from health_check.checks import Cache
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class _InRequestThread(HealthCheck):
    """A check that reads the database in the request's own thread and connection."""

    name = ""

    def check(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        await sync_to_async(self.check)()


@dataclasses.dataclass
class Database(_InRequestThread):
    name = "database"

    def check(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as error:
            raise ServiceUnavailable(f"database unreachable ({type(error).__name__})") from error


# Once every migration was found applied, this process need not look again: a deployment
# migrates before it starts new processes, never while they run.
_all_migrations_applied = False


@dataclasses.dataclass
class Migrations(_InRequestThread):
    name = "migrations"

    def check(self) -> None:
        global _all_migrations_applied
        if _all_migrations_applied:
            return
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            raise ServiceUnavailable(f"migrations could not be read ({type(error).__name__})") from error
        if plan:
            raise ServiceUnavailable(f"{len(plan)} migration(s) not applied, e.g. {plan[0][0].app_label}."
                                     f"{plan[0][0].name}")
        _all_migrations_applied = True


@dataclasses.dataclass
class ReminderOutbox(_InRequestThread):
    """The oldest reminder due and not sent yet waited less than HEALTH_OUTBOX_MAX_LAG_SECONDS:
    otherwise no worker or beat is draining the outbox (or it cannot keep up)."""

    name = "reminder_outbox"

    def check(self) -> None:
        from scheduling.models import UNSENT_REMINDER_STATUSES, Reminder

        limit = dt.timedelta(seconds=settings.HEALTH_OUTBOX_MAX_LAG_SECONDS)
        now = timezone.now()
        try:
            oldest = (Reminder.objects.filter(status__in=UNSENT_REMINDER_STATUSES, next_attempt_at__lte=now)
                      .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())
        except DatabaseError as error:
            raise ServiceUnavailable(f"reminder outbox could not be read ({type(error).__name__})") from error
        if oldest is not None and now - oldest > limit:
            waited = int((now - oldest).total_seconds())
            raise ServiceUnavailable(f"the oldest due reminder has waited {waited} s "
                                     f"(limit {int(limit.total_seconds())} s): is the worker or beat running?")


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker answers: Redis answers a PING; the embedded broker's folders (`make
    run`, no Redis) exist and can be written to."""

    name = "broker"
    timeout = dt.timedelta(seconds=3)

    def run(self) -> None:
        url = settings.CELERY_BROKER_URL
        if url.startswith(("redis://", "rediss://")):
            self._ping_redis(url)
        elif url == "filesystem://":
            self._embedded_folders()
        else:
            self._connect(url)

    def _ping_redis(self, url: str) -> None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        except redis.RedisError as error:
            raise ServiceUnavailable(f"broker unreachable ({type(error).__name__})") from error
        finally:
            client.close()

    def _embedded_folders(self) -> None:
        options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
        for folder in {options.get("data_folder_in"), options.get("control_folder")} - {None}:
            if not (Path(folder).is_dir() and os.access(folder, os.W_OK)):
                raise ServiceUnavailable("the embedded broker's folder under var/broker/ is missing or read-only")

    def _connect(self, url: str) -> None:
        from clinic.celery import app

        try:
            with app.connection_for_write() as broker:
                broker.ensure_connection(max_retries=1, timeout=2)
        except Exception as error:  # kombu raises whatever its transport raises
            raise ServiceUnavailable(f"broker unreachable ({type(error).__name__})") from error


@dataclasses.dataclass
class CacheWorks(Cache):
    name = "cache"


CHECKS = (Database, Migrations, CacheWorks, Broker, ReminderOutbox)


class HealthView(HealthCheckView):
    checks = CHECKS

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        failing = any(result.error for result in self.results)
        status = 503 if failing else 200
        outcome = {result.check.name: str(result.error) if result.error else "OK" for result in self.results}
        if request.GET.get("format") == "text" or "text/plain" in request.headers.get("accept", ""):
            lines = [f"{name}: {said}" for name, said in outcome.items()]
            response = HttpResponse("\n".join(lines) + "\n", status=status, content_type="text/plain; charset=utf-8")
        else:
            response = JsonResponse({"status": "failing" if failing else "ok", "checks": outcome}, status=status)
        add_never_cache_headers(response)
        return response
