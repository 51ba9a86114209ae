"""The detail export: every case of the report year in the unit's subtree as one CSV row, streamed.

Memory stays flat whatever the number of rows: the rows come from a server-side cursor (``iterator()`` on
PostgreSQL) as plain tuples, per-case counts are correlated subqueries computed by the database, and the CSV is
yielded in blocks of a few hundred rows. The file leaves the unit, so it carries no personal data: no names, ID
numbers, narrative, location or medical details; a case is identified by its reference only.
"""

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, unit_name
from cases.choices import (
    DISPOSITION_RANK,
    INJURY_RANK,
    CaseStatus,
    Channel,
    Disposition,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
)
from cases.models import Case, InvolvedOfficer, SupportMeasure, Suspect
from cases.reports.cells import csv_blocks
from cases.reports.yearly import report_timezone

CHUNK_ROWS = 2000  # rows fetched per round trip of the server-side cursor
Progress = Callable[[int, int], None]


def _count_per_case(qs: QuerySet[Any]) -> Coalesce:
    """A correlated subquery counting one case's rows of ``qs`` (0 when there are none)."""
    sub = qs.filter(case=OuterRef("pk")).order_by().values("case").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def detail_cases(*, unit: OrgUnit, year: int) -> QuerySet[Case]:
    """The year's cases (submitted in the local calendar year, drafts excluded) of the subtree, oldest first."""
    tz = report_timezone()
    return (
        Case.objects.filter(
            unit_path__startswith=unit.path,
            submitted_at__gte=datetime(year, 1, 1, tzinfo=tz),
            submitted_at__lt=datetime(year + 1, 1, 1, tzinfo=tz),
            merged_into__isnull=True,
        )
        .exclude(status=CaseStatus.DRAFT)
        .order_by("submitted_at", "pk")
    )


COLUMNS = (
    "reference",
    "submitted_at",
    "occurred_at",
    "unit__code",
    "unit__name",
    "unit__name_en",
    "kind",
    "channel",
    "status",
    "track",
    "n_officers",
    "n_auxiliary_officers",
    "max_injury_rank",
    "n_suspects",
    "n_identified_suspects",
    "disposition_rank",
    "first_referred_at",
    "closed_at",
    "is_stalled",
    "has_overdue_referral",
    "is_downgraded",
    "n_support_delivered",
    "comfort_payments",
    # Last, so the columns before it keep their places: "Downgraded" counts only downgrades, this the review prompts.
    "has_review_prompt",
)


def _headers() -> list[str]:
    return [
        _("Reference"),
        _("Submitted"),
        _("Occurred"),
        _("Unit code"),
        _("Unit"),
        _("Incident type"),
        _("Channel"),
        _("Status"),
        _("Track"),
        _("Officers involved"),
        _("Auxiliary officers"),
        _("Worst injury"),
        _("Suspects"),
        _("Identified suspects"),
        _("Highest disposition"),
        _("First referred"),
        _("Closed"),
        _("Stalled"),
        _("Overdue referral"),
        _("Downgraded"),
        _("Support measures delivered"),
        _("Comfort payments (CNY)"),
        _("Review prompt"),
    ]


def detail_rows(*, unit: OrgUnit, year: int, progress: Progress | None = None) -> Iterator[list[Any]]:
    """The header, then one list per case, with labels in the active language."""
    tz = report_timezone()
    kinds, channels = dict(IncidentKind.choices), dict(Channel.choices)
    statuses, tracks = dict(CaseStatus.choices), dict(Track.choices)
    injuries = {rank: str(dict(InjuryGrade.choices)[grade]) for grade, rank in INJURY_RANK.items()}
    dispositions = {rank: str(dict(Disposition.choices)[d]) for d, rank in DISPOSITION_RANK.items()}
    labels = {
        "kind": {k: str(v) for k, v in kinds.items()},
        "channel": {k: str(v) for k, v in channels.items()},
        "status": {k: str(v) for k, v in statuses.items()},
        "track": {k: str(v) for k, v in tracks.items()},
    }

    def when(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else ""

    cases = detail_cases(unit=unit, year=year)
    total = cases.count() if progress else 0
    rows = cases.annotate(
        n_officers=_count_per_case(InvolvedOfficer.objects.all()),
        n_auxiliary_officers=_count_per_case(InvolvedOfficer.objects.filter(officer_type=OfficerType.AUXILIARY)),
        n_suspects=_count_per_case(Suspect.objects.all()),
        n_identified_suspects=_count_per_case(Suspect.objects.exclude(status=SuspectStatus.UNIDENTIFIED)),
        n_support_delivered=_count_per_case(SupportMeasure.objects.filter(status=SupportStatus.DELIVERED)),
        comfort_payments=Subquery(
            SupportMeasure.objects.filter(
                case=OuterRef("pk"), status=SupportStatus.DELIVERED, kind=SupportKind.COMFORT_PAYMENT
            )
            .order_by()
            .values("case")
            .annotate(total=Sum("amount"))
            .values("total")[:1]
        ),
    ).values_list(*COLUMNS)

    yield _headers()
    done = 0
    for r in rows.iterator(chunk_size=CHUNK_ROWS):
        (ref, submitted, occurred, code, name, name_en, kind, channel, status, track) = r[:10]
        (officers, auxiliary, injury, suspects, identified, disposition, referred, closed) = r[10:18]
        (stalled, overdue, downgraded, support, payments, review_prompt) = r[18:]
        yield [
            ref,
            when(submitted),
            when(occurred),
            code,
            unit_name(name, name_en),
            labels["kind"].get(kind, kind),
            labels["channel"].get(channel, channel),
            labels["status"].get(status, status),
            labels["track"].get(track, track),
            officers,
            auxiliary,
            injuries.get(injury, ""),
            suspects,
            identified,
            dispositions.get(disposition, ""),
            when(referred),
            when(closed),
            int(stalled),
            int(overdue),
            int(downgraded),
            support,
            "" if payments is None else f"{payments:.2f}",
            int(review_prompt),
        ]
        done += 1
        if progress and done % 5000 == 0:
            progress(done, total)
    if progress:
        progress(done, total)


def stream_detail_csv(*, unit: OrgUnit, year: int, progress: Progress | None = None) -> Iterator[bytes]:
    """The CSV as UTF-8 blocks (a byte-order mark first, so spreadsheet programs read Chinese)."""
    return csv_blocks(detail_rows(unit=unit, year=year, progress=progress))


def write_detail_csv(*, unit: OrgUnit, year: int, out: IO[bytes], progress: Progress | None = None) -> None:
    for block in stream_detail_csv(unit=unit, year=year, progress=progress):
        out.write(block)
