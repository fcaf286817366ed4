"""Pathway rules, evaluated on plain data: the patient's history in, unmet rules out.

Each unmet rule says, in words the front desk can read to a patient, what is missing and
what would satisfy it, and when waiting is all it takes, the first day it allows.
The rules and their sources are in DESIGN.md section 4; the figures are data (PathwayRule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta


@dataclass(frozen=True)
class PastProcedure:
    """A procedure on the patient's record: done (completed) or booked (still to come), here or,
    recorded by staff, at another clinic (`elsewhere` names it; it has no appointment here)."""

    procedure_type_id: int
    family: str
    region: str
    day: dt.date
    completed: bool
    appointment_id: int | None = None
    relief_percent: int | None = None
    name: str = ""  # the procedure type's name, for messages about one done elsewhere
    elsewhere: str = ""  # the other clinic's name; empty for a procedure done here
    documented: bool = False  # done elsewhere, with a report on file and the relief it gives
    laterality: str = ""  # left, right, bilateral, midline; empty when not recorded

    def where(self) -> str:
        return f" at {self.elsewhere}" if self.elsewhere else ""


@dataclass(frozen=True)
class Rule:
    id: int | None
    kind: str  # prerequisite | min_interval | max_per_year | repeat_relief
    count: int = 1
    min_relief_percent: int | None = None
    within_days: int | None = None
    min_interval_days: int | None = None
    min_interval_months: int | None = None
    same_region: bool = True
    prerequisite_type_ids: frozenset[int] = frozenset()
    prerequisite_label: str = "prior procedures"
    source: str = ""
    # Prior procedures done elsewhere count only where the payer's policy accepts them (and then
    # only documented ones); yearly limits, intervals and repeats always count them, for safety.
    accepts_outside: bool = False
    payer_name: str = ""  # the payer whose own rule this is; empty for the all-payer rule
    # Count only procedures on the same side (the same anatomic site): a right-side ablation two
    # weeks after the left is not a repeat of it. Bilateral, midline or unrecorded counts as both.
    same_side: bool = False


@dataclass(frozen=True)
class Unmet:
    message: str
    rule_id: int | None = None
    earliest: dt.date | None = None  # waiting until this day satisfies the rule
    kind: str = ""  # the rule's kind; empty for the order's own requirements


@dataclass
class Eligibility:
    unmet: list[Unmet] = field(default_factory=list)
    latest: dt.date | None = None  # after this day the booking is not allowed (e.g. authorization ends)

    @property
    def eligible(self) -> bool:
        return not self.unmet

    @property
    def earliest(self) -> dt.date | None:
        """The first day every unmet rule allows, if waiting alone satisfies them all."""
        if not self.unmet or any(item.earliest is None for item in self.unmet):
            return None
        return max(item.earliest for item in self.unmet)

    def explain(self) -> str:
        return " ".join(item.message for item in self.unmet)


def _region_words(region: str) -> str:
    return f" in the {region} region" if region else ""


ONE_SIDE = ("left", "right")


def same_site(one: str, other: str) -> bool:
    """Whether procedures on these sides can be at the same site: unless one is left and the other
    right, they can (bilateral covers both; midline or not recorded may be either)."""
    return not (one in ONE_SIDE and other in ONE_SIDE and one != other)


def _matching(history: Sequence[PastProcedure], *, family: str | None = None, type_ids: frozenset[int] | None = None,
              region: str, same_region: bool, side: str | None = None) -> list[PastProcedure]:
    """The procedures of the family (or types) in the region; with `side`, only those that can
    be on that side."""
    return [
        past for past in history
        if (family is None or past.family == family)
        and (type_ids is None or past.procedure_type_id in type_ids)
        and (not same_region or not region or past.region == region)
        and (side is None or same_site(past.laterality, side))
    ]


def _side_words(side: str | None) -> str:
    return f" on the {side} side" if side in ONE_SIDE else ""


def _not_counted_words(past: PastProcedure, rule: Rule) -> str:
    """Why a prior procedure done elsewhere does not count toward a 'needs prior procedures' rule."""
    what = f"{past.name or 'the procedure'}{past.where()} on {past.day.isoformat()}"
    if not rule.accepts_outside:
        payer = f" (the {rule.payer_name} rule)" if rule.payer_name else ""
        return f"{what} does not count: this rule{payer} does not accept procedures done elsewhere"
    return f"{what} is not documented (it needs a document reference and its recorded relief)"


def _after_interval(day: dt.date, rule: Rule) -> dt.date:
    if rule.min_interval_months:
        return day + relativedelta(months=rule.min_interval_months)
    return day + dt.timedelta(days=rule.min_interval_days or 0)


def _interval_words(rule: Rule) -> str:
    if rule.min_interval_months:
        return f"{rule.min_interval_months} month{'s' if rule.min_interval_months != 1 else ''}"
    return f"{rule.min_interval_days} day{'s' if rule.min_interval_days != 1 else ''}"


def evaluate(rule: Rule, *, day: dt.date, family: str, family_label: str, region: str,
             history: Sequence[PastProcedure], laterality: str = "") -> Unmet | None:
    """One rule against the patient's history for a procedure on `day` (on the order's side,
    `laterality`); None when met."""
    side = laterality if rule.same_side else None
    where = _region_words(region if rule.same_region else "") + _side_words(side)
    if rule.kind == "prerequisite":
        candidates = sorted(
            (past for past in _matching(history, type_ids=rule.prerequisite_type_ids, region=region,
                                        same_region=rule.same_region)
             if past.completed and past.day < day
             and (rule.within_days is None or past.day >= day - dt.timedelta(days=rule.within_days))),
            key=lambda past: past.day,
        )
        counted = [past for past in candidates
                   if not past.elsewhere or (rule.accepts_outside and past.documented)]
        qualifying = [past for past in counted
                      if rule.min_relief_percent is None
                      or (past.relief_percent is not None and past.relief_percent >= rule.min_relief_percent)]
        if len(qualifying) >= rule.count:
            return None
        each = "each " if rule.count > 1 else ""
        relief = f", {each}with at least {rule.min_relief_percent}% relief" if rule.min_relief_percent else ""
        window = f", within {rule.within_days} days" if rule.within_days else ""
        if counted:
            record = "; on record: " + ", ".join(
                f"{past.day.isoformat()}{past.where()} gave "
                + (f"{past.relief_percent}%" if past.relief_percent is not None else "no recorded relief")
                + (" (done elsewhere)" if past.elsewhere else "")
                for past in counted
            )
        else:
            record = "; none on record"
        not_counted = [past for past in candidates if past not in counted]
        if not_counted:
            record += "; not counted: " + ", ".join(_not_counted_words(past, rule) for past in not_counted)
        missing = rule.count - len(qualifying)
        return Unmet(
            f"Needs {rule.count} {rule.prerequisite_label}{where}{relief}{window} "
            f"({missing} more){record}.",
            rule.id,
        )

    if rule.kind == "min_interval":
        same = _matching(history, family=family, region=region, same_region=rule.same_region, side=side)
        before = [past for past in same if past.day <= day]
        after = [past for past in same if past.day > day]
        if before:
            last = max(before, key=lambda past: past.day)
            allowed = _after_interval(last.day, rule)
            if day < allowed:
                return Unmet(
                    f"At least {_interval_words(rule)} must pass after the last {family_label}{where} "
                    f"(on {last.day.isoformat()}{last.where()}): the earliest day is {allowed.isoformat()}.",
                    rule.id, earliest=allowed,
                )
        if after:
            following = min(past.day for past in after)
            if _after_interval(day, rule) > following:
                return Unmet(
                    f"Another {family_label}{where} is booked on {following.isoformat()}: they must be at least "
                    f"{_interval_words(rule)} apart.",
                    rule.id,
                )
        return None

    if rule.kind == "max_per_year":
        window_start = day - dt.timedelta(days=364)  # the 365 days that end on the procedure day
        in_window = sorted((past for past in _matching(history, family=family, region=region,
                                                       same_region=rule.same_region, side=side)
                            if window_start <= past.day <= day), key=lambda past: past.day)
        counted = [past.day for past in in_window]
        if len(counted) < rule.count:
            return None
        # Waiting helps once enough of them have left the window.
        drops_out = counted[len(counted) - rule.count] + dt.timedelta(days=365)
        outside = [past for past in in_window if past.elsewhere]
        elsewhere = (f", {len(outside)} of them done elsewhere ("
                     + ", ".join(f"{past.day.isoformat()}{past.where()}" for past in outside) + ")") if outside else ""
        return Unmet(
            f"At most {rule.count} {family_label} sessions{where} in 365 days; there are {len(counted)} "
            f"from {counted[0].isoformat()} to {counted[-1].isoformat()}{elsewhere}: the earliest day is "
            f"{drops_out.isoformat()}.",
            rule.id, earliest=drops_out,
        )

    if rule.kind == "repeat_relief":
        previous = [past for past in _matching(history, family=family, region=region, same_region=rule.same_region,
                                               side=side)
                    if past.day < day]
        if not previous:
            return None
        last = max(previous, key=lambda past: past.day)
        if not last.completed:
            return Unmet(
                f"A repeat {family_label}{where} needs the relief from the last one (on {last.day.isoformat()}), "
                "which has not happened yet.",
                rule.id,
            )
        if last.relief_percent is None:
            return Unmet(
                f"A repeat {family_label}{where} needs the relief from the last one (on {last.day.isoformat()}"
                f"{last.where()}) recorded first.",
                rule.id,
            )
        if last.relief_percent < (rule.min_relief_percent or 0):
            return Unmet(
                f"A repeat {family_label}{where} needs at least {rule.min_relief_percent}% relief from the last "
                f"one; the one on {last.day.isoformat()}{last.where()} gave {last.relief_percent}%.",
                rule.id,
            )
        return None

    raise ValueError(f"Unknown rule kind {rule.kind!r}")
