"""REST API v1 (DESIGN.md section 7). Views parse input, call one selector or service, shape output."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from clinic.access_log import AccessLoggedViewSet
from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import services
from scheduling.api import idempotency
from scheduling.api import serializers as s
from scheduling.api.errors import unmet_json
from scheduling.api.permissions import ActionPermission
from scheduling.models import Appointment, ProcedureOrder
from scheduling.pathways.bookable_days import bookable_days, patient_notice_until
from scheduling.selectors import available_slots, window_bounds


class _ReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [ActionPermission]


class ProcedureTypeViewSet(_ReadOnly):
    queryset = ProcedureType.objects.filter(is_active=True).prefetch_related(
        "required_capabilities", "alternative_capabilities"
    )
    serializer_class = s.ProcedureTypeSerializer
    lookup_field = "code"
    required_permissions = {"*": "clinic.view_proceduretype"}


class LocationViewSet(_ReadOnly):
    queryset = Location.objects.filter(is_active=True)
    serializer_class = s.LocationSerializer
    required_permissions = {"*": "clinic.view_location"}


class RoomViewSet(_ReadOnly):
    queryset = Room.objects.prefetch_related("capabilities")
    serializer_class = s.RoomSerializer
    required_permissions = {"*": "clinic.view_room"}


class PhysicianViewSet(_ReadOnly):
    queryset = Physician.objects.select_related("user").prefetch_related("procedure_types")
    serializer_class = s.PhysicianSerializer
    required_permissions = {"*": "clinic.view_physician"}


class PatientViewSet(AccessLoggedViewSet, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                     mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Patient.objects.prefetch_related(
        "blood_thinners", "procedures_elsewhere__procedure_type").order_by("last_name", "first_name", "pk")
    serializer_class = s.PatientSerializer
    permission_classes = [ActionPermission]
    required_permissions = {"create": "clinic.add_patient", "*": "clinic.view_patient"}
    patient_key = "id"

    def perform_create(self, serializer):
        with transaction.atomic():
            services.patient_created(patient=serializer.save())


class OrderViewSet(AccessLoggedViewSet, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                   mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = ProcedureOrder.objects.select_related("procedure_type").order_by("-created_at", "-pk")
    serializer_class = s.OrderSerializer
    permission_classes = [ActionPermission]
    required_permissions = {"create": "scheduling.add_procedureorder", "*": "scheduling.view_procedureorder"}
    error_statuses = {"create": [422]}

    def get_queryset(self):
        orders = super().get_queryset()
        if self.action != "list":
            return orders
        filters = s.OrderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return orders.filter(**filters.validated_data)

    @extend_schema(parameters=[s.OrderFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[idempotency.PARAMETER])
    def create(self, request):
        return idempotency.answer_once(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = s.OrderSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.order_create(by=request.user, **data.validated_data)
        return Response(s.OrderSerializer(order).data, status=status.HTTP_201_CREATED)


_ID = {"type": "integer", "minimum": 1}


class AvailabilityView(APIView):
    """Bookable slots for a procedure type at a location, sorted by start.

    For every start, one slot per physician who can take it, each with the first free room.
    Times are in the location's zone.
    """

    permission_classes = [ActionPermission]
    required_permissions = {"*": "scheduling.view_appointment"}

    @extend_schema(
        parameters=[
            OpenApiParameter("procedure_type", str, required=True, description="Procedure type code, e.g. ESI_IL"),
            OpenApiParameter("location", _ID, description="Location id (optional when there is one location)"),
            OpenApiParameter("from", dt.date, required=True, description="First local date"),
            OpenApiParameter("to", dt.date, required=True, description="Last local date (inclusive)"),
            OpenApiParameter("physician", _ID),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 10_000}),
            OpenApiParameter("patient", _ID, description="Only times this patient is free and eligible for"),
            OpenApiParameter("order", _ID, description="The order to check the rules against (default: the "
                                                        "patient's open order for the procedure type)"),
        ],
        responses=s.AvailabilitySerializer,
    )
    def get(self, request):
        query = s.AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        location = params["location"]
        now = timezone.now()
        first_day, last_day, days = params["from"], params["to"], None
        if "patient" in params:
            # For a patient, only the days the booking service accepts for them.
            days = bookable_days(patient=params["patient"], procedure_type=params["procedure_type"],
                                 location=location, now=now, by_patient=False, order=params.get("order"),
                                 first_day=first_day, last_day=last_day)
            first_day, last_day = days.first, days.last
        # Staff may book inside the minimum notice (README, "Minimum notice"): such times are
        # offered, each marked, as the booking accepts them.
        slots = [] if first_day is None else available_slots(
            procedure_type=params["procedure_type"], location=location, first_day=first_day,
            last_day=last_day, now=now, physician=params.get("physician"),
            patient=params.get("patient"),
            # Days with a gap between them are filtered after the search, so it cannot stop early.
            limit=params.get("limit") if days is None or len(days.ranges()) <= 1 else None,
            apply_minimum_notice=False,
        )
        if days is not None:
            zone = location.zone
            slots = [slot for slot in slots if days.allows(slot.start.astimezone(zone).date())]
            slots = slots[:params["limit"]] if "limit" in params else slots
        body = {"time_zone": location.time_zone}
        if days is not None:
            unmet = days.why_not().unmet if days.first is None else days.unmet(days.first_day)
            body["eligibility"] = {
                "eligible": days.first is not None,
                "first_day": days.first.isoformat() if days.first else None,
                "days": [[first.isoformat(), last.isoformat()] for first, last in days.ranges()],
                "unmet": [unmet_json(item) for item in unmet],
            }
        return Response({**body, **slots_json(slots, location, notice_until=patient_notice_until(location, now))})


def slots_json(slots, location: Location, *, notice_until: dt.datetime | None = None) -> dict:
    """The slots part of an availability answer: times in the location's zone; each says whether
    its arrival lies inside the minimum notice (staff may book it, patients online may not).

    A month's answer repeats the same few hundred instants (every physician's 08:00, one visit's
    end is another's start): each is formatted once."""
    zone, location_id = location.zone, location.pk
    notice = notice_until.timestamp() if notice_until is not None else None
    formatted: dict[int, str] = {}

    def iso(instant: int) -> str:
        text = formatted.get(instant)
        if text is None:
            text = formatted[instant] = dt.datetime.fromtimestamp(instant, zone).isoformat()
        return text

    answer = []
    for slot in slots:
        start, end, arrival, discharge = slot.epochs()
        answer.append({"start": iso(start), "end": iso(end), "arrival": iso(arrival), "discharge": iso(discharge),
                       "physician": slot.physician_id, "room": slot.room_id, "location": location_id,
                       "inside_minimum_notice": notice is not None and arrival < notice})
    return {"count": len(answer), "slots": answer}


_NO_BODY = inline_serializer("Empty", fields={})


class AppointmentViewSet(AccessLoggedViewSet, mixins.RetrieveModelMixin, mixins.ListModelMixin,
                         viewsets.GenericViewSet):
    serializer_class = s.AppointmentSerializer
    permission_classes = [ActionPermission]
    required_permissions = {
        "create": "scheduling.add_appointment",
        "cancel": "scheduling.cancel_appointment",
        "reschedule": "scheduling.reschedule_appointment",
        "confirm": "scheduling.change_appointment",
        "check_in": "scheduling.check_in_appointment",
        "start": "scheduling.progress_appointment",
        "recovery": "scheduling.progress_appointment",
        "complete": "scheduling.progress_appointment",
        "no_show": "scheduling.no_show_appointment",
        "outcome": "scheduling.record_outcome_appointment",
        "*": "scheduling.view_appointment",
    }
    # Beyond what every operation can answer (scheduling/api/schema.py): a booking can collide,
    # a step can be refused by the visit's status, a retried key can be reused for another body.
    error_statuses = {
        "create": [409, 422], "cancel": [409], "reschedule": [409], "confirm": [409], "check_in": [409],
        "start": [409], "recovery": [409], "complete": [409], "outcome": [409], "no_show": [409],
    }

    def get_queryset(self):
        queryset = (
            Appointment.objects.select_related("location", "procedure_type", "outcome", "patient")
            .prefetch_related("overrides__overridden_by", "patient__blood_thinners")
            .order_by("procedure_start", "pk")
        )
        if self.action != "list":
            return queryset
        filters = s.AppointmentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        for name in ("physician", "location", "patient", "status"):
            if name in params:
                queryset = queryset.filter(**{name: params[name]})
        if "date" in params:
            location = Location.objects.filter(pk=params.get("location")).first() if "location" in params else None
            if location is not None:
                start, end = window_bounds(location, params["date"], params["date"])
            else:
                zone = timezone.get_default_timezone()
                start = dt.datetime.combine(params["date"], dt.time()).replace(tzinfo=zone)
                end = dt.datetime.combine(params["date"] + dt.timedelta(days=1), dt.time()).replace(tzinfo=zone)
            queryset = queryset.filter(procedure_start__gte=start, procedure_start__lt=end)
        return queryset

    @extend_schema(
        parameters=[s.AppointmentFilterSerializer],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _done(self, appointment: Appointment, code: int = status.HTTP_200_OK) -> Response:
        appointment = (
            Appointment.objects.select_related("location", "procedure_type", "outcome", "patient")
            .prefetch_related("overrides__overridden_by", "patient__blood_thinners")
            .get(pk=appointment.pk)
        )
        return Response(s.AppointmentSerializer(appointment).data, status=code)

    @extend_schema(request=s.AppointmentBookSerializer, responses={201: s.AppointmentSerializer},
                   parameters=[idempotency.PARAMETER])
    def create(self, request):
        return idempotency.answer_once(request, lambda: self._book(request))

    def _book(self, request) -> Response:
        data = s.AppointmentBookSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        appointment = services.appointment_book(by=request.user, **data.validated_data)
        # The booked visit as the service returns it holds all the answer shows; no hold message
        # can have gone out for it yet.
        answer = s.AppointmentSerializer(appointment, context={"hold_notices": {appointment.pk: {}}})
        return Response(answer.data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CancelSerializer, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.appointment_cancel(appointment=self.get_object(), by=request.user,
                                                      reason=data.validated_data["reason"]))

    @extend_schema(request=s.RescheduleSerializer, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        data = s.RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.appointment_reschedule(appointment=self.get_object(), by=request.user,
                                                          **data.validated_data))

    def _transition(self, service, request) -> Response:
        return self._done(service(appointment=self.get_object(), by=request.user))

    @extend_schema(request=_NO_BODY, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return self._transition(services.appointment_confirm, request)

    @extend_schema(request=s.CheckInSerializer, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="check-in")
    def check_in(self, request, pk=None):
        data = s.CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.appointment_check_in(appointment=self.get_object(), by=request.user,
                                                        confirmed_checks=data.validated_data["checks"]))

    @extend_schema(request=s.StartSerializer, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        data = s.StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.appointment_start(appointment=self.get_object(), by=request.user,
                                                     reason=data.validated_data["reason"]))

    @extend_schema(request=_NO_BODY, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def recovery(self, request, pk=None):
        return self._transition(services.appointment_move_to_recovery, request)

    @extend_schema(request=_NO_BODY, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        return self._transition(services.appointment_complete, request)

    @extend_schema(request=s.OutcomeSerializer, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        data = s.OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.outcome_record(appointment=self.get_object(), by=request.user, **data.validated_data)
        return self._done(self.get_object())

    @extend_schema(request=_NO_BODY, responses=s.AppointmentSerializer)
    @action(detail=True, methods=["post"], url_path="no-show")
    def no_show(self, request, pk=None):
        return self._transition(services.appointment_mark_no_show, request)
