"""The situation picture as images (PNG): an agency × area heatmap in the five-level
colours with the trend, and a trend chart per area. Presentation: domain.ratings builds the
picture (data only) and asks its renderers (handlers.blocks.ratings) for the images.

matplotlib's object API (Figure + FigureCanvasAgg): no pyplot, no global state, so pictures
are drawn concurrently without a lock. Importing this module loads matplotlib; the renderers
import it only when a picture is drawn, so an idle replica never loads it.

Areas and agencies only: no personal data, no comments.
"""

from __future__ import annotations

import io
import math
import zoneinfo

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from domain.i18n import Translator
from domain.ratings import LEVELS, Picture, highest_in_words, level_label

# normalt · avvikande · oroande · kritiskt · allvarligt; grey = not rated.
LEVEL_COLOURS: dict[int, str] = {
    1: "#4caf50",
    2: "#fdd835",
    3: "#fb8c00",
    4: "#e53935",
    5: "#6a1b9a",
}
MISSING_COLOUR = "#e0e0e0"
TREND_ARROWS = {"up": "↑", "down": "↓", "same": "→"}


def _figure(width: float, height: float) -> Figure:
    """A figure of its own, with its own Agg canvas (nothing shared between threads)."""
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def heatmap_png(t: Translator, picture: Picture) -> bytes:
    """Rows: every agency; columns: every area (most severe first), labelled with the trend."""
    agencies, areas = picture.agencies, picture.areas
    data: list[list[int]] = [
        [area.levels[row] or 0 for area in areas] for row in range(len(agencies))
    ]
    colours = ListedColormap([MISSING_COLOUR, *(LEVEL_COLOURS[lvl] for lvl in sorted(LEVELS))])
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5], colours.N)
    width = min(4 + 0.45 * max(len(areas), 1), 30)
    height = min(2.5 + 0.35 * max(len(agencies), 1), 24)
    figure = _figure(width, height)
    axes = figure.add_subplot(1, 1, 1)
    if areas and agencies:
        axes.imshow(data, cmap=colours, norm=norm, aspect="auto")
    axes.set_xticks(range(len(areas)))
    axes.set_xticklabels(
        [f"{a.name} {TREND_ARROWS.get(a.trend or '', '')}".strip() for a in areas],
        rotation=60,
        ha="right",
        fontsize=8,
    )
    axes.set_yticks(range(len(agencies)))
    axes.set_yticklabels(list(agencies), fontsize=8)
    if len(areas) * len(agencies) <= 400:
        for row in range(len(agencies)):
            for col, area in enumerate(areas):
                level = area.levels[row]
                axes.text(
                    col,
                    row,
                    str(level) if level else "–",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if level and level >= 4 else "black",
                )
    axes.set_title(t("Situation picture {forum}", forum=picture.forum_name), fontsize=11)
    legend = [
        Patch(color=LEVEL_COLOURS[lvl], label=f"{lvl} {level_label(t, lvl)}")
        for lvl in sorted(LEVELS)
    ]
    legend.append(Patch(color=MISSING_COLOUR, label=t("not rated")))
    axes.legend(
        handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False
    )
    return _png(figure)


def trend_png(t: Translator, picture: Picture, *, max_areas: int = 40) -> bytes:
    """One small chart per area over the earlier rounds and this one: the highest level (the
    measure the picture is grouped by, solid) and the median (dashed)."""
    areas = picture.areas[:max_areas]
    columns = max(1, min(5, math.ceil(math.sqrt(max(len(areas), 1)))))
    rows = max(1, math.ceil(len(areas) / columns))
    figure = _figure(2.6 * columns, 1.9 * rows)
    grid = figure.subplots(rows, columns, squeeze=False, sharey=True)
    for index, axes in enumerate(grid.flat):
        if index >= len(areas):
            axes.axis("off")
            continue
        area = areas[index]
        highest: list[float | None] = [*area.history_highest, area.highest]
        medians: list[float | None] = [*area.history, area.median]
        for series, style, label in (
            (highest, "-", t("highest level")),
            (medians, "--", t("median")),
        ):
            xs = [i for i, v in enumerate(series) if v is not None]
            ys = [v for v in series if v is not None]
            axes.plot(
                xs,
                ys,
                linestyle=style,
                marker="o",
                markersize=3,
                linewidth=1.4,
                color="#37474f",
                label=label,
            )
        if index == 0:
            axes.legend(fontsize=6, loc="upper left", frameon=False)
        axes.set_ylim(0.5, 5.5)
        axes.set_yticks(sorted(LEVELS))
        axes.set_xticks([])
        axes.tick_params(labelsize=7)
        arrow = TREND_ARROWS.get(area.trend or "", "")
        axes.set_title(f"{area.name} {arrow}".strip()[:32], fontsize=8)
        for level, colour in LEVEL_COLOURS.items():
            axes.axhspan(level - 0.5, level + 0.5, color=colour, alpha=0.12, linewidth=0)
    figure.suptitle(t("Trend per area {forum}", forum=picture.forum_name), fontsize=10)
    figure.tight_layout()
    return _png(figure)


def picture_images(t: Translator, picture: Picture) -> list[tuple[str, str, str, bytes]]:
    """The heatmap and the trend chart: (name, title, alt text, PNG)."""
    # The file's title, read in Slack's file list: the day as every message says it (the
    # file's ASCII name keeps the ISO date, domain.ratings.closing).
    day = t.day(picture.meeting_start.astimezone(zoneinfo.ZoneInfo(picture.timezone)).date())
    rounds = len(picture.history_dates) + 1
    return [
        (
            "heatmap",
            t("Situation picture {forum} {date}", forum=picture.forum_name, date=day),
            t(
                "Heatmap of the situation picture: each agency's level per area, most "
                "serious first. Highest level per area: {levels}.",
                levels=highest_in_words(t, picture),
            ),
            heatmap_png(t, picture),
        ),
        (
            "trend",
            t("Trend per area {forum}", forum=picture.forum_name),
            t.ngettext(
                "Trend per area: the highest level (solid line) and the median (dashed) in "
                "{n} round.",
                "Trend per area: the highest level (solid line) and the median (dashed) over "
                "the last {n} rounds.",
                rounds,
            ),
            trend_png(t, picture),
        ),
    ]
