"""The demo's oversight campaigns, played through ``oversight.services`` over the demo cases, so their logs, the steps
on the cases' timelines and every rule of the services apply as they would to an office's own:

- a **yearly look-back** of the demo province, owned by the province: every closed case reviewed, one problem found
  and rectified, the campaign closed;
- a **special supervision** owned by the city bureau, over a random sample of its closed cases — two from each
  district, drawn with a recorded seed — with reviewers per district, three of the four cases reviewed, problems of
  four types (two rectified, one due today), one case made up (recalled and reopened through the case workflow) and
  two officers held accountable; it is still running;
- a **fugitive pursuit** owned by the city bureau, when the demo has suspects at large: one located, then arrested.

The look-back runs first: the special supervision then recalls one of the cases it reviewed, as a later campaign
would. Every step happens now, when the demo is seeded, right after the cases it is about were closed; a
rectification date cannot lie in the past when a problem is raised, so the problem due today is overdue from
tomorrow on.

Played once, like the demo cases: a second run finds campaigns made by the demo accounts and leaves everything."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import OrgUnit, User
from cases.choices import CaseStatus, SuspectStatus
from cases.models import Case, Suspect
from demo.organisation import DEMO_ACCOUNTS, DEMO_OFFICERS
from demo.stories import quiet_task_log
from oversight import services
from oversight.choices import (
    CHECKLISTS,
    Answer,
    CampaignKind,
    Measure,
    ProblemType,
    PursuitStatus,
    SelectionMode,
)
from oversight.models import Campaign, CampaignCase, Problem, PursuitRecord
from oversight.scope import Scope

PROVINCE = "330000"
CITY = "330100"
# The city's two districts with demo cases, each with its reviewer.
DISTRICTS = ("330106", "330102")
SUPERVISION_SEED = "rightsguard-demo"
PER_DISTRICT = 2

LOOK_BACK_NAME = "{year}年度袭警案件办理质量“回头看”"
SUPERVISION_NAME = "{year}年杭州市袭警案件专项监督"
PURSUIT_NAME = "{year}年杭州市妨害公务在逃人员追逃"


@dataclass(frozen=True)
class Played:
    campaigns: int
    skipped: str = ""


def demo_campaigns_exist(users: dict[str, User]) -> bool:
    return Campaign.objects.filter(created_by__in=[users[a.username] for a in DEMO_ACCOUNTS]).exists()


def _other_cases(province: OrgUnit) -> QuerySet[Case]:
    """Cases of the demo province that are not the demo's (a synthetic caseload generated before them)."""
    return Case.objects.filter(unit_path__startswith=province.path).exclude(filed_by__username__in=DEMO_OFFICERS)


def seed_demo_campaigns(units: dict[str, OrgUnit], users: dict[str, User]) -> Played:
    """Play the demo campaigns, unless a demo account has made a campaign already. They are about the demo cases:
    without them, or with other cases in the demo province (whose look-back would have every one reviewed here),
    nothing is played and the reason is returned."""
    if demo_campaigns_exist(users):
        return Played(0)
    province = units[PROVINCE]
    if not Case.objects.filter(unit_path__startswith=province.path, filed_by__username__in=DEMO_OFFICERS).exists():
        return Played(0, "there are no demo cases")
    if _other_cases(province).exists():
        return Played(0, "the demo province holds cases other than the demo's")
    with quiet_task_log(), transaction.atomic():
        _look_back(units, users)
        _special_supervision(units, users)
        played = 2
        if _pursuit(units, users):
            played += 1
    return Played(played)


# --- helpers ---------------------------------------------------------------------------------------------------------


def _today() -> date:
    return timezone.localdate()


def _year_period() -> tuple[date, date]:
    year = _today().year
    return date(year, 1, 1), date(year, 12, 31)


def _items(campaign: Campaign, sub_unit: OrgUnit | None = None) -> list[CampaignCase]:
    """The selected cases in the order of their references (the ids a database hands out do not decide anything)."""
    items = CampaignCase.objects.filter(campaign=campaign).select_related("case", "campaign")
    if sub_unit is not None:
        items = items.filter(sub_unit=sub_unit)
    return sorted(items, key=lambda item: item.case.reference)


def _answers(kind: str, problems: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Every checklist item of the kind passed, but those given with the note saying what the problem is."""
    problems = problems or {}
    return {
        item: (Answer.PROBLEM, problems[item]) if item in problems else (Answer.PASS, "") for item in CHECKLISTS[kind]
    }


def _review(
    item: CampaignCase,
    by: User,
    summary: str,
    problems: dict[str, str] | None = None,
) -> None:
    services.record_review(item=item, by=by, answers=_answers(item.campaign.kind, problems), summary=summary)


def _raise(item: CampaignCase, by: User, type: str, description: str, unit: OrgUnit, days: int) -> Problem:
    return services.raise_problem(
        item=item,
        by=by,
        type=type,
        description=description,
        responsible_unit=unit,
        rectify_by=_today() + timedelta(days=days),
    )


def _county_of(item: CampaignCase, units: dict[str, OrgUnit]) -> OrgUnit:
    """The district the case was handled in, responsible for what went wrong (the city for a case of another)."""
    return next((units[c] for c in DISTRICTS if item.case.unit_path.startswith(units[c].path)), units[CITY])


# --- the campaigns ---------------------------------------------------------------------------------------------------


def _look_back(units: dict[str, OrgUnit], users: dict[str, User]) -> Campaign:
    """The province's yearly look-back of every closed case, done and closed."""
    admin, reviewer = users["admin"], users["supervisor"]
    start, end = _year_period()
    campaign = services.create_campaign(
        by=admin,
        name=LOOK_BACK_NAME.format(year=start.year),
        kind=CampaignKind.LOOK_BACK,
        owner_unit=units[PROVINCE],
        period_start=start,
        period_end=end,
        deadline=_today(),
        scope=Scope(statuses=(CaseStatus.CLOSED,)),
        selection=SelectionMode.ALL,
    )
    services.assign_reviewer(campaign=campaign, by=admin, sub_unit=units[CITY], reviewer=reviewer)
    campaign = services.start_campaign(campaign=campaign, by=admin)
    items = _items(campaign)
    if not items:
        return services.close_campaign(campaign=campaign, by=admin)
    first, rest = items[0], items[1:]
    _review(
        first,
        reviewer,
        "办结前未在法定时限内告知民警处理结果，已督促补正。",
        {"time_limits": "处理结果告知民警超出规定时限三日。"},
    )
    problem = _raise(
        first, reviewer, ProblemType.TIME_LIMITS, "处理结果告知民警超出规定时限。", _county_of(first, units), 10
    )
    services.rectify_problem(
        problem=problem, by=reviewer, rectification="已向民警书面告知处理结果并说明延迟原因。", rectified_on=_today()
    )
    for item in rest:
        _review(item, reviewer, "依法处置到位，维权措施落实。")
    return services.close_campaign(campaign=campaign, by=admin)


def _special_supervision(units: dict[str, OrgUnit], users: dict[str, User]) -> Campaign:
    """The city bureau's special supervision of a sample of its closed cases, under way."""
    organiser = users["supervisor"]
    reviewers = {code: _reviewer_of(code, users) for code in DISTRICTS}
    start, end = _year_period()
    campaign = services.create_campaign(
        by=organiser,
        name=SUPERVISION_NAME.format(year=start.year),
        kind=CampaignKind.SPECIAL_SUPERVISION,
        owner_unit=units[CITY],
        period_start=start,
        period_end=end,
        deadline=_today() + timedelta(days=30),
        scope=Scope(statuses=(CaseStatus.CLOSED,)),
        selection=SelectionMode.STRATIFIED,
        sample_size=PER_DISTRICT,
        seed=SUPERVISION_SEED,
    )
    for code, reviewer in reviewers.items():
        services.assign_reviewer(campaign=campaign, by=organiser, sub_unit=units[code], reviewer=reviewer)
    campaign = services.start_campaign(campaign=campaign, by=organiser)
    year = start.year

    # The first district: one case dragged out, rectified and an officer admonished; one handled too leniently, made
    # up and an officer criticised.
    west = _items(campaign, units[DISTRICTS[0]])
    reviewer = reviewers[DISTRICTS[0]]
    county = units[DISTRICTS[0]]
    if west:
        slow = west[0]
        _review(
            slow,
            reviewer,
            "立案后侦查久拖，经督促已移送审查起诉并判决。",
            {"protracted": "立案后八十余日未移送审查起诉。", "time_limits": "侦查羁押期限届满前未及时报请延长。"},
        )
        protracted = _raise(slow, reviewer, ProblemType.PROTRACTED, "立案后侦查久拖，逾期未移送审查起诉。", county, 10)
        services.rectify_problem(
            problem=protracted,
            by=reviewer,
            rectification="已明确专人办理，案件移送审查起诉并已判决；建立袭警案件办理期限提醒。",
            rectified_on=_today(),
        )
        services.record_accountability(
            item=slow,
            by=organiser,
            officer_name="陈志强",
            officer_badge="016977",
            unit=county,
            measure=Measure.ADMONISHMENT,
            document_reference=f"杭公督〔{year}〕8号",
            decided_on=_today(),
            problem=protracted,
        )
    if len(west) > 1:
        lenient = west[1]
        _review(
            lenient,
            reviewer,
            "对袭警行为降格作罚款处理，应重新办理。",
            {"downgraded": "醉酒人员踢踹民警致擦伤，仅予罚款，未依法从重处理。"},
        )
        downgraded = _raise(lenient, reviewer, ProblemType.DOWNGRADED, "踢踹民警致伤仅予罚款，降格处理。", county, 15)
        services.make_up_case(item=lenient, by=reviewer, problem=downgraded)
        services.record_accountability(
            item=lenient,
            by=organiser,
            officer_name="李建国",
            officer_badge="016935",
            unit=county,
            measure=Measure.CRITICISM_EDUCATION,
            document_reference=f"杭公督〔{year}〕7号",
            decided_on=_today(),
            problem=downgraded,
        )

    # The second district: one case reviewed with two problems — the evidence rectified, the support due today —
    # and one not reviewed yet.
    east = _items(campaign, units[DISTRICTS[1]])
    reviewer = reviewers[DISTRICTS[1]]
    county = units[DISTRICTS[1]]
    if east:
        item = east[0]
        _review(
            item,
            reviewer,
            "证据固定不及时，对民警的关爱措施未落实到位。",
            {"evidence": "关键证据未及时调取固定。", "support": "未对受侵害民警开展心理疏导。"},
        )
        evidence = _raise(item, reviewer, ProblemType.EVIDENCE, "关键证据未及时调取固定。", county, 10)
        services.rectify_problem(
            problem=evidence, by=reviewer, rectification="已补充调取相关证据并归档。", rectified_on=_today()
        )
        _raise(item, reviewer, ProblemType.SUPPORT, "未对受侵害民警开展心理疏导。", county, 0)
    return campaign


def _pursuit(units: dict[str, OrgUnit], users: dict[str, User]) -> Campaign | None:
    """The city bureau's pursuit of the suspects at large in its cases: the first of them located by the district
    that handles the case, then caught."""
    city = units[CITY]
    if not Suspect.objects.filter(status=SuspectStatus.AT_LARGE, case__unit_path__startswith=city.path).exists():
        return None
    organiser = users["supervisor"]
    start, end = _year_period()
    campaign = services.create_campaign(
        by=organiser,
        name=PURSUIT_NAME.format(year=start.year),
        kind=CampaignKind.FUGITIVE_PURSUIT,
        owner_unit=city,
        period_start=start,
        period_end=end,
        deadline=_today() + timedelta(days=60),
        scope=Scope(),
        selection=SelectionMode.ALL,
    )
    for code in DISTRICTS:
        services.assign_reviewer(
            campaign=campaign, by=organiser, sub_unit=units[code], reviewer=_reviewer_of(code, users)
        )
    campaign = services.start_campaign(campaign=campaign, by=organiser)
    records = sorted(
        PursuitRecord.objects.filter(campaign_case__campaign=campaign).select_related("campaign_case__case"),
        key=lambda r: (r.campaign_case.case.reference, r.suspect_id),
    )
    if records:
        record = records[0]
        county = _county_of(record.campaign_case, units)
        reviewer = _reviewer_of(county.code, users)
        record = services.record_pursuit_step(
            record=record,
            by=reviewer,
            status=PursuitStatus.LOCATED,
            on=_today() - timedelta(days=2),
            unit=county,
            note="经视频追踪，确定其藏匿于邻县一出租屋。",
        )
        services.record_pursuit_step(
            record=record,
            by=reviewer,
            status=PursuitStatus.ARRESTED,
            on=_today() - timedelta(days=1),
            unit=county,
            note="会同属地派出所将其抓获归案，已刑事拘留。",
            custody=SuspectStatus.DETAINED,
        )
    return campaign


def _reviewer_of(district: str, users: dict[str, User]) -> User:
    """Each district's reviewer: the district's own supervisor where the demo has one, else the city's."""
    return users["county_supervisor"] if district == DISTRICTS[0] else users["supervisor"]
