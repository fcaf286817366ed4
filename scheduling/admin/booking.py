"""Booking a visit from the admin in one step: choose the patient and procedure, see the offered
times at once, pick one, book it through the booking service.

The add form reads a time asked for ahead from its query string (the day board's "book here",
the Book buttons on a patient's and an order's page):
`?patient=&procedure_type=&order=&physician=&room=&start=ISO`.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy as _

from clinic.models import Location, Patient, Physician, ProcedureType, Room
from scheduling import availability as engine, services
from scheduling.admin.forms import check_day, parse_slot, use_patient_picker
from scheduling.admin.reschedule import local_time
from scheduling.bookable import SEARCH_DAYS, TIMES_PER_PHYSICIAN_DAY, bookable_times
from scheduling.errors import BookingError
from scheduling.models import ACTIVE_STATUSES, Appointment, OrderStatus, ProcedureOrder
from scheduling.pathways.overrides import may_override_rules

# What the times depend on: a change to any of them searches again.
SEARCH_FIELDS = ("patient", "procedure_type", "order", "location", "physician", "day", "override_reason")


class OrderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, order: ProcedureOrder) -> str:
        region = f", {order.get_region_display().lower()}" if order.region else ""
        return gettext("%(procedure)s%(region)s, ordered %(day)s") % {
            "procedure": order.procedure_type.name, "region": region, "day": f"{order.created_at:%d %b %Y}"}


class BookingForm(forms.Form):
    """Parses what the booking page is asked; the view searches and books with it.

    Nothing is required to show the page: times appear once patient, procedure and location are
    known (the procedure may come from the order, the location from the room).
    """

    patient = forms.ModelChoiceField(queryset=Patient.objects.all(), required=False, label=_("Patient"))
    order = OrderChoiceField(
        queryset=ProcedureOrder.objects.filter(status=OrderStatus.OPEN).exclude(
            appointments__status__in=ACTIVE_STATUSES).select_related("procedure_type"),
        required=False, label=_("Order"), empty_label=_("The oldest open order for it"),
        help_text=_("Procedures that need an order are booked against one of the patient's open orders."),
        error_messages={"invalid_choice": _("That order is not open, or is booked already.")},
    )
    procedure_type = forms.ModelChoiceField(queryset=ProcedureType.objects.filter(is_active=True), required=False,
                                            label=_("Procedure"),
                                            error_messages={"invalid_choice": _("That procedure is not offered.")})
    location = forms.ModelChoiceField(queryset=Location.objects.filter(is_active=True), required=False,
                                      label=_("Location"), empty_label=None)
    physician = forms.ModelChoiceField(
        queryset=Physician.objects.filter(is_active=True).select_related("user"), required=False,
        label=_("Physician"), empty_label=_("First available"),
        error_messages={"invalid_choice": _("That physician is not taking appointments.")},
    )
    day = forms.DateField(label=_("From day"), required=False,
                          help_text=_("All the times of this day, and the first %(per_day)s of each physician's day "
                                      "in the next %(days)s days.") % {"per_day": TIMES_PER_PHYSICIAN_DAY,
                                                                        "days": SEARCH_DAYS},
                          widget=forms.DateInput(attrs={"type": "date"}))
    override_reason = forms.CharField(
        label=_("Override reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("A reason also shows the times the pathway rules refuse, with why; booking one of them "
                    "keeps the reason on record."),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    # The time picked among those offered (see `bookable.slot_value`), or asked for ahead.
    slot = forms.CharField(required=False, label=_("Time"))
    room = forms.ModelChoiceField(queryset=Room.objects.filter(is_active=True).select_related("location"),
                                  required=False, widget=forms.HiddenInput,
                                  error_messages={"invalid_choice": _("That room is not in use.")})
    start = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, data=None, *, user, admin_site):
        super().__init__(data)
        self.user = user
        use_patient_picker(self.fields["patient"], admin_site)
        if not may_override_rules(user):
            del self.fields["override_reason"]  # only physicians override a pathway rule
        patient_id = (data or {}).get("patient", "")
        if str(patient_id).isdigit():
            self.fields["order"].queryset = self.fields["order"].queryset.filter(patient_id=patient_id)
        else:
            self.fields["order"].queryset = ProcedureOrder.objects.none()
        locations = list(self.fields["location"].queryset[:2])
        if len(locations) == 1:
            self.fields["location"].initial = locations[0]
        self.booking = bool(data) and "_book" in data
        self.wanted: tuple[dt.datetime, Physician, Room | None] | None = None
        self.asked_day: dt.date | None = None  # the day of a time asked for without a physician

    def clean(self):
        cleaned = super().clean()
        order, patient = cleaned.get("order"), cleaned.get("patient")
        if order is not None:
            if patient is not None and order.patient_id != patient.pk:
                self.add_error("order", _("That order is for another patient."))
            elif cleaned.get("procedure_type") is None:
                cleaned["procedure_type"] = order.procedure_type
            elif cleaned["procedure_type"] != order.procedure_type:
                self.add_error("order", _("That order is for %(procedure)s.") % {
                    "procedure": order.procedure_type.name})
        if cleaned.get("room") is not None:
            cleaned["location"] = cleaned["room"].location
        location = cleaned.get("location") or self.fields["location"].initial
        cleaned["location"] = location
        if location is None:
            return cleaned
        self._clean_wanted(cleaned, location)
        today = timezone.localdate(timezone=location.zone)
        if "day" not in self.errors:
            day = cleaned.get("day") or (self.wanted[0].astimezone(location.zone).date() if self.wanted
                                         else self.asked_day or today)
            try:
                cleaned["day"] = check_day(day, location=location, today=today)
            except forms.ValidationError as error:
                self.add_error("day", error)
        if self.booking and self.ready() and not cleaned.get("slot"):
            self.add_error("slot", _("Choose one of the offered times."))
        self._show_searched(cleaned)
        return cleaned

    def _show_searched(self, cleaned) -> None:
        """The form shows what the times were searched with: the day, the procedure of the order."""
        shown = {"day": cleaned["day"].isoformat() if cleaned.get("day") else "",
                 "procedure_type": cleaned["procedure_type"].pk if cleaned.get("procedure_type") else ""}
        missing = {name: value for name, value in shown.items() if value and not self.data.get(name)}
        if missing:
            self.data = self.data.copy()
            for name, value in missing.items():
                self.data[name] = value

    def _clean_wanted(self, cleaned, location: Location) -> None:
        """The time picked to book, or asked for ahead with start, physician and room (which a
        search keeps, so the board's "book here" survives choosing the patient)."""
        if self.booking and cleaned.get("slot"):
            parsed = parse_slot(cleaned["slot"], location)
            if parsed is None:
                self.add_error("slot", _("Choose one of the offered times."))
            self.wanted = parsed
            return
        if not cleaned.get("start"):
            return
        try:
            start = dt.datetime.fromisoformat(cleaned["start"])
        except ValueError:
            self.add_error(None, _("The time asked for is not a time; give it as 2026-11-30T09:00-06:00."))
            return
        if timezone.is_naive(start):
            start = start.replace(tzinfo=location.zone)  # a wall-clock time at the clinic
            if engine.local_instant(start.date(), start.time(), location.zone) is None:
                self.add_error(None, _("There is no %(time)s on %(day)s at %(location)s: the clocks go forward an "
                                       "hour that night.") % {"time": f"{start:%H:%M}", "day": f"{start:%a %d %b %Y}",
                                                              "location": location.name})
                return
        if start < timezone.now():
            self.add_error(None, _("The time asked for, %(when)s, has passed.") % {
                "when": f"{start.astimezone(location.zone):%a %d %b %Y %H:%M %Z}"})
            return
        day = cleaned.get("day")
        if cleaned.get("physician") is None or (day is not None and day != start.astimezone(location.zone).date()):
            # The search moved away from the time asked for (any physician, another day): it is
            # no longer asked for, and the times are searched afresh; from its day, if no other.
            self.data = self.data.copy()
            self.data["start"] = ""
            if day is None:
                self.asked_day = start.astimezone(location.zone).date()
            return
        self.wanted = (start, cleaned["physician"], cleaned.get("room"))

    def ready(self) -> bool:
        """Whether the times can be searched: what they depend on is known and valid."""
        cleaned = getattr(self, "cleaned_data", {})
        return (self.is_bound and not any(name in self.errors for name in SEARCH_FIELDS)
                and all(cleaned.get(name) for name in ("patient", "procedure_type", "location", "day")))

    def override(self) -> bool:
        return bool((self.cleaned_data.get("override_reason") or "").strip())

    def search_arguments(self) -> dict:
        cleaned = self.cleaned_data
        return {"patient": cleaned["patient"], "procedure_type": cleaned["procedure_type"],
                "location": cleaned["location"], "first_day": cleaned["day"], "physician": cleaned.get("physician"),
                "order": cleaned.get("order"), "override": self.override(), "wanted": self.wanted}

    def booking_arguments(self) -> dict:
        cleaned = self.cleaned_data
        start, physician, room = self.wanted
        return {"patient": cleaned["patient"], "procedure_type": cleaned["procedure_type"], "physician": physician,
                "start": start, "room": room, "order": cleaned.get("order"),
                "override_reason": cleaned.get("override_reason", ""), "notes": cleaned.get("notes", "")}

    def refused(self, error: BookingError) -> None:
        """The service's refusal, in its words; the time is no longer asked for."""
        self.add_error(None, error.message)
        self.wanted = None


class BookingAdminMixin:
    """The appointment's add page: the booking form above, through `appointment_book`."""

    booking_template = "admin/scheduling/appointment/book.html"

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else (request.GET or None)
        form = BookingForm(data, user=request.user, admin_site=self.admin_site)
        found = None
        if form.is_bound:
            form.is_valid()  # every field parsed, its errors shown; the times need only the search fields
        if form.ready():
            found = bookable_times(**form.search_arguments(), now=timezone.now())
            if form.booking and form.is_valid():
                try:
                    appointment = services.appointment_book(**form.booking_arguments(), by=request.user)
                except BookingError as error:
                    form.refused(error)
                    found = bookable_times(**form.search_arguments(), now=timezone.now())
                else:
                    return self._booked(request, appointment)
        return TemplateResponse(request, self.booking_template, {
            **self.admin_site.each_context(request),
            "title": _("Book a visit"),
            "opts": self.opts,
            "form": form,
            "search_fields": [form[name] for name in SEARCH_FIELDS if name in form.fields],
            "search_errors": [form[name] for name in SEARCH_FIELDS if name in form.fields and form[name].errors],
            "found": found,
            "days": found.by_day() if found else [],
            "chosen": found.wanted.value if found and found.wanted else "",
            # Until patient and procedure are chosen, the time the board asked for is said in words.
            "asked": form.wanted if form.wanted and not found else None,
            "asked_zone": form.cleaned_data["location"].zone if form.wanted else None,
            "media": self.media + form.media,
            "has_view_permission": self.has_view_permission(request),
        })

    def _booked(self, request, appointment: Appointment):
        self.log_addition(request, appointment, [{"added": {}}])
        room = f", {appointment.room.name}" if appointment.room_id else ""
        self.message_user(request, gettext("Booked %(patient)s: %(when)s with %(physician)s%(room)s.") % {
            "patient": appointment.patient.full_name, "when": local_time(appointment),
            "physician": appointment.physician.name, "room": room}, messages.SUCCESS)
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                            args=[appointment.pk], current_app=self.admin_site.name))
