"""Calendar feeds in the admin: who sees which address, and changing one."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from clinic import roles
from scheduling.models import CalendarFeed
from scheduling.services.feeds import calendar_feed_open

pytestmark = pytest.mark.django_db

LIST = "/admin/scheduling/calendarfeed/"


def change_page(feed: CalendarFeed) -> str:
    return reverse("admin:scheduling_calendarfeed_change", args=[feed.pk])


def new_address_page(feed: CalendarFeed) -> str:
    return reverse("admin:scheduling_calendarfeed_new_address", args=[feed.pk])


@pytest.fixture
def feeds(calendar):
    class Feeds:
        okafor = calendar_feed_open(physician=calendar.okafor)
        reyes = calendar_feed_open(physician=calendar.reyes)
        location = calendar_feed_open(location=calendar.location)
    return Feeds()


def test_the_manager_sees_every_feed_with_its_address_and_webcal_address(client, manager, feeds):
    client.force_login(manager)
    listing = client.get(LIST).content.decode()
    for feed in (feeds.okafor, feeds.reyes, feeds.location):
        assert feed.token in listing
    page = client.get(change_page(feeds.okafor)).content.decode()
    assert f'value="http://127.0.0.1:8000/feeds/{feeds.okafor.token}.ics"' in page
    assert f'href="webcal://127.0.0.1:8000/feeds/{feeds.okafor.token}.ics"' in page
    assert f'href="{new_address_page(feeds.okafor)}"' in page


def test_the_address_is_labelled_by_what_it_is_not_by_a_scheme_site_url_may_not_have(client, manager, feeds,
                                                                                      settings):
    client.force_login(manager)
    settings.SITE_URL = "http://127.0.0.1:8000"
    page = client.get(change_page(feeds.okafor)).content.decode()
    assert "(https)" not in page and "https address" not in page
    assert "Address:" in page
    settings.SITE_URL = "https://interval.example-clinic.org/"
    page = client.get(change_page(feeds.okafor)).content.decode()
    assert f'value="https://interval.example-clinic.org/feeds/{feeds.okafor.token}.ics"' in page
    assert f'href="webcal://interval.example-clinic.org/feeds/{feeds.okafor.token}.ics"' in page


def test_a_physician_sees_only_their_own_feed(client, practising_physician, feeds):
    client.force_login(practising_physician)
    listing = client.get(LIST).content.decode()
    assert feeds.okafor.token in listing
    assert feeds.reyes.token not in listing and feeds.location.token not in listing
    assert feeds.okafor.token in client.get(change_page(feeds.okafor)).content.decode()
    other = client.get(change_page(feeds.reyes))
    assert feeds.reyes.token not in other.content.decode()


def test_a_physician_changes_their_own_address_and_the_old_one_stops_working(client, practising_physician, feeds):
    old = feeds.okafor.token
    client.force_login(practising_physician)
    # The button leads to a page saying what breaks; nothing changes until it is confirmed there.
    confirm = client.get(new_address_page(feeds.okafor))
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "every calendar subscribed to it" in text and 'method="post"' in text
    feeds.okafor.refresh_from_db()
    assert feeds.okafor.token == old
    response = client.post(new_address_page(feeds.okafor))
    assert response.status_code == 302 and response.url == change_page(feeds.okafor)
    feeds.okafor.refresh_from_db()
    assert feeds.okafor.token != old and feeds.okafor.rotated_by_id == practising_physician.pk
    entry = LogEntry.objects.filter(object_id=str(feeds.okafor.pk)).latest("action_time")
    assert (entry.user_id, entry.get_change_message()) == (practising_physician.pk, "Changed address.")
    assert client.get(f"/feeds/{old}.ics").status_code == 404
    assert client.get(f"/feeds/{feeds.okafor.token}.ics").status_code == 200


def test_a_physician_cannot_change_another_physicians_address(client, practising_physician, feeds):
    client.force_login(practising_physician)
    client.post(new_address_page(feeds.reyes))
    client.post(LIST, {"action": "rotate", "_selected_action": [feeds.reyes.pk, feeds.location.pk],
                       "confirmed": "1"})
    assert set(CalendarFeed.objects.filter(pk__in=[feeds.reyes.pk, feeds.location.pk])
               .values_list("token", flat=True)) == {feeds.reyes.token, feeds.location.token}


def test_a_physician_cannot_stop_a_feed(client, practising_physician, feeds):
    client.force_login(practising_physician)
    delete = reverse("admin:scheduling_calendarfeed_delete", args=[feeds.okafor.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert CalendarFeed.objects.filter(pk=feeds.okafor.pk).exists()


@pytest.mark.parametrize("role", [roles.FRONT_DESK, roles.NURSE])
def test_front_desk_and_nurses_see_no_feed(client, front_desk, nurse, feeds, role):
    user = front_desk if role == roles.FRONT_DESK else nurse
    client.force_login(user)
    refused = client.get(LIST)
    assert refused.status_code == 403
    # Said in the admin's own frame, with the way back, not as a bare "403 Forbidden".
    page = refused.content.decode()
    assert "does not have access to this page" in page and 'href="/admin/"' in page and 'id="header"' in page
    assert client.get(change_page(feeds.location)).status_code == 403
    assert client.post(new_address_page(feeds.location)).status_code in (302, 403)
    assert CalendarFeed.objects.get(pk=feeds.location.pk).token == feeds.location.token


def test_a_physician_login_without_a_physician_record_sees_no_feed(client, physician_user, feeds):
    client.force_login(physician_user)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert feeds.okafor.token not in listing.content.decode()


def test_the_manager_changes_several_addresses_at_once_after_confirming_and_stops_a_feed(client, manager, feeds):
    client.force_login(manager)
    selection = {"action": "rotate", "_selected_action": [feeds.okafor.pk, feeds.reyes.pk]}
    confirm = client.post(LIST, selection)
    text = confirm.content.decode()
    assert confirm.status_code == 200 and "Change the addresses of these 2 feeds?" in text
    assert "every calendar subscribed to them" in text and str(feeds.okafor) in text
    assert CalendarFeed.objects.get(pk=feeds.okafor.pk).token == feeds.okafor.token  # not yet
    done = client.post(LIST, {**selection, "confirmed": "1"}, follow=True)
    assert "2 feed addresses changed" in done.content.decode()
    assert CalendarFeed.objects.get(pk=feeds.okafor.pk).token != feeds.okafor.token
    assert CalendarFeed.objects.get(pk=feeds.reyes.pk).token != feeds.reyes.token
    assert CalendarFeed.objects.get(pk=feeds.location.pk).token == feeds.location.token
    delete = reverse("admin:scheduling_calendarfeed_delete", args=[feeds.location.pk])
    client.post(delete, {"post": "yes"})
    assert client.get(f"/feeds/{feeds.location.token}.ics").status_code == 404


def test_the_manager_gives_a_new_room_a_feed(client, manager, calendar):
    room = calendar.location.rooms.first()
    CalendarFeed.objects.filter(room=room).delete()
    client.force_login(manager)
    response = client.post(reverse("admin:scheduling_calendarfeed_add"), {"room": room.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    feed = CalendarFeed.objects.get(room=room)
    assert len(feed.token) == 48 and client.get(f"/feeds/{feed.token}.ics").status_code == 200


def test_a_feed_for_two_owners_is_refused(client, manager, calendar):
    CalendarFeed.objects.all().delete()
    client.force_login(manager)
    response = client.post(reverse("admin:scheduling_calendarfeed_add"),
                           {"room": calendar.location.rooms.first().pk, "location": calendar.location.pk})
    assert response.status_code == 200
    assert not CalendarFeed.objects.exists()


def test_the_role_table_gives_the_feeds_to_managers_and_physicians_only(demo_clinic):
    def feed_perms(role):
        return set(Group.objects.get(name=role).permissions.filter(content_type__model="calendarfeed")
                   .values_list("codename", flat=True))
    assert feed_perms(roles.CLINIC_MANAGER) == {"view_calendarfeed", "add_calendarfeed", "change_calendarfeed",
                                                "delete_calendarfeed", "view_every_calendarfeed"}
    assert feed_perms(roles.PHYSICIAN) == {"view_calendarfeed", "change_calendarfeed"}
    assert feed_perms(roles.FRONT_DESK) == feed_perms(roles.NURSE) == set()


def test_the_physicians_room_and_location_pages_link_to_their_feeds_for_the_manager(client, manager, calendar,
                                                                                    feeds):
    room_feed = calendar_feed_open(room=calendar.location.rooms.first())
    client.force_login(manager)
    for page, feed in ((reverse("admin:clinic_physician_change", args=[calendar.reyes.pk]), feeds.reyes),
                       (reverse("admin:clinic_room_change", args=[room_feed.room_id]), room_feed),
                       (reverse("admin:clinic_location_change", args=[calendar.location.pk]), feeds.location)):
        assert f'href="{change_page(feed)}"' in client.get(page).content.decode()


def test_a_physician_sees_the_link_on_their_own_page_only(client, practising_physician, calendar, feeds):
    client.force_login(practising_physician)
    own = client.get(reverse("admin:clinic_physician_change", args=[calendar.okafor.pk])).content.decode()
    other = client.get(reverse("admin:clinic_physician_change", args=[calendar.reyes.pk])).content.decode()
    assert f'href="{change_page(feeds.okafor)}"' in own
    assert change_page(feeds.reyes) not in other


def test_the_front_desk_sees_no_link_to_a_feed(client, front_desk, calendar, feeds):
    client.force_login(front_desk)
    page = client.get(reverse("admin:clinic_location_change", args=[calendar.location.pk]))
    assert page.status_code == 200
    assert change_page(feeds.location) not in page.content.decode()
