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


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(value)s is not a known IANA time zone; use a name such as America/Chicago."),
            params={"value": value},
            code="unknown_time_zone",
        ) from None


def digits_of(phone: str) -> str:
    """The digits of a phone number, for matching numbers typed in different styles."""
    return re.sub(r"\D", "", phone or "")
