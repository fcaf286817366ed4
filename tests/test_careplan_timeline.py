"""The proposed timeline of a care plan (scheduling/careplans/timeline.py and the plan's reads in
planning.py): no proposed day breaks a wait, a pathway rule, the physician's availability, or
falls on a day the patient has another visit. Properties over random waits and calendars."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.models import Closure, ProcedureType, TimeOff
from scheduling import services
from scheduling.careplans.timeline import PlanStep, Refusal, State, propose
from scheduling.models import ACTIVE_STATUSES, Appointment, Gate, RuleKind, StepStatus
from scheduling.pathways.eligibility import check_eligibility, patient_history
from scheduling.pathways.rules import PastProcedure
from scheduling.selectors import available_slots
from scheduling.services.careplans import plan_create
from tests.conftest import NOW, local

TODAY = dt.date(2026, 11, 24)


# The pure walk ----------------------------------------------------------------------------------

waits = st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 40))).map(
    lambda pair: (pair[0], None if pair[1] is None else pair[0] + pair[1]))
pure_steps = st.lists(st.tuples(waits, st.booleans(), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(steps=pure_steps, free=st.sets(st.integers(0, 200), max_size=120), busy=st.sets(st.integers(0, 200)),
       spacing=st.integers(0, 20))
def test_every_proposed_day_keeps_its_wait_is_free_is_no_visit_day_and_keeps_the_rule(steps, free, busy, spacing):
    """A toy rule stands in for the pathway rules: steps booked here at least `spacing` days apart."""
    free_days = {TODAY + dt.timedelta(days=offset) for offset in free}
    busy_days = {TODAY + dt.timedelta(days=offset) for offset in busy}
    plan = [PlanStep(position=index, label=f"step {index}", booked_here=here, min_days_after=low,
                     max_days_after=high, gate_ahead=gated)
            for index, ((low, high), here, gated) in enumerate(steps, start=1)]

    def refusal(step, day, placed):
        for earlier in placed:
            if earlier.step.booked_here and (day - earlier.day).days < spacing:
                return Refusal("too soon", earliest=earlier.day + dt.timedelta(days=spacing))
        return None

    proposals = propose(plan, today=TODAY, physician="Dr. Test", busy_days=busy_days, refusal=refusal,
                        free_days=lambda step, first, last: {day for day in free_days if first <= day <= last})
    assert [proposal.position for proposal in proposals] == [step.position for step in plan]
    previous_day, placed_here, tentative = TODAY, [], False
    for step, proposal in zip(plan, proposals):
        tentative = tentative or step.gate_ahead
        assert proposal.tentative == tentative
        if proposal.day is None:
            assert proposal.note  # said in words
            assert all(later.day is None and later.tentative for later in proposals[step.position:])
            break
        assert previous_day + dt.timedelta(days=step.min_days_after) <= proposal.day
        if step.max_days_after is not None:
            assert proposal.day <= previous_day + dt.timedelta(days=step.max_days_after)
            assert proposal.window_end == previous_day + dt.timedelta(days=step.max_days_after)
        if step.booked_here:
            assert proposal.day in free_days and proposal.day not in busy_days
            assert all((proposal.day - day).days >= spacing for day in placed_here)
            # The earliest such day: no earlier day of the window was free, allowed and visit-free.
            for earlier in range((proposal.day - max(proposal.window_start, TODAY)).days):
                day = max(proposal.window_start, TODAY) + dt.timedelta(days=earlier)
                assert (day not in free_days or day in busy_days
                        or any((day - placed).days < spacing for placed in placed_here))
            placed_here.append(proposal.day)
        else:
            assert proposal.day == max(proposal.window_start, TODAY)  # the wait alone
        previous_day = proposal.day


def test_a_step_with_no_free_day_in_its_window_is_flagged_in_words_and_the_rest_wait():
    plan = [PlanStep(1, "block", True), PlanStep(2, "block", True, min_days_after=7, max_days_after=21,
                                                  gate_ahead=True), PlanStep(3, "ablation", True)]
    proposals = propose(plan, today=TODAY, physician="Dr. Maya Okafor", refusal=lambda *args: None,
                        free_days=lambda step, first, last: {TODAY} if step.position == 1 else set())
    assert proposals[0].day == TODAY and not proposals[0].tentative
    assert proposals[1].day is None and proposals[1].tentative
    assert proposals[1].note == ("No free day for Dr. Maya Okafor within 21 days of step 1 (Tue 24 Nov 2026) "
                                 "(Tue 1 Dec 2026 to Tue 15 Dec 2026).")
    assert proposals[2].day is None and proposals[2].note == "Waits for step 2, which has no day yet."


def test_a_step_after_one_with_no_day_is_not_firm():
    plan = [PlanStep(1, "block", True, max_days_after=0), PlanStep(2, "block", True, min_days_after=7)]
    proposals = propose(plan, today=TODAY, physician="Dr. Maya Okafor", refusal=lambda *args: None,
                        free_days=lambda step, first, last: set())
    assert proposals[0].day is None and proposals[0].note.startswith("No free day for Dr. Maya Okafor")
    assert proposals[1].day is None and proposals[1].tentative  # no gate ahead, yet nothing is firm after it


def test_booked_and_done_steps_anchor_the_next_and_skipped_ones_drop_out():
    plan = [PlanStep(1, "block", True, state=State.FIXED, fixed_day=dt.date(2026, 12, 2)),
            PlanStep(2, "block", True, min_days_after=5, state=State.LEFT_OUT),
            PlanStep(3, "ablation", True, min_days_after=14, gate_ahead=True)]
    proposals = propose(plan, today=TODAY, physician="Dr. X", refusal=lambda *args: None,
                        free_days=lambda step, first, last: {first, last})
    assert [(p.position, p.day, p.tentative) for p in proposals] == [(3, dt.date(2026, 12, 16), True)]


# Against the database: the real engine, rules and calendar -----------------------------------------

CODES = ["ESI_IL", "MBB_LUMBAR", "RFA_LUMBAR", "FOLLOW_UP"]
db_steps = st.lists(st.tuples(st.sampled_from(CODES), waits, st.booleans()), min_size=1, max_size=4)
offsets = st.sets(st.integers(1, 70), max_size=25)


def _expected_history(patient, plan_steps, relief_gated: set[int]) -> list[PastProcedure]:
    """The oracle's own simulated history: the patient's visits, and the plan's steps before the one
    checked done on their proposed days, with full relief where a relief gate follows them."""
    history = patient_history(patient)
    for step in plan_steps:
        history.append(PastProcedure(appointment_id=0, procedure_type_id=step.procedure_type_id,
                                     family=step.procedure_type.family, region=step.region,
                                     day=step.proposed_date, completed=True,
                                     relief_percent=100 if step.position in relief_gated else None))
    return history


@pytest.mark.django_db
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=db_steps, time_off=offsets, closed=st.sets(st.integers(1, 70), max_size=4), visits=offsets,
       payer=st.integers(0, 2))
def test_no_proposed_day_breaks_a_wait_a_rule_the_physicians_calendar_or_the_patients_other_visits(
        calendar, front_desk, steps, time_off, closed, visits, payer):
    with transaction.atomic():
        _check_random_plan(calendar, front_desk, steps, time_off, closed, visits, payer)
        transaction.set_rollback(True)


def _check_random_plan(calendar, front_desk, steps, time_off, closed, visits, payer):
    location, okafor = calendar.location, calendar.okafor
    patient = calendar.patients[payer]  # Medicare, a commercial payer, self-pay
    for offset in time_off:  # the physician's blocks removed on random days
        day = TODAY + dt.timedelta(days=offset)
        TimeOff.objects.create(physician=okafor, starts_at=local(day, 0), ends_at=local(day + dt.timedelta(days=1), 0))
    for offset in closed:
        day = TODAY + dt.timedelta(days=offset)
        Closure.objects.create(location=location, first_day=day, last_day=day, reason="Test closure")
    for offset in visits:  # the patient's other visits: consultations with Dr. Reyes or Dr. Nair
        day = TODAY + dt.timedelta(days=offset)
        for physician in (calendar.reyes, calendar.nair):
            slots = available_slots(procedure_type=calendar.consult, location=location, first_day=day, last_day=day,
                                    now=NOW, physician=physician, patient=patient, limit=1)
            if slots:
                services.appointment_book(patient=patient, procedure_type=calendar.consult, physician=physician,
                                          start=slots[0].start, by=front_desk)
                break
    types = {code: ProcedureType.objects.get(code=code) for code in CODES}
    plan = plan_create(patient=patient, physician=okafor, by=front_desk, now=NOW, steps=[
        {"procedure_type": types[code], "region": "lumbar", "min_days_after": low, "max_days_after": high,
         "gate": Gate.RELIEF if gated and index else Gate.NONE}
        for index, (code, (low, high), gated) in enumerate(steps)])
    plan_steps = list(plan.steps.select_related("procedure_type", "order").order_by("position"))
    relief_gated = {earlier.position for earlier, later in zip(plan_steps, plan_steps[1:]) if later.gate == Gate.RELIEF}
    visit_days = {visit.procedure_start.astimezone(location.zone).date()
                  for visit in Appointment.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)}
    previous_day, tentative = TODAY, False
    for index, step in enumerate(plan_steps):
        assert step.status == (StepStatus.READY if index == 0 else StepStatus.PLANNED)
        tentative = tentative or (step.gate != Gate.NONE and step.status == StepStatus.PLANNED)
        assert step.tentative == tentative
        day = step.proposed_date
        if day is None:
            assert step.planning_note
            assert all(later.proposed_date is None and later.tentative for later in plan_steps[index + 1:])
            break
        # The wait.
        assert previous_day + dt.timedelta(days=step.min_days_after) <= day
        if step.max_days_after is not None:
            assert day <= previous_day + dt.timedelta(days=step.max_days_after)
        # The physician's calendar: a free time that day (blocks, time off, closures, rooms).
        assert available_slots(procedure_type=step.procedure_type, location=location, first_day=day, last_day=day,
                               now=NOW, physician=okafor, patient=patient, beyond_horizon=True), day
        # The patient's other visits.
        assert day not in visit_days
        # The pathway rules, with the earlier steps done on their days.
        eligibility = check_eligibility(patient=patient, procedure_type=step.procedure_type, order=step.order,
                                        day=day, history=_expected_history(patient, plan_steps[:index], relief_gated))
        assert not [item.message for item in eligibility.unmet if item.kind in RuleKind.values], (
            day, eligibility.explain())
        previous_day = day
