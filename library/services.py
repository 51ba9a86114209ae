"""Every write to the typical-case library. Each service owns its transaction, locks the write-up it changes, checks the
policy (library/policy.py) and the workflow (library/workflow.py) on the locked row, checks the version the caller
read, and writes the log (``WriteUpEvent``). A refusal raises before anything is written: ``PermissionDenied`` for who
may not, ``StaleVersion`` for a stale copy, ``IllegalTransition`` for a step the state does not allow,
``ValidationError`` (by field) for what may not be.

The anonymisation check (``check_anonymised``) runs inside the services that send a text on (for approval, to
publication), so every door — page, API, a shell — is held by it.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import selectors as case_selectors
from cases.models import Case
from library import anonymise, notices, policy, review, selectors
from library.choices import (
    ARTICLES,
    COLUMNS,
    NOTE_MAX,
    REQUIRED_FIELDS,
    TEXT_LABELS,
    TEXT_MAX,
    TITLE_MAX,
    LogStep,
    WriteUpState,
    column,
)
from library.models import LibraryFeedback, LibraryRead, VersionArticle, WriteUp, WriteUpEvent, WriteUpVersion
from library.workflow import TRANSITIONS

# What a refusal says, wherever it is given: here, and by the pages and the API before they read a body.
PROPOSE_REFUSAL = gettext_lazy("Only a supervisor overseeing a closed case can propose it as a typical case.")
EDIT_REFUSAL = gettext_lazy(
    "Only the supervisors of the proposing unit, or of a unit above it, edit this typical case."
)
APPROVE_REFUSAL = gettext_lazy(
    "Only the administrators of the proposing unit, or of a unit above it, approve and publish this typical case."
)
WITHDRAW_REFUSAL = gettext_lazy(
    "Only the supervisors and administrators of the proposing unit, or of a unit above it, withdraw this typical case."
)
DECLINE_REFUSAL = gettext_lazy(
    "Only the supervisors and administrators of the proposing unit, or of a unit above it, decline this proposal."
)
FOUR_EYES_REFUSAL = gettext_lazy(
    "You made the last change to this text: someone else must approve it (four eyes). Ask another administrator."
)
READ_REFUSAL = gettext_lazy("This typical case is not published to a unit of yours.")
STALE_REFUSAL = gettext_lazy(
    "This typical case changed after you opened it, so nothing was saved. Check it as it is now, then send it again."
)
REFUSALS = {
    "save": EDIT_REFUSAL,
    "anonymise": EDIT_REFUSAL,
    "submit": EDIT_REFUSAL,
    "revise": EDIT_REFUSAL,
    "return": APPROVE_REFUSAL,
    "publish": APPROVE_REFUSAL,
    "withdraw": WITHDRAW_REFUSAL,
    "decline": DECLINE_REFUSAL,
}

KIND_TEXT = {
    anonymise.Kind.OFFICER_NAME: gettext_lazy("an officer's name"),
    anonymise.Kind.SUSPECT_NAME: gettext_lazy("a suspect's name"),
    anonymise.Kind.WITNESS_NAME: gettext_lazy("a witness's name"),
    anonymise.Kind.ID_NUMBER: gettext_lazy("an ID number"),
    anonymise.Kind.PHONE: gettext_lazy("a phone number"),
    anonymise.Kind.PLATE: gettext_lazy("a vehicle plate"),
    anonymise.Kind.BADGE: gettext_lazy("a badge number"),
    anonymise.Kind.REFERENCE: gettext_lazy("the case's reference number"),
    anonymise.Kind.ADDRESS: gettext_lazy("an exact address"),
    anonymise.Kind.DATE: gettext_lazy("a full date"),
}


def kinds_text(kinds: Iterable[anonymise.Kind]) -> str:
    """The kinds found, listed in the reader's language: an officer's name, an ID number."""
    texts = [str(KIND_TEXT[kind]) for kind in kinds]
    listed = texts[0] if texts else ""
    for text in texts[1:]:
        listed = pgettext("a list", "%(list)s, %(item)s") % {"list": listed, "item": text}
    return listed


def field_label(name: str) -> str:
    """The name of a text of the write-up in the reader's language: What happened (Chinese); or of the articles
    linked."""
    if name == ARTICLES:
        return _("Articles linked")
    field, language = name.rsplit("_", 1)
    return review.text_label(TEXT_LABELS[field], language)


def _log(writeup: WriteUp, step: str, by: User | None, data: dict[str, Any] | None = None) -> None:
    WriteUpEvent.objects.create(writeup=writeup, step=step, actor=by, at=timezone.now(), data=data or {})


def _lock(writeup: WriteUp) -> WriteUp:
    return (
        WriteUp.objects.select_for_update(of=("self",))
        .select_related("unit", "case", "published_version")
        .get(pk=writeup.pk)
    )


def _not_now(writeup: WriteUp, action: str) -> str:
    return _("“%(action)s” is not possible while the typical case is “%(state)s”.") % {
        "action": TRANSITIONS[action].label,
        "state": writeup.get_state_display(),
    }


RULES = review.StepRules(
    may_take=policy.may_take,
    wrote_last=policy.is_last_editor,
    state_allows=policy.state_allows,
    refusals=REFUSALS,
    four_eyes_refusal=FOUR_EYES_REFUSAL,
    stale_refusal=STALE_REFUSAL,
    not_now=_not_now,
)


def _act(writeup: WriteUp, by: User, action: str, expected_version: int | None) -> WriteUp:
    """Lock the write-up and check the step on it (``review.check_step``)."""
    locked = _lock(writeup)
    review.check_step(RULES, locked, by, action, expected_version)
    return locked


# --- the anonymisation check ---------------------------------------------------------------------------------------


def check_anonymised(writeup: WriteUp) -> None:
    """Refuse (by field) a write-up any text of which still holds a name, an ID number, a phone number, a plate, a badge
    number of the source case's parties or its reference (in either script, full-width digits and separators
    included), or an ID number, a mobile number or a plate of any kind; the articles linked too, which readers read
    as the case recorded them. The message says what kind of item remains, never the item."""
    remaining = selectors.leftovers(writeup, selectors.known_parties(writeup))
    errors = {}
    for name, kinds in remaining.items():
        items = kinds_text(kinds)
        if name == ARTICLES:
            errors[name] = _(
                "The articles linked still hold %(items)s from the case. Unlink them and give the legal basis in words."
            ) % {"items": items}
            continue
        errors[name] = _(
            "%(field)s still holds %(items)s from the case. Accept the proposed replacements or rewrite it."
        ) % {"field": field_label(name), "items": items}
    review.raise_errors(errors)


# --- proposing and drafting ----------------------------------------------------------------------------------------


def _prefill(case: Case) -> dict[str, str]:
    """The case's own words to start from, in the language they are written in: its summary as the title, its account
    of what happened. The proposal then replaces what identifies anyone."""
    summary, narrative = anonymise.clean(case.summary), anonymise.clean(case.narrative)
    language = "zh" if anonymise.CJK.search(f"{summary}{narrative}") else "en"
    return {
        column("title", language): summary[:TITLE_MAX],
        column("happened", language): narrative[:TEXT_MAX],
    }


@transaction.atomic
def propose_case(*, case: Case, by: User, note: str = "") -> WriteUp:
    """Propose a closed case as a typical case: a write-up of the supervisor's unit, started from the case's summary
    and account, its incident type, duty scenario and place, and every rule and article it applied."""
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    actor = actor_for(by)
    if not policy.can_propose(actor, case):
        raise PermissionDenied(str(PROPOSE_REFUSAL))
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        review.raise_errors({"note": _("Keep this to %(limit)s characters or fewer.") % {"limit": NOTE_MAX}})
    if WriteUp.objects.filter(case=case).exists():
        raise ValidationError(_("This case has been proposed as a typical case already."), code="proposed_already")
    unit = OrgUnit.objects.get(path=policy.proposing_path(actor, case))
    basis = case_selectors.legal_basis_of(case)
    now = timezone.now()
    writeup = WriteUp.objects.create(
        case=case,
        unit=unit,
        proposal_note=note,
        proposed_by=by,
        proposed_at=now,
        updated_at=now,
        kind=case.kind,
        duty_scenario=case.duty_scenario,
        place_category=case.place_category,
        rule_codes=[r.code for r in basis.rules],
        articles=list(basis.articles),
        **_prefill(case),
    )
    _log(writeup, LogStep.PROPOSED, by, {"case": case.pk, "unit": unit.pk})
    return writeup


def _edited(writeup: WriteUp, by: User, *, changed: bool) -> None:
    """Make ``by`` the last editor if they changed something (or if no one has edited it yet): four eyes look at who
    wrote the last change, which a save that changes nothing is not."""
    if changed or writeup.last_editor_id is None:
        writeup.last_editor = by
        writeup.edited_at = timezone.now()


def _check_texts(texts: Mapping[str, str], errors: dict[str, str]) -> dict[str, str]:
    cleaned = {}
    for name, value in texts.items():
        if name not in COLUMNS:
            errors[name] = _("There is no such text.")
            continue
        # Without what shows nothing or turns the text around (``anonymise.clean``): the check reads what readers see.
        value = anonymise.clean((value or "").replace("\r\n", "\n")).strip()
        limit = TITLE_MAX if name.startswith("title_") else TEXT_MAX
        if len(value) > limit:
            errors[name] = _("Keep this to %(limit)s characters or fewer.") % {"limit": limit}
        elif name.startswith("title_") and "\n" in value:
            errors[name] = _("Write the title on one line.")
        cleaned[name] = value
    return cleaned


@transaction.atomic
def save_writeup(
    *,
    writeup: WriteUp,
    by: User,
    texts: Mapping[str, str],
    rule_codes: Iterable[str] | None = None,
    articles: Iterable[str] | None = None,
    expected_version: int | None,
) -> WriteUp:
    """Save the working copy: the texts given (the others are kept), and the rules and articles linked, chosen among
    those the case applied. Who changed something becomes its last editor (four eyes): a save that changes nothing
    leaves the last editor as it was."""
    writeup = _act(writeup, by, "save", expected_version)
    links = (list(writeup.rule_codes), list(writeup.articles))
    errors: dict[str, str] = {}
    cleaned = _check_texts(texts, errors)
    basis = case_selectors.legal_basis_of(writeup.case)
    if rule_codes is not None:
        codes = list(dict.fromkeys(rule_codes))
        if set(codes) - {r.code for r in basis.rules}:
            errors["rule_codes"] = _("Choose rules the case applied.")
        writeup.rule_codes = codes
    if articles is not None:
        chosen = list(dict.fromkeys(articles))
        if set(chosen) - set(basis.articles):
            errors["articles"] = _("Choose articles the case applied.")
        writeup.articles = chosen
    review.raise_errors(errors)
    changed = [name for name, value in cleaned.items() if getattr(writeup, name) != value]
    links_changed = (writeup.rule_codes, writeup.articles) != links
    for name in changed:
        setattr(writeup, name, cleaned[name])
    writeup.state = WriteUpState.DRAFTING
    _edited(writeup, by, changed=bool(changed) or links_changed)
    review.save_step(writeup, *changed, "rule_codes", "articles", "state", "last_editor", "edited_at")
    _log(writeup, LogStep.SAVED, by, {"texts": changed})
    return writeup


@transaction.atomic
def accept_anonymisation(
    *, writeup: WriteUp, by: User, fields: Iterable[str] | None = None, expected_version: int | None
) -> WriteUp:
    """Apply the proposed replacements to the texts named (every text with a proposal when None). What the editor
    accepts is a draft like any other: they may edit it further."""
    writeup = _act(writeup, by, "anonymise", expected_version)
    proposals = selectors.proposals(writeup, selectors.known_parties(writeup))
    wanted = set(COLUMNS if fields is None else fields)
    if wanted - set(COLUMNS):
        review.raise_errors({"fields": _("There is no such text.")})
    changed = [name for name in COLUMNS if name in wanted and name in proposals]
    for name in changed:
        setattr(writeup, name, proposals[name].text)
    writeup.state = WriteUpState.DRAFTING
    _edited(writeup, by, changed=bool(changed))
    review.save_step(writeup, *changed, "state", "last_editor", "edited_at")
    replaced = sum(len(proposals[name].changes) for name in changed)
    _log(writeup, LogStep.ANONYMISED, by, {"texts": changed, "replaced": replaced})
    return writeup


def _check_complete(writeup: WriteUp) -> None:
    """At least one language written in full; a language begun is written in full too."""
    errors = {}
    begun = selectors.languages_of(writeup)
    if not begun:
        review.raise_errors({column("title", "zh"): _("Write the typical case in Chinese, in English or in both.")})
    for language in begun:
        for field in REQUIRED_FIELDS:
            name = column(field, language)
            if not getattr(writeup, name).strip():
                errors[name] = _("%(field)s is needed before the typical case is sent on.") % {
                    "field": field_label(name)
                }
    if (
        not writeup.rule_codes
        and not writeup.articles
        and not any(getattr(writeup, column("legal_basis", language)).strip() for language in begun)
    ):
        errors[column("legal_basis", begun[0])] = _("Give the legal basis: link a rule or an article, or write it.")
    review.raise_errors(errors)


@transaction.atomic
def submit_writeup(*, writeup: WriteUp, by: User, expected_version: int | None) -> WriteUp:
    """Send the draft for approval: complete, and anonymised (``check_anonymised``)."""
    writeup = _act(writeup, by, "submit", expected_version)
    _check_complete(writeup)
    check_anonymised(writeup)
    writeup.state = WriteUpState.SUBMITTED
    writeup.submitted_by = by
    writeup.submitted_at = timezone.now()
    writeup.return_note = ""
    review.save_step(writeup, "state", "submitted_by", "submitted_at", "return_note")
    _log(writeup, LogStep.SUBMITTED, by)
    notices.writeup_submitted(writeup, by)
    return writeup


@transaction.atomic
def return_writeup(*, writeup: WriteUp, by: User, note: str, expected_version: int | None) -> WriteUp:
    """Send a write-up awaiting approval back to its editors, saying why."""
    writeup = _act(writeup, by, "return", expected_version)
    note = review.required_note(note, _("Say what the editor should change."))
    editors = (writeup.proposed_by_id, writeup.last_editor_id, writeup.submitted_by_id)
    writeup.state = WriteUpState.DRAFTING
    writeup.submitted_by = None
    writeup.submitted_at = None
    writeup.return_note = note
    review.save_step(writeup, "state", "submitted_by", "submitted_at", "return_note")
    _log(writeup, LogStep.RETURNED, by, {"note": note})
    notices.writeup_to_editors(writeup, by, notices.RETURNED, editors)
    return writeup


@transaction.atomic
def publish_writeup(*, writeup: WriteUp, by: User, scope_unit: OrgUnit, expected_version: int | None) -> WriteUp:
    """Approve the write-up and publish it to ``scope_unit``'s subtree (the proposing unit's or a part of it), as its
    next version: never by its last editor, never while the check finds anything of the case in it."""
    writeup = _act(writeup, by, "publish", expected_version)
    if not policy.may_publish_to(writeup, scope_unit):
        review.raise_errors({"scope_unit": _("Publish to the proposing unit or to a unit below it.")})
    _check_complete(writeup)
    check_anonymised(writeup)
    editor = writeup.last_editor
    if editor is None:  # never: a write-up sent for approval has its editor (a database constraint)
        raise PermissionDenied(str(FOUR_EYES_REFUSAL))
    now = timezone.now()
    editors = (writeup.proposed_by_id, writeup.last_editor_id, writeup.submitted_by_id)
    number = WriteUpVersion.objects.filter(writeup=writeup).count() + 1
    texts = {name: getattr(writeup, name) for name in COLUMNS}
    version = WriteUpVersion.objects.create(
        writeup=writeup,
        number=number,
        scope_unit=scope_unit,
        edited_by=editor,
        approved_by=by,
        published_at=now,
        rule_codes=list(writeup.rule_codes),
        articles=list(writeup.articles),
        kind=writeup.kind,
        duty_scenario=writeup.duty_scenario,
        place_category=writeup.place_category,
        **texts,
    )
    VersionArticle.objects.bulk_create([VersionArticle(version=version, article=a) for a in writeup.articles])
    writeup.state = WriteUpState.PUBLISHED
    writeup.published_version = version
    writeup.listed = True
    writeup.scope_unit = scope_unit
    writeup.scope_path = scope_unit.path
    writeup.published_at = now
    writeup.submitted_by = None
    writeup.submitted_at = None
    writeup.withdrawal_note = ""
    review.save_step(
        writeup,
        "state",
        "published_version",
        "listed",
        "scope_unit",
        "scope_path",
        "published_at",
        "submitted_by",
        "submitted_at",
        "withdrawal_note",
    )
    _log(writeup, LogStep.PUBLISHED, by, {"version": number, "scope_unit": scope_unit.pk})
    notices.writeup_to_editors(writeup, by, notices.PUBLISHED, editors)
    return writeup


@transaction.atomic
def withdraw_writeup(*, writeup: WriteUp, by: User, note: str, expected_version: int | None) -> WriteUp:
    """Take a published write-up away from its readers, saying why. Its versions stay in its history, and a revision
    under way is kept (the write-up is withdrawn until it is revised and published again)."""
    writeup = _act(writeup, by, "withdraw", expected_version)
    note = review.required_note(note, _("Say why the typical case is withdrawn."))
    writeup.state = WriteUpState.WITHDRAWN
    writeup.listed = False
    writeup.withdrawal_note = note
    writeup.submitted_by = None
    writeup.submitted_at = None
    review.save_step(writeup, "state", "listed", "withdrawal_note", "submitted_by", "submitted_at")
    number = writeup.published_version.number if writeup.published_version else None
    _log(writeup, LogStep.WITHDRAWN, by, {"note": note, "version": number})
    return writeup


@transaction.atomic
def revise_writeup(*, writeup: WriteUp, by: User, expected_version: int | None) -> WriteUp:
    """Start a revision of a published (or withdrawn) write-up: a draft again, from its latest text, while readers still
    read the published version (if it is not withdrawn). Publishing the revision makes it the next version."""
    writeup = _act(writeup, by, "revise", expected_version)
    writeup.state = WriteUpState.DRAFTING
    review.save_step(writeup, "state")
    _log(writeup, LogStep.REVISED, by)
    return writeup


@transaction.atomic
def decline_writeup(*, writeup: WriteUp, by: User, note: str, expected_version: int | None) -> WriteUp:
    """Decline a proposal (or a draft never published), saying why: the case is not written up, and its proposer and
    editors are told."""
    writeup = _act(writeup, by, "decline", expected_version)
    note = review.required_note(note, _("Say why the proposal is declined."))
    writeup.state = WriteUpState.DECLINED
    writeup.decline_note = note
    review.save_step(writeup, "state", "decline_note")
    _log(writeup, LogStep.DECLINED, by, {"note": note})
    notices.writeup_to_editors(writeup, by, notices.DECLINED, (writeup.proposed_by_id, writeup.last_editor_id))
    return writeup


# --- reading -------------------------------------------------------------------------------------------------------


def _readable(writeup: WriteUp, by: User) -> WriteUp:
    fresh = WriteUp.objects.select_related("published_version").get(pk=writeup.pk)
    if not policy.can_read(actor_for(by), fresh):
        raise PermissionDenied(str(READ_REFUSAL))
    return fresh


@transaction.atomic
def record_read(*, writeup: WriteUp, by: User) -> bool:
    """Count the reader's first opening of the published version (per reader and version, for the training records).
    True when this was the first. Reopening, or a second request at the same moment, counts nothing more."""
    writeup = _readable(writeup, by)
    version = writeup.published_version
    if version is None:  # never: a write-up read is listed, which the database says has a version
        raise PermissionDenied(str(READ_REFUSAL))
    path = policy.reader_unit_path(actor_for(by), writeup.scope_path)
    return review.record_first_read(LibraryRead, reader=by, unit_path=path, version=version)


@transaction.atomic
def give_feedback(*, writeup: WriteUp, by: User, useful: bool) -> LibraryFeedback:
    """The reader's "was this useful" for the published version: one answer per reader and version, changed by
    answering again."""
    writeup = _readable(writeup, by)
    feedback, _created = LibraryFeedback.objects.update_or_create(
        version=writeup.published_version,
        reader=by,
        defaults={"useful": useful, "answered_at": timezone.now()},
    )
    return feedback


def texts_of(data: Mapping[str, Any]) -> dict[str, str]:
    """The texts among ``data`` (a form's or a request's), by column."""
    return {name: data[name] for name in COLUMNS if name in data and data[name] is not None}
