"""The report charts as PNG images: requests per day, per category, and rates per department.

matplotlib's object API on the Agg canvas (no pyplot, no GUI, no global figure state), so a
chart can be drawn in a worker thread while the bot goes on. Every chart has its title, and
names (categories, departments) in the reader's language; counts have whole-number axes.

Text is drawn with a font list: the first installed CJK font, then DejaVu Sans (matplotlib's
own), so Latin and Cyrillic come from DejaVu and Chinese from the CJK font, glyph by glyph. A
server needs a CJK font for Chinese (Debian: fonts-noto-cjk); without one, a Chinese reader's
charts fall back to English (see `can_draw`) rather than draw boxes.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from datetime import date

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
)
BASE_FONT = "DejaVu Sans"  # shipped with matplotlib: always there
MAX_BARS = 15
SIZE = (6.4, 3.6)  # inches: 800 × 450 px at DPI
DPI = 125  # large type for the size, so that a phone showing it narrower can read it
LABEL_CHARS = 28  # a longer name is cut, so that the bars keep their room


@functools.cache
def cjk_font() -> str | None:
    """The name of an installed font that draws Chinese, if there is one."""
    installed = {font.name for font in fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def can_draw(language: str) -> bool:
    """Whether the charts can draw this language's script with the fonts installed."""
    return not language.startswith("zh") or cjk_font() is not None


def _fonts() -> list[str]:
    """The font list, in order of preference; matplotlib falls back glyph by glyph."""
    cjk = cjk_font()
    return [BASE_FONT, cjk] if cjk else [BASE_FONT]


def _font(size: str | float = "medium", weight: str = "normal") -> FontProperties:
    return FontProperties(family=_fonts(), size=size, weight=weight)


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)  # type: ignore[no-untyped-call]  # unannotated
    return buffer.getvalue()


def _figure(title: str) -> tuple[Figure, Axes]:
    """A figure with one chart, titled at its top left."""
    figure = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    _title(figure, title)
    return figure, axes


def _title(figure: Figure, title: str) -> None:
    """The title at the figure's top left, over the tick labels too (a long name moves the
    chart's own left edge, and a title there would run off the image)."""
    figure.suptitle(title, fontproperties=_font("large", "bold"), x=0.01, ha="left")


def _label_ticks(labels: Sequence[Text]) -> None:
    for label in labels:
        label.set_fontproperties(_font("medium"))


def volume_chart(title: str, days: Sequence[date], counts: Sequence[int]) -> bytes:
    """Requests received per day."""
    figure, axes = _figure(title)
    axes.bar(range(len(days)), counts, color="#3b6ea5")
    step = max(1, len(days) // 12)
    axes.set_xticks(
        range(0, len(days), step), [d.strftime("%m-%d") for d in days[::step]], rotation=45
    )
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max([1, *counts]) * 1.1)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)


def category_chart(title: str, rows: Sequence[tuple[str, int]]) -> bytes:
    """Requests per category (by name), the most frequent on top."""
    shown = list(rows[:MAX_BARS])[::-1]
    figure, axes = _figure(title)
    axes.barh(range(len(shown)), [n for _, n in shown], color="#c0504d", height=0.6)
    axes.set_yticks(range(len(shown)), [_short(name) for name, _ in shown])
    _label_ticks(axes.get_yticklabels())
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(0, max([1, *(n for _, n in shown)]) * 1.1)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def rates_chart(
    title: str,
    departments: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
) -> bytes:
    """Rates per department (by name, 0-100 %), one bar per series; a missing rate leaves a
    gap."""
    figure, axes = _figure(title)
    width = 0.8 / max(1, len(series))
    colours = ("#3b6ea5", "#9bbb59", "#f79646", "#8064a2")
    for n, (label, values) in enumerate(series):
        xs = [i + (n - (len(series) - 1) / 2) * width for i in range(len(departments))]
        heights = [100 * v if v is not None else 0 for v in values]
        axes.bar(xs, heights, width=width, label=label, color=colours[n % len(colours)])
    axes.set_xticks(
        range(len(departments)), [_short(d) for d in departments], rotation=30, ha="right"
    )
    _label_ticks(axes.get_xticklabels())
    axes.set_ylim(0, 100)
    axes.set_ylabel("%")
    axes.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=len(series),
        prop=_font("small"),
        frameon=False,
    )
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)
