"""What the filer reads of his case and what stays with the office (cases/policy.py), at every door."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.selectors import actor_for
from cases import policy, services
from cases.choices import CaseStatus, EventKind, FindingProblem, FlagKind, NoteVisibility
from cases.models import Case, CaseEvent, Flag
from cases.notifications import recipients_for
from demo.organisation import ensure_admin_group
from tests.api.conftest import token_client
from tests.factories import case_in

pytestmark = pytest.mark.django_db


def _notes(case: Case, actor) -> list[str]:
    return [e.data["text"] for e in policy.events_visible_to(actor, case).filter(kind=EventKind.NOTE).order_by("id")]


def test_notes_have_a_visibility_by_author(world):
    case = case_in(world, CaseStatus.INTAKE)
    services.add_note(case=case, by=world.supervisor, text="内部")
    services.add_note(case=case, by=world.supervisor, text="告知本人", visibility=NoteVisibility.SHARED)
    services.add_note(case=case, by=world.officer, text="补充情况")
    visibilities = list(
        CaseEvent.objects.filter(case=case, kind=EventKind.NOTE)
        .order_by("id")
        .values_list("data__visibility", flat=True)
    )
    assert visibilities == ["internal", "shared", "shared"]
    assert _notes(case, actor_for(world.officer)) == ["告知本人", "补充情况"]
    assert _notes(case, actor_for(world.supervisor)) == ["内部", "告知本人", "补充情况"]


def test_a_filer_cannot_write_an_internal_note(world):
    case = case_in(world, CaseStatus.INTAKE)
    before = CaseEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.add_note(case=case, by=world.officer, text="x", visibility=NoteVisibility.INTERNAL)
    assert list(refused.value.message_dict) == ["visibility"]
    assert CaseEvent.objects.count() == before


def test_notes_written_before_visibilities_are_shared_only_when_the_filer_wrote_them(world):
    case = case_in(world, CaseStatus.INTAKE)
    now = timezone.now()
    CaseEvent.objects.create(case=case, kind=EventKind.NOTE, actor=world.officer, at=now, data={"text": "本人旧留言"})
    CaseEvent.objects.create(
        case=case, kind=EventKind.NOTE, actor=world.supervisor, at=now, data={"text": "旧电话记录"}
    )
    assert _notes(case, actor_for(world.officer)) == ["本人旧留言"]
    assert _notes(case, actor_for(world.supervisor)) == ["本人旧留言", "旧电话记录"]


def test_the_filers_timeline_leaves_out_the_offices_assessment(world):
    case = case_in(world, CaseStatus.LOOK_BACK)
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.PROTRACTED, detail="久拖")
    services.reopen_case(
        case=Case.objects.get(pk=case.pk),
        by=world.supervisor,
        expected_version=Case.objects.get(pk=case.pk).version,
        problem=FindingProblem.DOWNGRADED,
        detail="处罚偏轻",
    )
    office = {e.kind for e in policy.events_visible_to(actor_for(world.supervisor), case)}
    filer = {e.kind for e in policy.events_visible_to(actor_for(world.officer), case)}
    assert EventKind.FINDING in office
    assert filer & policy.INTERNAL_EVENT_KINDS == set()
    assert EventKind.TRANSITION in filer
    # Over the API, the reopen is there for the filer but not the finding it names.
    events = token_client(world.officer).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    reopen = next(e for e in events if e["action"] == "reopen")
    assert reopen["data"] == {}
    assert [e for e in events if e["kind"] == "finding"] == []
    office_events = token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert set(next(e for e in office_events if e["action"] == "reopen")["data"]) == {"finding", "problem"}


def test_internal_events_notify_nobody_who_reads_only_the_shared_part(world):
    case = case_in(world, CaseStatus.INTAKE)
    # The office's events go to the supervisor in charge; were the filer ever the one assigned (here by hand, no
    # service would), a finding would still not reach him: he supervises nothing, so the unit's supervisors hear of it.
    Case.objects.filter(pk=case.pk).update(assigned_to=world.officer)
    finding = services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.PROTRACTED, detail="久拖")
    event = CaseEvent.objects.get(case=case, kind=EventKind.FINDING, data__finding=finding.pk)
    assert recipients_for(event) == {world.county_supervisor.pk}
    assert policy.is_shared_event(event, case) is False


def test_the_api_hides_flags_and_the_flag_filter_from_the_filer(world):
    case = case_in(world, CaseStatus.INTAKE)
    Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    Case.objects.filter(pk=case.pk).update(is_stalled=True, expected_min_rank=7)
    officer, supervisor = token_client(world.officer), token_client(world.supervisor)
    mine = officer.get(f"/api/v1/cases/{case.pk}/").json()
    assert (mine["open_flags"], mine["expected_min_rank"]) == ([], None)
    office = supervisor.get(f"/api/v1/cases/{case.pk}/").json()
    assert (office["open_flags"], office["expected_min_rank"]) == (["stalled"], 7)
    assert officer.get("/api/v1/cases/?flag=stalled").json()["results"] == []
    assert [c["id"] for c in supervisor.get("/api/v1/cases/?flag=stalled").json()["results"]] == [case.pk]
    for endpoint in ("findings", "fault-findings", "reviews"):
        assert officer.get(f"/api/v1/cases/{case.pk}/{endpoint}/").status_code == 403
        assert supervisor.get(f"/api/v1/cases/{case.pk}/{endpoint}/").status_code == 200


def test_the_admin_site_lists_internal_records_only_to_the_office(world):
    case = case_in(world, CaseStatus.INTAKE)
    services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.PROTRACTED, detail="久拖未结")
    services.add_note(case=case, by=world.supervisor, text="内部电话记录")
    group = ensure_admin_group()
    pages = {}
    for who in ("officer", "supervisor"):
        user = getattr(world, who)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(group)
        client = Client()
        client.force_login(user)
        pages[who] = (
            client.get("/admin/cases/supervisionfinding/"),
            client.get("/admin/cases/caseevent/?kind__exact=note"),
            client.get(f"/admin/cases/case/{case.pk}/change/").content.decode(),
        )
    for who, shown in (("supervisor", True), ("officer", False)):
        findings, notes, case_page = pages[who]
        assert (findings.status_code, notes.status_code) == (200, 200)
        assert findings.context["cl"].result_count == (1 if shown else 0)
        assert notes.context["cl"].result_count == (1 if shown else 0)
        assert ("内部电话记录" in case_page) is shown
