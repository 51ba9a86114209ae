"""What notifications say. A notification stores a message key and its parameters (``Notification.message``,
``params``), never frozen text: the in-app list, the API and each e-mail render it in their reader's language when
they are read or sent. Parameters are codes and values (an action, a flag kind, a rule code, an ISO time), turned
into labels, names and local dates here. ``Notification.verb`` keeps the English text for the admin site and for
rows whose message could not be recovered when this scheme was introduced.
"""

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import RULE_FLAG_KINDS, CaseStatus, EventKind, FlagKind, SupportKind, SupportStatus
from rightsguard.text import when

TRANSITION = "transition"
EVENT = "event"
FLAG = "flag"
STAGE_WARNING = "stage_warning"
EMAIL_FAILED = "email_failed"
MESSAGES = (TRANSITION, EVENT, FLAG, STAGE_WARNING, EMAIL_FAILED)

# What the officers or the office hear when a case moves, one sentence per workflow action.
TRANSITION_TEXT: dict[str, Promise] = {
    "submit": gettext_lazy("Case %(ref)s was submitted to the rights-protection office."),
    "withdraw": gettext_lazy("Case %(ref)s was withdrawn by the officer who filed it."),
    "reject": gettext_lazy("Case %(ref)s was rejected by the rights-protection office."),
    "refer": gettext_lazy("Case %(ref)s was referred to a handling unit."),
    "acknowledge": gettext_lazy("The handling unit acknowledged case %(ref)s; its handling is now supervised."),
    "conclude": gettext_lazy("Case %(ref)s was concluded and awaits its look-back review."),
    "reopen": gettext_lazy("Case %(ref)s was reopened for further handling."),
    "close": gettext_lazy("Case %(ref)s was closed."),
    "recall": gettext_lazy("Case %(ref)s was recalled for another look-back review."),
}
EVENT_TEXT: dict[str, Promise] = {
    EventKind.ASSIGNED: gettext_lazy("Case %(ref)s was assigned to you."),
    EventKind.DISPOSITION: gettext_lazy("An outcome for a suspect was recorded in case %(ref)s."),
    EventKind.SUPPORT: gettext_lazy("A support measure was recorded in case %(ref)s."),
    EventKind.FINDING: gettext_lazy("A supervision finding was raised in case %(ref)s."),
    EventKind.FAULT_FINDING: gettext_lazy("A police-fault finding was recorded in case %(ref)s."),
}


def for_event(reference: str, kind: str, action: str = "") -> tuple[str, dict[str, Any]]:
    """The message of a notification about a timeline event (a flag's has its own, ``for_flag``)."""
    if kind == EventKind.TRANSITION and action:
        return TRANSITION, {"ref": reference, "action": action}
    return EVENT, {"ref": reference, "kind": kind}


def for_support_answer(reference: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The office's answer to a support request (approved, declined or delivered), kept as its parameters."""
    keys = ("kind", "status", "provider", "delivered_on", "reason")
    return EVENT, {"ref": reference, "kind": EventKind.SUPPORT, "answer": {k: data.get(k) for k in keys}}


def for_flag(reference: str, kind: str, code: str, version: str | None) -> tuple[str, dict[str, Any]]:
    return FLAG, {"ref": reference, "kind": kind, "rule": code, "version": version or ""}


def for_stage_warning(reference: str, stage: str, due_iso: str) -> tuple[str, dict[str, Any]]:
    return STAGE_WARNING, {"ref": reference, "stage": stage, "due": due_iso}


def for_email_failed(reference: str, name: str, attempts: int) -> tuple[str, dict[str, Any]]:
    return EMAIL_FAILED, {"ref": reference, "name": name, "attempts": attempts}


def rule_title(kind: str, code: str, version: str) -> str:
    """The title of the rule behind a flag of ``kind`` (its code when the rule is unknown)."""
    from cases.rules import OPERATIONAL_RULES, rule_version

    rule = rule_version(code, version) if kind in RULE_FLAG_KINDS else OPERATIONAL_RULES.get(code)
    return str(rule.title) if rule is not None else code


def _choice(enum: Any, value: object) -> str:
    try:
        return str(enum(value).label)
    except ValueError:
        return str(value)


def support_answer_text(data: dict[str, Any]) -> str:
    """The office's answer to a support measure, as the timeline and the officer's notification say it."""
    kind = _choice(SupportKind, data.get("kind"))
    status = data.get("status")
    if status == SupportStatus.APPROVED:
        text = _("Support request approved: %(kind)s") % {"kind": kind}
    elif status == SupportStatus.REFUSED:
        text = _("Support request declined: %(kind)s") % {"kind": kind}
    else:
        text = _("Support delivered: %(kind)s, by %(provider)s on %(date)s") % {
            "kind": kind,
            "provider": data.get("provider") or "—",
            "date": when(data.get("delivered_on")) or "—",
        }
    if data.get("reason"):
        text += " " + _("(reason: %(reason)s)") % {"reason": data["reason"]}
    return text


def render(message: str, params: dict[str, Any]) -> str:
    """The message in the active language; "" for an unknown key (the caller falls back to the stored text)."""
    ref = str(params.get("ref", ""))
    if message == TRANSITION:
        action = params.get("action", "")
        if action in TRANSITION_TEXT:
            return str(TRANSITION_TEXT[action]) % {"ref": ref}
        return _("Case %(ref)s changed status.") % {"ref": ref}
    if message == EVENT:
        kind = params.get("kind", "")
        if kind == EventKind.SUPPORT and isinstance(params.get("answer"), dict):
            return _("Case %(ref)s: %(answer)s.") % {"ref": ref, "answer": support_answer_text(params["answer"])}
        if kind in EVENT_TEXT:
            return str(EVENT_TEXT[kind]) % {"ref": ref}
        return _("Case %(ref)s: %(what)s.") % {"ref": ref, "what": _choice(EventKind, kind)}
    if message == FLAG:
        kind, code = params.get("kind", ""), params.get("rule", "")
        title = rule_title(kind, code, params.get("version", ""))
        if kind == FlagKind.DOWNGRADED:
            text = _(
                "Case %(ref)s may have been handled below the minimum the law calls for: %(title)s (rule %(code)s)."
            )
        elif kind == FlagKind.REVIEW_PROMPT:
            text = _("Case %(ref)s has a review prompt: %(title)s (rule %(code)s).")
        else:
            # Operational flags have no rule number users know: their title says it all.
            return _("Case %(ref)s was flagged: %(title)s.") % {"ref": ref, "title": title}
        return text % {"ref": ref, "title": title, "code": code}
    if message == STAGE_WARNING:
        return _(
            "Case %(ref)s has used three quarters of the time limit for its stage “%(stage)s”; it is due on %(due)s."
        ) % {"ref": ref, "stage": _choice(CaseStatus, params.get("stage", "")), "due": when(params.get("due"))}
    if message == EMAIL_FAILED:
        return _("The e-mail to %(name)s about case %(ref)s could not be sent after %(attempts)d attempts.") % {
            "name": params.get("name", ""),
            "ref": ref,
            "attempts": int(params.get("attempts", 0)),
        }
    return ""


def stored_text(message: str, params: dict[str, Any]) -> str:
    """The English text kept in ``Notification.verb`` (the admin site's column; 200 characters at most)."""
    with translation.override(settings.LANGUAGE_CODE):
        return render(message, params)[:200]
