"""Phone numbers: stored in E.164, shown in the clinic's national format.

A number is read the way a person types it ("(918) 555-0111", "918.555.0111", "+1 918 555 0111")
in PHONE_DEFAULT_REGION. Providers and carriers only take E.164 ("+19185550111"), so that is
what the database holds and what a text is sent to. A stored value that never parsed (an old
row typed before numbers were checked) is kept as typed, and `phone_numbers_check` lists it.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from phonenumber_field.phonenumber import PhoneNumber, to_python


def parsed(value, *, region: str | None = None) -> PhoneNumber | None:
    """The number `value` (text or PhoneNumber) stands for, when it is a valid one; else None."""
    if not value:
        return None
    number = to_python(value if isinstance(value, PhoneNumber) else str(value).strip(),
                       region=region or settings.PHONE_DEFAULT_REGION)
    return number if isinstance(number, PhoneNumber) and number.is_valid() else None


def e164(value, *, region: str | None = None) -> str | None:
    """"+19185550111" for "(918) 555-0111"; None when `value` is not a valid number."""
    number = parsed(value, region=region)
    return number.as_e164 if number else None


def for_sending(value) -> str:
    """The address to text: E.164 when the number is valid, else what is stored (the provider
    then refuses it, and the reminder records that refusal)."""
    return _remembered(value)[1]


def given(value) -> bool:
    """A number is on record (valid or not). `bool()` of a stored number formats it, validating
    it first; this reads what it holds."""
    if isinstance(value, phonenumbers.PhoneNumber):
        return bool(value.national_number or value.raw_input)
    return bool(value)


def as_written(value) -> str:
    """The number as its form field and templates write it (`str(value)`)."""
    return _remembered(value)[0]


# Checking that a number is valid walks the metadata of its region (about 0.1 ms); reminder
# dispatch writes the clinic's number into every message and addresses every text, thousands a
# minute, to the same few hundred numbers. So each number's two text forms are kept, per number
# and default region, up to a bound.
_FORMS: dict[tuple, tuple[str, str]] = {}
_FORMS_KEPT = 4096


def _remembered(value) -> tuple[str, str]:
    if isinstance(value, phonenumbers.PhoneNumber):
        key = (phonenumbers.format_number(value, phonenumbers.PhoneNumberFormat.E164), value.extension,
               value.raw_input, settings.PHONE_DEFAULT_REGION)
    else:
        key = (None, None, str(value or ""), settings.PHONE_DEFAULT_REGION)
    forms = _FORMS.get(key)
    if forms is None:
        if len(_FORMS) >= _FORMS_KEPT:
            _FORMS.clear()
        forms = _FORMS[key] = (str(value or ""), e164(value) or str(value or "").strip())
    return forms


def national(value) -> str:
    """How the clinic writes a number: "(918) 555-0111"; a foreign one with its country code."""
    number = parsed(value)
    if number is None:
        return str(value or "")
    region = phonenumbers.region_code_for_number(number)
    if region == settings.PHONE_DEFAULT_REGION:
        return number.as_national
    return number.as_international


def raw(value) -> str:
    """What was stored, as text: E.164 for a parsed number, the typed text for one that was not."""
    if isinstance(value, PhoneNumber):
        return value.as_e164 if value.is_valid() else (value.raw_input or "")
    return str(value or "")


def unreadable(value) -> bool:
    """A stored number that is set but is not a valid number (kept as it was typed)."""
    return bool(raw(value)) and parsed(value) is None


def to_e164_rows(rows, *, region: str) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """For (id, typed number) rows: the E.164 form of each number that reads as one, by id, and
    the rows that do not (left as they are, for staff to correct)."""
    converted: dict[int, str] = {}
    unparseable: list[tuple[int, str]] = []
    for pk, typed in rows:
        if isinstance(typed, PhoneNumber):  # read through the model field: what the row holds
            typed = typed.raw_input or raw(typed)
        if not typed:
            continue
        number = e164(typed, region=region)
        if number is None:
            unparseable.append((pk, typed))
        elif number != typed:
            converted[pk] = number
    return converted, unparseable
