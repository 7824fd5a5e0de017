"""Charts for the reports (PNG): the situation picture's trend per area over a period and
bar charts of figures that already passed the small-number rule.

matplotlib's object API (Figure + FigureCanvasAgg, no pyplot state), imported lazily; the
five level colours are the situation picture's (handlers.blocks.charts).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from domain.small_numbers import Figure as Count

# normalt · avvikande · oroande · kritiskt · allvarligt (as handlers.blocks.charts.LEVEL_COLOURS;
# domain does not import handlers, so the values are repeated here).
LEVEL_COLOURS: dict[int, str] = {
    1: "#4caf50",
    2: "#fdd835",
    3: "#fb8c00",
    4: "#e53935",
    5: "#6a1b9a",
}


def _png(figure: object) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)  # type: ignore[attr-defined]
    return buffer.getvalue()


def trend_png(
    title: str,
    series: Sequence[tuple[str, Sequence[tuple[str, float | None]]]],
    *,
    level_names: Sequence[str],
) -> bytes:
    """One line per area (at most 8): the median level per round, oldest first."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8.5, 4.2))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    for level, colour in LEVEL_COLOURS.items():
        ax.axhspan(level - 0.5, level + 0.5, color=colour, alpha=0.10, linewidth=0)
    labels: list[str] = []
    for _name, points in series:
        for label, _value in points:
            if label not in labels:
                labels.append(label)
    for name, points in series[:8]:
        values = dict(points)
        xs = [i for i, label in enumerate(labels) if values.get(label) is not None]
        ys = [float(values[labels[i]] or 0) for i in xs]
        ax.plot(xs, ys, marker="o", markersize=3, linewidth=1.5, label=name[:30])
    ax.set_ylim(0.5, 5.5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_yticklabels([f"{n} {level_names[n - 1]}" for n in range(1, 6)], fontsize=7)
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step))
    ax.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=7)
    ax.set_title(title, fontsize=10)
    if series:
        ax.legend(fontsize=7, loc="upper left", ncols=4, frameon=False)
        ax.set_ylim(0.5, 6.2)  # room for the legend above level 5
    figure.tight_layout()
    return _png(figure)


def bars_png(title: str, bars: Sequence[tuple[str, Count]], *, hidden_label: str) -> bytes:
    """Horizontal bars; a hidden count (1–4) is drawn as no bar, labelled in words."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 0.45 * max(len(bars), 2) + 1.2))
    FigureCanvasAgg(figure)
    ax = figure.add_subplot(1, 1, 1)
    names = [name[:40] for name, _ in bars][::-1]
    values = [count.value or 0 for _, count in bars][::-1]
    ax.barh(names, values, color="#37474f")
    top = max(values, default=0) or 1
    for y, (_name, count) in enumerate(reversed(bars)):
        text = hidden_label if count.value is None else str(count.value)
        ax.text((count.value or 0) + top * 0.01, y, text, va="center", fontsize=7)
    ax.set_xlim(0, top * 1.25)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(title, fontsize=10)
    figure.tight_layout()
    return _png(figure)
