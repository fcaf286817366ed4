"""The booking form's quiet guard against scripts: it must not come back faster than a person
fills it in.

Each time the page shows the form, the visitor's session records when, and for which held time,
under a random id that the form carries back. A sent form's id is used up, whatever the answer:
an id copied from one rendered form is worth nothing in another session, for another held time,
a second time, or after FORM_MAX_AGE. (A signed time alone could be replayed by any number of
scripts for hours.)
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.http import HttpRequest

from scheduling.models import SlotHold

SESSION_KEY = "interval.forms-shown"
FORM_MAX_AGE_SECONDS = 30 * 60
FORMS_KEPT = 5  # forms shown and not sent yet, per visitor: a few windows at once


def form_shown(request: HttpRequest, hold: SlotHold) -> str:
    """Record a form shown now for `hold`; the id it carries back."""
    now = time.time()
    shown = {form_id: entry for form_id, entry in (request.session.get(SESSION_KEY) or {}).items()
             if now - entry[1] <= FORM_MAX_AGE_SECONDS}
    form_id = secrets.token_urlsafe(16)
    shown[form_id] = [hold.pk, now]
    request.session[SESSION_KEY] = dict(sorted(shown.items(), key=lambda item: item[1][1])[-FORMS_KEPT:])
    return form_id


def filled_in_by_a_person(request: HttpRequest, form_id: str, held: str) -> bool:
    """Whether the form `form_id` was shown in this session, for the held time `held` (the id
    the form carries back beside it), at least BOOKING_FORM_MIN_SECONDS and at most
    FORM_MAX_AGE_SECONDS ago. Uses the id up."""
    shown = dict(request.session.get(SESSION_KEY) or {})
    entry = shown.pop(form_id, None)
    request.session[SESSION_KEY] = shown
    if entry is None:
        return False
    hold_id, shown_at = entry
    elapsed = time.time() - shown_at
    return str(hold_id) == held and settings.BOOKING_FORM_MIN_SECONDS <= elapsed <= FORM_MAX_AGE_SECONDS
