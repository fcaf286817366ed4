"""Webhooks in a real browser, on a phone and a desktop: the manager registers an endpoint,
copies its secret, reveals it again, and looks at a delivery's attempts. Each page is held to
axe-core and photographed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from scheduling.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from scheduling.webhooks.events import webhook_event_write
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_manager_registers_an_endpoint_and_reads_its_deliveries(visitor, manager, width):
    person = visitor("webhooks", width)
    sign_in(person, manager)
    page = person.page
    page.goto("/admin/scheduling/webhookendpoint/add/")
    page.get_by_label("Name:").fill("EHR interface")
    page.get_by_label("URL:").fill("https://ehr.example.org/interval")
    page.get_by_label("appointment.booked (visit booked)").check()
    page.get_by_label("care_plan.* (all of them, also kinds added later)").check()
    page.get_by_label("May receive patient data").check()
    person.check("endpoint-form")
    page.get_by_role("button", name="Save", exact=True).click()
    endpoint = WebhookEndpoint.objects.get(name="EHR interface")
    expect(page.locator(".messagelist")).to_contain_text(endpoint.secret)
    person.check("secret-shown-once")

    page.goto(f"/admin/scheduling/webhookendpoint/{endpoint.pk}/change/")
    page.get_by_role("link", name="Reveal or rotate").click()
    expect(page.locator("#secret")).to_have_text(endpoint.secret)
    person.check("secret-page")

    event = webhook_event_write("appointment.booked", subject="appointment:1",
                                data={"appointment": {"id": 1, "status": "scheduled"}, "patient": {"id": 3}})
    delivery = WebhookDelivery.objects.get(event=event)
    WebhookAttempt.objects.create(delivery=delivery, at=delivery.created_at, status_code=503,
                                  error="The endpoint answered 503 Service Unavailable", duration_ms=118)
    page.goto("/admin/scheduling/webhookdelivery/")
    expect(page.locator("#result_list")).to_contain_text("appointment.booked")
    person.check("deliveries")
    page.goto(f"/admin/scheduling/webhookdelivery/{delivery.pk}/change/")
    expect(page.locator("body")).to_contain_text("503 Service Unavailable")
    person.check("delivery")
