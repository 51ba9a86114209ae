"""The yearly report's "Campaigns" section (registered in ``OversightConfig.ready`` through
cases/reports/sections.py): the oversight campaigns of the unit's subtree that ran in the report year, with their key
figures.

- **Which campaigns**: those owned by the unit or a unit below it (a campaign owned above the unit is the higher
  office's, even where it reviewed the unit's cases), that were *running at some moment of the year*: started before
  the year ended, and not closed before it began (local calendar, as the rest of the yearly report). The recorded
  start and close date the work itself, as everything of the yearly report that counts work done ("dated by the act");
  the period a campaign is given is its plan, which a campaign may overrun or start late. A draft never ran. A
  campaign that ran across New Year is in both years' reports.
- **Which figures**: each campaign's whole figures as they stand on the day of the report (``report.py`` says what
  each counts: officers held accountable are officers, each once per campaign), not the part of them done in the
  year: a campaign is reported by its results. They count every selected case: whoever may see the yearly report of
  a unit (its supervisors and administrators, ``cases.policy.can_report_on``) runs the campaigns owned in its subtree
  (``oversight.policy.runs_at``) and sees every case of them.
- **How**: one query for the campaigns, then the grouped queries of ``report.grouped_figures`` by campaign: a fixed
  number whatever the number of campaigns and cases.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, unit_name
from cases.reports.grid import Column, Grid, GridRow
from cases.reports.yearly import report_timezone
from oversight.choices import CampaignKind, CampaignState, PursuitStatus
from oversight.models import Campaign, CampaignCase
from oversight.report import Figures, figure_label, grouped_figures


@dataclass(frozen=True)
class CampaignLine:
    campaign_id: int
    name: str
    kind: str
    state: str
    owner_code: str
    owner_name: str
    owner_name_en: str
    figures: Figures


@dataclass(frozen=True)
class CampaignsSection:
    """Codes and numbers only; ``grids`` gives them labels in the active language."""

    year: int
    as_of: date
    lines: tuple[CampaignLine, ...]

    def grids(self) -> tuple[Grid, ...]:
        kinds, states = dict(CampaignKind.choices), dict(CampaignState.choices)
        columns = (
            Column(_("Kind"), "text", key="kind"),
            Column(_("State"), "text", key="state"),
            Column(_("Owner unit"), "text", key="owner"),
            *(
                Column(figure_label(key), key=key)
                for key in (
                    "selected",
                    "reviewed",
                    "problems",
                    "rectified_on_time",
                    "overdue",
                    "made_up",
                    "officers_accountable",
                    "pursued",
                    "arrested",
                    "still_at_large",
                )
            ),
        )
        rows = []
        for line in self.lines:
            f = line.figures
            pursuit = line.kind == CampaignKind.FUGITIVE_PURSUIT
            rows.append(
                GridRow(
                    line.name,
                    (
                        str(kinds.get(line.kind, line.kind)),
                        str(states.get(line.state, line.state)),
                        f"{unit_name(line.owner_name, line.owner_name_en)} ({line.owner_code})",
                        f.selected,
                        f.reviewed,
                        f.problems,
                        f.rectified_on_time,
                        f.overdue,
                        f.made_up,
                        f.officers_accountable,
                        # Only a fugitive pursuit pursues: blank, not zero, for the others.
                        f.pursued if pursuit else None,
                        f.pursuit_by_status[PursuitStatus.ARRESTED] if pursuit else None,
                        f.still_at_large if pursuit else None,
                    ),
                )
            )
        return (
            Grid(
                key="campaigns",
                title=_("Oversight campaigns"),
                label_title=_("Campaign"),
                columns=columns,
                rows=tuple(rows),
                note=_(
                    "Campaigns of this area running at some time in the year, with their figures as of %(day)s. "
                    "Overdue: not rectified and past the rectify-by date. Officers held accountable: each officer once."
                )
                % {"day": formats.date_format(self.as_of, "DATE_FORMAT")},
                empty=_("No oversight campaign of this area ran in the year."),
            ),
        )


def ran_in(year: int) -> Q:
    """Started before the year ended, and not closed before it began (local time)."""
    tz = report_timezone()
    start, end = datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    return Q(started_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))


def campaigns_section(unit: OrgUnit, year: int) -> CampaignsSection:
    campaigns = list(
        Campaign.objects.filter(ran_in(year), owner_unit__path__startswith=unit.path)
        .exclude(state=CampaignState.DRAFT)
        .select_related("owner_unit")
        .order_by("started_at", "id")
    )
    today = timezone.localdate()
    figures: dict[int, Figures] = {}
    if campaigns:
        figures, _officers = grouped_figures(
            CampaignCase.objects.filter(campaign__in=[c.pk for c in campaigns]),
            by="campaign_id",
            as_of=today,
            pursuit=any(c.kind == CampaignKind.FUGITIVE_PURSUIT for c in campaigns),
            officers_overall=False,  # each campaign's own officers: its row
        )
    return CampaignsSection(
        year=year,
        as_of=today,
        lines=tuple(
            CampaignLine(
                campaign_id=c.pk,
                name=c.name,
                kind=c.kind,
                state=c.state,
                owner_code=c.owner_unit.code,
                owner_name=c.owner_unit.name,
                owner_name_en=c.owner_unit.name_en,
                figures=figures.get(c.pk, Figures()),
            )
            for c in campaigns
        ),
    )
