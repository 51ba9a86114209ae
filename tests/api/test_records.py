"""The records under a case: involved officers, suspects and dispositions, referrals, support, findings,
reviews, notes, assignment, the stage clock and the timeline — and what each caller may see of them."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cases import services
from cases.choices import CaseStatus, Disposition, FindingProblem, SupportKind
from cases.models import AccessLog, Case, CaseEvent, InvolvedOfficer, SupportMeasure, Suspect
from cases.reports.yearly import yearly_report
from tests.factories import case_in, draft

S = CaseStatus


def url(case: Case, tail: str) -> str:
    return f"/api/v1/cases/{case.pk}/{tail}"


# --- involved officers ---------------------------------------------------------------------------------------


def test_the_filer_manages_officers_on_a_draft(world, api):
    case = draft(world)
    client = api("officer")
    added = client.post(
        url(case, "officers/"),
        {"user": world.other_officer.pk, "duty_status": "off_duty", "medical_notes": "左臂骨折"},
        format="json",
    )
    assert added.status_code == 201, added.content
    body = added.json()
    assert (body["user"], body["name"], body["duty_status"]) == (
        world.other_officer.pk,
        world.other_officer.full_name,
        "off_duty",
    )
    officer = InvolvedOfficer.objects.get(pk=body["id"])
    changed = client.patch(url(case, f"officers/{officer.pk}/"), {"injury": "slight"}, format="json")
    assert (changed.status_code, changed.json()["injury"]) == (200, "slight")
    assert Case.objects.get(pk=case.pk).max_injury_rank == 1
    removed = client.delete(url(case, f"officers/{officer.pk}/"))
    assert removed.status_code == 204
    assert not InvolvedOfficer.objects.filter(pk=officer.pk).exists()


def test_after_submission_a_supervisor_removes_officers_but_never_the_last_one(world, api):
    case = case_in(world, S.INTAKE)
    filer = case.officers.get()
    colleague = services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    # The filer no longer changes the list once it is submitted.
    refused = api("officer").delete(url(case, f"officers/{colleague.pk}/"))
    assert refused.status_code == 403
    removed = api("supervisor").delete(url(case, f"officers/{colleague.pk}/"))
    assert removed.status_code == 204
    assert list(case.officers.values_list("pk", flat=True)) == [filer.pk]
    before = Case.objects.get(pk=case.pk).version
    last = api("supervisor").delete(url(case, f"officers/{filer.pk}/"))
    assert last.status_code == 400
    assert "a submitted case lists at least one officer" in str(last.json())
    assert InvolvedOfficer.objects.filter(pk=filer.pk).exists()
    assert Case.objects.get(pk=case.pk).version == before


def test_party_changes_and_removals_check_the_case_version(world, api):
    case = case_in(world, S.INTAKE)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    stale = Case.objects.get(pk=case.pk).version
    services.add_note(case=case, by=world.supervisor, text="已电话核实")
    client = api("supervisor")
    assert (
        client.patch(
            url(case, f"suspects/{suspect.pk}/"), {"name": "李某", "version": stale}, format="json"
        ).status_code
        == 412
    )
    assert client.delete(url(case, f"suspects/{suspect.pk}/"), HTTP_IF_MATCH=f'"{stale}"').status_code == 412
    officer = case.officers.get()
    assert (
        client.patch(
            url(case, f"officers/{officer.pk}/"), {"injury": "slight"}, HTTP_IF_MATCH=f'"{stale}"', format="json"
        ).status_code
        == 412
    )
    assert Suspect.objects.get(pk=suspect.pk).name == "张某"
    assert InvolvedOfficer.objects.get(pk=officer.pk).injury == "none"
    current = Case.objects.get(pk=case.pk).version
    renamed = client.patch(url(case, f"suspects/{suspect.pk}/"), {"name": "李某", "version": current}, format="json")
    assert (renamed.status_code, renamed.json()["name"]) == (200, "李某")
    current = Case.objects.get(pk=case.pk).version
    assert client.delete(url(case, f"suspects/{suspect.pk}/"), HTTP_IF_MATCH=f'"{current}"').status_code == 204
    assert not Suspect.objects.filter(pk=suspect.pk).exists()
    event = CaseEvent.objects.filter(case=case).order_by("at", "id").last()
    assert (event.kind, event.data) == ("suspect_removed", {"suspect": suspect.pk, "removed": "李某"})


def test_a_suspect_whose_transfer_or_disposition_is_on_record_is_not_removed(world, api):
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CRIMINAL_NON_PROSECUTION,
        lenient_reason="minor_circumstances",
    )
    services.transfer_for_administrative_punishment(
        suspect=suspect,
        by=world.supervisor,
        to_unit=world.county,
        expected_version=Case.objects.get(pk=case.pk).version,
    )
    response = api("supervisor").delete(url(case, f"suspects/{suspect.pk}/"))
    assert response.status_code == 400
    assert "their transfer for administrative punishment is on record" in str(response.json())
    assert Suspect.objects.filter(pk=suspect.pk).exists()


def test_an_officer_of_another_case_is_a_404(world, api):
    case, other = case_in(world, S.INTAKE), case_in(world, S.INTAKE)
    response = api("supervisor").patch(
        url(case, f"officers/{other.officers.get().pk}/"), {"injury": "none"}, format="json"
    )
    assert response.status_code == 404


def test_medical_notes_are_masked_in_the_officer_list_for_every_caller(world, api):
    # Reading them in full is the reveal endpoint's (tests/security/test_api_reveal.py), not the list's.
    case = draft(world)
    services.add_involved_officer(case=case, by=world.officer, user=world.other_officer, medical_notes="脑震荡")
    services.add_involved_officer(case=case, by=world.officer, name="王警官")
    services.update_involved_officer(
        officer=case.officers.get(user=world.officer), by=world.officer, medical_notes="擦伤"
    )
    case = services.submit_case(case=case, by=world.officer, expected_version=Case.objects.get(pk=case.pk).version)

    def notes(who: str) -> list[tuple]:
        response = api(who).get(url(case, "officers/"))
        assert response.status_code == 200
        return [(row["name"], row["medical_notes"], row["medical_notes_masked"]) for row in response.json()]

    masked = [
        (world.officer.full_name, None, True),
        (world.other_officer.full_name, None, True),
        ("王警官", "", False),
    ]
    for who in ("supervisor", "ministry_supervisor", "officer", "other_officer", "admin"):
        assert notes(who) == masked, who
    assert AccessLog.objects.filter(action="reveal").count() == 0


# --- suspects and dispositions -------------------------------------------------------------------------------


def test_suspect_id_numbers_are_masked_in_the_list_for_every_caller(world, api):
    case = case_in(world, S.INTAKE)
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number="330106199001011234")
    services.add_suspect(case=case, by=world.supervisor, name="李某")

    def numbers(who: str) -> list[tuple[str, bool]]:
        response = api(who).get(url(case, "suspects/"))
        assert response.status_code == 200
        return [(row["id_number"], row["id_number_masked"]) for row in response.json()]

    masked = [("330*************34", True), ("", False)]
    for who in ("supervisor", "ministry_supervisor", "officer", "admin"):
        assert numbers(who) == masked, who
    assert AccessLog.objects.filter(action="reveal").count() == 0


@pytest.mark.parametrize(
    ("value", "masked"), [("", ""), ("12345", "*****"), ("123456", "123*56"), ("ABCDEFGH", "ABC***GH")]
)
def test_mask_keeps_three_leading_and_two_trailing_characters(value, masked):
    from cases.sensitive import mask_id_number

    assert mask_id_number(value) == masked


def test_suspects_and_dispositions(world, api):
    case = case_in(world, S.SUPERVISION)
    client = api("supervisor")
    added = client.post(url(case, "suspects/"), {"name": "赵某", "id_number": "110101198001010011"}, format="json")
    assert (added.status_code, added.json()["status"]) == (201, "identified")
    suspect_pk = added.json()["id"]
    patched = client.patch(url(case, f"suspects/{suspect_pk}/"), {"status": "detained"}, format="json")
    assert (patched.status_code, patched.json()["status"]) == (200, "detained")
    recorded = client.post(
        url(case, f"suspects/{suspect_pk}/disposition/"),
        {
            "disposition": "admin_detention_6_10",
            "disposition_article": "治安管理处罚法第50条",
            "decided_at": "2026-03-01",
            "lenient_reason": "minor_circumstances",
        },
        format="json",
    )
    assert recorded.status_code == 200, recorded.content
    assert (recorded.json()["disposition"], recorded.json()["decided_at"]) == ("admin_detention_6_10", "2026-03-01")
    lowered = client.post(url(case, f"suspects/{suspect_pk}/disposition/"), {"disposition": "mediation"}, format="json")
    assert (lowered.status_code, list(lowered.json()["errors"])) == (400, ["lowered_reason"])
    assert Suspect.objects.get(pk=suspect_pk).disposition == Disposition.ADMIN_DETENTION_6_10
    assert Case.objects.get(pk=case.pk).disposition_rank == 7


# --- handling records --------------------------------------------------------------------------------------------


def test_support_measures(world, api):
    case = case_in(world, S.SUPERVISION)
    officer = case.officers.get()
    client = api("supervisor")
    added = client.post(
        url(case, "support/"),
        {"kind": "comfort_payment", "officer": officer.pk, "amount": "2000.00", "status": "offered"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert (added.json()["amount"], added.json()["officer"]) == ("2000.00", officer.pk)
    pk = added.json()["id"]
    delivered = client.patch(url(case, f"support/{pk}/"), {"status": "delivered"}, format="json")
    assert (delivered.status_code, list(delivered.json()["errors"])) == (400, ["delivered_on"])
    delivered = client.patch(
        url(case, f"support/{pk}/"), {"status": "delivered", "delivered_on": "2026-02-01"}, format="json"
    )
    assert (delivered.status_code, delivered.json()["status"]) == (200, "delivered")
    assert [row["id"] for row in api("officer").get(url(case, "support/")).json()] == [pk]


def test_an_amount_sent_as_a_number_is_refused_with_its_field_named(world, api):
    case = case_in(world, S.SUPERVISION)
    client = api("supervisor")
    added = client.post(url(case, "support/"), {"kind": "comfort_payment", "amount": "2000.00"}, format="json")
    pk = added.json()["id"]
    response = client.patch(url(case, f"support/{pk}/"), {"amount": 0}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["amount"])
    assert response.json()["errors"]["amount"] == ['Send the amount as text, such as "1200.00".']
    assert str(SupportMeasure.objects.get(pk=pk).amount) == "2000.00"


def test_support_for_an_officer_of_another_case_is_refused(world, api):
    case, other = case_in(world, S.SUPERVISION), case_in(world, S.SUPERVISION)
    response = api("supervisor").post(
        url(case, "support/"), {"kind": "comfort_visit", "officer": other.officers.get().pk}, format="json"
    )
    assert (response.status_code, list(response.json()["errors"])) == (400, ["officer"])


def test_findings_and_rectification(world, api):
    case = case_in(world, S.SUPERVISION)
    client = api("supervisor")
    raised = client.post(
        url(case, "findings/"), {"problem": "protracted", "detail": "40 days without progress"}, format="json"
    )
    assert raised.status_code == 201, raised.content
    pk = raised.json()["id"]
    rectified = client.post(
        url(case, f"findings/{pk}/rectify/"),
        {"officers_held_accountable": 1, "accountability_note": "诫勉谈话"},
        format="json",
    )
    assert rectified.status_code == 200
    assert (rectified.json()["officers_held_accountable"], rectified.json()["rectified_at"] is not None) == (1, True)
    again = client.post(url(case, f"findings/{pk}/rectify/"), {}, format="json")
    assert again.status_code == 400


def test_referrals_and_reviews_are_read_from_the_actions(world, api):
    case = case_in(world, S.CLOSED)
    client = api("officer")
    referrals = client.get(url(case, "referrals/")).json()
    assert [(r["target"], r["to_unit"]["code"], r["track"]) for r in referrals] == [
        ("internal_unit", "330106", "criminal")
    ]
    reviews = api("supervisor").get(url(case, "reviews/")).json()
    assert [(r["verdict"], r["officer_informed"]) for r in reviews] == [("upheld", True)]
    # The look-back review is the office's internal record (cases/policy.py): not its filer's to read.
    assert client.get(url(case, "reviews/")).status_code == 403


def test_notes_assignment_and_the_clock(world, api):
    case = case_in(world, S.INTAKE)
    client = api("supervisor")
    noted = client.post(url(case, "notes/"), {"text": "已电话联系民警"}, format="json")
    assert noted.status_code == 200
    assigned = client.post(
        url(case, "assignment/"),
        {"assignee": world.county_supervisor.pk, "version": noted.json()["version"]},
        format="json",
    )
    assert (assigned.status_code, assigned.json()["assigned_to"]["id"]) == (200, world.county_supervisor.pk)
    paused = client.post(url(case, "clock/pause/"), {"reason": "appraisal_pending"}, format="json")
    assert (paused.status_code, paused.json()["is_paused"], paused.json()["pause_reason"]) == (
        200,
        True,
        "appraisal_pending",
    )
    again = client.post(url(case, "clock/pause/"), {"reason": "other"}, format="json")
    assert again.status_code == 400
    resumed = client.post(url(case, "clock/resume/"), {}, format="json", HTTP_IF_MATCH=f'"{paused.json()["version"]}"')
    assert (resumed.status_code, resumed.json()["is_paused"]) == (200, False)
    outsider = client.post(url(case, "assignment/"), {"assignee": world.sibling_supervisor.pk}, format="json")
    assert (outsider.status_code, list(outsider.json()["errors"])) == (400, ["assignee"])


def test_the_timeline_is_read_only_and_oldest_first(world, api):
    case = case_in(world, S.REFERRED)
    client = api("officer")
    response = client.get(url(case, "events/"))
    kinds = [(e["kind"], e["action"]) for e in response.json()["results"]]
    assert kinds == [("created", ""), ("transition", "submit"), ("transition", "refer")]
    assert response.json()["results"][1]["actor"] == {"id": world.officer.pk, "name": world.officer.full_name}
    assert client.post(url(case, "events/"), {}, format="json").status_code == 405
    assert CaseEvent.objects.filter(case=case).count() == 3


def test_timeline_hides_sensitive_values(world, api):
    case = draft(world)
    services.add_suspect(case=case, by=world.officer, name="钱某")
    suspect = case.suspects.get()
    services.update_suspect(suspect=suspect, by=world.officer, id_number="110101199003077777")
    events = api("officer").get(url(case, "events/")).json()["results"]
    assert events[-1]["data"]["changes"]["id_number"] == ["***", "***"]
    assert "110101199003077777" not in str(events)


# --- flags ---------------------------------------------------------------------------------------------------------


def test_flags_list_and_acknowledge(world, api, objects):
    client = api("supervisor")
    listed = client.get("/api/v1/flags/?open=true").json()["results"]
    assert [(f["id"], f["kind"], f["case"]["reference"]) for f in listed] == [
        (objects.flag.pk, "stalled", objects.case.reference)
    ]
    assert client.get("/api/v1/flags/?open=false").json()["results"] == []
    assert api("officer").get("/api/v1/flags/").json()["results"] == []
    acknowledged = client.post(f"/api/v1/flags/{objects.flag.pk}/acknowledge/")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == {"id": world.supervisor.pk, "name": world.supervisor.full_name}
    assert client.get("/api/v1/flags/?acknowledged=false").json()["results"] == []
    objects.flag.refresh_from_db()
    first = objects.flag.acknowledged_at
    again = api("ministry_supervisor").post(f"/api/v1/flags/{objects.flag.pk}/acknowledge/")
    assert again.json()["acknowledged_by"]["id"] == world.supervisor.pk
    objects.flag.refresh_from_db()
    assert objects.flag.acknowledged_at == first


# --- the caller, units, notifications, the yearly summary ---------------------------------------------------------


def test_me_and_units(world, api):
    me = api("supervisor").get("/api/v1/me/").json()
    assert (me["username"], me["memberships"]) == (
        "supervisor",
        [
            {
                "role": "supervisor",
                "unit": {"id": world.city.pk, "code": "330100", "name": "杭州市公安局", "display_name": "杭州市公安局"},
            }
        ],
    )
    codes = [u["code"] for u in api("county_supervisor").get("/api/v1/units/").json()["results"]]
    assert codes == ["330106", "330106001", "330106002"]


def test_notifications_are_the_callers_own(world, api, django_capture_on_commit_callbacks):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_case(case=case, by=world.supervisor, expected_version=case.version + 1, reason="重复")
    mine = api("officer").get("/api/v1/notifications/?unread=true").json()["results"]
    assert [(n["case"]["reference"], n["read_at"]) for n in mine] == [(case.reference, None)]
    assert api("sibling_officer").get("/api/v1/notifications/").json()["results"] == []


def test_yearly_summary(world, api):
    # A case belongs to the year it was submitted in, local time (Asia/Shanghai), as in the yearly report: 03:00 on
    # 1 January 2026 there is still 2025-12-31 in UTC. Fixed moments keep the cases in one year and month.
    submitted = datetime(2026, 1, 1, 3, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    cases = [
        case_in(world, S.INTAKE, kind="threat"),
        case_in(world, S.CLOSED),
        # Occurred the year before: counted in the year of its submission, as the report counts it.
        case_in(world, S.REFERRED, occurred_at=datetime(2025, 12, 30, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))),
    ]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(submitted_at=submitted)
    year = 2026
    body = api("supervisor").get(f"/api/v1/reports/yearly/?year={year}").json()
    assert body["total"] == 3
    assert body["unit"] is None
    assert body["by_kind"] == [{"kind": "threat", "count": 1}, {"kind": "violent_attack", "count": 2}]
    assert body["by_status"] == [
        {"status": "closed", "count": 1},
        {"status": "intake", "count": 1},
        {"status": "referred", "count": 1},
    ]
    assert body["by_month"] == [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert api("supervisor").get("/api/v1/reports/yearly/?year=2025").json()["total"] == 0
    scoped = api("supervisor").get(f"/api/v1/reports/yearly/?year={year}&unit={world.other_station.pk}").json()
    assert (scoped["total"], scoped["unit"]["code"]) == (0, "330106002")
    outside = api("supervisor").get(f"/api/v1/reports/yearly/?year={year}&unit={world.sibling_station.pk}")
    assert outside.status_code == 404
    assert api("sibling_supervisor").get(f"/api/v1/reports/yearly/?year={year}").json()["total"] == 0
    assert api("supervisor").get("/api/v1/reports/yearly/?year=1999").status_code == 400
    # An empty unit is not a unit id: refused, not read as "every unit the caller oversees".
    empty = api("supervisor").get(f"/api/v1/reports/yearly/?year={year}&unit=")
    assert (empty.status_code, empty.json()["errors"]) == (400, {"unit": ["A valid integer is required."]})
    refused = api("officer").get(f"/api/v1/reports/yearly/?year={year}")
    assert refused.status_code == 403


def test_yearly_summary_is_the_reports_case_section(world, api):
    """One figure: the API's summary and the yearly report's case section count the same cases the same way."""
    at = datetime(2026, 3, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    cases = [case_in(world, S.SUPERVISION), case_in(world, S.CLOSED, kind="threat"), draft(world)]
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(submitted_at=at)
    report = yearly_report(unit=world.city, year=2026).cases
    body = api("supervisor").get(f"/api/v1/reports/yearly/?year=2026&unit={world.city.pk}").json()
    assert body["total"] == report.total.current == 2
    assert body["by_kind"] == sorted(
        ({"kind": i.code, "count": i.current} for i in report.by_kind if i.current), key=lambda r: r["kind"]
    )
    assert body["by_status"] == sorted(
        ({"status": i.code, "count": i.current} for i in report.by_status if i.current), key=lambda r: r["status"]
    )
    assert body["by_month"] == [i.current for i in report.by_month] == [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]


def test_support_kinds_and_problems_round_trip(world, api):
    case = case_in(world, S.SUPERVISION)
    client = api("supervisor")
    for kind in (SupportKind.GREEN_CHANNEL, SupportKind.CLARIFICATION_NOTICE):
        assert client.post(url(case, "support/"), {"kind": kind}, format="json").status_code == 201
    assert client.post(url(case, "support/"), {"kind": "massage"}, format="json").status_code == 400
    for problem in (FindingProblem.DOWNGRADED, FindingProblem.NO_FEEDBACK_TO_OFFICER):
        response = client.post(url(case, "findings/"), {"problem": problem, "detail": "x"}, format="json")
        assert response.status_code == 201
