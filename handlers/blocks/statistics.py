"""Block Kit and the chart for the statistics of a forum (`/samverkan statistik`): counts
only, never case details. The chart is drawn here (presentation) with matplotlib's object API,
imported only when a chart is drawn."""

from __future__ import annotations

import io
from typing import Any

from domain.cases import CONCERNS, DEVIATION_KINDS
from domain.i18n import Translator
from domain.small_numbers import Figure, percent_text
from domain.statistics import ON_TIME_MEANS, StatisticsFigures
from handlers.blocks.common import Block, context, escape, header, message, section


def concern_name(t: Translator, key: str) -> str:
    return t(CONCERNS[key]) if key in CONCERNS else escape(key)


def deviation_name(t: Translator, key: str) -> str:
    return t(DEVIATION_KINDS[key]) if key in DEVIATION_KINDS else escape(key)


def chart_labels(t: Translator, stats: StatisticsFigures) -> dict[str, str]:
    labels = {
        "cases": t("Cases per month and raising agency"),
        "concerns": t("Concerns"),
        "actions": t("Actions"),
        "on_time": t("Done on time"),
        "after_new_date": t("Done after a new due date"),
        "late": t("Done late"),
        "overdue": t("Overdue"),
        "effect": t("Effect"),
        "effect:yes": t("Yes"),
        "effect:partly": t("Partly"),
        "effect:no": t("No"),
        "effect:none": t("Not followed up"),
        "hidden": t("Counts under 5 are not drawn."),
    }
    for key in stats.concerns:
        labels[f"concern:{key}"] = t(CONCERNS[key]) if key in CONCERNS else key
    return labels


def _height(figure: Figure | None) -> int:
    """A bar's height: a hidden count (1–4) is not drawn (the chart says so)."""
    return (figure.value or 0) if figure is not None else 0


def statistics_alt_text(t: Translator, stats: StatisticsFigures) -> str:
    """The statistics image in words, for screen readers: counts only."""
    return t(
        "Four charts for {forum}, {start} – {end}: cases per month and raising agency "
        "({cases} in all), the most common concerns, actions done on time, after a new due "
        "date, late and overdue, and whether they had the desired effect.",
        forum=stats.forum_name,
        start=t.day(stats.start),
        end=t.day(stats.end),
        cases=stats.cases_total.text(t),
    )


def statistics_message(t: Translator, stats: StatisticsFigures) -> dict[str, Any]:
    """A Block Kit summary for steering levels: counts only, never case details."""
    period = f"{t.day(stats.start)} – {t.day(stats.end)}"
    title = t("Statistics for {forum}", forum=stats.forum_name)
    blocks: list[Block] = [header(title), context(period)]
    by_agency = (
        "\n".join(f"• {escape(name)}: {n.text(t)}" for name, n in stats.cases_by_agency.items())
        or "–"
    )
    by_month = ", ".join(f"{m}: {n.text(t)}" for m, n in stats.cases_by_month.items()) or "–"
    cases_label, month_label = t("Cases"), t("Per month")
    cases_total = stats.cases_total.text(t)
    agency_label = t("Per raising agency")
    # Raised in the period, and discussed at its meetings (whenever raised): the children
    # and families the forum met, as the forums report it to their steering levels.
    discussed = t("Cases discussed at the forum's meetings: {n}", n=stats.cases_discussed.text(t))
    blocks.append(
        section(
            f"*{cases_label}: {cases_total}*\n{discussed}\n*{month_label}:* {by_month}\n"
            f"*{agency_label}:*\n{by_agency}"
        )
    )
    concerns = (
        "\n".join(f"• {concern_name(t, key)}: {n.text(t)}" for key, n in stats.concerns.items())
        or "–"
    )
    concerns_label = t("Concerns")
    shown = {
        "started": stats.sip_started.text(t),
        "cases": stats.cases_total.text(t),
        "share": percent_text(t, stats.sip_share),
        "needed": stats.sip_needed.text(t),
    }
    sip = t.ngettext(
        # {cases}, not {n}: it reads "fewer than 5" where the count is hidden.
        "SIP started in {started} of {cases} case ({share}); needed in {needed}.",
        "SIP started in {started} of {cases} cases ({share}); needed in {needed}.",
        stats.cases_total.plural_count,
        **shown,
    )
    blocks.append(section(f"*{concerns_label}*\n{concerns}\n\n{sip}"))
    effect_names = [
        (t("Yes"), "yes"),
        (t("Partly"), "partly"),
        (t("No"), "no"),
        (t("Not followed up"), "none"),
    ]
    effects = " · ".join(f"{name}: {stats.effects[key].text(t)}" for name, key in effect_names)
    actions_label, effect_label_ = t("Actions"), t("Effect")
    on_time = t(
        # Labels before the numbers: right in Swedish for 1 too ("1 klara", "1 öppna" was not).
        "Done: {done}, of them on time: {on_time} ({share}), done after a new due date: "
        "{later}. Open: {open}, overdue: {overdue}.",
        done=stats.actions_done.text(t),
        on_time=stats.actions_on_time.text(t),
        share=percent_text(t, stats.on_time_share),
        later=stats.actions_after_new_date.text(t),
        open=stats.actions_open.text(t),
        overdue=stats.actions_overdue.text(t),
    )
    on_time_means = t(ON_TIME_MEANS)
    blocks.append(section(f"*{actions_label}*\n{on_time}\n*{effect_label_}:* {effects}"))
    blocks.append(context(on_time_means))
    deviations = (
        "\n".join(f"• {deviation_name(t, k)}: {n.text(t)}" for k, n in stats.deviations.items())
        or "–"
    )
    deviations_label = t("Deviations")
    follow_up = t(
        "Followed up: {done} · not followed up yet: {open}",
        done=stats.deviations_followed_up.text(t),
        open=stats.deviations_open.text(t),
    )
    if stats.deviations_total.value != 0 or stats.deviations:
        blocks.append(
            section(
                f"*{deviations_label}: {stats.deviations_total.text(t)}*\n{follow_up}\n{deviations}"
            )
        )
    else:  # not a lone "–"
        none = t("No deviations.")
        blocks.append(section(f"*{deviations_label}*\n{none}"))
    # Any member may run it, for any period (StatisticsFigures): under the same rule as the
    # review, in the same words.
    blocks.append(context(t("Counts under 5 are shown as “fewer than 5”.")))
    blocks.append(context(t("The chart comes as a picture in your direct messages.")))
    return message(title, blocks)


def chart_png(stats: StatisticsFigures, labels: dict[str, str]) -> bytes:
    """Four small charts (cases per month and raising agency, concerns, actions on time,
    effect) as one PNG. ``labels`` holds the translated titles and concern/effect names."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 8), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(2, 2)
    months = list(stats.cases_by_month) or ["–"]
    # Split by agency only when no cell is hidden (StatisticsFigures), else by month alone.
    agencies = list(stats.cases_by_agency) if stats.cases_by_month_agency else []
    ax = axes[0][0]
    bottom = [0] * len(months)
    if not agencies:
        ax.bar(months, [_height(stats.cases_by_month.get(m)) for m in months])
    for agency in agencies:
        heights = [_height(stats.cases_by_month_agency.get((m, agency))) for m in months]
        ax.bar(months, heights, bottom=bottom, label=agency)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_title(labels["cases"])
    if agencies:
        ax.legend(fontsize=7)
    ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    ax = axes[0][1]
    concern_keys = list(stats.concerns)[:8]
    ax.barh(
        [labels.get(f"concern:{k}", k) for k in concern_keys],
        [_height(stats.concerns[k]) for k in concern_keys],
    )
    ax.set_title(labels["concerns"])
    ax.tick_params(axis="y", labelsize=7)
    ax = axes[1][0]
    ax.bar(
        [labels["on_time"], labels["after_new_date"], labels["late"], labels["overdue"]],
        [
            _height(stats.actions_on_time),
            _height(stats.actions_after_new_date),
            _height(stats.actions_late),
            _height(stats.actions_overdue),
        ],
        color=["#2e7d32", "#7cb342", "#f9a825", "#c62828"],
    )
    ax.set_title(labels["actions"])
    ax = axes[1][1]
    keys = ["yes", "partly", "no", "none"]
    ax.bar(
        [labels[f"effect:{k}"] for k in keys],
        [_height(stats.effects[k]) for k in keys],
        color=["#2e7d32", "#f9a825", "#c62828", "#9e9e9e"],
    )
    ax.set_title(labels["effect"])
    figure.suptitle(f"{stats.forum_name} · {stats.start.isoformat()} – {stats.end.isoformat()}")
    figure.text(0.01, 0.005, labels["hidden"], fontsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def statistics_png(t: Translator, stats: StatisticsFigures) -> bytes:
    """The four charts, labelled in the reader's language."""
    return chart_png(stats, chart_labels(t, stats))
