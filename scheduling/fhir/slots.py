"""Slots: computed by the availability selector for each request, never stored.

`Slot` search and `Appointment/$find` share `find_slots`: the same engine answer the REST
API's `/api/v1/availability/` gives, for one procedure type, over a window, narrowed to a
physician, a location or a room, and for a patient only the times they are free and eligible.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re

from django.utils import timezone
from rest_framework.response import Response

from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine
from scheduling.api.serializers import MAX_WINDOW_DAYS
from scheduling.fhir import mapping, params, slot_ids
from scheduling.fhir.base import FhirView
from scheduling.fhir.errors import FhirError, not_found
from scheduling.pathways.bookable_days import bookable_days
from scheduling.pathways.rules import Eligibility
from scheduling.selectors import available_slots, locations_offering, segments_of

_PHYSICIAN_SCHEDULE = re.compile(r"physician-([1-9]\d{0,11})-location-([1-9]\d{0,11})")
_ROOM = re.compile(r"room-([1-9]\d{0,11})")


@dataclasses.dataclass
class SlotQuery:
    procedure_type: ProcedureType
    window: params.Window
    physician: Physician | None = None
    location: Location | None = None
    room: Room | None = None
    patient: Patient | None = None


@dataclasses.dataclass
class Found:
    slots: list[tuple[engine.Slot, Location]]
    refused: Eligibility | None = None  # the patient's unmet rules, when no day of the window is allowed


def find_slots(query: SlotQuery, *, now: dt.datetime) -> Found:
    if query.room is not None:
        locations = [query.room.location]
    elif query.location is not None:
        locations = [query.location]
    else:
        locations = list(locations_offering(query.procedure_type))
    found: list[tuple[engine.Slot, Location]] = []
    refused = None
    for location in locations:
        zone = location.zone
        lower, upper = query.window.bounds(zone, now.astimezone(zone).date())
        if upper <= lower:
            continue
        first_day = lower.astimezone(zone).date()
        last_day = (upper - dt.timedelta(microseconds=1)).astimezone(zone).date()
        if (last_day - first_day).days >= MAX_WINDOW_DAYS:
            raise FhirError(f"Ask for at most {MAX_WINDOW_DAYS} days at a time.", expression="start")
        if query.patient is not None:
            # For a patient, only days the pathway rules allow (the REST API's availability does the same).
            days = bookable_days(patient=query.patient, procedure_type=query.procedure_type, location=location,
                                 now=now, by_patient=False, first_day=first_day, last_day=last_day)
            if days.first is None:
                refused = days.why_not()
                continue
            first_day, last_day = days.first, days.last
        slots = available_slots(procedure_type=query.procedure_type, location=location, first_day=first_day,
                                last_day=last_day, now=now, physician=query.physician, patient=query.patient,
                                room=query.room)
        if query.patient is not None:
            slots = [slot for slot in slots if days.allows(slot.start.astimezone(zone).date())]
        found += [(slot, location) for slot in slots if lower <= slot.start < upper]
    found.sort(key=lambda item: (item[0].start, item[0].physician_id, item[1].pk))
    return Found(found, refused if not found else None)


def schedule_filter(value: str) -> dict | None:
    """What a `schedule` reference narrows slots to ({"physician", "location"} or {"room"});
    None when it names no schedule that exists."""
    id_ = params.reference_id("schedule", value, "Schedule")
    if match := _PHYSICIAN_SCHEDULE.fullmatch(id_):
        physician = Physician.objects.select_related("user").filter(pk=int(match[1])).first()
        location = Location.objects.filter(pk=int(match[2])).first()
        return None if physician is None or location is None else {"physician": physician, "location": location}
    if match := _ROOM.fullmatch(id_):
        room = Room.objects.select_related("location").filter(pk=int(match[1])).first()
        return None if room is None else {"room": room}
    raise FhirError("schedule must name a Schedule, e.g. Schedule/physician-1-location-1 or Schedule/room-1.",
                    expression="schedule")


def procedure_type_for(value: str, name: str = "service-type") -> ProcedureType | None:
    system, code = params.token(name, value)
    if system not in (None, "", mapping.PROCEDURE_TYPE_SYSTEM):
        return None
    return ProcedureType.objects.prefetch_related("required_capabilities", "alternative_capabilities").filter(
        code=code, is_active=True).first()


class SlotSearchView(FhirView):
    """`GET /fhir/r4/Slot?service-type=ESI_IL&start=ge2026-11-30&start=le2026-12-06[&schedule=][&status=free]`"""

    required_permissions = {"*": "scheduling.view_appointment"}
    search_params = {
        "service-type": "token",
        "schedule": "reference",
        "start": "date",
        "status": "token",
    }

    def get(self, request):
        query = request.query_params
        page = self.paging(default_count=100)
        if not query.get("service-type"):
            raise FhirError("Slots depend on the procedure: give service-type (a catalog code, e.g. ESI_IL).",
                            code="required", expression="service-type")
        procedure_type = procedure_type_for(query["service-type"])
        narrowed = schedule_filter(query["schedule"]) if query.get("schedule") else {}
        window = params.window("start", query.getlist("start"))
        statuses = {params.token("status", value)[1] for value in query.getlist("status")}
        if procedure_type is None or narrowed is None or (statuses and "free" not in statuses):
            return self._answer([], page)  # no such procedure or schedule; computed slots are all free
        found = find_slots(SlotQuery(procedure_type=procedure_type, window=window, **narrowed), now=timezone.now())
        return self._answer(found.slots, page, procedure_type=procedure_type, narrowed=narrowed)

    def _answer(self, found, page, *, procedure_type=None, narrowed=None):
        schedule_id = mapping.room_schedule_id(narrowed["room"].pk) if narrowed and "room" in narrowed else None
        resources = mapping.EntriesJSON()
        for location, group in itertools.groupby(page.of(found), key=lambda item: item[1]):
            resources += mapping.slot_entries_json([slot for slot, _ in group], procedure_type=procedure_type,
                                                   location=location, base=self.base_url(), schedule_id=schedule_id)
        return Response(self.searchset(resources, total=len(found), page=page))


class SlotReadView(FhirView):
    """`GET /fhir/r4/Slot/<id>`: free while the engine still offers that time, else busy."""

    required_permissions = {"*": "scheduling.view_appointment"}

    def get(self, request, id):
        parsed = slot_ids.parse(id)
        if parsed is None or parsed[1] is not None:
            raise not_found("Slot", id)
        key = parsed[0]
        procedure_type = ProcedureType.objects.filter(pk=key.procedure_type_id).first()
        physician = Physician.objects.filter(pk=key.physician_id).first()
        room = Room.objects.select_related("location").filter(pk=key.room_id).first()
        if procedure_type is None or physician is None or room is None:
            raise not_found("Slot", id)
        location = room.location
        day = key.start.astimezone(location.zone).date()
        free = any(slot.start == key.start and slot.physician_id == physician.pk for slot in available_slots(
            procedure_type=procedure_type, location=location, first_day=day, last_day=day, now=timezone.now(),
            physician=physician, room=room))
        visit = engine.visit_at(key.start.astimezone(location.zone), segments_of(procedure_type))
        slot = engine.Slot(start=visit.start, physician_id=physician.pk, end=visit.end, arrival=visit.arrival,
                           discharge=visit.discharge, room_id=room.pk)
        return Response(mapping.slot(slot, procedure_type=procedure_type, location=location,
                                     status="free" if free else "busy"))

