"""When a visit's pain diary asks, and when its page is open.

The prompt times are ONE list per procedure type: its active pain-diary reminder steps, in
minutes after the procedure's end (a step timed from discharge counts the procedure type's
planned recovery on top). The same list times the reminders and the page's questions.

A prompt can be answered from EARLY before its time (a message can be read a little early);
an answer recorded more than LATE_AFTER after its time is marked late: the patient gave the
pain at that time from memory. The page opens at the procedure's end and closes OPEN_FOR later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from clinic.models import ProcedureType
from scheduling.models import Anchor, ReminderKind, ReminderStep

EARLY = dt.timedelta(minutes=10)
LATE_AFTER = dt.timedelta(minutes=30)
OPEN_FOR = dt.timedelta(hours=24)


def prompt_minutes(procedure_type: ProcedureType) -> list[int]:
    """The diary's prompt times, minutes after the procedure's end; empty: no diary."""
    minutes = set()
    for step in ReminderStep.objects.filter(procedure_type=procedure_type, kind=ReminderKind.PAIN_DIARY,
                                            is_active=True, anchor__in=[Anchor.AFTER_PROCEDURE_END,
                                                                        Anchor.AFTER_DISCHARGE]):
        extra = procedure_type.recovery_minutes if step.anchor == Anchor.AFTER_DISCHARGE else 0
        minutes.add(step.minutes + extra)
    return sorted(minutes)


def has_diary(procedure_type: ProcedureType) -> bool:
    return bool(prompt_minutes(procedure_type))


def is_late(prompt_at: dt.datetime, recorded_at: dt.datetime) -> bool:
    return recorded_at - prompt_at > LATE_AFTER


class PromptState(Enum):
    ANSWERED = "answered"
    DUE = "due"  # the latest prompt open now, not answered yet: "how is your pain now?"
    MISSED = "missed"  # an earlier one not answered: the patient can still add it, marked late
    UPCOMING = "upcoming"


@dataclass(frozen=True)
class Prompt:
    minutes: int
    at: dt.datetime
    state: PromptState
    entry: object | None = None  # the PainEntry answering it


def prompts(minutes: list[int], *, end: dt.datetime, answered: dict[int, object], now: dt.datetime) -> list[Prompt]:
    """Each prompt's time and state at `now`; `answered` maps prompt minutes to their entries."""
    opened = [m for m in minutes if end + dt.timedelta(minutes=m) - EARLY <= now]
    latest = opened[-1] if opened else None
    found = []
    for m in minutes:
        at = end + dt.timedelta(minutes=m)
        if m in answered:
            state = PromptState.ANSWERED
        elif m == latest:
            state = PromptState.DUE
        elif m in opened:
            state = PromptState.MISSED
        else:
            state = PromptState.UPCOMING
        found.append(Prompt(m, at, state, answered.get(m)))
    return found
