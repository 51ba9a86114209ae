"""Attacks on duplicate applications: chains of merges, unmerges that would strand another merge's filer, and the
doors (page, API) taken by someone who may not merge."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts.models import Role
from cases import services, summaries
from cases.choices import CaseStatus, InjuryGrade
from cases.exceptions import Conflict
from cases.models import Case, CaseMerge, InvolvedOfficer
from tests.api.conftest import token_client
from tests.cases.test_duplicates import AT, UNLIKE, filed, state
from tests.factories import complete_details, member


@pytest.fixture
def colleague(world):
    return member(world.station, Role.OFFICER, username="colleague", full_name="李警官", badge_number="012345")


def listed(case: Case) -> list:
    return list(
        InvolvedOfficer.objects.filter(case=case).order_by("id").values_list("user__username", "added_by_merge")
    )


def test_a_case_that_took_in_a_duplicate_is_not_merged_into_a_third(world, colleague):
    """No chains: a merged record must point at a case that carries on, not at another merged record."""
    keep = filed(world)
    dup = filed(world, who=colleague, **UNLIKE)
    third = filed(world, who=world.officer, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=dup, into=keep, reason="重复报案")
    before = state(keep, dup, third)
    with pytest.raises(Conflict) as chain:
        services.merge_cases(by=world.supervisor, case=keep, into=third, reason="x")
    assert chain.value.code == "has_merged_records"
    assert state(keep, dup, third) == before


def test_unmerge_keeps_an_officer_another_merge_in_force_listed(world, colleague):
    """The same officer filed twice; both applications are merged into a third case. Undoing the first merge must not
    take off the survivor the filer of the second, still merged there."""
    keep = filed(world)
    first = filed(world, who=colleague, **UNLIKE)
    second = filed(world, who=colleague, **UNLIKE)
    m1 = services.merge_cases(by=world.supervisor, case=first, into=keep, reason="重复报案")
    m2 = services.merge_cases(by=world.supervisor, case=second, into=keep, reason="重复报案")
    row = InvolvedOfficer.objects.get(case=keep, user=colleague)
    assert row.added_by_merge_id == m1.pk
    services.unmerge_cases(by=world.admin, case=first, reason="误合并")
    assert listed(keep) == [("officer", None), ("colleague", m2.pk)]
    m2.refresh_from_db()
    assert m2.previous["officers"] == [row.pk]
    assert Case.objects.get(pk=first.pk).status == CaseStatus.INTAKE
    assert summaries.reconcile().mismatches == []
    # And the second merge, undone in turn, takes the officer off.
    services.unmerge_cases(by=world.admin, case=second, reason="误合并")
    assert listed(keep) == [("officer", None)]
    assert summaries.reconcile().mismatches == []


@pytest.mark.parametrize("reason", ["\u200b", "\u200b\u200e\ufeff", " \u3000 "])
def test_an_invisible_reason_is_no_reason(world, colleague, reason):
    keep = filed(world)
    dup = filed(world, who=colleague, **UNLIKE)
    before = state(keep, dup)
    with pytest.raises(ValidationError):
        services.merge_cases(by=world.supervisor, case=dup, into=keep, reason=reason)
    with pytest.raises(ValidationError):
        services.link_cases(by=world.supervisor, case=dup, other=keep, reason=reason)
    assert state(keep, dup) == before


@pytest.mark.parametrize("who", ["officer", "colleague", "sibling_supervisor"])
def test_the_merge_page_refuses_who_may_not_merge(world, colleague, who):
    """Each sees at most one of the two cases: the other is not found, and nothing changes."""
    keep = filed(world)
    dup = filed(world, who=colleague, **UNLIKE)
    before = state(keep, dup)
    client = Client()
    client.force_login(colleague if who == "colleague" else getattr(world, who))
    for url in (f"/cases/{dup.pk}/merge/{keep.pk}/", f"/cases/{dup.pk}/links/{keep.pk}/"):
        assert client.post(url, {"reason": "x"}).status_code == 404
    assert state(keep, dup) == before
    assert CaseMerge.objects.count() == 0


def test_a_filer_who_did_not_list_themselves_is_not_made_a_victim_by_a_merge(world, colleague):
    """A supervisor files for a colleague without listing themselves (the API's add_filer_as_officer=false): the merge
    lists the colleague on the survivor, not the supervisor, who was never attacked."""
    keep = filed(world)
    dup = services.create_draft_case(
        by=world.supervisor,
        unit=world.station,
        details=complete_details(**UNLIKE, occurred_at=AT),
        add_filer_as_officer=False,
    )
    services.add_involved_officer(case=dup, by=world.supervisor, user=colleague)
    dup = services.submit_case(case=dup, by=world.supervisor, expected_version=Case.objects.get(pk=dup.pk).version)
    merge = services.merge_cases(by=world.supervisor, case=dup, into=keep, reason="重复报案")
    assert listed(keep) == [("officer", None), ("colleague", merge.pk)]


def test_an_officer_listed_without_their_account_is_not_listed_twice_by_a_merge(world, colleague):
    keep = filed(world)
    services.add_involved_officer(case=keep, by=world.supervisor, name="李警官", badge_number="012345")
    dup = filed(world, who=colleague, **UNLIKE)
    merge = services.merge_cases(by=world.supervisor, case=dup, into=keep, reason="重复报案")
    assert merge.previous["officers"] == []
    assert listed(keep) == [("officer", None), (None, None)]


def test_the_merged_records_filer_reads_it_and_where_it_went_and_nobody_acts_on_it(world, colleague):
    keep = filed(world)
    dup = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=dup, into=keep, reason="重复报案")
    client = Client()
    client.force_login(colleague)
    page = client.get(f"/cases/{dup.pk}/")
    assert page.status_code == 200
    assert keep.reference in page.content.decode()
    assert client.get(f"/cases/{keep.pk}/").status_code == 200  # listed there as a victim now
    before = state(keep, dup)
    api = token_client(world.supervisor)
    refer = api.post(f"/api/v1/cases/{dup.pk}/actions/reject/", {"reason": "x"}, format="json")
    assert refer.status_code in (403, 409)
    added = api.post(f"/api/v1/cases/{dup.pk}/officers/", {"name": "王五"}, format="json")
    assert added.status_code in (403, 409)
    note = token_client(colleague).post(f"/api/v1/cases/{dup.pk}/notes/", {"text": "补充"}, format="json")
    assert note.status_code in (403, 409)
    assert state(keep, dup) == before


def test_unmerge_is_refused_once_an_officer_it_listed_was_changed_on_the_survivor(world, colleague):
    """The survivor's supervisor recorded the colleague's injury on the survivor after the merge: undoing the merge
    would silently drop that record (the merged record still says "no injury")."""
    keep = filed(world)
    dup = filed(world, who=colleague, **UNLIKE)
    services.merge_cases(by=world.supervisor, case=dup, into=keep, reason="重复报案")
    added = InvolvedOfficer.objects.get(case=keep, user=colleague)
    services.update_involved_officer(officer=added, by=world.supervisor, injury=InjuryGrade.MINOR_1)
    before = state(keep, dup)
    with pytest.raises(Conflict) as refused:
        services.unmerge_cases(by=world.admin, case=dup, reason="误合并")
    assert refused.value.code == "survivor_moved_on"
    assert state(keep, dup) == before
    assert InvolvedOfficer.objects.get(pk=added.pk).injury == InjuryGrade.MINOR_1
