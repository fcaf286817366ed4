"""Pages for what went wrong, in words a patient can act on, with the clinic's phone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from clinic.models import Location
from scheduling.errors import BookingError, NotEligible, SlotUnavailable, TooSoon


def main_location() -> Location | None:
    return Location.objects.filter(is_active=True).order_by("pk").first()


@never_cache
def problem(request: HttpRequest, reason: str, *, status: int, title: str = "") -> HttpResponse:
    return render(request, "pages/problem.html",
                  {"clinic": main_location(), "reason": reason, "title": title or _("This link does not work")},
                  status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security cookie (cookies blocked, an old page): say what to do."""
    return problem(request, _("Your browser did not send the page's security check. Please go back, reload the "
                              "page and try again, allowing cookies for this site."),
                   status=403, title=_("Please try again"))


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    response = problem(request, _("Too many requests came from your connection in a short time. Please wait a "
                                  "minute and try again."), status=429, title=_("Please wait a moment"))
    response["Retry-After"] = "60"
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        # An API client asked for a URL no route matches (e.g. an id with a dot or a slash in
        # it): it gets the API's JSON error, as its schema promises, not a page.
        return JsonResponse({"code": "not_found", "detail": "Not found."}, status=404)
    return problem(request, _("We could not find that page. If you followed a link from a message, it may be "
                              "incomplete."), status=404, title=_("Page not found"))


def patient_message(error: BookingError) -> str:
    """What a refusal from the services means for the patient, in their language (the services
    word their errors for staff)."""
    if isinstance(error, SlotUnavailable):  # SlotHeld too: another patient's hold is theirs alone
        return _("Sorry, that time has just been taken. Please pick another.")
    if isinstance(error, TooSoon):
        return _("That time is too soon to book online. Please pick a later time, or call us.")
    if isinstance(error, NotEligible):
        return _("Your care plan does not allow this visit on that day. Please pick a later day, or call us.")
    if error.code == "offer_gone":
        return error.message  # worded for the patient, translated where raised
    if error.code == "invalid_transition":
        return _("This visit can no longer be changed online. Please call us.")
    return _("We could not do that online. Please call us and we will help you.")
