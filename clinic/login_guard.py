"""Sign-in lockout (django-axes): what a locked-out person sees, and the backend that refuses them.

After LOGIN_FAILURE_LIMIT wrong passwords for one username, or from one address, sign-in is
refused until LOGIN_LOCKOUT_MINUTES have passed or a manager deletes the attempts in the admin
(Axes > Access attempts). A correct password resets the count.
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _


class LockoutBackend(AxesStandaloneBackend):
    """Refuses locked-out sign-ins from the web. Code that authenticates without a request (a
    management command, a test's `client.login`) has no address to lock and is not counted."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def locked_out(request, original_response=None, credentials=None):
    context = {
        **admin.site.each_context(request),
        "title": _("Sign-in paused"),
        "failure_limit": settings.LOGIN_FAILURE_LIMIT,
        "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
    }
    return TemplateResponse(request, "admin/locked_out.html", context, status=429).render()
