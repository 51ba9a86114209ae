"""Duplicate applications: the likely duplicates of a case and why, links, merges and their undoing
(cases/duplicates.py, cases/services/duplicates.py), the case page's panel and the report counts."""

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import actor_for
from cases import policy, services, summaries
from cases.choices import CaseStatus, DuplicateReason, EventKind, SupportKind
from cases.duplicates import likely_duplicates, trigram_similarity
from cases.exceptions import Conflict
from cases.models import Case, CaseEvent, CaseLink, CaseMerge, InvolvedOfficer, ReportCaseSummary, ReportOfficerSummary
from tests.cases.test_concurrency import in_threads
from tests.factories import case_in, complete_details, member

R = DuplicateReason
AT = timezone.now().replace(microsecond=0) - timedelta(days=1)


@pytest.fixture
def colleague(world):
    """A second officer of the station, attacked in the same incident."""
    return member(world.station, Role.OFFICER, username="colleague", full_name="李警官", badge_number="012345")


def filed(world, who=None, unit=None, suspects=(), **details) -> Case:
    """A submitted application; ``suspects`` as (name, ID number) pairs, listed by the supervisor."""
    who = who or world.officer
    details.setdefault("occurred_at", AT)
    case = services.create_draft_case(by=who, unit=unit or world.station, details=complete_details(**details))
    case = services.submit_case(case=case, by=who, expected_version=case.version)
    for name, number in suspects:
        services.add_suspect(case=case, by=world.supervisor, name=name, id_number=number)
    return Case.objects.get(pk=case.pk)


def found(world, case: Case, who=None) -> dict[str, tuple[str, ...]]:
    return {c.case.reference: c.reasons for c in likely_duplicates(actor_for(who or world.supervisor), case)}


UNLIKE = {"location": "余杭区文一西路地铁站", "summary": "网上辱骂民警"}


def state(*cases: Case) -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        tuple(Case.objects.filter(pk__in=[c.pk for c in cases]).order_by("pk").values_list()),
        tuple(InvolvedOfficer.objects.order_by("pk").values_list("pk", "case_id", "user_id", "name")),
        CaseEvent.objects.count(),
        tuple(CaseLink.objects.values_list("low_id", "high_id")),
        tuple(CaseMerge.objects.order_by("pk").values_list("pk", "unmerged_at")),
    )


# --- the candidates ----------------------------------------------------------------------------------------------


def test_the_same_110_number_matches_whatever_the_unit_and_time(world, colleague):
    case = filed(world, dispatch_ref="A330106-20260601-0042")
    other = filed(
        world,
        who=world.other_officer,
        unit=world.other_station,
        dispatch_ref="a330106-20260601-0042",
        occurred_at=AT - timedelta(days=3),
        **UNLIKE,
    )
    assert found(world, case) == {other.reference: (R.SAME_DISPATCH_REF,)}
    assert found(world, other) == {case.reference: (R.SAME_DISPATCH_REF,)}


def test_each_reason_within_two_hours_in_the_same_unit(world, colleague):
    case = filed(world, suspects=[("张 三", "330106199001011234")])
    by_id = filed(
        world, who=colleague, suspects=[("", "330106199001011234")], occurred_at=AT + timedelta(hours=2), **UNLIKE
    )
    by_name = filed(world, who=colleague, suspects=[("张三", "")], occurred_at=AT - timedelta(minutes=90), **UNLIKE)
    by_place = filed(
        world,
        who=colleague,
        location="杭州市西湖区北山街12号",
        summary="网上辱骂民警",
        occurred_at=AT + timedelta(hours=1),
    )
    by_summary = filed(world, who=colleague, location="余杭区", summary="盘查时遭嫌疑人殴打", occurred_at=AT)
    assert found(world, case) == {
        by_id.reference: (R.SAME_SUSPECT_ID,),
        by_name.reference: (R.SAME_SUSPECT_NAME,),
        by_place.reference: (R.SIMILAR_PLACE,),
        by_summary.reference: (R.SIMILAR_SUMMARY,),
    }


def test_no_candidate_past_two_hours_in_another_unit_or_without_a_second_reason(world, colleague):
    case = filed(world, suspects=[("张三", "330106199001011234")])
    filed(
        world, who=colleague, suspects=[("张三", "330106199001011234")], occurred_at=AT + timedelta(hours=2, minutes=1)
    )
    filed(world, who=world.other_officer, unit=world.other_station, suspects=[("张三", "330106199001011234")])
    filed(world, who=colleague, occurred_at=AT + timedelta(minutes=10), **UNLIKE)  # same unit and time, nothing else
    assert found(world, case) == {}


def test_drafts_merged_records_and_linked_cases_are_no_candidates(world, colleague):
    case = filed(world, dispatch_ref="110-7")
    services.create_draft_case(by=colleague, unit=world.station, details=complete_details(dispatch_ref="110-7"))
    linked = filed(world, who=colleague, dispatch_ref="110-7")
    merged = filed(world, who=colleague, dispatch_ref="110-7")
    services.link_cases(by=world.supervisor, case=case, other=linked, reason="同一警情的关联案件")
    services.merge_cases(by=world.supervisor, case=merged, into=linked, reason="重复报案")
    assert found(world, case) == {}
    assert found(world, Case.objects.get(pk=merged.pk)) == {}


def test_another_units_supervisor_and_the_officers_see_no_case_of_others(world, colleague):
    case = filed(world, who=world.other_officer, unit=world.other_station, dispatch_ref="110-9")
    twin = filed(world, who=colleague, dispatch_ref="110-9")
    assert found(world, case) == {twin.reference: (R.SAME_DISPATCH_REF,)}
    other_station_supervisor = member(world.other_station, Role.SUPERVISOR)
    assert found(world, case, who=other_station_supervisor) == {}
    # The filer sees no other officer's case through it, and the page does not offer the panel to them.
    assert found(world, case, who=world.other_officer) == {}
    assert policy.sees_duplicates(actor_for(world.other_officer), case) is False
    assert policy.sees_duplicates(actor_for(world.supervisor), case) is True


def test_the_candidates_take_the_same_queries_however_many_there_are(world, colleague):
    case = filed(world, dispatch_ref="110-11", suspects=[("张三", "")])
    filed(world, who=colleague, dispatch_ref="110-11", suspects=[("张三", "")])
    actor = actor_for(world.supervisor)
    with CaptureQueriesContext(connection) as one:
        assert len(likely_duplicates(actor, case)) == 1
    for _ in range(4):
        filed(world, who=colleague, dispatch_ref="110-11", suspects=[("张三", ""), ("李四", "")])
    with CaptureQueriesContext(connection) as five:
        assert len(likely_duplicates(actor, case)) == 5
    assert len(five) == len(one)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("杭州市西湖区北山街", "杭州市西湖区北山街12号"),
        ("盘查时遭嫌疑人踢打", "盘查时遭嫌疑人殴打"),
        ("North Street, Hangzhou", "north street hangzhou 12"),
        ("北山街", "文一西路"),
        ("", "北山街"),
    ],
)
def test_the_python_similarity_is_pg_trgms(postgres_only, db, a, b):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [a, b])
        expected = cursor.fetchone()[0]
    assert trigram_similarity(a, b) == pytest.approx(expected, abs=1e-6)


# --- links -----------------------------------------------------------------------------------------------------------


def test_link_is_one_row_per_pair_on_both_timelines_and_unlink_removes_it(world, colleague):
    case, other = filed(world), filed(world, who=colleague, **UNLIKE)
    link = services.link_cases(by=world.supervisor, case=other, other=case, reason="同一警情")
    assert (link.low_id, link.high_id) == (case.pk, other.pk)
    assert list(CaseEvent.objects.filter(kind=EventKind.LINKED).order_by("case_id").values_list("case_id", "data")) == [
        (case.pk, {"case": other.reference, "reason": "同一警情"}),
        (other.pk, {"case": case.reference, "reason": "同一警情"}),
    ]
    before = state(case, other)
    with pytest.raises(Conflict) as refused:
        services.link_cases(by=world.supervisor, case=case, other=other, reason="再次")
    assert refused.value.code == "already_linked"
    assert state(case, other) == before
    services.unlink_cases(by=world.supervisor, case=case, other=other, reason="并非同一警情")
    assert CaseLink.objects.count() == 0
    assert CaseEvent.objects.filter(kind=EventKind.UNLINKED).count() == 2
    with pytest.raises(Conflict):
        services.unlink_cases(by=world.supervisor, case=case, other=other, reason="并非同一警情")


def test_the_database_refuses_a_self_link_and_a_second_row_for_a_pair(world):
    case = filed(world)
    with pytest.raises(ValidationError):
        services.link_cases(by=world.supervisor, case=case, other=case, reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseLink.objects.create(low=case, high=case, reason="x", linked_by=world.supervisor, linked_at=timezone.now())


def test_link_needs_a_reason_and_a_supervisor_of_both(world, colleague):
    case, other = filed(world), filed(world, who=world.other_officer, unit=world.other_station)
    county = member(world.station, Role.SUPERVISOR)  # supervises the station, not the other station
    before = state(case, other)
    with pytest.raises(ValidationError) as invalid:
        services.link_cases(by=world.supervisor, case=case, other=other, reason="  ")
    assert invalid.value.message_dict == {"reason": ["Give the reason."]}
    with pytest.raises(PermissionDenied):
        services.link_cases(by=county, case=case, other=other, reason="同一警情")
    with pytest.raises(PermissionDenied):
        services.link_cases(by=world.officer, case=case, other=other, reason="同一警情")
    assert state(case, other) == before


# --- merges ----------------------------------------------------------------------------------------------------------


def test_merge_lists_the_filer_and_victims_once_closes_the_duplicate_and_keeps_its_events(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    # The officer is listed on both: listed once on the survivor after the merge.
    services.add_involved_officer(case=duplicate, by=world.supervisor, user=world.officer)
    services.add_involved_officer(case=duplicate, by=world.supervisor, name="辅警王某", badge_number="F-12")
    duplicate_events = list(CaseEvent.objects.filter(case=duplicate).values_list("pk", flat=True))
    survivor_events = CaseEvent.objects.filter(case=survivor).count()

    merge = services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="同一警情重复报案")

    merged, survivor = Case.objects.get(pk=duplicate.pk), Case.objects.get(pk=survivor.pk)
    assert (merged.status, merged.merged_into_id, merged.closed_at, merged.stage_due_at) == (
        CaseStatus.CLOSED,
        survivor.pk,
        merge.merged_at,
        None,
    )
    assert list(survivor.officers.order_by("id").values_list("user_id", "name", "badge_number", "added_by_merge")) == [
        (world.officer.pk, world.officer.full_name or world.officer.username, world.officer.badge_number, None),
        (colleague.pk, "李警官", "012345", merge.pk),
        (None, "辅警王某", "F-12", merge.pk),
    ]
    # The merged record keeps its own officers and every event it had, with the merge's added.
    assert merged.officers.count() == 3
    assert list(CaseEvent.objects.filter(case=merged).exclude(kind=EventKind.MERGED).values_list("pk", flat=True)) == (
        duplicate_events
    )
    last = CaseEvent.objects.filter(case=merged).latest("at", "id")
    assert (last.kind, last.action, last.from_status, last.to_status, last.data) == (
        EventKind.MERGED,
        "merge",
        CaseStatus.INTAKE,
        CaseStatus.CLOSED,
        {"into": survivor.reference, "reason": "同一警情重复报案"},
    )
    assert CaseEvent.objects.filter(case=survivor).count() == survivor_events + 1
    assert CaseEvent.objects.filter(case=survivor).latest("at", "id").data == {
        "from": merged.reference,
        "reason": "同一警情重复报案",
        "officers": ["李警官", "辅警王某"],
    }
    assert "李警官" in survivor.party_names
    # No workflow action on the merged record (a recall would make two cases of one incident again).
    assert policy.available_actions(actor_for(world.supervisor), merged) == []
    assert policy.can_perform(actor_for(world.supervisor), merged, "recall") is False


def test_a_merged_record_counts_no_more_and_its_victims_count_on_the_survivor(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)

    def counted() -> tuple[int, int]:
        cases = ReportCaseSummary.objects.filter(dimension="status").values_list("n", flat=True)
        officers = ReportOfficerSummary.objects.values_list("n", flat=True)
        return sum(cases), sum(officers)

    assert counted() == (2, 2)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    assert counted() == (1, 2)
    assert summaries.reconcile().mismatches == []
    services.unmerge_cases(by=world.admin, case=duplicate, reason="并非同一警情")
    assert counted() == (2, 2)
    assert summaries.reconcile().mismatches == []


def test_merge_refusals_change_nothing(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    referred = case_in(world, CaseStatus.REFERRED)
    closed = case_in(world, CaseStatus.CLOSED)
    elsewhere = filed(world, who=world.sibling_officer, unit=world.sibling_station)
    station_supervisor = member(world.station, Role.SUPERVISOR)
    other_unit = filed(world, who=world.other_officer, unit=world.other_station)
    cases = (survivor, duplicate, referred, closed, other_unit)
    before = state(*cases)
    refusals = [
        (
            lambda: services.merge_cases(by=world.supervisor, case=duplicate, into=duplicate, reason="x"),
            ValidationError,
        ),
        (lambda: services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason=""), ValidationError),
        (lambda: services.merge_cases(by=world.admin, case=duplicate, into=survivor, reason="x"), PermissionDenied),
        (lambda: services.merge_cases(by=colleague, case=duplicate, into=survivor, reason="x"), PermissionDenied),
        (
            lambda: services.merge_cases(by=station_supervisor, case=other_unit, into=survivor, reason="x"),
            PermissionDenied,
        ),
        (
            lambda: services.merge_cases(by=world.supervisor, case=elsewhere, into=survivor, reason="x"),
            PermissionDenied,
        ),
        (lambda: services.merge_cases(by=world.supervisor, case=referred, into=survivor, reason="x"), Conflict),
        (lambda: services.merge_cases(by=world.supervisor, case=duplicate, into=closed, reason="x"), Conflict),
    ]
    for call, error in refusals:
        with pytest.raises(error):
            call()
        assert state(*cases) == before


def test_a_second_identical_merge_says_so_and_chains_are_refused(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    third = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    before = state(survivor, duplicate, third)
    with pytest.raises(Conflict) as again:
        services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    assert (again.value.code, again.value.message) == (
        "already_merged",
        f"{duplicate.reference} is already merged into {survivor.reference}: nothing was changed.",
    )
    with pytest.raises(Conflict) as chain:
        services.merge_cases(by=world.supervisor, case=third, into=duplicate, reason="x")
    assert chain.value.code == "survivor_merged"
    with pytest.raises(Conflict) as twice:
        services.merge_cases(by=world.supervisor, case=duplicate, into=third, reason="x")
    assert twice.value.code == "merged_record"
    assert state(survivor, duplicate, third) == before


def test_the_database_refuses_a_case_merged_into_itself_or_an_open_merged_record(world):
    case = filed(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(merged_into=case, status=CaseStatus.CLOSED)
    other = filed(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=case.pk).update(merged_into=other)  # still at intake


# --- unmerge ---------------------------------------------------------------------------------------------------------


def test_unmerge_restores_exactly_what_was_there(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    services.pause_clock(case=duplicate, by=world.supervisor, expected_version=None, reason="other")
    stage = tuple(Case.objects.filter(pk=duplicate.pk).values_list(*services_stage_fields()).get())
    officers_before = list(InvolvedOfficer.objects.filter(case=survivor).order_by("id").values_list())
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")

    merge = services.unmerge_cases(by=world.admin, case=duplicate, reason="并非同一警情")

    assert tuple(Case.objects.filter(pk=duplicate.pk).values_list(*services_stage_fields()).get()) == stage
    assert Case.objects.get(pk=duplicate.pk).merged_into_id is None
    assert list(InvolvedOfficer.objects.filter(case=survivor).order_by("id").values_list()) == officers_before
    assert (merge.unmerged_by_id, merge.unmerge_reason) == (world.admin.pk, "并非同一警情")
    kinds = Counter(CaseEvent.objects.filter(kind=EventKind.UNMERGED).values_list("case_id", flat=True))
    assert kinds == Counter({survivor.pk: 1, duplicate.pk: 1})
    with pytest.raises(Conflict) as again:
        services.unmerge_cases(by=world.admin, case=duplicate, reason="并非同一警情")
    assert again.value.code == "not_merged"


def services_stage_fields() -> tuple[str, ...]:
    from cases.services.duplicates import STAGE_FIELDS

    return STAGE_FIELDS


def test_unmerge_is_an_administrators_and_within_the_period(world, colleague, settings, monkeypatch):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    before = state(survivor, duplicate)
    with pytest.raises(PermissionDenied):
        services.unmerge_cases(by=world.supervisor, case=duplicate, reason="x")
    settings.RIGHTSGUARD_UNMERGE_DAYS = 30
    later = timezone.now() + timedelta(days=30, minutes=1)
    monkeypatch.setattr("cases.services.common.timezone.now", lambda: later)
    with pytest.raises(Conflict) as late:
        services.unmerge_cases(by=world.admin, case=duplicate, reason="x")
    assert late.value.code == "unmerge_period_over"
    assert state(survivor, duplicate) == before


def test_unmerge_is_refused_once_the_survivor_moved_on(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    added = InvolvedOfficer.objects.get(case=survivor, user=colleague)
    services.record_support_measure(case=survivor, by=world.supervisor, kind=SupportKind.COMFORT_VISIT, officer=added)
    before = state(survivor, duplicate)
    with pytest.raises(Conflict) as refused:
        services.unmerge_cases(by=world.admin, case=duplicate, reason="x")
    assert refused.value.code == "survivor_moved_on"
    assert state(survivor, duplicate) == before


# --- concurrency -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_merges_at_once_one_wins_and_none_deadlocks(postgres_only, world, colleague):
    a = filed(world)
    b = filed(world, who=colleague, **UNLIKE)

    def merge(i: int):
        # Half merge a into b, half b into a: each locks the lower id first, so none waits on another in a cycle.
        case, into = (a, b) if i % 2 else (b, a)
        return services.merge_cases(by=world.supervisor, case=case.pk, into=into.pk, reason="重复报案")

    results = in_threads(merge, 6)
    assert Counter(type(r).__name__ for r in results) == Counter({"CaseMerge": 1, "Conflict": 5})
    assert CaseMerge.objects.count() == 1
    assert Case.objects.filter(merged_into__isnull=False).count() == 1
    assert CaseEvent.objects.filter(kind=EventKind.MERGED).count() == 2


# --- the pages -------------------------------------------------------------------------------------------------------


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_panel_offers_link_and_merge_to_the_supervisor_only(world, colleague):
    case = filed(world, dispatch_ref="110-21")
    twin = filed(world, who=colleague, dispatch_ref="110-21", **UNLIKE)
    page = _browser(world.supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert "Possible duplicates" in page
    assert f'href="/cases/{twin.pk}/merge/{case.pk}/"' in page
    assert f'href="/cases/{case.pk}/links/{twin.pk}/"' in page
    assert "Same 110 incident number" in page
    filer_page = _browser(world.officer).get(f"/cases/{case.pk}/").content.decode()
    assert "Possible duplicates" not in filer_page
    assert twin.reference not in filer_page


def test_merge_through_the_page_with_hostile_text_escaped(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    browser = _browser(world.supervisor)
    url = f"/cases/{duplicate.pk}/merge/{survivor.pk}/"
    assert browser.get(url).status_code == 200
    empty = browser.post(url, {"reason": ""})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    hostile = '<script>alert("x")</script>'
    done = browser.post(url, {"reason": hostile})
    assert (done.status_code, done["Location"]) == (302, f"/cases/{survivor.pk}/")
    again = browser.post(url, {"reason": hostile})
    assert again.status_code == 409
    assert "is already merged into" in again.content.decode()
    for pk in (survivor.pk, duplicate.pk):
        page = browser.get(f"/cases/{pk}/").content.decode()
        assert hostile not in page
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    merged_page = browser.get(f"/cases/{duplicate.pk}/").content.decode()
    assert f"Merged into {survivor.reference}, which carries on." in merged_page
    assert f'<a class="alert-link" href="/cases/{survivor.pk}/">Open the case that carries on.</a>' in merged_page


def test_the_merged_record_links_no_survivor_its_reader_cannot_see(world, colleague):
    survivor = filed(world, who=colleague)
    duplicate = filed(world, who=world.other_officer, unit=world.other_station, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    reader = member(world.other_station, Role.SUPERVISOR)
    page = _browser(reader).get(f"/cases/{duplicate.pk}/").content.decode()
    assert f"Merged into {survivor.reference}, which carries on." in page
    assert f'href="/cases/{survivor.pk}/"' not in page
    assert "Open the case that carries on." not in page


def test_unmerge_page_is_the_administrators(world, colleague):
    survivor = filed(world)
    duplicate = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
    url = f"/cases/{duplicate.pk}/unmerge/"
    assert _browser(world.supervisor).post(url, {"reason": "x"}).status_code == 403
    assert Case.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk
    done = _browser(world.admin).post(url, {"reason": "并非同一警情"})
    assert (done.status_code, done["Location"]) == (302, f"/cases/{duplicate.pk}/")
    assert Case.objects.get(pk=duplicate.pk).status == CaseStatus.INTAKE
