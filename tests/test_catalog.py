"""The catalog held in memory (scheduling/catalog.py): every change made through Interval is seen
on the next use, in this process at once and, with a shared cache, in every other process too."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest
from celery.signals import task_postrun, task_prerun
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clinic.models import Capability, Location, Physician, ProcedureType, Room
from scheduling import catalog
from scheduling.models import PathwayRule, ReminderStep, WebhookEndpoint
from tests.worker import ROOT, database_url


@pytest.fixture
def esi(demo_clinic) -> ProcedureType:
    return ProcedureType.objects.get(code="ESI_IL")


def test_the_catalog_is_read_once_then_held(esi):
    catalog.current()

    with CaptureQueriesContext(connection) as captured:
        held = catalog.current()

    assert len(captured) == 0
    assert held.procedure_types_by_code["ESI_IL"].name == esi.name


@pytest.mark.django_db
@pytest.mark.parametrize("change", ["save", "update", "bulk_update", "delete", "credentials", "capabilities",
                                    "rule", "reminder_step", "endpoint"])
def test_every_kind_of_change_is_seen_on_the_next_use(esi, change):
    physician = Physician.objects.filter(procedure_types=esi).first()
    room = Room.objects.filter(capabilities__code="fluoroscopy").first()
    before = catalog.current()

    if change == "save":
        esi.name = "Renamed"
        esi.save()
    elif change == "update":
        ProcedureType.objects.filter(pk=esi.pk).update(name="Renamed")
    elif change == "bulk_update":
        esi.name = "Renamed"
        ProcedureType.objects.bulk_update([esi], ["name"])
    elif change == "delete":
        rule = PathwayRule.objects.filter(procedure_type=esi).first()
        rule.delete()
    elif change == "credentials":
        physician.procedure_types.remove(esi)
    elif change == "capabilities":
        room.capabilities.remove(Capability.objects.get(code="fluoroscopy"))
    elif change == "rule":
        PathwayRule.objects.filter(procedure_type=esi).update(is_active=False)
    elif change == "reminder_step":
        ReminderStep.objects.filter(procedure_type=esi).update(is_active=False)
    elif change == "endpoint":
        WebhookEndpoint.objects.create(name="Billing", url="https://billing.example.org/hook", events=["*"])

    after = catalog.current()
    assert after is not before
    if change in {"save", "update", "bulk_update"}:
        assert after.procedure_types[esi.pk].name == "Renamed"
    elif change == "delete":
        assert rule.pk not in {each.pk for each in after.rules.get(esi.pk, [])}
    elif change == "credentials":
        assert str(esi.pk) not in after.physicians[physician.pk].procedure_type_ids.split(",")
    elif change == "capabilities":
        fluoroscopy = str(Capability.objects.get(code="fluoroscopy").pk)
        assert fluoroscopy not in after.rooms[room.pk].capability_ids.split(",")
    elif change == "rule":
        assert after.rules.get(esi.pk, []) == []
    elif change == "reminder_step":
        assert after.reminder_steps.get(esi.pk, []) == []
    else:
        assert [each.name for each in after.webhook_endpoints] == ["Billing"]


def test_a_sign_in_is_not_a_change(demo_clinic, physician_user):
    held = catalog.current()
    physician_user.save(update_fields=["last_login"])
    assert catalog.current() is held


def _in_another_process(code: str, environment: dict[str, str]) -> None:
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": database_url(), **environment}, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_with_a_shared_cache_another_process_change_is_seen_at_once(postgres, redis_url, demo_clinic, settings):
    settings.CACHES = {"default": {"BACKEND": "clinic.redis_cache.RedisCache", "LOCATION": redis_url}}
    settings.CATALOG_MAX_AGE_SECONDS = 3600  # not what makes it seen
    location = Location.objects.order_by("pk").first()
    assert catalog.current().locations[location.pk].minimum_notice_hours != 71

    _in_another_process(f"from clinic.models import Location; "
                        f"Location.objects.filter(pk={location.pk}).update(minimum_notice_hours=71)",
                        {"CACHE_URL": redis_url})

    assert catalog.current().locations[location.pk].minimum_notice_hours == 71


@pytest.mark.django_db(transaction=True)
def test_a_change_typed_into_the_database_is_seen_after_catalog_changed(postgres, redis_url, demo_clinic, settings):
    settings.CACHES = {"default": {"BACKEND": "clinic.redis_cache.RedisCache", "LOCATION": redis_url}}
    location = Location.objects.order_by("pk").first()
    catalog.current()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE clinic_location SET minimum_notice_hours = 70 WHERE id = %s", [location.pk])
    assert catalog.current().locations[location.pk].minimum_notice_hours != 70  # behind Interval's back

    _in_another_process("from django.core.management import call_command; call_command('catalog_changed')",
                        {"CACHE_URL": redis_url})

    assert catalog.current().locations[location.pk].minimum_notice_hours == 70


def test_without_a_shared_cache_another_process_change_shows_within_the_max_age(esi, settings, monkeypatch):
    settings.CATALOG_MAX_AGE_SECONDS = 10
    held = catalog.current()
    with connection.cursor() as cursor:  # as another process would: no signal in this one
        cursor.execute("UPDATE clinic_proceduretype SET name = 'Renamed', name_en = 'Renamed' WHERE id = %s",
                       [esi.pk])
    assert catalog.current() is held

    later = time.monotonic() + 11
    monkeypatch.setattr(catalog.time, "monotonic", lambda: later)

    assert catalog.current().procedure_types[esi.pk].name == "Renamed"


def test_catalog_changed_says_what_it_did(db, capsys):
    call_command("catalog_changed")
    assert "CATALOG_MAX_AGE_SECONDS" in capsys.readouterr().out


def test_catalog_changed_says_so_when_the_shared_cache_cannot_be_reached(db, settings):
    settings.CACHES = {"default": {"BACKEND": "clinic.redis_cache.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens there
    with pytest.raises(CommandError, match="could not be reached"):
        call_command("catalog_changed")


@pytest.mark.django_db(transaction=True)
def test_a_worker_outside_a_request_sees_a_change_on_its_next_use(postgres, redis_url, demo_clinic, settings):
    """The reminder dispatch runs for most of a minute: it asks the shared version on every use."""
    settings.CACHES = {"default": {"BACKEND": "clinic.redis_cache.RedisCache", "LOCATION": redis_url}}
    location = Location.objects.order_by("pk").first()
    task_prerun.send(sender=None, task_id="dispatch", task=None, args=(), kwargs={})  # a long task under way
    assert catalog.current().locations[location.pk].minimum_notice_hours != 69

    _in_another_process(f"from clinic.models import Location; "
                        f"Location.objects.filter(pk={location.pk}).update(minimum_notice_hours=69)",
                        {"CACHE_URL": redis_url})

    assert catalog.current().locations[location.pk].minimum_notice_hours == 69
    task_postrun.send(sender=None, task_id="dispatch", task=None, args=(), kwargs={})


def test_deleting_a_capability_is_seen(esi):
    room = Room.objects.filter(capabilities__code="fluoroscopy").first()
    laser = Capability.objects.create(code="laser", name="Laser")
    room.capabilities.add(laser)
    assert str(laser.pk) in catalog.current().rooms[room.pk].capability_ids.split(",")

    laser.delete()  # its links go without m2m_changed

    assert str(laser.pk) not in catalog.current().rooms[room.pk].capability_ids.split(",")


def test_a_change_rolled_back_is_never_held(esi):
    catalog.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        ProcedureType.objects.filter(pk=esi.pk).update(name="Never committed")
        assert catalog.current().procedure_types[esi.pk].name == "Never committed"  # its own transaction
        raise RuntimeError

    assert catalog.current().procedure_types[esi.pk].name == esi.name


def test_a_blood_thinner_the_catalog_does_not_hold_yet_is_read_not_dropped(calendar):
    from clinic.models import BloodThinner, Patient
    from scheduling import rows

    warfarin = BloodThinner.objects.get(name__iexact="warfarin")
    calendar.patients[0].blood_thinners.set([warfarin])
    catalog.current().blood_thinners.pop(warfarin.pk)  # as if added by another process a moment ago
    patient = rows.patient(calendar.patients[0].pk)

    catalog.known_blood_thinners(patient)

    assert [drug.pk for drug in patient.blood_thinners.all()] == [warfarin.pk]
    assert isinstance(patient, Patient)


def test_after_a_rolled_back_change_the_held_catalog_serves_every_transaction(esi, django_assert_num_queries):
    with pytest.raises(RuntimeError), transaction.atomic():
        ProcedureType.objects.filter(pk=esi.pk).update(name="Never committed")
        catalog.current()
        raise RuntimeError
    held = catalog.current()

    with transaction.atomic(), django_assert_num_queries(0):
        assert catalog.current() is held


@pytest.mark.parametrize("change", ["block added", "block moved", "block deleted", "closure", "closure lifted"])
def test_a_schedule_or_closure_change_is_seen_by_the_next_search(calendar, change):
    """The weekly blocks and the closures are held in memory too: a change to either shows in
    the very next search, whichever way it was written."""
    from clinic.models import Closure, ScheduleBlock
    from scheduling.selectors import available_slots
    from tests.conftest import NEXT_MONDAY, NOW

    saturday = NEXT_MONDAY + dt.timedelta(days=5)
    day = saturday if change == "block added" else NEXT_MONDAY
    if change == "closure lifted":
        closure = Closure.objects.create(location=calendar.location, first_day=day, last_day=day, reason="Ice")

    def free() -> int:
        return len(available_slots(procedure_type=calendar.esi, location=calendar.location, first_day=day,
                                   last_day=day, now=NOW, physician=calendar.okafor))

    before = free()
    okafor_monday = ScheduleBlock.objects.filter(physician=calendar.okafor, weekday=0, location=calendar.location)
    if change == "block added":
        ScheduleBlock.objects.create(physician=calendar.okafor, location=calendar.location, kind="procedures",
                                     weekday=5, start_time=dt.time(8), end_time=dt.time(12),
                                     valid_from=dt.date(2026, 1, 1))
    elif change == "block moved":
        okafor_monday.update(weekday=1)
    elif change == "block deleted":
        okafor_monday.delete()
    elif change == "closure":
        Closure.objects.create(location=calendar.location, first_day=day, last_day=day, reason="Ice")
    else:
        closure.delete()

    if change in {"block added", "closure lifted"}:
        assert before == 0 < free()
    else:
        assert before > 0 == free()
