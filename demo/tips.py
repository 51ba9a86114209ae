"""The demo's guidance tips (``data/tips.json``), played through the tips' services, so the four-eyes approval and the
push to the officers apply as they would to an office's own: the city's supervisor writes each tip in Chinese and
English and sends it for approval; the province's administrator approves and publishes it to the city, whose officers
are told at once.

Played once: a second run finds tips written by the demo accounts and leaves them."""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import OrgUnit, User
from demo.datafiles import load
from demo.organisation import DEMO_ACCOUNTS
from demo.stories import quiet_task_log
from library.guidance import services
from library.guidance.models import Tip

CITY = "330100"
AUTHOR = "supervisor"
APPROVER = "admin"


@dataclass(frozen=True)
class Played:
    tips: int


def seed_demo_tips(units: dict[str, OrgUnit], users: dict[str, User]) -> Played:
    """Publish the demo's tips to the city, unless a demo account has written one already."""
    if Tip.objects.filter(author__in=[users[a.username] for a in DEMO_ACCOUNTS]).exists():
        return Played(0)
    author, approver, city = users[AUTHOR], users[APPROVER], units[CITY]
    today = timezone.localdate()
    published = 0
    with quiet_task_log(), transaction.atomic():
        for entry in load("tips.json"):
            texts = {
                f"{field}_{language}": entry[language][field]
                for language in ("zh", "en")
                for field in ("title", "body")
            }
            data = services.TipInput(
                texts=texts,
                scenarios=entry["scenarios"],
                kinds=entry["kinds"],
                priority=entry["priority"],
                valid_from=today,
                valid_until=None,
            )
            tip = services.create_tip(by=author, unit=city, data=data)
            tip = services.submit_tip(tip=tip, by=author, expected_version=tip.version)
            services.publish_tip(tip=tip, by=approver, scope_unit=city, expected_version=tip.version)
            published += 1
    return Played(published)
