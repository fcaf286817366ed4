"""A change of plans: the admin shows the booked visits a change would strand before it is saved,
and once saved they can be moved to the nearest offered time or cancelled, the patients told."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.urls import reverse

from clinic.models import Closure, Patient, Physician, ProcedureType, Room, RoomOutOfService, ScheduleBlock, TimeOff
from scheduling import services
from scheduling.models import Appointment, AppointmentStatus, Reminder, ReminderKind, ReminderStatus
from scheduling.reminders.links import link
from scheduling.reminders.messages import render
from scheduling.stranded import attention_count, stranded_visits
from tests.conftest import NOW, local

pytestmark = pytest.mark.django_db

# Far enough from NOW that the demo's own visits of the coming days are not in the way.
MONDAY = dt.date(2027, 1, 11)  # Dr. Okafor: procedures 07:30-15:30
TUESDAY = MONDAY + dt.timedelta(days=1)  # Dr. Reyes: procedures 07:30-15:30
WEDNESDAY = MONDAY + dt.timedelta(days=2)  # Dr. Okafor: procedures 07:30-15:30; Dr. Nair: clinic 08:00-16:00
SUNDAY = MONDAY - dt.timedelta(days=1)

ATTENTION = reverse("board:attention")


def new_patient(name: str) -> Patient:
    return Patient.objects.create(first_name=name, last_name="Stranded", date_of_birth=dt.date(1960, 5, 1),
                                  email=f"{name.lower()}@example.com", email_consent=True, preferred_channel="email")


def book(calendar, name: str, start: dt.datetime, physician=None, procedure_type=None, patient=None) -> Appointment:
    patient = patient or new_patient(name)
    procedure_type = procedure_type or calendar.mbb
    if procedure_type.requires_order:
        calendar.order_for(patient, procedure_type)
    return services.appointment_book(patient=patient, procedure_type=procedure_type,
                                     physician=physician or calendar.okafor, start=start)


@pytest.fixture
def monday_visits(calendar):
    """Two of Dr. Okafor's diagnostic blocks on MONDAY (09:00 and 13:00) and one on WEDNESDAY."""
    return [book(calendar, "Ana", local(MONDAY, 9)), book(calendar, "Ben", local(MONDAY, 13)),
            book(calendar, "Cal", local(WEDNESDAY, 9))]


def listed(response) -> list[str]:
    """The patients' names in the confirmation's or the attention list's table."""
    return re.findall(r"<td>(?:<a [^>]*>)?(\w+) Stranded", response.content.decode())


def split(value: dt.datetime) -> dict:
    return {"_0": f"{value:%Y-%m-%d}", "_1": f"{value:%H:%M}"}


def datetime_fields(name: str, value: dt.datetime) -> dict:
    return {f"{name}{suffix}": text for suffix, text in split(value).items()}


def empty_inline(prefix: str) -> dict:
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}


def confirm(data: dict, response) -> dict:
    """The confirmation page's form as the browser would post it."""
    page = response.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(_stranded_\w+)" value="([^"]*)"', page))
    return {**data, **fields}


# ---- Before saving: the affected visits, and nothing saved ---------------------------------------

def closure_form(calendar, first_day, last_day=None) -> dict:
    return {"location": calendar.location.pk, "first_day": first_day.isoformat(),
            "last_day": (last_day or first_day).isoformat(), "reason": "Ice storm", "_save": "Save"}


def test_adding_a_closure_lists_exactly_the_visits_it_strands_and_saves_nothing_until_confirmed(
        client, manager, calendar, monday_visits):
    client.force_login(manager)
    data = closure_form(calendar, MONDAY)
    response = client.post(reverse("admin:clinic_closure_add"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "These 2 visits would be stranded" in page
    assert listed(response) == ["Ana", "Ben"]
    assert "Mon 11 Jan 2027 09:00 CST" in page and "Dr. Maya Okafor" in page and "Fluoro Suite 1" in page
    assert "Lumbar medial branch block (diagnostic)" in page
    assert "The clinic is closed that day (Ice storm)." in page
    assert not Closure.objects.filter(first_day=MONDAY).exists()
    assert not LogEntry.objects.filter(user=manager).exists()
    assert "was added successfully" not in page
    assert "was added successfully" not in client.get(reverse("admin:index")).content.decode()

    response = client.post(reverse("admin:clinic_closure_add"), confirm(data, response))
    assert Closure.objects.filter(first_day=MONDAY, reason="Ice storm").exists()
    ana, ben, _ = monday_visits
    assert response.status_code == 302
    assert response["Location"] == f"{ATTENTION}?visits={ana.pk}%2C{ben.pk}"


def location_form(location, **changes) -> dict:
    return {
        "name": location.name, "is_active": "on", "time_zone": location.time_zone, "phone": location.phone,
        "address_line": location.address_line, "city": location.city, "state": location.state,
        "postal_code": location.postal_code, "recovery_bays": location.recovery_bays,
        "slot_interval_minutes": location.slot_interval_minutes,
        "minimum_notice_hours": location.minimum_notice_hours, "booking_horizon_days": location.booking_horizon_days,
        "late_cancellation_hours": location.late_cancellation_hours,
        "late_cancellation_note": location.late_cancellation_note, "what_to_bring": location.what_to_bring,
        **empty_inline("closures"), "_save": "Save", **changes,
    }


def test_a_closure_added_on_the_locations_page_asks_first_too(client, manager, calendar, monday_visits):
    location = calendar.location
    data = location_form(location, **{
        "closures-TOTAL_FORMS": "1", "closures-0-first_day": WEDNESDAY.isoformat(),
        "closures-0-last_day": WEDNESDAY.isoformat(), "closures-0-reason": "Water main",
        "closures-0-location": location.pk})
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_location_change", args=[location.pk]), data)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert listed(response) == ["Cal"]
    assert not Closure.objects.filter(first_day=WEDNESDAY).exists()
    response = client.post(reverse("admin:clinic_location_change", args=[location.pk]), confirm(data, response))
    assert response.status_code == 302
    assert Closure.objects.filter(first_day=WEDNESDAY, reason="Water main").exists()


@pytest.fixture
def shared_recoveries(calendar):
    """A kyphoplasty at 08:00 (recovery 09:00-10:00), then two blocks whose recoveries (09:20-09:50
    and 09:50-10:20) each share a bay with it, booked in that order: never more than two at once."""
    return [book_kyphoplasty(calendar, "Ida", local(MONDAY, 8)), book(calendar, "Jon", local(MONDAY, 9)),
            book(calendar, "Kim", local(MONDAY, 9, 30))]


def test_fewer_recovery_bays_list_the_later_bookings_whose_recovery_no_longer_fits(
        client, manager, calendar, shared_recoveries):
    location = calendar.location
    client.force_login(manager)
    data = location_form(location, recovery_bays="1")
    response = client.post(reverse("admin:clinic_location_change", args=[location.pk]), data)
    assert response.status_code == 200, response.content.decode()[:2000]
    assert listed(response) == ["Jon", "Kim"]  # Ida's, booked first, keeps its bay
    page = response.content.decode()
    assert (f"{location.name} has 1 recovery bay, taken during this visit&#x27;s recovery (Mon 11 Jan 09:20 to "
            "09:50) by a visit booked before it or already under way.") in page
    location.refresh_from_db()
    assert location.recovery_bays == 4
    response = client.post(reverse("admin:clinic_location_change", args=[location.pk]), confirm(data, response))
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.recovery_bays == 1
    _, jon, kim = shared_recoveries
    assert [item.appointment for item in stranded_visits(now=NOW)] == [jon, kim]


def test_a_confirmation_that_no_longer_lists_every_visit_is_shown_again_and_saves_nothing(
        client, manager, calendar, shared_recoveries):
    """As when a visit is booked between the list and "Save anyway": the page the user saw
    listed Jon alone; the change strands Kim too, so the list is shown again as it is now."""
    location = calendar.location
    _, jon, kim = shared_recoveries
    client.force_login(manager)
    url = reverse("admin:clinic_location_change", args=[location.pk])
    data = location_form(location, recovery_bays="1")
    stale = {**data, "_stranded_confirmed": "1", "_stranded_visits": str(jon.pk)}
    response = client.post(url, stale)
    assert response.status_code == 200 and listed(response) == ["Jon", "Kim"]
    assert "The list has changed since you saw it" in response.content.decode()
    location.refresh_from_db()
    assert location.recovery_bays == 4
    response = client.post(url, confirm(data, response))
    assert response.status_code == 302
    assert response["Location"] == f"{ATTENTION}?visits={jon.pk}%2C{kim.pk}"
    location.refresh_from_db()
    assert location.recovery_bays == 1


def test_bays_enough_for_the_most_recoveries_at_once_strand_nothing(client, manager, calendar, shared_recoveries):
    location = calendar.location
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_location_change", args=[location.pk]),
                           location_form(location, recovery_bays="2"))
    assert response.status_code == 302
    location.refresh_from_db()
    assert location.recovery_bays == 2 and stranded_visits(now=NOW) == []


def book_kyphoplasty(calendar, name: str, start: dt.datetime) -> Appointment:
    kyphoplasty, patient = ProcedureType.objects.get(code="KYPHOPLASTY"), new_patient(name)
    order = calendar.order_for(patient, kyphoplasty, imaging_confirms_acute_fracture=True,
                               imaging_date=MONDAY - dt.timedelta(days=10))
    return services.appointment_book(patient=patient, procedure_type=kyphoplasty, physician=calendar.okafor,
                                     start=start, order=order)


def test_a_visit_under_way_keeps_its_bay_whenever_it_was_booked(calendar):
    jon = book(calendar, "Jon", local(MONDAY, 9))
    ida = book_kyphoplasty(calendar, "Ida", local(MONDAY, 8))  # booked after Jon, recovery 09:00-10:00
    Appointment.objects.filter(pk=ida.pk).update(status=AppointmentStatus.IN_PROCEDURE)
    location = calendar.location
    location.recovery_bays = 1
    location.save()
    assert [item.appointment for item in stranded_visits(now=local(MONDAY, 8, 30))] == [jon]


def test_cancelling_a_visit_strands_no_other_and_each_verdict_stands_alone(calendar, shared_recoveries):
    ida, jon, kim = shared_recoveries
    location = calendar.location
    location.recovery_bays = 1
    location.save()
    assert [item.appointment for item in stranded_visits(now=NOW, visits=Appointment.objects.filter(pk=kim.pk))] \
        == [kim]
    services.appointment_cancel(appointment=ida, reason="Patient unwell")
    assert stranded_visits(now=NOW) == []  # Jon's and Kim's recoveries only touch


def test_time_off_lists_only_the_visits_it_overlaps(client, manager, calendar, monday_visits):
    data = {"physician": calendar.okafor.pk, "reason": "Conference", "_save": "Save",
            **datetime_fields("starts_at", local(MONDAY, 12)), **datetime_fields("ends_at", local(MONDAY, 18))}
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_timeoff_add"), data)
    assert listed(response) == ["Ben"]
    assert "Dr. Maya Okafor is off from Mon 11 Jan 12:00 to Mon 11 Jan 18:00 (Conference)." in response.content.decode()
    assert not TimeOff.objects.filter(physician=calendar.okafor, reason="Conference").exists()
    client.post(reverse("admin:clinic_timeoff_add"), confirm(data, response))
    assert TimeOff.objects.filter(physician=calendar.okafor, reason="Conference").exists()


def room_form(room: Room, **extra) -> dict:
    return {"location": room.location_id, "name": room.name, "kind": room.kind, "is_active": "on",
            "capabilities": [capability.pk for capability in room.capabilities.all()],
            **empty_inline("out_of_service"), "_save": "Save", **extra}


def test_a_room_out_of_service_lists_the_visits_in_that_room(client, manager, calendar, monday_visits):
    room = monday_visits[0].room
    data = room_form(room, **{
        "out_of_service-TOTAL_FORMS": "1", "out_of_service-0-room": room.pk, "out_of_service-0-reason": "C-arm repair",
        **datetime_fields("out_of_service-0-starts_at", local(MONDAY, 8)),
        **datetime_fields("out_of_service-0-ends_at", local(MONDAY, 10)),
    })
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_room_change", args=[room.pk]), data)
    assert listed(response) == ["Ana"]
    assert "is out of service from Mon 11 Jan 08:00 to Mon 11 Jan 10:00 (C-arm repair)" in response.content.decode()
    assert not RoomOutOfService.objects.filter(room=room).exists()
    response = client.post(reverse("admin:clinic_room_change", args=[room.pk]), confirm(data, response))
    assert response.status_code == 302
    assert RoomOutOfService.objects.filter(room=room, reason="C-arm repair").exists()


def physician_form(physician: Physician, procedure_types) -> dict:
    blocks = list(physician.schedule_blocks.order_by("weekday", "start_time"))
    data = {"user": physician.user_id, "credentials": physician.credentials, "npi": physician.npi, "is_active": "on",
            "procedure_types": [procedure_type.pk for procedure_type in procedure_types],
            **empty_inline("schedule_blocks"), **empty_inline("time_off"), "_save": "Save",
            "schedule_blocks-TOTAL_FORMS": str(len(blocks)), "schedule_blocks-INITIAL_FORMS": str(len(blocks))}
    for index, block in enumerate(blocks):
        prefix = f"schedule_blocks-{index}-"
        data.update({prefix + "id": block.pk, prefix + "physician": physician.pk, prefix + "weekday": block.weekday,
                     prefix + "start_time": f"{block.start_time:%H:%M}", prefix + "end_time": f"{block.end_time:%H:%M}",
                     prefix + "kind": block.kind, prefix + "location": block.location_id,
                     prefix + "valid_from": block.valid_from.isoformat(),
                     prefix + "valid_until": block.valid_until.isoformat() if block.valid_until else ""})
    return data


def test_removing_a_credential_lists_the_visits_of_that_procedure(client, manager, calendar, monday_visits):
    okafor = calendar.okafor
    consult = book(calendar, "Dee", local(dt.date(2027, 1, 12) + dt.timedelta(days=7), 9),  # a Tuesday: clinic
                   procedure_type=calendar.consult)
    kept = [procedure_type for procedure_type in okafor.procedure_types.all() if procedure_type != calendar.mbb]
    data = physician_form(okafor, kept)
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_physician_change", args=[okafor.pk]), data)
    assert listed(response) == ["Ana", "Ben", "Cal"]
    assert consult.patient.first_name not in listed(response)
    assert "Dr. Maya Okafor is no longer credentialed for Lumbar medial branch block (diagnostic)." in \
        response.content.decode()
    assert okafor.procedure_types.filter(pk=calendar.mbb.pk).exists()
    client.post(reverse("admin:clinic_physician_change", args=[okafor.pk]), confirm(data, response))
    assert not okafor.procedure_types.filter(pk=calendar.mbb.pk).exists()


def block_form(block: ScheduleBlock, **changes) -> dict:
    data = {"physician": block.physician_id, "location": block.location_id, "kind": block.kind,
            "weekday": block.weekday, "start_time": f"{block.start_time:%H:%M}", "end_time": f"{block.end_time:%H:%M}",
            "valid_from": block.valid_from.isoformat(),
            "valid_until": block.valid_until.isoformat() if block.valid_until else "", "_save": "Save"}
    return {**data, **changes}


def test_shortening_a_schedule_block_lists_the_visits_left_outside_it(client, manager, calendar, monday_visits):
    block = ScheduleBlock.objects.get(physician=calendar.okafor, weekday=0)
    data = block_form(block, end_time="12:00")
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_scheduleblock_change", args=[block.pk]), data)
    assert listed(response) == ["Ben"]
    assert "The physician has no schedule block of this kind at that time." in response.content.decode()
    block.refresh_from_db()
    assert block.end_time == dt.time(15, 30)
    client.post(reverse("admin:clinic_scheduleblock_change", args=[block.pk]), confirm(data, response))
    block.refresh_from_db()
    assert block.end_time == dt.time(12, 0)


def test_deleting_a_schedule_block_lists_its_visits_and_deletes_only_when_confirmed(
        client, manager, calendar, monday_visits):
    block = ScheduleBlock.objects.get(physician=calendar.okafor, weekday=2)
    client.force_login(manager)
    url = reverse("admin:clinic_scheduleblock_delete", args=[block.pk])
    response = client.post(url, {"post": "yes"})
    assert listed(response) == ["Cal"]
    assert ScheduleBlock.objects.filter(pk=block.pk).exists()
    response = client.post(url, confirm({"post": "yes"}, response))
    assert response.status_code == 302
    assert not ScheduleBlock.objects.filter(pk=block.pk).exists()


def test_a_change_that_strands_nothing_is_saved_at_once(client, manager, calendar, monday_visits):
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_closure_add"), closure_form(calendar, SUNDAY))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:clinic_closure_changelist")
    assert Closure.objects.filter(first_day=SUNDAY).count() == 1


def test_visits_stranded_before_the_change_are_not_blamed_on_it(client, manager, calendar, monday_visits):
    Room.objects.filter(pk=monday_visits[0].room_id).update(is_active=False)  # strands all three already
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_closure_add"), closure_form(calendar, MONDAY))
    assert response.status_code == 302


def test_an_invalid_form_shows_its_errors_and_saves_nothing(client, manager, calendar, monday_visits):
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_closure_add"), closure_form(calendar, MONDAY, SUNDAY))
    assert response.status_code == 200
    assert "The last day of a closure cannot be before its first day." in response.content.decode()
    assert "would be stranded" not in response.content.decode()
    assert not Closure.objects.filter(first_day=MONDAY).exists()


# ---- The one rule ----------------------------------------------------------------------------------

def test_the_rule_reads_the_same_number_of_queries_for_few_and_many_visits(calendar, django_assert_num_queries):
    names = ["Ana", "Ben", "Cal", "Dee", "Eve", "Fay", "Gus"]
    visits = [book(calendar, name, local(MONDAY, 8 + index)) for index, name in enumerate(names)]
    Closure.objects.create(location=calendar.location, first_day=MONDAY, last_day=MONDAY, reason="Ice storm")
    for count in (2, 7):
        chosen = Appointment.objects.filter(pk__in=[visit.pk for visit in visits[:count]])
        with django_assert_num_queries(15):
            assert len(stranded_visits(now=NOW, visits=chosen)) == count


def test_a_visit_the_engine_still_accepts_is_not_stranded(calendar, monday_visits):
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(MONDAY, 10), ends_at=local(MONDAY, 12))
    assert stranded_visits(now=NOW, visits=Appointment.objects.filter(pk__in=[v.pk for v in monday_visits])) == []


# ---- Once saved: move them, or cancel --------------------------------------------------------------

@pytest.fixture
def closed_monday(calendar, monday_visits):
    return Closure.objects.create(location=calendar.location, first_day=MONDAY, last_day=MONDAY, reason="Ice storm")


def attention(client, user, calendar):
    client.force_login(user)
    return client.get(ATTENTION, {"location": calendar.location.pk})


def test_move_all_moves_each_to_the_nearest_offered_time_with_the_same_physician(
        client, front_desk, calendar, monday_visits, closed_monday):
    ana, ben, cal = monday_visits
    response = attention(client, front_desk, calendar)
    assert listed(response) == ["Ana", "Ben"]
    response = client.post(f"{ATTENTION}?location={calendar.location.pk}", {"action": "move_all"}, follow=True)
    ana.refresh_from_db(), ben.refresh_from_db()
    # Dr. Okafor's next procedures block is Wednesday; Cal's 09:00 there stays where it is.
    assert (ana.procedure_start, ana.physician) == (local(WEDNESDAY, 7, 30), calendar.okafor)
    # Ana's procedure holds Dr. Okafor until 07:50: Ben's is at the next start on the grid.
    assert (ben.procedure_start, ben.physician) == (local(WEDNESDAY, 8), calendar.okafor)
    assert ana.status == ben.status == AppointmentStatus.SCHEDULED
    page = response.content.decode()
    assert "Ana Stranded, Lumbar medial branch block (diagnostic): Moved to Wed 13 Jan 2027 07:30 CST" in page
    # The front desk does not see the care plans waiting for a physician: its page speaks of visits.
    assert "No booked visit needs attention" in page
    assert listed(response) == []


def test_the_move_respects_the_patients_other_visits(client, front_desk, calendar, monday_visits, closed_monday):
    ana = monday_visits[0]
    # Ana sees Dr. Nair on Wednesday at 08:00 (arrive 07:45, out at 08:45).
    book(calendar, "Ana", local(WEDNESDAY, 8), physician=calendar.nair, procedure_type=calendar.consult,
         patient=ana.patient)
    result = services.appointment_move_to_nearest(appointment=ana, by=front_desk)
    assert result.moved
    ana.refresh_from_db()
    # Arriving at 08:45 once the consultation is over, at 09:15 she would meet Cal's 09:00 procedure.
    assert ana.procedure_start == local(WEDNESDAY, 9, 30)


def test_without_their_own_physician_the_visit_goes_to_another_credentialed_one(
        client, front_desk, calendar, monday_visits):
    calendar.okafor.procedure_types.remove(calendar.mbb)
    ana = monday_visits[0]
    result = services.appointment_move_to_nearest(appointment=ana, by=front_desk)
    ana.refresh_from_db()
    assert result.moved, result.message
    assert (ana.procedure_start, ana.physician) == (local(TUESDAY, 7, 30), calendar.reyes)


def test_a_visit_with_no_offered_time_is_reported_and_kept(client, front_desk, calendar, monday_visits):
    Closure.objects.create(location=calendar.location, first_day=MONDAY, last_day=MONDAY + dt.timedelta(days=200),
                           reason="Renovation")
    ana = monday_visits[0]
    client.force_login(front_desk)
    response = client.post(f"{ATTENTION}?location={calendar.location.pk}", {"action": "move", "visit": ana.pk},
                           follow=True)
    page = response.content.decode()
    assert "Ana Stranded, Lumbar medial branch block (diagnostic): Could not be moved: no time is offered" in page
    ana.refresh_from_db()
    assert (ana.status, ana.procedure_start) == (AppointmentStatus.SCHEDULED, local(MONDAY, 9))
    assert "Ana" in listed(response)


def test_the_patients_are_told_and_no_reminder_of_the_old_time_stays_pending(
        client, front_desk, calendar, monday_visits, closed_monday):
    ana, ben, _ = monday_visits
    before = set(Reminder.objects.filter(appointment__in=[ana, ben], status=ReminderStatus.PENDING)
                 .values_list("pk", flat=True))
    assert before
    client.force_login(front_desk)
    client.post(f"{ATTENTION}?location={calendar.location.pk}", {"action": "move_all"})
    for visit in (ana, ben):
        visit.refresh_from_db()
        pending = Reminder.objects.filter(appointment=visit, status=ReminderStatus.PENDING)
        assert not pending.filter(pk__in=before).exists()
        notice = pending.get(kind=ReminderKind.CLINIC_MOVED)
        message = render(notice)
        assert link(visit, "manage") in message.body
        assert "we had to move your visit. It is now on Wednesday January 13" in message.body
        assert not pending.filter(kind=ReminderKind.VISIT_MOVED).exists()
        assert not pending.filter(kind=ReminderKind.BOOKING_CONFIRMATION).exists()  # the notice replaces it
        assert pending.filter(kind=ReminderKind.ARRIVAL, due_at__date__gte=WEDNESDAY - dt.timedelta(days=1)).exists()


def test_a_stranded_visit_is_cancelled_with_a_reason_and_the_patient_told(
        client, front_desk, calendar, monday_visits, closed_monday):
    ana = monday_visits[0]
    client.force_login(front_desk)
    url = f"{ATTENTION}?location={calendar.location.pk}"
    response = client.post(url, {"action": "cancel", "visit": ana.pk, "reason": ""}, follow=True)
    assert "not cancelled. Say why the visit is cancelled." in response.content.decode()
    ana.refresh_from_db()
    assert ana.status == AppointmentStatus.SCHEDULED
    client.post(url, {"action": "cancel", "visit": ana.pk, "reason": "Clinic closed: ice storm"})
    ana.refresh_from_db()
    assert (ana.status, ana.cancel_reason, ana.cancelled_by) == (
        AppointmentStatus.CANCELLED, "Clinic closed: ice storm", front_desk)
    assert ana.reminders.filter(kind=ReminderKind.VISIT_CANCELLED, status=ReminderStatus.PENDING).exists()
    assert list(ana.reminders.filter(status=ReminderStatus.PENDING).values_list("kind", flat=True)) == [
        ReminderKind.VISIT_CANCELLED]


def test_the_attention_list_shows_a_visit_broken_in_the_database_until_it_is_moved(
        client, front_desk, calendar, monday_visits):
    ana = monday_visits[0]
    cache.clear()
    assert attention_count(calendar.location, now=NOW) == 0
    Room.objects.filter(pk=ana.room_id).update(is_active=False)  # as a data import might
    cache.clear()  # the board's count is kept a minute; the page reads afresh
    response = attention(client, front_desk, calendar)
    assert listed(response) == ["Ana", "Ben", "Cal"]
    assert f"{ana.room.name} is no longer in use." in response.content.decode()
    assert attention_count(calendar.location, now=NOW) == 3
    client.post(f"{ATTENTION}?location={calendar.location.pk}", {"action": "move", "visit": ana.pk})
    ana.refresh_from_db()
    assert ana.procedure_start == local(MONDAY, 9) and ana.room_id != monday_visits[1].room_id
    assert listed(attention(client, front_desk, calendar)) == ["Ben", "Cal"]
    assert attention_count(calendar.location, now=NOW) == 2


def test_the_list_after_a_change_shows_only_its_visits_still_stranded(
        client, manager, calendar, monday_visits, closed_monday):
    ana, ben, cal = monday_visits
    client.force_login(manager)
    response = client.get(ATTENTION, {"visits": f"{ana.pk},{ben.pk},{cal.pk}"})
    assert listed(response) == ["Ana", "Ben"]


# ---- Who may, and bad input ------------------------------------------------------------------------

def test_staff_without_a_role_are_refused_the_list(client, calendar, monday_visits):
    user = get_user_model().objects.create_user("no-role", password="pw-for-tests-only", is_staff=True)
    client.force_login(user)
    assert client.get(ATTENTION).status_code == 403


def test_a_nurse_sees_the_list_but_may_not_move_or_cancel(client, nurse, calendar, monday_visits, closed_monday):
    response = attention(client, nurse, calendar)
    assert response.status_code == 200 and listed(response) == ["Ana", "Ben"]
    assert "Move to the nearest time" not in response.content.decode()
    assert "The front desk or the clinic manager can move or cancel these visits." in response.content.decode()
    url = f"{ATTENTION}?location={calendar.location.pk}"
    assert client.post(url, {"action": "move_all"}).status_code == 403
    assert client.post(url, {"action": "cancel", "visit": monday_visits[0].pk, "reason": "x"}).status_code == 403
    assert Appointment.objects.get(pk=monday_visits[0].pk).procedure_start == local(MONDAY, 9)


def test_a_physician_may_not_cancel_from_the_list(client, physician_user, calendar, monday_visits, closed_monday):
    client.force_login(physician_user)
    url = f"{ATTENTION}?location={calendar.location.pk}"
    assert client.post(url, {"action": "cancel", "visit": monday_visits[0].pk, "reason": "x"}).status_code == 403
    assert client.post(url, {"action": "move", "visit": monday_visits[0].pk}).status_code == 403
    assert Appointment.objects.get(pk=monday_visits[0].pk).status == AppointmentStatus.SCHEDULED


def test_the_front_desk_may_not_add_a_closure(client, front_desk, calendar):
    client.force_login(front_desk)
    assert client.post(reverse("admin:clinic_closure_add"), closure_form(calendar, MONDAY)).status_code == 403
    assert not Closure.objects.filter(first_day=MONDAY).exists()


@pytest.mark.parametrize("query, words", [
    ({"location": "abc"}, "There is no such location."),
    ({"location": "999999"}, "There is no such location."),
    ({"visits": "1,x"}, "Visits are given as ids separated by commas"),
    ({"visits": "-4"}, "Visits are given as ids separated by commas"),
])
def test_a_bad_query_string_gets_a_clear_error(client, front_desk, calendar, query, words):
    client.force_login(front_desk)
    response = client.get(ATTENTION, query)
    assert response.status_code == 400
    assert words in response.content.decode()


def test_a_bad_action_gets_a_clear_error_and_changes_nothing(client, front_desk, calendar, monday_visits,
                                                             closed_monday):
    client.force_login(front_desk)
    url = f"{ATTENTION}?location={calendar.location.pk}"
    response = client.post(url, {"action": "explode"})
    assert response.status_code == 400 and "That action is not one this page offers." in response.content.decode()
    response = client.post(url, {"action": "move", "visit": "abc"})
    assert response.status_code == 400
    cal = monday_visits[2]  # not stranded: the page does not move it
    response = client.post(url, {"action": "move", "visit": cal.pk}, follow=True)
    assert "That visit is no longer stranded" in response.content.decode()
    assert Appointment.objects.get(pk=cal.pk).procedure_start == local(WEDNESDAY, 9)


# ---- Time off in the staff's zone ------------------------------------------------------------------

def test_the_time_off_page_shows_its_times_in_the_physicians_zone(client, manager, calendar):
    time_off = TimeOff.objects.create(physician=calendar.okafor, starts_at=local(dt.date(2026, 12, 1), 8),
                                      ends_at=local(dt.date(2026, 12, 1), 17), reason="Dentist")
    assert str(time_off) == "Dr. Maya Okafor off 2026-12-01 08:00 to 2026-12-01 17:00 CST"
    client.force_login(manager)
    page = client.get(reverse("admin:clinic_timeoff_change", args=[time_off.pk])).content.decode()
    assert "2026-12-01 08:00 to 2026-12-01 17:00 CST" in page
    assert "14:00" not in page and "23:00" not in page  # the UTC times
    assert 'value="08:00"' in page or 'value="08:00:00"' in page


def test_time_off_of_a_physician_without_blocks_is_shown_in_the_clinics_default_zone(calendar, settings):
    user = get_user_model().objects.create_user("new-doc", first_name="Ann", last_name="Lee", is_staff=True)
    physician = Physician.objects.create(user=user)
    settings.TIME_ZONE = "America/New_York"
    time_off = TimeOff.objects.create(physician=physician, starts_at=local(dt.date(2026, 12, 1), 8),
                                      ends_at=local(dt.date(2026, 12, 1), 17))
    assert str(time_off) == "Dr. Ann Lee off 2026-12-01 09:00 to 2026-12-01 18:00 EST"


def test_the_time_off_list_shows_each_physicians_times_in_their_zone(client, manager, calendar):
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(dt.date(2026, 12, 1), 8),
                           ends_at=local(dt.date(2026, 12, 1), 17), reason="Dentist")
    client.force_login(manager)
    page = client.get(reverse("admin:clinic_timeoff_changelist")).content.decode()
    assert "2026-12-01 08:00 CST" in page and "2026-12-01 17:00 CST" in page


def test_a_patient_already_sent_the_confirmation_gets_one_notice_of_the_move(front_desk, calendar, monday_visits,
                                                                        closed_monday):
    ana = monday_visits[0]
    ana.reminders.filter(kind=ReminderKind.BOOKING_CONFIRMATION).update(status=ReminderStatus.SENT)
    assert services.appointment_move_to_nearest(appointment=ana, by=front_desk).moved
    pending = ana.reminders.filter(status=ReminderStatus.PENDING)
    assert pending.filter(kind=ReminderKind.CLINIC_MOVED).count() == 1
    assert not pending.filter(kind=ReminderKind.VISIT_MOVED).exists()  # one notice, not two


def test_the_front_desk_is_told_to_call_a_patient_who_takes_no_messages(front_desk, calendar, monday_visits,
                                                                         closed_monday):
    ana = monday_visits[0]
    Patient.objects.filter(pk=ana.patient_id).update(email_consent=False)
    ana.refresh_from_db()
    result = services.appointment_move_to_nearest(appointment=ana, by=front_desk)
    assert result.moved
    assert "The patient has no consent to messages: call them." in result.message
    assert not ana.reminders.filter(kind=ReminderKind.CLINIC_MOVED).exists()


def test_the_notice_of_the_clinics_move_is_in_the_patients_language(front_desk, calendar, monday_visits,
                                                                     closed_monday):
    ana = monday_visits[0]
    Patient.objects.filter(pk=ana.patient_id).update(language="es")
    services.appointment_move_to_nearest(appointment=ana, by=front_desk)
    message = render(Reminder.objects.get(appointment=ana, kind=ReminderKind.CLINIC_MOVED,
                                          status=ReminderStatus.PENDING))
    assert "lo sentimos, tuvimos que cambiar su cita" in message.body
    assert "Tuvimos que cambiar su cita" in message.subject


def test_changing_a_blocks_kind_lists_the_visits_booked_into_it(client, manager, calendar, monday_visits):
    block = ScheduleBlock.objects.get(physician=calendar.okafor, weekday=0)
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_scheduleblock_change", args=[block.pk]),
                           block_form(block, kind="clinic"))
    assert listed(response) == ["Ana", "Ben"]
    block.refresh_from_db()
    assert block.kind == "procedures"


# The board's count, judged again only where something changed ---------------------------------

def _count_expires(calendar) -> None:
    """The minute the board keeps its count is over (the verdicts behind it are kept)."""
    cache.delete(f"attention-count:{calendar.location.pk}")


def test_the_count_sees_a_change_to_the_clinic_made_in_the_database_once_its_minute_is_over(
        calendar, monday_visits):
    cache.clear()
    assert attention_count(calendar.location, now=NOW) == 0
    TimeOff.objects.create(physician=calendar.okafor, starts_at=local(MONDAY, 12), ends_at=local(MONDAY, 18),
                           reason="Conference")  # as an import might: no admin page clears the count
    assert attention_count(calendar.location, now=NOW) == 0  # kept for its minute
    _count_expires(calendar)
    assert attention_count(calendar.location, now=NOW) == 1  # Ben, at 13:00
    TimeOff.objects.all().delete()
    _count_expires(calendar)
    assert attention_count(calendar.location, now=NOW) == 0


def test_the_count_sees_a_visit_moved_in_the_database_while_the_clinic_is_unchanged(calendar, monday_visits):
    cache.clear()
    assert attention_count(calendar.location, now=NOW) == 0
    ben = monday_visits[1]
    # Three hours later, 16:00: past the end of Dr. Okafor's block, a time the booking would never give.
    late = {name: getattr(ben, name) + dt.timedelta(hours=3) for name in (
        "arrival", "procedure_start", "procedure_end", "discharge", "room_start", "room_end")}
    Appointment.objects.filter(pk=ben.pk).update(**late)
    _count_expires(calendar)
    assert len(stranded_visits(now=NOW)) == 1
    assert attention_count(calendar.location, now=NOW) == 1
    Appointment.objects.filter(pk=ben.pk).update(status=AppointmentStatus.CANCELLED)
    _count_expires(calendar)
    assert attention_count(calendar.location, now=NOW) == 0
