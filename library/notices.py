"""What the library tells people in their notification list (cases/notices.py, as notices to members), in the reader's
language when it is shown:

- a guidance tip published: each officer of the subtree it was published to (``TIP_TOPIC``, kind "guidance"), with a
  link to the tip; told by a background task once the publication commits (``push_tip``, ``deliver_push``), in chunks;
- a step of the editorial work (``WORK_TOPIC``, kind "library work"): a typical case or a tip sent for approval tells
  the administrators who approve it (those of its unit, or of the nearest unit above it that has any); returned,
  published or declined, it tells those who wrote it (its proposer or author, its last editor, who sent it), with a link
  to its editors' page.

The words are registered in library/apps.py; a notification keeps codes and texts that passed the anonymisation check
(a declined proposal is named by its number, never by its working title, which may still hold the case's words).
Written in the transaction of the step it announces (the push: its record and its job).
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, OrgUnit, Role, User
from accounts.selectors import actor_for, ancestor_paths
from cases import outbox
from cases import services as case_services
from cases.choices import NotificationKind
from library import policy
from library.guidance import policy as tip_policy
from library.guidance.choices import TipState
from library.guidance.models import Tip, TipPush
from library.models import WriteUp
from library.selectors import reader_language

TIP_TOPIC = "library.tip"
WORK_TOPIC = "library.work"
TOPICS = {TIP_TOPIC: NotificationKind.GUIDANCE, WORK_TOPIC: NotificationKind.LIBRARY_WORK}

WRITEUP, TIP = "writeup", "tip"
SUBMITTED, RETURNED, PUBLISHED, DECLINED = "submitted", "returned", "published", "declined"

# The task that pushes a published tip (library/tasks.py), and how many officers each of its transactions tells.
PUSH_TASK = "library.push_tip"
PUSH_CHUNK = 1000


def _title(params: dict[str, Any]) -> str:
    """The title in the reader's language, or the other one."""
    zh, en = str(params.get("title_zh", "")), str(params.get("title_en", ""))
    return (zh or en) if reader_language() == "zh" else (en or zh)


def tip_text(params: dict[str, Any]) -> str:
    values = {"title": _title(params)}
    if params.get("priority") == "urgent":
        return _("Urgent guidance tip: “%(title)s”. Read it before your next call-out.") % values
    return _("New guidance tip: “%(title)s”.") % values


def work_text(params: dict[str, Any]) -> str:
    values = {"title": _title(params), "actor": str(params.get("actor", "")), "number": params.get("number", "")}
    step, what = params.get("step"), params.get("what")
    if what == TIP:
        if step == SUBMITTED:
            return _("%(actor)s sent the guidance tip “%(title)s” for your approval.") % values
        if step == RETURNED:
            return _("%(actor)s returned the guidance tip “%(title)s” to its editors: read the note.") % values
        if step == PUBLISHED:
            return _("%(actor)s approved and published the guidance tip “%(title)s”.") % values
        return ""
    if step == SUBMITTED:
        return _("%(actor)s sent the typical case “%(title)s” for your approval.") % values
    if step == RETURNED:
        return _("%(actor)s returned the typical case “%(title)s” to its editors: read the note.") % values
    if step == PUBLISHED:
        return _("%(actor)s approved and published the typical case “%(title)s”.") % values
    if step == DECLINED:
        return _("%(actor)s declined the proposal of typical case no. %(number)s: read the reason.") % values
    return ""


def _name(user: User) -> str:
    return user.full_name or user.username


def approvers_of(unit: OrgUnit) -> list[int]:
    """The active administrators of ``unit``, or of the nearest unit above it that has any (as a case's office is its
    unit's nearest supervisors): not every administrator up to the ministry."""
    held = dict.fromkeys(ancestor_paths(unit.path), False)
    rows = list(
        Membership.objects.filter(role=Role.ADMIN, unit__path__in=list(held), user__is_active=True).values_list(
            "unit__path", "user_id"
        )
    )
    for path in reversed(list(held)):
        found = sorted({uid for p, uid in rows if p == path})
        if found:
            return found
    return []


def _tell(recipients: Iterable[int], unit: OrgUnit, params: dict[str, Any], link: str) -> int:
    return case_services.notify_members(
        recipients=sorted(set(recipients)), unit=unit, topic=WORK_TOPIC, params=params, link=link
    )


# --- typical cases -----------------------------------------------------------------------------------------------


def _writeup_params(writeup: WriteUp, by: User, step: str) -> dict[str, Any]:
    params: dict[str, Any] = {"what": WRITEUP, "step": step, "actor": _name(by), "number": writeup.pk}
    if step != DECLINED:
        params |= {"title_zh": writeup.title_zh, "title_en": writeup.title_en}
    return params


def writeup_submitted(writeup: WriteUp, by: User) -> int:
    """Tell the administrators who approve it (not the one who sent it, nor its last editor)."""
    ids = set(approvers_of(writeup.unit)) - {by.pk, writeup.last_editor_id}
    link = reverse("library:edit", args=[writeup.pk])
    return _tell(ids, writeup.unit, _writeup_params(writeup, by, SUBMITTED), link)


def writeup_to_editors(writeup: WriteUp, by: User, step: str, people: Iterable[int | None]) -> int:
    """Tell those who wrote it (``people``: its proposer, last editor, sender), while they still manage it."""
    ids = {uid for uid in people if uid is not None} - {by.pk}
    users = User.objects.filter(pk__in=ids, is_active=True)
    told = [u.pk for u in users if policy.can_manage(actor_for(u), writeup)]
    link = reverse("library:edit", args=[writeup.pk])
    return _tell(told, writeup.unit, _writeup_params(writeup, by, step), link)


# --- guidance tips -----------------------------------------------------------------------------------------------


def _tip_params(tip: Tip, by: User, step: str) -> dict[str, Any]:
    return {"what": TIP, "step": step, "actor": _name(by), "title_zh": tip.title_zh, "title_en": tip.title_en}


def tip_submitted(tip: Tip, by: User) -> int:
    """Tell the administrators who may approve it: not its author nor its last editor (four eyes)."""
    ids = set(approvers_of(tip.unit)) - {by.pk, tip.author_id, tip.last_editor_id}
    return _tell(ids, tip.unit, _tip_params(tip, by, SUBMITTED), reverse("library:tip-edit", args=[tip.pk]))


def tip_to_editors(tip: Tip, by: User, step: str) -> int:
    """Tell its author and last editor, while they still manage it."""
    ids = {tip.author_id, tip.last_editor_id} - {by.pk}
    users = User.objects.filter(pk__in=ids, is_active=True)
    told = [u.pk for u in users if tip_policy.can_manage(actor_for(u), tip)]
    return _tell(told, tip.unit, _tip_params(tip, by, step), reverse("library:tip-edit", args=[tip.pk]))


def push_tip(tip: Tip) -> TipPush:
    """Start pushing a tip just published to every officer of its subtree: the push is recorded, and its task enqueued
    through the outbox (cases/outbox.py), in the publishing transaction. The task runs once the publication commits,
    outside the approver's request, and is not lost to a broker that is down or a crash after the commit."""
    push = TipPush.objects.create(tip=tip, version=tip.version, created_at=timezone.now())
    outbox.enqueue(PUSH_TASK, [push.pk], key=f"tip-push:{push.pk}")
    return push


def deliver_push(push_id: int, *, chunk: int | None = None) -> int:
    """Tell the officers of the pushed tip's subtree (``tip_policy.pushed_to``) but its approver, one notification each,
    ``chunk`` recipients at a time in the order of their ids, each chunk in its own transaction with the mark of the
    last one told. Carries on after that mark, so a run retried or repeated tells no one twice; stops, telling no one
    more, once the tip is no longer published (withdrawn before or while it is pushed). Returns how many this run
    told."""
    size = chunk or PUSH_CHUNK
    told = 0
    while True:
        with transaction.atomic():
            # The push's row lock makes a second run of the same push wait, then find the mark moved on.
            push = TipPush.objects.select_for_update().get(pk=push_id)
            if push.finished_at is not None:
                return told
            tip = Tip.objects.select_related("scope_unit").get(pk=push.tip_id)
            scope, approver = tip.scope_unit, tip.approved_by_id
            recipients: list[int] = []
            # (A published tip always has its scope and its approver: database constraints.)
            if tip.state == TipState.PUBLISHED and scope is not None and approver is not None:
                recipients = list(
                    tip_policy.pushed_to(tip.scope_path)
                    .filter(user_id__gt=push.told_through)
                    .exclude(user_id=approver)[:size]
                )
            if scope is None or not recipients:
                push.finished_at = timezone.now()
                push.save(update_fields=["finished_at"])
                return told
            params = {"tip": tip.pk, "priority": tip.priority, "title_zh": tip.title_zh, "title_en": tip.title_en}
            added = case_services.notify_members(
                recipients=recipients,
                unit=scope,
                topic=TIP_TOPIC,
                params=params,
                link=reverse("library:tip", args=[tip.pk]),
            )
            push.told_through = recipients[-1]
            push.told += added
            push.save(update_fields=["told_through", "told"])
            told += added
