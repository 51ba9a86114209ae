"""CSV cells a spreadsheet program will show as text, never run as a formula (CSV injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be taken for a formula by
Excel or LibreOffice when the file is opened, so a unit name such as ``=HYPERLINK("http://…?"&A2)`` could send other
cells away. Following the OWASP guidance such text gets a leading single quote, which the programs show as text.
Numbers stay numbers: numeric values, and text that is nothing but a signed number (``-5``, ``+2999.50``,
``+33.3%``), cannot be a formula and are written unchanged. Every CSV the application writes goes through
:func:`csv_writer`.
"""

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A signed decimal number, optionally a percentage: what the reports write for figures and changes.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)%?")


def csv_cell(value: Any) -> Any:
    """``value`` as it is safe to write to a CSV cell: text that could start a formula gets a leading quote."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


class _Writable(Protocol):
    def write(self, s: str, /) -> Any: ...


class SafeCSVWriter:
    """``csv.writer`` whose rows pass through :func:`csv_cell`."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])


def csv_writer(stream: _Writable) -> SafeCSVWriter:
    return SafeCSVWriter(stream)
