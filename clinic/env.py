"""Reading settings from the environment.

Every reader names the variable in its error, so that a bad deployment value stops start-up
with a message the operator can act on instead of a traceback from deep inside Django.
"""

from __future__ import annotations

import os
import zoneinfo

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}; got {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    if value not in zoneinfo.available_timezones() or value in {"localtime", "posixrules", "Factory"}:
        raise ImproperlyConfigured(f"{name} must be an IANA time zone such as America/Chicago; got {value!r}.")
    return value


def env_database(name: str, default: str) -> dict:
    import dj_database_url

    url = env_str(name) or default
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL Interval can use ({exc}); got {url!r}.") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured(
            f"{name} must point to PostgreSQL (postgres://...) or SQLite (sqlite:///...); got {url!r}."
        )
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database; got {url!r}.")
    return config


def env_broker_url(name: str) -> str:
    value = env_str(name)
    if value and not value.startswith(("redis://", "rediss://", "amqp://", "filesystem://", "memory://")):
        raise ImproperlyConfigured(
            f"{name} must be a redis:// (or amqp://) URL, or be left unset for the embedded broker; got {value!r}."
        )
    return value
