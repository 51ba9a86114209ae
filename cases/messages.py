"""What notifications say. A notification stores a message key and its parameters (``Notification.message``,
``params``), never frozen text: the in-app list, the API and each e-mail render it in their reader's language when
they are read or sent. Parameters are codes and values (an action, a flag kind, a rule code, an ISO time), turned
into labels, names and local dates here. ``Notification.verb`` keeps the English text for the admin site and for
rows whose message could not be recovered when this scheme was introduced.

Since version 2 (``params["v"] == 2``) a notification is one sentence saying who did what to which case and what
the recipient is to do, with the date where there is one: "Zhao Min referred RG-2026-000459 to Xihu District Branch —
acknowledge by 12 Dec 2026". Its parameters are taken when it is made: the actor's name as text then, the unit's
recorded names (either language), the due date, and whom it is for (``to``: the office, which reads the case's
internal material, or the filer and the officers listed, who do not: cases/policy.py). A recipient who does not read
the internal material is never given a parameter taken from it. Rows made before keep their earlier sentences.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import unit_name
from cases import notices
from cases.choices import (
    RULE_FLAG_KINDS,
    CaseStatus,
    EventKind,
    FlagKind,
    NotificationKind,
    SupportKind,
    SupportStatus,
)
from rightsguard.text import parse_when, when

TRANSITION = "transition"
EVENT = "event"
FLAG = "flag"
STAGE_WARNING = "stage_warning"
EMAIL_FAILED = "email_failed"
WELFARE = "welfare"
# A notice about a unit from an app built on the cases (cases/notices.py): worded by the topic its parameters name.
NOTICE = "notice"
MESSAGES = (TRANSITION, EVENT, FLAG, STAGE_WARNING, EMAIL_FAILED, WELFARE, NOTICE)

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


# The office's reason or note as a notification quotes it: this many characters at most, the rest cut with "…".
QUOTE_MAX = 200


def excerpt(text: object) -> str:
    """``text`` on one line (runs of white space, line breaks included, become one space: an e-mail's subject is the
    notification's sentence and may not hold a line break), cut to ``QUOTE_MAX`` characters with "…". Idempotent."""
    flat = " ".join(str(text or "").split())
    if len(flat) <= QUOTE_MAX:
        return flat
    return flat[: QUOTE_MAX - 1].rstrip() + "…"


def quoted(text: object) -> str:
    """The office's reason as a sentence quotes it: its excerpt between quotation marks (the same marks in Chinese).
    Plain text, escaped by whoever shows it (the templates autoescape; e-mails are plain text)."""
    return f"“{excerpt(text)}”"


def for_event(reference: str, kind: str, action: str = "") -> tuple[str, dict[str, Any]]:
    """The message of a notification about a timeline event (a flag's has its own, ``for_flag``)."""
    if kind == EventKind.TRANSITION and action:
        return TRANSITION, {"ref": reference, "action": action}
    return EVENT, {"ref": reference, "kind": kind}


def for_support_answer(reference: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The office's answer to a support request (approved, declined or delivered), kept as its parameters."""
    keys = ("kind", "status", "provider", "delivered_on", "reason")
    answer = {k: data.get(k) for k in keys}
    if answer["reason"]:
        answer["reason"] = excerpt(answer["reason"])
    return EVENT, {"ref": reference, "kind": EventKind.SUPPORT, "answer": answer}


def for_flag(reference: str, kind: str, code: str, version: str | None) -> tuple[str, dict[str, Any]]:
    return FLAG, {"ref": reference, "kind": kind, "rule": code, "version": version or ""}


def for_stage_warning(reference: str, stage: str, due_iso: str) -> tuple[str, dict[str, Any]]:
    return STAGE_WARNING, {"ref": reference, "stage": stage, "due": due_iso}


def for_email_failed(reference: str, name: str, attempts: int) -> tuple[str, dict[str, Any]]:
    return EMAIL_FAILED, {"ref": reference, "name": name, "attempts": attempts}


def for_welfare(reference: str, name: str, badge: str, attacks: int) -> tuple[str, dict[str, Any]]:
    """An officer attacked ``attacks`` times within twelve months, the latest in case ``reference``."""
    return WELFARE, {"ref": reference, "name": name, "badge": badge, "attacks": attacks}


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


# --- Version 2: who, what, which case, what to do -------------------------------------------------------------------

VERSION = 2
# Whom a notification is for: the office (reads the case's internal material) or the filer and the listed officers.
OFFICE, FILER = "office", "filer"

# Per workflow action, per recipient: the sentence when the new stage has a due date %(due)s, and when it has none.
# A refer or acknowledge also names the handling unit %(unit)s.
MOVE_TEXT: dict[tuple[str, str], Promise] = {
    ("submit", OFFICE): gettext_lazy(
        "%(actor)s submitted %(ref)s to the rights-protection office — review it by %(due)s."
    ),
    ("withdraw", OFFICE): gettext_lazy("%(actor)s withdrew %(ref)s — nothing more is needed from you."),
    ("reject", OFFICE): gettext_lazy("%(actor)s rejected %(ref)s — nothing more is needed from you."),
    ("reject", FILER): gettext_lazy("%(actor)s rejected %(ref)s — read the reason on the case page."),
    ("refer", OFFICE): gettext_lazy("%(actor)s referred %(ref)s to %(unit)s — acknowledge by %(due)s."),
    ("refer", FILER): gettext_lazy(
        "%(actor)s referred %(ref)s to %(unit)s — it is to be acknowledged by %(due)s; nothing is needed from you."
    ),
    ("acknowledge", OFFICE): gettext_lazy(
        "%(actor)s recorded that %(unit)s acknowledged %(ref)s — supervise its handling; this stage is due by %(due)s."
    ),
    ("acknowledge", FILER): gettext_lazy(
        "%(actor)s recorded that %(unit)s acknowledged %(ref)s — its handling is now supervised; nothing is needed "
        "from you."
    ),
    ("conclude", OFFICE): gettext_lazy("%(actor)s concluded %(ref)s — complete its look-back review by %(due)s."),
    ("conclude", FILER): gettext_lazy(
        "%(actor)s concluded %(ref)s — its look-back review is due by %(due)s; nothing is needed from you."
    ),
    ("reopen", OFFICE): gettext_lazy("%(actor)s reopened %(ref)s — have the finding rectified by %(due)s."),
    ("reopen", FILER): gettext_lazy("%(actor)s reopened %(ref)s for further handling — nothing is needed from you."),
    ("close", OFFICE): gettext_lazy("%(actor)s closed %(ref)s — nothing more is needed unless it is recalled."),
    ("close", FILER): gettext_lazy("%(actor)s closed %(ref)s — read the outcome on the case page."),
    ("recall", OFFICE): gettext_lazy(
        "%(actor)s recalled %(ref)s for another look-back review — complete the review by %(due)s."
    ),
    ("recall", FILER): gettext_lazy(
        "%(actor)s recalled %(ref)s for another look-back review — nothing is needed from you."
    ),
}
# The office's sentences that need a due date, when the stage has none (a paused clock, a stage without a limit).
MOVE_WITHOUT_DUE = frozenset(
    {
        ("submit", OFFICE),
        ("refer", OFFICE),
        ("acknowledge", OFFICE),
        ("conclude", OFFICE),
        ("reopen", OFFICE),
        ("recall", OFFICE),
        ("conclude", FILER),
        ("refer", FILER),
    }
)


# The office's decisions taken with a reason the filer reads on the timeline (a rejection, a conclusion, a recall): the
# sentence quotes it, %(reason)s, so neither the officers nor the office have to open the case to learn why.
MOVE_REASON_ACTIONS = frozenset({"reject", "conclude", "recall"})
MOVE_REASON_TEXT: dict[tuple[str, str], Promise] = {
    ("reject", OFFICE): gettext_lazy(
        "%(actor)s rejected %(ref)s (reason: %(reason)s) — nothing more is needed from you."
    ),
    ("reject", FILER): gettext_lazy(
        "%(actor)s rejected %(ref)s (reason: %(reason)s) — the whole decision is on the case page."
    ),
    ("conclude", OFFICE): gettext_lazy(
        "%(actor)s concluded %(ref)s (reason: %(reason)s) — complete its look-back review by %(due)s."
    ),
    ("conclude", FILER): gettext_lazy(
        "%(actor)s concluded %(ref)s (reason: %(reason)s) — its look-back review is due by %(due)s; nothing is needed "
        "from you."
    ),
    ("recall", OFFICE): gettext_lazy(
        "%(actor)s recalled %(ref)s for another look-back review (reason: %(reason)s) — complete the review by %(due)s."
    ),
    ("recall", FILER): gettext_lazy(
        "%(actor)s recalled %(ref)s for another look-back review (reason: %(reason)s) — nothing is needed from you."
    ),
}


def _day(value: object) -> str:
    """A due date as a day in the reader's language (``12 Dec 2026`` / ``2026年12月12日``), local time."""
    found = parse_when(value)
    if found is None:
        return ""
    if isinstance(found, datetime):
        found = timezone.localtime(timezone.make_aware(found) if timezone.is_naive(found) else found).date()
    return when(found)


def _unit(params: dict[str, Any]) -> str:
    unit = params.get("unit") or {}
    return unit_name(str(unit.get("name", "")), str(unit.get("name_en", ""))) or str(_("the handling unit"))


def _who(params: dict[str, Any]) -> str:
    return str(params.get("actor") or "") or str(_("RightsGuard"))


def _render_move(params: dict[str, Any]) -> str:
    action, to = params.get("action", ""), params.get("to", FILER)
    values = {
        "actor": _who(params),
        "ref": params.get("ref", ""),
        "unit": _unit(params),
        "due": _day(params.get("due")),
    }
    text = MOVE_TEXT.get((action, to))
    reason = excerpt(params.get("reason")) if action in MOVE_REASON_ACTIONS else ""
    if reason:
        values["reason"] = quoted(reason)
        text = MOVE_REASON_TEXT.get((action, to), text)
    if text is None:
        return _("%(actor)s changed the status of %(ref)s — open the case to see its next step.") % values
    if not values["due"] and (action, to) in MOVE_WITHOUT_DUE:
        stage = {**values, "stage": _choice(CaseStatus, params.get("stage", ""))}
        if reason:
            return (
                _(
                    "%(actor)s moved %(ref)s to the stage “%(stage)s” (reason: %(reason)s) — open the case to see its "
                    "next step."
                )
                % stage
            )
        return _("%(actor)s moved %(ref)s to the stage “%(stage)s” — open the case to see its next step.") % stage
    return str(text) % values


def _render_support_answer(params: dict[str, Any]) -> str:
    answer = params.get("answer") or {}
    values = {
        "actor": _who(params),
        "ref": params.get("ref", ""),
        "kind": _choice(SupportKind, answer.get("kind")),
        "provider": answer.get("provider") or "—",
        "date": when(answer.get("delivered_on")) or "—",
        "reason": quoted(answer.get("reason")) if excerpt(answer.get("reason")) else "",
    }
    status = answer.get("status")
    if status == SupportStatus.APPROVED:
        if values["reason"]:
            return (
                _(
                    "%(actor)s approved the support request “%(kind)s” in %(ref)s (reason: %(reason)s) — the office "
                    "arranges it."
                )
                % values
            )
        return _("%(actor)s approved the support request “%(kind)s” in %(ref)s — the office arranges it.") % values
    if status == SupportStatus.REFUSED:
        if values["reason"]:
            return (
                _(
                    "%(actor)s declined the support request “%(kind)s” in %(ref)s (reason: %(reason)s) — ask the "
                    "office if you need it reconsidered."
                )
                % values
            )
        return (
            _(
                "%(actor)s declined the support request “%(kind)s” in %(ref)s — ask the office if you need it "
                "reconsidered."
            )
            % values
        )
    if values["reason"]:
        return (
            _(
                "%(actor)s recorded the support “%(kind)s” in %(ref)s as delivered by %(provider)s on %(date)s "
                "(reason: %(reason)s) — tell the office if it did not reach you."
            )
            % values
        )
    return (
        _(
            "%(actor)s recorded the support “%(kind)s” in %(ref)s as delivered by %(provider)s on %(date)s — tell the "
            "office if it did not reach you."
        )
        % values
    )


def _render_event(params: dict[str, Any]) -> str:
    kind = params.get("kind", "")
    values = {"actor": _who(params), "ref": params.get("ref", ""), "due": _day(params.get("due"))}
    if kind == EventKind.SUPPORT and isinstance(params.get("answer"), dict):
        return _render_support_answer(params)
    if kind == EventKind.ASSIGNED:
        if values["due"]:
            return _("%(actor)s assigned %(ref)s to you — take its next step by %(due)s.") % values
        return _("%(actor)s assigned %(ref)s to you — open it to take its next step.") % values
    if kind == EventKind.DISPOSITION:
        return _("%(actor)s recorded an outcome for a suspect in %(ref)s — read it on the case page.") % values
    if kind == EventKind.SUPPORT:
        return _("%(actor)s recorded a support measure in %(ref)s — read it on the case page.") % values
    if kind == EventKind.FINDING:
        if values["due"]:
            return _("%(actor)s raised a supervision finding in %(ref)s — have it rectified by %(due)s.") % values
        return _("%(actor)s raised a supervision finding in %(ref)s — follow up its rectification.") % values
    if kind == EventKind.FAULT_FINDING:
        return _("%(actor)s recorded a police-fault finding in %(ref)s — review the flags it bears on.") % values
    if kind == EventKind.IMPORTED:
        values["incident"] = params.get("incident", "")
        if params.get("attached"):
            return _("%(actor)s matched 110 incident %(incident)s to %(ref)s — check the application.") % values
        return (
            _(
                "%(actor)s started %(ref)s for you from 110 incident %(incident)s — complete the application and "
                "submit it."
            )
            % values
        )
    return _("%(actor)s recorded “%(what)s” in %(ref)s — read it on the case page.") % {
        **values,
        "what": _choice(EventKind, kind),
    }


def _render_flag(params: dict[str, Any]) -> str:
    kind, code = params.get("kind", ""), params.get("rule", "")
    values = {"ref": params.get("ref", ""), "title": rule_title(kind, code, params.get("version", "")), "code": code}
    if kind == FlagKind.DOWNGRADED:
        return (
            _(
                "The flag scan found that %(ref)s may have been handled below the minimum the law calls for: %(title)s "
                "(rule %(code)s) — review the disposition before the case concludes."
            )
            % values
        )
    if kind == FlagKind.REVIEW_PROMPT:
        return (
            _("The flag scan raised a review prompt on %(ref)s: %(title)s (rule %(code)s) — review the case.") % values
        )
    if kind == FlagKind.STALLED:
        return _("The flag scan flagged %(ref)s: %(title)s — take its next step or extend its time limit.") % values
    if kind == FlagKind.OVERDUE_REFERRAL:
        return _("The flag scan flagged %(ref)s: %(title)s — have the handling unit acknowledge it.") % values
    return _("The flag scan flagged %(ref)s: %(title)s — record what is happening on the case.") % values


def _render_v2(message: str, params: dict[str, Any]) -> str:
    if message == TRANSITION:
        return _render_move(params)
    if message == EVENT:
        return _render_event(params)
    if message == FLAG:
        return _render_flag(params)
    if message == STAGE_WARNING:
        return _(
            "%(ref)s has used three quarters of the time limit for its stage “%(stage)s” — take its next step by "
            "%(due)s."
        ) % {
            "ref": params.get("ref", ""),
            "stage": _choice(CaseStatus, params.get("stage", "")),
            "due": _day(params.get("due")),
        }
    if message == WELFARE:
        return _render_welfare(params)
    if message == NOTICE:
        return notices.render(params)
    if message == EMAIL_FAILED:
        return _(
            "The e-mail to %(name)s about %(ref)s could not be sent after %(attempts)d attempts — check their address, "
            "then retry it from the notifications in the administration."
        ) % {"name": params.get("name", ""), "ref": params.get("ref", ""), "attempts": int(params.get("attempts", 0))}
    return ""


def _render_welfare(params: dict[str, Any]) -> str:
    attacks = int(params.get("attacks", 0))
    values = {"name": params.get("name", ""), "ref": params.get("ref", ""), "attacks": attacks}
    if params.get("badge"):
        # The officer as the sentence names them: with their badge number where one is recorded.
        values["name"] = _("%(name)s (badge %(badge)s)") % {"name": values["name"], "badge": params["badge"]}
    return (
        ngettext(
            "%(name)s was attacked %(attacks)d time within twelve months, most recently in %(ref)s — offer them "
            "psychological support.",
            "%(name)s was attacked %(attacks)d times within twelve months, most recently in %(ref)s — offer them "
            "psychological support.",
            attacks,
        )
        % values
    )


def kind_of(message: str, params: dict[str, Any]) -> str:
    """The notification kind (``NotificationKind``) of a message: the inbox's filter, the delivery preference."""
    if message == TRANSITION:
        return NotificationKind.CASE_MOVES
    if message == FLAG:
        return NotificationKind.FLAGS
    if message == STAGE_WARNING:
        return NotificationKind.STAGE_WARNINGS
    if message == EMAIL_FAILED:
        return NotificationKind.EMAIL_PROBLEMS
    if message == WELFARE:
        return NotificationKind.WELFARE
    if message == NOTICE:
        return notices.kind_of(params)
    if params.get("kind") == EventKind.ASSIGNED:
        return NotificationKind.ASSIGNMENTS
    if params.get("kind") == EventKind.SUPPORT and "answer" in params:
        return NotificationKind.SUPPORT_ANSWERS
    return NotificationKind.RECORDS


def render(message: str, params: dict[str, Any]) -> str:
    """The message in the active language; "" for an unknown key (the caller falls back to the stored text)."""
    if params.get("v") == VERSION:
        return _render_v2(message, params)
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
