"""Model validation: every bad value gets a clear error on the field it concerns."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.models import (
    BleedingRisk,
    BloodThinner,
    Channel,
    Closure,
    Location,
    Patient,
    Physician,
    ProcedureType,
    Room,
    RoomOutOfService,
    ScheduleBlock,
    ScheduleKind,
    Sedation,
    TimeOff,
)

pytestmark = pytest.mark.django_db

UTC = datetime.timezone.utc


def errors_of(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


@pytest.fixture
def location():
    return Location.objects.create(
        name="Test Clinic", time_zone="America/Chicago", address_line="1 Main St", city="Bartlesville",
        state="OK", postal_code="74003", phone="(918) 555-0100", recovery_bays=2,
    )


@pytest.fixture
def physician(django_user_model):
    user = django_user_model.objects.create_user("doc", first_name="Ada", last_name="Lane", is_staff=True)
    return Physician.objects.create(user=user)


def procedure_type(**overrides) -> ProcedureType:
    values = dict(code="ESI_IL", name="Interlaminar ESI", family="epidural", prep_minutes=30, procedure_minutes=20,
                  recovery_minutes=30, setup_minutes=5, turnover_minutes=10)
    values.update(overrides)
    return ProcedureType(**values)


def test_a_valid_location_passes(location):
    location.full_clean()
    assert location.full_address == "1 Main St, Bartlesville, OK 74003"
    assert str(location.zone) == "America/Chicago"


def test_an_unknown_time_zone_is_refused(location):
    location.time_zone = "America/Bartlesville"
    assert "not a known IANA time zone" in errors_of(location)["time_zone"][0]


def test_a_phone_number_without_enough_digits_is_refused(location):
    location.phone = "call us"
    assert "phone number" in errors_of(location)["phone"][0]


def test_a_closure_ending_before_it_starts_is_refused(location):
    closure = Closure(location=location, first_day=datetime.date(2026, 12, 26), last_day=datetime.date(2026, 12, 25),
                      reason="Christmas")
    assert errors_of(closure) == {"last_day": ["The last day of a closure cannot be before its first day."]}


def test_a_closure_over_days_the_location_is_already_closed_is_refused_and_another_sites_is_not(location):
    Closure.objects.create(location=location, first_day=datetime.date(2026, 12, 24),
                           last_day=datetime.date(2026, 12, 25), reason="Christmas")
    again = Closure(location=location, first_day=datetime.date(2026, 12, 24), last_day=datetime.date(2026, 12, 25),
                    reason="Christmas")
    (message,) = errors_of(again)["__all__"]
    assert "already closed on some of these days" in message and "2026-12-24" in message
    overlapping = Closure(location=location, first_day=datetime.date(2026, 12, 25),
                          last_day=datetime.date(2026, 12, 28), reason="Holidays")
    assert "__all__" in errors_of(overlapping)
    after = Closure(location=location, first_day=datetime.date(2026, 12, 26), last_day=datetime.date(2026, 12, 26),
                    reason="Boxing day")
    after.full_clean()  # the next day is free
    other = Location.objects.get(pk=location.pk)
    other.pk, other.name = None, "Another site"
    other.save()
    Closure(location=other, first_day=datetime.date(2026, 12, 24), last_day=datetime.date(2026, 12, 25),
            reason="Christmas").full_clean()


def test_the_database_refuses_a_closure_ending_before_it_starts(location):
    with pytest.raises(IntegrityError), transaction.atomic():
        Closure.objects.create(location=location, first_day=datetime.date(2026, 12, 26),
                               last_day=datetime.date(2026, 12, 25), reason="Christmas")


def test_a_room_out_of_service_must_end_after_it_starts(location):
    room = Room.objects.create(location=location, name="Fluoro 1", kind="procedure_suite")
    period = RoomOutOfService(room=room, starts_at=datetime.datetime(2026, 12, 1, 15, tzinfo=UTC),
                              ends_at=datetime.datetime(2026, 12, 1, 15, tzinfo=UTC), reason="C-arm service")
    assert errors_of(period) == {"ends_at": ["An out-of-service period must end after it starts."]}


def test_two_rooms_of_one_location_cannot_share_a_name(location):
    Room.objects.create(location=location, name="Exam 1", kind="exam_room")
    duplicate = Room(location=location, name="Exam 1", kind="exam_room")
    assert "already has a room with that name" in str(errors_of(duplicate))


def test_negative_minutes_are_refused():
    errors = errors_of(procedure_type(prep_minutes=-5))
    assert "prep_minutes" in errors


def test_a_procedure_needs_some_minutes():
    assert "procedure_minutes" in errors_of(procedure_type(procedure_minutes=0))


def test_a_code_must_be_a_stable_identifier():
    assert "capital letters" in errors_of(procedure_type(code="esi il"))["code"][0]


def test_a_self_bookable_visit_cannot_require_an_order():
    errors = errors_of(procedure_type(self_bookable=True, requires_order=True))
    assert errors["requires_order"] == ["A visit patients book themselves cannot also require an order."]


def test_sedation_needs_fasting_and_a_driver():
    errors = errors_of(procedure_type(sedation=Sedation.MODERATE, fasting_hours=0, driver_required=False))
    assert "fasting" in errors["fasting_hours"][0]
    assert "driver" in errors["driver_required"][0]


def test_a_procedure_types_total_runs_from_arrival_to_discharge():
    assert procedure_type().total_minutes == 80


def test_a_schedule_block_ending_before_it_starts_is_refused(location, physician):
    block = ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.PROCEDURES, weekday=0,
                          start_time=datetime.time(16), end_time=datetime.time(8), valid_from=datetime.date(2026, 11, 2))
    assert "past midnight" in errors_of(block)["end_time"][0]


def test_a_schedule_block_with_validity_ending_before_it_begins_is_refused(location, physician):
    block = ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.CLINIC, weekday=0,
                          start_time=datetime.time(8), end_time=datetime.time(12),
                          valid_from=datetime.date(2026, 11, 2), valid_until=datetime.date(2026, 11, 1))
    assert errors_of(block) == {"valid_until": ["'Valid until' cannot be before 'valid from'."]}


def test_a_schedule_block_on_a_day_that_does_not_exist_is_refused(location, physician):
    block = ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.CLINIC, weekday=7,
                          start_time=datetime.time(8), end_time=datetime.time(12), valid_from=datetime.date(2026, 11, 2))
    assert "weekday" in errors_of(block)


def test_overlapping_blocks_of_one_physician_are_refused(location, physician):
    ScheduleBlock.objects.create(physician=physician, location=location, kind=ScheduleKind.PROCEDURES, weekday=0,
                                 start_time=datetime.time(7, 30), end_time=datetime.time(12),
                                 valid_from=datetime.date(2026, 11, 2))
    clash = ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.CLINIC, weekday=0,
                          start_time=datetime.time(11), end_time=datetime.time(16), valid_from=datetime.date(2026, 11, 2))
    assert "cannot be in two blocks at once" in str(errors_of(clash))


def test_blocks_that_follow_each_other_or_do_not_share_validity_are_fine(location, physician):
    ScheduleBlock.objects.create(physician=physician, location=location, kind=ScheduleKind.PROCEDURES, weekday=0,
                                 start_time=datetime.time(7, 30), end_time=datetime.time(12),
                                 valid_from=datetime.date(2026, 11, 2), valid_until=datetime.date(2026, 11, 30))
    ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.CLINIC, weekday=0,
                  start_time=datetime.time(12), end_time=datetime.time(16),
                  valid_from=datetime.date(2026, 11, 2)).full_clean()
    ScheduleBlock(physician=physician, location=location, kind=ScheduleKind.CLINIC, weekday=0,
                  start_time=datetime.time(8), end_time=datetime.time(16),
                  valid_from=datetime.date(2026, 12, 1)).full_clean()


def test_time_off_must_end_after_it_starts(physician):
    time_off = TimeOff(physician=physician, starts_at=datetime.datetime(2026, 12, 2, tzinfo=UTC),
                       ends_at=datetime.datetime(2026, 12, 1, tzinfo=UTC))
    assert errors_of(time_off) == {"ends_at": ["Time off must end after it starts."]}


def test_a_physician_must_be_a_staff_user(django_user_model):
    user = django_user_model.objects.create_user("notstaff")
    assert "staff" in errors_of(Physician(user=user))["user"][0]


def test_an_npi_has_ten_digits(physician):
    physician.npi = "12345"
    assert errors_of(physician) == {"npi": ["An NPI is exactly 10 digits."]}
    physician.npi = "1234567890"
    assert "check digit" in errors_of(physician)["npi"][0]
    physician.npi = "1234567893"
    physician.full_clean()


def test_a_physician_is_shown_with_the_title(physician):
    assert str(physician) == "Dr. Ada Lane"


def test_a_patient_born_in_the_future_is_refused():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(2099, 1, 1),
                      email="ann@example.com")
    assert "future" in errors_of(patient)["date_of_birth"][0]


def test_a_patient_preferring_text_messages_needs_a_phone():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1950, 1, 1),
                      email="ann@example.com", preferred_channel=Channel.SMS)
    assert "phone number is needed" in errors_of(patient)["phone"][0]


def test_a_patient_with_only_a_phone_is_told_to_give_an_email_or_choose_texts():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1950, 1, 1),
                      phone="+19185550177", preferred_channel=Channel.EMAIL)
    assert errors_of(patient) == {"email": ["An email address is needed when email is the preferred channel: enter "
                                            "one, or choose text message as the preferred channel."]}


def test_a_patient_needs_some_way_to_be_reached():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1950, 1, 1),
                      preferred_channel=Channel.SMS)
    assert "phone number or an email" in errors_of(patient)["phone"][0]


@pytest.mark.parametrize(
    ("risk", "hold_days", "last_dose"),
    [
        (BleedingRisk.HIGH, 5, datetime.date(2026, 12, 4)),
        (BleedingRisk.INTERMEDIATE, 5, datetime.date(2026, 12, 4)),
        (BleedingRisk.LOW, 0, None),
        (BleedingRisk.NONE, 0, None),
    ],
)
def test_a_hold_of_n_days_means_no_dose_on_the_n_days_before_nor_on_the_day(risk, hold_days, last_dose):
    warfarin = BloodThinner(name="Warfarin", hold_days_high=5, hold_days_intermediate=5, hold_days_low=0)
    procedure_day = datetime.date(2026, 12, 10)
    assert warfarin.hold_days(risk) == hold_days
    # Last dose on the 4th; no dose on the 5th-9th (5 days) nor on the 10th.
    assert warfarin.last_dose_date(risk, procedure_day) == last_dose


def test_a_riskier_procedure_never_gets_a_shorter_hold():
    drug = BloodThinner(name="Warfarin", hold_days_high=1, hold_days_intermediate=5, hold_days_low=0)
    assert "cannot be fewer" in errors_of(drug)["hold_days_high"][0]


def test_a_patient_without_consent_to_messages_is_valid_and_flagged():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1950, 1, 1),
                      phone="(918) 555-0101", email="ann@example.com", preferred_channel=Channel.SMS)
    patient.full_clean()  # accepted: "no" is a valid answer
    assert patient.no_consent_to_contact
    patient.email_consent = True
    assert patient.consented_channels() == [Channel.EMAIL] and not patient.no_consent_to_contact


def test_consent_to_texts_needs_a_phone_number():
    patient = Patient(first_name="Ann", last_name="Lee", date_of_birth=datetime.date(1950, 1, 1),
                      email="ann@example.com", sms_consent=True, email_consent=True)
    assert "phone" in errors_of(patient)


def test_server_only_zone_names_are_refused(location):
    location.time_zone = "localtime"
    assert "time_zone" in errors_of(location)
