"""The review steps the typical cases (library/services.py) and the guidance tips (library/guidance/services.py) share.

Both are written, sent for approval, approved by someone else (four eyes), published and withdrawn by the same kind of
step: each step locks its row, then asks its material's policy and workflow, in one order, who may (403), whether four
eyes allow (403), whether the copy read is current (412) and whether the state allows it (409), before anything is
written; a written step bumps the row's version. Each material keeps its own words and its own rules (``StepRules``);
this module keeps the order and the mechanics, so that neither kind of material can drift from the other.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases.exceptions import IllegalTransition, StaleVersion
from library.choices import NOTE_MAX, Language


class Reviewed(Protocol):
    """A row a step is taken on: it carries the version its readers send back."""

    version: int


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
    """Check, on the locked row and in this order, who may (403), four eyes (403), the version read (412) and what the
    state allows (409). Raises the refusal; returns when the step may be taken."""
    actor = actor_for(by)
    if not rules.may_take(actor, locked, action):
        raise PermissionDenied(str(rules.refusals[action]))
    if action == "publish" and rules.wrote_last(actor, locked):
        raise PermissionDenied(str(rules.four_eyes_refusal))
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(str(rules.stale_refusal), code="stale_version")
    if not rules.state_allows(locked, action):
        raise IllegalTransition(rules.not_now(locked, action), code="illegal_transition")


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
