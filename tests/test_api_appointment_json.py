"""The API's appointment, written out field by field for speed, is exactly what DRF's walk of
the serializer's declared fields (the schema's) gives."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone
from rest_framework.utils.encoders import JSONEncoder

from clinic.models import Location
from scheduling.api.serializers import AppointmentSerializer
from scheduling.models import Appointment, EligibilityOverride
from tests.test_demo_activity import _seeded, activity  # noqa: F401  (the demo's visits, seeded once here)

pytestmark = pytest.mark.django_db


def generic(serializer: AppointmentSerializer, visit: Appointment) -> dict:
    """DRF's own walk of the serializer's declared fields, in the visit's zone."""
    with timezone.override(visit.location.zone):
        return super(AppointmentSerializer, serializer).to_representation(visit)


def as_json(value) -> object:
    return json.loads(json.dumps(value, cls=JSONEncoder))


def test_every_visit_of_the_demo_clinic_reads_as_the_generic_serializer_gives_it(activity, physician_user):
    booked = Appointment.objects.filter(status="scheduled").order_by("pk").first()
    EligibilityOverride.objects.create(appointment=booked, unmet="A rule not met", reason="Seen by the physician",
                                       overridden_by=physician_user)
    visits = list(Appointment.objects.select_related("location", "procedure_type", "patient", "outcome")
                  .prefetch_related("overrides__overridden_by"))
    # The demo holds what the answer may carry: outcomes, overrides, cancellations, follow-ups.
    assert any(getattr(visit, "outcome", None) for visit in visits)
    assert any(visit.overrides.all() for visit in visits)
    assert any(visit.cancel_reason for visit in visits) and any(visit.follow_up_of_id for visit in visits)
    serializer = AppointmentSerializer()
    for visit in visits:
        assert as_json(serializer.to_representation(visit)) == as_json(generic(serializer, visit)), visit


def test_a_visit_at_a_site_on_utc_reads_its_times_with_z(activity):
    Location.objects.update(time_zone="UTC")
    visit = Appointment.objects.select_related("location", "procedure_type", "patient").order_by("pk").first()
    serializer = AppointmentSerializer()
    fast = as_json(serializer.to_representation(visit))
    assert fast["start"].endswith("Z") and fast == as_json(generic(serializer, visit))


def test_a_visit_as_the_booking_returns_it_reads_as_the_generic_serializer_gives_it(calendar):
    """The API's answer to a booking serializes the instance the service returns, not one read back."""
    from scheduling import services
    from tests.conftest import NEXT_MONDAY, local

    patient = calendar.patients[0]
    calendar.order_for(patient)
    visit = services.appointment_book(patient=patient, procedure_type=calendar.esi, physician=calendar.okafor,
                                      start=local(NEXT_MONDAY, 9))
    serializer = AppointmentSerializer(context={"hold_notices": {visit.pk: {}}})
    assert as_json(serializer.to_representation(visit)) == as_json(generic(serializer, visit))
