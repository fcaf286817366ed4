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


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_manager_reads_why_a_private_address_and_an_overtaken_retry_are_refused(visitor, manager, width,
                                                                                     settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    person = visitor("webhooks-refused", width)
    sign_in(person, manager)
    page = person.page
    page.goto("/admin/scheduling/webhookendpoint/add/")
    page.get_by_label("Name:").fill("Metadata")
    page.get_by_label("URL:").fill("https://169.254.169.254/latest/meta-data/")
    page.get_by_label("appointment.* (all of them, also kinds added later)").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errorlist")).to_contain_text("public internet addresses only")
    person.check("endpoint-private-address")

    WebhookEndpoint.objects.create(name="Billing", url="https://billing.example.com/hooks", events=["appointment.*"])
    booked = webhook_event_write("appointment.booked", subject="appointment:1", data={"appointment": {"id": 1}})
    cancelled = webhook_event_write("appointment.cancelled", subject="appointment:1", data={"appointment": {"id": 1}})
    WebhookDelivery.objects.filter(event=booked).update(status="failed", attempts=8, last_error="The endpoint "
                                                        "answered 500 Internal Server Error")
    WebhookDelivery.objects.filter(event=cancelled).update(status="delivered", attempts=1)
    failed = WebhookDelivery.objects.get(event=booked)
    page.goto("/admin/scheduling/webhookdelivery/")
    page.locator(f"#result_list input.action-select[value='{failed.pk}']").check()
    page.locator("select[name=action]").select_option("retry_now")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("Not retried: appointment.booked about appointment:1")
    person.check("retry-refused")
