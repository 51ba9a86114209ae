"""Every write to the guidance tips. Each service owns its transaction, locks the tip it changes, checks the policy
(library/guidance/policy.py) and the workflow (library/guidance/workflow.py) on the locked row, checks the version the
caller read, and writes the tip's log (``TipEvent``). A refusal raises before anything is written: ``PermissionDenied``
for who may not, ``StaleVersion`` for a stale copy, ``IllegalTransition`` for a step the state does not allow,
``ValidationError`` (by field) for what may not be.

Publishing records the push of the tip to the officers of its subtree and enqueues it through the outbox in the same
transaction (library/notices.py ``push_tip``): a tip is published with its push or not at all, and the officers are
told by a background task once it commits, outside the approver's request.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases.choices import DutyScenario, IncidentKind
from library import notices, review
from library.choices import column
from library.guidance import policy
from library.guidance.choices import (
    TAGS_MAX,
    TIP_BODY_MAX,
    TIP_COLUMNS,
    TIP_LABELS,
    TIP_TITLE_MAX,
    TipPriority,
    TipState,
    TipStep,
)
from library.guidance.models import Tip, TipEvent, TipRead
from library.guidance.selectors import languages_of, today
from library.guidance.workflow import TRANSITIONS

WRITE_REFUSAL = gettext_lazy("Only supervisors and administrators write guidance tips, for the units they cover.")
MANAGE_REFUSAL = gettext_lazy("Only supervisors and administrators write and approve guidance tips.")
EDIT_REFUSAL = gettext_lazy(
    "Only the supervisors and administrators of the tip's unit, or of a unit above it, edit this tip."
)
APPROVE_REFUSAL = gettext_lazy(
    "Only the administrators of the tip's unit, or of a unit above it, approve and publish this tip."
)
WITHDRAW_REFUSAL = gettext_lazy(
    "Only the supervisors and administrators of the tip's unit, or of a unit above it, withdraw this tip."
)
FOUR_EYES_REFUSAL = gettext_lazy(
    "You wrote this tip or made its last change: someone else must approve it (four eyes). Ask another administrator."
)
SCOPE_REFUSAL = gettext_lazy("Publish to the tip's unit or to a unit below it.")
READ_REFUSAL = gettext_lazy("This tip is not in force for a unit of yours.")
STALE_REFUSAL = gettext_lazy(
    "This tip changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)
REFUSALS = {
    "save": EDIT_REFUSAL,
    "submit": EDIT_REFUSAL,
    "copy": EDIT_REFUSAL,
    "return": APPROVE_REFUSAL,
    "publish": APPROVE_REFUSAL,
    "withdraw": WITHDRAW_REFUSAL,
}
# Explicit bidirectional embeddings, overrides and isolates (LRE … RLO, LRI … PDI): invisible, and a title holding one
# turns around the sentence a notification wraps it in and the cells after it in the training record. Dropped from
# what is written, so a tip reads as what was typed (right-to-left scripts need none of them).
BIDI_FORMATTING = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class TipInput:
    """What an editor writes: the texts by column (those left out are kept when saving), the tags, the priority and
    the validity."""

    texts: Mapping[str, str] = field(default_factory=dict)
    scenarios: Iterable[str] = ()
    kinds: Iterable[str] = ()
    priority: str = TipPriority.NORMAL
    valid_from: date | None = None
    valid_until: date | None = None


def tip_field_label(name: str) -> str:
    """A text of a tip in the reader's language: Title (Chinese)."""
    name_of, language = name.rsplit("_", 1)
    return review.text_label(TIP_LABELS[name_of], language)


def _log(tip: Tip, step: str, by: User | None, data: dict[str, Any] | None = None) -> None:
    TipEvent.objects.create(tip=tip, step=step, actor=by, at=timezone.now(), data=data or {})


def _lock(tip: Tip) -> Tip:
    return Tip.objects.select_for_update(of=("self",)).select_related("unit", "scope_unit").get(pk=tip.pk)


def _not_now(tip: Tip, action: str) -> str:
    return _("“%(action)s” is not possible while the tip is “%(state)s”.") % {
        "action": TRANSITIONS[action].label,
        "state": tip.get_state_display(),
    }


RULES = review.StepRules(
    may_take=policy.may_take,
    wrote_last=policy.wrote,
    state_allows=policy.state_allows,
    refusals=REFUSALS,
    four_eyes_refusal=FOUR_EYES_REFUSAL,
    stale_refusal=STALE_REFUSAL,
    not_now=_not_now,
)


def _act(tip: Tip, by: User, action: str, expected_version: int | None) -> Tip:
    """Lock the tip and check the step on it (``review.check_step``)."""
    locked = _lock(tip)
    review.check_step(RULES, locked, by, action, expected_version)
    return locked


# --- what an editor writes -----------------------------------------------------------------------------------------


def _codes(values: Iterable[str], allowed: list[str], name: str, errors: dict[str, str]) -> list[str]:
    codes = list(dict.fromkeys(values))
    if set(codes) - set(allowed):
        errors[name] = _("Choose among the listed values.")
    elif len(codes) > TAGS_MAX:
        errors[name] = _("Choose %(limit)s or fewer.") % {"limit": TAGS_MAX}
    return codes


def _checked(data: TipInput, errors: dict[str, str]) -> dict[str, Any]:
    """The tip's fields from ``data``, with what is wrong in ``errors`` by field."""
    cleaned: dict[str, Any] = {}
    for name, value in data.texts.items():
        if name not in TIP_COLUMNS:
            errors[name] = _("There is no such text.")
            continue
        value = BIDI_FORMATTING.sub("", (value or "").replace("\r\n", "\n")).strip()
        limit = TIP_TITLE_MAX if name.startswith("title_") else TIP_BODY_MAX
        if len(value) > limit:
            errors[name] = _("Keep this to %(limit)s characters or fewer.") % {"limit": limit}
        elif name.startswith("title_") and "\n" in value:
            errors[name] = _("Write the title on one line.")
        cleaned[name] = value
    cleaned["scenarios"] = _codes(data.scenarios, DutyScenario.values, "scenarios", errors)
    cleaned["kinds"] = _codes(data.kinds, IncidentKind.values, "kinds", errors)
    if data.priority not in TipPriority.values:
        errors["priority"] = _("Choose among the listed values.")
    cleaned["priority"] = data.priority
    if data.valid_from is None:
        errors["valid_from"] = _("Give the first day the tip holds.")
    elif data.valid_until is not None and data.valid_until < data.valid_from:
        errors["valid_until"] = _("The last day cannot be before the first.")
    cleaned["valid_from"], cleaned["valid_until"] = data.valid_from, data.valid_until
    return cleaned


def _check_complete(tip: Tip) -> None:
    """At least one language written in full (a title and the tip); a language begun is written in full too; a tip
    whose last day has passed is not sent on."""
    errors: dict[str, str] = {}
    begun = languages_of(tip)
    if not begun:
        review.raise_errors({column("title", "zh"): _("Write the tip in Chinese, in English or in both.")})
    for language in begun:
        for name in (column("title", language), column("body", language)):
            if not getattr(tip, name).strip():
                errors[name] = _("%(field)s is needed before the tip is sent on.") % {"field": tip_field_label(name)}
    if tip.valid_until is not None and tip.valid_until < today():
        errors["valid_until"] = _("The tip's last day has passed: give a later one.")
    review.raise_errors(errors)


@transaction.atomic
def create_tip(*, by: User, unit: OrgUnit, data: TipInput, replaces: Tip | None = None) -> Tip:
    """A new draft tip of ``unit`` (one the writer supervises or administers, or one below it)."""
    if not policy.may_write_for(actor_for(by), unit):
        raise PermissionDenied(str(WRITE_REFUSAL))
    errors: dict[str, str] = {}
    cleaned = _checked(data, errors)
    review.raise_errors(errors)
    now = timezone.now()
    tip = Tip.objects.create(
        unit=unit,
        author=by,
        created_at=now,
        last_editor=by,
        edited_at=now,
        updated_at=now,
        replaces=replaces,
        **cleaned,
    )
    _log(tip, TipStep.CREATED, by, {"replaces": replaces.pk} if replaces else {})
    return tip


@transaction.atomic
def save_tip(*, tip: Tip, by: User, data: TipInput, expected_version: int | None) -> Tip:
    """Save the draft: the texts given (the others are kept), the tags, the priority and the validity."""
    tip = _act(tip, by, "save", expected_version)
    errors: dict[str, str] = {}
    cleaned = _checked(data, errors)
    review.raise_errors(errors)
    for name, value in cleaned.items():
        setattr(tip, name, value)
    tip.last_editor = by
    tip.edited_at = timezone.now()
    review.save_step(tip, *cleaned, "last_editor", "edited_at")
    _log(tip, TipStep.SAVED, by, {"texts": [n for n in cleaned if n in TIP_COLUMNS]})
    return tip


@transaction.atomic
def copy_tip(*, tip: Tip, by: User, expected_version: int | None = None) -> Tip:
    """A new draft written from a published (or withdrawn) tip, of the same unit: publishing it withdraws the one it
    replaces, if still published. One at a time: while a new tip from it is a draft or awaits approval, another is
    refused (both would go out, each pushed to every officer). ``expected_version``, when given, is the version of the
    tip written from that the caller read."""
    source = _act(tip, by, "copy", expected_version)
    open_copy = Tip.objects.filter(replaces=source, state__in=(TipState.DRAFT, TipState.SUBMITTED)).first()
    if open_copy is not None:
        review.raise_errors(
            {
                "__all__": _("A new tip from this one is already being written (no. %(number)s): carry on with it.")
                % {"number": open_copy.pk}
            }
        )
    data = TipInput(
        texts={name: getattr(source, name) for name in TIP_COLUMNS},
        scenarios=source.scenarios,
        kinds=source.kinds,
        priority=source.priority,
        valid_from=max(source.valid_from, today()),
        valid_until=source.valid_until if source.valid_until is None or source.valid_until >= today() else None,
    )
    return create_tip(by=by, unit=source.unit, data=data, replaces=source)


@transaction.atomic
def submit_tip(*, tip: Tip, by: User, expected_version: int | None) -> Tip:
    tip = _act(tip, by, "submit", expected_version)
    _check_complete(tip)
    tip.state = TipState.SUBMITTED
    tip.submitted_by = by
    tip.submitted_at = timezone.now()
    tip.return_note = ""
    review.save_step(tip, "state", "submitted_by", "submitted_at", "return_note")
    _log(tip, TipStep.SUBMITTED, by)
    notices.tip_submitted(tip, by)
    return tip


@transaction.atomic
def return_tip(*, tip: Tip, by: User, note: str, expected_version: int | None) -> Tip:
    tip = _act(tip, by, "return", expected_version)
    note = review.required_note(note, _("Say what the editor should change."))
    tip.state = TipState.DRAFT
    tip.submitted_by = None
    tip.submitted_at = None
    tip.return_note = note
    review.save_step(tip, "state", "submitted_by", "submitted_at", "return_note")
    _log(tip, TipStep.RETURNED, by, {"note": note})
    notices.tip_to_editors(tip, by, notices.RETURNED)
    return tip


def _withdraw(tip: Tip, by: User, note: str) -> None:
    tip.state = TipState.WITHDRAWN
    tip.withdrawal_note = note
    tip.withdrawn_at = timezone.now()
    review.save_step(tip, "state", "withdrawal_note", "withdrawn_at")
    _log(tip, TipStep.WITHDRAWN, by, {"note": note})


@transaction.atomic
def publish_tip(*, tip: Tip, by: User, scope_unit: OrgUnit, expected_version: int | None) -> Tip:
    """Approve the tip and publish it to ``scope_unit``'s subtree (the tip's unit's or a part of it): never by whoever
    wrote it or made its last change. It is pushed to every officer of the subtree once this commits, and the tip it
    replaces, if still published, is withdrawn."""
    tip = _act(tip, by, "publish", expected_version)
    if not policy.may_publish_to(tip, scope_unit):
        review.raise_errors({"scope_unit": str(SCOPE_REFUSAL)})
    _check_complete(tip)
    now = timezone.now()
    tip.state = TipState.PUBLISHED
    tip.approved_by = by
    tip.scope_unit = scope_unit
    tip.scope_path = scope_unit.path
    tip.published_at = now
    tip.submitted_by = None
    tip.submitted_at = None
    review.save_step(
        tip, "state", "approved_by", "scope_unit", "scope_path", "published_at", "submitted_by", "submitted_at"
    )
    _log(tip, TipStep.PUBLISHED, by, {"scope_unit": scope_unit.pk})
    if tip.replaces_id is not None:
        replaced = Tip.objects.select_for_update(of=("self",)).get(pk=tip.replaces_id)
        if replaced.state == TipState.PUBLISHED:
            _withdraw(replaced, by, _("Replaced by tip no. %(number)s.") % {"number": tip.pk})
    notices.push_tip(tip)
    notices.tip_to_editors(tip, by, notices.PUBLISHED)
    return tip


@transaction.atomic
def withdraw_tip(*, tip: Tip, by: User, note: str, expected_version: int | None) -> Tip:
    """Take a published tip away from its readers (and the terminals' lists), saying why."""
    tip = _act(tip, by, "withdraw", expected_version)
    _withdraw(tip, by, review.required_note(note, _("Say why the tip is withdrawn.")))
    return tip


# --- reading -------------------------------------------------------------------------------------------------------


@transaction.atomic
def record_tip_read(*, tip: Tip, by: User) -> bool:
    """Count the reader's first opening of a tip in force for them (its page, or its API answer), for the training
    records. True when this was the first. Reopening, or a second request at the same moment, counts nothing more."""
    fresh = Tip.objects.get(pk=tip.pk)
    actor = actor_for(by)
    if not policy.can_read(actor, fresh, today()):
        raise PermissionDenied(str(READ_REFUSAL))
    path = policy.reader_unit_path(actor, fresh.scope_path)
    return review.record_first_read(TipRead, reader=by, unit_path=path, tip=fresh)
