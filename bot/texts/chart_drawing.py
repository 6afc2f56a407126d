"""The report charts as PNG images: requests per day, per category, and rates per department.

matplotlib's object API on the Agg canvas (no pyplot, no GUI, no global figure state), so a
chart can be drawn in a worker thread while the bot goes on. Titles live in the photo captions,
which Telegram shows in any script; inside a chart there are only codes, numbers and the rates'
legend. The legend is in the reader's language when a font can draw it: Chinese needs a CJK
font (Debian: fonts-noto-cjk), without which a Chinese reader's legend falls back to English.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import date

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
MAX_BARS = 15
SIZE = (8.0, 4.5)


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, if there is one."""
    installed = {font.name for font in fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)  # type: ignore[no-untyped-call]  # unannotated
    return buffer.getvalue()


def _figure() -> Figure:
    return Figure(figsize=SIZE, dpi=100, layout="constrained")


def volume_chart(days: Sequence[date], counts: Sequence[int]) -> bytes:
    """Requests received per day."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.bar(range(len(days)), counts, color="#3b6ea5")
    step = max(1, len(days) // 12)
    axes.set_xticks(
        range(0, len(days), step), [d.strftime("%m-%d") for d in days[::step]], rotation=45
    )
    axes.set_ylabel("#")
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def category_chart(rows: Sequence[tuple[str, int]]) -> bytes:
    """Requests per category code, the most frequent on top."""
    shown = list(rows[:MAX_BARS])[::-1]
    figure = _figure()
    axes = figure.add_subplot()
    axes.barh([code for code, _ in shown], [n for _, n in shown], color="#c0504d")
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def rates_chart(
    departments: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> bytes:
    """Rates per department code (0-100 %), one bar per series; a missing rate leaves a gap."""
    figure = _figure()
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    colours = ("#3b6ea5", "#9bbb59", "#f79646", "#8064a2")
    for n, (label, values) in enumerate(series):
        xs = [i + (n - (len(series) - 1) / 2) * width for i in range(len(departments))]
        heights = [100 * v if v is not None else 0 for v in values]
        axes.bar(xs, heights, width=width, label=label, color=colours[n % len(colours)])
    axes.set_xticks(range(len(departments)), departments, rotation=45, ha="right")
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    legend = axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=len(series),
        fontsize="small",
        frameon=False,
    )
    if font := cjk_font():
        for text in legend.get_texts():
            text.set_fontfamily(font)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)
