"""Each pathway rule at its boundaries, on plain data (scheduling/pathways/rules.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scheduling.pathways.rules import Eligibility, PastProcedure, Rule, Unmet, evaluate

D = dt.date
MBB, RFA, ESI = 1, 2, 3


def past(day: dt.date, type_id: int = ESI, family: str = "epidural", relief: int | None = 80, region: str = "lumbar",
         completed: bool = True) -> PastProcedure:
    return PastProcedure(appointment_id=hash((day, type_id)), procedure_type_id=type_id, family=family, region=region,
                         day=day, completed=completed, relief_percent=relief)


def check(rule: Rule, day: dt.date, history: list[PastProcedure], family: str = "epidural") -> Unmet | None:
    return evaluate(rule, day=day, family=family, family_label="epidural steroid injection", region="lumbar",
                    history=history)


TWO_BLOCKS_80 = Rule(id=1, kind="prerequisite", count=2, min_relief_percent=80, within_days=365,
                     prerequisite_type_ids=frozenset({MBB}), prerequisite_label="prior diagnostic blocks")


def block(day: dt.date, relief: int | None, region: str = "lumbar") -> PastProcedure:
    return past(day, MBB, "diagnostic_block", relief, region)


@pytest.mark.parametrize(("second_relief", "met"), [(79, False), (80, True)])
def test_two_blocks_need_80_percent_each(second_relief, met):
    history = [block(D(2026, 10, 2), 85), block(D(2026, 10, 20), second_relief)]
    unmet = check(TWO_BLOCKS_80, D(2026, 12, 1), history, family="rfa")
    assert (unmet is None) == met
    if not met:
        assert unmet.message == (
            "Needs 2 prior diagnostic blocks in the lumbar region, each with at least 80% relief, within 365 days "
            "(1 more); on record: 2026-10-02 gave 85%, 2026-10-20 gave 79%.")


def test_blocks_of_another_region_or_without_an_outcome_do_not_count():
    history = [block(D(2026, 10, 2), 90), block(D(2026, 10, 20), 90, region="cervical"), block(D(2026, 11, 2), None)]
    unmet = check(TWO_BLOCKS_80, D(2026, 12, 1), history, family="rfa")
    assert unmet is not None and "2026-11-02 gave no recorded relief" in unmet.message
    assert "cervical" not in unmet.message


def test_blocks_older_than_the_window_do_not_count():
    day = D(2026, 12, 1)
    history = [block(day - dt.timedelta(days=366), 90), block(D(2026, 10, 20), 90)]
    assert check(TWO_BLOCKS_80, day, history, family="rfa") is not None
    history[0] = block(day - dt.timedelta(days=365), 90)
    assert check(TWO_BLOCKS_80, day, history, family="rfa") is None


def test_none_on_record_says_so():
    assert check(TWO_BLOCKS_80, D(2026, 12, 1), [], family="rfa").message.endswith("(2 more); none on record.")


FOURTEEN_DAYS = Rule(id=2, kind="min_interval", min_interval_days=14)


@pytest.mark.parametrize(("days_after", "met"), [(13, False), (14, True)])
def test_epidurals_at_least_14_days_apart(days_after, met):
    last = D(2026, 11, 16)
    unmet = check(FOURTEEN_DAYS, last + dt.timedelta(days=days_after), [past(last)])
    assert (unmet is None) == met
    if not met:
        assert unmet.earliest == D(2026, 11, 30)
        assert "the earliest day is 2026-11-30" in unmet.message


def test_a_booking_too_close_before_a_booked_one_is_refused():
    unmet = check(FOURTEEN_DAYS, D(2026, 12, 1), [past(D(2026, 12, 10), completed=False, relief=None)])
    assert unmet is not None and unmet.earliest is None and "booked on 2026-12-10" in unmet.message


SIX_MONTHS = Rule(id=3, kind="min_interval", min_interval_months=6)


@pytest.mark.parametrize(("day", "met"), [(D(2026, 12, 1), False), (D(2026, 12, 2), True)])
def test_rfa_repeats_at_least_six_calendar_months_apart(day, met):
    assert (check(SIX_MONTHS, day, [past(D(2026, 6, 2), RFA, "rfa")], family="rfa") is None) == met


def test_six_months_from_the_end_of_a_month_lands_on_the_last_day():
    unmet = check(SIX_MONTHS, D(2026, 11, 29), [past(D(2026, 5, 31), RFA, "rfa")], family="rfa")
    assert unmet.earliest == D(2026, 11, 30)


FOUR_A_YEAR = Rule(id=4, kind="max_per_year", count=4)


def test_the_fifth_epidural_in_365_days_is_refused():
    history = [past(D(2026, 1, 5)), past(D(2026, 4, 6)), past(D(2026, 7, 6)), past(D(2026, 10, 5))]
    unmet = check(FOUR_A_YEAR, D(2026, 12, 7), history)
    assert unmet is not None
    assert unmet.earliest == D(2027, 1, 5)  # when the one of 2026-01-05 leaves the 365 days
    assert check(FOUR_A_YEAR, D(2027, 1, 5), history) is None
    assert check(FOUR_A_YEAR, D(2027, 1, 4), history) is not None


def test_four_in_a_year_are_allowed():
    history = [past(D(2026, 4, 6)), past(D(2026, 7, 6)), past(D(2026, 10, 5))]
    assert check(FOUR_A_YEAR, D(2026, 12, 7), history) is None


def test_the_yearly_limit_counts_per_region():
    history = [past(D(2026, 1, 5), region="cervical")] + [past(D(2026, m, 6)) for m in (4, 7, 10)]
    assert check(FOUR_A_YEAR, D(2026, 12, 7), history) is None


HALF_RELIEF = Rule(id=5, kind="repeat_relief", min_relief_percent=50)


@pytest.mark.parametrize(("relief", "met"), [(49, False), (50, True)])
def test_a_repeat_needs_half_relief_from_the_last_one(relief, met):
    unmet = check(HALF_RELIEF, D(2026, 12, 7), [past(D(2026, 6, 1), relief=90), past(D(2026, 10, 5), relief=relief)])
    assert (unmet is None) == met
    if not met:
        assert "the one on 2026-10-05 gave 49%" in unmet.message


def test_a_repeat_after_one_without_an_outcome_waits_for_it():
    unmet = check(HALF_RELIEF, D(2026, 12, 7), [past(D(2026, 10, 5), relief=None)])
    assert "recorded first" in unmet.message
    assert check(HALF_RELIEF, D(2026, 12, 7), []) is None  # a first one is no repeat


def test_eligibility_knows_when_waiting_is_enough():
    waiting = Eligibility([Unmet("a", earliest=D(2026, 12, 1)), Unmet("b", earliest=D(2026, 12, 9))])
    assert waiting.earliest == D(2026, 12, 9)
    assert Eligibility([Unmet("a", earliest=D(2026, 12, 1)), Unmet("c")]).earliest is None
    assert Eligibility().eligible


# ---- Procedures done elsewhere ---------------------------------------------------------------

def outside(day: dt.date, type_id: int = ESI, family: str = "epidural", relief: int | None = 80,
            documented: bool = True, region: str = "lumbar") -> PastProcedure:
    return PastProcedure(procedure_type_id=type_id, family=family, region=region, day=day, completed=True,
                         relief_percent=relief, name="Outside procedure", elsewhere="Tulsa Spine Center",
                         documented=documented)


def test_a_yearly_limit_counts_one_done_elsewhere_and_names_it():
    history = [past(D(2026, 1, 5)), past(D(2026, 4, 6)), past(D(2026, 7, 6)), outside(D(2026, 10, 5))]
    unmet = check(FOUR_A_YEAR, D(2026, 12, 7), history)
    assert unmet is not None and unmet.earliest == D(2027, 1, 5)
    assert "there are 4 from 2026-01-05 to 2026-10-05, 1 of them done elsewhere (2026-10-05 at Tulsa Spine Center)" in (
        unmet.message)


def test_a_minimum_interval_counts_one_done_elsewhere():
    unmet = check(FOURTEEN_DAYS, D(2026, 11, 29), [outside(D(2026, 11, 16))])
    assert unmet.earliest == D(2026, 11, 30) and "(on 2026-11-16 at Tulsa Spine Center)" in unmet.message


BLOCKS_ELSEWHERE_OK = Rule(id=6, kind="prerequisite", count=2, min_relief_percent=80, within_days=365,
                           prerequisite_type_ids=frozenset({MBB}), prerequisite_label="prior diagnostic blocks",
                           accepts_outside=True)


@pytest.mark.parametrize(("rule", "documented", "met"), [
    (BLOCKS_ELSEWHERE_OK, True, True), (BLOCKS_ELSEWHERE_OK, False, False), (TWO_BLOCKS_80, True, False)])
def test_prior_blocks_count_one_done_elsewhere_only_where_accepted_and_documented(rule, documented, met):
    history = [block(D(2026, 10, 2), 85), outside(D(2026, 10, 20), MBB, "diagnostic_block", 90, documented)]
    unmet = check(rule, D(2026, 12, 1), history, family="rfa")
    assert (unmet is None) == met
    if not met:
        reason = ("is not documented" if rule.accepts_outside
                  else "does not count: this rule does not accept procedures done elsewhere")
        assert f"not counted: Outside procedure at Tulsa Spine Center on 2026-10-20 {reason}" in unmet.message


SAME_SITE_6_MONTHS = Rule(id=9, kind="min_interval", min_interval_months=6, same_side=True)


@pytest.mark.parametrize(("before", "now", "met"), [
    ("left", "right", True),  # the other side two weeks later is not a repeat
    ("left", "left", False),
    ("bilateral", "right", False),  # both sides were done
    ("", "right", False),  # the side was not recorded: it may have been this one
    ("right", "", False),  # the new order says no side: it may be the same one
])
def test_same_side_only_counts_procedures_that_can_be_at_the_same_site(before, now, met):
    ablation = dataclasses.replace(past(D(2026, 12, 1), RFA, "rfa"), laterality=before)
    unmet = evaluate(SAME_SITE_6_MONTHS, day=D(2026, 12, 15), family="rfa", family_label="radiofrequency ablation",
                     region="lumbar", history=[ablation], laterality=now)
    assert (unmet is None) == met
    if not met and now:
        assert f"in the lumbar region on the {now} side" in unmet.message


def test_without_same_side_a_left_and_a_right_count_together():
    ablation = dataclasses.replace(past(D(2026, 12, 1), RFA, "rfa"), laterality="left")
    rule = dataclasses.replace(SAME_SITE_6_MONTHS, same_side=False)
    assert evaluate(rule, day=D(2026, 12, 15), family="rfa", family_label="radiofrequency ablation",
                    region="lumbar", history=[ablation], laterality="right") is not None
