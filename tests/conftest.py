from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from clinic import roles
from tests.services import require_postgres, require_redis


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@pytest.fixture
def postgres(db) -> None:
    require_postgres()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Seed the demo clinic once for the session; each test's transaction is rolled back."""
    with django_db_blocker.unblock():
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def demo_clinic(db):
    """The demo clinic (DESIGN.md): catalog, rooms, physicians, schedules, patients.

    Seeded once per session; seeded again where a transactional test flushed the database.
    """
    from clinic.models import Location

    if not Location.objects.exists():
        call_command("seed_demo", stdout=io.StringIO())


def _staff(username: str, role: str | None) -> object:
    User = get_user_model()
    user = User.objects.create_user(username=username, password="pw-for-tests-only", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def front_desk(db):
    return _staff("frontdesk-test", roles.FRONT_DESK)


@pytest.fixture
def nurse(db):
    return _staff("nurse-test", roles.NURSE)


@pytest.fixture
def physician_user(db):
    return _staff("physician-test", roles.PHYSICIAN)


@pytest.fixture
def manager(db):
    return _staff("manager-test", roles.CLINIC_MANAGER)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root-test", "root@example.com", "pw-for-tests-only")


@pytest.fixture
def today() -> datetime.date:
    return datetime.date(2026, 11, 24)
