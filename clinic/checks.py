"""Deployment checks of Interval's own: `manage.py check --deploy` warns about a production
configuration still on the embedded development parts."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.database, deploy=True)
def production_services(app_configs, **kwargs):
    warnings = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        warnings.append(Warning(
            "The database is SQLite.",
            hint="Set DATABASE_URL=postgres://... : only PostgreSQL enforces the no-double-booking constraints.",
            id="interval.W001",
        ))
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        warnings.append(Warning(
            "The Celery broker is the embedded filesystem broker.",
            hint="Set CELERY_BROKER_URL=redis://... so that web servers and workers on other hosts share tasks.",
            id="interval.W002",
        ))
    if settings.RATELIMIT_ENABLE and not settings.CACHE_URL:
        warnings.append(Warning(
            "The booking pages' rate limits count in each web process's own memory.",
            hint="Set CACHE_URL=redis://... so that the limits hold per client across all web processes.",
            id="interval.W003",
        ))
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        warnings.append(Warning(
            "Webhook endpoints may point at this server and the private network (WEBHOOK_ALLOW_PRIVATE_ADDRESSES).",
            hint="Unset WEBHOOK_ALLOW_PRIVATE_ADDRESSES in production: a manager's endpoint URL could reach internal "
                 "services or the cloud's metadata address.",
            id="interval.W004",
        ))
    return warnings
