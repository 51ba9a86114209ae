"""CSV cells a spreadsheet program will show as text, never run as a formula (CSV injection).

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed may be taken for a
formula by Excel or LibreOffice when the file is opened, so a unit name such as ``=HYPERLINK("http://…?"&A2)`` could
send other cells away. The programs skip leading white space and invisible characters and read full-width forms as
plain ones, so the character that counts is the first one that is neither, in its NFKC form: a space, a line break or
a zero-width space before ``=``, and the full-width ``＝``, start formulas too. Following the OWASP guidance such text
gets a leading single quote, which the programs show as text.
Numbers stay numbers: numeric values, and text that is nothing but a signed number (``-5``, ``+2999.50``,
``+33.3%``), cannot be a formula and are written unchanged. Every CSV the application writes goes through
:func:`csv_writer` (a streamed one through :func:`csv_blocks`).
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Protocol

# Characters that start a formula, once the spreadsheet has skipped what it ignores in front of them.
FORMULA_CHARACTERS = frozenset("=+-@")
# A cell starting with one of these is quoted whatever follows (a line break may end the cell's first "line").
CONTROL_STARTS = ("\t", "\r", "\n")
# A signed decimal number, optionally a percentage: what the reports write for figures and changes.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)%?")
BLOCK_ROWS = 500  # CSV rows per yielded block: small enough to keep memory flat, big enough to keep it fast


def _ignorable(char: str) -> bool:
    """White space of any script, and invisible format and control characters (zero-width space, BOM, LRM …)."""
    return char.isspace() or unicodedata.category(char) in ("Cf", "Cc")


def first_significant_character(text: str) -> str:
    """The first character that is neither white space nor invisible, as its compatibility form (NFKC), so a
    full-width ``＝`` reads as ``=``; empty when there is none."""
    for char in text:
        if not _ignorable(char):
            return unicodedata.normalize("NFKC", char)[:1]
    return ""


def csv_cell(value: Any) -> Any:
    """``value`` as it is safe to write to a CSV cell: text that could start a formula gets a leading quote."""
    if value is None or isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    if PLAIN_NUMBER.fullmatch(text):
        return text
    if text.startswith(CONTROL_STARTS) or first_significant_character(text) in FORMULA_CHARACTERS:
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


def csv_blocks(rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """``rows`` as guarded CSV in UTF-8 blocks, a byte-order mark first (so spreadsheet programs read Chinese)."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    yield "\ufeff".encode()
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= BLOCK_ROWS:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode()
