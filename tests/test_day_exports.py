"""The printed day sheets and the CSV exports: of the day, and of the appointment list with its filters."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db.models import F
from django.urls import reverse

from clinic.models import BloodThinner, Room
from scheduling import services
from scheduling.admin.board.exports import csv_safe
from scheduling.models import Appointment, CheckKind
from tests.conftest import NEXT_MONDAY, _staff, local
from tests.test_booking_services import book

PRINT = reverse("board:print")
EXPORT = reverse("board:export")
MONDAY = f"date={NEXT_MONDAY.isoformat()}"


@pytest.fixture
def day(calendar):
    """Monday: Dr. Okafor's two ESIs (the first patient on warfarin), Dr. Reyes's consult."""
    for patient in calendar.patients[:3]:
        patient.blood_thinners.clear()
    calendar.patients[0].blood_thinners.set([BloodThinner.objects.get(name__iexact="warfarin")])
    first = book(calendar, patient=calendar.patients[0], start=local(NEXT_MONDAY, 9))
    second = book(calendar, patient=calendar.patients[1], start=local(NEXT_MONDAY, 10))
    consult = book(calendar, patient=calendar.patients[2], procedure_type=calendar.consult,
                   physician=calendar.reyes, start=local(NEXT_MONDAY, 13))
    return first, second, consult


def read_csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# Print ---------------------------------------------------------------------------------------

def test_a_physicians_day_sheet_lists_only_their_visits_with_what_to_check(client, front_desk, day, calendar):
    first, second, consult = day
    client.force_login(front_desk)
    response = client.get(f"{PRINT}?{MONDAY}&physician={calendar.okafor.pk}")
    page = response.content.decode()
    assert response.status_code == 200
    assert [sheet.title for sheet in response.context["sheets"]] == ["Dr. Maya Okafor"]
    assert [line.visit for line in response.context["sheets"][0].lines] == [first, second]
    assert first.patient.full_name in page and consult.patient.full_name not in page
    assert "08:30" in page and "09:00–<wbr>09:20" in page  # arrival, then the procedure, in Chicago time
    assert first.patient.date_of_birth.isoformat() in page
    assert "Warfarin: no dose since" in page  # the hold to check
    assert 'id="header"' not in page and "nav-sidebar" not in page  # no admin chrome
    assert "@page { size: auto; margin: 12mm; }" in page


def test_a_rooms_day_sheet_lists_the_visits_in_that_room_with_their_physician(client, nurse, day, calendar):
    first, second, consult = day
    client.force_login(nurse)
    response = client.get(f"{PRINT}?{MONDAY}&room={consult.room_id}")
    assert [line.visit for line in response.context["sheets"][0].lines] == [consult]
    assert response.context["sheets"][0].title == consult.room.name
    assert ">Physician</th>" in response.content.decode() and "Dr. Daniel Reyes" in response.content.decode()


def test_the_whole_days_sheets_are_one_per_physician_or_room_each_on_its_own_page(client, front_desk, day):
    client.force_login(front_desk)
    by_physician = client.get(f"{PRINT}?{MONDAY}").context["sheets"]
    assert [sheet.title for sheet in by_physician] == ["Dr. Maya Okafor", "Dr. Daniel Reyes"]
    by_room = client.get(f"{PRINT}?{MONDAY}&by=room")
    assert len(by_room.context["sheets"]) == len({visit.room_id for visit in day})
    assert ".sheet + .sheet { break-before: page;" in by_room.content.decode()


def test_an_empty_day_still_names_whose_sheet_it_is(client, front_desk, calendar):
    client.force_login(front_desk)
    response = client.get(f"{PRINT}?{MONDAY}&physician={calendar.nair.pk}")
    assert response.context["sheets"][0].title == calendar.nair.name and response.context["sheets"][0].lines == []
    assert "No visits on this day." in response.content.decode()


@pytest.mark.parametrize(("query", "said"), [
    ("physician=abc", "“abc” is not a physician ID."),
    ("physician=999999", "There is no physician with ID 999999."),
    ("room=99999999999999999999", "“99999999999999999999” is not a room ID."),
    ("room=999999", "There is no room with ID 999999 at"),
    ("date=2026-02-30", "Date: 2026-02-30 is written as a date, but there is no such day."),
])
def test_a_bad_sheet_request_is_said_in_words(client, front_desk, calendar, query, said):
    client.force_login(front_desk)
    response = client.get(f"{PRINT}?{MONDAY}&{query}")
    assert response.status_code == 400 and said in response.content.decode()


def test_a_room_of_another_location_is_refused(client, front_desk, calendar):
    from clinic.models import Location

    elsewhere = Location.objects.create(name="Tulsa", time_zone="America/Chicago", phone="+19185550100")
    room = Room.objects.create(location=elsewhere, name="Tulsa Suite")
    client.force_login(front_desk)
    assert client.get(f"{PRINT}?{MONDAY}&room={room.pk}").status_code == 400


# CSV of the day ------------------------------------------------------------------------------

def test_the_days_csv_has_a_line_per_visit_in_the_clinics_zone(client, front_desk, day, clock):
    first, second, consult = day
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    services.appointment_check_in(appointment=first, confirmed_checks=[CheckKind.CONSENT], by=front_desk)
    client.force_login(front_desk)
    response = client.get(f"{EXPORT}?{MONDAY}")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="visits-2026-11-30-location-' in response["Content-Disposition"]
    lines = read_csv(response)
    assert [int(line["Visit ID"]) for line in lines] == [first.pk, second.pk, consult.pk]
    line = lines[0]
    assert (line["Arrival"], line["Procedure start"], line["Procedure end"]) == (
        "2026-11-30T08:30-06:00", "2026-11-30T09:00-06:00", "2026-11-30T09:20-06:00")
    assert (line["Status"], line["Patient"], line["Physician"]) == (
        "Checked in", first.patient.full_name, "Dr. Maya Okafor")
    assert line["Checks needed"] == "Blood thinner stopped; Consent form signed"
    assert line["Checks confirmed"] == "Consent form signed"


def test_the_days_csv_leaves_out_cancelled_visits_unless_asked(client, front_desk, day):
    services.appointment_cancel(appointment=day[1], reason="Patient has the flu")
    client.force_login(front_desk)
    assert len(read_csv(client.get(f"{EXPORT}?{MONDAY}"))) == 2
    lines = read_csv(client.get(f"{EXPORT}?{MONDAY}&cancelled=1"))
    assert [line["Cancellation reason"] for line in lines] == ["", "Patient has the flu", ""]


def test_a_summer_visit_carries_the_summer_offset(client, front_desk, calendar):
    calendar.patients[0].blood_thinners.clear()
    visit = book(calendar)
    # Moved straight to July (daylight time), past the booking horizon the services keep.
    # (In UTC: between two times of one zone, Python subtracts wall clocks.)
    shift = local(dt.date(2027, 7, 5), 9).astimezone(dt.timezone.utc) - visit.procedure_start.astimezone(dt.timezone.utc)
    Appointment.objects.filter(pk=visit.pk).update(**{
        name: F(name) + shift for name in ("arrival", "procedure_start", "procedure_end", "discharge",
                                           "room_start", "room_end")})
    client.force_login(front_desk)
    line = read_csv(client.get(f"{EXPORT}?date=2027-07-05"))[0]
    assert (line["Arrival"], line["Procedure start"]) == ("2027-07-05T08:30-05:00", "2027-07-05T09:00-05:00")


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_a_value_a_spreadsheet_would_run_as_a_formula_is_escaped(value):
    assert csv_safe(value) == f"'{value}"


def test_a_patient_name_from_the_booking_form_cannot_inject_a_formula(client, front_desk, day):
    patient = day[0].patient
    patient.first_name, patient.last_name = "=cmd|' /C calc'!A0", "@Smith"
    patient.save()
    client.force_login(front_desk)
    line = read_csv(client.get(f"{EXPORT}?{MONDAY}"))[0]
    assert line["Patient"] == "'=cmd|' /C calc'!A0 @Smith"
    assert csv_safe("Ann-Marie") == "Ann-Marie" and csv_safe("") == ""


def test_the_days_csv_keeps_the_boards_physician_and_room(client, front_desk, day, calendar):
    first, second, consult = day
    client.force_login(front_desk)
    lines = read_csv(client.get(f"{EXPORT}?{MONDAY}&physician={calendar.reyes.pk}"))
    assert [int(line["Visit ID"]) for line in lines] == [consult.pk]
    lines = read_csv(client.get(f"{EXPORT}?{MONDAY}&room={first.room_id}"))
    assert [int(line["Visit ID"]) for line in lines] == [
        visit.pk for visit in day if visit.room_id == first.room_id]
    assert client.get(f"{EXPORT}?{MONDAY}&room=abc").status_code == 400


def test_the_boards_csv_link_carries_its_physician_room_and_cancelled(client, front_desk, day, calendar):
    client.force_login(front_desk)
    page = client.get(reverse("board:day"), {"date": NEXT_MONDAY.isoformat(), "physician": calendar.okafor.pk,
                                             "room": day[0].room_id, "cancelled": "1"}).content.decode()
    link = next(part for part in page.split('href="') if part.startswith(EXPORT)).split('"')[0]
    assert f"physician={calendar.okafor.pk}" in link and f"room={day[0].room_id}" in link and "cancelled=1" in link


def test_the_day_sheet_leads_back_to_the_page_it_was_opened_from(client, front_desk, day):
    client.force_login(front_desk)
    board_page = client.get(reverse("board:day"), {"date": NEXT_MONDAY.isoformat()}).content.decode()
    link = next(part for part in board_page.split('href="') if part.startswith(PRINT)).split('"')[0]
    sheet = client.get(link.replace("&amp;", "&")).content.decode()
    assert "&larr; Day board</a>" in sheet and "arrivals desk" not in sheet
    desk = client.get(reverse("board:arrivals"), {"date": NEXT_MONDAY.isoformat()}).content.decode()
    link = next(part for part in desk.split('href="') if part.startswith(PRINT)).split('"')[0]
    sheet = client.get(link.replace("&amp;", "&")).content.decode()
    assert '/admin/board/arrivals/?date=' in sheet and "&larr; Arrivals</a>" in sheet
    assert "&larr; Day board</a>" in client.get(f"{PRINT}?{MONDAY}").content.decode()
    outside = client.get(f"{PRINT}?{MONDAY}&next=https://evil.example/").content.decode()
    assert "evil.example" not in outside and "&larr; Day board</a>" in outside


def test_a_bad_day_for_the_csv_is_said_in_words(client, front_desk, calendar):
    client.force_login(front_desk)
    for query, said in (("date=yesterday", "Date: Enter the date as YYYY-MM-DD"),
                        ("date=2026-13-45", "Date: 2026-13-45 is written as a date, but there is no such day."),
                        ("location=abc", "Location: There is no such location")):
        response = client.get(f"{EXPORT}?{query}")
        assert response.status_code == 400 and response["Content-Type"].startswith("text/plain"), query
        assert said in response.content.decode() and "showing" not in response.content.decode(), query


def test_staff_without_a_role_get_no_csv_or_sheet(client, day):
    client.force_login(_staff("no-role", None))
    assert client.get(f"{EXPORT}?{MONDAY}").status_code == 403
    assert client.get(f"{PRINT}?{MONDAY}").status_code == 403


# CSV of the appointment list -----------------------------------------------------------------

CHANGELIST_EXPORT = reverse("admin:scheduling_appointment_export")


def test_the_list_exports_what_its_filters_show(client, front_desk, day, calendar):
    first, second, consult = day
    client.force_login(front_desk)
    everything = read_csv(client.get(CHANGELIST_EXPORT))
    assert {first.pk, second.pk, consult.pk} <= {int(line["Visit ID"]) for line in everything}
    by_physician = read_csv(client.get(f"{CHANGELIST_EXPORT}?physician__id__exact={calendar.reyes.pk}"))
    assert [int(line["Visit ID"]) for line in by_physician] == [consult.pk]
    services.appointment_confirm(appointment=second)
    confirmed = read_csv(client.get(f"{CHANGELIST_EXPORT}?status__exact=confirmed"))
    assert [int(line["Visit ID"]) for line in confirmed] == [second.pk]
    searched = read_csv(client.get(f"{CHANGELIST_EXPORT}?q={first.patient.last_name}"))
    assert first.pk in [int(line["Visit ID"]) for line in searched] and consult.pk not in [
        int(line["Visit ID"]) for line in searched]


def test_the_list_links_to_its_export_with_its_filters(client, front_desk, day, calendar):
    client.force_login(front_desk)
    page = client.get(reverse("admin:scheduling_appointment_changelist") + "?status__exact=scheduled").content.decode()
    assert f'href="{CHANGELIST_EXPORT}?status__exact=scheduled">Export these to CSV' in page
    assert f'href="{reverse("board:arrivals")}">Today\'s arrivals' in page


def test_the_selected_rows_export_through_the_lists_action(client, front_desk, day):
    first, second, _ = day
    client.force_login(front_desk)
    response = client.post(reverse("admin:scheduling_appointment_changelist"),
                           {"action": "export_csv", "_selected_action": [first.pk, second.pk]})
    assert sorted(int(line["Visit ID"]) for line in read_csv(response)) == sorted([first.pk, second.pk])


def test_bad_list_filters_are_said_in_words(client, front_desk, day):
    client.force_login(front_desk)
    response = client.get(f"{CHANGELIST_EXPORT}?status__nonsense=1")
    assert response.status_code == 400 and "not valid" in response.content.decode()


def test_staff_without_a_role_cannot_export_the_list(client, day):
    client.force_login(_staff("no-role", None))
    assert client.get(CHANGELIST_EXPORT).status_code == 403


def test_the_checks_are_shown_on_the_appointments_admin_page(client, nurse, day, clock):
    first = day[0]
    clock.move_to(local(NEXT_MONDAY, 8, 40))
    services.appointment_check_in(appointment=first, confirmed_checks=[CheckKind.CONSENT], by=nurse)
    client.force_login(nurse)
    page = client.get(reverse("admin:scheduling_appointment_change", args=[first.pk])).content.decode()
    assert "<label>Pre-procedure checks:</label>" in page
    assert ("✓ Consent form signed: Signed consent for this procedure. — confirmed by nurse-test at 2026-11-30 "
            "08:40 CST") in page
    assert "○ Blood thinner stopped: Warfarin: no dose since Wed Nov 25 — not confirmed" in page


def test_the_exports_queries_do_not_grow_with_its_visits(client, front_desk, day, calendar):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(front_desk)
    read_csv(client.get(CHANGELIST_EXPORT))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        assert len(read_csv(client.get(CHANGELIST_EXPORT))) == 3
    for index, patient in enumerate(calendar.patients[3:8]):
        patient.blood_thinners.set([BloodThinner.objects.get(name__iexact="warfarin")])
        book(calendar, patient=patient, start=local(NEXT_MONDAY, 11 + index))
    with CaptureQueriesContext(connection) as more:
        lines = read_csv(client.get(CHANGELIST_EXPORT))
    assert len(lines) == 8 and len(more) == len(few)
    assert lines[-1]["Checks needed"] == "Blood thinner stopped; Consent form signed"


def test_the_exports_and_sheets_log_whose_records_were_seen(client, front_desk, day, calendar):
    from clinic.models import PatientAccess

    first, second, consult = day
    client.force_login(front_desk)
    read_csv(client.get(f"{EXPORT}?{MONDAY}"))
    seen = PatientAccess.objects.filter(user_id=front_desk.pk)
    assert set(seen.values_list("patient_id", flat=True)) == {first.patient_id, second.patient_id,
                                                             consult.patient_id}
    assert seen.first().what.startswith(f"GET {EXPORT}")
    before = seen.count()
    client.get(f"{PRINT}?{MONDAY}&physician={calendar.reyes.pk}")
    assert list(seen.order_by("pk").values_list("patient_id", flat=True))[before:] == [consult.patient_id]
    before = seen.count()
    read_csv(client.get(f"{CHANGELIST_EXPORT}?physician__id__exact={calendar.reyes.pk}"))
    assert list(seen.order_by("pk").values_list("patient_id", flat=True))[before:] == [consult.patient_id]


def test_the_lists_csv_is_named_by_the_clinics_time_not_utc(client, front_desk, clock):
    clock.move_to(local(NEXT_MONDAY, 20, 5))  # 02:05 the next day in UTC
    client.force_login(front_desk)
    response = client.get(CHANGELIST_EXPORT)
    assert f'filename="appointments-{NEXT_MONDAY:%Y%m%d}-2005.csv"' in response["Content-Disposition"]
