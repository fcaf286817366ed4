"""Interval's settings: one module, driven by the environment.

Development needs nothing set: SQLite under var/, an embedded broker under var/, emails on the
console. Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL;
the secure defaults below then pass `manage.py check --deploy` with no warnings.
A bad value stops start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from phonenumbers import SUPPORTED_REGIONS as _phone_regions
from django.core.exceptions import ImproperlyConfigured

from clinic.env import (
    env_bool,
    env_broker_url,
    env_database,
    env_int,
    env_list,
    env_str,
    env_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("INTERVAL_VAR_DIR") or BASE_DIR / "var")
try:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(f"INTERVAL_VAR_DIR must be a folder Interval can write to ({exc.strerror}): {VAR_DIR}") from None

DEBUG = env_bool("DEBUG", True)

_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-never-used-when-debug-is-off"
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (use 50+ random characters).")
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must name the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "modeltranslation",  # before the admin, whose forms it extends (clinic/translation.py)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "phonenumber_field",
    # Headers: the Content-Security-Policy (its nonce is request.csp_nonce in templates).
    "csp",
    "clinic",
    "scheduling",
]
# Staff accounts: lockout after failed sign-ins, two-factor devices and recovery codes.
INSTALLED_APPS += [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    # Operations: the request id first, so that every line logged below carries it (and every
    # answer its X-Request-ID); django-prometheus' pair around everything else counts requests.
    "clinic.request_id.RequestIdMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Headers: Permissions-Policy, no-store on API responses (clinic/security_headers.py), and
    # the Content-Security-Policy. Early, so that every answer below carries them.
    "clinic.security_headers.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Untrusted input: a request holding a NUL or another control character is refused (400)
    # here, before any view or database lookup (clinic/untrusted_input.py).
    "clinic.untrusted_input.RefuseControlCharactersMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]
# Staff accounts: each needs the signed-in user, so they run after AuthenticationMiddleware.
# Session limits first (an expired session is signed out before anything else looks at it),
# then the second factor, then the lockout guard (last, as django-axes asks).
_AFTER_AUTHENTICATION = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
MIDDLEWARE[_AFTER_AUTHENTICATION:_AFTER_AUTHENTICATION] = [
    "clinic.session_limits.SessionLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.two_factor.TwoFactorRequiredMiddleware",
]
MIDDLEWARE += ["axes.middleware.AxesMiddleware", "django_prometheus.middleware.PrometheusAfterMiddleware"]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"
ASGI_APPLICATION = "clinic.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'interval.sqlite3'}")}
_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)  # read, and checked, on SQLite too
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    try:
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL names a SQLite file in a folder that cannot be made ({exc.strerror}).") from None
    # Writers queue for the lock instead of failing at once; WAL lets readers run beside them.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _PREPARED_STATEMENTS:
    # A statement run again on a kept connection skips its parsing and planning: the parameters
    # travel apart from the statement, which PostgreSQL prepares on its sixth run (psycopg
    # prepares after prepare_threshold runs). Off behind a pooler in transaction mode that cannot
    # keep them. clinic/prepared_statements.py recovers from a column's type changed under them.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: stored in UTC, shown in each location's own zone. TIME_ZONE is the clinic's default.
LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Catalog texts that patients read are kept in each language; one left empty reads as English.
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
TIME_ZONE = env_time_zone("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request while it is missing
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on; pick the one your mail server speaks.")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Interval <no-reply@interval.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security. Secure by default whenever DEBUG is off; each can be relaxed from the environment
# (e.g. SECURE_SSL_REDIRECT=0 behind a proxy that already redirects).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# A load balancer asks for /health/ over plain HTTP on the private network: answered, not redirected.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "scheduling.pages.errors.csrf_failure"

# Staff accounts.
# Signing in (a `next` to another site is ignored) lands on the admin, not Django's /accounts/profile/.
LOGIN_REDIRECT_URL = "/admin/"
# Sign-in lockout (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one username, or
# from one address, sign-in is refused for LOGIN_LOCKOUT_MINUTES; a manager can unlock sooner
# (Axes > Access attempts). Attempts live in the database, so every web process sees them.
AUTHENTICATION_BACKENDS = [
    "clinic.login_guard.LockoutBackend",
    "clinic.permissions.PermissionsBackend",
]
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1)
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: a user, or an address
AXES_RESET_ON_SUCCESS = True
# A try during the pause does not restart it: the pause ends when it says it will.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "clinic.login_guard.locked_out"
AXES_CLIENT_IP_CALLABLE = "clinic.addresses.client_address"  # behind a proxy too
# Two-factor sign-in (django-otp, TOTP apps plus one-time recovery codes) for every staff user.
# On by default whenever DEBUG is off; off in development so the demo logins work as they are.
STAFF_2FA_REQUIRED = env_bool("STAFF_2FA_REQUIRED", not DEBUG)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Interval")
# Sessions end after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after sign-in
# whatever happens.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 8 * 60 if DEBUG else 30, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1, maximum=12)
if SESSION_IDLE_MINUTES > SESSION_MAX_HOURS * 60:
    raise ImproperlyConfigured(
        f"SESSION_IDLE_MINUTES ({SESSION_IDLE_MINUTES}) cannot be longer than SESSION_MAX_HOURS ({SESSION_MAX_HOURS} h)."
    )
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# The language a patient picked: no script reads it, and it goes over HTTPS only in production.
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Headers (see clinic/security_headers.py). Scripts and styles come from this site, or inline
# with the response's nonce (templates write nonce="{{ request.csp_nonce }}"): an injected
# <script> or style attribute does not run. Images may be data: URIs (the pages' empty favicon,
# Swagger UI's icons). Nothing may frame a page, nor post a form elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
PERMISSIONS_POLICY = {"camera": [], "microphone": [], "geolocation": [], "payment": [], "usb": []}

# History: who changed what and when, shown in the admin. Reverting from there would bypass
# the booking services (and their no-double-booking checks), so it is off.
SIMPLE_HISTORY_REVERT_DISABLED = True

# REST API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "clinic.permissions.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The schema lists every operation's error responses (scheduling/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "scheduling.api.schema.IntervalAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "scheduling.api.errors.api_exception_handler",
    # JSON only, errors included, whatever a browser asks for: people read the API at /api/docs/.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# API throttling: per token or signed-in user, and per address for requests without one.
# Counted in the cache (CACHE_URL: shared by every web process when it is Redis).
API_USER_RATE = env_str("API_USER_RATE", "300/m")
API_ANON_RATE = env_str("API_ANON_RATE", "30/m")
for _name in ("API_USER_RATE", "API_ANON_RATE"):
    if not re.fullmatch(r"[1-9]\d*/[smhd]", globals()[_name]):  # DRF reads no multiple: 10/5m would be 10/m
        raise ImproperlyConfigured(f"{_name} must look like 300/m (a count per s, m, h or d); got {globals()[_name]!r}.")
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "scheduling.api.throttles.PerUserThrottle",
    "scheduling.api.throttles.PerAddressThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": API_USER_RATE, "anon": API_ANON_RATE}

# The schema (/api/schema/) and its docs (/api/docs/) need a staff login unless this opens them.
API_DOCS_PUBLIC = env_bool("API_DOCS_PUBLIC", DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "Interval API",
    "DESCRIPTION": "Appointment and procedure scheduling for interventional pain clinics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # An exact schema: request and response shapes apart (read-only fields are required in
    # answers), ids in paths start at 1.
    "COMPONENT_SPLIT_REQUEST": True,
    # Fields named alike with different choices get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RoomKindEnum": "clinic.models.locations.RoomKind",
        "CarePlanStepKindEnum": "scheduling.models.careplans.StepKind",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "scheduling.api.schema.ids_start_at_one"],
}

# Celery. With CELERY_BROKER_URL unset, kombu's filesystem transport under var/ is the broker,
# so `make run` starts a real worker without Redis. Nothing waits in the broker for long:
# reminders live in the database and a beat job drains them.
CELERY_BROKER_URL = env_broker_url("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_BROKER_DIR = VAR_DIR / "broker"
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The whole beat schedule lives here. A run missed during a broker outage expires rather than
# piling up: the next one sends everything due anyway.
REMINDER_DISPATCH_SECONDS = env_int("REMINDER_DISPATCH_SECONDS", 60, minimum=1)
# A reminder a killed worker left "sending" is sent again after this long (at least once).
REMINDER_LEASE_SECONDS = env_int("REMINDER_LEASE_SECONDS", 300, minimum=1)
# Seconds an SMTP connection may wait on the mail server. Without a limit a server that stops
# answering holds a reminder's send past its lease, and the next dispatch run sends it again.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", max(1, min(30, REMINDER_LEASE_SECONDS // 4)), minimum=1)
if env_str("EMAIL_TIMEOUT") and EMAIL_TIMEOUT * 2 >= REMINDER_LEASE_SECONDS:  # connecting and sending may each wait that long
    raise ImproperlyConfigured(
        f"EMAIL_TIMEOUT ({EMAIL_TIMEOUT} s) must be less than half of REMINDER_LEASE_SECONDS "
        f"({REMINDER_LEASE_SECONDS} s): a send that outlasts the lease is sent again by the next run."
    )
# Webhook deliveries are an outbox like the reminders, drained by their own beat job.
WEBHOOK_DISPATCH_SECONDS = env_int("WEBHOOK_DISPATCH_SECONDS", 60, minimum=1)
WEBHOOK_LEASE_SECONDS = env_int("WEBHOOK_LEASE_SECONDS", 120, minimum=1)
# Deliveries that arrived are kept this many days (with their attempts), then a daily job
# deletes them; given-up and pending ones are kept.
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 90, minimum=1)
CELERY_BEAT_SCHEDULE: dict = {
    "dispatch-reminders": {
        "task": "scheduling.dispatch_reminders",
        "schedule": float(REMINDER_DISPATCH_SECONDS),
        "options": {"expires": max(REMINDER_DISPATCH_SECONDS - 5, 1)},
    },
    "dispatch-webhooks": {
        "task": "scheduling.dispatch_webhooks",
        "schedule": float(WEBHOOK_DISPATCH_SECONDS),
        "options": {"expires": max(WEBHOOK_DISPATCH_SECONDS - 5, 1)},
    },
    "purge-webhook-history": {
        "task": "scheduling.purge_webhook_history",
        "schedule": crontab(hour=3, minute=15),  # daily, at a quiet hour (CELERY_TIMEZONE, UTC)
        "options": {"expires": 6 * 3600},
    },
}

# Cache: rate-limit counters and API throttles. Several web processes need one shared cache
# (Redis) for a limit per client to hold; the in-process cache suits one process.
CACHE_URL = env_str("CACHE_URL")
if CACHE_URL and not CACHE_URL.startswith(("redis://", "rediss://")):
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL; got {CACHE_URL!r}.")
CACHES = {"default": {"BACKEND": "clinic.redis_cache.RedisCache", "LOCATION": CACHE_URL}
          if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The catalog (procedure types, physicians, rooms, rules, reminder plans, webhook endpoints) is
# held in each process's memory (scheduling/catalog.py). With CACHE_URL every process sees a
# change at once; without it, another process's change within this many seconds.
CATALOG_MAX_AGE_SECONDS = env_int("CATALOG_MAX_AGE_SECONDS", 10, minimum=0)
if not CACHE_URL:
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# Booking pages. Limits are per client address (RATELIMIT_IP_META_KEY names the header that
# carries it behind a proxy, e.g. HTTP_X_FORWARDED_FOR).
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_VIEW = "scheduling.pages.errors.rate_limited"
if env_str("RATELIMIT_IP_META_KEY"):
    RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY")
BOOKING_SEARCH_RATE = env_str("BOOKING_SEARCH_RATE", "120/m")
BOOKING_SUBMIT_RATE = env_str("BOOKING_SUBMIT_RATE", "20/m")
# Picking a time holds it for everyone else for ten minutes: a client may hold only so many.
BOOKING_HOLD_RATE = env_str("BOOKING_HOLD_RATE", "10/10m")
for _name in ("BOOKING_SEARCH_RATE", "BOOKING_SUBMIT_RATE", "BOOKING_HOLD_RATE"):
    if not re.fullmatch(r"\d+/\d*[smhd]", globals()[_name]):
        raise ImproperlyConfigured(f"{_name} must look like 60/m (a count per s, m, h or d); got {globals()[_name]!r}.")
# A booking form sent back faster than a person can fill it in is asked to be sent again.
BOOKING_FORM_MIN_SECONDS = env_int("BOOKING_FORM_MIN_SECONDS", 3, minimum=0)
# How long the link a clinic sends to book an ordered procedure keeps working.
ORDER_LINK_DAYS = env_int("ORDER_LINK_DAYS", 60, minimum=1)

# Where patients reach Interval: the start of links in reminders.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
if not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"SITE_URL must start with https:// (or http:// in development); got {SITE_URL!r}.")

# Calendar feeds (scheduling/feeds/): how a visit's event names the patient. "initials" (the
# default: feeds end up on phones and shared screens) or "full" (first and last name).
CALENDAR_FEED_PATIENT_NAMES = env_str("CALENDAR_FEED_PATIENT_NAMES", "initials").lower()
if CALENDAR_FEED_PATIENT_NAMES not in {"initials", "full"}:
    raise ImproperlyConfigured(
        f"CALENDAR_FEED_PATIENT_NAMES must be initials or full; got {CALENDAR_FEED_PATIENT_NAMES!r}.")

# Phone numbers are stored in E.164 (+19185550111) and shown in the national format of this
# region; a number typed without a country code is read as one of this region's.
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US").upper()
if PHONE_DEFAULT_REGION not in _phone_regions:
    raise ImproperlyConfigured(f"PHONE_DEFAULT_REGION must be a two-letter region code such as US; "
                               f"got {PHONE_DEFAULT_REGION!r}.")
PHONENUMBER_DEFAULT_REGION = PHONE_DEFAULT_REGION
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# Text messages: "console" (logged), "file" (var/sms.jsonl), "memory" (tests), "null" (benchmarks),
# "http" (a provider's generic JSON API) or "twilio" (Twilio's Messages API).
SMS_TRANSPORTS = ("console", "file", "memory", "null", "http", "twilio")
SMS_TRANSPORT = env_str("SMS_TRANSPORT", "console")
if SMS_TRANSPORT not in SMS_TRANSPORTS:
    raise ImproperlyConfigured(f"SMS_TRANSPORT must be one of {', '.join(SMS_TRANSPORTS)}; got {SMS_TRANSPORT!r}.")
SMS_HTTP_URL = env_str("SMS_HTTP_URL")
SMS_HTTP_TOKEN = env_str("SMS_HTTP_TOKEN")
SMS_FROM = env_str("SMS_FROM")
if SMS_TRANSPORT == "http" and not (SMS_HTTP_URL.startswith(("https://", "http://")) and SMS_FROM):
    raise ImproperlyConfigured("SMS_TRANSPORT=http needs SMS_HTTP_URL (the provider's endpoint) and SMS_FROM.")
# Twilio: the account's SID and auth token (the token also checks the signature of Twilio's
# callbacks), and the sender: a number (TWILIO_FROM, E.164) or a messaging service (MG...).
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM = env_str("TWILIO_FROM")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
# Only for tests and local trials: where the SDK sends its requests instead of api.twilio.com.
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL")
if SMS_TRANSPORT == "twilio":
    if not (TWILIO_ACCOUNT_SID.startswith("AC") and TWILIO_AUTH_TOKEN):
        raise ImproperlyConfigured("SMS_TRANSPORT=twilio needs TWILIO_ACCOUNT_SID (AC...) and TWILIO_AUTH_TOKEN.")
    if not (TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID.startswith("MG")):
        raise ImproperlyConfigured("SMS_TRANSPORT=twilio needs TWILIO_FROM (a number in E.164, e.g. +19185550140) "
                                   "or TWILIO_MESSAGING_SERVICE_SID (MG...).")
    if TWILIO_FROM and not re.fullmatch(r"\+[1-9][0-9]{6,14}", TWILIO_FROM):
        raise ImproperlyConfigured(f"TWILIO_FROM must be a number in E.164, e.g. +19185550140; got {TWILIO_FROM!r}.")
if TWILIO_API_BASE_URL and not TWILIO_API_BASE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"TWILIO_API_BASE_URL must start with https:// or http://; got {TWILIO_API_BASE_URL!r}.")

# Webhooks: a receiver answers within WEBHOOK_TIMEOUT_SECONDS or the attempt counts as failed;
# failures are retried WEBHOOK_BACKOFF_SECONDS later, then twice as long each time, until
# WEBHOOK_MAX_ATTEMPTS attempts were made. Endpoints are https:// only unless WEBHOOK_ALLOW_HTTP
# (on by default only with DEBUG: a receiver on this machine while developing).
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)
WEBHOOK_BACKOFF_SECONDS = env_int("WEBHOOK_BACKOFF_SECONDS", 60, minimum=1)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=30)
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
# Endpoints on loopback, private (RFC 1918, unique-local), link-local (cloud metadata) or
# unspecified addresses are refused, when saved and on the address each post connects to,
# unless this is on (by default only with DEBUG: a receiver on this machine).
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env_bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", DEBUG)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL; got {LOG_LEVEL!r}.")

# "plain" lines for people, or "json": one object a line (time, level, logger, message,
# request_id) for a log collector. Link tokens are taken out of both.
LOG_FORMAT = env_str("LOG_FORMAT", "plain").lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json; got {LOG_FORMAT!r}.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "clinic.log.json_formatter"},
    },
    "filters": {
        "client_errors_without_traceback": {"()": "clinic.log.ClientErrorsWithoutTraceback"},
        "patient_links_redacted": {"()": "clinic.log.PatientLinksRedacted"},
        "request_id": {"()": "clinic.request_id.RequestIdFilter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["client_errors_without_traceback", "patient_links_redacted", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own console handler would print each line a second time.
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # /health/ names a failed check in its answer; a traceback per poll would flood the log.
        "health_check": {"level": "ERROR"},
        # django-axes announces its version at every start, each management command included.
        "axes.apps": {"level": "WARNING"},
    },
}

# Operations (README "Operations"). /health/ fails when the oldest reminder due and not sent
# has waited longer than this: the worker or beat has stopped, or cannot keep up.
HEALTH_OUTBOX_MAX_LAG_SECONDS = env_int("HEALTH_OUTBOX_MAX_LAG_SECONDS", 600, minimum=60)
# /metrics: open while DEBUG is on; otherwise it needs this bearer token, and is a 404 without one.
METRICS_TOKEN = env_str("METRICS_TOKEN")
if METRICS_TOKEN and len(METRICS_TOKEN) < 20:
    raise ImproperlyConfigured("METRICS_TOKEN must be at least 20 random characters.")
# Several processes (gunicorn workers, Celery workers) on one host: each writes its figures in
# this folder and /metrics adds them up. prometheus-client reads the variable itself.
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not (Path(PROMETHEUS_MULTIPROC_DIR).is_dir()
                                     and os.access(PROMETHEUS_MULTIPROC_DIR, os.W_OK)):
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR must be an existing folder Interval can write to; "
                               f"got {PROMETHEUS_MULTIPROC_DIR!r}.")
# Error reports go to Sentry when this is set, without patient data (clinic/error_reports.py).
SENTRY_DSN = env_str("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development" if DEBUG else "production")
if SENTRY_DSN:
    if not SENTRY_DSN.startswith(("https://", "http://")):
        raise ImproperlyConfigured(f"SENTRY_DSN must be the https:// address Sentry gives the project; got {SENTRY_DSN!r}.")
    from clinic.error_reports import init_sentry

    init_sentry(dsn=SENTRY_DSN, environment=SENTRY_ENVIRONMENT)
