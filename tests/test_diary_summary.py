"""The pain diary's summary: peak relief, how long relief stayed at or above 50% and 80%, and
the outcome proposed from it (pure functions, no database)."""

from __future__ import annotations

from scheduling.diary.chart import relief_chart
from scheduling.diary.summary import hours_at_or_above, relief_percent, summarise


def test_relief_is_the_fall_in_pain_as_a_share_of_the_pain_before():
    assert relief_percent(8, 2) == 75
    assert relief_percent(8, 8) == 0
    assert relief_percent(6, 9) == 0  # worse than before: no relief, not negative relief
    assert relief_percent(None, 3) is None and relief_percent(0, 0) is None


def test_durations_count_from_the_procedures_end_to_the_last_entry_still_above():
    summary = summarise(baseline=10, entries=[(30, 1, False), (60, 1, False), (120, 2, False), (180, 4, False),
                                              (240, 7, False), (300, 2, False)])
    assert summary.peak_relief == 90
    assert summary.hours_at_80 == 2  # 80% at 2 h, 60% at 3 h
    assert summary.hours_at_50 == 3  # 60% at 3 h, 30% at 4 h; the 80% at 5 h does not join the run
    proposal = summary.proposal
    assert (proposal.pain_before, proposal.pain_after, proposal.relief_percent,
            proposal.relief_duration_hours) == (10, 1, 90, 3)
    assert "peak relief 90%" in proposal.notes and "at least 80% for 2 h" in proposal.notes


def test_entries_are_taken_in_time_order_whatever_order_they_come_in():
    in_order = summarise(baseline=8, entries=[(30, 0, False), (60, 1, False), (120, 6, False)])
    shuffled = summarise(baseline=8, entries=[(120, 6, False), (30, 0, False), (60, 1, False)])
    assert in_order == shuffled
    assert in_order.hours_at_80 == 1 and in_order.hours_at_50 == 1


def test_a_first_entry_below_the_threshold_gives_no_time_above_it():
    summary = summarise(baseline=8, entries=[(30, 5, False), (60, 1, False)])
    assert summary.hours_at_50 == 0 and summary.hours_at_80 == 0
    assert summary.peak_relief == 88  # the peak still counts
    assert summary.proposal.relief_duration_hours == 0


def test_one_entry_is_enough_for_a_proposal():
    summary = summarise(baseline=7, entries=[(30, 1, True)])
    assert summary.peak_relief == 86 and summary.hours_at_50 == 0.5 and summary.hours_at_80 == 0.5
    assert summary.proposal.relief_percent == 86 and summary.proposal.relief_duration_hours == 0
    assert summary.late_count == 1 and "1 late" in summary.proposal.notes


def test_without_a_baseline_nothing_is_proposed():
    summary = summarise(baseline=None, entries=[(30, 1, False)])
    assert summary.proposal is None and summary.peak_relief is None
    assert "before the procedure is not recorded" in summary.why_no_proposal
    assert relief_chart(summary) is None


def test_a_baseline_of_zero_cannot_measure_relief():
    summary = summarise(baseline=0, entries=[(30, 0, False), (60, 0, False)])
    assert summary.proposal is None and summary.peak_relief is None
    assert "no pain before the procedure" in summary.why_no_proposal
    assert relief_chart(summary) is None


def test_a_baseline_without_entries_proposes_nothing_yet():
    summary = summarise(baseline=6, entries=[])
    assert summary.proposal is None and "no pain scores" in summary.why_no_proposal


def test_hours_at_or_above_stops_at_the_first_entry_without_relief():
    points = summarise(baseline=10, entries=[(60, 0, False), (120, 5, False)]).points
    assert hours_at_or_above(points, 50) == 2
    assert hours_at_or_above(points, 80) == 1


def test_the_chart_spans_six_hours_at_least_and_puts_full_relief_at_the_top():
    chart = relief_chart(summarise(baseline=10, entries=[(30, 0, False), (360, 10, True)]))
    first, last = chart.points
    assert first.y == chart.top and last.y == chart.bottom  # 100% at the top, 0% at the bottom
    assert last.x == chart.right and last.late
    assert [hour for _x, hour in chart.hours] == [0, 1, 2, 3, 4, 5, 6]
    longer = relief_chart(summarise(baseline=10, entries=[(600, 2, False)]))
    assert longer.points[0].x == longer.right and longer.hours[-1][1] == 10


def test_part_hours_read_as_hours_and_minutes():
    from scheduling.diary.summary import _hours_h

    assert (_hours_h(0.57), _hours_h(2), _hours_h(2.25)) == ("0 h 34 min", "2 h", "2 h 15 min")
