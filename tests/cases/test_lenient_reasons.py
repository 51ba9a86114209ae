"""Reasons for lenient outcomes and the transfer for administrative punishment after non-prosecution, through the
services, the case page and the API: what is refused (with nothing changed), what is recorded, and which flags the
rules then raise."""

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import flagging, services
from cases.choices import (
    RULE_FLAG_KINDS,
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    InjuryGrade,
    LenientReason,
    Track,
)
from cases.models import Case, CaseEvent, Flag, Referral, Suspect
from tests.api.conftest import token_client
from tests.factories import case_in

D = Disposition
LR = LenientReason
KICK_DAY = datetime(2025, 3, 1, 21, 30, tzinfo=timezone.get_fixed_timezone(8 * 60))


def kick(world, status: str = CaseStatus.SUPERVISION) -> tuple[Case, Suspect]:
    """A suspect kicked an officer on duty on 2025-03-01, a slight injury (R1: a criminal case is expected)."""
    case = case_in(world, status, occurred_at=KICK_DAY)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=InjuryGrade.SLIGHT)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=D.CRIMINAL_FILED)
    return Case.objects.get(pk=case.pk), Suspect.objects.get(pk=suspect.pk)


def not_prosecuted(world, reason: str = LR.MINOR_CIRCUMSTANCES, **kwargs) -> tuple[Case, Suspect]:
    case, suspect = kick(world, **kwargs)
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=D.CRIMINAL_NON_PROSECUTION, lenient_reason=reason
    )
    return Case.objects.get(pk=case.pk), Suspect.objects.get(pk=suspect.pk)


def transfer(world, suspect: Suspect, **kwargs) -> Referral:
    return services.transfer_for_administrative_punishment(
        suspect=suspect, by=world.supervisor, **{"to_unit": world.county, **kwargs}
    )


def open_flags(case: Case) -> dict[str, tuple[str, list[str]]]:
    """The case's open rule flags after a scan: rule code → (downgraded or review prompt, problems)."""
    flagging.flag_cases()
    return {
        f.rule_code: (f.kind, f.detail["problems"])
        for f in Flag.objects.filter(case=case, kind__in=RULE_FLAG_KINDS, resolved_at__isnull=True)
    }


DOWNGRADED, PROMPT = FlagKind.DOWNGRADED, FlagKind.REVIEW_PROMPT


def state(case: Case) -> tuple:
    """Everything a refused request must leave as it was."""
    case = Case.objects.get(pk=case.pk)
    return (
        case.status,
        case.version,
        case.track,
        case.stage_started_at,
        case.stage_due_at,
        CaseEvent.objects.filter(case=case).count(),
        tuple(
            Suspect.objects.filter(case=case).values_list(
                "pk", "disposition", "disposition_article", "lenient_reason", "lenient_reason_detail"
            )
        ),
        tuple(Referral.objects.filter(case=case).values_list("pk", "suspect_id", "track")),
    )


# --- the reason, through the service ------------------------------------------------------------------------------


@pytest.mark.parametrize("disposition", [D.CRIMINAL_NON_PROSECUTION, D.ADMIN_DETENTION_11_15, D.MEDIATION, D.NO_ACTION])
def test_a_lenient_disposition_without_a_reason_is_refused_and_nothing_changes(world, disposition):
    case, suspect = kick(world)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        services.record_disposition(
            suspect=suspect, by=world.supervisor, disposition=disposition, lowered_reason="经审查降格"
        )
    assert refused.value.message_dict == {
        "lenient_reason": ["This outcome is lenient: choose the reason it was reached."]
    }
    assert state(case) == before


def test_other_needs_the_reason_in_words(world):
    case, suspect = kick(world)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        services.record_disposition(
            suspect=suspect,
            by=world.supervisor,
            disposition=D.CRIMINAL_NON_PROSECUTION,
            lenient_reason=LR.OTHER,
            lenient_reason_detail="   ",
        )
    assert refused.value.message_dict == {"lenient_reason_detail": ["Say what the reason is."]}
    assert state(case) == before


def test_the_reason_is_recorded_on_the_suspect_and_in_the_timeline(world):
    case, suspect = kick(world)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=D.CRIMINAL_NON_PROSECUTION,
        lenient_reason=LR.OTHER,
        lenient_reason_detail=" 犯罪嫌疑人系在校学生，认罪悔罪 ",
    )
    suspect.refresh_from_db()
    assert (suspect.lenient_reason, suspect.lenient_reason_detail) == (LR.OTHER, "犯罪嫌疑人系在校学生，认罪悔罪")
    event = CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION).latest("id")
    assert event.data == {
        "suspect": suspect.pk,
        "changes": {
            "disposition": [D.CRIMINAL_FILED, D.CRIMINAL_NON_PROSECUTION],
            "lenient_reason": ["", LR.OTHER],
            "lenient_reason_detail": ["", "犯罪嫌疑人系在校学生，认罪悔罪"],
        },
        "lowered": False,
        "lenient_reason": LR.OTHER,
        "lenient_reason_detail": "犯罪嫌疑人系在校学生，认罪悔罪",
    }


def test_a_reason_left_out_is_kept_and_a_heavier_outcome_drops_it(world):
    case, suspect = not_prosecuted(world, LR.INSUFFICIENT_EVIDENCE)
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=D.CRIMINAL_NON_PROSECUTION, decided_at=KICK_DAY.date()
    )
    suspect.refresh_from_db()
    assert suspect.lenient_reason == LR.INSUFFICIENT_EVIDENCE
    event = CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION).latest("id")
    assert (event.data["changes"], event.data["lenient_reason"]) == (
        {"decided_at": [None, "2025-03-01"]},
        LR.INSUFFICIENT_EVIDENCE,
    )

    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=D.CONVICTED_277_5_BASIC)
    suspect.refresh_from_db()
    assert (suspect.lenient_reason, suspect.lenient_reason_detail) == ("", "")
    event = CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION).latest("id")
    assert event.data == {
        "suspect": suspect.pk,
        "changes": {
            "disposition": [D.CRIMINAL_NON_PROSECUTION, D.CONVICTED_277_5_BASIC],
            "lenient_reason": [LR.INSUFFICIENT_EVIDENCE, ""],
        },
        "lowered": False,
    }


# --- what the rules make of it ------------------------------------------------------------------------------------


def test_a_non_prosecution_because_drunk_raises_r13(world):
    case, suspect = not_prosecuted(world, LR.INTOXICATION)
    transfer(world, suspect)
    assert open_flags(case) == {"R13": (PROMPT, ["intoxication_as_reason"])}
    flag = Flag.objects.get(case=case, rule_code="R13")
    assert (flag.detail["severity"], flag.detail["facts"]["intoxication_cited"]) == ("prompt", [suspect.pk])


def test_a_non_prosecution_for_minor_circumstances_raises_no_r13(world):
    case, suspect = not_prosecuted(world, LR.MINOR_CIRCUMSTANCES)
    transfer(world, suspect)
    Case.objects.filter(pk=case.pk).update(intoxicated=True)
    assert open_flags(case) == {}


def test_a_disposition_recorded_before_reasons_is_not_recorded_and_raises_nothing(world):
    case, suspect = not_prosecuted(world, LR.MINOR_CIRCUMSTANCES)
    transfer(world, suspect)
    # As migrated: a lenient outcome recorded before reasons were asked has none.
    Suspect.objects.filter(pk=suspect.pk).update(lenient_reason="")
    Case.objects.filter(pk=case.pk).update(intoxicated=True)
    assert open_flags(case) == {}


def test_police_fault_cited_prompts_for_the_fault_finding(world):
    case, suspect = not_prosecuted(world, LR.POLICE_FAULT)
    transfer(world, suspect)
    assert open_flags(case) == {"FAULT_CITED": (PROMPT, ["fault_not_found"])}


def test_non_prosecution_then_transfer_then_detention_raises_nothing(world):
    case, suspect = not_prosecuted(world)
    assert open_flags(case) == {"R9": (PROMPT, ["no_administrative_transfer"])}
    transfer(world, suspect)
    assert open_flags(case) == {}
    # The punishment needs no lowered reason: it follows the transfer.
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=D.ADMIN_DETENTION_6_10,
        disposition_article="治安管理处罚法第50条",
        lenient_reason=LR.MINOR_CIRCUMSTANCES,
    )
    event = CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION).latest("id")
    assert (event.data["lowered"], event.data["follows_transfer"]) == (False, True)
    assert open_flags(case) == {}
    assert list(
        CaseEvent.objects.filter(case=case, kind=EventKind.DISPOSITION)
        .order_by("id")
        .values_list("data__changes__disposition", flat=True)
    ) == [
        [D.UNDER_INVESTIGATION, D.CRIMINAL_FILED],
        [D.CRIMINAL_FILED, D.CRIMINAL_NON_PROSECUTION],
        [D.CRIMINAL_NON_PROSECUTION, D.ADMIN_DETENTION_6_10],
    ]


def test_non_prosecution_without_a_transfer_raises_r9(world):
    case, _suspect = not_prosecuted(world)
    assert open_flags(case) == {"R9": (PROMPT, ["no_administrative_transfer"])}


def test_detention_without_a_non_prosecution_still_raises_r1(world):
    case, suspect = kick(world)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=D.ADMIN_DETENTION_6_10,
        lowered_reason="检察院不批捕",
        lenient_reason=LR.INSUFFICIENT_EVIDENCE,
    )
    assert open_flags(case) == {"R1": (DOWNGRADED, ["below_minimum"])}


def test_detention_after_non_prosecution_without_a_transfer_needs_a_lowered_reason_and_raises_r1_and_r9(world):
    case, suspect = not_prosecuted(world)
    with pytest.raises(ValidationError) as refused:
        services.record_disposition(
            suspect=suspect, by=world.supervisor, disposition=D.ADMIN_DETENTION_6_10, lenient_reason=LR.FORGIVENESS
        )
    assert list(refused.value.message_dict) == ["lowered_reason"]
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=D.ADMIN_DETENTION_6_10,
        lenient_reason=LR.FORGIVENESS,
        lowered_reason="转治安处罚",
    )
    assert open_flags(case) == {"R1": (DOWNGRADED, ["below_minimum"]), "R9": (PROMPT, ["no_administrative_transfer"])}
    # Recording the transfer afterwards settles both.
    transfer(world, suspect)
    assert open_flags(case) == {}


# --- the transfer -------------------------------------------------------------------------------------------------


def test_a_transfer_from_supervision_is_a_closed_administrative_referral_that_leaves_the_stage_alone(world):
    case, suspect = not_prosecuted(world)
    before = Case.objects.get(pk=case.pk)
    referral = transfer(world, suspect)
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.track, after.stage_started_at, after.stage_due_at) == (
        CaseStatus.SUPERVISION,
        Track.CRIMINAL,
        before.stage_started_at,
        before.stage_due_at,
    )
    assert after.version == before.version + 1
    assert (referral.suspect_id, referral.track, referral.to_unit_id, referral.body_name) == (
        suspect.pk,
        Track.ADMINISTRATIVE,
        world.county.pk,
        "",
    )
    assert referral.closed_at == referral.referred_at == referral.due_at
    assert referral.acknowledged_at is None
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.data) == (
        EventKind.REFERRAL,
        {
            "referral": referral.pk,
            "suspect": suspect.pk,
            "track": Track.ADMINISTRATIVE,
            "transfer": True,
            "to": world.county.name,
            "to_en": world.county.name_en,
        },
    )
    # Nothing waits for an acknowledgement: no overdue referral, ever.
    flagging.flag_cases(now=timezone.now() + timedelta(days=400))
    assert not Flag.objects.filter(case=case, kind=FlagKind.OVERDUE_REFERRAL).exists()


def test_a_transfer_to_a_named_body_and_from_look_back(world):
    case, suspect = not_prosecuted(world)
    case = services.conclude_case(case=case, by=world.supervisor, expected_version=case.version)
    referral = transfer(world, suspect, target="other", to_unit=None, body_name="杭州市西湖区教育局")
    assert (Case.objects.get(pk=case.pk).status, referral.target, referral.body_name, referral.to_unit_id) == (
        CaseStatus.LOOK_BACK,
        "other",
        "杭州市西湖区教育局",
        None,
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("convicted", "Only a suspect who was not prosecuted or was exempted from punishment is transferred this way."),
        ("twice", "This suspect's transfer is already recorded."),
    ],
)
def test_a_transfer_is_refused_for_a_suspect_not_awaiting_one(world, setup, message):
    case, suspect = not_prosecuted(world)
    if setup == "convicted":
        services.record_disposition(suspect=suspect, by=world.supervisor, disposition=D.CONVICTED_277_5_BASIC)
    else:
        transfer(world, suspect)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        transfer(world, suspect)
    assert refused.value.messages == [message]
    assert state(case) == before


def test_a_transfer_to_a_unit_the_supervisor_does_not_cover_is_refused(world):
    case, suspect = not_prosecuted(world)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        transfer(world, suspect, to_unit=world.sibling_station)
    assert refused.value.message_dict == {"to_unit": ["You can only transfer to units you supervise."]}
    assert state(case) == before


@pytest.mark.parametrize("who", ["sibling_supervisor", "officer", "admin"])
def test_only_a_supervisor_of_the_case_records_a_transfer(world, who):
    case, suspect = not_prosecuted(world)
    before = state(case)
    with pytest.raises(PermissionDenied):
        services.transfer_for_administrative_punishment(suspect=suspect, by=getattr(world, who), to_unit=world.county)
    assert state(case) == before


def test_no_transfer_before_the_case_is_handled(world):
    case, suspect = not_prosecuted(world, status=CaseStatus.INTAKE)
    before = state(case)
    with pytest.raises(PermissionDenied):
        transfer(world, suspect)
    assert state(case) == before


# --- the case page ------------------------------------------------------------------------------------------------


def test_the_page_refuses_a_lenient_disposition_without_a_reason_next_to_the_field_and_keeps_the_input(client, world):
    case, suspect = kick(world)
    before = state(case)
    client.force_login(world.supervisor)
    prefix = f"d{suspect.pk}"
    response = client.post(
        reverse("cases:disposition", args=[case.pk, suspect.pk]),
        {
            f"{prefix}-disposition": D.CRIMINAL_NON_PROSECUTION,
            f"{prefix}-disposition_article": "刑事诉讼法第177条第2款",
            f"{prefix}-decided_at": "2025-05-20",
            f"{prefix}-lenient_reason": "",
            f"{prefix}-lenient_reason_detail": "",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_{prefix}-lenient_reason_errors"' in body
    assert "This outcome is lenient: choose the reason it was reached." in body
    assert 'value="刑事诉讼法第177条第2款"' in body
    assert 'value="criminal_non_prosecution" selected' in body
    assert state(case) == before


def test_the_page_records_a_reason_and_a_transfer(client, world):
    case, suspect = kick(world)
    client.force_login(world.supervisor)
    prefix = f"d{suspect.pk}"
    response = client.post(
        reverse("cases:disposition", args=[case.pk, suspect.pk]),
        {
            f"{prefix}-disposition": D.CRIMINAL_NON_PROSECUTION,
            f"{prefix}-lenient_reason": LR.FORGIVENESS,
            f"{prefix}-lenient_reason_detail": "已取得民警谅解",
        },
    )
    assert response.status_code == 302
    suspect.refresh_from_db()
    assert (suspect.lenient_reason, suspect.lenient_reason_detail) == (LR.FORGIVENESS, "已取得民警谅解")

    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'action="/cases/{case.pk}/suspects/{suspect.pk}/transfer/"' in body
    case.refresh_from_db()
    response = client.post(
        reverse("cases:transfer", args=[case.pk, suspect.pk]),
        {
            f"t{suspect.pk}-version": case.version,
            f"t{suspect.pk}-target": "internal_unit",
            f"t{suspect.pk}-to_unit": world.county.pk,
        },
    )
    assert response.status_code == 302
    assert list(Referral.objects.filter(suspect=suspect).values_list("track", "to_unit_id")) == [
        (Track.ADMINISTRATIVE, world.county.pk)
    ]
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert f'action="/cases/{case.pk}/suspects/{suspect.pk}/transfer/"' not in body
    assert "Transfer of 张某 for administrative punishment" in body


def test_the_page_refuses_a_transfer_without_a_unit_next_to_the_field(client, world):
    case, suspect = not_prosecuted(world)
    before = state(case)
    client.force_login(world.supervisor)
    response = client.post(
        reverse("cases:transfer", args=[case.pk, suspect.pk]),
        {f"t{suspect.pk}-version": case.version, f"t{suspect.pk}-target": "other", f"t{suspect.pk}-body_name": ""},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert f'id="id_t{suspect.pk}-body_name_errors"' in body
    assert "Name the body the suspect is transferred to." in body
    assert 'value="other" selected' in body
    assert state(case) == before


def test_a_transfer_sent_from_a_stale_page_is_refused_with_its_reason_shown(client, world):
    case, suspect = not_prosecuted(world)
    transfer(world, suspect)
    before = state(case)
    client.force_login(world.supervisor)
    response = client.post(
        reverse("cases:transfer", args=[case.pk, suspect.pk]),
        {
            f"t{suspect.pk}-version": before[1],
            f"t{suspect.pk}-target": "internal_unit",
            f"t{suspect.pk}-to_unit": world.county.pk,
        },
    )
    assert response.status_code == 400
    assert "This suspect&#x27;s transfer is already recorded." in response.content.decode()
    assert state(case) == before


@pytest.mark.parametrize(("who", "status"), [("sibling_supervisor", 404), ("officer", 403), ("admin", 403)])
def test_the_page_lets_only_a_supervisor_of_the_case_record_a_transfer(client, world, who, status):
    case, suspect = not_prosecuted(world)
    before = state(case)
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("cases:transfer", args=[case.pk, suspect.pk]),
        {f"t{suspect.pk}-version": case.version, f"t{suspect.pk}-to_unit": world.county.pk},
    )
    assert response.status_code == status
    assert state(case) == before


def test_hostile_text_in_an_other_reason_is_shown_escaped(client, world):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    case, suspect = kick(world)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=D.CRIMINAL_NON_PROSECUTION,
        lenient_reason=LR.OTHER,
        lenient_reason_detail=hostile,
    )
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert hostile not in body
    assert "<img src=x" not in body
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
    # In the suspects list, in the timeline, and kept in the disposition form's text box.
    assert body.count(escaped) == 3


# --- the API ------------------------------------------------------------------------------------------------------


def test_the_api_refuses_a_lenient_disposition_without_a_reason(world):
    case, suspect = kick(world)
    before = state(case)
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/disposition/",
        {"disposition": D.ADMIN_FINE, "lowered_reason": "证据不足"},
        format="json",
    )
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {"lenient_reason": ["This outcome is lenient: choose the reason it was reached."]},
    )
    assert state(case) == before


def test_the_api_records_and_shows_the_reason(world):
    case, suspect = kick(world)
    api = token_client(world.supervisor)
    response = api.post(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/disposition/",
        {"disposition": D.CRIMINAL_NON_PROSECUTION, "lenient_reason": LR.INTOXICATION},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["disposition"], body["lenient_reason"], body["lenient_reason_detail"]) == (
        D.CRIMINAL_NON_PROSECUTION,
        LR.INTOXICATION,
        "",
    )
    listed = api.get(f"/api/v1/cases/{case.pk}/suspects/").json()
    assert [(s["id"], s["lenient_reason"]) for s in listed] == [(suspect.pk, LR.INTOXICATION)]


def test_the_api_records_a_transfer(world):
    case, suspect = not_prosecuted(world)
    api = token_client(world.supervisor)
    response = api.post(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/transfer/",
        {"version": case.version, "to_unit": world.county.pk},
        format="json",
    )
    assert response.status_code == 201
    referral = Referral.objects.get(suspect=suspect)
    body = response.json()
    assert body == {
        "id": referral.pk,
        "target": "internal_unit",
        "to_unit": body["to_unit"],
        "body_name": "",
        "track": Track.ADMINISTRATIVE,
        "referred_by": world.supervisor.pk,
        "referred_at": body["referred_at"],
        "due_at": body["due_at"],
        "acknowledged_at": None,
        "external_reference": "",
        "outcome": "",
        "closed_at": body["closed_at"],
        "suspect": suspect.pk,
    }
    assert body["to_unit"]["code"] == world.county.code
    assert body["referred_at"] == body["due_at"] == body["closed_at"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPERVISION
    listed = api.get(f"/api/v1/cases/{case.pk}/referrals/").json()
    assert [(r["suspect"], r["track"]) for r in listed] == [(None, Track.CRIMINAL), (suspect.pk, Track.ADMINISTRATIVE)]


@pytest.mark.parametrize(("who", "status"), [("sibling_supervisor", 404), ("officer", 403), ("admin", 403)])
def test_the_api_lets_only_a_supervisor_of_the_case_record_a_transfer(world, who, status):
    case, suspect = not_prosecuted(world)
    before = state(case)
    response = token_client(getattr(world, who)).post(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/transfer/", {"to_unit": world.county.pk}, format="json"
    )
    assert response.status_code == status
    assert state(case) == before


def test_the_api_refuses_a_stale_transfer(world):
    case, suspect = not_prosecuted(world)
    before = state(case)
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/transfer/",
        {"version": case.version - 1, "to_unit": world.county.pk},
        format="json",
    )
    assert response.status_code == 412
    assert state(case) == before
