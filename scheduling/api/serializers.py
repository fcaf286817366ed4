"""API input and output shapes. Times go out as ISO 8601 in the location's own zone, with offset."""

from __future__ import annotations

import copy
import datetime as dt

from django.utils import timezone
from django.utils.encoding import smart_str
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from clinic.models import Channel, Location, Patient, Physician, ProcedureType, Room
from clinic.phone_numbers import national
from scheduling import booking_inputs, rows
from scheduling.api.schema import UnmetRuleSerializer
from scheduling.calendar_range import NO_SUCH_DAY, OUT_OF_RANGE, in_range, no_such_day
from scheduling.errors import BookingError
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    CheckKind,
    EligibilityOverride,
    OrderStatus,
    Outcome,
    ProcedureElsewhere,
    ProcedureOrder,
)
from scheduling.pathways.holds import blood_thinner_holds, holds_told_too_late, preparation_lines
from scheduling.services.booking import validate_physician

MAX_WINDOW_DAYS = 92


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant that must carry its UTC offset: a bare wall time is ambiguous
    across time zones and daylight-saving changes."""

    default_error_messages = {
        "naive": "Give the time with its UTC offset, e.g. 2026-12-01T09:00:00-06:00.",
        "out_of_range": OUT_OF_RANGE,
        "no_such_day": NO_SUCH_DAY,
    }

    def to_internal_value(self, value):
        if wrong := no_such_day(value):
            self.fail("no_such_day", value=wrong)
        if isinstance(value, str):
            parsed = serializers.DateTimeField(default_timezone=dt.timezone.utc).to_internal_value(value)
            if "T" in value and not any(sign in value.split("T", 1)[1] for sign in ("+", "-", "Z", "z")):
                self.fail("naive")
            if not in_range(parsed.date()):
                self.fail("out_of_range")
            return parsed
        return super().to_internal_value(value)


class CalendarDateField(serializers.DateField):
    """A day to book or search: a date within scheduling.calendar_range."""

    default_error_messages = {"out_of_range": OUT_OF_RANGE, "no_such_day": NO_SUCH_DAY}

    def to_internal_value(self, value):
        if wrong := no_such_day(value):
            self.fail("no_such_day", value=wrong)
        day = super().to_internal_value(value)
        if not in_range(day):
            self.fail("out_of_range")
        return day


class QuerySerializer(serializers.Serializer):
    """Reads a request's query string. A parameter given twice (`?physician=1&physician=2`)
    is refused by name: every one of these takes one value, and keeping either of them silently
    answers a question the caller did not ask."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            repeated = {name: ["Give one value, not several."] for name in self.fields
                        if len(data.getlist(name)) > 1}
            if repeated:
                raise serializers.ValidationError(repeated)
        return super().to_internal_value(data)


class ProcedureTypeSerializer(serializers.ModelSerializer):
    required_capabilities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    alternative_capabilities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ProcedureType
        fields = [
            "code", "name", "family", "schedule_kind", "prep_minutes", "procedure_minutes", "recovery_minutes",
            "setup_minutes", "turnover_minutes", "required_capabilities", "alternative_capabilities", "sedation",
            "fasting_hours", "driver_required", "bleeding_risk", "self_bookable", "requires_order",
            "prior_authorization_required", "patient_preparation",
        ]


@extend_schema_field({"type": "string", "maxLength": 32, "example": "(918) 555-0111",
                     "description": "A phone number in any common format (\"(918) 555-0111\", \"918.555.0111\", "
                                    "\"+1 918 555 0111\"); stored in E.164, returned in the national format."})
class PhoneField(PhoneNumberField):
    default_error_messages = {"invalid": "Enter a valid phone number, e.g. (918) 555-0140 or +19185550140."}

    def to_representation(self, value) -> str:
        return national(value)


class LocationSerializer(serializers.ModelSerializer):
    phone = PhoneField(read_only=True)

    class Meta:
        model = Location
        fields = ["id", "name", "time_zone", "address_line", "city", "state", "postal_code", "phone",
                  "recovery_bays", "slot_interval_minutes", "minimum_notice_hours", "booking_horizon_days"]


class RoomSerializer(serializers.ModelSerializer):
    capabilities = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Room
        fields = ["id", "name", "location", "kind", "capabilities", "is_active"]


class PhysicianSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    procedure_types = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Physician
        fields = ["id", "name", "credentials", "procedure_types", "is_active"]


class ProcedureElsewhereSerializer(serializers.ModelSerializer):
    """A procedure the patient had at another clinic, as staff recorded it (in the admin)."""

    procedure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    date = serializers.DateField(source="day", read_only=True)
    documented = serializers.BooleanField(source="is_documented", read_only=True,
                                          help_text="A document reference and the relief are on record.")

    class Meta:
        model = ProcedureElsewhere
        fields = ["id", "procedure_type", "date", "region", "laterality", "relief_percent", "facility",
                  "document_reference", "note", "documented"]
        read_only_fields = fields


class PatientSerializer(serializers.ModelSerializer):
    """A patient. Give an `email` or a `phone` (at least one): a patient the clinic cannot reach
    is refused with 400. Without recorded consent the patient gets no messages."""

    procedures_elsewhere = ProcedureElsewhereSerializer(
        many=True, read_only=True,
        help_text="Procedures done at other clinics, most recent first; the pathway rules count them.")
    phone = PhoneField(required=False, allow_blank=True, max_length=32)

    class Meta:
        model = Patient
        fields = ["id", "first_name", "last_name", "date_of_birth", "email", "phone", "preferred_channel",
                  "sms_consent", "email_consent", "payer", "member_id", "blood_thinners", "procedures_elsewhere"]
        extra_kwargs = {"blood_thinners": {"required": False}}

    def validate(self, attrs):
        # The model's own rules (a date of birth in the past, a way to reach the patient).
        blood_thinners = attrs.pop("blood_thinners", None)
        if "preferred_channel" not in attrs and self.instance is None:
            # Not given: the channel the patient can be reached on (consent is recorded apart).
            only_phone = attrs.get("phone") and not attrs.get("email")
            attrs["preferred_channel"] = Channel.SMS if only_phone else Channel.EMAIL
        instance = Patient(**attrs)
        try:
            instance.full_clean(validate_unique=False)
        except Exception as error:  # ValidationError from the model
            raise serializers.ValidationError(getattr(error, "message_dict", {"non_field_errors": [str(error)]}))
        if blood_thinners is not None:
            attrs["blood_thinners"] = blood_thinners
        return attrs


class OrderSerializer(serializers.ModelSerializer):
    procedure_type = serializers.SlugRelatedField(slug_field="code", queryset=ProcedureType.objects.filter(is_active=True))
    ordering_physician = serializers.PrimaryKeyRelatedField(queryset=Physician.objects.filter(is_active=True))
    override_reason = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=1000,
                                            help_text="A physician's reason to order despite unmet prerequisites.")

    class Meta:
        model = ProcedureOrder
        fields = ["id", "patient", "procedure_type", "ordering_physician", "status", "region", "laterality", "levels",
                  "priority", "authorization_status", "authorization_number", "authorization_valid_from",
                  "authorization_valid_until", "imaging_confirms_acute_fracture", "imaging_date",
                  "psych_evaluation_date", "notes", "created_at", "override_reason"]
        read_only_fields = ["status", "created_at"]


class OutcomeSerializer(serializers.ModelSerializer):
    relief_percent = serializers.IntegerField(min_value=0, max_value=100, required=False,
                                              help_text="Omitted: taken from the pain scores.")

    class Meta:
        model = Outcome
        fields = ["pain_before", "pain_after", "relief_percent", "relief_duration_hours", "notes", "source",
                  "recorded_at"]
        # "patient_diary": confirmed by a nurse or physician from the patient's pain diary (admin);
        # an outcome posted here is staff-entered.
        read_only_fields = ["source", "recorded_at"]
        extra_kwargs = {"pain_before": {"min_value": 0, "max_value": 10},
                        "pain_after": {"min_value": 0, "max_value": 10}}


class OverrideSerializer(serializers.ModelSerializer):
    overridden_by = serializers.CharField(source="overridden_by.get_username", read_only=True)

    class Meta:
        model = EligibilityOverride
        fields = ["unmet", "reason", "overridden_by", "created_at"]


class HoldSerializer(serializers.Serializer):
    drug = serializers.CharField()
    hold_days = serializers.IntegerField()
    last_dose = serializers.DateField()
    restart_guidance = serializers.CharField()
    instruction = serializers.CharField()
    too_late = serializers.BooleanField(help_text="The patient was told of the hold after its last-dose day (the visit "
                                                  "was booked or moved too late for it): check with the patient.")


# The largest id a query may carry (a 64-bit integer): past it, a 400, not the database's overflow.
MAX_ID = 2**63 - 1


class CatalogKeyField(serializers.PrimaryKeyRelatedField):
    """A row of the catalog held in memory, by its id (`find`): no query. Answers as
    PrimaryKeyRelatedField does; `queryset` names the model for the schema."""

    def __init__(self, *, find, **kwargs):
        self.find = find
        super().__init__(**kwargs)

    def __deepcopy__(self, memo):
        """Each serializer gets its own copy of its declared fields (DRF's Field.__deepcopy__),
        but this one shares `queryset`: nothing evaluates or changes it here (`find` reads the
        row), and a QuerySet's deep copy costs more than the rest of the field's."""
        kwargs = {key: value if key in ("queryset", "find", "validators") else copy.deepcopy(value, memo)
                  for key, value in self._kwargs.items()}
        return self.__class__(*copy.deepcopy(self._args, memo), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or (isinstance(data, float) and not data.is_integer()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            found = self.find(int(data))
        except (TypeError, ValueError, OverflowError):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if found is None:
            self.fail("does_not_exist", pk_value=data)
        return found


class RowKeyField(CatalogKeyField):
    """A row by its id, read by `find` in one written-out statement (scheduling/rows.py) with what
    the booking asks of it. Answers as PrimaryKeyRelatedField does, but that a number with a
    fraction (2.5) is an incorrect type, not id 2; an id past the database's range does not exist."""

    def __init__(self, *, find, **kwargs):
        super().__init__(find=lambda pk: find(pk) if 0 < pk <= MAX_ID else None, **kwargs)


class CatalogCodeField(serializers.SlugRelatedField):
    """A procedure type of the catalog held in memory, by its code (`find`): no query."""

    def __init__(self, *, find, **kwargs):
        self.find = find
        super().__init__(slug_field="code", queryset=ProcedureType.objects.all(), **kwargs)

    default_error_messages = {"not_offered": "{name} is not offered."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        found = self.find(data)
        if found is None:
            held = booking_inputs.procedure_type(data)
            if held is not None:
                self.fail("not_offered", name=held.name)
            self.fail("does_not_exist", slug_name=self.slug_field, value=smart_str(data))
        return found


class AvailabilityQuerySerializer(QuerySerializer):
    # From the catalog held in memory, with what a room needs: the selector reads none of it.
    procedure_type = CatalogCodeField(find=booking_inputs.offered_procedure_type)
    location = CatalogKeyField(find=booking_inputs.open_location, queryset=Location.objects.all(), required=False)
    physician = CatalogKeyField(find=booking_inputs.physician, queryset=Physician.objects.all(), required=False)
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all(), required=False)
    order = serializers.PrimaryKeyRelatedField(queryset=ProcedureOrder.objects.all(), required=False)
    limit = serializers.IntegerField(min_value=1, max_value=10_000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword, so these two are declared here.
        self.fields["from"] = CalendarDateField()
        self.fields["to"] = CalendarDateField()

    def validate(self, attrs):
        order, patient = attrs.get("order"), attrs.get("patient")
        if order is not None and (patient is None or order.patient_id != patient.pk
                                  or order.procedure_type_id != attrs["procedure_type"].pk):
            raise serializers.ValidationError({"order": ["That order is not this patient's order for this procedure."]})
        if "physician" in attrs:  # one who would never be offered: say why, not just "no times"
            try:
                validate_physician(attrs["physician"], attrs["procedure_type"])
            except BookingError as refusal:
                raise serializers.ValidationError({"physician": [refusal.message]}) from None
        if "location" not in attrs:
            locations = booking_inputs.open_locations()[:2]
            if len(locations) != 1:
                raise serializers.ValidationError({"location": ["Choose a location."]})
            attrs["location"] = locations[0]
        if attrs["to"] < attrs["from"]:
            raise serializers.ValidationError({"to": ["'to' cannot be before 'from'."]})
        if (attrs["to"] - attrs["from"]).days >= MAX_WINDOW_DAYS:
            raise serializers.ValidationError({"to": [f"Ask for at most {MAX_WINDOW_DAYS} days at a time."]})
        return attrs


class SlotSerializer(serializers.Serializer):
    """Documents a slot's shape; the view builds the dicts directly for speed."""

    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    arrival = serializers.DateTimeField()
    discharge = serializers.DateTimeField()
    physician = serializers.IntegerField()
    room = serializers.IntegerField()
    location = serializers.IntegerField()
    inside_minimum_notice = serializers.BooleanField(
        help_text="The time starts inside the location's minimum notice: staff may book it, patients online may not.")


class EligibilitySerializer(serializers.Serializer):
    eligible = serializers.BooleanField()
    first_day = serializers.DateField(allow_null=True, help_text="The first day the pathway rules allow, if any.")
    days = serializers.ListField(
        child=serializers.ListField(child=serializers.DateField(), min_length=2, max_length=2),
        help_text="The days the rules allow, as [first, last] runs of consecutive days: a visit booked later "
                  "can close days in between.")
    unmet = UnmetRuleSerializer(many=True, help_text="What the rules refuse on the first day asked for.")


class AvailabilitySerializer(serializers.Serializer):
    time_zone = serializers.CharField()
    count = serializers.IntegerField()
    slots = SlotSerializer(many=True)
    eligibility = EligibilitySerializer(required=False, help_text="Given when the query names a patient.")


def local_iso(instant: dt.datetime | None, zone) -> str | None:
    return instant.astimezone(zone).isoformat() if instant else None


# DRF's own formatting of an instant (in the current time zone), made once for the answers below.
_INSTANT = serializers.DateTimeField()


class AppointmentSerializer(serializers.ModelSerializer):
    procedure_type = serializers.SlugRelatedField(slug_field="code", read_only=True)
    start = serializers.DateTimeField(source="procedure_start", read_only=True)
    end = serializers.DateTimeField(source="procedure_end", read_only=True)
    outcome = OutcomeSerializer(read_only=True, allow_null=True, help_text="null until an outcome is recorded.")
    overrides = OverrideSerializer(many=True, read_only=True)
    blood_thinner_holds = serializers.SerializerMethodField()
    preparation = serializers.SerializerMethodField()

    class Meta:
        model = Appointment
        fields = ["id", "status", "location", "physician", "room", "patient", "procedure_type", "order", "arrival",
                  "start", "end", "discharge", "room_start", "room_end", "follow_up_of", "cancel_reason", "notes",
                  "outcome", "overrides", "preparation", "blood_thinner_holds"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_preparation(self, appointment: Appointment) -> list[str]:
        return preparation_lines(appointment.procedure_type)

    @extend_schema_field(HoldSerializer(many=True))
    def get_blood_thinner_holds(self, appointment: Appointment) -> list[dict]:
        day = appointment.procedure_start.astimezone(appointment.location.zone).date()
        # "hold_notices" (visit id -> drug -> day told) spares the read for a visit whose messages are known.
        told_on = self.context.get("hold_notices", {}).get(appointment.pk)
        late = {hold.drug for hold in holds_told_too_late(appointment, told_on=told_on)}
        return [
            {"drug": hold.drug, "hold_days": hold.hold_days, "last_dose": hold.last_dose.isoformat(),
             "restart_guidance": hold.restart_guidance, "instruction": hold.instruction(),
             "too_late": hold.drug in late}
            for hold in blood_thinner_holds(patient=appointment.patient, procedure_type=appointment.procedure_type,
                                            procedure_day=day)
        ]

    def to_representation(self, instance):
        """What DRF's generic walk of the fields above gives, written out: built field by field
        it cost about a quarter of a booking's CPU (the fields made anew for every answer).
        Times in the visit's own location zone: a clinic reads 08:00, not 14:00Z.
        tests/test_api_appointment_json.py holds this to the generic answer."""
        zone, when = instance.location.zone, _INSTANT.to_representation
        outcome = getattr(instance, "outcome", None)
        with timezone.override(zone):
            return {
                "id": instance.pk, "status": instance.status, "location": instance.location_id,
                "physician": instance.physician_id, "room": instance.room_id, "patient": instance.patient_id,
                "procedure_type": instance.procedure_type.code, "order": instance.order_id,
                "arrival": when(instance.arrival), "start": when(instance.procedure_start),
                "end": when(instance.procedure_end), "discharge": when(instance.discharge),
                "room_start": when(instance.room_start), "room_end": when(instance.room_end),
                "follow_up_of": instance.follow_up_of_id, "cancel_reason": instance.cancel_reason,
                "notes": instance.notes,
                "outcome": None if outcome is None else OutcomeSerializer(outcome, context=self.context).data,
                "overrides": [OverrideSerializer(override, context=self.context).data
                              for override in instance.overrides.all()],
                "preparation": self.get_preparation(instance),
                "blood_thinner_holds": self.get_blood_thinner_holds(instance),
            }


class AppointmentBookSerializer(serializers.Serializer):
    # Each read with what the booking's checks ask of it, so the booking need not read it again.
    patient = RowKeyField(find=rows.patient, queryset=Patient.objects.all())
    procedure_type = CatalogCodeField(find=booking_inputs.procedure_type)
    physician = CatalogKeyField(find=booking_inputs.physician, queryset=Physician.objects.all())
    start = AwareDateTimeField()
    room = CatalogKeyField(find=booking_inputs.room, queryset=Room.objects.all(), required=False, allow_null=True)
    order = RowKeyField(find=rows.order, queryset=ProcedureOrder.objects.all(), required=False, allow_null=True)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=1000,
                                            help_text="A physician's reason to book despite unmet pathway rules.")


class RescheduleSerializer(serializers.Serializer):
    start = AwareDateTimeField()
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    physician = CatalogKeyField(find=booking_inputs.physician, queryset=Physician.objects.all(), required=False)
    room = CatalogKeyField(find=booking_inputs.room, queryset=Room.objects.all(), required=False, allow_null=True)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class CheckInSerializer(serializers.Serializer):
    checks = serializers.ListField(child=serializers.ChoiceField(choices=CheckKind.choices), required=False,
                                   default=list, help_text="The pre-procedure checks seen at check-in.")


class StartSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, default="", allow_blank=True,
                                   help_text="Why the procedure starts with checks not confirmed (then required).")


class OrderFilterSerializer(QuerySerializer):
    patient = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=OrderStatus.choices, required=False)


class AppointmentFilterSerializer(QuerySerializer):
    date = CalendarDateField(required=False)
    physician = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    location = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    patient = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    status = serializers.ChoiceField(choices=AppointmentStatus.choices, required=False)
