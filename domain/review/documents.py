"""The review as documents: PDF and docx sections, the xlsx workbook, the files sent."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from domain import feedback
from domain import small_numbers as sn
from domain.cases import CONCERNS, DEVIATION_KINDS
from domain.documents import Document, Heading, Paragraph, Picture, Table
from domain.i18n import Translator
from domain.ratings import LEVELS, level_label
from domain.review.figures import AreaTrend, not_compared
from domain.review.masking import ReviewFigures
from domain.statistics import ON_TIME_MEANS

# --- documents ------------------------------------------------------------------------------


def _effect_label(t: Translator, key: str) -> str:
    return {"yes": t("Yes"), "partly": t("Partly"), "no": t("No")}.get(key, key)


def _rows(
    t: Translator, figures: Mapping[str, sn.Figure], label: Callable[[str], str]
) -> tuple[tuple[str, ...], ...]:
    return tuple((label(key), f.text(t)) for key, f in figures.items())


def level_names(t: Translator) -> list[str]:
    return [level_label(t, n) for n in sorted(LEVELS)]


def document(t: Translator, fig: ReviewFigures, *, title: str | None = None) -> Document:
    period = f"{t.day(fig.period.start)} – {t.day(fig.period.end)}"
    doc = Document(
        title=title or t("Half-year review: {forum}", forum=fig.forum_name),
        subtitle=t(
            "{period} · counts under 5 are shown as \u201cfewer than 5\u201d", period=period
        ),
        page_label=t("Page {page} of {pages}"),
    )
    add_sections(t, doc, fig)
    return doc


def add_sections(t: Translator, doc: Document, fig: ReviewFigures, *, level: int = 1) -> None:
    from domain.report_charts import bars_png, trend_png

    hidden = t(sn.FEWER_THAN)
    two = (t("What"), t("Number"))
    doc.add(Heading(t("Situation picture: trend per area"), level))
    if fig.trends:
        series = [(a.name, [(d.strftime("%d/%m"), v) for d, v in a.points]) for a in fig.trends]
        doc.add(
            Picture(
                trend_png(
                    t("Median level per area and meeting"), series, level_names=level_names(t)
                )
            )
        )
        doc.add(
            Table(
                (t("Area"), t("First"), t("Last"), t("Trend")),
                tuple(_trend_row(t, a) for a in fig.trends),
                (3, 1, 1, 1),
            )
        )
        note = trend_note(t, fig.trends)
        if note:
            doc.add(Paragraph(note, italic=True))
    else:
        doc.add(Paragraph(t("No situation picture was rated in the period."), italic=True))
    doc.add(Heading(t("Actions"), level))
    doc.add(
        Table(
            two,
            (
                (t("Started"), fig.actions_started.text(t)),
                (t("Done"), fig.actions_done.text(t)),
                (t("Done on time"), _with_share(t, fig.actions_on_time, fig.on_time_share)),
                (t("Done after a new due date"), fig.actions_after_new_date.text(t)),
                (t("Open and overdue at the end of the period"), fig.actions_overdue.text(t)),
                *(
                    (t("Effect: {effect}", effect=_effect_label(t, k)), f.text(t))
                    for k, f in fig.effects.items()
                ),
            ),
            (3, 1),
        )
    )
    doc.add(Paragraph(t(ON_TIME_MEANS), italic=True))
    doc.add(Heading(t("Cases"), level))
    doc.add(
        Table(
            two,
            (
                (t("Cases raised"), fig.cases_total.text(t)),
                (t("Cases discussed at the forum's meetings"), fig.cases_discussed.text(t)),
                (t("SIP started"), _with_share(t, fig.sip_started, fig.sip_share)),
                (t("Cases closed"), fig.cases_closed.text(t)),
                *(
                    (t("Outcome: {effect}", effect=_effect_label(t, k)), f.text(t))
                    for k, f in fig.outcomes.items()
                ),
            ),
            (3, 1),
        )
    )
    if fig.by_concern:
        doc.add(
            Picture(
                bars_png(
                    t("Cases by concern"),
                    [(t(CONCERNS.get(k, k)), f) for k, f in fig.by_concern.items()],
                    hidden_label=hidden,
                ),
                width_cm=14,
            )
        )
    for heading, rows in (
        (t("By raising agency"), _rows(t, fig.by_agency, lambda k: k)),
        (
            t("By age band"),
            _rows(t, fig.by_age, lambda k: t("{band} years", band=k.replace("-", "–"))),
        ),
    ):
        doc.add(Heading(heading, level + 1))
        doc.add(Table(two, rows or ((t("None"), "0"),), (3, 1)))
    doc.add(Heading(t("Deviations"), level))
    doc.add(
        Table(
            two,
            (
                (t("Deviations reported"), fig.deviations_total.text(t)),
                (t("Followed up"), fig.deviations_followed_up.text(t)),
                (t("Not followed up yet"), fig.deviations_open.text(t)),
                *_rows(t, fig.deviations, lambda k: t(DEVIATION_KINDS.get(k, k))),
            ),
            (3, 1),
        )
    )
    doc.add(Heading(t("Feedback after cases"), level))
    feedback_rows: list[tuple[str, ...]] = [
        (t("Surveys sent"), fig.surveys_sent.text(t)),
        (t("Surveys answered"), fig.surveys_answered.text(t)),
        *(
            (t(label), sn.mean_text(t, fig.feedback_means[key]))
            for key, label in feedback.QUESTIONS.items()
        ),
        (t("The family's view recorded"), fig.family_views.text(t)),
    ]
    for key, label in feedback.FAMILY_QUESTIONS.items():
        for answer, f in fig.family.get(key, {}).items():
            question = t(label)
            feedback_rows.append((f"{question} {_effect_label(t, answer)}", f.text(t)))
    doc.add(Table(two, tuple(feedback_rows), (3, 1)))
    doc.add(Paragraph(t("Averages on the scale 1–5, shown when at least 5 answered."), italic=True))
    if fig.criteria:
        doc.add(Heading(t("Case criteria met"), level))
        doc.add(
            Table(
                (t("Criterion"), t("Cases")),
                (
                    (t("Cases raised"), fig.criteria_cases.text(t)),
                    *tuple((text, f.text(t)) for text, f in fig.criteria),
                ),
                (3, 1),
            )
        )
    doc.add(Heading(t("Attendance per agency"), level))
    doc.add(
        Table(
            (t("Agency"), t("Meetings attended")),
            (
                (t("Meetings held"), fig.meetings_held.text(t)),
                *_rows(t, fig.attendance, lambda k: k),
            ),
            (3, 1),
        )
    )


def _with_share(t: Translator, figure: sn.Figure, pct: float | None) -> str:
    return figure.text(t) if pct is None else f"{figure.text(t)} ({pct:.0f} %)"


def _trend_row(t: Translator, area: AreaTrend) -> tuple[str, ...]:
    if area.trend is not None:  # the medians the trend compares, like with like
        first, last = area.compared_first, area.compared_last
    else:
        values = [v for _, v in area.points if v is not None]
        first, last = (values[0], values[-1]) if values else (None, None)
    return (area.name, _level(t, first), _level(t, last), trend_label(t, area))


def trend_label(t: Translator, area: AreaTrend) -> str:
    """An area's trend over the period in words, like with like (AreaTrend.trend): an
    agency that stopped answering does not make the area look better."""
    return {
        "up": t("↑ worse"),
        "down": t("↓ better"),
        "same": t("→ same"),
        None: "–",
    }[area.trend]


def trend_note(t: Translator, trends: Sequence[AreaTrend]) -> str | None:
    """When the agencies that answered an area changed between its first and last meeting
    of the period: that the trend compares only those that answered both times, and who is
    left out (as the situation picture's note under its arrows)."""
    last, first = not_compared(trends)
    if not last and not first:
        return None
    parts = [
        t(
            "The trend compares each area's first and last meeting in the period, counting "
            "only the agencies that answered both times."
        )
    ]
    if last:
        parts.append(t("Not answered at the last meeting: {agencies}.", agencies=", ".join(last)))
    if first:
        parts.append(t("Not answered at the first meeting: {agencies}.", agencies=", ".join(first)))
    return " ".join(parts)


def _level(t: Translator, value: float | None) -> str:
    return "–" if value is None else t.number(value)


def workbook(t: Translator, fig: ReviewFigures) -> bytes:
    """The same figures as an xlsx workbook (one sheet per part)."""
    from domain.export import xlsx_bytes

    def cells(figures: Mapping[str, sn.Figure], label: Callable[[str], str]) -> list[list[Any]]:
        return [[label(k), f.cell(t)] for k, f in figures.items()]

    what, number = t("What"), t("Number")
    summary: list[list[Any]] = [
        [t("Forum"), fig.forum_name],
        [t("From"), fig.period.start.isoformat()],
        [t("To"), fig.period.end.isoformat()],
        [t("Cases raised"), fig.cases_total.cell(t)],
        [t("Cases discussed at the forum's meetings"), fig.cases_discussed.cell(t)],
        [t("SIP started"), fig.sip_started.cell(t)],
        [t("Cases closed"), fig.cases_closed.cell(t)],
        [t("Actions started"), fig.actions_started.cell(t)],
        [t("Actions done"), fig.actions_done.cell(t)],
        [t("Done on time"), fig.actions_on_time.cell(t)],
        [t("Done after a new due date"), fig.actions_after_new_date.cell(t)],
        [t("Open and overdue at the end of the period"), fig.actions_overdue.cell(t)],
        [t("Deviations reported"), fig.deviations_total.cell(t)],
        [t("Deviations followed up"), fig.deviations_followed_up.cell(t)],
        [t("Deviations not followed up yet"), fig.deviations_open.cell(t)],
        [t("Surveys answered"), fig.surveys_answered.cell(t)],
        [t("Meetings held"), fig.meetings_held.cell(t)],
    ]
    effect = lambda k: _effect_label(t, k)  # noqa: E731
    trend_rows: list[list[Any]] = [
        [a.name, d.isoformat(), v if v is not None else ""] for a in fig.trends for d, v in a.points
    ]
    # First, last and the trend per area (like with like), with the note of who is left
    # out of the comparison, as in the PDF.
    period_rows: list[list[Any]] = [list(_trend_row(t, a)) for a in fig.trends]
    note = trend_note(t, fig.trends)
    if note:
        period_rows.append([note, "", "", ""])
    return xlsx_bytes(
        [
            (t("Summary"), [what, number], summary),
            (
                t("Concerns"),
                [t("Concern"), number],
                cells(fig.by_concern, lambda k: t(CONCERNS.get(k, k))),
            ),
            (t("Raising agency"), [t("Agency"), number], cells(fig.by_agency, lambda k: k)),
            (t("Age band"), [t("Age band"), number], cells(fig.by_age, lambda k: k)),
            (t("Outcome"), [t("Effect"), number], cells(fig.outcomes, effect)),
            (t("Action effect"), [t("Effect"), number], cells(fig.effects, effect)),
            (
                t("Deviations"),
                [t("Kind"), number],
                cells(fig.deviations, lambda k: t(DEVIATION_KINDS.get(k, k))),
            ),
            (
                t("Feedback"),
                [t("Question"), t("Average 1–5")],
                [
                    [t(label), fig.feedback_means[k] if fig.feedback_means[k] is not None else "–"]
                    for k, label in feedback.QUESTIONS.items()
                ],
            ),
            (
                t("Criteria"),
                [t("Criterion"), number],
                [[text, f.cell(t)] for text, f in fig.criteria],
            ),
            (
                t("Attendance"),
                [t("Agency"), t("Meetings attended")],
                cells(fig.attendance, lambda k: k),
            ),
            (t("Trend"), [t("Area"), t("Meeting"), t("Median level")], trend_rows),
            (
                t("Trend over the period"),
                [t("Area"), t("First"), t("Last"), t("Trend")],
                period_rows,
            ),
        ]
    )


def files(t: Translator, fig: ReviewFigures) -> list[tuple[str, bytes]]:
    """(filename, data) of the PDF and the xlsx."""
    from domain.documents import to_pdf

    start, end = fig.period.start.isoformat(), fig.period.end.isoformat()
    stem = f"halvarsuppfoljning-{fig.forum_code}-{start}-{end}"

    return [(f"{stem}.pdf", to_pdf(document(t, fig))), (f"{stem}.xlsx", workbook(t, fig))]


# --- sent by itself -------------------------------------------------------------------------
