"""Validators shared by the clinic's models."""

import re
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

phone_validator = RegexValidator(
    regex=r"^\+?[0-9 ().\-]{7,20}$",
    message=_("Enter a phone number with 7 to 20 digits, e.g. (918) 555-0140 or +19185550140."),
)

code_validator = RegexValidator(
    regex=r"^[A-Z][A-Z0-9_]*$",
    message=_("Codes use capital letters, digits and underscores, starting with a letter (e.g. ESI_IL)."),
)


def is_iana_time_zone(value: str) -> bool:
    """A named IANA zone; 'localtime', 'posixrules' and 'Factory' would tie a clinic to the server."""
    return value in zoneinfo.available_timezones() and value not in {"localtime", "posixrules", "Factory"}


def validate_time_zone(value: str) -> None:
    if not is_iana_time_zone(value):
        raise ValidationError(
            _("%(value)s is not a known IANA time zone; use a name such as America/Chicago."),
            params={"value": value},
            code="unknown_time_zone",
        )


def digits_of(phone: str) -> str:
    """The digits of a phone number, for matching numbers typed in different styles."""
    return re.sub(r"\D", "", str(phone or ""))


# The characters besides digits that `phone_validator` lets a stored number contain.
PHONE_PUNCTUATION = " ().-+"
# A North American number is ten digits; a leading country code 1 (or any longer prefix) is
# dropped, so "+1 918 555 0142" and "(918) 555-0142" compare equal.
PHONE_KEY_DIGITS = 10


def phone_key(phone: str) -> str:
    """The one normal form for comparing phone numbers: their last ten digits.

    "(918) 555-0142", "918.555.0142", "+1 918 555 0142" and "9185550142" all give
    "9185550142". The database computes the same from a stored number with
    `Patient.objects.with_phone_digits()`, so a search matches without a stored copy.
    """
    return digits_of(phone)[-PHONE_KEY_DIGITS:]


def validate_npi(value: str) -> None:
    """A National Provider Identifier: 10 digits whose last is a Luhn check digit over '80840' + the first 9."""
    if not (value.isdigit() and len(value) == 10):
        raise ValidationError(_("An NPI is exactly 10 digits."), code="npi_length")
    digits = [int(d) for d in "80840" + value[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    if (10 - total % 10) % 10 != int(value[9]):
        raise ValidationError(_("This NPI's check digit is wrong; check for a typing mistake."), code="npi_check")
