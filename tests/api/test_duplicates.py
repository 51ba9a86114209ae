"""The duplicates over the API: candidates, links, merges and unmerges, with precise refusals that change nothing."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from cases import services
from cases.choices import CaseStatus
from cases.models import Case, CaseEvent, CaseLink, CaseMerge, InvolvedOfficer
from tests.api.conftest import token_client
from tests.factories import complete_details, member

C = "/api/v1/cases"


def filed(world, who, unit=None, **details) -> Case:
    case = services.create_draft_case(by=who, unit=unit or world.station, details=complete_details(**details))
    return services.submit_case(case=case, by=who, expected_version=case.version)


def records() -> tuple:
    return (
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version", "merged_into_id")),
        tuple(InvolvedOfficer.objects.order_by("pk").values_list("pk", "case_id")),
        CaseEvent.objects.count(),
        tuple(CaseLink.objects.values_list("low_id", "high_id")),
        tuple(CaseMerge.objects.values_list("pk", "unmerged_at")),
    )


def test_candidates_with_their_reasons_in_a_fixed_number_of_queries(world):
    colleague = member(world.station, Role.OFFICER)
    case = filed(world, world.officer, dispatch_ref="110-42")
    twin = filed(world, colleague, dispatch_ref="110-42", location="余杭区", summary="辱骂")
    client = token_client(world.supervisor)
    client.get(f"{C}/{case.pk}/duplicates/")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as one:
        response = client.get(f"{C}/{case.pk}/duplicates/")
    assert response.status_code == 200
    assert [(c["case"]["reference"], c["reasons"]) for c in response.json()] == [
        (twin.reference, ["same_dispatch_ref"])
    ]
    for _ in range(3):
        filed(world, colleague, dispatch_ref="110-42", location="余杭区", summary="辱骂")
    with CaptureQueriesContext(connection) as four:
        assert len(client.get(f"{C}/{case.pk}/duplicates/").json()) == 4
    assert len(four) == len(one)
    # The filer is not told of other officers' applications.
    assert token_client(world.officer).get(f"{C}/{case.pk}/duplicates/").status_code == 403


def test_link_merge_and_unmerge_with_precise_refusals(world):
    colleague = member(world.station, Role.OFFICER)
    case = filed(world, world.officer)
    twin = filed(world, colleague, location="余杭区", summary="辱骂")
    hidden = filed(world, world.sibling_officer, unit=world.sibling_station)
    supervisor = token_client(world.supervisor)
    before = records()
    bad = supervisor.post(f"{C}/{case.pk}/merge/", {"into": "x", "reason": ""}, format="json")
    assert (bad.status_code, sorted(bad.json()["errors"])) == (400, ["into", "reason"])
    itself = supervisor.post(f"{C}/{case.pk}/merge/", {"into": case.pk, "reason": "重复"}, format="json")
    assert (itself.status_code, itself.json()["errors"]) == (400, {"into": ["A case cannot be merged into itself."]})
    out_of_scope = supervisor.post(f"{C}/{case.pk}/merge/", {"into": hidden.pk, "reason": "重复"}, format="json")
    assert out_of_scope.status_code == 404
    admin = token_client(world.admin)
    assert admin.post(f"{C}/{case.pk}/merge/", {"into": twin.pk, "reason": "重复"}, format="json").status_code == 403
    assert records() == before

    linked = supervisor.post(f"{C}/{case.pk}/links/", {"case": twin.pk, "reason": "同一警情"}, format="json")
    assert (linked.status_code, linked.json()["cases"]) == (201, [case.reference, twin.reference])
    again = supervisor.post(f"{C}/{twin.pk}/links/", {"case": case.pk, "reason": "同一警情"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "already_linked")
    unlinked = supervisor.delete(f"{C}/{twin.pk}/links/{case.pk}/", {"reason": "并非同一警情"}, format="json")
    assert unlinked.status_code == 204
    assert CaseLink.objects.count() == 0

    merged = supervisor.post(f"{C}/{twin.pk}/merge/", {"into": case.pk, "reason": "重复报案"}, format="json")
    assert merged.status_code == 201
    assert merged.json() | {"merged_at": None} == {
        "merged": twin.reference,
        "survivor": case.reference,
        "reason": "重复报案",
        "merged_at": None,
        "unmerged_at": None,
        "unmerge_reason": "",
    }
    assert supervisor.get(f"{C}/{twin.pk}/").json()["merged_into"] == case.reference
    assert supervisor.get(f"{C}/{case.pk}/").json()["merged_into"] is None
    before = records()
    twice = supervisor.post(f"{C}/{twin.pk}/merge/", {"into": case.pk, "reason": "重复报案"}, format="json")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_merged")
    chain = supervisor.post(f"{C}/{case.pk}/merge/", {"into": twin.pk, "reason": "x"}, format="json")
    assert (chain.status_code, chain.json()["code"]) == (409, "survivor_merged")
    refused = supervisor.post(f"{C}/{twin.pk}/unmerge/", {"reason": "x"}, format="json")
    assert refused.status_code == 403
    assert records() == before

    undone = admin.post(f"{C}/{twin.pk}/unmerge/", {"reason": "并非同一警情"}, format="json")
    assert (undone.status_code, undone.json()["unmerge_reason"]) == (200, "并非同一警情")
    assert Case.objects.get(pk=twin.pk).status == CaseStatus.INTAKE
    not_merged = admin.post(f"{C}/{twin.pk}/unmerge/", {"reason": "x"}, format="json")
    assert (not_merged.status_code, not_merged.json()["code"]) == (409, "not_merged")


def test_a_retried_merge_with_its_idempotency_key_answers_as_the_first(world):
    colleague = member(world.station, Role.OFFICER)
    case = filed(world, world.officer)
    twin = filed(world, colleague, location="余杭区", summary="辱骂")
    supervisor = token_client(world.supervisor)
    body = {"into": case.pk, "reason": "重复报案"}
    first = supervisor.post(f"{C}/{twin.pk}/merge/", body, format="json", HTTP_IDEMPOTENCY_KEY="merge-1")
    events = CaseEvent.objects.count()
    second = supervisor.post(f"{C}/{twin.pk}/merge/", body, format="json", HTTP_IDEMPOTENCY_KEY="merge-1")
    assert (first.status_code, second.status_code, second.json()) == (201, 201, first.json())
    assert (CaseMerge.objects.count(), CaseEvent.objects.count()) == (1, events)
