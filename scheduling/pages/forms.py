"""The forms patients fill in. Every field has a label and a plain-language error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField


class DetailsForm(forms.Form):
    """Who the visit is for. Two quiet guards against scripts: a field people never see
    (`website`) must stay empty, and `filled_in_by_a_person` (scheduling/pages/fill_time.py,
    given the form's `started` id) must say the form did not come back faster than a person types."""

    first_name = forms.CharField(label=_("First name"), max_length=80,
                                 widget=forms.TextInput(attrs={"autocomplete": "given-name"}))
    last_name = forms.CharField(label=_("Last name"), max_length=80,
                                widget=forms.TextInput(attrs={"autocomplete": "family-name"}))
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}),
        error_messages={"invalid": _("Enter the date of birth as year-month-day, e.g. 1956-03-14.")},
    )
    # Any common way of writing it; kept in E.164.
    phone = PhoneNumberField(label=_("Mobile phone"), max_length=32, required=False,
                             widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
                             error_messages={"invalid": _("Enter a valid phone number, e.g. (918) 555-0140 or "
                                                          "+19185550140.")})
    email = forms.EmailField(label=_("Email"), required=False,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    sms_consent = forms.BooleanField(label=_("Send me text messages about my visits"), required=False)
    email_consent = forms.BooleanField(label=_("Send me emails about my visits"), required=False)
    note = forms.CharField(label=_("Anything we should know? (optional)"), max_length=500, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Please do not include medical details here; we will ask at your visit."))
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, filled_in_by_a_person: Callable[[str], bool], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.filled_in_by_a_person = filled_in_by_a_person

    def clean_date_of_birth(self) -> dt.date:
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        if born < today - dt.timedelta(days=365 * 125):
            raise forms.ValidationError(_("Check the year of birth."))
        return born

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Give a mobile phone number or an email address, so we can reach you."))
        if data.get("sms_consent") and not data.get("phone"):
            self.add_error("phone", _("Give a mobile number for text messages, or untick that box."))
        if data.get("email_consent") and not data.get("email"):
            self.add_error("email", _("Give an email address for emails, or untick that box."))
        if data.get("website") or not self.filled_in_by_a_person(self.data.get("started", "")):
            raise forms.ValidationError(_("Please check your details and send the form again."), code="too_fast")
        return data


CANCEL_REASONS = [
    ("", _("Choose a reason")),
    ("cannot_make_it", _("I cannot make this time")),
    ("feeling_better", _("I feel better")),
    ("unwell", _("I am unwell")),
    ("transport", _("I have no ride")),
    ("elsewhere", _("I am being seen elsewhere")),
    ("other", _("Another reason")),
]


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why are you cancelling?"), choices=CANCEL_REASONS,
                               error_messages={"required": _("Choose a reason, please.")})
    detail = forms.CharField(label=_("More detail (optional)"), max_length=250, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def reason_text(self) -> str:
        with translation.override(settings.LANGUAGE_CODE):  # staff read it in the clinic's language
            label = str(dict(CANCEL_REASONS)[self.cleaned_data["reason"]])
        detail = self.cleaned_data["detail"].strip()
        return f"By the patient: {label}" + (f" ({detail})" if detail else "")
