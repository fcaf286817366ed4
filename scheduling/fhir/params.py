"""Reading FHIR search parameters and operation `Parameters`: anything unreadable is a FhirError
(400 OperationOutcome) naming the parameter, never a 500."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re

from fhir.resources.R4B.parameters import Parameters
from pydantic import ValidationError

from scheduling.calendar_range import OUT_OF_RANGE, in_range
from scheduling.fhir.errors import FhirError

MAX_COUNT = 5000  # a week of one procedure's slots at a large clinic fits in one page
MAX_OFFSET = 100_000
MAX_TEXT = 200
_INT_ID = re.compile(r"[1-9]\d{0,11}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
DAY_PREFIXES = ("eq", "ne", "ge", "gt", "le", "lt")


@dataclasses.dataclass(frozen=True)
class Paging:
    count: int
    offset: int

    def of(self, items):
        return items[self.offset:self.offset + self.count]


def _integer(name: str, value: str, low: int, high: int) -> int:
    if not value.isdigit() or len(value) > 7 or not low <= int(value) <= high:
        raise FhirError(f"{name} must be a whole number from {low} to {high}.", expression=name)
    return int(value)


def paging(query, *, default_count: int = 50) -> Paging:
    count = query.get("_count")
    offset = query.get("_offset")
    # _count=0 asks for the total alone (FHIR's "count only").
    return Paging(count=default_count if count is None else _integer("_count", count, 0, MAX_COUNT),
                  offset=0 if offset is None else _integer("_offset", offset, 0, MAX_OFFSET))


def text(name: str, value: str) -> str:
    if len(value) > MAX_TEXT or not value.strip():
        raise FhirError(f"{name} must be 1 to {MAX_TEXT} characters.", expression=name)
    return value.strip()


def integer_id(value: str) -> int | None:
    """A record id as FHIR gives it, or None when it cannot be one (then the resource is unknown)."""
    return int(value) if _INT_ID.fullmatch(value or "") else None


def reference_id(name: str, value: str, kind: str) -> str:
    """`Practitioner/3`, a full URL ending so, or plain `3`: the id part."""
    value = text(name, value)
    parts = value.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2] != kind:
        raise FhirError(f"{name} must refer to a {kind}, e.g. {kind}/1.", expression=name)
    return parts[-1]


def token(name: str, value: str) -> tuple[str | None, str]:
    """`system|code` or `code`."""
    value = text(name, value)
    system, bar, code = value.rpartition("|")
    return (system if bar else None), code


@dataclasses.dataclass(frozen=True)
class Bound:
    """One end of a time window: a local date (resolved in each location's zone) or an instant."""

    day: dt.date | None = None
    instant: dt.datetime | None = None

    def at(self, zone, *, next_day: bool = False) -> dt.datetime:
        if self.instant is not None:
            return self.instant
        day = self.day + dt.timedelta(days=1) if next_day else self.day
        return dt.datetime.combine(day, dt.time()).replace(tzinfo=zone)


@dataclasses.dataclass(frozen=True)
class Window:
    """[lower, upper): `lower` None means from now; `upper` None means a week after the lower end."""

    lower: Bound | None = None
    lower_after_day: bool = False  # gt a date: from the next day
    upper: Bound | None = None
    upper_through_day: bool = False  # le/eq a date: to the end of that day

    def bounds(self, zone, today: dt.date, *, default_days: int = 7) -> tuple[dt.datetime, dt.datetime]:
        lower = (self.lower or Bound(day=today)).at(zone, next_day=self.lower_after_day)
        if self.upper is None:
            first_day = lower.astimezone(zone).date()
            upper = Bound(day=first_day + dt.timedelta(days=default_days)).at(zone)
        else:
            upper = self.upper.at(zone, next_day=self.upper_through_day)
        return lower, upper


def date_or_instant(name: str, value: str) -> Bound:
    """A day or an instant within scheduling.calendar_range (outside it, windows cannot be computed)."""
    value = text(name, value)
    bound = None
    if _DATE.fullmatch(value):
        try:
            bound = Bound(day=dt.date.fromisoformat(value))
        except ValueError:
            pass
    elif "T" in value and _DATE.fullmatch(value[:10]):
        try:
            instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            instant = None
        if instant is not None and instant.tzinfo is None:
            raise FhirError(f"{name}: give the time with its UTC offset, e.g. 2026-12-01T09:00:00-06:00.",
                            expression=name)
        bound = Bound(instant=instant) if instant is not None else None
    if bound is None:
        # A `+` left bare in a URL arrives as a space: `T09:00:00 01:00`.
        hint = " Write a + in the offset as %2B in a URL." if " " in value else ""
        raise FhirError(f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD) or a date and time with an offset."
                        + hint, expression=name)
    if not in_range(bound.day or bound.instant.date()):
        raise FhirError(f"{name}: {OUT_OF_RANGE}", expression=name)
    return bound


@dataclasses.dataclass(frozen=True)
class DayRange:
    """A FHIR `date` search value on a plain date (a birth date): `prefix` and the days
    [first, last] its value stands for (2026 is the whole year, 2026-03 the month)."""

    prefix: str
    first: dt.date
    last: dt.date


def day_range(name: str, value: str) -> DayRange:
    """`1958-04-12`, `lt1960`, `ge1958-04` ... (eq, ne, lt, le, gt, ge; no prefix is eq)."""
    value = text(name, value)
    prefix = value[:2] if value[:2] in DAY_PREFIXES else "eq"
    rest = value[2:] if value[:2] in DAY_PREFIXES else value
    match = _PARTIAL_DATE.fullmatch(rest)
    try:
        year, month, day = (int(part) if part else None for part in match.groups()) if match else (None,) * 3
        first = dt.date(year, month or 1, day or 1)
        last = dt.date(year, month or 12, day or calendar.monthrange(year, month or 12)[1])
    except (TypeError, ValueError):
        raise FhirError(f"{name}: {value[:40]!r} is not a date: YYYY-MM-DD, YYYY-MM or YYYY, with an optional "
                        f"prefix ({', '.join(DAY_PREFIXES)}), e.g. lt1960-01-01.", expression=name) from None
    return DayRange(prefix=prefix, first=first, last=last)


def window(name: str, values: list[str]) -> Window:
    """`start=ge2026-11-30&start=le2026-12-06` (or eq, gt, lt; no prefix is eq) as a Window."""
    found: dict = {}
    for value in values:
        prefix = value[:2] if value[:2] in _PREFIXES else "eq"
        bound = date_or_instant(name, value[2:] if value[:2] in _PREFIXES else value)
        if prefix in ("eq", "ge", "gt"):
            found["lower"] = bound
            found["lower_after_day"] = prefix == "gt" and bound.day is not None
            if prefix == "gt" and bound.instant is not None:
                found["lower"] = Bound(instant=bound.instant + dt.timedelta(seconds=1))
        if prefix in ("eq", "le", "lt"):
            found["upper"] = bound
            found["upper_through_day"] = prefix in ("eq", "le") and bound.day is not None
            if prefix == "le" and bound.instant is not None:
                found["upper"] = Bound(instant=bound.instant + dt.timedelta(seconds=1))
    return Window(**found)


def operation_parameters(body) -> dict[str, list]:
    """A `Parameters` resource (checked by fhir.resources) as {name: [value, ...]}, each value the
    parameter's value[x] (a string, a dict for Reference or Identifier) or its `resource` (a dict)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError("The body must be a FHIR Parameters resource.", code="structure")
    try:
        Parameters.model_validate(body)
    except (ValidationError, ValueError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else {"msg": str(error), "loc": ()}
        where = ".".join(str(part) for part in first.get("loc", ()))
        raise FhirError(f"The Parameters resource is not valid FHIR: {first['msg'][:200]}", code="structure",
                        expression=where or None) from error
    found: dict[str, list] = {}
    for parameter in body.get("parameter") or []:
        value = parameter.get("resource")
        if value is None:
            value = next((item for key, item in parameter.items() if key.startswith("value")), None)
        found.setdefault(parameter["name"], []).append(value)
    return found


def query_as_parameters(query) -> dict[str, list]:
    return {name: list(values) for name, values in query.lists()}


def single(found: dict[str, list], name: str, *, required: bool = False):
    values = found.get(name) or []
    if len(values) > 1:
        raise FhirError(f"Give {name} once.", expression=name)
    if not values or values[0] in (None, ""):
        if required:
            raise FhirError(f"{name} is required.", code="required", expression=name)
        return None
    return values[0]


def reference_value(name: str, value) -> str:
    """A Reference parameter (`{"reference": "Patient/1"}`) or a string naming one."""
    if isinstance(value, dict):
        value = value.get("reference") or ""
    if not isinstance(value, str):
        raise FhirError(f"{name} must be a reference, e.g. Patient/1.", expression=name)
    return value


def string_value(name: str, value) -> str:
    if isinstance(value, dict):  # an Identifier or a Coding: its value or code
        value = value.get("value") or value.get("code") or ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FhirError(f"{name} must be a string.", expression=name)
    return text(name, str(value))
