"""The waitlist: patients who would take an earlier time, and offers of freed times.

A cancellation offers its freed time to every matching entry at once (oldest first, up to
OFFERS_PER_FREED_TIME); the first patient to accept is moved into it through the ordinary
reschedule service, so the database's no-double-booking guarantee decides any race.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling.errors import BookingError, SlotUnavailable
from scheduling.locks import lock_booking, visit_days
from scheduling.models import (
    BOOKED_STATUSES,
    HOLDING_STATUSES,
    Appointment,
    OfferStatus,
    ReminderKind,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.pathways.bookable_days import bookable_days, patient_notice_until
from scheduling.reminders.outbox import reminders_notify
from scheduling.services.booking import appointment_reschedule

OFFERS_PER_FREED_TIME = 5
OFFER_HOURS = 24
NOT_UPCOMING = "Only an upcoming visit can go on the waitlist."


class OfferGone(BookingError):
    """The offer was accepted by someone else, has expired, or the visit changed."""

    code = "offer_gone"


@transaction.atomic
def waitlist_join(*, appointment: Appointment, any_physician: bool = False) -> WaitlistEntry:
    """Put an upcoming visit on the waitlist (again), or change whether any physician will do."""
    # Locked, so that a cancellation or a move at the same moment is seen here.
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status not in BOOKED_STATUSES or appointment.follow_up_of_id:
        raise BookingError(NOT_UPCOMING, code="invalid_transition")
    entry, _created = WaitlistEntry.objects.update_or_create(
        appointment=appointment, defaults={"status": WaitlistStatus.WAITING, "any_physician": any_physician})
    return entry


def waitlist_leave(*, appointment: Appointment) -> None:
    WaitlistEntry.objects.filter(appointment=appointment, status=WaitlistStatus.WAITING).update(
        status=WaitlistStatus.ENDED)


def _patient_may_take(appointment: Appointment, day: dt.date, *, now: dt.datetime) -> bool:
    """Whether the patient may move their visit to `day` themselves (a blood thinner to stop, a
    procedure's notice, the pathway rules): the day the booking service would accept."""
    return bookable_days(patient=appointment.patient, procedure_type=appointment.procedure_type,
                         location=appointment.location, now=now, by_patient=True, rebooking=appointment,
                         first_day=day, last_day=day).allows(day)


def waitlist_offer_freed(*, cancelled: Appointment, now: dt.datetime) -> list[WaitlistOffer]:
    """Offer the time a cancelled visit freed to the waitlist entries it would suit.

    Called inside the cancelling transaction: the offers and their messages exist exactly
    when the cancellation does.
    """
    location = cancelled.location
    notice_until = patient_notice_until(location, now)
    if cancelled.follow_up_of_id or cancelled.procedure_start < notice_until:
        return []  # the patient takes the offer themselves: inside the notice it is not theirs to take
    entries = (
        WaitlistEntry.objects.select_related("appointment__patient", "appointment__procedure_type",
                                             "appointment__order", "appointment__location")
        .filter(status=WaitlistStatus.WAITING, appointment__status__in=BOOKED_STATUSES,
                appointment__procedure_type=cancelled.procedure_type_id, appointment__location=location,
                appointment__procedure_start__gt=cancelled.procedure_start)
        .exclude(appointment__patient=cancelled.patient_id)
        .order_by("created_at")
    )
    day = cancelled.procedure_start.astimezone(location.zone).date()
    expires = min(now + dt.timedelta(hours=OFFER_HOURS), cancelled.procedure_start - (notice_until - now))
    offers = []
    for entry in entries:
        appointment = entry.appointment
        if not entry.any_physician and appointment.physician_id != cancelled.physician_id:
            continue
        if not _patient_may_take(appointment, day, now=now):
            continue
        offer = WaitlistOffer.objects.create(entry=entry, physician_id=cancelled.physician_id,
                                             procedure_start=cancelled.procedure_start, expires_at=expires)
        reminders_notify(appointment, ReminderKind.WAITLIST_OFFER, now=now,
                         context={"offer": offer.pk, "start": cancelled.procedure_start.isoformat()})
        offers.append(offer)
        if len(offers) == OFFERS_PER_FREED_TIME:
            break
    return offers


def waitlist_accept(*, offer: WaitlistOffer, now: dt.datetime | None = None) -> Appointment:
    """Move the entry's visit into the offered time. The first to accept wins; the others
    get OfferGone, and their offers are marked taken."""
    now = now or timezone.now()
    gone: tuple[str, str] | None = None  # (the offer's new status, the reason), written after the rollback
    offered = WaitlistOffer.objects.select_related("entry__appointment__location").get(pk=offer.pk)
    with transaction.atomic():
        # The offered time's day first, as every booking locks its days, then the offer: two
        # patients accepting at once queue on the day instead of deadlocking on each other's
        # offers. The move locks the visit's own (later) day after it, in the same order.
        lock_booking(days=visit_days(offered.entry.appointment.location, offered.procedure_start,
                                     offered.procedure_start))
        offer = WaitlistOffer.objects.select_for_update().select_related(
            "entry__appointment__location", "entry__appointment__patient", "entry__appointment__procedure_type",
        ).get(pk=offer.pk)
        entry, appointment = offer.entry, offer.entry.appointment
        local_day = offer.procedure_start.astimezone(appointment.location.zone).date()
        if offer.status != OfferStatus.OPEN:
            raise OfferGone(_("That time has already been taken."))
        if offer.expires_at <= now:
            gone = (OfferStatus.EXPIRED, _("That offer has expired."))
        elif (entry.status != WaitlistStatus.WAITING or appointment.status not in BOOKED_STATUSES
              or offer.procedure_start >= appointment.procedure_start
              or not _patient_may_take(appointment, local_day, now=now)):
            gone = (OfferStatus.EXPIRED, _("That offer no longer applies to your visit."))
        else:
            try:
                with transaction.atomic():
                    moved = appointment_reschedule(appointment=appointment, start=offer.procedure_start,
                                                   physician=offer.physician, by_patient=True, now=now)
            except SlotUnavailable:
                # Taken for good only if a visit now holds the time (a patient's ten-minute hold
                # on the booking pages may yet lapse).
                taken = Appointment.objects.filter(physician=offer.physician, procedure_start=offer.procedure_start,
                                                   status__in=HOLDING_STATUSES).exists()
                gone = (OfferStatus.TAKEN if taken else OfferStatus.OPEN, _("That time has already been taken."))
            else:
                offer.status = OfferStatus.ACCEPTED
                offer.save(update_fields=["status"])
                WaitlistOffer.objects.filter(status=OfferStatus.OPEN, physician=offer.physician,
                                             procedure_start=offer.procedure_start).update(status=OfferStatus.TAKEN)
                WaitlistEntry.objects.filter(pk=entry.pk).update(status=WaitlistStatus.MOVED)
                WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.OPEN).update(status=OfferStatus.EXPIRED)
                return moved
    status, reason = gone
    if status != OfferStatus.OPEN:
        WaitlistOffer.objects.filter(pk=offer.pk, status=OfferStatus.OPEN).update(status=status)
    raise OfferGone(reason)
