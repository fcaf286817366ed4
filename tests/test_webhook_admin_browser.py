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


def _fits(page, where: str) -> None:
    page.screenshot(path=f"tests/artifacts/{where.replace(' ', '-')}-1280.png", full_page=True)
    assert page.locator("#nav-sidebar").is_visible(), "the admin sidebar is open"
    scroll, client = page.locator(".results").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll <= client, f"{where} scrolls sideways: {scroll} px of columns in {client} px"


def test_the_endpoint_and_delivery_lists_fit_beside_the_sidebar_at_1280_px(visitor, manager):
    endpoint = WebhookEndpoint.objects.create(
        name="EHR interface", url="https://interface-engine.example-health-system.org/inbound/interval/webhooks",
        events=["appointment.*", "care_plan.*", "patient.created"], may_receive_patient_data=True)
    for number in range(3):
        event = webhook_event_write("appointment.status_changed", subject=f"appointment:{1000 + number}",
                                    data={"appointment": {"id": 1000 + number}})
        WebhookDelivery.objects.filter(event=event).update(
            status="failed", attempts=8, last_error="The endpoint answered 502 Bad Gateway: upstream connect "
                                                    "error or disconnect/reset before headers. reset reason: "
                                                    "connection termination")
    person = visitor("webhook-lists", "desktop")
    sign_in(person, manager)
    page = person.page
    page.goto("/admin/scheduling/webhookendpoint/")
    for column in ("Secret", "Deliveries"):
        expect(page.locator("#result_list thead")).to_contain_text(column, ignore_case=True)
    _fits(page, "the endpoint list")
    person.check("endpoints")
    page.goto(f"/admin/scheduling/webhookdelivery/?endpoint__id__exact={endpoint.pk}")
    for column in ("Created", "Next attempt", "Last error"):
        expect(page.locator("#result_list thead")).to_contain_text(column, ignore_case=True)
    _fits(page, "the delivery list")
    person.check("deliveries")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_the_event_choices_keep_each_name_on_one_line(visitor, manager, width):
    person = visitor("webhook-events", width)
    sign_in(person, manager)
    page = person.page
    page.goto("/admin/scheduling/webhookendpoint/add/")
    choice = page.get_by_label("appointment.status_changed (visit confirmed", exact=False)
    label = page.locator("label[for='%s']" % choice.get_attribute("id"))
    # The event's name is never split: the label's first line holds it whole.
    first_line = label.evaluate("""el => {
        const range = document.createRange(); const text = el.lastChild;
        const name = text.textContent.indexOf('appointment.status_changed');
        range.setStart(text, name); range.setEnd(text, name + 'appointment.status_changed'.length);
        return range.getClientRects().length; }""")
    assert first_line == 1, "appointment.status_changed is split over two lines"
    if width == "desktop":
        box = page.locator("#id_events").bounding_box()
        assert box["width"] >= 500, f"the events are squeezed into {box['width']} px"
    person.check("event-choices")


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_rotating_the_secret_takes_a_second_click_without_javascript(visitor, manager, width):
    endpoint = WebhookEndpoint.objects.create(name="Billing", url="https://billing.example.com/hooks",
                                              events=["appointment.booked"])
    old = endpoint.secret
    person = visitor("webhook-rotate", width, javascript=False)
    sign_in(person, manager)
    page = person.page
    page.goto(f"/admin/scheduling/webhookendpoint/{endpoint.pk}/secret/")
    page.get_by_role("link", name="Rotate the secret…").click()
    expect(page.locator("#content")).to_contain_text("must have the new secret within 24 hours")
    endpoint.refresh_from_db()
    assert endpoint.secret == old
    person.check("rotate-confirm")
    page.get_by_role("button", name="Yes, rotate the secret").click()
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    expect(page.locator("#secret")).to_have_text(endpoint.secret)
    expect(page.locator("#content")).not_to_contain_text("..")
    person.check("rotated")


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
