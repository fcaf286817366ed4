"""What the front desk types to find a patient: a name, a phone number, a date of birth.

A caller gives their number or birthday the way they say it; the search reads each common
way of writing them. Names go to the admin's ordinary search.
"""

from __future__ import annotations

import datetime as dt
import re

from clinic.models.validators import digits_of

# 1961-04-17, and the US forms 04/17/1961 and 4/17/1961 (strptime reads both with %m/%d).
BIRTH_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
# A local number has seven digits; anything shorter is more likely part of a member ID.
PHONE_MIN_DIGITS = 7
_PHONE_LIKE = re.compile(r"\+?[0-9 ().\-]+")


def birth_date(text: str) -> dt.date | None:
    """The date `text` writes in one of BIRTH_DATE_FORMATS, else None."""
    for format_string in BIRTH_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, format_string).date()
        except ValueError:
            continue
    return None


def phone_number(text: str) -> str | None:
    """`text` if it reads as a phone number ("(918) 555-0142", "+1 918 555 0142"), else None."""
    text = text.strip()
    if not _PHONE_LIKE.fullmatch(text) or len(digits_of(text)) < PHONE_MIN_DIGITS or birth_date(text):
        return None
    return text


def split_birth_dates(term: str) -> tuple[list[dt.date], str]:
    """The dates of birth among the words of `term`, and the words left (a name)."""
    dates, words = [], []
    for word in term.split():
        day = birth_date(word)
        if day is None:
            words.append(word)
        else:
            dates.append(day)
    return dates, " ".join(words)
