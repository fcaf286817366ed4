"""The clinic's catalog, held in each process's memory: what every booking reads and staff rarely
change. Procedure types (with what a room needs for each), physicians (with what they are
credentialed for), their weekly schedule blocks, locations and their closures, rooms (with their
capabilities and location), pathway rules (with their prerequisites), reminder plans, webhook
endpoints, blood thinners and payers.

A booking then reads none of them from the database. Every change to them, through the admin,
a service, a queryset's `update()` or a management command, marks the catalog changed
(`changed`, wired up in scheduling/apps.py), and the next use anywhere reads it afresh:

- with a shared cache (CACHE_URL, Redis), the catalog's version lives there, and every process
  sees a change as soon as it is committed (a request under way keeps the catalog it started
  with);
- without one (the embedded default), a process sees its own changes at once and another
  process's within CATALOG_MAX_AGE_SECONDS;
- either way, no process keeps the catalog longer than CATALOG_MAX_AGE_SECONDS (a backstop
  for writes no signal announces: a data migration, a cache write lost after a commit).

A change made behind Interval's back (SQL typed into the database) is seen at once after
`manage.py catalog_changed`.

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
from django.db import connection, transaction
from django.db.models import Prefetch, Value, prefetch_related_objects
from django.db.models.functions import Coalesce

from clinic.models import BloodThinner, Closure, Location, Payer, Physician, ProcedureType, Room, ScheduleBlock

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
    schedule_blocks: dict[int, list[ScheduleBlock]]  # location id -> its blocks, by physician, weekday, start
    closures: dict[int, list[Closure]]  # location id -> its closures, by first day
    payers: dict[int, Payer]


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
    blocks, closures = defaultdict(list), defaultdict(list)
    for block in ScheduleBlock.objects.order_by("physician_id", "weekday", "start_time", "pk"):
        blocks[block.location_id].append(block)
    for closure in Closure.objects.order_by("first_day", "pk"):
        closures[closure.location_id].append(closure)
    rooms = list(Room.objects.select_related("location").annotate(
        capability_ids=Coalesce(IdList("capabilities"), Value(""))))
    for room in rooms:  # one object per location (a location added meanwhile keeps the room's own)
        locations.setdefault(room.location_id, room.location)
        Room.location.field.set_cached_value(room, locations[room.location_id])
    physicians = {each.pk: each for each in physicians}
    for by_location in blocks.values():  # a block's physician and location are the catalog's own
        for block in by_location:
            if block.physician_id in physicians:
                ScheduleBlock.physician.field.set_cached_value(block, physicians[block.physician_id])
            if block.location_id in locations:
                ScheduleBlock.location.field.set_cached_value(block, locations[block.location_id])
    for by_location in closures.values():
        for closure in by_location:
            if closure.location_id in locations:
                Closure.location.field.set_cached_value(closure, locations[closure.location_id])
    for each in procedure_types.values():  # a follow-up is the catalog's own procedure type too
        if each.follow_up_type_id in procedure_types:
            ProcedureType.follow_up_type.field.set_cached_value(each, procedure_types[each.follow_up_type_id])
    return Catalog(
        procedure_types=procedure_types,
        procedure_types_by_code={each.code: each for each in procedure_types.values()},
        physicians=physicians,
        locations=locations,
        rooms={each.pk: each for each in rooms},
        rules=dict(rules),
        reminder_steps=dict(steps),
        webhook_endpoints=list(WebhookEndpoint.objects.filter(is_active=True).order_by("pk")),
        blood_thinners={each.pk: each for each in BloodThinner.objects.all()},
        schedule_blocks=dict(blocks),
        closures=dict(closures),
        payers={each.pk: each for each in Payer.objects.all()},
    )


@dataclass(frozen=True)
class _Held:
    version: str
    read_at: float
    catalog: Catalog


_held: _Held | None = None
_local_version = uuid.uuid4().hex
_loading = threading.Lock()
# Per thread: the catalog the request under way works with, and whether this thread's open
# transaction changed the catalog (its rows are then its own until it commits).
_scope = threading.local()


def shared() -> bool:
    """Whether the version lives in a cache every process shares (CACHE_URL)."""
    return "locmem" not in settings.CACHES["default"]["BACKEND"].lower()


def begin(**_signal) -> None:
    """A request starts (request_started): it works with one catalog throughout."""
    _scope.active, _scope.catalog = True, None


def end(**_signal) -> None:
    _scope.active, _scope.catalog = False, None


def _version() -> str:
    if not shared():
        return _local_version
    version = cache.get(VERSION_KEY)
    if version is None:  # never set, or evicted: a new version, so nobody keeps what they hold
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY)
    return f"{version}:{_local_version}"


def _fresh(held: _Held | None, version: str) -> bool:
    # The age is a backstop with a shared cache too: a write no signal announces (a data
    # migration, a failed cache write after a commit) is not kept for longer than this.
    return held is not None and held.version == version and \
        time.monotonic() - held.read_at < settings.CATALOG_MAX_AGE_SECONDS


def _own_transaction():
    """The outermost transaction this code opened, if any (a test case's wrapping one stands for
    the database)."""
    return next((block for block in connection.atomic_blocks if not getattr(block, "_from_testcase", False)), None)


def _changed_here() -> bool:
    """Whether the transaction still open on this thread changed the catalog: it ends, committed
    or rolled back, when its outermost block leaves `atomic_blocks`."""
    changer = getattr(_scope, "changer", None)
    if changer is None:
        return False
    if any(block is changer for block in connection.atomic_blocks):
        return True
    _scope.changer, _scope.own = None, None
    return False


def current() -> Catalog:
    """The catalog as it stands."""
    global _held
    if _changed_here():
        # This transaction's own changes, not committed: this thread's alone, read again after
        # each further change (a seed that writes the catalog, then books with it).
        own = getattr(_scope, "own", None)
        if own is None or own[0] != _local_version:
            own = _scope.own = (_local_version, _load())
        return own[1]
    active = getattr(_scope, "active", False)
    if active and _scope.catalog is not None:
        return _scope.catalog
    version = _version()
    held = _held
    if not _fresh(held, version):
        with _loading:  # one thread reads it; the others wait for its answer
            held = _held
            if not _fresh(held, version):
                # Kept under the version read *before* loading: a change committed meanwhile
                # has moved the version on, so the next use reads again.
                held = _held = _Held(version, time.monotonic(), _load())
    if active:
        _scope.catalog = held.catalog
    return held.catalog


def _bump_here() -> None:
    global _local_version
    _local_version = uuid.uuid4().hex
    _scope.catalog = None


def _bump_everywhere() -> None:
    _bump_here()
    if shared():
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def changed(**_signal) -> None:
    """The catalog changed: read it afresh on next use, here at once (this transaction reads its
    own rows, kept from every other thread until it commits), everywhere after the commit."""
    _bump_here()
    changer = _own_transaction()
    if changer is not None and not _changed_here():
        _scope.changer = changer
    transaction.on_commit(_bump_everywhere)


def forget(**_signal) -> None:
    """Every process reads the catalog afresh (after migrations, `catalog_changed`, each test)."""
    global _held
    _held = None
    _scope.changer, _scope.own, _scope.catalog = None, None, None
    _bump_everywhere()


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
    wanted = [int(pk) for pk in ids.split(",") if pk]
    if any(pk not in held for pk in wanted):  # a drug added since the catalog was read: never drop one
        prefetch_related_objects([patient], "blood_thinners")
        return
    known = patient.blood_thinners.all()
    known._result_cache = sorted((held[pk] for pk in wanted), key=lambda drug: drug.name)
    known._prefetch_done = True
    patient._prefetched_objects_cache = {**cached, "blood_thinners": known}


def known_relations(rows, *names: str):
    """Give each row's `names` (procedure_type, location, physician, room, payer) from the catalog instead
    of a join; a row the catalog does not hold yet is left to be read when asked for."""
    held = current()
    tables = {"procedure_type": held.procedure_types, "location": held.locations, "physician": held.physicians,
              "room": held.rooms, "payer": held.payers}
    for row in rows:
        for name in names:
            field = row._meta.get_field(name)
            known = tables[name].get(getattr(row, field.attname))
            if known is not None:
                field.set_cached_value(row, known)
    return rows
