"""Writes that change the calendar: typed functions, one transaction each."""

from scheduling.services.booking import appointment_book, appointment_reschedule
from scheduling.services.orders import order_create
from scheduling.services.holds import appointment_book_held, slot_hold
from scheduling.services.idempotency import idempotent_request_answered, idempotent_request_claim
from scheduling.services.outcomes import outcome_record
from scheduling.services.online import online_booking_make
from scheduling.services.patients import (hold_reminders_replan, patient_created, patient_for_booking,
                                         patient_reminders_after_consent)
from scheduling.services.sms import sms_delivery_report, sms_reply_receive
from scheduling.services.replan import ReplanResult, appointment_move_to_nearest, appointments_move_to_nearest
from scheduling.services.waitlist import OfferGone, waitlist_accept, waitlist_join, waitlist_leave
from scheduling.services.lifecycle import (
    appointment_cancel,
    appointment_check_in,
    appointment_complete,
    appointment_confirm,
    appointment_mark_no_show,
    appointment_move_to_recovery,
    appointment_start,
)

__all__ = [
    "idempotent_request_answered",
    "idempotent_request_claim",
    "patient_reminders_after_consent",
    "hold_reminders_replan",
    "OfferGone",
    "ReplanResult",
    "appointment_move_to_nearest",
    "appointments_move_to_nearest",
    "slot_hold",
    "appointment_book_held",
    "waitlist_accept",
    "waitlist_join",
    "waitlist_leave",
    "appointment_book",
    "appointment_cancel",
    "appointment_check_in",
    "appointment_complete",
    "appointment_confirm",
    "appointment_mark_no_show",
    "appointment_move_to_recovery",
    "appointment_reschedule",
    "appointment_start",
    "order_create",
    "online_booking_make",
    "outcome_record",
    "patient_created",
    "patient_for_booking",
    "sms_delivery_report",
    "sms_reply_receive",
]
