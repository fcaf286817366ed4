"""`/api/v1/care-plans/`: a patient's care plans with their steps, statuses, proposed days and
tentative flags (read, for staff who see plans); new plans from a template or from steps
(physicians). Views parse input, call `plan_create`, shape output."""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from clinic.access_log import AccessLoggedViewSet
from clinic.models import Patient, Physician, ProcedureType
from scheduling.api import idempotency
from scheduling.api.permissions import ActionPermission
from scheduling.api.serializers import MAX_ID, QuerySerializer
from scheduling.models import (
    STEP_FIELDS,
    CarePlan,
    CarePlanStep,
    CarePlanTemplate,
    Gate,
    Laterality,
    PlanStatus,
    Priority,
    Region,
    StepKind,
    relief_gate_error,
)
from scheduling.services.careplans import plan_create

MAX_STEPS = 50


class CarePlanStepSerializer(serializers.ModelSerializer):
    procedure_type = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    order = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                               help_text="The step's procedure order (steps booked here).")
    proposed_date = serializers.DateField(read_only=True, allow_null=True,
                                          help_text="For a step still to come: the earliest local day it "
                                                    "could happen, as last planned; null when no day could be "
                                                    "proposed (see `planning_note`). For a booked step: the day "
                                                    "its visit is booked for; for a done step: the day it "
                                                    "happened (also in `done_on`).")
    tentative = serializers.BooleanField(read_only=True,
                                         help_text="Planned on the assumption that a gate ahead of it passes.")

    class Meta:
        model = CarePlanStep
        fields = ["id", "position", *STEP_FIELDS, "status", "status_note", "proposed_date", "window_start",
                  "window_end", "tentative", "planning_note", "order", "done_on"]
        read_only_fields = fields


class CarePlanSerializer(serializers.ModelSerializer):
    steps = CarePlanStepSerializer(many=True, read_only=True)
    next_step = serializers.SerializerMethodField(help_text="The position of the step ready to book or do, if any.")

    class Meta:
        model = CarePlan
        fields = ["id", "patient", "physician", "template", "name", "status", "status_note", "notes", "created_at",
                  "updated_at", "next_step", "steps"]
        read_only_fields = fields

    def get_next_step(self, plan: CarePlan) -> int | None:
        return next((step.position for step in plan.steps.all() if step.status == "ready"), None)


class StepInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StepKind.choices, default=StepKind.PROCEDURE)
    procedure_type = serializers.SlugRelatedField(
        slug_field="code", queryset=ProcedureType.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="The procedure type's code; for procedures, consultations and follow-ups.")
    region = serializers.ChoiceField(choices=Region.choices, required=False, allow_blank=True, default="")
    laterality = serializers.ChoiceField(choices=Laterality.choices, required=False, allow_blank=True, default="")
    min_days_after = serializers.IntegerField(min_value=0, max_value=730, default=0,
                                              help_text="At least this many days after the previous step.")
    max_days_after = serializers.IntegerField(min_value=0, max_value=730, required=False, allow_null=True,
                                              default=None, help_text="At most; null: no limit.")
    gate = serializers.ChoiceField(choices=Gate.choices, default=Gate.NONE)
    gate_relief_percent = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True,
                                                   default=None, help_text="For a relief gate; null: the payer's "
                                                                           "pathway-rule threshold.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class CarePlanCreateSerializer(serializers.Serializer):
    """A new plan: `template` (its steps are copied) or `steps` (in order), one of the two."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    physician = serializers.PrimaryKeyRelatedField(queryset=Physician.objects.filter(is_active=True))
    template = serializers.PrimaryKeyRelatedField(queryset=CarePlanTemplate.objects.filter(is_active=True),
                                                  required=False, allow_null=True)
    steps = StepInputSerializer(many=True, required=False, allow_null=True, max_length=MAX_STEPS)
    name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="",
                                 help_text="Empty: the template's name.")
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        has_template, has_steps = attrs.get("template") is not None, attrs.get("steps") is not None
        if has_template == has_steps:
            raise serializers.ValidationError({"template": ["Give a template or the steps, one of the two."]})
        if has_steps and not attrs["steps"]:
            raise serializers.ValidationError({"steps": ["A plan needs at least one step."]})
        problem = relief_gate_error(attrs["steps"]) if has_steps else None
        if problem:
            raise serializers.ValidationError({"steps": [problem]})
        return attrs


class CarePlanFilterSerializer(QuerySerializer):
    patient = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(
        choices=PlanStatus.choices, required=False,
        error_messages={"invalid_choice": '"{input}" is not a plan status: use one of '
                                          + ", ".join(PlanStatus.values) + "."})


class CarePlanViewSet(AccessLoggedViewSet, mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                      mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CarePlanSerializer
    permission_classes = [ActionPermission]
    required_permissions = {"create": "scheduling.add_careplan", "*": "scheduling.view_careplan"}
    error_statuses = {"create": [422]}

    def get_queryset(self):
        queryset = CarePlan.objects.prefetch_related(
            Prefetch("steps", queryset=CarePlanStep.objects.select_related("procedure_type").order_by("position"))
        ).order_by("-created_at", "-pk")
        if self.action != "list":
            return queryset
        filters = CarePlanFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        for name, value in filters.validated_data.items():
            queryset = queryset.filter(**{name: value})
        return queryset

    @extend_schema(parameters=[CarePlanFilterSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=CarePlanCreateSerializer, responses={201: CarePlanSerializer},
                   parameters=[idempotency.PARAMETER])
    def create(self, request):
        return idempotency.answer_once(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        data = CarePlanCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        plan = plan_create(patient=values["patient"], physician=values["physician"], template=values.get("template"),
                           steps=values.get("steps"), name=values["name"], notes=values["notes"], by=request.user)
        return Response(CarePlanSerializer(self.get_queryset().get(pk=plan.pk)).data, status=status.HTTP_201_CREATED)
