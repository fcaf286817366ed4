"""Sending the patient the link to book an ordered procedure: the order admin's action and a care
plan's ready step both send it here, so both say the same thing when it cannot go."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import ACTIVE_STATUSES, Appointment, OrderStatus, ProcedureOrder
from scheduling.pathways.eligibility import eligible_window
from scheduling.pathways.holds import first_bookable_day
from scheduling.reminders.outbox import order_link_send
from scheduling.selectors import locations_offering


def order_bookable_from(order: ProcedureOrder):
    """The first day the patient could book the order online (None if none), with the eligibility
    behind it, as the booking page computes it: from the first day they may take, up to the
    location's horizon."""
    location = locations_offering(order.procedure_type).first()
    if location is None:
        return None, None
    today = timezone.now().astimezone(location.zone).date()
    not_before = first_bookable_day(patient=order.patient, procedure_type=order.procedure_type, today=today)
    first, _last, eligibility = eligible_window(patient=order.patient, procedure_type=order.procedure_type,
                                                order=order, first_day=not_before,
                                                last_day=today + dt.timedelta(days=location.booking_horizon_days))
    return first, eligibility


@dataclass(frozen=True)
class LinkAnswer:
    sent: bool
    reason: str = ""  # why not, in words for staff
    booked: Appointment | None = None  # the visit the order is already booked for


@transaction.atomic
def order_link_offer(order: ProcedureOrder, *, now: dt.datetime | None = None) -> LinkAnswer:
    """Queue the order's booking link for the reminder worker (it goes out within a minute), unless
    the order is closed or booked already, cannot be booked online yet, or the patient has not
    consented to messages."""
    now = now or timezone.now()
    if order.status == OrderStatus.COMPLETED:
        return LinkAnswer(False, _("the order is completed"))
    if order.status == OrderStatus.CANCELLED:
        return LinkAnswer(False, _("the order is cancelled"))
    booked = order.appointments.filter(status__in=ACTIVE_STATUSES).select_related("location").order_by(
        "procedure_start").first()
    if booked is not None:
        local = booked.procedure_start.astimezone(booked.location.zone)
        return LinkAnswer(False, f"{_('already booked for')} {local:%a %Y-%m-%d %H:%M %Z}", booked)
    location = locations_offering(order.procedure_type).first()
    if location is None:
        return LinkAnswer(False, _("no location offers this procedure"))
    first, eligibility = order_bookable_from(order)
    if first is None:
        why = "; ".join(dict.fromkeys(str(item.message).rstrip(".") for item in getattr(eligibility, "unmet", [])))
        return LinkAnswer(False, f"{_('cannot be booked online yet')}: {why}" if why
                          else _("cannot be booked online yet"))
    if order_link_send(order, location=location, now=now) is None:
        return LinkAnswer(False, _("no consent to texts or email"))
    return LinkAnswer(True)
