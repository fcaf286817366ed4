"""The benchmark's own database, and the settings the measuring process and the server share.

This module must not import Django: it sets the environment that clinic/settings.py reads.
Both processes run with DEBUG off, as production does (DEBUG on keeps every query in memory
and changes the timings), with plain HTTP on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import unquote, urlparse

import psycopg
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/interval_bench"


def database_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL


def settings_environment(url: str) -> dict[str, str]:
    """Variables for clinic/settings.py, for this process and for the gunicorn server."""
    return {
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": url,
        # A shared cache, as in production: the catalog's version, the API's throttle counts.
        "CACHE_URL": os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/7"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters, new on every run
        # "testserver" is the host name of Django's test client, used for the in-process runs.
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        # The booking pages' per-client limits would refuse the benchmark's one client.
        "RATELIMIT_ENABLE": "0",
        # So would the API's per-token throttle: the benchmark measures the work, not the limit.
        "API_USER_RATE": "100000000/s",
        "API_ANON_RATE": "100000000/s",
        # The benchmark's staff user has no authenticator app; the second step is a session flag.
        "STAFF_2FA_REQUIRED": "0",
    }


def recreate_database(url: str) -> str:
    """Drop and create the benchmark database (refused unless its name contains "bench"); its name."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise SystemExit(f"BENCH_DATABASE_URL must be a postgres:// URL; got {url!r}.")
    name = unquote(parsed.path.lstrip("/"))
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop database {name!r}: the benchmark database's name must contain 'bench'.")
    params = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "dbname": "postgres",
        "autocommit": True,
        "connect_timeout": 5,
    }
    if parsed.password:
        params["password"] = unquote(parsed.password)
    with psycopg.connect(**params) as connection:
        # FORCE ends sessions a previous, interrupted run may have left behind.
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name
