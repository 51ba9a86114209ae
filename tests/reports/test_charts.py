"""Chart tick labels in the PDF: wrapped between words, never inside one."""

import pytest
from django.utils import formats, translation

from cases.reports.charts import _wrap


@pytest.mark.parametrize("month", range(1, 13))
def test_month_labels_of_the_line_chart_stay_whole(month):
    # The line chart wraps its labels at six characters; "January" used to print as "Januar" over "y".
    from datetime import date

    with translation.override("en"):
        name = formats.date_format(date(2000, month, 1), "F")
    assert _wrap(name, 6) == name


def test_labels_wrap_between_words_and_chinese_at_the_width():
    assert _wrap("Threat or intimidation of officers on duty", 28) == "Threat or intimidation of\nofficers on duty"
    assert _wrap("Mid-September", 6) == "Mid-September"
    assert _wrap("暴力袭击民警致轻伤以上", 6) == "暴力袭击民警\n致轻伤以上"
    assert _wrap("十二月", 6) == "十二月"
