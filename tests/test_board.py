"""The day board at /admin/board/: lanes of each visit's segments, flags in words, filters, the
visit's details, times to book, the physician's day, the nurse's view, and a fixed number of
queries however full the day."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.models import BloodThinner, Closure, Location, Patient, Physician, ProcedureType, Room, ScheduleBlock
from scheduling import services
from scheduling.board_offers import representative_types
from scheduling.models import Appointment, AppointmentStatus, Outcome
from scheduling.stranded import attention_count
from tests.conftest import NEXT_MONDAY, NOW, local

TODAY = NOW.date()  # Tuesday: Dr. Reyes works procedures 07:30-15:30
pytestmark = pytest.mark.django_db


def book(calendar, patient, start, *, physician=None, procedure_type=None, room=None):
    procedure_type = procedure_type or calendar.mbb
    return services.appointment_book(patient=patient, procedure_type=procedure_type,
                                     physician=physician or calendar.okafor, start=start, room=room,
                                     order=calendar.order_for(patient, procedure_type))


def board(client, user, **params):
    client.force_login(user)
    return client.get("/admin/board/", params)


def text(response) -> str:
    return unescape(response.content.decode())


def lane(html: str, key: str) -> str:
    """The markup of one lane ("room-3", "physician-2")."""
    match = re.search(rf'<div class="lane" id="{key}">(.*?)</svg>\s*</div>', html, re.S)
    assert match, f"no lane {key}"
    return match.group(1)


@pytest.fixture
def monday(calendar):
    """Three visits with Dr. Okafor on next Monday, the middle one in the second fluoroscopy suite."""
    suite_1, suite_2 = Room.objects.get(name="Fluoro Suite 1"), Room.objects.get(name="Fluoro Suite 2")
    first = book(calendar, calendar.patients[0], local(NEXT_MONDAY, 8), room=suite_1)
    second = book(calendar, calendar.patients[1], local(NEXT_MONDAY, 8, 30), room=suite_2)
    third = book(calendar, calendar.patients[2], local(NEXT_MONDAY, 9), room=suite_1)
    return first, second, third


def test_the_board_draws_each_visit_as_room_time_around_a_solid_procedure(client, front_desk, monday):
    first, second, third = monday
    response = board(client, front_desk, date=NEXT_MONDAY.isoformat())
    assert response.status_code == 200
    html = text(response)
    suite_1 = lane(html, f"room-{first.room_id}")
    label = (f"{first.patient.full_name}, MBB_LUMBAR, Dr. Maya Okafor, Fluoro Suite 1, 08:00 to 08:20 "
             f"(arrives 07:30, leaves 08:50), Scheduled")
    assert f'aria-label="{label}' in suite_1
    assert third.patient.full_name in suite_1 and second.patient.full_name not in suite_1
    # MBB: 5 min setup, 20 procedure, 10 turnover: the solid procedure starts 5/35 into the room's time.
    assert '<rect class="procedure" x="14.286%" width="57.143%"' in suite_1
    assert 'class="room-time"' in suite_1 and 'class="prep"' in suite_1 and 'class="recovery"' in suite_1
    # The status is written in the block and in the list, not only coloured.
    # A 35-minute block writes its status short (the legend spells it out), and what it is cut to
    # fit the block at its narrowest (the tooltip and the list say it in full).
    assert re.search(r'<text class="what" x="3" y="26">MBB_LUM…</text>\s*<text class="state" x="3" y="39">'
                     r'Sched.</text>', suite_1)
    assert "Scheduled · “Sched.” on a narrow block" in html and "Completed · “Done” on a narrow block" in html
    assert re.search(r'<span class="status-badge status-scheduled">Scheduled</span>', html)


def lane_head(html: str) -> str:
    match = re.search(r'<div class="lane lane-recovery" id="recovery">(.*?)</div>', html, re.S)
    return match.group(1) if match else ""


def test_the_recovery_lane_counts_bays_in_use_against_the_locations_bays(client, front_desk, monday):
    location = Location.objects.get()
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    # In recovery 08:20-08:50, 08:50-09:20 and 09:20-09:50: one bay, taken over by each in turn.
    assert f"at most 1 of {location.recovery_bays} bays" in lane_head(html)
    assert f"08:15–10:00: 1 of {location.recovery_bays} bays" in html
    assert html.count('class="bay-load"') == 7  # the quarter hours from 08:15 to 10:00


def test_today_shows_a_now_line_and_other_days_do_not(client, front_desk, calendar):
    assert 'class="now"' in text(board(client, front_desk))
    assert 'class="now"' not in text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))


def test_flags_are_written_out_for_the_staff(client, front_desk, calendar):
    patient = calendar.patients[3]
    patient.needs_review, patient.sms_consent, patient.email_consent = True, False, False
    patient.save()
    visit = book(calendar, patient, local(TODAY, 10), physician=calendar.reyes, procedure_type=calendar.esi)
    patient.blood_thinners.add(BloodThinner.objects.get(name__istartswith="warfarin"))  # five days: too late
    calm = calendar.patients[4]
    calm.sms_consent, calm.needs_review = True, False
    calm.save()
    other = book(calendar, calm, local(TODAY, 12), physician=calendar.reyes)
    services.appointment_confirm(appointment=other, by=front_desk)

    html = text(board(client, front_desk, visit=visit.pk))
    panel = html[html.index('id="visit-panel"'):html.index("</section>")]
    for words in ("Not confirmed, less than 48 h before", "Blood-thinner hold too late: Warfarin",
                  "Patient needs front-desk review", "No consent to contact"):
        assert words.lower() in panel.lower()
    row = re.search(rf'data-visit="{other.pk}">.*?</tr>', html, re.S).group(0)
    assert 'class="flag' not in row

    # The arrivals desk shows the same flags, by the same rule.
    desk = text(client.get("/admin/board/arrivals/"))
    row = re.search(rf'<tr id="visit-{visit.pk}".*?</tr>', desk, re.S).group(0)
    for words in ("Not confirmed, less than 48 h before", "Blood-thinner hold too late: Warfarin",
                  "Patient needs front-desk review", "No consent to contact"):
        assert words.lower() in row.lower()
    assert 'class="flag' not in re.search(rf'<tr id="visit-{other.pk}".*?</tr>', desk, re.S).group(0)


def test_a_hold_the_patient_was_told_of_in_time_is_not_flagged_on_the_day(client, front_desk, calendar, clock):
    from tests.conftest import NEXT_THURSDAY

    patient = calendar.patients[5]
    patient.sms_consent, patient.phone = True, patient.phone or "(918) 555-0199"
    patient.save()
    patient.blood_thinners.set([BloodThinner.objects.get(name__istartswith="warfarin")])  # last dose Nov 27
    visit = book(calendar, patient, local(NEXT_THURSDAY, 9), physician=calendar.reyes, procedure_type=calendar.esi)
    assert visit.reminders.filter(kind="blood_thinner_hold").exists()  # told on the last-dose day
    clock.move_to(local(NEXT_THURSDAY, 7))  # the last-dose day has passed, as it should have
    html = text(board(client, front_desk, date=NEXT_THURSDAY.isoformat(), visit=visit.pk))
    panel = html[html.index('id="visit-panel"'):html.index("</section>")]
    assert "Warfarin" not in panel and "hold too late" not in panel.lower()


def test_cancelled_visits_are_hidden_unless_asked_for(client, front_desk, monday):
    first, second, _ = monday
    services.appointment_cancel(appointment=second, by=front_desk, reason="Snow")
    assert second.patient.full_name not in text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    shown = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), cancelled="1"))
    assert f"{second.patient.full_name}, MBB_LUMBAR" in shown and "Cancelled" in shown


@pytest.mark.parametrize("params, message", [
    ({"date": "2026-13-45"}, "2026-13-45 is written as a date, but there is no such day."),
    ({"date": "tomorrow"}, "Enter the date as YYYY-MM-DD"),
    ({"date": "9999-12-31"}, "Choose a day between 1900-01-01 and 2999-12-31"),
    ({"location": "999999"}, "There is no such location"),
    ({"location": "abc"}, "There is no such location"),
    ({"physician": "abc"}, "There is no such physician"),
    ({"room": "999999"}, "There is no such room"),
    ({"visit": "x"}, "A visit is given by its number"),
])
def test_bad_query_values_give_a_page_that_says_what_is_wrong(client, front_desk, params, message):
    response = board(client, front_desk, **params)
    assert response.status_code == 400
    assert "This day cannot be shown" in text(response) and message in text(response)


def test_a_room_of_another_location_is_refused_in_words(client, front_desk, calendar):
    home = Location.objects.get()
    other = Location.objects.create(name="Annex", time_zone="America/Chicago", address_line="1 Main", city="Tulsa",
                                    state="OK", postal_code="74101", phone="+19185550100")
    room = Room.objects.create(location=other, name="Annex Exam", kind="exam_room")
    response = board(client, front_desk, location=home.pk, room=room.pk)
    assert response.status_code == 400 and "Annex Exam is not at" in text(response)


def test_a_visit_of_another_day_opens_on_its_own_day(client, front_desk, monday):
    first = monday[0]
    response = board(client, front_desk, visit=first.pk)
    assert response.status_code == 302 and f"date={NEXT_MONDAY.isoformat()}" in response["Location"]


def test_a_past_visit_opens_on_its_own_day_from_the_default_board(client, front_desk, calendar, monday, clock):
    first = monday[0]
    clock.move_to(local(NEXT_MONDAY + dt.timedelta(days=3), 9))  # the visit is now in the past
    response = board(client, front_desk, visit=first.pk)
    assert response.status_code == 302 and f"date={NEXT_MONDAY.isoformat()}" in response["Location"]
    assert first.patient.full_name in text(client.get(response["Location"]))
    # Also when the script asks for the board's live part only.
    response = client.get("/admin/board/", {"visit": first.pk}, headers={"X-Board-Fragment": "1"})
    assert response.status_code == 302 and f"date={NEXT_MONDAY.isoformat()}" in response["Location"]


def test_a_visit_that_does_not_exist_is_said_to_not_exist(client, front_desk, calendar):
    html = text(board(client, front_desk, visit=99999))
    assert "Visit 99999 does not exist." in html and "filtered out" not in html


def test_staff_without_the_view_permission_are_refused(client, calendar):
    clerk = get_user_model().objects.create_user("clerk", password="pw-for-tests-only", is_staff=True)
    client.force_login(clerk)
    for url in ("/admin/board/", "/admin/board/my-day/", "/admin/board/recovery/", "/admin/board/changes/"):
        assert client.get(url).status_code == 403, url
    clerk.user_permissions.add(Permission.objects.get(codename="view_appointment"))
    clerk = get_user_model().objects.get(pk=clerk.pk)
    client.force_login(clerk)
    assert client.get("/admin/board/").status_code == 200


def test_people_who_are_not_staff_are_sent_to_sign_in(client, calendar):
    patient_user = get_user_model().objects.create_user("someone", password="pw-for-tests-only")
    client.force_login(patient_user)
    response = client.get("/admin/board/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_board_filtered_by_physician_shows_only_their_visits(client, front_desk, calendar, monday):
    other = book(calendar, calendar.patients[5], local(NEXT_MONDAY, 10), physician=calendar.okafor)
    reyes_visit = book(calendar, calendar.patients[6], local(TODAY + dt.timedelta(days=7), 10),
                       physician=calendar.reyes)
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), physician=calendar.okafor.pk))
    assert other.patient.full_name in html
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), physician=calendar.reyes.pk))
    assert monday[0].patient.full_name not in html and "0 visits" in html
    assert reyes_visit.patient.full_name not in html  # another day


def test_the_board_filtered_by_room_shows_that_lane_only(client, front_desk, monday):
    first, second, third = monday
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), room=second.room_id))
    assert f'id="room-{second.room_id}"' in html and f'id="room-{first.room_id}"' not in html
    assert second.patient.full_name in html and first.patient.full_name not in html


def test_physician_lanes_show_a_physician_alternating_between_rooms(client, front_desk, calendar, monday):
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), lanes="physicians"))
    okafor = lane(html, f"physician-{calendar.okafor.pk}")
    # A row per room: Fluoro Suite 1 on top, Fluoro Suite 2 below; the visits zig-zag between them.
    assert re.findall(r'<text class="row-label" x="4" y="(\d+)">([^<]+)</text>', okafor) == [
        ("10", "Fluoro Suite 1"), ("68", "Fluoro Suite 2")]
    rows = re.findall(r'aria-label="([^,]+), MBB_LUMBAR[^"]*">.*?<svg x="[\d.]+%" y="(\d+)"', okafor, re.S)
    assert [top for _, top in rows] == ["12", "70", "12"]
    assert "Procedures 07:30-15:30" in html
    assert not re.search(r'id="room-\d', html)  # the toggle replaces the room lanes


def test_book_here_links_carry_physician_room_and_start(client, front_desk, monday):
    first = monday[0]
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    suite_1 = lane(html, f"room-{first.room_id}")
    # Fluoro Suite 1 is taken 07:55-08:30 and 08:55-09:30: the first free stretch that fits
    # ESI-length room time (35 min) is after 09:30, on the 15-minute grid, 09:45 (room from 09:40).
    offer = re.search(r'<a class="offer" href="([^"]+)" aria-label="([^"]+)"', suite_1)
    assert offer, "no time offered in Fluoro Suite 1"
    url, label = offer.groups()
    assert label == "Book Fluoro Suite 1 at 09:45 with Dr. Maya Okafor"
    assert url.startswith("/admin/scheduling/appointment/add/?")
    assert f"physician={first.physician_id}" in url and f"room={first.room_id}" in url
    assert "start=2026-11-30T09%3A45%3A00-06%3A00" in url

    form = text(client.get(url))
    assert "The time asked for: <strong>Mon 30 Nov 2026 09:45 CST</strong> with Dr. Maya Okafor" in form


def test_a_time_taken_from_book_here_is_booked_exactly(client, front_desk, calendar, monday):
    first = monday[0]
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    url = re.search(r'<a class="offer" href="([^"]+)"', lane(html, f"room-{first.room_id}")).group(1)
    asked = dict(parse_qsl(urlsplit(url).query))
    patient = calendar.patients[7]
    calendar.order_for(patient, calendar.esi)
    found = client.post("/admin/scheduling/appointment/add/", {
        **asked, "patient": patient.pk, "procedure_type": calendar.esi.pk, "day": NEXT_MONDAY.isoformat(),
        "_find": "1"})
    chosen = re.findall(r'name="slot" value="([^"]+)" checked', text(found))
    assert chosen == [f"2026-11-30T09:45:00-06:00|{first.physician_id}|{first.room_id}"]
    response = client.post("/admin/scheduling/appointment/add/", {
        **asked, "patient": patient.pk, "procedure_type": calendar.esi.pk, "day": NEXT_MONDAY.isoformat(),
        "slot": chosen[0], "notes": "", "_book": "1"})
    assert response.status_code == 302, text(response)[:3000]
    booked = Appointment.objects.get(patient=patient)
    assert (booked.procedure_start, booked.room_id) == (local(NEXT_MONDAY, 9, 45), first.room_id)


def test_nobody_gets_book_here_without_the_add_permission_or_on_a_past_day(client, nurse, front_desk, monday):
    assert 'class="offer"' not in text(board(client, nurse, date=NEXT_MONDAY.isoformat()))
    assert 'class="offer"' not in text(board(client, front_desk, date=(TODAY - dt.timedelta(days=1)).isoformat()))


def test_selecting_a_visit_shows_its_details(client, front_desk, monday):
    first = monday[0]
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), visit=first.pk))
    panel = html[html.index('id="visit-panel"'):html.index("</section>")]
    patient = first.patient
    for fact in (patient.full_name, patient.date_of_birth.isoformat(), "Lumbar medial branch block",
                 "Dr. Maya Okafor", "Fluoro Suite 1", "07:30", "08:00–08:20", "08:50", "Scheduled",
                 f"/admin/scheduling/appointment/{first.pk}/change/"):
        assert fact in panel, fact


def test_the_script_gets_only_the_live_part_of_the_board(client, front_desk, monday):
    client.force_login(front_desk)
    response = client.get("/admin/board/", {"date": NEXT_MONDAY.isoformat()}, headers={"X-Board-Fragment": "1"})
    html = text(response)
    assert "Visits, as a list" in html and "<html" not in html and 'id="board-live"' not in html


def test_the_changes_answer_moves_when_a_visit_changes(client, front_desk, monday):
    client.force_login(front_desk)
    params = {"date": NEXT_MONDAY.isoformat()}
    before = client.get("/admin/board/changes/", params).json()["fingerprint"]
    assert client.get("/admin/board/changes/", params).json()["fingerprint"] == before
    services.appointment_cancel(appointment=monday[1], by=front_desk, reason="Ill")
    after = client.get("/admin/board/changes/", params).json()["fingerprint"]
    assert after != before
    assert client.get("/admin/board/changes/", {"date": "nope"}).status_code == 400
    # The board draws the fingerprint from the day it reads: the same words, so it does not reload for nothing.
    assert f'data-fingerprint="{after}"' in text(client.get("/admin/board/", params))


def test_my_day_lists_the_physicians_visits_with_earlier_blocks_and_relief(client, calendar, monday):
    first = monday[0]
    # An earlier block of the same patient, completed with its relief recorded.
    earlier = book(calendar, first.patient, local(TODAY, 9), physician=calendar.reyes)
    Appointment.objects.filter(pk=earlier.pk).update(status=AppointmentStatus.COMPLETED)
    Outcome.objects.create(appointment=earlier, pain_before=8, pain_after=1, relief_percent=88)
    client.force_login(calendar.okafor.user)
    html = text(client.get("/admin/board/my-day/", {"date": NEXT_MONDAY.isoformat()}))
    assert "Dr. Maya Okafor: 3 visits on Monday, November 30" in html
    visits = re.findall(r'<li class="my-day-visit">(.*?)</li>\s*(?=<li class="my-day-visit">|</ol>)', html, re.S)
    assert len(visits) == 3
    assert first.patient.full_name in visits[0] and "88%" in visits[0] and "8 → 1" in visits[0]
    assert "No earlier procedure with a recorded outcome." in visits[1]


def test_my_day_shows_the_physician_chosen_in_the_controls(client, calendar, monday):
    client.force_login(calendar.okafor.user)
    html = text(client.get("/admin/board/my-day/", {"date": NEXT_MONDAY.isoformat()}))
    assert re.search(rf'<option value="{calendar.okafor.pk}" selected>', html)
    assert '<option value="" selected>All physicians' not in html


def test_my_day_outcomes_are_read_in_one_query_for_the_whole_day(client, calendar, monday):
    client.force_login(calendar.okafor.user)
    client.get("/admin/board/my-day/", {"date": NEXT_MONDAY.isoformat()})  # warm the session
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/board/my-day/", {"date": NEXT_MONDAY.isoformat()})
    assert sum('"scheduling_outcome"' in query["sql"] for query in captured.captured_queries) == 1


def test_my_day_for_someone_who_is_not_a_physician_says_so(client, front_desk):
    client.force_login(front_desk)
    html = text(client.get("/admin/board/my-day/"))
    assert "You are not listed as a physician" in html


def test_the_nurses_view_shows_visits_under_way_and_the_recovery_lane(client, nurse, calendar):
    waiting = book(calendar, calendar.patients[0], local(TODAY, 9), physician=calendar.reyes)
    operating = book(calendar, calendar.patients[1], local(TODAY, 10), physician=calendar.reyes)
    recovering = book(calendar, calendar.patients[2], local(TODAY, 11), physician=calendar.reyes)
    later = book(calendar, calendar.patients[3], local(TODAY, 13), physician=calendar.reyes)
    for visit in (waiting, operating, recovering):
        services.appointment_check_in(appointment=visit, by=nurse)
    for visit in (operating, recovering):
        services.appointment_start(appointment=visit, by=nurse, reason="Consent form signed in the room")
    services.appointment_move_to_recovery(appointment=recovering, by=nurse)
    client.force_login(nurse)
    html = text(client.get("/admin/board/recovery/"))
    columns = dict(re.findall(r'<h2 id="column-(\w+)">.*?</h2>\s*<ul>(.*?)</ul>', html, re.S))
    assert waiting.patient.full_name in columns["checked_in"]
    assert operating.patient.full_name in columns["in_procedure"]
    assert recovering.patient.full_name in columns["in_recovery"]
    assert later.patient.full_name not in "".join(columns.values())
    assert 'id="recovery"' in html


def test_the_board_is_linked_from_the_admin_index_and_the_appointment_list(client, front_desk):
    client.force_login(front_desk)
    index = text(client.get("/admin/"))
    assert 'href="/admin/board/"' in index
    assert 'href="/admin/board/arrivals/"' in index and 'href="/admin/board/attention/"' in index
    assert 'href="/admin/board/"' in text(client.get("/admin/scheduling/appointment/"))


# The query count -----------------------------------------------------------------------------

def _crowded_location(count: int):
    """A location with 15 rooms, each with its own physician working procedures all day, and
    `count` visits spread over them (created directly: the board only reads them)."""
    location = Location.objects.create(name=f"Crowded {count}", time_zone="America/Chicago", address_line="1 Main",
                                       city="Tulsa", state="OK", postal_code="74101", phone="+19185550100",
                                       recovery_bays=30)
    User = get_user_model()
    mbb = ProcedureType.objects.get(code="MBB_LUMBAR")
    fluoroscopy = Room.objects.get(name="Fluoro Suite 1").capabilities.all()
    rooms, physicians = [], []
    for number in range(15):
        room = Room.objects.create(location=location, name=f"Suite {count}-{number:02d}", kind="procedure_suite")
        room.capabilities.set(fluoroscopy)
        user = User.objects.create_user(f"doc-{count}-{number}", first_name="Doc", last_name=f"N{number}",
                                        is_staff=True)
        physician = Physician.objects.create(user=user, npi=f"{1900000000 + count * 100 + number}")
        physician.procedure_types.add(mbb)
        ScheduleBlock.objects.create(physician=physician, location=location, kind="procedures",
                                     weekday=NEXT_MONDAY.weekday(), start_time=dt.time(7), end_time=dt.time(17),
                                     valid_from=TODAY)
        rooms.append(room)
        physicians.append(physician)
    patients = Patient.objects.bulk_create([
        Patient(first_name="Pat", last_name=f"{count}-{number}", date_of_birth=dt.date(1960, 1, 1),
                phone="+19185550111") for number in range(count)])
    visits = []
    for number, patient in enumerate(patients):
        lane_number, slot = number % 15, number // 15
        start = local(NEXT_MONDAY, 7, 30) + dt.timedelta(minutes=50 * slot)
        visits.append(Appointment(
            location=location, physician=physicians[lane_number], room=rooms[lane_number], patient=patient,
            procedure_type=mbb, arrival=start - dt.timedelta(minutes=30), procedure_start=start,
            procedure_end=start + dt.timedelta(minutes=20), discharge=start + dt.timedelta(minutes=50),
            room_start=start - dt.timedelta(minutes=5), room_end=start + dt.timedelta(minutes=30)))
    Appointment.objects.bulk_create(visits)
    return location


def _board_queries(client, location) -> tuple[int, int]:
    """Queries of the board with the times to book found afresh, then kept from the first."""
    counts = []
    client.get("/admin/board/", {"location": location.pk, "date": NEXT_MONDAY.isoformat()})  # the session
    cache.clear()
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/admin/board/", {"location": location.pk, "date": NEXT_MONDAY.isoformat()})
        assert response.status_code == 200 and 'class="offer"' in text(response)
        counts.append(len(captured))
    return counts[0], counts[1]


def test_the_board_makes_as_many_queries_for_150_visits_as_for_10(client, front_desk, calendar):
    client.force_login(front_desk)
    few, many = _crowded_location(10), _crowded_location(150)
    assert Appointment.objects.filter(location=many).count() == 150
    few_queries, many_queries = _board_queries(client, few), _board_queries(client, many)
    html = text(client.get("/admin/board/", {"location": many.pk, "date": NEXT_MONDAY.isoformat()}))
    assert "150 visits" in html
    assert few_queries == many_queries, (few_queries, many_queries)
    cold, warm = many_queries
    assert warm < cold <= 36  # the needs-attention count read afresh too (cache emptied)


def test_the_visit_panel_offers_the_actions_the_role_allows(client, front_desk, nurse, calendar):
    visit = book(calendar, calendar.patients[0], local(TODAY, 10), physician=calendar.reyes)
    desk = text(board(client, front_desk, visit=visit.pk))
    desk_panel = desk[desk.index('id="visit-panel"'):desk.index("</section>")]
    assert ">Check in<" in desk_panel and ">Cancel<" in desk_panel
    assert f'name="next" value="/admin/board/?visit={visit.pk}"' in desk_panel
    ward = text(board(client, nurse, visit=visit.pk))
    ward_panel = ward[ward.index('id="visit-panel"'):ward.index("</section>")]
    assert ">Check in<" in ward_panel and ">Cancel<" not in ward_panel


def test_the_board_links_to_the_days_print_sheets_and_csv(client, front_desk, monday):
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat(), physician=monday[0].physician_id))
    print_url = re.search(r'href="(/admin/board/print/[^"]+)">Print<', html).group(1)
    assert f"date={NEXT_MONDAY.isoformat()}" in print_url and f"physician={monday[0].physician_id}" in print_url
    assert client.get(print_url).status_code == 200
    export_url = re.search(r'href="(/admin/board/export.csv[^"]+)">CSV<', html).group(1)
    response = client.get(export_url)
    assert response.status_code == 200
    assert monday[0].patient.last_name in b"".join(response.streaming_content).decode()


def test_coordinates_keep_a_decimal_point_in_a_language_that_writes_commas(client, front_desk, monday):
    client.force_login(front_desk)
    html = text(client.get("/admin/board/", {"date": NEXT_MONDAY.isoformat()}, headers={"Accept-Language": "es"}))
    assert '<html lang="es"' in html
    assert re.search(r'<rect class="bay-load" x="\d+\.\d+%"', html) and not re.search(r'x="\d+,\d+%"', html)
    assert '<rect class="procedure" x="14.286%" width="57.143%"' in html


def test_the_boards_tabs_link_needs_attention_with_its_count(client, front_desk, monday):
    location = Location.objects.get()
    cache.clear()
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    assert f'href="/admin/board/attention/?location={location.pk}">Needs attention</a>' in html
    Room.objects.filter(pk=monday[0].room_id).update(is_active=False)  # as a data import might
    cache.clear()
    html = text(board(client, front_desk, date=NEXT_MONDAY.isoformat()))
    assert re.search(r'href="/admin/board/attention/\?location=\d+">Needs attention \(2\)</a>', html)


def test_the_board_and_the_arrivals_desk_colour_a_status_alike(client, nurse, monday):
    first = monday[0]
    Appointment.objects.filter(pk=first.pk).update(status=AppointmentStatus.IN_PROCEDURE)
    client.force_login(nurse)
    on_board = text(client.get("/admin/board/", {"date": NEXT_MONDAY.isoformat(), "visit": first.pk}))
    at_desk = text(client.get("/admin/board/arrivals/", {"date": NEXT_MONDAY.isoformat()}))
    assert '<span class="status-badge status-in_procedure">In procedure</span>' in on_board
    assert '<span class="status-badge status-in_procedure">In procedure</span>' in at_desk
    for page in (on_board, at_desk):
        assert "scheduling/board/status.css" in page


def test_a_closed_day_says_so_and_why_on_the_board_and_the_arrivals_desk(client, front_desk, calendar):
    location = Location.objects.get()
    Closure.objects.create(location=location, first_day=NEXT_MONDAY, last_day=NEXT_MONDAY, reason="Ice storm")
    for url in ("/admin/board/", "/admin/board/arrivals/"):
        closed = text(board(client, front_desk, date=NEXT_MONDAY.isoformat())) if url == "/admin/board/" else text(
            client.get(url, {"date": NEXT_MONDAY.isoformat()}))
        assert f"{location.name} is closed this day" in closed and "Ice storm" in closed, url
        open_day = text(client.get(url, {"date": (NEXT_MONDAY + dt.timedelta(days=1)).isoformat()}))
        assert "is closed this day" not in open_day, url


def test_a_twenty_minute_visit_writes_what_fits_at_1024_px_and_the_rest_in_its_title(client, front_desk, calendar):
    """An hour is at least 104 px wide: a 20-minute follow-up is about 35 px, four characters."""
    follow_up = ProcedureType.objects.get(code="FOLLOW_UP")
    patient = calendar.patients[0]
    wednesday = NEXT_MONDAY + dt.timedelta(days=2)  # Dr. Nair's clinic day
    visit = book(calendar, patient, local(wednesday, 9), physician=calendar.nair, procedure_type=follow_up)
    html = text(board(client, front_desk, date=wednesday.isoformat()))
    block = re.search(rf'<a class="visit[^"]*" href="[^"]*{visit.pk}" [^>]*>(.*?)</a>', html, re.S).group(1)
    who, what, status = re.findall(r'<text class="\w+" x="3" y="\d+">([^<]*)</text>', block)
    initials = f"{patient.first_name[0]}{patient.last_name[0]}"
    assert who.lstrip("⚑") in (initials, patient.last_name[:4]) and len(who.lstrip("⚑")) <= 4
    assert what == "FOL…" and status in ("Sched.", "Conf.")
    assert f"<title>{patient.full_name}, FOLLOW_UP, {calendar.nair.name}" in block


def test_a_busy_days_board_reads_no_row_per_visit(client, front_desk, calendar, django_assert_max_num_queries):
    """150 visits in a fixed handful of queries: the session and user, the location, its rooms
    and their capabilities, the day's blocks, the visits as plain values, the patients' drugs, the
    day's hold messages, the fingerprint, the controls' lists and the closure (the times to book
    kept from the first request)."""
    many = _crowded_location(150)
    client.force_login(front_desk)
    params = {"location": many.pk, "date": NEXT_MONDAY.isoformat()}
    client.get("/admin/board/", params)
    with django_assert_max_num_queries(13):
        response = client.get("/admin/board/", params)
    assert "150 visits" in text(response)


def test_a_board_with_its_times_to_book_found_afresh_stays_within_its_queries(
        client, front_desk, monday, django_assert_max_num_queries):
    """The times to book of every room come from one availability load, whatever the procedures
    they are offered for: the board's day, the rooms' procedures with what each needs of a room
    (one query), and that load, with nothing kept."""
    blocks = list(ScheduleBlock.objects.filter(weekday=NEXT_MONDAY.weekday()))
    rooms = list(Room.objects.filter(is_active=True).prefetch_related("capabilities"))
    offered_for = {procedure_type.code for procedure_type in representative_types(rooms, blocks).values()}
    assert len(offered_for) >= 2, offered_for  # the load is shared, not merely single
    board(client, front_desk, date=NEXT_MONDAY.isoformat())  # signed in, the session's first request
    cache.clear()
    attention_count(Location.objects.get(), now=NOW)  # kept a minute for every board of the location
    with django_assert_max_num_queries(22):
        html = text(client.get("/admin/board/", {"date": NEXT_MONDAY.isoformat()}))
    offers = re.findall(r'<a class="offer" href="[^"]*room=(\d+)', html)
    assert len(set(offers)) >= len(offered_for)
