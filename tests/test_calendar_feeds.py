"""Calendar feeds: `/feeds/<token>.ics` for a physician, a room or a location.

Each feed is read twice over: with icalendar (what Interval writes with) and with
recurring-ical-events (as a calendar client expands it), so that a file only one library
accepts does not pass.
"""

from __future__ import annotations

import datetime as dt
import gzip
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from clinic.models import Location
from scheduling import services
from scheduling.models import Appointment, CalendarFeed
from scheduling.services.feeds import calendar_feed_open, calendar_feed_rotate
from tests.conftest import NEXT_MONDAY, NOW, local

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def book(calendar, *, patient=None, start=None, procedure_type=None) -> Appointment:
    patient = patient or calendar.patients[0]
    procedure_type = procedure_type or calendar.esi
    order = calendar.order_for(patient, procedure_type)
    return services.appointment_book(patient=patient, procedure_type=procedure_type, physician=calendar.okafor,
                                     start=start or local(NEXT_MONDAY, 9), order=order)


def path(feed: CalendarFeed) -> str:
    return f"/feeds/{feed.token}.ics"


def fetch(client, feed: CalendarFeed, **headers):
    response = client.get(path(feed), **headers)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response


def events(response) -> dict[str, object]:
    """The feed's events by UID, as icalendar reads them."""
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def expanded(response, first: dt.date, last: dt.date) -> dict[str, object]:
    """The feed's events by UID between two days, as recurring-ical-events expands them."""
    calendar = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in recurring_ical_events.of(calendar).between(first, last)}


def uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.pk}@interval"


@pytest.fixture
def okafor_feed(calendar) -> CalendarFeed:
    return calendar_feed_open(physician=calendar.okafor)


def test_a_physicians_feed_names_the_procedure_code_the_room_and_the_patients_initials(client, calendar,
                                                                                       okafor_feed):
    patient = calendar.patients[0]
    visit = book(calendar, patient=patient)
    response = fetch(client, okafor_feed)
    event = events(response)[uid(visit)]
    assert (str(event["STATUS"]), event["SEQUENCE"], str(event["TRANSP"])) == ("CONFIRMED", 0, "OPAQUE")
    initials = f"{patient.first_name[0]}.{patient.last_name[0]}."
    assert str(event["SUMMARY"]) == f"ESI_IL · {visit.room.name} · {initials}"
    body = response.content.decode()
    assert patient.last_name not in body
    assert patient.date_of_birth.strftime("%Y%m%d") not in body and patient.date_of_birth.isoformat() not in body
    assert patient.phone.as_e164.lstrip("+") not in body.replace("+", "") and patient.phone.as_national not in body
    # The physician's own time: the procedure, not the room's setup and turnover.
    assert event.decoded("DTSTART") == local(NEXT_MONDAY, 9)
    assert event.decoded("DTEND") == visit.procedure_end
    assert event["DTSTART"].params["TZID"] == "America/Chicago"


def test_the_full_names_setting_puts_the_patients_name_in_the_summary(client, calendar, okafor_feed, settings):
    settings.CALENDAR_FEED_PATIENT_NAMES = "full"
    patient = calendar.patients[0]
    visit = book(calendar, patient=patient)
    event = events(fetch(client, okafor_feed))[uid(visit)]
    assert str(event["SUMMARY"]).endswith(f" · {patient.first_name} {patient.last_name}")


def test_long_names_with_accents_and_commas_read_back_whole(client, calendar, okafor_feed, settings):
    settings.CALENDAR_FEED_PATIENT_NAMES = "full"
    patient = calendar.patients[0]
    patient.first_name, patient.last_name = "María-José Ángeles", "Núñez de Villavicencio; Ortíz, Jr."
    patient.save()
    visit = book(calendar, patient=patient)
    response = fetch(client, okafor_feed)
    assert max(len(line) for line in response.content.split(b"\r\n")) <= 75  # folded, in octets
    expected = f"ESI_IL · {visit.room.name} · {patient.first_name} {patient.last_name}"
    assert str(events(response)[uid(visit)]["SUMMARY"]) == expected
    seen = expanded(response, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=1))
    assert str(seen[uid(visit)]["SUMMARY"]) == expected


def test_a_moved_visit_keeps_its_uid_and_its_sequence_goes_up(client, calendar, okafor_feed, front_desk):
    visit = book(calendar)
    before = events(fetch(client, okafor_feed))[uid(visit)]
    services.appointment_reschedule(appointment=visit, start=local(NEXT_MONDAY, 13), by=front_desk)
    response = fetch(client, okafor_feed)
    after = events(response)[uid(visit)]
    assert (before["SEQUENCE"], after["SEQUENCE"]) == (0, 1)
    assert after.decoded("DTSTART") == local(NEXT_MONDAY, 13)
    assert len(events(response)) == 1
    # The second reader sees the same single event, at its new time.
    seen = expanded(response, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=1))
    assert list(seen) == [uid(visit)]
    assert seen[uid(visit)]["DTSTART"].dt == local(NEXT_MONDAY, 13)
    services.appointment_reschedule(appointment=visit, start=local(NEXT_MONDAY, 14), by=front_desk)
    assert events(fetch(client, okafor_feed))[uid(visit)]["SEQUENCE"] == 2


def test_a_cancelled_visit_stays_in_the_feed_as_cancelled_with_a_higher_sequence(client, calendar, okafor_feed,
                                                                                  front_desk):
    visit = book(calendar)
    services.appointment_cancel(appointment=visit, reason="Patient has the flu", by=front_desk)
    response = fetch(client, okafor_feed)
    event = events(response)[uid(visit)]
    assert (str(event["STATUS"]), event["SEQUENCE"], str(event["TRANSP"])) == ("CANCELLED", 1, "TRANSPARENT")
    assert str(event["SUMMARY"]).startswith("Cancelled: ESI_IL")
    assert "flu" not in response.content.decode()
    seen = expanded(response, NEXT_MONDAY, NEXT_MONDAY + dt.timedelta(days=1))
    assert str(seen[uid(visit)]["STATUS"]) == "CANCELLED"


def test_a_no_show_is_marked_in_its_summary_with_a_higher_sequence(client, calendar, okafor_feed, front_desk):
    visit = book(calendar)
    with time_machine.travel(local(NEXT_MONDAY, 10), tick=False):
        services.appointment_mark_no_show(appointment=visit, by=front_desk)
        event = events(fetch(client, okafor_feed))[uid(visit)]
    assert str(event["SUMMARY"]).startswith("No-show: ESI_IL")
    assert (str(event["STATUS"]), event["SEQUENCE"], str(event["TRANSP"])) == ("CONFIRMED", 1, "TRANSPARENT")


def test_a_confirmed_visit_keeps_its_sequence(client, calendar, okafor_feed):
    visit = book(calendar)
    services.appointment_confirm(appointment=visit)
    assert events(fetch(client, okafor_feed))[uid(visit)]["SEQUENCE"] == 0


def test_times_are_the_clinics_wall_clock_on_both_sides_of_the_spring_change(client, calendar, okafor_feed):
    # Sunday 2027-03-14 the clocks go forward: 09:00 is 15:00 UTC before, 14:00 UTC after.
    before_change, after_change = dt.date(2027, 3, 8), dt.date(2027, 3, 15)
    with time_machine.travel(dt.datetime(2027, 3, 2, 8, tzinfo=CHICAGO), tick=False):
        first = book(calendar, patient=calendar.patients[0], start=local(before_change, 9))
        second = book(calendar, patient=calendar.patients[1], start=local(after_change, 9))
        response = fetch(client, okafor_feed)
    found = events(response)
    assert found[uid(first)].decoded("DTSTART").astimezone(dt.timezone.utc).hour == 15
    assert found[uid(second)].decoded("DTSTART").astimezone(dt.timezone.utc).hour == 14
    seen = expanded(response, before_change, after_change + dt.timedelta(days=1))
    assert [seen[uid(first)]["DTSTART"].dt.hour, seen[uid(second)]["DTSTART"].dt.hour] == [9, 9]
    assert seen[uid(second)]["DTSTART"].dt.utcoffset() == dt.timedelta(hours=-5)
    assert seen[uid(first)]["DTSTART"].dt.utcoffset() == dt.timedelta(hours=-6)
    calendar_file = Calendar.from_ical(response.content)
    assert [str(zone["TZID"]) for zone in calendar_file.walk("VTIMEZONE")] == ["America/Chicago"]
    assert b"20270314T030000" in response.content  # the change itself, in the VTIMEZONE


def test_the_feed_covers_thirty_days_back(client, calendar, okafor_feed):
    visit = book(calendar)  # Monday 2026-11-30
    with time_machine.travel(dt.datetime(2026, 12, 30, 8, tzinfo=CHICAGO), tick=False):
        assert uid(visit) in events(fetch(client, okafor_feed))
    with time_machine.travel(dt.datetime(2027, 1, 1, 8, tzinfo=CHICAGO), tick=False):
        assert uid(visit) not in events(fetch(client, okafor_feed))


def test_the_feed_covers_a_hundred_and_eighty_days_ahead(client, calendar, okafor_feed):
    visit = book(calendar)  # Monday 2026-11-30
    with time_machine.travel(dt.datetime(2026, 6, 3, 8, tzinfo=CHICAGO), tick=False):
        assert uid(visit) in events(fetch(client, okafor_feed))  # 180 days ahead
    with time_machine.travel(dt.datetime(2026, 6, 1, 8, tzinfo=CHICAGO), tick=False):
        assert uid(visit) not in events(fetch(client, okafor_feed))  # 182 days ahead


def test_room_and_location_feeds_show_the_room_time_and_the_physician(client, calendar):
    visit = book(calendar)
    physician = calendar.okafor.name
    for feed in (calendar_feed_open(room=visit.room), calendar_feed_open(location=calendar.location)):
        event = events(fetch(client, feed))[uid(visit)]
        assert (event.decoded("DTSTART"), event.decoded("DTEND")) == (visit.room_start, visit.room_end)
        assert f" · {physician} · " in str(event["SUMMARY"])
    other_room_feed = calendar_feed_open(room=calendar.location.rooms.exclude(pk=visit.room_id).first())
    assert uid(visit) not in events(fetch(client, other_room_feed))


def test_the_calendar_names_itself_asks_to_be_refreshed_every_quarter_hour_and_has_the_zone(client, calendar,
                                                                                            okafor_feed):
    response = fetch(client, okafor_feed)
    feed = Calendar.from_ical(response.content)
    assert str(feed["X-WR-CALNAME"]) == f"{calendar.okafor.name}: procedures"
    assert str(feed["X-WR-TIMEZONE"]) == "America/Chicago"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in response.content
    assert b"X-PUBLISHED-TTL:PT15M" in response.content
    assert [str(zone["TZID"]) for zone in feed.walk("VTIMEZONE")] == ["America/Chicago"]


def test_an_unchanged_feed_answers_304_to_its_etag_and_200_once_a_visit_changes(client, calendar, okafor_feed,
                                                                                 front_desk):
    visit = book(calendar)
    first = fetch(client, okafor_feed)
    etag = first["ETag"]
    again = client.get(path(okafor_feed), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    services.appointment_reschedule(appointment=visit, start=local(NEXT_MONDAY, 13), by=front_desk)
    changed = client.get(path(okafor_feed), HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_a_visit_moved_to_another_physician_changes_the_etag_of_the_feed_it_left(client, calendar, okafor_feed,
                                                                                front_desk):
    visit = book(calendar)
    etag = fetch(client, okafor_feed)["ETag"]
    with time_machine.travel(NOW + dt.timedelta(days=1), tick=False):  # Wednesday: Dr. Reyes has procedures
        services.appointment_reschedule(appointment=visit, start=local(dt.date(2026, 12, 3), 9),
                                        physician=calendar.reyes, by=front_desk)
    response = client.get(path(okafor_feed), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and uid(visit) not in events(response)


def test_renaming_a_room_changes_its_feeds_etag(client, calendar):
    room = calendar.location.rooms.first()
    feed = calendar_feed_open(room=room)
    etag = fetch(client, feed)["ETag"]
    room.name = "Fluoro Suite 9"
    room.save()
    response = client.get(path(feed), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert str(Calendar.from_ical(response.content)["X-WR-CALNAME"]).startswith("Fluoro Suite 9, ")


def test_if_modified_since_answers_304_until_any_visit_changes(client, calendar, okafor_feed, front_desk):
    visit = book(calendar)
    last_modified = fetch(client, okafor_feed)["Last-Modified"]
    assert client.get(path(okafor_feed), HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        services.appointment_cancel(appointment=visit, reason="Patient asked", by=front_desk)
        assert client.get(path(okafor_feed), HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200


def test_a_feed_is_sent_compressed_to_a_client_that_accepts_gzip(client, calendar, okafor_feed):
    visit = book(calendar)
    response = client.get(path(okafor_feed), HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.content)
    assert uid(visit) in {str(event["UID"]) for event in Calendar.from_ical(body).walk("VEVENT")}
    # The ETag of the compressed answer still matches the feed when asked again.
    again = client.get(path(okafor_feed), HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_an_unchanged_feed_is_not_written_again_for_a_client_without_its_etag(client, calendar, okafor_feed):
    book(calendar)
    with CaptureQueriesContext(connection) as first:
        body = fetch(client, okafor_feed).content
    with CaptureQueriesContext(connection) as second:
        assert fetch(client, okafor_feed).content == body
    reads_visits = [query for query in first.captured_queries if "clinic_patient" in query["sql"]]
    assert len(reads_visits) == 1
    assert not [query for query in second.captured_queries if "clinic_patient" in query["sql"]]


def test_a_rotated_address_answers_404_and_the_new_one_works(client, calendar, okafor_feed, manager):
    old_path = path(okafor_feed)
    rotated = calendar_feed_rotate(feed=okafor_feed, by=manager)
    assert client.get(old_path).status_code == 404
    assert client.get(path(rotated)).status_code == 200
    assert rotated.rotated_by == manager


@pytest.mark.parametrize("token", [
    "x" * 48,  # the right shape, no such feed
    "A" * 5000,  # huge
    "not-a-token",
    "%E2%80%AE" + "a" * 45,  # not URL-safe base64
    "'; DROP TABLE scheduling_calendarfeed; --",
])
def test_an_address_that_is_no_feed_answers_404_in_plain_text(client, calendar, token):
    response = client.get(f"/feeds/{token}.ics")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"


def test_a_token_with_its_lookup_right_but_the_rest_wrong_answers_404(client, calendar, okafor_feed):
    wrong = okafor_feed.token[:12] + ("A" if okafor_feed.token[12] != "A" else "B") + okafor_feed.token[13:]
    assert client.get(f"/feeds/{wrong}.ics").status_code == 404
    assert client.get(path(okafor_feed)).status_code == 200


def test_a_nul_in_a_feed_address_is_refused_at_the_door_not_a_server_error(client, calendar, okafor_feed):
    response = client.get(f"/feeds/{okafor_feed.token[:20]}%00{okafor_feed.token[21:]}.ics")
    assert response.status_code == 400


def test_a_feed_answers_only_reads(client, calendar, okafor_feed):
    assert client.post(path(okafor_feed)).status_code == 405
    assert client.head(path(okafor_feed)).status_code == 200


def test_every_demo_physician_room_and_location_has_a_feed_and_seeding_again_makes_none(calendar):
    from django.core.management import call_command
    import io

    counts = (CalendarFeed.objects.filter(physician__isnull=False).count(),
              CalendarFeed.objects.filter(room__isnull=False).count(),
              CalendarFeed.objects.filter(location__isnull=False).count())
    from clinic.models import Physician, Room

    assert counts == (Physician.objects.count(), Room.objects.count(), Location.objects.count())
    tokens = set(CalendarFeed.objects.values_list("token", flat=True))
    output = io.StringIO()
    call_command("seed_demo", "--no-activity", stdout=output)
    assert set(CalendarFeed.objects.values_list("token", flat=True)) == tokens
    assert f"calendar feeds: 0 created, {len(tokens)} already there" in output.getvalue()


def test_a_post_to_a_feed_is_405_not_the_forms_csrf_page(okafor_feed):
    response = Client(enforce_csrf_checks=True).post(path(okafor_feed))
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
