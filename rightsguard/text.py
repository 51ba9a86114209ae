"""How dates and times read to people: one local format per language (rightsguard/formats/), in the site's time
zone, whatever carries them (a page, a notification rendered at read time, an e-mail, a PDF, a flag's facts)."""

from datetime import date, datetime

from django.conf import settings
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime


def parse_when(value: object) -> date | datetime | None:
    """A date or datetime, or the ISO text of one (as JSON details store them); None for anything else."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return parse_datetime(value) if len(value) > 10 else parse_date(value)
    except ValueError:
        return None


def when(value: object) -> str:
    """``31 Oct 2026 21:31`` / ``2026年10月31日 21:31`` for a moment, ``31 Oct 2026`` / ``2026年10月31日`` for a day,
    in the active language; text that is not a date comes back unchanged."""
    found = parse_when(value)
    if found is None:
        return "" if value is None else str(value)
    if isinstance(found, datetime):
        if timezone.is_naive(found):
            found = timezone.make_aware(found)
        return formats.date_format(timezone.localtime(found), "DATETIME_FORMAT")
    return formats.date_format(found, "DATE_FORMAT")


def language_of(user: object) -> str:
    """The language a user reads e-mails in: their preference, else the site's."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE
