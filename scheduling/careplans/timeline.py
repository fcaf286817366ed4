"""The proposed timeline of a care plan: the earliest day each step could happen.

Pure: the plan's steps and their waits come in as plain data, and the caller answers two
questions from the database (scheduling/services/careplans.py):

- `free_days(step, first, last)`: the days in [first, last] on which the plan's physician has a
  free time for the step (the availability engine: blocks, time off, closures, rooms, recovery
  bays and the patient's own times), one search per step over its whole window;
- `refusal(step, day, placed)`: why the pathway rules refuse `day` for the step when the plan's
  earlier steps happened on the days placed (None when they allow it).

The walk goes step by step: a step's window is its waits (at least / at most N days) after the
day of the step before it; its day is the first day of that window that is free, that the rules
allow, and on which the patient has no other visit. Steps done or booked keep their own day and
anchor the steps after them. A gated step that has not yet passed its gate, and every step after
it, is tentative: it is planned as if the gate passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from enum import Enum

LOOKAHEAD_DAYS = 120  # how far ahead a timeline is planned


class State(Enum):
    OPEN = "open"  # planned or ready: to be placed
    FIXED = "fixed"  # booked or done: its day is known
    STOPPED = "stopped"  # stopped at its gate: the physician decides what comes next
    LEFT_OUT = "left_out"  # skipped or cancelled: no longer part of the chain


@dataclass(frozen=True)
class PlanStep:
    position: int
    label: str  # what the step is, for the notes ("Lumbar medial branch block (diagnostic)")
    booked_here: bool  # False: happens elsewhere, placed by its wait alone
    min_days_after: int = 0
    max_days_after: int | None = None
    gate_ahead: bool = False  # has a gate it has not yet passed
    state: State = State.OPEN
    fixed_day: dt.date | None = None  # FIXED: the day it happened or is booked for


@dataclass(frozen=True)
class Placed:
    step: PlanStep
    day: dt.date


@dataclass(frozen=True)
class Refusal:
    reason: str
    earliest: dt.date | None = None  # waiting until this day is all the rules ask, if known


@dataclass(frozen=True)
class Proposal:
    position: int
    day: dt.date | None  # None: no day could be proposed (see note)
    window_start: dt.date | None
    window_end: dt.date | None  # None: no limit
    tentative: bool
    note: str = ""  # why there is no day, in words for staff


FreeDays = Callable[[PlanStep, dt.date, dt.date], Collection[dt.date]]
RefusalCheck = Callable[[PlanStep, dt.date, Sequence[Placed]], Refusal | None]


def _day(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def propose(steps: Sequence[PlanStep], *, today: dt.date, physician: str, free_days: FreeDays,
            refusal: RefusalCheck, busy_days: Collection[dt.date] = frozenset(),
            lookahead_days: int = LOOKAHEAD_DAYS) -> list[Proposal]:
    """A proposal for each OPEN step (in the order given), walking the plan from `today`.

    `busy_days` are the local days the patient already has a visit on: no step is proposed on one.
    """
    horizon = today + dt.timedelta(days=lookahead_days)
    placed: list[Placed] = []
    previous: Placed | None = None
    waits_for = ""  # set when a step could not be placed: the steps after it wait for it
    tentative = False
    proposals: list[Proposal] = []
    for step in steps:
        if step.state is State.LEFT_OUT:
            continue
        if step.state is State.FIXED:
            previous = Placed(step, step.fixed_day)
            placed.append(previous)
            waits_for, tentative = "", False
            continue
        if step.state is State.STOPPED:
            waits_for = f"the physician's decision on step {step.position}, stopped at its gate"
            tentative = True
            continue
        tentative = tentative or step.gate_ahead
        if waits_for:  # not firm: it waits for a decision or for an earlier step that has no day
            proposals.append(Proposal(step.position, None, None, None, True, f"Waits for {waits_for}."))
            continue
        base = previous.day if previous else today
        window_start = base + dt.timedelta(days=step.min_days_after)
        window_end = base + dt.timedelta(days=step.max_days_after) if step.max_days_after is not None else None
        first = max(window_start, today)
        if not step.booked_here:
            day, note = first, ""
            if window_end is not None and first > window_end:
                day, note = None, f"Its window ended on {_day(window_end)}."
        else:
            day, note = _first_allowed(step, first=first, window_end=window_end, horizon=horizon, placed=placed,
                                       previous=previous, physician=physician, free_days=free_days,
                                       refusal=refusal, busy_days=busy_days, lookahead_days=lookahead_days)
        proposals.append(Proposal(step.position, day, window_start, window_end, tentative, note))
        if day is None:
            waits_for = f"step {step.position}, which has no day yet"
            continue
        previous = Placed(step, day)
        placed.append(previous)
    return proposals


def _first_allowed(step: PlanStep, *, first: dt.date, window_end: dt.date | None, horizon: dt.date,
                   placed: Sequence[Placed], previous: Placed | None, physician: str, free_days: FreeDays,
                   refusal: RefusalCheck, busy_days: Collection[dt.date],
                   lookahead_days: int) -> tuple[dt.date | None, str]:
    """The first day of the step's window that is free, allowed by the rules and not a day the
    patient has another visit; else None and why, in words."""
    last = min(window_end, horizon) if window_end is not None else horizon
    after = f" of step {previous.step.position} ({_day(previous.day)})" if previous else ""
    if window_end is not None:
        within = f"within {step.max_days_after} days{after}"
    else:
        within = f"in the {lookahead_days} days planned ahead"
    if first > last:
        if window_end is not None and window_end < first:
            return None, f"Its window{after} ended on {_day(window_end)}."
        return None, f"Its earliest day, {_day(first)}, is past the {lookahead_days} days planned ahead."
    free = sorted(day for day in free_days(step, first, last) if first <= day <= last)
    candidates = [day for day in free if day not in busy_days]
    if not candidates:
        if free:
            return None, (f"No free day for {physician} {within} on which the patient has no other visit "
                          f"({_day(first)} to {_day(last)}).")
        return None, f"No free day for {physician} {within} ({_day(first)} to {_day(last)})."
    last_refusal: Refusal | None = None
    for day in candidates:
        if last_refusal is not None and last_refusal.earliest is not None and day < last_refusal.earliest:
            continue
        last_refusal = refusal(step, day, placed)
        if last_refusal is None:
            return day, ""
    return None, f"No day {within} that the pathway rules allow: {last_refusal.reason}"
