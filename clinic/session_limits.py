"""Staff sessions end after SESSION_IDLE_MINUTES without a request and, whatever happens,
SESSION_MAX_HOURS after sign-in: a workstation left signed in at the front desk does not stay
open to the next person for long, and a stolen session cookie stops working the same day."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

SIGNED_IN_AT = "interval_signed_in_at"
LAST_SEEN_AT = "interval_last_seen_at"
# The last-seen time is written at most this often, not on every request: a session save per
# request would be a database write per page and per API call.
_LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._check(request)
        return self.get_response(request)

    @staticmethod
    def _check(request) -> None:
        now = time.time()
        session = request.session
        signed_in_at = session.get(SIGNED_IN_AT)
        last_seen_at = session.get(LAST_SEEN_AT)
        if signed_in_at is None or last_seen_at is None:
            session[SIGNED_IN_AT] = session[LAST_SEEN_AT] = now
            return
        idle = now - last_seen_at > settings.SESSION_IDLE_MINUTES * 60
        too_old = now - signed_in_at > settings.SESSION_MAX_HOURS * 3600
        if idle or too_old:
            logout(request)  # the request goes on signed out: pages send it to sign in again
            return
        if now - last_seen_at >= _LAST_SEEN_RESOLUTION_SECONDS:
            session[LAST_SEEN_AT] = now
