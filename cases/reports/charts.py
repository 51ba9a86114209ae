"""The PDF's charts, drawn by the PDF renderer itself at their printed size.

Bar charts are HTML: each category a row, its label document text (it wraps between words, prints in the CJK font
and can be searched and copied), each year a box whose width is its share of the longest bar, with the figure after
it. The monthly line is a small inline SVG in millimetres, the page's own width, so nothing is scaled.

They used to be matplotlib PNGs at 200 dpi: importing matplotlib alone added about 40 MiB to the process, and
drawing six charts (constrained layout draws each figure twice) took longer than laying out the rest of the PDF.
"""

import math
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from cases.reports.layout import Chart, format_value

CJK_FONT = "WenQuanYi Micro Hei"
COLOURS = ("#0b3d91", "#9aa5b1")  # report year, previous year (the page uses the same pair)

# The printed width of a chart: A4 (210 mm) less the page's side margins (15 mm each, templates/pdf_base.html).
WIDTH_MM = 180.0
# Share of the bar column the longest bar takes; the rest keeps room for its figure.
LONGEST_BAR_PERCENT = 85.0
# The line chart, in millimetres: room for the value axis on the left, the month names below.
LINE_HEIGHT_MM, LINE_AXIS_MM, LINE_TOP_MM, LINE_LABELS_MM = 52.0, 13.0, 3.0, 8.0
TICK_FONT_MM = 2.3  # 6.5 pt


@dataclass(frozen=True)
class Bar:
    value: str  # the figure as printed
    percent: str  # the box's width, percent of the bar column, as CSS text ("42.5")
    colour: str


@dataclass(frozen=True)
class BarRow:
    label: str
    bars: tuple[Bar, ...]


def figure(value: float) -> str:
    """A chart value as the tables print it: a count with thousands separators, anything else to one decimal."""
    return format_value(value, "int" if float(value).is_integer() else "days", grouped=True)


def bar_rows(chart: Chart) -> tuple[BarRow, ...]:
    """One row per drawn category with a bar per year, widths relative to the largest value of the chart."""
    largest = max((v for series in chart.series for v in series.values), default=0.0)
    rows = []
    for i, label in enumerate(chart.labels):
        bars = []
        for series, colour in zip(chart.series, COLOURS, strict=False):
            value = series.values[i]
            share = LONGEST_BAR_PERCENT * value / largest if largest > 0 else 0.0
            bars.append(Bar(value=figure(value), percent=f"{max(share, 0.0):.2f}", colour=colour))
        rows.append(BarRow(label=label, bars=tuple(bars)))
    return tuple(rows)


def nice_ticks(largest: float, most: int = 5) -> tuple[float, ...]:
    """Axis ticks from 0 in steps of 1, 2, 2.5 or 5 times a power of ten, whole numbers, at most ``most`` steps, the
    last one at or above ``largest``."""
    if largest <= 0:
        return (0.0, 1.0)
    rough = largest / most
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    step = max(1.0, math.ceil(step))  # counts: never a tick between two whole numbers
    top = math.ceil(largest / step) * step
    return tuple(step * n for n in range(round(top / step) + 1))


def _mm(value: float) -> str:
    return f"{value:.2f}"


def line_svg(chart: Chart) -> SafeString:
    """The line chart as inline SVG, 180 mm wide, units in millimetres: grid and value labels on the left, a line with
    a dot per month for each year, the month names under their points. Every text is escaped."""
    ticks = nice_ticks(max((v for series in chart.series for v in series.values), default=0.0))
    left, right = LINE_AXIS_MM, WIDTH_MM - 1.0
    top, bottom = LINE_TOP_MM, LINE_HEIGHT_MM - LINE_LABELS_MM
    count = max(1, len(chart.labels))
    step_x = (right - left) / count

    def x(i: int) -> float:
        return left + step_x * (i + 0.5)

    def y(value: float) -> float:
        return bottom - (bottom - top) * value / ticks[-1]

    grid = format_html_join(
        "",
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e5e7eb" stroke-width="0.2"/>'
        '<text x="{}" y="{}" text-anchor="end" font-size="{}" fill="#52606d">{}</text>',
        (
            (_mm(left), _mm(right), _mm(y(t)), _mm(y(t)), _mm(left - 1.5), _mm(y(t) + 0.8), TICK_FONT_MM, figure(t))
            for t in ticks
        ),
    )
    months = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}" fill="#52606d">{}</text>',
        ((_mm(x(i)), _mm(bottom + 4.0), TICK_FONT_MM, label) for i, label in enumerate(chart.labels)),
    )
    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="0.4"/>{}',
        (
            (
                " ".join(f"{_mm(x(i))},{_mm(y(v))}" for i, v in enumerate(series.values)),
                colour,
                format_html_join(
                    "",
                    '<circle cx="{}" cy="{}" r="0.7" fill="{}"/>',
                    ((_mm(x(i)), _mm(y(v)), colour) for i, v in enumerate(series.values)),
                ),
            )
            # The previous year first, so the report year's line is drawn over it.
            for series, colour in reversed(tuple(zip(chart.series, COLOURS, strict=False)))
        ),
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}" '
        'font-family="{font}, DejaVu Sans, sans-serif">'
        '{grid}<line x1="{l}" x2="{l}" y1="{t}" y2="{b}" stroke="#9aa5b1" stroke-width="0.2"/>{lines}{months}</svg>',
        w=_mm(WIDTH_MM),
        h=_mm(LINE_HEIGHT_MM),
        font=CJK_FONT,
        grid=grid,
        l=_mm(left),
        t=_mm(top),
        b=_mm(bottom),
        lines=lines,
        months=months,
    )


def pdf_chart(chart: Chart) -> dict[str, object]:
    """What the PDF template draws for one chart."""
    legend = tuple((series.name, colour) for series, colour in zip(chart.series, COLOURS, strict=False))
    drawn = bool(chart.labels)
    return {
        "title": chart.title,
        "kind": chart.kind,
        "legend": legend,
        "empty": not drawn,
        "svg": line_svg(chart) if drawn and chart.kind == "line" else None,
        "rows": bar_rows(chart) if drawn and chart.kind != "line" else (),
    }
