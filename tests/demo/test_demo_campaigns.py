"""``manage.py seed_demo``'s oversight campaigns: played through the campaign services over the demo cases, with exact
figures, a sample its recorded seed reproduces, one case made up through the case workflow, and nothing changed by a
second run."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import services as case_services
from cases.choices import CampaignStep, CaseStatus, Disposition, EventKind, FindingProblem, SuspectStatus
from cases.models import Case, CaseEvent, SupervisionFinding
from demo.campaigns import SUPERVISION_SEED
from oversight import policy, selectors
from oversight.choices import CampaignKind, CampaignState, PursuitStatus, SelectionMode
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    PursuitRecord,
    Review,
    ReviewAnswer,
    ReviewerAssignment,
)
from oversight.services import sample_key
from tests.factories import member

pytestmark = pytest.mark.django_db

XIHU, SHANGCHENG = "330106", "330102"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def campaign(kind: str) -> Campaign:
    return Campaign.objects.select_related("owner_unit").get(kind=kind)


def figures(c: Campaign, username: str = "admin") -> dict[str | None, tuple[int, ...]]:
    """The campaign page's progress rows by sub-unit code (None: the total)."""
    rows = selectors.progress(actor_for(User.objects.get(username=username)), c)
    return {
        (p.unit.code if p.unit else None): (
            p.selected,
            p.reviewed,
            p.problems,
            p.rectified,
            p.overdue,
            p.made_up,
            p.accountable,
        )
        for p in rows
    }


def oversight_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Campaign,
            CampaignCase,
            CampaignEvent,
            ReviewerAssignment,
            Review,
            ReviewAnswer,
            Problem,
            Accountability,
            PursuitRecord,
        )
    } | {"case events": CaseEvent.objects.count(), "findings": SupervisionFinding.objects.count()}


def test_the_demo_has_three_campaigns_with_exact_figures():
    output = seed()

    assert "Demo campaigns: 3 created." in output
    year = timezone.localdate().year
    assert sorted(Campaign.objects.values_list("kind", "state", "owner_unit__code", "name")) == [
        (CampaignKind.FUGITIVE_PURSUIT, CampaignState.RUNNING, "330100", f"{year}年杭州市妨害公务在逃人员追逃"),
        (CampaignKind.LOOK_BACK, CampaignState.CLOSED, "330000", f"{year}年度袭警案件办理质量“回头看”"),
        (CampaignKind.SPECIAL_SUPERVISION, CampaignState.RUNNING, "330100", f"{year}年杭州市袭警案件专项监督"),
    ]
    # selected, reviewed, problems, rectified, overdue, made up, held accountable
    assert figures(campaign(CampaignKind.LOOK_BACK)) == {"330100": (5, 5, 1, 1, 0, 0, 0), None: (5, 5, 1, 1, 0, 0, 0)}
    assert figures(campaign(CampaignKind.SPECIAL_SUPERVISION)) == {
        SHANGCHENG: (2, 1, 2, 1, 0, 0, 0),
        XIHU: (2, 2, 2, 1, 0, 1, 2),
        None: (4, 3, 4, 2, 0, 1, 2),
    }
    assert figures(campaign(CampaignKind.FUGITIVE_PURSUIT)) == {
        SHANGCHENG: (0, 0, 0, 0, 0, 0, 0),
        XIHU: (1, 0, 0, 0, 0, 0, 0),
        None: (1, 0, 0, 0, 0, 0, 0),
    }
    special = campaign(CampaignKind.SPECIAL_SUPERVISION)
    problems = Problem.objects.filter(campaign_case__campaign=special)
    today = timezone.localdate()
    assert sorted(problems.values_list("type", "rectify_by", "rectified_on")) == [
        ("downgraded", today + timedelta(days=15), None),
        ("evidence", today + timedelta(days=10), today),
        ("protracted", today + timedelta(days=10), today),
        ("support", today, None),
    ]
    assert sorted(
        Accountability.objects.filter(campaign_case__campaign=special).values_list(
            "officer_name", "measure", "unit__code", "problem__type"
        )
    ) == [("李建国", "criticism_education", XIHU, "downgraded"), ("陈志强", "admonishment", XIHU, "protracted")]
    assert Counter(CampaignEvent.objects.filter(campaign=special).values_list("step", flat=True)) == Counter(
        {
            "created": 1,
            "reviewer_assigned": 2,
            "started": 1,
            "reviewed": 3,
            "problem_raised": 4,
            "rectified": 2,
            "made_up": 1,
            "accountability": 2,
        }
    )
    assert sorted(
        ReviewerAssignment.objects.filter(campaign=special).values_list("sub_unit__code", "reviewer__username")
    ) == [(SHANGCHENG, "supervisor"), (XIHU, "county_supervisor")]
    # Every review answers every item of its kind's checklist; a problem answer says what the problem is.
    assert Review.objects.count() == 8
    assert ReviewAnswer.objects.filter(review__campaign_case__campaign=special).count() == 3 * 7
    assert ReviewAnswer.objects.filter(review__campaign_case__campaign__kind=CampaignKind.LOOK_BACK).count() == 5 * 8
    assert ReviewAnswer.objects.filter(answer="problem", note="").count() == 0
    assert ReviewAnswer.objects.filter(answer="problem").count() == 1 + 5


def test_the_special_supervision_is_the_sample_its_recorded_seed_draws():
    seed()

    special = campaign(CampaignKind.SPECIAL_SUPERVISION)
    assert (special.selection, special.sample_size, special.seed) == (SelectionMode.STRATIFIED, 2, SUPERVISION_SEED)
    closed = Case.objects.filter(
        filed_by__username__in=["officer", "officer2"], unit_path__startswith="/000000/330000/"
    ).filter(pk__in=CampaignCase.objects.filter(campaign__kind=CampaignKind.LOOK_BACK).values("case_id"))
    for code in (XIHU, SHANGCHENG):
        path = OrgUnit.objects.get(code=code).path
        in_district = sorted(
            (c for c in closed if c.unit_path.startswith(path)),
            key=lambda c: (sample_key(SUPERVISION_SEED, c.pk), c.pk),
        )
        chosen = set(
            CampaignCase.objects.filter(campaign=special, sub_unit__code=code).values_list("case_id", flat=True)
        )
        assert chosen == {c.pk for c in in_district[:2]}, code
    assert len({c.unit_path.split("/")[4] for c in closed}) == 2  # both districts, five closed cases between them
    assert closed.count() == 5


def test_the_case_made_up_went_back_through_recall_and_reopen():
    seed()

    made_up = CampaignCase.objects.select_related("case", "made_up_problem").get(made_up_at__isnull=False)
    case = made_up.case
    assert made_up.campaign.kind == CampaignKind.SPECIAL_SUPERVISION
    assert made_up.made_up_problem.type == "downgraded"
    assert case.status == CaseStatus.SUPERVISION
    assert case.summary == "强制带离时当事人挣扎踢踹"
    transitions = list(
        CaseEvent.objects.filter(case=case, kind=EventKind.TRANSITION)
        .order_by("-at", "-id")
        .values_list("action", "from_status", "to_status")[:2]
    )
    assert transitions == [("reopen", "look_back", "supervision"), ("recall", "closed", "look_back")]
    finding = SupervisionFinding.objects.get(case=case)
    assert (finding.problem, finding.detail) == (FindingProblem.DOWNGRADED, made_up.made_up_problem.description)
    steps = list(
        CaseEvent.objects.filter(case=case, kind=EventKind.CAMPAIGN)
        .order_by("at", "id")
        .values_list("data__name", "data__step")
    )
    year = timezone.localdate().year
    look_back, special = f"{year}年度袭警案件办理质量“回头看”", f"{year}年杭州市袭警案件专项监督"
    assert steps == [
        (look_back, CampaignStep.SELECTED),
        (look_back, CampaignStep.REVIEWED),
        (special, CampaignStep.SELECTED),
        (special, CampaignStep.REVIEWED),
        (special, CampaignStep.PROBLEM),
        (special, CampaignStep.MADE_UP),
        (special, CampaignStep.ACCOUNTABILITY),
    ]


def test_the_problem_due_today_is_overdue_from_tomorrow(monkeypatch):
    seed()
    special = campaign(CampaignKind.SPECIAL_SUPERVISION)
    due_today = Problem.objects.get(campaign_case__campaign=special, type="support")
    assert due_today.rectify_by == timezone.localdate()
    assert figures(special)[SHANGCHENG][4] == 0

    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: tomorrow)

    assert figures(special) == {
        SHANGCHENG: (2, 1, 2, 1, 1, 0, 0),
        XIHU: (2, 2, 2, 1, 0, 1, 2),
        None: (4, 3, 4, 2, 1, 1, 2),
    }


def test_the_fugitive_is_located_then_arrested_and_the_suspect_changes_through_the_case_services():
    seed()

    record = PursuitRecord.objects.select_related("suspect", "unit").get()
    today = timezone.localdate()
    assert (record.status, record.located_on, record.ended_on, record.unit.code, record.cross_border) == (
        PursuitStatus.ARRESTED,
        today - timedelta(days=2),
        today - timedelta(days=1),
        XIHU,
        False,
    )
    suspect = record.suspect
    assert (suspect.name, suspect.status, suspect.disposition) == (
        "叶某",
        SuspectStatus.DETAINED,
        Disposition.UNDER_INVESTIGATION,
    )
    assert CaseEvent.objects.filter(case=suspect.case, kind=EventKind.SUSPECT_UPDATED).count() == 1
    assert CaseEvent.objects.filter(case=suspect.case, kind=EventKind.DISPOSITION).count() == 2  # at large, then this
    assert CaseEvent.objects.filter(case=suspect.case, kind=EventKind.CAMPAIGN, data__step="pursuit").count() == 2


def test_a_second_run_changes_nothing():
    seed()
    first = oversight_counts()
    states = sorted(Case.objects.values_list("reference", "status", "version"))

    output = seed()

    assert "Demo campaigns: already present, left unchanged." in output
    assert oversight_counts() == first
    assert sorted(Case.objects.values_list("reference", "status", "version")) == states
    assert first["Campaign"] == 3


def test_the_demo_accounts_see_the_campaigns_their_roles_allow(client):
    seed()

    def seen(username: str) -> set[str]:
        return set(
            policy.campaigns_visible_to(actor_for(User.objects.get(username=username))).values_list("kind", flat=True)
        )

    everything = {CampaignKind.LOOK_BACK, CampaignKind.SPECIAL_SUPERVISION, CampaignKind.FUGITIVE_PURSUIT}
    assert seen("admin") == everything  # runs the province's
    assert seen("supervisor") == everything  # runs the city's, reviews the province's look-back for the city
    assert seen("county_supervisor") == {CampaignKind.SPECIAL_SUPERVISION, CampaignKind.FUGITIVE_PURSUIT}
    assert seen("officer") == set()
    assert seen("supervisor_hubei") == set()

    client.force_login(User.objects.get(username="supervisor"))
    page = client.get("/campaigns/").content.decode()
    assert all(c.name in page for c in Campaign.objects.all())
    client.force_login(User.objects.get(username="officer"))
    assert client.get("/campaigns/").status_code == 403
    special = campaign(CampaignKind.SPECIAL_SUPERVISION)
    assert client.get(f"/campaigns/{special.pk}/").status_code == 403


def test_nothing_is_played_when_the_demo_province_holds_other_cases():
    seed("--no-demo")
    stranger = member(OrgUnit.objects.get(code="330106001"), "officer", username="stranger")
    case_services.create_draft_case(by=stranger, unit=OrgUnit.objects.get(code="330106001"))

    output = seed()

    assert "Demo cases: 38 created." in output
    assert "Demo campaigns: skipped, the demo province holds cases other than the demo's." in output
    assert Campaign.objects.count() == 0
