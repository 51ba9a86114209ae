"""The review steps the typical cases (library/services.py) and the guidance tips (library/guidance/services.py) share.

Both are written, sent for approval, approved by someone else (four eyes), published and withdrawn by the same kind of
step: each step locks its row, then asks its material's policy and workflow, in one order, who may (403), whether four
eyes allow (403), whether the copy read is current (412; an approval must name it, 428) and whether the state allows
it (409), before anything is written; a written step bumps the row's version. Each material keeps its own words and
its own rules (``StepRules``); this module keeps the order and the mechanics, so that neither kind of material can
drift from the other. What either writes goes through ``written_text``.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.authority import Actor
from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases.exceptions import IllegalTransition, StaleVersion, VersionRequired
from library.choices import NOTE_MAX, Language


class Reviewed(Protocol):
    """A row a step is taken on: it carries the version its readers send back."""

    version: int


# The steps that approve what the approver read: never without the version read. Otherwise an approver who read one
# text could publish another that a colleague returned, its writer rewrote and sent back meanwhile, which no one but
# its writer had read (four eyes). The editors' pages always send it; an API client must too.
APPROVALS = frozenset({"publish"})
VERSION_REQUIRED = gettext_lazy(
    'Approving needs the version you read and approve: send it as "version" in the body or in If-Match.'
)


@dataclass(frozen=True)
class StepRules:
    """What one kind of material answers to the questions every step asks."""

    may_take: Callable[[Actor, Any, str], bool]  # the role lets the actor take the step at all
    wrote_last: Callable[[Actor, Any], bool]  # the actor may not approve it (four eyes)
    state_allows: Callable[[Any, str], bool]
    refusals: Mapping[str, Promise]  # by action: who may
    four_eyes_refusal: Promise
    stale_refusal: Promise
    not_now: Callable[[Any, str], str]  # what is said of a step the state does not allow


def check_step(rules: StepRules, locked: Reviewed, by: User, action: str, expected_version: int | None) -> None:
    """Check, on the locked row and in this order, who may (403), four eyes (403), the version read (an approval must
    name it: 428; a stale one 412) and what the state allows (409). Raises the refusal; returns when the step may be
    taken. Other steps without a version are taken on the row as it is."""
    actor = actor_for(by)
    if not rules.may_take(actor, locked, action):
        raise PermissionDenied(str(rules.refusals[action]))
    if action == "publish" and rules.wrote_last(actor, locked):
        raise PermissionDenied(str(rules.four_eyes_refusal))
    if expected_version is None and action in APPROVALS:
        raise VersionRequired(str(VERSION_REQUIRED), code="version_required")
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(str(rules.stale_refusal), code="stale_version")
    if not rules.state_allows(locked, action):
        raise IllegalTransition(rules.not_now(locked, action), code="illegal_transition")


# Every way a text breaks a line: CR LF, a lone CR, the vertical tab and form feed, the file, group and record
# separators, NEL and the Unicode line and paragraph separators (what ``str.splitlines`` splits on). Each is written as
# "\n", so that "a title on one line" means one line wherever it is shown.
LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def written_text(value: str | None) -> str:
    """A text as the material keeps it: its line breaks as "\n", without what shows nothing or steers how the text
    around it is shown (Unicode's format characters: zero-width spaces and joiners, byte order marks, direction marks,
    overrides and isolates) nor control characters other than line breaks and tabs, and trimmed. So a text of nothing
    but invisible characters is empty, and what a check reads is what a reader sees."""
    text = LINE_BREAKS.sub("\n", value or "")
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")).strip()


def raise_errors(errors: Mapping[str, str | list[str]]) -> None:
    """Refuse what may not be, by field: nothing is written."""
    if errors:
        raise ValidationError(dict(errors))


def save_step(row: models.Model, *fields: str) -> None:
    """Write the fields a step changed, with the next version (readers' copies become stale) and the time."""
    row.version += 1  # type: ignore[attr-defined]
    row.updated_at = timezone.now()  # type: ignore[attr-defined]
    row.save(update_fields=[*fields, "version", "updated_at"])


def required_note(note: str, message: str) -> str:
    """The note a step needs (returning, withdrawing, declining: why), trimmed; ``message`` says it is missing."""
    note = (note or "").strip()
    if not note:
        raise_errors({"note": message})
    if len(note) > NOTE_MAX:
        raise_errors({"note": _("Keep this to %(limit)s characters or fewer.") % {"limit": NOTE_MAX}})
    return note


def text_label(label: Promise | str, language: str) -> str:
    """A text of the material in the reader's language: What happened (Chinese)."""
    return _("%(field)s (%(language)s)") % {"field": label, "language": Language(language).label}


def record_first_read(model: type[models.Model], *, reader: User, unit_path: str | None, **read: Any) -> bool:
    """Count a reader's first opening of what ``read`` names (a version, a tip), for the unit at ``unit_path``: True
    when this was the first. Reopening, or a second request at the same moment, counts nothing more."""
    manager = model._default_manager
    if manager.filter(reader=reader, **read).exists():
        return False
    unit = OrgUnit.objects.filter(path=unit_path).first() if unit_path else None
    # A second request at the same moment finds no row above, and its insert is ignored: one read either way.
    manager.bulk_create([model(reader=reader, unit=unit, read_at=timezone.now(), **read)], ignore_conflicts=True)
    return True
