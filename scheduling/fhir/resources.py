"""Read and search of the stored resources: Practitioner, Location (sites and rooms),
HealthcareService, Schedule, Patient, Appointment. Each view: parse, query, map, page."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from django.db.models import F, Q
from rest_framework.response import Response

from clinic.access_log import record_access, request_label
from clinic.models import Location, Patient, Physician, ProcedureType, Room, ScheduleBlock
from scheduling.fhir import mapping, params
from scheduling.fhir.base import FhirView
from scheduling.fhir.errors import not_found
from scheduling.fhir.slots import procedure_type_for
from scheduling.models import Appointment
from scheduling.selectors import capable_room_ids


class ResourceView(FhirView):
    """`GET <type>/<id>` reads, `GET <type>?...` searches. Subclasses give `resource_type`,
    `search_params` (name -> FHIR type, as the CapabilityStatement lists them), `records`
    (id or query -> records) and `to_resource`."""

    resource_type = ""
    search_params: dict[str, str] = {}

    def get(self, request, id=None):
        if id is not None:
            found = self.read(id)
            if found is None:
                raise not_found(self.resource_type, id)
            self.accessed([found])
            return Response(self.to_resource(found))
        page = self.paging()
        records = self.search(request.query_params)
        total = len(records) if isinstance(records, list) else records.count()
        shown = list(page.of(records))
        self.accessed(shown)
        return Response(self.searchset([self.to_resource(record) for record in shown], total=total, page=page))

    def accessed(self, records) -> None:
        """Views that show patients log who saw them (clinic.access_log)."""

    def read(self, id: str):
        raise NotImplementedError

    def search(self, query):
        raise NotImplementedError

    def to_resource(self, record) -> dict:
        raise NotImplementedError


class PractitionerView(ResourceView):
    resource_type = "Practitioner"
    required_permissions = {"*": "clinic.view_physician"}
    search_params = {"name": "string", "identifier": "token", "active": "token"}

    def records(self):
        return Physician.objects.select_related("user").order_by("pk")

    def read(self, id):
        pk = params.integer_id(id)
        return self.records().filter(pk=pk).first() if pk else None

    def search(self, query):
        records = self.records()
        if "name" in query:
            name = params.text("name", query["name"])
            records = records.filter(Q(user__last_name__istartswith=name) | Q(user__first_name__istartswith=name))
        if "identifier" in query:
            system, value = params.token("identifier", query["identifier"])
            records = records.filter(npi=value) if system in (None, "", mapping.NPI_SYSTEM) else records.none()
        if "active" in query:
            records = records.filter(is_active=params.token("active", query["active"])[1] == "true")
        return records

    def to_resource(self, record):
        return mapping.practitioner(record)


class LocationView(ResourceView):
    """Sites (id = the location's id) and their rooms (id `room-<id>`, partOf the site)."""

    resource_type = "Location"
    required_permissions = {"*": "clinic.view_location"}
    search_params = {"name": "string", "partof": "reference"}

    def read(self, id):
        if id.startswith("room-"):
            pk = params.integer_id(id[5:])
            return Room.objects.prefetch_related("capabilities").filter(pk=pk).first() if pk else None
        pk = params.integer_id(id)
        return Location.objects.filter(pk=pk).first() if pk else None

    def search(self, query):
        sites = Location.objects.order_by("pk")
        rooms = Room.objects.prefetch_related("capabilities").order_by("location_id", "pk")
        if "name" in query:
            name = params.text("name", query["name"])
            sites, rooms = sites.filter(name__icontains=name), rooms.filter(name__icontains=name)
        if "partof" in query:
            pk = params.integer_id(params.reference_id("partof", query["partof"], "Location"))
            sites, rooms = sites.none(), rooms.filter(location_id=pk) if pk else rooms.none()
        return list(sites) + list(rooms)

    def to_resource(self, record):
        return mapping.room_location(record) if isinstance(record, Room) else mapping.site_location(record)


class HealthcareServiceView(ResourceView):
    """One per procedure type; its type's code is the catalog code."""

    resource_type = "HealthcareService"
    required_permissions = {"*": "clinic.view_proceduretype"}
    search_params = {"service-type": "token", "location": "reference", "active": "token"}

    def records(self):
        return ProcedureType.objects.order_by("pk")

    def read(self, id):
        pk = params.integer_id(id)
        return self.records().filter(pk=pk).first() if pk else None

    def search(self, query):
        records = self.records()
        if "service-type" in query:
            found = procedure_type_for(query["service-type"])
            records = records.filter(pk=found.pk) if found else records.none()
        if "location" in query:
            pk = params.integer_id(params.reference_id("location", query["location"], "Location"))
            records = records.filter(pk__in=self.offered_at.get(pk, set())) if pk else records.none()
        if "active" in query:
            records = records.filter(is_active=params.token("active", query["active"])[1] == "true")
        return records

    @cached_property
    def offered_at(self) -> dict[int, set[int]]:
        """Location id -> the procedure types an active, credentialed physician has blocks of its kind for."""
        offered: dict[int, set[int]] = {}
        for location_id, procedure_type_id in ScheduleBlock.objects.filter(
                physician__is_active=True, physician__procedure_types__schedule_kind=F("kind")).values_list(
                "location_id", "physician__procedure_types").distinct():
            offered.setdefault(location_id, set()).add(procedure_type_id)
        return offered

    def to_resource(self, record):
        return mapping.healthcare_service(record, sorted(pk for pk, types in self.offered_at.items()
                                                         if record.pk in types))

class ScheduleView(ResourceView):
    """One Schedule per physician per location they have blocks at, and one per room."""

    resource_type = "Schedule"
    required_permissions = {"*": "scheduling.view_appointment"}
    search_params = {"actor": "reference", "service-type": "token", "active": "token"}

    def _all(self) -> list:
        procedure_types = list(ProcedureType.objects.filter(is_active=True).prefetch_related(
            "required_capabilities", "alternative_capabilities").order_by("pk"))
        physicians = {p.pk: p for p in Physician.objects.select_related("user").prefetch_related("procedure_types")}
        locations = {location.pk: location for location in Location.objects.all()}
        pairs = sorted(set(ScheduleBlock.objects.values_list("physician_id", "location_id", "kind")))
        kinds: dict[tuple[int, int], set[str]] = {}
        for physician_id, location_id, kind in pairs:
            kinds.setdefault((physician_id, location_id), set()).add(kind)
        schedules = []
        for (physician_id, location_id), block_kinds in sorted(kinds.items()):
            physician = physicians[physician_id]
            credentialed = {p.pk for p in physician.procedure_types.all()}
            offered = [p for p in procedure_types if p.pk in credentialed and p.schedule_kind in block_kinds]
            schedules.append(("physician", physician, locations[location_id], offered))
        for room in Room.objects.prefetch_related("capabilities").order_by("location_id", "pk"):
            capabilities = {room.pk: {capability.pk for capability in room.capabilities.all()}}
            offered = [p for p in procedure_types if capable_room_ids(p, capabilities)]
            schedules.append(("room", room, None, offered))
        return schedules

    @staticmethod
    def _id(schedule) -> str:
        kind, record, location, _ = schedule
        if kind == "room":
            return mapping.room_schedule_id(record.pk)
        return mapping.physician_schedule_id(record.pk, location.pk)

    def read(self, id):
        if len(id) > 64:
            return None
        return next((schedule for schedule in self._all() if self._id(schedule) == id), None)

    def search(self, query):
        schedules = self._all()
        if "actor" in query:
            actor = params.text("actor", query["actor"]).rstrip("/").split("/")
            wanted = "/".join(actor[-2:])
            schedules = [s for s in schedules if wanted in self._actors(s)]
        if "service-type" in query:
            found = procedure_type_for(query["service-type"])
            schedules = [s for s in schedules if found is not None and found in s[3]]
        if "active" in query:
            active = params.token("active", query["active"])[1] == "true"
            schedules = [s for s in schedules if self.to_resource(s)["active"] == active]
        return schedules

    @staticmethod
    def _actors(schedule) -> set[str]:
        kind, record, location, _ = schedule
        if kind == "room":
            return {f"Location/{mapping.room_location_id(record.pk)}"}
        return {f"Practitioner/{record.pk}", f"Location/{location.pk}"}

    def to_resource(self, schedule):
        kind, record, location, offered = schedule
        if kind == "room":
            return mapping.room_schedule(record, offered)
        return mapping.physician_schedule(record, location, offered)


class PatientView(ResourceView):
    resource_type = "Patient"
    required_permissions = {"*": "clinic.view_patient"}
    search_params = {"identifier": "token", "birthdate": "date", "family": "string"}

    def records(self):
        return Patient.objects.order_by("last_name", "first_name", "pk")

    def read(self, id):
        pk = params.integer_id(id)
        return self.records().filter(pk=pk).first() if pk else None

    def search(self, query):
        records = self.records()
        if "identifier" in query:
            system, value = params.token("identifier", query["identifier"])
            if system == mapping.MEMBER_ID_SYSTEM:
                records = records.filter(member_id=value)
            elif system in (None, "", mapping.PATIENT_SYSTEM):
                pk = params.integer_id(value)
                records = records.filter(pk=pk) if pk else records.none()
            else:
                records = records.none()
        for value in query.getlist("birthdate"):  # each value narrows further (FHIR's AND)
            records = records.filter(self._born(params.day_range("birthdate", value)))
        if "family" in query:
            records = records.filter(last_name__istartswith=params.text("family", query["family"]))
        return records

    @staticmethod
    def _born(asked: params.DayRange) -> Q:
        within = Q(date_of_birth__gte=asked.first, date_of_birth__lte=asked.last)
        return {"eq": within, "ne": ~within, "lt": Q(date_of_birth__lt=asked.first),
                "le": Q(date_of_birth__lte=asked.last), "gt": Q(date_of_birth__gt=asked.last),
                "ge": Q(date_of_birth__gte=asked.first)}[asked.prefix]

    def accessed(self, records) -> None:
        record_access(self.request, records, request_label(self.request))

    def to_resource(self, record):
        return mapping.patient(record)


class AppointmentView(ResourceView):
    resource_type = "Appointment"
    required_permissions = {"*": "scheduling.view_appointment"}
    search_params = {"patient": "reference", "practitioner": "reference", "date": "date", "status": "token",
                     "location": "reference"}

    def records(self):
        return Appointment.objects.select_related("location", "procedure_type", "patient", "physician__user",
                                                  "room").order_by("procedure_start", "pk")

    def read(self, id):
        pk = params.integer_id(id)
        return self.records().filter(pk=pk).first() if pk else None

    def search(self, query):
        records = self.records()
        for name, kind, field in (("patient", "Patient", "patient_id"), ("practitioner", "Practitioner",
                                                                        "physician_id")):
            if name in query:
                pk = params.integer_id(params.reference_id(name, query[name], kind))
                records = records.filter(**{field: pk}) if pk else records.none()
        if "location" in query:
            id_ = params.reference_id("location", query["location"], "Location")
            if id_.startswith("room-") and params.integer_id(id_[5:]):
                records = records.filter(room_id=params.integer_id(id_[5:]))
            else:
                pk = params.integer_id(id_)
                records = records.filter(location_id=pk) if pk else records.none()
        if "status" in query:
            statuses = []
            for value in query["status"].split(","):
                statuses += mapping.STATUSES_FOR_FHIR.get(params.token("status", value)[1], [])
            records = records.filter(status__in=statuses)
        if "date" in query:
            records = self._on_dates(records, query.getlist("date"))
        return records

    @staticmethod
    def _on_dates(records, values):
        """`date=ge2026-11-30&date=le2026-12-06`: a date is a day in each location's own zone."""
        window = params.window("date", values)
        earliest, latest = params.Bound(day=dt.date(2000, 1, 1)), params.Bound(day=dt.date(2101, 1, 1))
        window = params.Window(lower=window.lower or earliest, lower_after_day=window.lower_after_day,
                               upper=window.upper or latest, upper_through_day=window.upper_through_day)
        conditions = Q(pk__in=[])
        for location in Location.objects.all():
            lower, upper = window.bounds(location.zone, dt.date(2000, 1, 1))
            conditions |= Q(location=location, procedure_start__gte=lower, procedure_start__lt=upper)
        return records.filter(conditions)

    def accessed(self, records) -> None:
        record_access(self.request, [record.patient_id for record in records], request_label(self.request))

    def to_resource(self, record):
        return mapping.appointment(record)
