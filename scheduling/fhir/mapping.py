"""Pure functions: the clinic's records and the engine's slots as FHIR R4 resources (JSON dicts).

Nothing here reads the database beyond the attributes of what it is given (callers load
related rows up front), so a search of many resources costs what its queries cost. The views
hand these dicts to `rendering.fhir_response`, which checks them with fhir.resources.

Choices (README "FHIR R4"):
- A room is a `Location` too (`physicalType` ro, `partOf` its site), id `room-<id>`: EHRs look
  for rooms among Locations, and a Device would say nothing about where the patient goes.
- Schedules: one per physician per location (`physician-<id>-location-<id>`), one per room
  (`room-<id>`).
- Appointment start/end are the procedure's own; each participant's `period` says when that
  participant is needed (the patient from arrival to discharge, the room with set-up and turnover).
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from clinic import phone_numbers
from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine
from scheduling.fhir import slot_ids
from scheduling.models import Appointment, AppointmentStatus
from scheduling.selectors import segments_of

FHIR_VERSION = "4.0.1"
PROCEDURE_TYPE_SYSTEM = "urn:interval:procedure-type"
PATIENT_SYSTEM = "urn:interval:patient"
MEMBER_ID_SYSTEM = "urn:interval:payer-member-id"
ORDER_SYSTEM = "urn:interval:order"
HOLD_SYSTEM = "urn:interval:hold"
HOLD_EXPIRES_URL = "urn:interval:fhir:hold-expires"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
TIME_ZONE_URL = "http://hl7.org/fhir/StructureDefinition/timezone"
PHYSICAL_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/location-physical-type"

# Interval's visit statuses as FHIR Appointment.status (README "FHIR R4" has the table). A visit
# under way (checked in, in procedure, in recovery) is "arrived": FHIR has no finer status.
APPOINTMENT_STATUS = {
    AppointmentStatus.SCHEDULED: "booked",
    AppointmentStatus.CONFIRMED: "booked",
    AppointmentStatus.CHECKED_IN: "arrived",
    AppointmentStatus.IN_PROCEDURE: "arrived",
    AppointmentStatus.IN_RECOVERY: "arrived",
    AppointmentStatus.COMPLETED: "fulfilled",
    AppointmentStatus.CANCELLED: "cancelled",
    AppointmentStatus.NO_SHOW: "noshow",
}
# The other way, for `Appointment?status=`: each FHIR status and the visit statuses it stands for.
STATUSES_FOR_FHIR = {}
for _ours, _theirs in APPOINTMENT_STATUS.items():
    STATUSES_FOR_FHIR.setdefault(_theirs, []).append(_ours)


def _compact(resource: dict) -> dict:
    """Leave out the elements that are None or empty: FHIR forbids empty elements, and a large
    Bundle is written without another pass over it (rendering.py)."""
    return {key: value for key, value in resource.items() if value not in (None, [], {}, "")}


def iso(instant: dt.datetime, zone) -> str:
    return instant.astimezone(zone).isoformat()


def reference(kind: str, id_: object, display: str | None = None) -> dict:
    found = {"reference": f"{kind}/{id_}"}
    if display:
        found["display"] = display
    return found


def room_location_id(room_id: int) -> str:
    return f"room-{room_id}"


def physician_schedule_id(physician_id: int, location_id: int) -> str:
    return f"physician-{physician_id}-location-{location_id}"


def room_schedule_id(room_id: int) -> str:
    return f"room-{room_id}"


def service_type(procedure_type: ProcedureType) -> dict:
    return {"coding": [{"system": PROCEDURE_TYPE_SYSTEM, "code": procedure_type.code,
                        "display": procedure_type.name}]}


def practitioner(physician: Physician) -> dict:
    user = physician.user
    name = {"text": physician.name, "family": user.last_name or user.get_username(), "prefix": ["Dr."]}
    if user.first_name:
        name["given"] = [user.first_name]
    if physician.credentials:
        name["suffix"] = [physician.credentials]
    resource = {"resourceType": "Practitioner", "id": str(physician.pk), "active": physician.is_active,
                "name": [name]}
    if physician.npi:
        resource["identifier"] = [{"system": NPI_SYSTEM, "value": physician.npi}]
    return resource


def site_location(location: Location) -> dict:
    return _compact({
        "resourceType": "Location",
        "id": str(location.pk),
        "extension": [{"url": TIME_ZONE_URL, "valueCode": location.time_zone}],
        "status": "active" if location.is_active else "inactive",
        "name": location.name,
        "mode": "instance",
        "telecom": [{"system": "phone", "value": phone_numbers.raw(location.phone)}] if location.phone else None,
        "address": {"line": [location.address_line], "city": location.city, "state": location.state,
                    "postalCode": location.postal_code},
        "physicalType": {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": "bu", "display": "Building"}]},
    })


def room_location(room: Room) -> dict:
    """A room as a Location inside its site. Its capabilities (fluoroscopy, sterile OR) are its types' text."""
    capabilities = [capability.name for capability in room.capabilities.all()]
    resource = {
        "resourceType": "Location",
        "id": room_location_id(room.pk),
        "status": "active" if room.is_active else "inactive",
        "name": room.name,
        "description": room.get_kind_display(),
        "mode": "instance",
        "physicalType": {"coding": [{"system": PHYSICAL_TYPE_SYSTEM, "code": "ro", "display": "Room"}]},
        "partOf": reference("Location", room.location_id),
    }
    if capabilities:
        resource["type"] = [{"text": name} for name in capabilities]
    return resource


def healthcare_service(procedure_type: ProcedureType, location_ids: list[int]) -> dict:
    return _compact({
        "resourceType": "HealthcareService",
        "id": str(procedure_type.pk),
        "active": procedure_type.is_active,
        "type": [service_type(procedure_type)],
        "name": procedure_type.name,
        "location": [reference("Location", pk) for pk in location_ids] or None,
        "appointmentRequired": True,
        "comment": "Needs an order from a physician." if procedure_type.requires_order else None,
    })


def physician_schedule(physician: Physician, location: Location, procedure_types: list[ProcedureType]) -> dict:
    return _compact({
        "resourceType": "Schedule",
        "id": physician_schedule_id(physician.pk, location.pk),
        "active": physician.is_active and location.is_active,
        "serviceType": [service_type(procedure_type) for procedure_type in procedure_types] or None,
        "actor": [reference("Practitioner", physician.pk, physician.name),
                  reference("Location", location.pk, location.name)],
    })


def room_schedule(room: Room, procedure_types: list[ProcedureType]) -> dict:
    return _compact({
        "resourceType": "Schedule",
        "id": room_schedule_id(room.pk),
        "active": room.is_active,
        "serviceType": [service_type(procedure_type) for procedure_type in procedure_types] or None,
        "actor": [reference("Location", room_location_id(room.pk), room.name)],
    })


def slot(found: engine.Slot, *, procedure_type: ProcedureType, location: Location, schedule_id: str | None = None,
         status: str = "free") -> dict:
    """A computed slot: the procedure's own start and end on the physician's schedule at the location
    (or on the room's schedule when the search named a room's)."""
    return slots([found], procedure_type=procedure_type, location=location, schedule_id=schedule_id,
                 status=status)[0]


def slots(found: list[engine.Slot], *, procedure_type: ProcedureType, location: Location,
          schedule_id: str | None = None, status: str = "free") -> list[dict]:
    """Many slots of one procedure type at one location: what they share is built once."""
    # The code alone: a week of slots repeats it a thousand times (the name is the HealthcareService's).
    zone, kinds = location.zone, [{"coding": [{"system": PROCEDURE_TYPE_SYSTEM, "code": procedure_type.code}]}]
    schedules: dict[int, dict] = {}
    answer = []
    for item in found:
        schedule = schedules.get(item.physician_id)
        if schedule is None:
            schedule = schedules[item.physician_id] = {"reference": "Schedule/" + (
                schedule_id or physician_schedule_id(item.physician_id, location.pk))}
        answer.append({
            "resourceType": "Slot",
            "id": slot_ids.slot_id(procedure_type_id=procedure_type.pk, physician_id=item.physician_id,
                                   room_id=item.room_id, start=item.start),
            "serviceType": kinds,
            "schedule": schedule,
            "status": status,
            "start": iso(item.start, zone),
            "end": iso(item.end, zone),
        })
    return answer


class EntriesJSON(list):
    """Bundle entries already written as JSON text, one str each (rendering.py joins them)."""


def slot_entries_json(found: list[engine.Slot], *, procedure_type: ProcedureType, location: Location, base: str,
                      schedule_id: str | None = None) -> EntriesJSON:
    """`slots` as searchset entries written straight to JSON text: the same resources, field for
    field. A week at a large clinic is over a thousand slots; as dicts, they were two containers
    each that Python's cycle collector then walked with the rest of the heap (as measured when this was written)."""
    dumps = functools.partial(json.dumps, separators=(",", ":"))
    zone = location.zone
    kinds = dumps([{"coding": [{"system": PROCEDURE_TYPE_SYSTEM, "code": procedure_type.code}]}])
    url = dumps(f"{base}Slot/")[:-1]  # the opening quote and the escaped base, without the closing quote
    schedules: dict[int, str] = {}
    answer = EntriesJSON()
    for item in found:
        schedule = schedules.get(item.physician_id)
        if schedule is None:
            schedule = schedules[item.physician_id] = dumps({"reference": "Schedule/" + (
                schedule_id or physician_schedule_id(item.physician_id, location.pk))})
        # An id is digits, letters a-f and '-', and times are ISO 8601: nothing in them needs escaping.
        id_ = slot_ids.slot_id(procedure_type_id=procedure_type.pk, physician_id=item.physician_id,
                               room_id=item.room_id, start=item.start)
        answer.append(
            f'{{"fullUrl":{url}{id_}","resource":{{"resourceType":"Slot","id":"{id_}","serviceType":{kinds},'
            f'"schedule":{schedule},"status":"free","start":"{iso(item.start, zone)}",'
            f'"end":"{iso(item.end, zone)}"}},"search":{{"mode":"match"}}}}')
    return answer


def _participant(actor: dict, status: str, start=None, end=None, zone=None) -> dict:
    found = {"actor": actor, "required": "required", "status": status}
    if start is not None:
        found["period"] = {"start": iso(start, zone), "end": iso(end, zone)}
    return found


def patient_participant_status(status: str) -> str:
    """The patient has accepted once they confirmed (or came); a scheduled visit awaits them."""
    return "needs-action" if status == AppointmentStatus.SCHEDULED else "accepted"


def appointment(visit: Appointment) -> dict:
    """A booked visit. Needs `location`, `procedure_type`, `patient`, `physician__user` and `room` loaded."""
    zone = visit.location.zone
    resource = {
        "resourceType": "Appointment",
        "id": str(visit.pk),
        "status": APPOINTMENT_STATUS[visit.status],
        "serviceType": [service_type(visit.procedure_type)],
        "description": visit.procedure_type.name,
        "start": iso(visit.procedure_start, zone),
        "end": iso(visit.procedure_end, zone),
        "minutesDuration": visit.procedure_type.procedure_minutes,
        "created": iso(visit.created_at, zone),
        "participant": [
            _participant(reference("Patient", visit.patient_id, visit.patient.full_name),
                         patient_participant_status(visit.status), visit.arrival, visit.discharge, zone),
            _participant(reference("Practitioner", visit.physician_id, visit.physician.name), "accepted",
                         visit.procedure_start, visit.procedure_end, zone),
            _participant(reference("Location", room_location_id(visit.room_id), visit.room.name), "accepted",
                         visit.room_start, visit.room_end, zone),
            _participant(reference("Location", visit.location_id, visit.location.name), "accepted"),
        ],
    }
    if visit.order_id:
        resource["basedOn"] = [{"type": "ServiceRequest", "identifier": {"system": ORDER_SYSTEM,
                                                                         "value": str(visit.order_id)}}]
    if visit.status == AppointmentStatus.CANCELLED and visit.cancel_reason:
        resource["cancelationReason"] = {"text": visit.cancel_reason}
    return resource


def proposed_appointment(found: engine.Slot, *, procedure_type: ProcedureType, location: Location,
                         physician_name: str, room_name: str, patient: Patient | None) -> dict:
    """One answer of `$find`: a time with everyone it needs, not booked. Its id names the slot
    (and the patient), so `$hold` and `$book` can take it back as `appointment-reference`."""
    zone = location.zone
    slot_id = slot_ids.slot_id(procedure_type_id=procedure_type.pk, physician_id=found.physician_id,
                               room_id=found.room_id, start=found.start)
    visit = engine.visit_at(found.start.astimezone(zone), segments_of(procedure_type))
    participants = [
        _participant(reference("Practitioner", found.physician_id, physician_name), "needs-action",
                     visit.start, visit.end, zone),
        _participant(reference("Location", room_location_id(found.room_id), room_name), "needs-action",
                     visit.room_start, visit.room_end, zone),
        _participant(reference("Location", location.pk, location.name), "needs-action"),
    ]
    if patient is not None:
        participants.insert(0, _participant(reference("Patient", patient.pk, patient.full_name), "needs-action",
                                            visit.arrival, visit.discharge, zone))
    return {
        "resourceType": "Appointment",
        "id": slot_ids.proposed_id(slot_id, patient.pk if patient else None),
        "status": "proposed",
        "serviceType": [service_type(procedure_type)],
        "description": procedure_type.name,
        "start": iso(found.start, zone),
        "end": iso(found.end, zone),
        "minutesDuration": procedure_type.procedure_minutes,
        "slot": [reference("Slot", slot_id)],
        "participant": participants,
    }


def patient(record: Patient) -> dict:
    identifiers = [{"use": "usual", "system": PATIENT_SYSTEM, "value": str(record.pk)}]
    if record.member_id:
        identifiers.append({"use": "secondary", "system": MEMBER_ID_SYSTEM, "value": record.member_id})
    telecom = []
    if record.phone:
        telecom.append({"system": "phone", "value": phone_numbers.raw(record.phone)})
    if record.email:
        telecom.append({"system": "email", "value": record.email})
    return _compact({
        "resourceType": "Patient",
        "id": str(record.pk),
        "identifier": identifiers,
        "name": [{"family": record.last_name, "given": [record.first_name], "text": record.full_name}],
        "telecom": telecom or None,
        "birthDate": record.date_of_birth.isoformat(),
    })


def issue(severity: str, code: str, diagnostics: str, expression: list[str] | None = None) -> dict:
    found = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        found["expression"] = expression
    return found


def operation_outcome(issues: list[dict]) -> dict:
    return {"resourceType": "OperationOutcome", "issue": issues}


def bundle(kind: str, resources: list[dict], *, base: str, total: int | None = None,
           links: dict[str, str] | None = None, outcome: dict | None = None) -> dict:
    """A Bundle of `kind` (searchset, collection). Resources with an id get a fullUrl under `base`.
    `resources` may be entries already written as JSON (EntriesJSON, without an outcome)."""
    entries, match = [], {"mode": "match"}  # one dict shared by every entry
    if isinstance(resources, EntriesJSON):
        entries, resources = resources, []
    for resource in resources:
        entry = {"resource": resource}
        if resource.get("id"):
            entry["fullUrl"] = f"{base}{resource['resourceType']}/{resource['id']}"
        if kind == "searchset":
            entry["search"] = match
        entries.append(entry)
    if outcome is not None:
        entry = {"resource": outcome}
        if kind == "searchset":
            entry["search"] = {"mode": "outcome"}
        entries.append(entry)
    found = {"resourceType": "Bundle", "type": kind}
    if total is not None:
        found["total"] = total
    if links:
        found["link"] = [{"relation": relation, "url": url} for relation, url in links.items()]
    if entries:
        found["entry"] = entries
    return found
