"""Extending a stage's time limit: administrative cases under supervision get +30 days once, with the approval
recorded (PSAPL Art. 99); everything else is refused and changes nothing."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from cases import services
from cases.choices import CaseStatus, EventKind, Track
from cases.exceptions import StaleVersion
from cases.models import Case, CaseEvent
from tests.factories import case_in

pytestmark = pytest.mark.django_db

APPROVAL = {"approval_reference": "杭公复〔2026〕12号", "reason": "伤情鉴定未完成"}


def administrative_supervision(world) -> Case:
    case = case_in(world, CaseStatus.INTAKE)
    case = services.refer_case(
        case=case, by=world.supervisor, expected_version=case.version, track=Track.ADMINISTRATIVE, to_unit=world.county
    )
    return services.acknowledge_referral(
        case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-2026-7"
    )


def state(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (case.version, case.stage_due_at, case.stage_extended_at, CaseEvent.objects.filter(case=case).count())


def test_an_administrative_case_gets_thirty_more_days_once(world):
    case = administrative_supervision(world)
    assert case.stage_due_at - case.stage_started_at == timedelta(days=30)
    due = case.stage_due_at
    extended = services.extend_deadline(
        case=case, by=world.county_supervisor, expected_version=case.version, **APPROVAL
    )
    assert extended.stage_due_at == due + timedelta(days=30)
    assert extended.stage_extended_at is not None
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.actor, event.data["days"], event.data["approval_reference"], event.data["reason"]) == (
        EventKind.DEADLINE_EXTENDED,
        world.county_supervisor,
        30,
        "杭公复〔2026〕12号",
        "伤情鉴定未完成",
    )
    assert event.data["due_at"] == extended.stage_due_at.isoformat()
    assert event.data["basis"].startswith("PSAPL (2012) Art. 99")

    before = state(case)
    with pytest.raises(ValidationError, match="already been extended"):
        services.extend_deadline(case=case, by=world.supervisor, expected_version=extended.version, **APPROVAL)
    assert state(case) == before


def test_a_new_stage_starts_without_an_extension(world):
    case = administrative_supervision(world)
    case = services.extend_deadline(case=case, by=world.supervisor, expected_version=case.version, **APPROVAL)
    case = services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        reason="未查获",
        no_suspect_reason="unknown_pursuing",
    )
    case = Case.objects.get(pk=case.pk)
    assert (case.status, case.stage_extended_at) == (CaseStatus.LOOK_BACK, None)


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (CaseStatus.INTAKE, "cannot be extended"),
        (CaseStatus.SUPERVISION, "cannot be extended"),  # the criminal track: checkpoints, not this extension
    ],
)
def test_stages_without_an_extension_are_refused(world, status, message):
    case = case_in(world, status)
    before = state(case)
    with pytest.raises(ValidationError, match=message):
        services.extend_deadline(case=case, by=world.supervisor, expected_version=case.version, **APPROVAL)
    assert state(case) == before


def test_the_approval_and_the_reason_are_required(world):
    case = administrative_supervision(world)
    before = state(case)
    with pytest.raises(ValidationError) as refused:
        services.extend_deadline(
            case=case, by=world.supervisor, expected_version=case.version, approval_reference=" ", reason=""
        )
    assert sorted(refused.value.message_dict) == ["approval_reference", "reason"]
    assert state(case) == before


@pytest.mark.parametrize("who", ["officer", "sibling_supervisor"])
def test_only_the_office_covering_the_case_may_extend(world, who):
    case = administrative_supervision(world)
    before = state(case)
    with pytest.raises(PermissionDenied):
        services.extend_deadline(case=case, by=getattr(world, who), expected_version=case.version, **APPROVAL)
    assert state(case) == before


def test_a_stale_version_is_refused(world):
    case = administrative_supervision(world)
    before = state(case)
    with pytest.raises(StaleVersion):
        services.extend_deadline(case=case, by=world.supervisor, expected_version=case.version - 1, **APPROVAL)
    assert state(case) == before


def test_the_case_page_offers_the_extension_and_keeps_typed_input_on_error(world, client):
    case = administrative_supervision(world)
    client.force_login(world.supervisor)
    page = client.get(f"/cases/{case.pk}/")
    assert f'action="/cases/{case.pk}/clock/extend/"'.encode() in page.content
    refused = client.post(
        f"/cases/{case.pk}/clock/extend/", {"version": case.version, "approval_reference": "杭公复〔2026〕12号"}
    )
    assert refused.status_code == 400
    assert "杭公复〔2026〕12号".encode() in refused.content
    assert state(case)[2] is None
    done = client.post(f"/cases/{case.pk}/clock/extend/", {"version": case.version, **APPROVAL})
    assert (done.status_code, done["Location"]) == (302, f"/cases/{case.pk}/")
    assert Case.objects.get(pk=case.pk).stage_extended_at is not None
    # Once extended, the page no longer offers it.
    assert f'action="/cases/{case.pk}/clock/extend/"'.encode() not in client.get(f"/cases/{case.pk}/").content


def test_a_criminal_case_page_does_not_offer_it(world, client):
    case = case_in(world, CaseStatus.SUPERVISION)
    client.force_login(world.supervisor)
    assert b"/clock/extend/" not in client.get(f"/cases/{case.pk}/").content


def test_an_extension_resolves_the_stalled_flag(world, monkeypatch):
    from cases import flagging
    from cases.choices import FlagKind
    from cases.models import Flag

    case = administrative_supervision(world)
    late = case.stage_due_at + timedelta(days=2)
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)
    flagging.flag_cases(now=late)

    def open_flags() -> list[str]:
        return sorted(Flag.objects.filter(case=case, resolved_at__isnull=True).values_list("kind", flat=True))

    assert open_flags() == [FlagKind.IDLE, FlagKind.STALLED]
    case = Case.objects.get(pk=case.pk)
    services.extend_deadline(case=case, by=world.supervisor, expected_version=case.version, **APPROVAL)
    flagging.check_case_flags(case_id=case.pk, now=late)
    # Within the extended limit again, and the extension is activity: neither flag stays open.
    assert open_flags() == []
