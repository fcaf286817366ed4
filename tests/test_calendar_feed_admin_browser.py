"""A calendar feed's page in a real browser, on a phone and a desktop: the address labelled by what
it is, and a new address only after a page that says what it breaks, with or without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scheduling.models import CalendarFeed
from scheduling.services.feeds import calendar_feed_open
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_manager_changes_a_feeds_address_after_reading_what_it_breaks(visitor, manager, calendar, site, width,
                                                                          javascript):
    feed = calendar_feed_open(physician=calendar.okafor)
    old = feed.token
    person = visitor("calendar-feed" + ("" if javascript else "-no-js"), width, javascript=javascript)
    sign_in(person, manager)
    page = person.page
    page.goto(f"/admin/scheduling/calendarfeed/{feed.pk}/change/")
    expect(page.locator(".field-address")).to_contain_text("Address:")
    expect(page.locator(".field-address input")).to_have_value(f"{site}/feeds/{old}.ics")
    expect(page.locator("#content")).not_to_contain_text("(https)")
    person.check("feed")

    page.get_by_role("link", name="Change the address…").click()
    expect(page.locator("#content")).to_contain_text("every calendar subscribed to it")
    assert CalendarFeed.objects.get(pk=feed.pk).token == old
    person.check("confirm")
    page.get_by_role("link", name="No, go back").click()
    expect(page.locator(".field-address input")).to_have_value(f"{site}/feeds/{old}.ics")

    page.get_by_role("link", name="Change the address…").click()
    page.get_by_role("button", name="Yes, change the address").click()
    expect(page.locator(".messagelist")).to_contain_text("The feed has a new address")
    new = CalendarFeed.objects.get(pk=feed.pk).token
    assert new != old
    expect(page.locator(".field-address input")).to_have_value(f"{site}/feeds/{new}.ics")
    person.check("changed")
