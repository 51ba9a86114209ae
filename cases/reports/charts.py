"""Server-side charts for the PDF: matplotlib (no pyplot, so no global figure state shared between threads).

The charts go into the PDF as PNG at print resolution. SVG with text as paths (``svg.fonttype = "path"``) looked
the same but made WeasyPrint draw thousands of path nodes per chart, some ten times slower than the whole
rest of the PDF. Matplotlib draws the labels with the CJK font, so Chinese needs no font on the PDF side.
"""

import io
import textwrap
from functools import cache
from pathlib import Path
from typing import Any

from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure

from cases.reports.layout import Chart

CJK_FONT = "WenQuanYi Micro Hei"
COLOURS = ("#0b3d91", "#9aa5b1")  # report year, previous year (the page uses the same pair)
STYLE: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": [CJK_FONT, "DejaVu Sans"],
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.unicode_minus": False,
}


def _wrap(label: str, width: int = 28) -> str:
    """A tick label on lines of about ``width`` characters, broken between words, never inside one ("Januar / y"):
    a word longer than the width keeps its line. CJK text has no spaces to break at, so it is cut at the width."""
    latin = label.isascii()
    return "\n".join(textwrap.wrap(label, width=width, break_long_words=not latin, break_on_hyphens=False)) or label


@cache
def _cjk_font_known() -> bool:
    """Make sure matplotlib knows the CJK font. Its font list is cached on disk the first time it runs, so a font
    installed after that is missing from it and Chinese labels come out as boxes: add such a font by its file."""
    manager = font_manager.fontManager
    if any(font.name == CJK_FONT for font in manager.ttflist):
        return True
    for path in font_manager.findSystemFonts():
        if Path(path).name.lower().startswith("wqy-microhei"):
            manager.addfont(path)
    return any(font.name == CJK_FONT for font in manager.ttflist)


def chart_png(chart: Chart, *, width: float = 6.6, dpi: int = 200) -> bytes:
    """One chart as a PNG image ``width`` inches wide."""
    _cjk_font_known()
    with rc_context(STYLE):  # type: ignore[arg-type]
        rows = len(chart.labels)
        height = 2.4 if chart.kind != "hbar" else max(1.6, 0.24 * rows + 0.9)
        fig = Figure(figsize=(width, height), layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(chart.title, loc="left", fontsize=10)  # the CJK font has no bold face
        positions = list(range(rows))
        if not rows:
            ax.text(0.5, 0.5, "—", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        elif chart.kind == "line":
            for series, colour in zip(chart.series, COLOURS, strict=False):
                ax.plot(positions, series.values, marker="o", markersize=3, color=colour, label=series.name)
            ax.set_xticks(positions, [_wrap(label, 6) for label in chart.labels])
            ax.set_ylim(bottom=0)
        else:
            step = 0.8 / max(1, len(chart.series))
            for n, (series, colour) in enumerate(zip(chart.series, COLOURS, strict=False)):
                offsets = [p - 0.4 + step * (n + 0.5) for p in positions]
                if chart.kind == "hbar":
                    ax.barh(offsets, series.values, height=step, color=colour, label=series.name)
                else:
                    ax.bar(offsets, series.values, width=step, color=colour, label=series.name)
            if chart.kind == "hbar":
                ax.set_yticks(positions, [_wrap(label) for label in chart.labels])
                ax.invert_yaxis()  # first row at the top, as in the table
            else:
                ax.set_xticks(positions, [_wrap(label, 10) for label in chart.labels])
        if rows:
            ax.legend(frameon=False, fontsize=7)
            ax.grid(axis="x" if chart.kind == "hbar" else "y", color="#e5e7eb", linewidth=0.6)
            ax.set_axisbelow(True)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
