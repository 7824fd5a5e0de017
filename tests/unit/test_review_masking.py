"""What leaves the forum (domain.review.masked): every breakdown masked against the total
printed beside it, and one Figure per total wherever it is printed. Pure: exact figures in,
masked figures out, as the PDF, the xlsx, the channel summary, the steering roll-up and
the annual report all print them."""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from domain import criteria, feedback
from domain import small_numbers as sn
from domain.periods import halves_of
from domain.review import ReviewData, masked
from domain.statistics import Period
from tests.unit.test_small_numbers import disclosed


def _data(**changes: object) -> ReviewData:
    base = ReviewData(
        forum_id=1,
        forum_name="FOSSAM",
        forum_code="FOS",
        period=Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        cases_total=20,
        by_concern={"school_absence": 10, "mental_health": 10},
        by_agency={"Elevhälsa": 10, "Socialtjänst": 10},
        by_age={"13-15": 20},
        sip_started=10,
        sip_needed=0,
        cases_closed=10,
        outcomes={"yes": 5, "partly": 5, "no": 0},
        actions_started=10,
        actions_done=10,
        actions_on_time=10,
        actions_overdue=0,
        effects={"yes": 5, "partly": 5, "no": 0},
        deviations={},
        feedback=feedback.FeedbackResults(
            surveys_sent=10,
            surveys_answered=10,
            sums=dict.fromkeys(feedback.QUESTIONS, 40),
            distributions={k: {} for k in feedback.QUESTIONS},
            family_views=0,
            family={k: dict.fromkeys(feedback.ANSWERS, 0) for k in feedback.FAMILY_QUESTIONS},
        ),
        criteria=criteria.CriteriaStats(cases=20, cases_with_any=0, rows=()),
        meetings_held=10,
        attendance={"Elevhälsa": 10, "Socialtjänst": 10},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_a_concern_is_masked_against_the_cases_raised() -> None:
    """One concern per case: 7 cases, 5 school absence and 2 mental ill-health. Printed as
    7, 5 and "fewer than 5" the 2 was 7 − 5."""
    fig = masked(
        _data(
            cases_total=7,
            by_concern={"school_absence": 5, "mental_health": 2},
            by_agency={"Elevhälsa": 7},
            by_age={"13-15": 7},
            sip_started=7,
            criteria=criteria.CriteriaStats(cases=7, cases_with_any=0, rows=()),
        )
    )
    assert fig.cases_total.value == 7
    assert fig.by_concern["school_absence"].hidden and fig.by_concern["mental_health"].hidden


def test_criteria_met_and_attendance_are_masked_against_their_totals() -> None:
    """Criteria met per case (headed by the cases raised) and meetings attended per agency
    (headed by the meetings held) are multi-select breakdowns: with one criterion per case
    and one agency per meeting, total − shown gave the hidden one."""
    rows = (
        criteria.CriterionCount("Skolfrånvaro över 20 %", 18, True),
        criteria.CriterionCount("Oro från vårdnadshavare", 2, True),
    )
    fig = masked(
        _data(
            criteria=criteria.CriteriaStats(cases=20, cases_with_any=20, rows=rows),
            meetings_held=8,
            attendance={"Elevhälsa": 6, "Socialtjänst": 2},
        )
    )
    assert fig.criteria_cases == fig.cases_total == sn.Figure(20)
    assert all(f.hidden for _text, f in fig.criteria)
    assert fig.meetings_held.value == 8
    assert fig.attendance["Elevhälsa"].hidden and fig.attendance["Socialtjänst"].hidden


def test_what_is_left_of_a_part_is_not_worked_out() -> None:
    """SIP started in 8 of 10 cases (2 without), 8 of 10 actions done on time (2 late), 8 of
    10 surveys answered (2 not): the shares were withheld, the counts beside them gave the
    2 all the same. The part is hidden; so are the shares."""
    fig = masked(
        _data(
            cases_total=10,
            by_concern={"school_absence": 10},
            by_agency={"Elevhälsa": 10},
            by_age={"13-15": 10},
            sip_started=8,
            actions_on_time=8,
            effects={"yes": 5, "partly": 5, "no": 0},
            feedback=dataclasses.replace(_data().feedback, surveys_answered=8),
            criteria=criteria.CriteriaStats(cases=10, cases_with_any=0, rows=()),
        )
    )
    assert fig.cases_total.value == 10 and fig.sip_started.hidden and fig.sip_share is None
    assert fig.actions_done.value == 10 and fig.actions_on_time.hidden
    assert fig.on_time_share is None
    assert fig.surveys_sent.value == 10 and fig.surveys_answered.hidden


def test_done_after_a_new_due_date_is_masked_as_a_part_of_the_actions_done() -> None:
    """12 actions done: 7 by the first agreed due date, 3 only by a new one, 2 late for
    every date. The 3 is fewer than 5 and hidden like any count of 1–4; 20 done with 10 on
    time and 5 after a new date (5 late) are shown."""
    fig = masked(
        _data(
            actions_done=12,
            actions_on_time=7,
            actions_after_new_date=3,
            effects={"yes": 6, "partly": 6, "no": 0},
        )
    )
    assert fig.actions_done.value == 12
    assert fig.actions_after_new_date.hidden
    shown = masked(
        _data(
            actions_done=20,
            actions_on_time=10,
            actions_after_new_date=5,
            effects={"yes": 10, "partly": 10, "no": 0},
        )
    )
    assert shown.actions_after_new_date == sn.Figure(5)
    assert shown.actions_on_time == sn.Figure(10)


def test_a_total_is_hidden_everywhere_it_is_printed_when_its_cells_give_it_away() -> None:
    """Five agencies with one case each beside "5 cases raised": every agency is 1 even with
    all hidden. The cases raised are hidden, in the criteria table too, and so is the SIP
    share of them."""
    fig = masked(
        _data(
            cases_total=5,
            by_concern={"school_absence": 5},
            by_agency={name: 1 for name in "ABCDE"},
            by_age={"13-15": 5},
            sip_started=5,
            criteria=criteria.CriteriaStats(cases=5, cases_with_any=0, rows=()),
        )
    )
    assert fig.cases_total.hidden and fig.criteria_cases.hidden
    assert fig.sip_share is None


def test_a_year_keeps_hidden_what_its_half_years_hid() -> None:
    """Cases closed: 7 in the first half (shown), 3 in the second ("fewer than 5"); the
    year's 10 gave the 3 back. Hidden in a half, hidden in the year: the total and the
    breakdown's cells."""
    first = masked(_data(cases_closed=7, outcomes={"yes": 5, "partly": 2, "no": 0}))
    second = masked(_data(cases_closed=3, outcomes={"yes": 0, "partly": 3, "no": 0}))
    year = masked(_data(cases_closed=10, outcomes={"yes": 5, "partly": 5, "no": 0}))
    assert year.cases_closed.value == 10 and year.outcomes["partly"].value == 5
    year = masked(
        _data(cases_closed=10, outcomes={"yes": 5, "partly": 5, "no": 0}), [first, second]
    )
    assert year.cases_closed.hidden and year.outcomes["partly"].hidden


def test_a_year_is_made_of_the_review_halves_only_when_they_tile_it() -> None:
    year = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    assert halves_of(year) == [
        Period(dt.date(2026, 1, 1), dt.date(2026, 6, 30)),
        Period(dt.date(2026, 7, 1), dt.date(2026, 12, 31)),
    ]
    assert halves_of(year, end_month=3) == []  # April–September and October–March
    assert halves_of(Period(dt.date(2026, 1, 1), dt.date(2026, 11, 23))) == []
    assert halves_of(Period(dt.date(2025, 10, 1), dt.date(2026, 9, 30)), end_month=3) == [
        Period(dt.date(2025, 10, 1), dt.date(2026, 3, 31)),
        Period(dt.date(2026, 4, 1), dt.date(2026, 9, 30)),
    ]


def test_an_average_does_not_name_its_count() -> None:
    """The xlsx printed the average unrounded: 29/7 = 4.142857… names its 7 answers even
    where the count is hidden (7 of 10 sent: 3 unanswered). It leaves to one decimal, as
    the PDF prints it, and not at all beside a hidden count."""
    fb = _data().feedback
    seven = dataclasses.replace(
        fb, surveys_sent=7, surveys_answered=7, sums=dict.fromkeys(feedback.QUESTIONS, 29)
    )
    assert masked(_data(feedback=seven)).feedback_means["helped"] == 4.1
    hidden = masked(_data(feedback=dataclasses.replace(seven, surveys_sent=10)))
    assert hidden.surveys_answered.hidden and hidden.feedback_means["helped"] is None


@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.lists(st.integers(0, 12), min_size=1, max_size=4),
    st.data(),
)
def test_no_hidden_count_beside_the_cases_raised_is_determined(
    agencies: list[int], extra_concerns: list[int], data: st.DataObject
) -> None:
    """For any cases per agency, age band (some without one), concern (one or more per
    case) and SIP started, the review as masked: no 1–4 count (nor what is left of the
    cases raised) is pinned by the shown cells and the cases raised as printed."""
    total = sum(agencies)
    if total == 0:
        return
    by_age = {"0-5": data.draw(st.integers(0, total))}
    by_age["6-12"] = data.draw(st.integers(0, total - by_age["0-5"]))
    concerns = [min(total, n) for n in extra_concerns]
    concerns[0] = max(concerns[0], total - sum(concerns[1:]))  # every case has one or more
    sip = data.draw(st.integers(0, total))
    fig = masked(
        _data(
            cases_total=total,
            by_agency={f"agency{i}": n for i, n in enumerate(agencies) if n},
            by_age={k: n for k, n in by_age.items() if n},
            by_concern={f"concern{i}": n for i, n in enumerate(concerns) if n},
            sip_started=sip,
            criteria=criteria.CriteriaStats(cases=total, cases_with_any=0, rows=()),
        )
    )
    exact = {
        "agency": ({f"agency{i}": n for i, n in enumerate(agencies) if n}, fig.by_agency, False),
        "age": ({k: n for k, n in by_age.items() if n}, fig.by_age, False),
        "concern": (
            {f"concern{i}": n for i, n in enumerate(concerns) if n},
            fig.by_concern,
            True,
        ),
        "sip": ({"sip": sip}, {"sip": fig.sip_started}, False),
    }
    for name, (counts, figures, multi) in exact.items():
        found = disclosed(
            counts, figures, fig.cases_total, total=total, multi=multi, label=True
        ) + disclosed(counts, figures, fig.cases_total, total=total, multi=multi, label=False)
        residual = sn.hides(total)  # sn's docstring: a total of 1–4 beside as many cells
        assert not found or residual, (name, counts, figures, fig.cases_total)
    if fig.sip_share is not None:
        assert not fig.sip_started.hidden and not fig.cases_total.hidden


def test_deviations_followed_up_and_open_are_masked_against_those_reported() -> None:
    """Of 12 deviations reported, 10 followed up and 2 open: "open: fewer than 5" beside
    "12" and "10" gives the 2 back, so the followed-up figure is hidden too; 5 and 7 show."""
    fig = masked(_data(deviations={"information": 6, "routine": 6}, deviations_followed_up=10))
    assert fig.deviations_open.hidden and fig.deviations_followed_up.hidden
    assert fig.deviations_total.value == 12
    fig = masked(_data(deviations={"information": 6, "routine": 6}, deviations_followed_up=5))
    assert (fig.deviations_followed_up.value, fig.deviations_open.value) == (5, 7)
    fig = masked(_data(deviations={"information": 3}, deviations_followed_up=3))
    assert fig.deviations_total.hidden and fig.deviations_followed_up.hidden
