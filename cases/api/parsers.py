"""The API's request body parser: JSON, encoded as UTF-8, nested at most ``MAX_JSON_DEPTH`` levels deep.

Python's ``json`` module recurses once per array or object level, so a small body of a hundred thousand ``[``
exhausts the interpreter's recursion limit and the request fails with a server error. The depth is therefore
measured first by a linear scan over the bytes that never recurses, and a deeper document is refused with 400
(``parse_error``) before the decoder sees it. The body it scans is bounded by ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(Django refuses a larger one before parsing starts).

JSON is UTF-8 (RFC 8259, section 8.1). A body labelled with another charset (``charset=latin-1``) would be decoded
with it and its text stored garbled, so such a label is refused with 415 (``unsupported_media_type``).
"""

import codecs
import io
from array import array
from itertools import accumulate
from typing import IO, Any

from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers

# Far deeper than any body the API's operations take, far below the depth at which the decoder's recursion fails.
MAX_JSON_DEPTH = 32

_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
# An opening bracket as the signed byte 1, a closing one as -1 (0xFF).
_LEVEL_CHANGE = bytes(1 if byte in b"[{" else 0xFF if byte in b"]}" else 0 for byte in range(256))


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """Whether arrays and objects in a JSON text (UTF-8) nest more than ``limit`` levels, found without parsing.

    Brackets inside strings do not count; an unclosed bracket does. Every step runs in C, in time linear in the
    size of the body (less than the decoder takes), and the count stops at the first level past the limit.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    # A backslash only occurs in a string, where it escapes the next character. Escaped backslashes go first, so
    # that what is left of each escape sequence cannot be mistaken for one (``\\"`` ends a string).
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Between the quotes that remain, text alternates between outside and inside a string.
    outside_strings = b"".join(unescaped.split(b'"')[::2])
    levels = accumulate(array("b", outside_strings.translate(_LEVEL_CHANGE, _NOT_A_BRACKET)))
    return next(filter(limit.__lt__, levels), None) is not None


def _is_utf8(charset: str) -> bool:
    try:
        return codecs.lookup(charset).name == "utf-8"
    except LookupError:
        return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, for UTF-8 bodies nested at most ``MAX_JSON_DEPTH`` levels deep."""

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        charset = parse_header_parameters(media_type or "")[1].get("charset")
        if charset is not None and not _is_utf8(charset):
            raise exceptions.UnsupportedMediaType(
                media_type or "",
                detail=_("A JSON body must be encoded as UTF-8; the charset %(charset)s is not accepted.")
                % {"charset": charset},
            )
        body = stream.read()
        if nests_deeper_than(body, MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                _("The JSON body nests arrays and objects more than %(limit)d levels deep.") % {"limit": MAX_JSON_DEPTH}
            )
        return super().parse(io.BytesIO(body), media_type, parser_context)
