"""Presentation helpers for case pages. No queries here: everything comes from the view's context."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, cast

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model, TextChoices
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from accounts.models import unit_name
from cases.choices import (
    CampaignStep,
    CaseStatus,
    Disposition,
    EventKind,
    FindingProblem,
    FlagKind,
    LenientReason,
    NoSuspectReason,
    NoteVisibility,
    OverrideReason,
    PauseReason,
    PoliceFault,
    SupportKind,
    SupportStatus,
)
from cases.messages import rule_title, support_answer_text
from cases.models import Case, CaseEvent, InvolvedOfficer, Suspect
from cases.rules.facts import facts_for_kind
from cases.rules.operational import OPERATIONAL_RULES
from cases.rules.presentation import shown_code
from cases.sensitive import mask_id_number
from cases.workflow import TRANSITIONS
from rightsguard.text import when

register = template.Library()

STATUS_STYLE: dict[str, str] = {
    CaseStatus.DRAFT: "secondary",
    CaseStatus.INTAKE: "info",
    CaseStatus.REFERRED: "primary",
    CaseStatus.SUPERVISION: "warning",
    CaseStatus.LOOK_BACK: "dark",
    CaseStatus.CLOSED: "success",
    CaseStatus.REJECTED: "danger",
    CaseStatus.WITHDRAWN: "secondary",
}


@register.filter
def status_style(status: str) -> str:
    return STATUS_STYLE.get(status, "secondary")


SUPPORT_STYLE: dict[str, str] = {
    SupportStatus.REQUESTED: "warning",
    SupportStatus.APPROVED: "info",
    SupportStatus.REFUSED: "danger",
    SupportStatus.OFFERED: "info",
    SupportStatus.IN_PROGRESS: "primary",
    SupportStatus.DELIVERED: "success",
    SupportStatus.DECLINED: "secondary",
}


@register.filter
def support_style(status: str) -> str:
    return SUPPORT_STYLE.get(status, "secondary")


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """``mapping[key]``, or None (a template cannot index a dict by a variable)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def days_left(case: Case, today: date | None = None) -> int | None:
    """Whole days until the stage deadline (negative when overdue); None without a running clock. ``today`` (the
    local date) may be given by a caller working out many rows."""
    if case.stage_due_at is None or case.paused_at is not None:
        return None
    return (timezone.localdate(case.stage_due_at) - (today or timezone.localdate())).days


@register.filter
def mask(value: str) -> str:
    """An ID number as pages show it, masked: ``110***********34`` (the reveal shows it in full)."""
    return mask_id_number(value)


PARTY_MODELS: dict[str, type[InvolvedOfficer] | type[Suspect]] = {
    EventKind.OFFICER_UPDATED: InvolvedOfficer,
    EventKind.SUSPECT_UPDATED: Suspect,
}


def _has_field(model: type[InvolvedOfficer] | type[Suspect], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


@register.filter
def event_text(event: CaseEvent) -> str:
    """One line describing a timeline event, in the reader's language."""
    data = event.data or {}
    if event.kind == EventKind.TRANSITION and event.action in TRANSITIONS:
        text = str(TRANSITIONS[event.action].label)
        said = [_label(NoSuspectReason, data["no_suspect_reason"])] if data.get("no_suspect_reason") else []
        if data.get("reason"):
            said.append(str(data["reason"]))
        return f"{text}: {'; '.join(said)}" if said else text
    if event.kind == EventKind.FLAG_OVERRIDDEN:
        text = _("Flag overridden: %(rule)s, %(reason)s: %(text)s") % {
            "rule": _rule_named(data),
            "reason": _label(OverrideReason, data.get("reason")),
            "text": data.get("text", ""),
        }
        if data.get("basis"):
            text += " " + _("(legal basis: %(basis)s)") % {"basis": data["basis"]}
        return text
    if event.kind == EventKind.OFFICER_REMOVED or (event.kind == EventKind.OFFICER_UPDATED and "removed" in data):
        # Removals recorded before they had their own kind are officer updates with "removed" in their data.
        return f"{_label(EventKind, EventKind.OFFICER_REMOVED)}: {data.get('removed', '')}"
    if event.kind in PARTY_MODELS and data.get("changes"):
        model = PARTY_MODELS[event.kind]
        names = sorted(str(model._meta.get_field(f).verbose_name) for f in data["changes"] if _has_field(model, f))  # type: ignore[union-attr]
        return f"{_label(EventKind, event.kind)}: {', '.join(names)}"
    if event.kind == EventKind.SUSPECT_REMOVED:
        return f"{_label(EventKind, EventKind.SUSPECT_REMOVED)}: {data.get('removed', '')}"
    if event.kind in (EventKind.OFFICER_ADDED, EventKind.SUSPECT_ADDED) and data.get("restored"):
        return _("Removal undone: %(name)s is listed again") % {"name": data.get("name", "")}
    if event.kind == EventKind.UPDATED and data.get("derived") == "repeat_suspect":
        return _(
            "Set from the record: the attacker was previously punished for attacking police — a suspect's ID number "
            "matches a suspect punished in an earlier case."
        )
    if event.kind == EventKind.UPDATED and data.get("derived") == "no_repeat_suspect":
        return _(
            "Set back from the record: no suspect's ID number matches a suspect punished in an earlier case any more, "
            "so the answer given before stands again."
        )
    if event.kind == EventKind.UPDATED:
        return _("Changed: %(fields)s") % {
            "fields": human_list(_case_field_labels(get_language()), data.get("changes", {}))
        }
    if event.kind == EventKind.NOTE:
        if data.get("visibility") == NoteVisibility.INTERNAL:
            return _("Internal note: %(text)s") % {"text": data.get("text", "")}
        return _("Note: %(text)s") % {"text": data.get("text", "")}
    if event.kind == EventKind.ATTACHMENT:
        return _("Evidence added: %(name)s") % {"name": data.get("name", "")}
    if event.kind == EventKind.CLOCK_PAUSED:
        return _("Clock paused: %(reason)s") % {"reason": _label(PauseReason, data.get("reason"))}
    if event.kind == EventKind.CLOCK_RESUMED:
        return _("Clock resumed")
    if event.kind == EventKind.DEADLINE_EXTENDED:
        return _("Time limit extended by %(days)s days (approval %(reference)s): %(reason)s") % {
            "days": data.get("days", ""),
            "reference": data.get("approval_reference", ""),
            "reason": data.get("reason", ""),
        }
    if event.kind == EventKind.DISPOSITION:
        change = data.get("changes", {}).get("disposition")
        reason = _lenient_reason_text(data)
        if change:
            text = _("Disposition: %(value)s") % {"value": _label(Disposition, change[1])}
            return (
                _("%(disposition)s; reason: %(reason)s") % {"disposition": text, "reason": reason} if reason else text
            )
        if reason:
            return _("Reason for the lenient outcome: %(reason)s") % {"reason": reason}
    if event.kind == EventKind.REFERRAL and data.get("transfer"):
        return _("Transferred for administrative punishment: %(to)s") % {
            "to": unit_name(data.get("to", ""), data.get("to_en", ""))
        }
    if event.kind == EventKind.SUPPORT:
        if "answer" in data:
            return support_answer_text(data)
        if "requested" in data:
            return _("Support requested: %(kinds)s") % {
                "kinds": ", ".join(_label(SupportKind, k) for k in data["requested"])
            }
        if "kind" in data:
            return _("Support: %(kind)s (%(status)s)") % {
                "kind": _label(SupportKind, data["kind"]),
                "status": _label(SupportStatus, data.get("status")),
            }
    if event.kind == EventKind.FINDING and "problem" in data:
        return _("Finding: %(problem)s") % {"problem": _label(FindingProblem, data["problem"])}
    if event.kind == EventKind.CAMPAIGN and data.get("step"):
        text = _("Campaign “%(name)s”: %(step)s") % {
            "name": data.get("name", ""),
            "step": _label(CampaignStep, data["step"]),
        }
        return f"{text} ({data['detail']})" if data.get("detail") else text
    if event.kind == EventKind.IMPORTED and data.get("incident"):
        if data.get("attached"):
            return _("110 incident %(incident)s matched to this application by the 110 import") % {
                "incident": data["incident"]
            }
        return _("Started from 110 incident %(incident)s by the 110 import") % {"incident": data["incident"]}
    if event.kind == EventKind.LEGAL_HOLD and "held" in data:
        if data["held"]:
            return _("Legal hold placed: %(reason)s") % {"reason": data.get("reason", "")}
        return _("Legal hold lifted: %(reason)s") % {"reason": data.get("reason", "")}
    if event.kind == EventKind.SEALED:
        return _("Sealed by the retention job, %(days)s days after closure.") % {"days": data.get("seal_after_days")}
    if event.kind == EventKind.ANONYMISED:
        files = len(data.get("files_removed", []))
        return ngettext(
            "Anonymised by the retention job, %(days)s days after closure: %(files)d evidence file removed.",
            "Anonymised by the retention job, %(days)s days after closure: %(files)d evidence files removed.",
            files,
        ) % {"days": data.get("anonymise_after_days"), "files": files}
    if event.kind in DUPLICATE_EVENTS:
        return duplicate_event_text(event.kind, data)
    if event.kind == EventKind.FAULT_FINDING and "finding" in data:
        if data.get("carried_over"):
            return _("Police-fault finding carried over from the case record (no finding document): %(finding)s") % {
                "finding": _label(PoliceFault, data["finding"])
            }
        return _("Police-fault finding: %(finding)s (%(department)s, %(date)s, document %(reference)s)") % {
            "finding": _label(PoliceFault, data["finding"]),
            "department": data.get("department") or "—",
            "date": when(data.get("found_on")) or "—",
            "reference": data.get("document_reference") or "—",
        }
    if event.kind in (EventKind.FLAG_RAISED, EventKind.FLAG_RESOLVED) and data.get("rule"):
        # Which kind of flag (a downgrade or a review prompt, say), as it was raised.
        kind = f" ({_label(FlagKind, data['kind'])})" if data.get("kind") in FlagKind.values else ""
        return f"{_label(EventKind, event.kind)}{kind}: {_rule_named(data)}"
    return _label(EventKind, event.kind)


DUPLICATE_EVENTS = frozenset({EventKind.LINKED, EventKind.UNLINKED, EventKind.MERGED, EventKind.UNMERGED})


def duplicate_event_text(kind: str, data: dict[str, Any]) -> str:
    """A link, merge or their undoing, as the timeline says it (cases/services/duplicates.py); plain text, escaped on
    output like every event's."""
    reason = data.get("reason", "")
    if kind == EventKind.LINKED:
        return _("Linked to the related case %(ref)s: %(reason)s") % {"ref": data.get("case", ""), "reason": reason}
    if kind == EventKind.UNLINKED:
        return _("Link to %(ref)s removed: %(reason)s") % {"ref": data.get("case", ""), "reason": reason}
    if kind == EventKind.MERGED and data.get("into"):
        return _("Merged into %(ref)s as its duplicate: %(reason)s") % {"ref": data["into"], "reason": reason}
    if kind == EventKind.MERGED:
        text = _("Duplicate %(ref)s merged into this case: %(reason)s") % {
            "ref": data.get("from", ""),
            "reason": reason,
        }
        if data.get("officers"):
            text += " " + _("Officers listed from it: %(names)s.") % {"names": _(", ").join(data["officers"])}
        return text
    if kind == EventKind.UNMERGED and data.get("case"):
        text = _("Merge of %(ref)s undone: %(reason)s") % {"ref": data["case"], "reason": reason}
        if data.get("officers"):
            text += " " + _("Officers no longer listed: %(names)s.") % {"names": _(", ").join(data["officers"])}
        return text
    return _("Merge into %(ref)s undone: %(reason)s") % {"ref": data.get("from", ""), "reason": reason}


def _rule_named(data: dict[str, Any]) -> str:
    """A flag's rule as readers know it: its code (R7), or its title where the code is the program's (STALLED)."""
    code = str(data.get("rule", ""))
    kind = data.get("kind") or (FlagKind.STALLED if code in OPERATIONAL_RULES else FlagKind.REVIEW_PROMPT)
    title = rule_title(kind, code, str(data.get("version") or ""))
    if not shown_code(code):
        return title
    return f"{code} {title}" if title != code else code


@lru_cache(maxsize=8)
def _case_field_labels(language: str | None) -> dict[str, str]:
    """A case field's label as forms show it (the field's verbose name), by field name."""
    return {
        f.name: capfirst(str(f.verbose_name))
        for f in Case._meta.get_fields()
        if isinstance(f, Field) and getattr(f, "verbose_name", None)
    }


def human_list(labels: dict[str, str], names: Iterable[str]) -> str:
    """Field names as their labels, in a list the reader's language punctuates; never a bare field name."""
    shown = sorted(labels.get(n) or n.replace("_", " ") for n in names)
    return _(", ").join(shown)


def _lenient_reason_text(data: dict[str, Any]) -> str:
    """The reason recorded with a lenient outcome, with its words when it has them (plain text: escaped on output)."""
    reason = data.get("lenient_reason")
    if not reason:
        return ""
    label = _label(LenientReason, reason)
    detail = data.get("lenient_reason_detail") or ""
    return f"{label} ({detail})" if detail else label


# Labels translated once per language (``get_FOO_display`` re-translates every choice on every call: thousands of
# lookups on a page of a hundred rows). Keyed by the class or the model field, never by the lazy labels.
@lru_cache(maxsize=256)
def _class_labels(choices: type[TextChoices], language: str | None) -> dict[str, str]:
    return {member.value: str(member.label) for member in choices}


@lru_cache(maxsize=256)
def _field_labels(model: type[Model], field_name: str, language: str | None) -> dict[Any, str]:
    field = cast(Field, model._meta.get_field(field_name))
    return {value: str(label) for value, label in field.flatchoices}


def _label(choices: type[TextChoices], value: object) -> str:
    return _class_labels(choices, get_language()).get(str(value), str(value or ""))


@register.filter
def display(obj: Any, field_name: str) -> str:
    """``{{ case|display:"kind" }}``: the label of a choice field, as ``get_kind_display`` gives it."""
    value = getattr(obj, field_name)
    return _field_labels(type(obj), field_name, get_language()).get(value, value)  # type: ignore[arg-type]


@register.filter
def rule_shown(code: str) -> str:
    """A rule's code as readers know it, or "" (cases.rules.presentation.shown_code)."""
    return shown_code(code)


@register.filter
def local_when(value: object) -> str:
    """A date, a moment or the ISO text of one in the reader's one local format (rightsguard/text.py)."""
    return when(value)


@register.filter
def is_past(value: datetime | None) -> bool:
    return value is not None and value < timezone.now()


@register.filter
def absval(value: int) -> int:
    return abs(value)


@dataclass(frozen=True)
class FactShown:
    name: str
    label: str
    value: str
    answered: bool


@register.filter
def case_facts(case: Case, answers: dict[str, object] | None = None) -> list[FactShown]:
    """The facts the case's incident type asks (cases/rules/facts.FACTS), each with its answer in words, or "not
    answered" for an unknown value; in the reader's language. ``answers``: the facts the reader reads otherwise than
    the case holds them (``selectors.fact_answers_as_read``)."""
    shown = []
    for fact in facts_for_kind(case.kind):
        value = answers[fact.name] if answers and fact.name in answers else getattr(case, fact.name)
        if fact.choices is not None and value == "":
            text, answered = _("not answered"), False
        elif fact.choices is not None:
            text, answered = str(dict(fact.choices.choices)[value]), value != fact.default  # type: ignore[attr-defined]
        elif value is None:
            text, answered = _("not answered"), False
        elif fact.type is bool:
            text, answered = (_("yes") if value else _("no")), True
        else:
            text, answered = str(value), True
        shown.append(FactShown(fact.name, capfirst(str(fact.label)), text, answered))
    return shown
