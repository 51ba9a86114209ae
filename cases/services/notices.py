"""Notices about a unit, from the apps built on the cases (cases/notices.py), told to the unit's office in-app."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import OrgUnit
from cases import messages, policy
from cases.choices import NotificationDelivery
from cases.models import Notification
from cases.notifications import build_notification


def _is_site_path(link: str) -> bool:
    """Whether ``link`` is a path of this site: it starts with one slash, and holds no backslash, space or control
    character, which a browser drops or reads as a slash ("/\\host/" and "/<tab>/host/" lead to another host)."""
    if not link.startswith("/") or link.startswith("//") or "\\" in link:
        return False
    return all(char.isprintable() and not char.isspace() for char in link)


@transaction.atomic
def notify_unit_office(
    *, unit: OrgUnit, topic: str, params: dict[str, Any], link: str, now: datetime | None = None
) -> list[int]:
    """Tell the rights-protection office of ``unit`` about it in the notification list: the supervisors of the unit, or
    of the nearest unit above it that has any (``policy.office_recipients``), as for an unassigned case of the unit.
    ``topic`` names the wording an app registered (``cases.notices.register_topic``); ``params`` are codes and values
    it words in the reader's language; ``link`` is the site path the notification opens (the page checks who may see
    it). In-app only. Written in the caller's transaction, so a notice goes out with the record it announces or not at
    all. Returns the recipients' ids."""
    recipients = policy.office_recipients(unit_path=unit.path, assignee=None)
    return notify_about_unit(unit=unit, recipients=recipients, topic=topic, params=params, link=link, now=now)


@transaction.atomic
def notify_about_unit(
    *,
    unit: OrgUnit,
    recipients: Iterable[int],
    topic: str,
    params: dict[str, Any],
    link: str,
    now: datetime | None = None,
) -> list[int]:
    """``notify_unit_office`` to the people the caller names (ids, each told once) rather than the unit's office: the
    caller's policy chose them. They read it while they oversee the unit (``policy.unit_notices_q``)."""
    if not _is_site_path(link):
        raise ValueError("A notice links to a page of this site: give its path.")
    now = now or timezone.now()
    told = sorted(set(recipients))
    full = {**params, "topic": topic, "v": messages.VERSION}
    notes = []
    for uid in told:
        note = build_notification(
            recipient_id=uid,
            case_id=None,
            message=messages.NOTICE,
            params=full,
            delivery=NotificationDelivery.IN_APP,
            now=now,
        )
        note.unit, note.link = unit, link
        notes.append(note)
    Notification.objects.bulk_create(notes)
    return told
