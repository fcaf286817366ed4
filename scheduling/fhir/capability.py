"""`GET /fhir/r4/metadata`: the CapabilityStatement, built from the same table the URLs are, so
it lists exactly what is served: each resource's interactions and search parameters, and the
three operations."""

from __future__ import annotations

from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from scheduling.fhir import resources, slots
from scheduling.fhir.base import FhirView
from scheduling.fhir.mapping import FHIR_VERSION
from scheduling.fhir.operations import BookView, FindView, HoldView

# Resource type -> (read view, search view). Every one is read by id and searched.
SERVED = {
    "Practitioner": (resources.PractitionerView, resources.PractitionerView),
    "Location": (resources.LocationView, resources.LocationView),
    "HealthcareService": (resources.HealthcareServiceView, resources.HealthcareServiceView),
    "Schedule": (resources.ScheduleView, resources.ScheduleView),
    "Slot": (slots.SlotReadView, slots.SlotSearchView),
    "Appointment": (resources.AppointmentView, resources.AppointmentView),
    "Patient": (resources.PatientView, resources.PatientView),
}
# Operation name -> (view, IHE ITI Scheduling definition)
OPERATIONS = {
    "find": (FindView, "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-find"),
    "hold": (HoldView, "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-hold"),
    "book": (BookView, "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition/appointment-book"),
}


def capability_statement(base_url: str, now) -> dict:
    rest_resources = []
    for resource_type, (_, search_view) in SERVED.items():
        entry = {
            "type": resource_type,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": kind} for name, kind in search_view.search_params.items()],
        }
        if resource_type == "Appointment":
            entry["operation"] = [{"name": name, "definition": definition}
                                  for name, (_, definition) in OPERATIONS.items()]
        rest_resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": now.isoformat(),
        "publisher": "Interval",
        "kind": "instance",
        "software": {"name": "Interval"},
        "implementation": {"description": "Interval scheduling: FHIR R4 read, search and IHE ITI Scheduling "
                                          "operations. Searches page with _count and _offset.",
                           "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {"description": "The REST API's tokens: Authorization: Bearer <token> (or Token "
                                        "<token>); staff sessions. Roles as in the REST API."},
            "resource": rest_resources,
            "searchParam": [{"name": "_count", "type": "number"}, {"name": "_offset", "type": "number"}],
        }],
    }


class MetadataView(FhirView):
    """Public, as FHIR clients read it before they authenticate; it holds no clinic data."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response(capability_statement(self.base_url(), timezone.now()))
