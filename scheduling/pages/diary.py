"""The patient's pain diary after a diagnostic block, from the signed link in the pain-diary
reminders: no login, phone first, large 0-10 buttons.

The page opens at the procedure's end and stays open for 24 hours; before, it says when it
opens, after, it closes with the clinic's phone. A GET never records anything (mail scanners
open links); each button press records one answer and comes back to the page.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from scheduling.diary.read import DiaryView, diary_view
from scheduling.errors import BookingError
from scheduling.models import AppointmentStatus, BaselineSource
from scheduling.models.diary import NOTE_MAX_LENGTH
from scheduling.pages.common import patient_page, render_local
from scheduling.pages.errors import problem
from scheduling.reminders.links import LinkInvalid, diary_appointment_for
from scheduling.services.diary import (
    DiaryClosed,
    diary_baseline_record,
    diary_entry_record,
    diary_note_record,
)

SCALE = range(11)


def duration(minutes: int) -> str:
    """ "30 minutes", "1 hour", "2 hours": a prompt's time after the procedure."""
    if minutes % 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours = minutes // 60
    return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}


def _closed_page(request: HttpRequest, view: DiaryView) -> HttpResponse:
    location = view.appointment.location
    if view.appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW):
        reason = _("This visit did not take place, so it has no pain diary.")
    else:
        reason = _("Your pain diary was open for 24 hours after your procedure and is now closed.")
    return render_local(request, "pages/problem.html", {
        "title": _("Your pain diary is closed"), "reason": reason}, location, status=410)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _record(request: HttpRequest, appointment, now) -> str:
    """Record what the patient pressed; the part of the page to come back to."""
    what = request.POST.get("record", "")
    if what == "baseline":
        diary_baseline_record(appointment=appointment, pain=request.POST.get("pain"), source=BaselineSource.PAGE,
                              now=now)
        messages.success(request, _("Thank you: your pain before the procedure is saved."))
        return "questions"
    if what == "entry":
        prompt = request.POST.get("prompt", "")
        # A prompt that is not a number is no prompt of the diary's: the service refuses -1.
        prompt = None if prompt == "" else (_int(prompt) if _int(prompt) is not None else -1)
        diary_entry_record(appointment=appointment, pain=request.POST.get("pain"), prompt=prompt, now=now)
        messages.success(request, _("Thank you: your pain is saved."))
        return "answers"
    if what == "note":
        diary_note_record(appointment=appointment, note=request.POST.get("note", ""), now=now)
        messages.success(request, _("Thank you: your note is saved."))
        return "note"
    raise BookingError("Nothing to record.")


@require_http_methods(["GET", "POST"])
@patient_page
def diary(request: HttpRequest, token: str) -> HttpResponse:
    try:
        appointment = diary_appointment_for(token)
    except LinkInvalid as error:
        return problem(request, str(error), status=410)
    now = timezone.now()
    view = diary_view(appointment, now=now)
    if view is None:
        return problem(request, _("This visit has no pain diary."), status=404, title=_("Page not found"))
    if view.closed:
        return _closed_page(request, view)
    if request.method == "POST" and view.open:
        try:
            part = _record(request, appointment, now)
        except DiaryClosed:
            messages.error(request, _("Your pain diary can no longer be changed."))
            part = "content"
        except BookingError as error:
            if error.field == "note":
                messages.error(request, _("Please keep your note shorter (at most %(count)d characters).") % {
                    "count": NOTE_MAX_LENGTH})
            else:
                messages.error(request, _("Please press a number from 0 to 10."))
            part = "content"
        return redirect(request.path + f"#{part}")
    if request.method == "POST":  # not open yet, or reviewed: nothing to record
        return redirect(request.path)
    rows = [{**row, "duration": duration(row["minutes"]) if row["minutes"] is not None else ""} for row in view.rows]
    return render_local(request, "pages/diary.html", {
        "view": view, "appointment": appointment, "rows": rows, "scale": SCALE,
        "due_duration": duration(view.due.minutes) if view.due else "",
        "note_max": NOTE_MAX_LENGTH,
    }, appointment.location)
