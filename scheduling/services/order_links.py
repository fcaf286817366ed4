"""Sending the patient the link to book an ordered procedure: the order admin's action and a care
plan's ready step both send it here, so both say the same thing when it cannot go."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import ACTIVE_STATUSES, Appointment, OrderStatus, ProcedureOrder
from scheduling.pathways.bookable_days import bookable_days
from scheduling.reminders.outbox import order_link_send
from scheduling.selectors import locations_offering


def order_bookable_from(order: ProcedureOrder, *, now: dt.datetime | None = None):
    """The first day the patient could book the order online (None if none), with what stands in
    the way when there is none: the days the order's booking page offers (`bookable_days`)."""
    location = locations_offering(order.procedure_type).first()
    if location is None:
        return None, None
    days = bookable_days(patient=order.patient, procedure_type=order.procedure_type, location=location,
                         now=now or timezone.now(), by_patient=True, order=order)
    first = days.first
    return first, (days.verdicts[first] if first is not None else days.why_not())


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
    first, eligibility = order_bookable_from(order, now=now)
    if first is None:
        why = "; ".join(dict.fromkeys(str(item.message).rstrip(".") for item in getattr(eligibility, "unmet", [])))
        return LinkAnswer(False, f"{_('cannot be booked online yet')}: {why}" if why
                          else _("cannot be booked online yet"))
    if order_link_send(order, location=location, now=now) is None:
        return LinkAnswer(False, _("no consent to texts or email"))
    return LinkAnswer(True)
