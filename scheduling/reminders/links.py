"""Signed links in reminders that let a patient confirm or cancel without logging in.

A link is single-purpose (the action is part of the signature's salt), bound to the visit's
time (a link for the old time stops working once the visit moves), and expires when the visit
starts. It carries no patient data: only a signed appointment id.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from scheduling.models import Appointment

ACTIONS = ("confirm", "cancel")


class LinkInvalid(Exception):
    """The link is wrong, expired, or for a visit that has moved or ended."""


def _signer(action: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"interval.visit-link.{action}")


def _bound(appointment: Appointment) -> str:
    return f"{appointment.pk}.{int(appointment.procedure_start.timestamp())}"


def make_token(appointment: Appointment, action: str) -> str:
    assert action in ACTIONS
    return _signer(action).sign(_bound(appointment))


def link(appointment: Appointment, action: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(f"visit-{action}", args=[make_token(appointment, action)])


def appointment_for(token: str, action: str) -> Appointment:
    try:
        value = _signer(action).unsign(token)
        appointment_id, start = (int(part) for part in value.split("."))
    except (signing.BadSignature, ValueError):
        raise LinkInvalid("This link is not valid.") from None
    appointment = Appointment.objects.select_related("location", "patient").filter(pk=appointment_id).first()
    if appointment is None or int(appointment.procedure_start.timestamp()) != start:
        raise LinkInvalid("This link is for a visit that has been moved or removed.")
    if timezone.now() >= appointment.procedure_start - dt.timedelta(minutes=0):
        raise LinkInvalid("This link has expired.")
    return appointment
