"""A visit's pain diary as the patient's page and the staff's panel show it (read only)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduling.diary.chart import Chart, relief_chart
from scheduling.diary.prompts import OPEN_FOR, Prompt, prompt_minutes, prompts
from scheduling.diary.summary import DiarySummary, relief_percent, summarise
from scheduling.models import Appointment, AppointmentStatus, Outcome, OutcomeSource, PainDiary, PainEntry


@dataclass(frozen=True)
class DiaryView:
    appointment: Appointment
    diary: PainDiary | None
    end: dt.datetime  # the procedure's end the prompts count from
    closes_at: dt.datetime
    prompts: list[Prompt]
    own_entries: list[PainEntry]  # recorded outside the prompts, in time order
    summary: DiarySummary
    chart: Chart | None
    reviewed: bool  # an outcome was confirmed from it
    not_open_yet: bool
    closed: bool  # closed by time, or the visit did not take place

    @property
    def open(self) -> bool:
        return not (self.not_open_yet or self.closed or self.reviewed)

    @property
    def due(self) -> Prompt | None:
        return next((prompt for prompt in self.prompts if prompt.state.value == "due"), None)

    @property
    def rows(self) -> list[dict]:
        """Each prompt with its answer and relief, then the patient's own entries."""
        baseline = self.summary.baseline

        def relief(entry):
            return relief_percent(baseline, entry.pain) if entry is not None else None

        return [{"at": prompt.at, "minutes": prompt.minutes, "state": prompt.state.value, "entry": prompt.entry,
                 "relief": relief(prompt.entry)} for prompt in self.prompts] + [
            {"at": entry.recorded_at, "minutes": None, "state": "own", "entry": entry, "relief": relief(entry)}
            for entry in self.own_entries]

    @property
    def next_prompt(self) -> Prompt | None:
        return next((prompt for prompt in self.prompts if prompt.state.value == "upcoming"), None)


def entry_minutes(entry: PainEntry, end: dt.datetime) -> int:
    """Where an entry sits on the diary's time line: its prompt's time, or (recorded outside
    the prompts) when it was recorded."""
    if entry.prompt_minutes is not None:
        return entry.prompt_minutes
    return max(0, int((entry.recorded_at - end).total_seconds() // 60))


def diary_view(appointment: Appointment, *, now: dt.datetime) -> DiaryView | None:
    """The visit's diary at `now`; None for a procedure without one."""
    minutes = prompt_minutes(appointment.procedure_type)
    diary = PainDiary.objects.filter(appointment=appointment).first()
    if not minutes and diary is None:
        return None
    end = diary.procedure_end if diary else appointment.procedure_end
    entries = list(diary.entries.order_by("recorded_at", "pk")) if diary else []
    answered = {entry.prompt_minutes: entry for entry in entries if entry.prompt_minutes is not None}
    summary = summarise(baseline=diary.baseline_pain if diary else None,
                        entries=[(entry_minutes(entry, end), entry.pain, entry.late) for entry in entries])
    outcome = Outcome.objects.filter(appointment=appointment).first()
    return DiaryView(
        appointment=appointment, diary=diary, end=end, closes_at=end + OPEN_FOR,
        prompts=prompts(minutes, end=end, answered=answered, now=now),
        own_entries=[entry for entry in entries if entry.prompt_minutes is None],
        summary=summary, chart=relief_chart(summary),
        reviewed=outcome is not None and outcome.source == OutcomeSource.PATIENT_DIARY,
        not_open_yet=now < end,
        closed=now >= end + OPEN_FOR or appointment.status in (AppointmentStatus.CANCELLED,
                                                               AppointmentStatus.NO_SHOW),
    )
