"""Cases over the API: filing a draft, reading it with its allowed actions, editing it under a version, the
whole workflow through the actions endpoint, and the list's filters, ordering and cursor pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cases import services
from cases.api import serializers
from cases.choices import CaseStatus, InjuryGrade
from cases.models import AccessLog, Case, CaseEvent, Referral
from cases.services.intake import DETAIL_FIELDS
from tests.factories import case_in, draft

S = CaseStatus


def refs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["reference"] for row in response.json()["results"]]


# --- filing and reading ------------------------------------------------------------------------------------------


def test_an_officer_files_a_draft_and_reads_it_back(world, api):
    occurred = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    response = api("officer").post(
        "/api/v1/cases/",
        {
            "unit": world.station.pk,
            "kind": "violent_attack",
            "occurred_at": occurred.isoformat(),
            "location": "北山街",
            "summary": "盘查时遭踢打",
            "weapon": "blunt",
            "officers_attacked": 2,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["id"])
    assert (case.status, case.kind, case.weapon, case.officers_attacked) == (S.DRAFT, "violent_attack", "blunt", 2)
    assert case.filed_by == world.officer
    assert list(case.officers.values_list("user", flat=True)) == [world.officer.pk]
    assert response["ETag"] == f'"{case.version}"'
    assert body["status"] == "draft"
    assert body["reference"] == case.reference
    assert body["unit"] == {
        "id": world.station.pk,
        "code": "330106001",
        "name": "北山派出所",
        "display_name": "北山派出所",  # no English name recorded: the Chinese one in either language
    }
    assert [a["action"] for a in body["allowed_actions"]] == ["submit", "withdraw"]


def test_status_cannot_be_written(world, api):
    response = api("officer").post(
        "/api/v1/cases/", {"unit": world.station.pk, "status": "closed", "version": 9}, format="json"
    )
    assert response.status_code == 201
    assert Case.objects.get(pk=response.json()["id"]).status == S.DRAFT
    case_pk = response.json()["id"]
    response = api("officer").patch(f"/api/v1/cases/{case_pk}/", {"status": "closed"}, format="json")
    assert response.status_code == 200
    assert Case.objects.get(pk=case_pk).status == S.DRAFT


def test_the_patchable_fields_are_exactly_the_services_detail_fields():
    assert set(serializers.CaseDetailsWriteSerializer().fields) == set(DETAIL_FIELDS)


def test_detail_shows_read_model_fields_and_logs_the_view(world, api):
    case = case_in(world, S.SUPERVISION)
    officer = case.officers.get()
    services.update_involved_officer(officer=officer, by=world.supervisor, injury=InjuryGrade.MINOR_2)
    case.refresh_from_db()
    response = api("supervisor").get(f"/api/v1/cases/{case.pk}/")
    body = response.json()
    assert response.status_code == 200
    assert body["max_injury"] == "minor_2"
    assert body["track"] == "criminal"
    assert body["version"] == case.version
    assert response["ETag"] == f'"{case.version}"'
    assert [a["action"] for a in body["allowed_actions"]] == ["conclude"]
    assert body["open_flags"] == []
    log = AccessLog.objects.get(action="view")
    assert (log.user, log.case, log.object_ref) == (world.supervisor, case, case.reference)


def test_an_invisible_case_is_a_404_and_the_refusal_is_logged(world, api):
    case = case_in(world, S.INTAKE)
    response = api("sibling_supervisor").get(f"/api/v1/cases/{case.pk}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.outcome, log.object_ref) == (
        world.sibling_supervisor,
        "denied",
        "not_found",
        f"case:{case.pk}",
    )


def test_unknown_paths_under_the_api_answer_json_404(api):
    response = api("officer").get("/api/v1/no-such-thing/")
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "detail": "Not found."})


# --- editing under a version ------------------------------------------------------------------------------------


def test_patch_with_a_stale_if_match_is_refused_and_changes_nothing(world, api):
    case = draft(world)
    client = api("officer")
    response = client.patch(f"/api/v1/cases/{case.pk}/", {"summary": "新摘要"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{case.version + 1}"'
    stale = client.patch(f"/api/v1/cases/{case.pk}/", {"summary": "再改"}, format="json", HTTP_IF_MATCH='"1"')
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    case.refresh_from_db()
    assert (case.summary, case.version) == ("新摘要", 2)


@pytest.mark.parametrize("header", ['"3"', "3", 'W/"3"'])
def test_if_match_accepts_the_etag_forms(world, api, header):
    case = draft(world)
    response = api("officer").patch(f"/api/v1/cases/{case.pk}/", {"location": "x"}, format="json", HTTP_IF_MATCH=header)
    assert (response.status_code, response.json()["code"]) == (412, "stale_version")


def test_a_malformed_if_match_or_disagreeing_versions_are_a_400(world, api):
    case = draft(world)
    client = api("officer")
    bad = client.patch(f"/api/v1/cases/{case.pk}/", {"location": "x"}, format="json", HTTP_IF_MATCH="v1")
    assert (bad.status_code, list(bad.json()["errors"])) == (400, ["If-Match"])
    both = client.patch(f"/api/v1/cases/{case.pk}/", {"version": 1}, format="json", HTTP_IF_MATCH='"2"')
    assert (both.status_code, list(both.json()["errors"])) == (400, ["version"])
    assert Case.objects.get(pk=case.pk).version == 1


def test_invalid_details_are_refused_per_field(world, api):
    case = draft(world)
    response = api("officer").patch(
        f"/api/v1/cases/{case.pk}/",
        {"kind": "riot", "officers_attacked": -1, "occurred_at": "0001-01-01T00:00:00Z"},
        format="json",
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert sorted(body["errors"]) == ["kind", "occurred_at", "officers_attacked"]


# --- the workflow ------------------------------------------------------------------------------------------------


def act(client, case_pk: int, action: str, **payload):
    return client.post(f"/api/v1/cases/{case_pk}/actions/{action}/", payload, format="json")


def test_the_whole_workflow_through_the_api(world, api):
    officer, supervisor = api("officer"), api("supervisor")
    case = draft(world)
    steps = [
        (officer, "submit", {}),
        (supervisor, "refer", {"track": "administrative", "to_unit": world.county.pk}),
        (supervisor, "acknowledge", {"external_reference": "XH-2026-7"}),
        (supervisor, "conclude", {"reason": "Attacker not identified", "no_suspect_reason": "unknown_pursuing"}),
        (supervisor, "close", {"officer_informed": True, "disposition_consistent": True}),
        (supervisor, "recall", {"reason": "Annual campaign", "campaign_year": 2026}),
        (supervisor, "reopen", {"problem": "downgraded", "detail": "Mediation of an attack"}),
    ]
    version = case.version
    for client, action, payload in steps:
        response = act(client, case.pk, action, version=version, **payload)
        assert response.status_code == 200, (action, response.content)
        version = response.json()["version"]
        assert response["ETag"] == f'"{version}"'
    case.refresh_from_db()
    assert case.status == S.SUPERVISION
    assert list(CaseEvent.objects.filter(case=case, kind="transition").values_list("action", flat=True)) == [
        a for _, a, _ in steps
    ]
    assert Referral.objects.get(case=case).external_reference == "XH-2026-7"


def test_an_illegal_transition_is_a_409_and_changes_nothing(world, api):
    case = case_in(world, S.REFERRED)
    before = (case.status, case.version, CaseEvent.objects.count())
    response = act(api("supervisor"), case.pk, "refer", version=case.version, track="criminal", to_unit=world.county.pk)
    assert response.status_code == 409
    assert response.json()["code"] == "illegal_transition"
    case.refresh_from_db()
    assert (case.status, case.version, CaseEvent.objects.count()) == before


def test_a_stale_version_in_the_body_is_a_412(world, api):
    case = case_in(world, S.INTAKE)
    response = act(api("supervisor"), case.pk, "reject", version=case.version - 1, reason="Duplicate")
    assert (response.status_code, response.json()["code"]) == (412, "stale_version")
    assert Case.objects.get(pk=case.pk).status == S.INTAKE


def test_a_wrong_role_is_a_403_before_the_input_is_read(world, api):
    case = case_in(world, S.INTAKE)
    response = act(api("officer"), case.pk, "refer", track="nonsense")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_action_input_and_service_rules_are_400s(world, api):
    case = case_in(world, S.INTAKE)
    client = api("supervisor")
    missing = act(client, case.pk, "refer", to_unit=world.county.pk)
    assert (missing.status_code, list(missing.json()["errors"])) == (400, ["track"])
    outside = act(client, case.pk, "refer", track="criminal", to_unit=world.sibling_station.pk)
    assert (outside.status_code, outside.json()["errors"]) == (
        400,
        {"to_unit": ["You can only refer to units you supervise."]},
    )
    assert Case.objects.get(pk=case.pk).status == S.INTAKE


def test_unknown_actions_are_404(world, api):
    case = case_in(world, S.INTAKE)
    assert act(api("supervisor"), case.pk, "approve").status_code == 404


def test_submit_reports_what_is_missing(world, api):
    case = services.create_draft_case(by=world.officer, unit=world.station, details={"kind": "threat"})
    response = act(api("officer"), case.pk, "submit")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["location", "occurred_at", "summary"]


# --- the list ---------------------------------------------------------------------------------------------------


@pytest.fixture
def listed(world):
    """Four submitted cases with different kinds, statuses, injuries and times, and an officer's draft."""
    now = timezone.now()
    threat = case_in(world, S.INTAKE, kind="threat", occurred_at=now - timedelta(days=40), summary="电话威胁")
    attack = case_in(world, S.SUPERVISION, kind="violent_attack", occurred_at=now - timedelta(days=2))
    services.update_involved_officer(officer=attack.officers.get(), by=world.supervisor, injury=InjuryGrade.SERIOUS_2)
    closed = case_in(world, S.CLOSED, kind="violent_attack", location="灵隐路")
    stalled = case_in(world, S.REFERRED, kind="obstruction")
    Case.objects.filter(pk=stalled.pk).update(is_stalled=True)
    services.assign_case(case=threat, by=world.supervisor, expected_version=None, assignee=world.supervisor)
    own_draft = draft(world)
    return {"threat": threat, "attack": attack, "closed": closed, "stalled": stalled, "draft": own_draft}


def test_lists_are_scoped_and_newest_activity_first(world, api, listed):
    expected = [listed[k].reference for k in ("threat", "stalled", "closed", "attack")]
    assert refs(api("supervisor").get("/api/v1/cases/")) == expected
    assert refs(api("sibling_supervisor").get("/api/v1/cases/")) == []
    assert set(refs(api("officer").get("/api/v1/cases/"))) == {*expected, listed["draft"].reference}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=intake&status=referred", ["threat", "stalled"]),
        ("kind=violent_attack", ["closed", "attack"]),
        ("flag=stalled", ["stalled"]),
        ("flag=idle&flag=downgraded", []),
        ("injury_at_least=minor_1", ["attack"]),
        ("injury_at_least=serious_2", ["attack"]),
        ("injury_at_least=serious_1", []),
        ("q=威胁", ["threat"]),
        ("q=灵隐", ["closed"]),
        ("assigned=me", ["threat"]),
        ("assigned=nobody", ["stalled", "closed", "attack"]),
        ("ordering=created_at", ["threat", "attack", "closed", "stalled"]),
        ("ordering=-created_at", ["stalled", "closed", "attack", "threat"]),
    ],
)
def test_list_filters(api, listed, query, expected):
    assert refs(api("supervisor").get(f"/api/v1/cases/?{query}")) == [listed[k].reference for k in expected]


def test_list_filters_by_unit_subtree_and_time_ranges(world, api, listed):
    client = api("supervisor")
    everything = {listed[k].reference for k in ("threat", "attack", "closed", "stalled")}
    assert set(refs(client.get(f"/api/v1/cases/?unit={world.county.pk}"))) == everything
    assert refs(client.get(f"/api/v1/cases/?unit={world.other_station.pk}")) == []
    assert refs(client.get(f"/api/v1/cases/?unit={world.sibling_station.pk}")) == []
    cutoff = (timezone.now() - timedelta(days=10)).isoformat()
    older = refs(client.get("/api/v1/cases/", {"occurred_before": cutoff}))
    assert older == [listed["threat"].reference]
    newer = set(refs(client.get("/api/v1/cases/", {"occurred_after": cutoff})))
    assert newer == everything - {listed["threat"].reference}
    created = refs(client.get("/api/v1/cases/", {"created_after": timezone.now().isoformat()}))
    assert created == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("status=", "status"),
        ("injury_at_least=pending_appraisal", "injury_at_least"),
        ("injury_at_least=", "injury_at_least"),
        ("unit=abc", "unit"),
        ("occurred_after=yesterday", "occurred_after"),
        ("occurred_after=1066-10-14T09:00:00Z", "occurred_after"),
        ("place=nowhere", "place"),
        ("hour=24", "hour"),
        ("weekday=0", "weekday"),
        ("crowd=", "crowd"),
        ("ordering=summary", "ordering"),
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
        (f"q={'x' * 101}", "q"),
    ],
)
def test_bad_list_parameters_are_400_not_ignored(api, listed, query, field):
    response = api("supervisor").get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_a_forged_cursor_position_is_a_400(api, listed):
    import base64

    cursor = base64.b64encode(b"p=not-a-date").decode()
    response = api("supervisor").get(f"/api/v1/cases/?cursor={cursor}")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["cursor"])


def test_cursor_pages_walk_the_whole_list_once(world, api):
    made = [case_in(world, S.INTAKE) for _ in range(5)]
    client = api("supervisor")
    seen: list[str] = []
    url = "/api/v1/cases/?page_size=2"
    pages = 0
    while url:
        body = client.get(url).json()
        seen += [row["reference"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3
    assert seen == [c.reference for c in reversed(made)]
