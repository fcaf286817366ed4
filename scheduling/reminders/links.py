"""Signed links in reminders that let a patient confirm or cancel without logging in.

A link is single-purpose (the action is part of the signature's salt), bound to the visit's
time (a link for the old time stops working once the visit moves), and expires when the visit
starts. It carries no patient data: only the appointment's id, signed with its time.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.models import Appointment, OrderStatus, ProcedureOrder

ACTIONS = ("confirm", "cancel", "manage", "diary")
# The page each action's token opens; "manage" opens the visit's own page, where the patient
# can also reschedule, join the waitlist and download the calendar file. "diary" opens the
# pain diary after the procedure: it does not expire at the visit's start (its page is open
# for a time after the procedure's end, see `scheduling.diary.prompts`).
URL_NAMES = {"confirm": "visit-confirm", "cancel": "visit-cancel", "manage": "visit-manage", "diary": "visit-diary"}


class LinkInvalid(Exception):
    """The link is wrong, expired, or for a visit that has moved or ended."""


def _signer(action: str, start: int | None = None) -> signing.TimestampSigner:
    # The visit's time is part of the salt, not of the token: a link stops working when the
    # visit moves, and the address (which lands in browser histories and server logs) shows
    # only the visit's id.
    suffix = f".{start}" if start is not None else ""
    return signing.TimestampSigner(salt=f"interval.visit-link.{action}{suffix}")


def _start(appointment: Appointment) -> int:
    return int(appointment.procedure_start.timestamp())


def make_token(appointment: Appointment, action: str) -> str:
    assert action in ACTIONS
    return _signer(action, _start(appointment)).sign(str(appointment.pk))


@lru_cache(maxsize=32)
def _address(url_name: str) -> tuple[str, str]:
    """The page's path around its token. A dispatch run builds links for hundreds of messages;
    `reverse` each time would cost more than signing them."""
    before, after = reverse(url_name, args=["TOKEN"]).split("TOKEN")
    return before, after


def path(appointment: Appointment, action: str, url_name: str | None = None) -> str:
    """The path of the visit's page for `action` (or of another page taking that token): for
    links and redirects within the site, which work on whatever address it is served from."""
    before, after = _address(url_name or URL_NAMES[action])
    return before + make_token(appointment, action) + after


def link(appointment: Appointment, action: str, url_name: str | None = None) -> str:
    """The full address of that page, for messages and files read outside the site."""
    return settings.SITE_URL.rstrip("/") + path(appointment, action, url_name)


def appointment_for(token: str, action: str) -> Appointment:
    """The visit a link of `action` names, while the visit is still to come."""
    appointment = _signed_appointment(token, action)
    if timezone.now() >= appointment.procedure_start:
        raise LinkInvalid(_("This link has expired."))
    return appointment


def diary_appointment_for(token: str) -> Appointment:
    """The visit a pain-diary link names, whenever it is (the page says whether it is open)."""
    return _signed_appointment(token, "diary")


def _signed_appointment(token: str, action: str) -> Appointment:
    moved = LinkInvalid(_("This link is for a visit that has been moved or removed."))
    value = token.split(":", 1)[0]
    try:
        if "." in value:  # the form of links sent before: "<id>.<start>", signed as such
            appointment_id, start = (int(part) for part in _signer(action).unsign(token).split("."))
        else:
            appointment_id, start = int(value), None
    except (signing.BadSignature, ValueError):
        raise LinkInvalid(_("This link is not valid.")) from None
    appointment = Appointment.objects.select_related("location", "patient").filter(pk=appointment_id).first()
    if appointment is None:
        raise moved
    if start is None:
        try:
            _signer(action, _start(appointment)).unsign(token)
        except signing.BadSignature:
            if _signed_for_an_earlier_time(token, action, appointment):
                raise moved from None
            raise LinkInvalid(_("This link is not valid.")) from None
    elif _start(appointment) != start:
        raise moved
    return appointment


def _signed_for_an_earlier_time(token: str, action: str, appointment: Appointment) -> bool:
    """Whether the token was signed for a time the visit had before it moved (its history),
    rather than altered or made up."""
    earlier = Appointment.history.filter(id=appointment.pk).values_list("procedure_start", flat=True).distinct()
    for start in earlier:
        try:
            _signer(action, int(start.timestamp())).unsign(token)
        except signing.BadSignature:
            continue
        return True
    return False


# ---- Booking an ordered procedure ------------------------------------------------------------
# The clinic sends this link once a physician has ordered a procedure; it opens a picker of
# the times the pathway rules allow. It expires after ORDER_LINK_DAYS and stops working once
# the order is booked, completed or cancelled.

def _order_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="interval.order-link")


def make_order_token(order: ProcedureOrder) -> str:
    return _order_signer().sign(str(order.pk))


def order_link(order: ProcedureOrder) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("book-order", args=[make_order_token(order)])


def order_for(token: str) -> ProcedureOrder:
    """The open order the token names. LinkInvalid when the link is wrong or too old."""
    try:
        order_id = int(_order_signer().unsign(token, max_age=dt.timedelta(days=settings.ORDER_LINK_DAYS)))
    except signing.SignatureExpired:
        raise LinkInvalid(_("This booking link has expired.")) from None
    except (signing.BadSignature, ValueError):
        raise LinkInvalid(_("This link is not valid.")) from None
    order = ProcedureOrder.objects.select_related("patient", "procedure_type").filter(pk=order_id).first()
    if order is None or order.status != OrderStatus.OPEN:
        raise LinkInvalid(_("This procedure can no longer be booked online."))
    return order
