"""The demo's typical cases (``data/library.json``), played through ``library.services`` over the demo's closed cases,
so the anonymisation, its check and the four-eyes approval apply as they would to an office's own:

the city's supervisor proposes each case, accepts the proposed replacements (the suspects' names become 嫌疑人A), edits
the account of what happened as an editor would (the filer's 本人 becomes 民警甲) and writes the rest in Chinese and
English; the province's administrator approves and publishes it to the city. Three are published: the first three of
the file whose cases are still closed when the demo is seeded (a campaign may have sent one back to be handled again).

Played once, like the demo cases: a second run finds typical cases proposed by the demo accounts and leaves them."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.models import OrgUnit, User
from cases.choices import CaseStatus
from cases.models import Case
from demo.datafiles import load
from demo.organisation import DEMO_ACCOUNTS
from demo.stories import DEMO_CASES, quiet_task_log
from library import services
from library.models import WriteUp

CITY = "330100"
EDITOR = "supervisor"
APPROVER = "admin"
PUBLISHED = 3
STORIES = {story.key: story for story in DEMO_CASES}


@dataclass(frozen=True)
class Played:
    typical_cases: int
    skipped: str = ""


def _source(entry: dict[str, Any], units: dict[str, OrgUnit], users: dict[str, User]) -> Case | None:
    """The demo case a typical case is written from, while it is closed."""
    story = STORIES[entry["story"]]
    return Case.objects.filter(
        filed_by=users[story.filer],
        unit=units[story.unit],
        summary=story.details["summary"],
        status=CaseStatus.CLOSED,
    ).first()


def _texts(entry: dict[str, Any], happened_zh: str) -> dict[str, str]:
    for before, after in entry["edits"].items():
        happened_zh = happened_zh.replace(before, after)
    texts = {"happened_zh": happened_zh}
    for language in ("zh", "en"):
        texts.update({f"{field}_{language}": text for field, text in entry[language].items()})
    return texts


def seed_demo_library(units: dict[str, OrgUnit], users: dict[str, User]) -> Played:
    """Publish the demo's typical cases, unless a demo account has proposed one already."""
    if WriteUp.objects.filter(proposed_by__in=[users[a.username] for a in DEMO_ACCOUNTS]).exists():
        return Played(0)
    sources = [(entry, case) for entry in load("library.json") if (case := _source(entry, units, users)) is not None]
    if not sources:
        return Played(0, "there are no closed demo cases")
    editor, approver = users[EDITOR], users[APPROVER]
    published = 0
    with quiet_task_log(), transaction.atomic():
        for entry, case in sources[:PUBLISHED]:
            writeup = services.propose_case(case=case, by=editor, note=entry["note"])
            writeup = services.accept_anonymisation(writeup=writeup, by=editor, expected_version=writeup.version)
            writeup = services.save_writeup(
                writeup=writeup,
                by=editor,
                texts=_texts(entry, writeup.happened_zh),
                expected_version=writeup.version,
            )
            writeup = services.submit_writeup(writeup=writeup, by=editor, expected_version=writeup.version)
            services.publish_writeup(
                writeup=writeup, by=approver, scope_unit=units[CITY], expected_version=writeup.version
            )
            published += 1
    return Played(published)
