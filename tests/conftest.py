from __future__ import annotations

import datetime
import io

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from zoneinfo import ZoneInfo

from clinic import roles
from tests.browser import browser, site, visitor  # noqa: F401  (fixtures of the browser tests)
from tests.services import require_postgres, require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def postgres(db) -> None:
    require_postgres()


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    """API throttles and page rate limits count in the cache, which outlives a test's database:
    every test starts with none of the requests of the tests before it counted."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _catalog_from_the_database(settings):
    """The catalog a process holds in memory (scheduling/catalog.py) is read afresh by every test:
    the one before may have held rows its rolled-back database no longer has."""
    from scheduling import catalog

    settings.CATALOG_MAX_AGE_SECONDS = 3600  # no reload in the middle of a test that counts statements
    catalog.forget()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# The suite's "now": Tuesday 2026-11-24, 08:00 in Bartlesville. The demo schedule is seeded
# as of that day, so dates in tests do not drift with the real calendar.
NOW = datetime.datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("America/Chicago"))
NEXT_MONDAY = datetime.date(2026, 11, 30)  # Dr. Okafor: procedures 07:30-15:30
NEXT_THURSDAY = datetime.date(2026, 12, 3)  # Drs. Reyes and Nair: procedures 07:30-15:30

# What the patient's admin page posts for its inlines when none of their rows is filled in: a
# change posted without their management forms is refused, as Django refuses any such form.
PATIENT_PAGE_INLINES = {f"procedures_elsewhere-{name}": value for name, value in (
    ("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "1000"))}


# PostgreSQL: the seeded demo clinic's rows, table by table, as COPY wrote them. A transactional
# test (a browser's, a worker's) empties the database after it; the rows are put back as soon as
# the flush is done, before the next test's fixtures write anything of their own, in a tenth of
# the time seeding takes.
_seeded: dict[str, bytes] = {}


def seed_demo() -> None:
    """The demo clinic without its visits: tests book on a free calendar (the visits' own
    tests, in test_demo_activity.py, seed them)."""
    from django.db import connection

    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", "--no-activity", stdout=io.StringIO())
    if connection.vendor == "postgresql" and not _seeded:
        with connection.cursor() as cursor:
            for table in connection.introspection.django_table_names(only_existing=True, include_views=False):
                with cursor.copy(f"COPY {connection.ops.quote_name(table)} TO STDOUT") as copy:
                    rows = b"".join(bytes(block) for block in copy)
                if rows:
                    _seeded[table] = rows


def _restore_seeded_after_flush(**kwargs) -> None:
    """post_migrate of the last app, sent by the flush that ends a transactional test (the
    session's own migrate comes before anything is seeded)."""
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.color import no_style
    from django.db import connections, transaction

    from scheduling import catalog

    connection = connections[kwargs.get("using", "default")]
    if connection.vendor != "postgresql" or not _seeded:
        return
    quote = connection.ops.quote_name
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    # One transaction: the foreign keys (deferred) are checked once every table is back.
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        # What the flush's post_migrate wrote back (content types, permissions) goes too: the
        # seeded rows carry their own ids, which the seeded groups' permissions refer to.
        cursor.execute("TRUNCATE " + ", ".join(quote(table) for table in tables) + " CASCADE")
        for table, rows in _seeded.items():
            with cursor.copy(f"COPY {quote(table)} FROM STDIN") as copy:
                copy.write(rows)
        for statement in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
            cursor.execute(statement)
    ContentType.objects.clear_cache()
    catalog.forget()


def _connect_restore() -> None:
    from django.apps import apps
    from django.db.models.signals import post_migrate

    # After every app's post_migrate handlers (content types, permissions, roles) have run: the
    # signal is sent for each app with models, in order.
    last = [each for each in apps.get_app_configs() if each.models_module is not None][-1]
    post_migrate.connect(_restore_seeded_after_flush, sender=last, dispatch_uid="tests-restore-seeded-after-flush")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the demo clinic once for the session; each test's transaction is rolled back."""
    with django_db_blocker.unblock():
        seed_demo()
    _connect_restore()


@pytest.fixture
def clock():
    """Freeze the clock at NOW (in every thread)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def demo_clinic(db):
    """The demo clinic (DESIGN.md): catalog, rooms, physicians, schedules, patients.

    Seeded once per session; seeded again where a transactional test flushed the database.
    """
    from clinic.models import Location

    if not (Location.objects.exists() and Group.objects.exists()):
        seed_demo()


def _staff(username: str, role: str | None) -> object:
    User = get_user_model()
    user = User.objects.create_user(username=username, password="pw-for-tests-only", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def front_desk(demo_clinic):
    return _staff("frontdesk-test", roles.FRONT_DESK)


def api_as(user):
    """An API client signed in as `user` (None: anonymous)."""
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def desk(front_desk):
    """The front desk's API client."""
    return api_as(front_desk)


@pytest.fixture
def nurse(demo_clinic):
    return _staff("nurse-test", roles.NURSE)


@pytest.fixture
def physician_user(demo_clinic):
    return _staff("physician-test", roles.PHYSICIAN)


@pytest.fixture
def manager(demo_clinic):
    return _staff("manager-test", roles.CLINIC_MANAGER)


@pytest.fixture
def superuser(demo_clinic):
    # With the demo (its role groups among it), seeded again if a transactional test emptied the database.
    return get_user_model().objects.create_superuser("root-test", "root@example.com", "pw-for-tests-only")


@pytest.fixture
def practising_physician(calendar):
    """Dr Okafor's login: in the Physician group and linked to an active physician record, the
    two things a pathway-rule override needs."""
    user = calendar.okafor.user
    user.groups.add(Group.objects.get(name=roles.PHYSICIAN))
    return get_user_model().objects.get(pk=user.pk)


def local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute)).replace(tzinfo=ZoneInfo("America/Chicago"))


@pytest.fixture
def calendar(demo_clinic, clock):
    """The demo clinic's actors for booking tests, with the clock frozen at NOW."""
    from clinic.models import Location, Patient, Physician, ProcedureType
    from scheduling.models import ProcedureOrder

    class Calendar:
        location = Location.objects.get()
        okafor = Physician.objects.get(user__username="okafor")
        reyes = Physician.objects.get(user__username="reyes")
        nair = Physician.objects.get(user__username="nair")
        esi = ProcedureType.objects.get(code="ESI_IL")
        consult = ProcedureType.objects.get(code="CONSULT_NEW")
        mbb = ProcedureType.objects.get(code="MBB_LUMBAR")  # a diagnostic block: no pathway rules of its own
        patients = list(Patient.objects.order_by("pk")[:10])

        def order_for(self, patient, procedure_type=None, **details):
            """An open order, lumbar, with an approved prior authorization unless told otherwise."""
            values = {"region": "lumbar", "authorization_status": "approved", "authorization_number": "PA-1001",
                      "authorization_valid_from": datetime.date(2026, 11, 1),
                      "authorization_valid_until": datetime.date(2027, 4, 30), **details}
            return ProcedureOrder.objects.create(patient=patient, procedure_type=procedure_type or self.esi,
                                                 ordering_physician=self.okafor, **values)

    return Calendar()
