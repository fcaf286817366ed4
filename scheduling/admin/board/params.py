"""The location and day a page of the staff's day is about, from `?location=ID&date=YYYY-MM-DD`.

Default: the first active location, today in its zone. One form (`DayQuery`) reads them for
every page: the board's own query extends it, and the arrivals desk, the day sheets and the
CSV use it through `day_choice`. A bad value is a 400 page that says what is wrong, never a
server error and never another day shown instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clinic.models import Location
from scheduling.calendar_range import NO_SUCH_DAY, no_such_day

# Days a page can show: wide enough for any clinic's records, narrow enough that a day's bounds
# are always valid instants (9999-12-31 has no next midnight).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2999, 12, 31)


class QuickSelect(forms.Select):
    """A select written in Python: the stock widget draws each option through the template
    engine, which made the board's controls a tenth of its time. Same markup."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join("", '<option value="{}"{}>{}</option>', (
            (option["value"], flatatt(option["attrs"]), option["label"])
            for _group, choices, _index in widget["optgroups"] for option in choices))
        return format_html('<select name="{}"{}>{}</select>', widget["name"], flatatt(widget["attrs"]), options)


class CalendarDayField(forms.DateField):
    """A date; one written as a day no calendar has (2026-02-30) is said to be that, not a wrong format."""

    def to_python(self, value):
        if wrong := no_such_day(value):
            raise forms.ValidationError(NO_SUCH_DAY.format(value=wrong), code="invalid")
        return super().to_python(value)


class DayQuery(forms.Form):
    """A location and a day; both optional, the defaults the first location and today there."""

    location = forms.ModelChoiceField(
        queryset=Location.objects.filter(is_active=True).order_by("name"), required=False, label=gettext_lazy("Location"),
        empty_label=None, widget=QuickSelect, error_messages={"invalid_choice": gettext_lazy("There is no such location; choose one from the list.")})
    date = CalendarDayField(required=False, label=gettext_lazy("Date"), input_formats=["%Y-%m-%d"],
                           widget=forms.DateInput(attrs={"type": "date"}),
                           error_messages={"invalid": gettext_lazy("Enter the date as YYYY-MM-DD, e.g. 2026-11-24.")})

    def clean(self):
        cleaned = super().clean()
        location = cleaned.get("location")
        if location is None and "location" not in self.errors:
            location = cleaned["location"] = self.fields["location"].queryset.first()
            if location is None:
                raise forms.ValidationError(_("No location is active yet: add one under Locations first."))
        day = cleaned.get("date")
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            self.add_error("date", _("Choose a day between %(first)s and %(last)s.") % {
                "first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
        if location is not None and cleaned.get("date") is None and "date" not in self.errors:
            cleaned["date"] = timezone.now().astimezone(location.zone).date()
        return cleaned

    def error_list(self) -> list[str]:
        """Each error in words, with the field it is about."""
        return [f"{self.fields[name].label}: {message}" if name in self.fields else str(message)
                for name, messages in self.errors.items() for message in messages]


@dataclass
class DayChoice:
    location: Location | None
    day: dt.date | None
    locations: list[Location]
    errors: list[str] = field(default_factory=list)

    @property
    def query(self) -> str:
        return f"location={self.location.pk}&date={self.day.isoformat()}" if self.location else ""


def day_choice(params) -> DayChoice:
    """The location and day asked for in `params` (a QueryDict); on a bad value, no day and the errors."""
    query = DayQuery(params)
    locations = list(query.fields["location"].queryset)
    if not query.is_valid():
        return DayChoice(None, None, locations, query.error_list())
    return DayChoice(query.cleaned_data["location"], query.cleaned_data["date"], locations)


def wanted_id(params, name: str) -> tuple[int | None, str | None]:
    """An id from the query string (`physician=`, `room=`), or an error in words."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None, None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        return None, _("“%(value)s” is not a %(what)s ID.") % {"value": raw[:20], "what": name}
    return int(raw), None
