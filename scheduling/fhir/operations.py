"""`Appointment/$find`, `$hold` and `$book`, after the IHE ITI Scheduling profile (ITI-115 to 117).

$find proposes appointments (every participant: physician, room, site and the patient); each
proposal's id names its slot (scheduling/fhir/slot_ids.py), so $hold and $book take it back as
`appointment-reference`, or take the proposed Appointment itself as `appointment-resource`.
$hold holds exactly the proposal's time, physician and room (scheduling/services/holds.py; a
taken room is a 409, never another room) and answers with the hold's key and expiry; $book books
the proposal's room through `appointment_book`, honouring that hold.

Both take an `Idempotency-Key` header as the REST API's POSTs do (scheduling/api/idempotency.py):
a retry with the same key and body gets the first answer, status and body.

Orders: a procedure that needs an order is booked against the `order` parameter when given (the
order's id), else against the patient's oldest open order for that procedure type that the
pathway rules allow, exactly as the REST API's booking does.
"""

from __future__ import annotations

from django.utils import timezone
from rest_framework import status
from rest_framework.response import Response

from clinic.access_log import record_access, request_label
from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine
from scheduling import services
from scheduling.api import idempotency
from scheduling.fhir import mapping, params, slot_ids
from scheduling.fhir.base import FhirView
from scheduling.fhir.errors import FhirError
from scheduling.fhir.slots import SlotQuery, find_slots, procedure_type_for
from scheduling.models import Appointment, ProcedureOrder, SlotHold
from scheduling.services.holds import new_hold_key


def _known(name: str, kind: str, records, id_: str):
    """The record a parameter names (`records`: a model or a queryset), or a 400 naming the parameter."""
    pk = params.integer_id(id_)
    records = records._default_manager.all() if isinstance(records, type) else records
    found = records.filter(pk=pk).first() if pk else None
    if found is None:
        raise FhirError(f"{name}: {kind}/{id_[:64]} is not known.", code="not-found", expression=name)
    return found


def _reference(found: dict, name: str, kind: str, model):
    value = params.single(found, name)
    if value is None:
        return None
    return _known(name, kind, model, params.reference_id(name, params.reference_value(name, value), kind))


class FindView(FhirView):
    """`GET|POST /fhir/r4/Appointment/$find`: params start, end, service-type (required),
    practitioner, location (a site or a room), patient, _count."""

    required_permissions = {"*": "scheduling.view_appointment"}
    search_params = {"start": "date", "end": "date", "service-type": "token", "practitioner": "reference",
                     "location": "reference", "patient": "reference"}

    def get(self, request):
        return self._find(params.query_as_parameters(request.query_params))

    def post(self, request):
        found = params.operation_parameters(request.data)
        self.refuse_unknown(found)
        return self._find(found)

    def _as_query(self, found: dict) -> list[tuple[str, str]]:
        """The known parameters as a query string carries them: a Reference by its reference,
        an Identifier or Coding by its value or code."""
        query = []
        for name, values in found.items():
            if name in self.known_params():
                for value in values:
                    if isinstance(value, dict):
                        value = value.get("reference") or value.get("value") or value.get("code") or ""
                    query.append((name, str(value)))
        return query

    def _find(self, found: dict) -> Response:
        page = params.paging({name: str(values[0]) for name, values in found.items()
                              if name in ("_count", "_offset") and values}, default_count=20)
        service = params.single(found, "service-type", required=True)
        procedure_type = procedure_type_for(params.string_value("service-type", service))
        if procedure_type is None:
            raise FhirError("service-type: no procedure type has that code.", code="not-found",
                            expression="service-type")
        window = self._window(found)
        location_value = params.single(found, "location")
        location = room = None
        if location_value is not None:
            id_ = params.reference_id("location", params.reference_value("location", location_value), "Location")
            if id_.startswith("room-"):
                room = _known("location", "Location", Room.objects.select_related("location"), id_[5:])
            else:
                location = _known("location", "Location", Location, id_)
        physician = _reference(found, "practitioner", "Practitioner", Physician)
        patient = _reference(found, "patient", "Patient", Patient)
        result = find_slots(SlotQuery(procedure_type=procedure_type, window=window, physician=physician,
                                      location=location, room=room, patient=patient), now=timezone.now())
        shown = page.of(result.slots)
        names = self._names(shown)
        resources = [mapping.proposed_appointment(slot, procedure_type=procedure_type, location=site,
                                                  physician_name=names[0].get(slot.physician_id, ""),
                                                  room_name=names[1].get(slot.room_id, ""), patient=patient)
                     for slot, site in shown]
        outcome = None
        if result.refused is not None:
            outcome = mapping.operation_outcome([
                mapping.issue("information", "business-rule", item.message) for item in result.refused.unmet])
        if patient is not None:
            record_access(self.request, [patient], request_label(self.request))
        return Response(self.searchset(resources, total=len(result.slots), page=page, outcome=outcome,
                                       query=self._as_query(found)))

    @staticmethod
    def _window(found: dict) -> params.Window:
        start, end = params.single(found, "start"), params.single(found, "end")
        values = []
        if start is not None:
            values.append("ge" + params.string_value("start", start))
        if end is not None:
            values.append("le" + params.string_value("end", end))
        return params.window("start", values)

    @staticmethod
    def _names(shown) -> tuple[dict[int, str], dict[int, str]]:
        physicians = {p.pk: p.name for p in Physician.objects.select_related("user").filter(
            pk__in={slot.physician_id for slot, _ in shown})}
        rooms = dict(Room.objects.filter(pk__in={slot.room_id for slot, _ in shown}).values_list("pk", "name"))
        return physicians, rooms


class _Chosen:
    """What $hold and $book act on: the proposed appointment's slot, the patient, the hold."""

    def __init__(self, found: dict):
        reference = params.single(found, "appointment-reference")
        resource = params.single(found, "appointment-resource")
        if (reference is None) == (resource is None):
            raise FhirError("Give either appointment-reference (a proposed Appointment from $find) or "
                            "appointment-resource.", code="required", expression="appointment-reference")
        patient_id, self.hold_key = None, ""
        if reference is not None:
            id_ = params.reference_id("appointment-reference",
                                      params.reference_value("appointment-reference", reference), "Appointment")
            parsed = slot_ids.parse(id_)
        else:
            parsed, patient_id, self.hold_key = self._from_resource(resource)
        if parsed is None:
            raise FhirError("The appointment does not name a time $find proposed.", code="not-found",
                            expression="appointment-reference" if reference is not None else "appointment-resource")
        key, proposed_patient = parsed
        self.key = key
        self.procedure_type = _known("appointment", "HealthcareService", ProcedureType, str(key.procedure_type_id))
        self.physician = _known("appointment", "Practitioner", Physician.objects.select_related("user"),
                                str(key.physician_id))
        self.room = _known("appointment", "Location", Room.objects.select_related("location"), str(key.room_id))
        self.start = key.start.astimezone(self.room.location.zone)
        patient = _reference(found, "patient-reference", "Patient", Patient)
        if patient is None and (patient_id or proposed_patient):
            patient = _known("patient-reference", "Patient", Patient, str(patient_id or proposed_patient))
        self.patient = patient
        hold = params.single(found, "hold")
        if hold is not None:
            self.hold_key = params.string_value("hold", hold)

    @staticmethod
    def _from_resource(resource):
        if not isinstance(resource, dict) or resource.get("resourceType") != "Appointment":
            raise FhirError("appointment-resource must be an Appointment.", expression="appointment-resource")
        slot_reference = next((item.get("reference", "") for item in resource.get("slot") or []), "")
        parsed = slot_ids.parse(slot_reference.rsplit("/", 1)[-1]) or slot_ids.parse(resource.get("id") or "")
        patient_id = None
        for participant in resource.get("participant") or []:
            actor = (participant.get("actor") or {}).get("reference") or ""
            if actor.startswith("Patient/"):
                patient_id = actor.split("/", 1)[1]
        hold_key = next((item.get("value", "") for item in resource.get("identifier") or []
                         if item.get("system") == mapping.HOLD_SYSTEM), "")
        return parsed, patient_id, hold_key


class HoldView(FhirView):
    """`POST /fhir/r4/Appointment/$hold`: hold a proposed time for 10 minutes."""

    required_permissions = {"*": "scheduling.add_appointment"}
    parameters = ("appointment-reference", "appointment-resource", "patient-reference")

    def post(self, request):
        return idempotency.answer_once(request, lambda: self._hold(request))

    def _hold(self, request) -> Response:
        chosen = _Chosen(params.operation_parameters(request.data))
        hold = services.slot_hold(key=new_hold_key(), procedure_type=chosen.procedure_type,
                                  physician=chosen.physician, start=chosen.start, patient=chosen.patient,
                                  room=chosen.room)
        return Response(mapping.bundle("collection", [self._held(chosen, hold)], base=self.base_url(),
                                       outcome=self._outcome(hold)))

    @staticmethod
    def _held(chosen: _Chosen, hold: SlotHold) -> dict:
        zone = hold.location.zone
        slot = _engine_slot(hold)
        resource = mapping.proposed_appointment(
            slot, procedure_type=chosen.procedure_type, location=hold.location, physician_name=chosen.physician.name,
            room_name=hold.room.name, patient=chosen.patient)
        resource["status"] = "pending"
        resource["identifier"] = [{"system": mapping.HOLD_SYSTEM, "value": hold.key}]
        resource["extension"] = [{"url": mapping.HOLD_EXPIRES_URL,
                                  "valueDateTime": mapping.iso(hold.expires_at, zone)}]
        return resource

    @staticmethod
    def _outcome(hold: SlotHold) -> dict:
        until = hold.expires_at.astimezone(hold.location.zone)
        return mapping.operation_outcome([mapping.issue(
            "information", "informational",
            f"Held until {until.isoformat()}; book it with $book before then (give the hold's identifier).")])


def _engine_slot(hold: SlotHold) -> engine.Slot:
    """The held time as the engine's slot (proposed_appointment derives arrival and the room's span)."""
    return engine.Slot(start=hold.procedure_start, physician_id=hold.physician_id, end=hold.procedure_end,
                       arrival=hold.procedure_start, discharge=hold.discharge, room_id=hold.room_id)


class BookView(FhirView):
    """`POST /fhir/r4/Appointment/$book`: book a proposed (or held) appointment."""

    required_permissions = {"*": "scheduling.add_appointment"}
    parameters = ("appointment-reference", "appointment-resource", "patient-reference", "order", "hold")

    def post(self, request):
        response = idempotency.answer_once(request, lambda: self._book(request))
        if response.status_code == status.HTTP_201_CREATED and not response.has_header("Location"):
            response["Location"] = response.data["entry"][0]["fullUrl"]  # a replayed answer's
        return response

    def _book(self, request) -> Response:
        found = params.operation_parameters(request.data)
        chosen = _Chosen(found)
        if chosen.patient is None:
            raise FhirError("patient-reference is required (or a proposed appointment with its patient).",
                            code="required", expression="patient-reference")
        order = None
        order_value = params.single(found, "order")
        if order_value is not None:
            value = params.string_value("order", order_value)
            order = _known("order", "ServiceRequest", ProcedureOrder, value.rsplit("/", 1)[-1])
        booking = dict(patient=chosen.patient, procedure_type=chosen.procedure_type, physician=chosen.physician,
                       start=chosen.start, by=request.user, order=order,
                       room=chosen.room)  # the proposal's room, which its hold (if any) holds too
        outcome = None
        if chosen.hold_key:
            # A hold named is checked, never ignored: unknown is a 400, lapsed on a taken time a 409.
            appointment, lapsed = services.appointment_book_held(hold_key=chosen.hold_key, **booking)
            if lapsed:
                outcome = mapping.operation_outcome([mapping.issue(
                    "information", "informational", "The hold had lapsed; the time was still free, so it is booked.",
                    ["hold"])])
        else:
            appointment = services.appointment_book(**booking)
        appointment = Appointment.objects.select_related(
            "location", "procedure_type", "patient", "physician__user", "room").get(pk=appointment.pk)
        record_access(request, [appointment.patient_id], request_label(request))
        return Response(mapping.bundle("collection", [mapping.appointment(appointment)], base=self.base_url(),
                                       outcome=outcome),
                        status=status.HTTP_201_CREATED,
                        headers={"Location": f"{self.base_url()}Appointment/{appointment.pk}"})

