"""The PDF's charts: bar rows sized against the largest value, the month line as millimetre SVG, text escaped."""

import re

import pytest

from cases.reports.charts import bar_rows, line_svg, nice_ticks, pdf_chart
from cases.reports.layout import Chart, Series


def chart(kind: str, labels: tuple[str, ...], current: tuple[float, ...], previous: tuple[float, ...]) -> Chart:
    return Chart(
        key="k",
        title="T",
        kind=kind,  # type: ignore[arg-type]
        labels=labels,
        series=(Series("2025", current), Series("2024", previous)),
        table="k",
        rows=tuple(range(len(labels))),
        span=(0, len(labels)),
    )


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [
        (0, (0, 1)),
        (1, (0, 1)),
        (3, (0, 1, 2, 3)),
        (7, (0, 2, 4, 6, 8)),
        (1234, (0, 250, 500, 750, 1000, 1250)),
        (1990, (0, 500, 1000, 1500, 2000)),
        (2000, (0, 500, 1000, 1500, 2000)),
        (38_500, (0, 10_000, 20_000, 30_000, 40_000)),
    ],
)
def test_value_axis_ticks_are_whole_round_steps_up_to_the_largest_value(largest, ticks):
    assert nice_ticks(largest) == ticks


def test_bars_are_shares_of_the_largest_value_with_their_figures():
    rows = bar_rows(chart("hbar", ("Armed attack", "Doxxing"), (1200.0, 0.0), (600.0, 2.5)))
    assert [row.label for row in rows] == ["Armed attack", "Doxxing"]
    assert [(bar.value, bar.percent, bar.colour) for bar in rows[0].bars] == [
        ("1,200", "85.00", "#0b3d91"),
        ("600", "42.50", "#9aa5b1"),
    ]
    assert [(bar.value, bar.percent) for bar in rows[1].bars] == [("0", "0.00"), ("2.5", "0.18")]


def test_bars_of_an_all_zero_chart_have_no_width():
    rows = bar_rows(chart("bar", ("A",), (0.0,), (0.0,)))
    assert [(bar.value, bar.percent) for bar in rows[0].bars] == [("0", "0.00"), ("0", "0.00")]


def test_the_month_line_is_drawn_at_its_printed_size_with_a_point_per_month():
    svg = line_svg(chart("line", ("January", "February"), (10.0, 5.0), (0.0, 10.0)))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" width="180.00mm" height="52.00mm" ')
    assert 'viewBox="0 0 180.00 52.00"' in svg
    # Two columns between the axis (13 mm) and the right edge (179 mm): points at their centres; 10 is the top tick,
    # drawn at 3 mm, 0 at the bottom of the plot (44 mm).
    assert re.findall(r'points="([^"]+)"', svg) == ["54.50,44.00 137.50,3.00", "54.50,3.00 137.50,23.50"]
    assert svg.count("<circle") == 4
    assert re.findall(r">([^<]+)</text>", svg) == ["0", "2", "4", "6", "8", "10", "January", "February"]


def test_text_in_the_month_line_is_escaped():
    svg = line_svg(chart("line", ('</svg><img src="http://x/">&',), (1.0,), (0.0,)))
    assert "<img" not in svg
    assert "&lt;/svg&gt;&lt;img src=&quot;http://x/&quot;&gt;&amp;" in svg


def test_a_chart_with_nothing_to_draw_is_marked_empty():
    empty = pdf_chart(chart("hbar", (), (), ()))
    assert (empty["empty"], empty["svg"], empty["rows"]) == (True, None, ())
    line = pdf_chart(chart("line", ("January",), (1.0,), (0.0,)))
    assert (line["empty"], line["rows"], line["legend"]) == (False, (), (("2025", "#0b3d91"), ("2024", "#9aa5b1")))
    assert str(line["svg"]).startswith("<svg")
