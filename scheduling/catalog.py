"""The clinic's catalog, held in each process's memory: what every booking reads and staff rarely
change. Procedure types (with what a room needs for each), physicians (with what they are
credentialed for), rooms (with their capabilities and location), pathway rules (with their
prerequisites), reminder plans, webhook endpoints and blood thinners.

A booking then reads none of them from the database. Every change to them, through the admin,
a service, a queryset's `update()` or a management command, marks the catalog changed
(`changed`, wired up in scheduling/apps.py), and the next use anywhere reads it afresh:

- with a shared cache (CACHE_URL, Redis), the catalog's version lives there, and every process
  sees a change as soon as it is committed (a request under way keeps the catalog it started
  with);
- without one (the embedded default), a process sees its own changes at once and another
  process's within CATALOG_MAX_AGE_SECONDS.

A change made behind Interval's back (SQL typed into the database) is seen after
`manage.py catalog_changed`, or when the processes restart.

The rows handed out are shared by every request of the process: read them, never change them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Prefetch, Value, prefetch_related_objects
from django.db.models.functions import Coalesce

from clinic.models import BloodThinner, Location, Physician, ProcedureType, Room

VERSION_KEY = "interval:catalog:version"


@dataclass(frozen=True)
class Catalog:
    procedure_types: dict[int, ProcedureType]
    procedure_types_by_code: dict[str, ProcedureType]
    physicians: dict[int, Physician]
    locations: dict[int, Location]
    rooms: dict[int, Room]  # with `capability_ids` ("3,7") and their location
    rules: dict[int, list]  # procedure type id -> its active PathwayRules, prerequisites and payer read
    reminder_steps: dict[int, list]  # procedure type id -> its active ReminderSteps
    webhook_endpoints: list  # the active WebhookEndpoints
    blood_thinners: dict[int, BloodThinner]


def _load() -> Catalog:
    from scheduling.models import PathwayRule, ReminderStep, WebhookEndpoint
    from scheduling.selectors import IdList, with_room_needs

    procedure_types = {each.pk: each for each in with_room_needs(ProcedureType.objects.all())}
    physicians = Physician.objects.select_related("user").annotate(
        procedure_type_ids=Coalesce(IdList("procedure_types"), Value("")))
    rules = defaultdict(list)
    for rule in PathwayRule.objects.filter(is_active=True).select_related("payer").prefetch_related(
            Prefetch("prerequisite_types", queryset=ProcedureType.objects.order_by("pk"))).order_by("pk"):
        rules[rule.procedure_type_id].append(rule)
    steps = defaultdict(list)
    for step in ReminderStep.objects.filter(is_active=True).order_by("pk"):
        steps[step.procedure_type_id].append(step)
    locations = {each.pk: each for each in Location.objects.all()}
    rooms = list(Room.objects.annotate(capability_ids=Coalesce(IdList("capabilities"), Value(""))))
    for room in rooms:
        Room.location.field.set_cached_value(room, locations[room.location_id])
    return Catalog(
        procedure_types=procedure_types,
        procedure_types_by_code={each.code: each for each in procedure_types.values()},
        physicians={each.pk: each for each in physicians},
        locations=locations,
        rooms={each.pk: each for each in rooms},
        rules=dict(rules),
        reminder_steps=dict(steps),
        webhook_endpoints=list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk")),
        blood_thinners={each.pk: each for each in BloodThinner.objects.all()},
    )


@dataclass(frozen=True)
class _Held:
    version: str
    read_at: float
    catalog: Catalog


_held: _Held | None = None
_local_version = uuid.uuid4().hex
_loading = threading.Lock()


def shared() -> bool:
    """Whether the version lives in a cache every process shares (CACHE_URL)."""
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


# Inside a request the shared version is asked once: the request works with one catalog
# throughout, and a cache call is not repeated for every use.
_scope = threading.local()


def begin(**_signal) -> None:
    """A request starts (request_started): ask the version once."""
    _scope.active, _scope.version = True, None


def end(**_signal) -> None:
    _scope.active, _scope.version = False, None


def _version() -> str:
    if not shared():
        return _local_version
    if getattr(_scope, "active", False):
        if _scope.version is None:
            _scope.version = _shared_version()
        return _scope.version
    return _shared_version()


def _shared_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: a new version, so nobody keeps what they hold
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def _fresh(held: _Held | None, version: str) -> bool:
    return held is not None and held.version == version and (
        shared() or time.monotonic() - held.read_at < settings.CATALOG_MAX_AGE_SECONDS)


def current() -> Catalog:
    """The catalog as it stands."""
    global _held
    version = _version()
    if _fresh(_held, version):
        return _held.catalog
    with _loading:  # one thread reads it; the others wait for its answer
        if _fresh(_held, version):
            return _held.catalog
        catalog = _load()
        # Kept under the version read *before* loading: a change committed meanwhile has moved
        # the version on, so the next use reads again.
        _held = _Held(version, time.monotonic(), catalog)
    return catalog


def _bump() -> None:
    global _local_version
    _local_version = uuid.uuid4().hex
    _scope.version = None
    if shared():
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def changed(**_signal) -> None:
    """The catalog changed: read it afresh on next use. At once (this transaction's own reads
    see it) and again after the commit (a process that read the catalog in between, without
    the change, reads it again)."""
    _bump()
    transaction.on_commit(_bump)


def forget() -> None:
    """Drop what this process holds (tests start each from the database)."""
    global _held
    _held = None
    _bump()


def known_blood_thinners(patient) -> None:
    """Make `patient.blood_thinners.all()` answer from the catalog when the patient was read with
    `blood_thinner_ids` (scheduling/booking_inputs.py), else read them once."""
    cached = getattr(patient, "_prefetched_objects_cache", {})
    if "blood_thinners" in cached:
        return
    ids = getattr(patient, "blood_thinner_ids", None)
    if ids is None:
        prefetch_related_objects([patient], "blood_thinners")
        return
    held = current().blood_thinners
    known = patient.blood_thinners.all()
    known._result_cache = sorted((held[int(pk)] for pk in ids.split(",") if pk and int(pk) in held),
                                 key=lambda drug: drug.name)
    known._prefetch_done = True
    patient._prefetched_objects_cache = {**cached, "blood_thinners": known}


def known_relations(rows, *names: str):
    """Give each row's `names` (procedure_type, location, physician, room) from the catalog instead
    of a join; a row the catalog does not hold yet is left to be read when asked for."""
    held = current()
    tables = {"procedure_type": held.procedure_types, "location": held.locations, "physician": held.physicians,
              "room": held.rooms}
    for row in rows:
        for name in names:
            field = row._meta.get_field(name)
            known = tables[name].get(getattr(row, field.attname))
            if known is not None:
                field.set_cached_value(row, known)
    return rows
