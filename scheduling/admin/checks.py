"""A visit's pre-procedure checks on its admin page, read-only: they are recorded at check-in
(`/admin/board/visit/<id>/check-in/`) by whoever saw them.

Shown as a field of the page rather than an inline, so that saving the page (notes, an
outcome) needs no form for them."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy as _

from scheduling.models import Appointment
from scheduling.pathways.checks import visit_checks


class AppointmentChecksMixin:
    @admin.display(description=_("pre-procedure checks"))
    def pre_procedure_checks(self, obj: Appointment) -> str:
        checks = visit_checks(obj)
        if not checks.needed:
            return gettext("None needed for this visit.")
        zone = obj.location.zone
        return format_html("<ul class=\"checks-record\">{}</ul>", format_html_join("", "<li>{} {}: {} — {}</li>", (
            ("✓" if item.confirmed else "○", item.label, item.detail, _said(item, zone)) for item in checks.items)))


def _said(item, zone) -> str:
    if item.confirmed:
        who = item.confirmed_by.get_username() if item.confirmed_by else gettext("someone since removed")
        return gettext("confirmed by %(who)s at %(when)s") % {
            "who": who, "when": item.confirmed_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")}
    if item.missing_reason:
        return gettext("not confirmed; the procedure started without it: %(reason)s") % {"reason": item.missing_reason}
    return gettext("not confirmed")
