"""Slot ids: the same time with the same resources always has the same id.

Slots are computed, never stored, so a slot's id carries what it stands for: the procedure
type, the physician, the room and the procedure's start (minutes since the Unix epoch), with a
short keyed signature so that a client cannot make up ids for times the engine never offered
(the booking re-checks the time anyway). FHIR ids allow only letters, digits, '-' and '.', so
the signature is hex, and the parts are separated by '-'.

A proposed appointment from `$find` has the slot's id, with `.p<patient id>` after it when a
patient was named.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re

from django.conf import settings
from django.utils.crypto import constant_time_compare

_SALT = "interval.fhir.slot"
_SLOT = re.compile(r"(\d{1,9})-(\d{1,9})-(\d{1,9})-(\d{1,10})-([0-9a-f]{12})")
_PROPOSED = re.compile(_SLOT.pattern + r"(?:\.p(\d{1,12}))?")


@dataclasses.dataclass(frozen=True)
class SlotKey:
    procedure_type_id: int
    physician_id: int
    room_id: int
    start: dt.datetime  # the procedure's start, in UTC

    @property
    def id(self) -> str:
        return slot_id(procedure_type_id=self.procedure_type_id, physician_id=self.physician_id,
                       room_id=self.room_id, start=self.start)


@functools.lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    return hashlib.sha256((_SALT + secret_key).encode()).digest()


def _signature(body: str) -> str:
    """Keyed BLAKE2b (a MAC by design, one call in C): a week of slots signs over a thousand ids,
    and Django's salted_hmac, deriving its key each time, was a third of their mapping's cost."""
    return hashlib.blake2b(body.encode(), key=_key(settings.SECRET_KEY), digest_size=6).hexdigest()


def slot_id(*, procedure_type_id: int, physician_id: int, room_id: int, start: dt.datetime) -> str:
    body = f"{procedure_type_id}-{physician_id}-{room_id}-{int(start.timestamp()) // 60}"
    return f"{body}-{_signature(body)}"


def proposed_id(slot: str, patient_id: int | None) -> str:
    return f"{slot}.p{patient_id}" if patient_id else slot


def parse(value: str) -> tuple[SlotKey, int | None] | None:
    """The slot (and the patient of a proposed appointment) an id names; None if it names none."""
    match = _PROPOSED.fullmatch(value or "")
    if not match:
        return None
    procedure_type_id, physician_id, room_id, minutes, signature, patient = match.groups()
    body = "-".join((procedure_type_id, physician_id, room_id, minutes))
    if not constant_time_compare(signature, _signature(body)):
        return None
    start = dt.datetime.fromtimestamp(int(minutes) * 60, tz=dt.timezone.utc)
    key = SlotKey(int(procedure_type_id), int(physician_id), int(room_id), start)
    return key, int(patient) if patient else None
