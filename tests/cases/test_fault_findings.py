"""Police-fault findings: the service, who may record one, the case page, the API, the admin site, the timeline,
the flags they silence or let through (rule R14), and the carry-over of the former case field."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.authority import ANONYMOUS
from accounts.models import Role
from accounts.selectors import actor_for
from cases import flagging, policy, services
from cases.choices import (
    RULE_FLAG_KINDS,
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    InjuryGrade,
    LenientReason,
    PoliceFault,
)
from cases.flagging.snapshot import load_snapshots
from cases.models import Case, CaseEvent, FaultFinding, Flag, OutboxMessage
from cases.rules import FaultFindingFacts
from cases.templatetags.rg import event_text
from demo.organisation import ensure_admin_group
from tests.api.conftest import token_client
from tests.factories import case_in, draft, member

DEPARTMENT = "杭州市公安局法制支队"
REFERENCE = "杭公法审〔2026〕12号"
# A value carried over from the former case field, as the snapshot reads it: no date, no document.
CARRIED_SERIOUS = FaultFindingFacts(PoliceFault.SERIOUS, found_on=None, documented=False, carried_over=True)
HOSTILE_NOTES = "<script>alert('notes')</script>"
HOSTILE_REFERENCE = '"><img src=x onerror=alert(1)>'


def today():
    return timezone.localdate()


def shown(day) -> str:
    """A day as the English pages show it (rightsguard/formats/en)."""
    return f"{day.day} {day:%b %Y}"


def record(case: Case, by, finding: str = PoliceFault.SERIOUS, **overrides) -> FaultFinding:
    fields = {"department": DEPARTMENT, "found_on": today(), "document_reference": REFERENCE, **overrides}
    return services.record_fault_finding(case=case, by=by, finding=finding, **fields)


def standing(case: Case) -> tuple:
    """What a refused request must leave as it was."""
    return (
        FaultFinding.objects.filter(case=case).count(),
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.filter(case=case).count(),
    )


def kicked(world, injury: str = InjuryGrade.SLIGHT, disposition: str = Disposition.NO_ACTION) -> Case:
    """A violent attack on the filing officer on duty, the attacker's case dropped citing police fault."""
    case = case_in(world, CaseStatus.SUPERVISION)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=injury)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(
        suspect=suspect, by=world.supervisor, disposition=disposition, lenient_reason=LenientReason.POLICE_FAULT
    )
    return Case.objects.get(pk=case.pk)


def open_rule_flags(case: Case) -> list[tuple[str, str]]:
    """The case's open rule flags as (rule code, downgraded or review prompt)."""
    return sorted(
        Flag.objects.filter(case=case, kind__in=RULE_FLAG_KINDS, resolved_at__isnull=True).values_list(
            "rule_code", "kind"
        )
    )


DOWNGRADED, PROMPT = FlagKind.DOWNGRADED, FlagKind.REVIEW_PROMPT


# --- the service -----------------------------------------------------------------------------------------------------


def test_a_supervisor_records_a_finding_with_its_event_a_new_version_and_a_flag_check(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    version = case.version
    OutboxMessage.objects.all().delete()

    finding = record(case, world.supervisor, notes="  执法记录仪显示民警先动手。  ")

    finding.refresh_from_db()
    assert (
        finding.finding,
        finding.department,
        finding.found_on,
        finding.document_reference,
        finding.notes,
        finding.carried_over,
        finding.recorded_by,
    ) == (PoliceFault.SERIOUS, DEPARTMENT, today(), REFERENCE, "执法记录仪显示民警先动手。", False, world.supervisor)
    case.refresh_from_db()
    assert case.version == version + 1
    event = CaseEvent.objects.filter(case=case).latest("id")
    assert (event.kind, event.actor) == (EventKind.FAULT_FINDING, world.supervisor)
    assert event.data == {
        "fault_finding": finding.pk,
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": today().isoformat(),
        "document_reference": REFERENCE,
        "previous": None,
        "current": True,
    }
    assert list(OutboxMessage.objects.filter(task="cases.check_case_flags").values_list("args", flat=True)) == [
        [case.pk]
    ]


def test_a_later_finding_supersedes_and_the_history_is_kept(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    first = record(case, world.supervisor, found_on=today() - timedelta(days=1))
    second = record(case, world.county_supervisor, PoliceFault.NONE, document_reference="")
    # Dated before the current one: kept in the history, does not count.
    third = record(
        case, world.supervisor, PoliceFault.MINOR, found_on=today() - timedelta(days=1), document_reference=""
    )

    snapshot = load_snapshots([case.pk], timezone.now())[case.pk]
    assert snapshot.facts.fault_finding == FaultFindingFacts(PoliceFault.NONE, found_on=today(), documented=False)
    events = list(CaseEvent.objects.filter(case=case, kind=EventKind.FAULT_FINDING).order_by("id"))
    assert [(e.data["previous"], e.data["current"]) for e in events] == [
        (None, True),
        ({"id": first.pk, "finding": "serious"}, True),
        ({"id": second.pk, "finding": "none"}, False),
    ]
    assert FaultFinding.objects.filter(case=case).count() == 3
    assert third.pk > second.pk


def test_on_the_same_date_the_later_record_counts(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    record(case, world.supervisor, PoliceFault.NONE, document_reference="")
    record(case, world.supervisor, PoliceFault.SERIOUS)
    snapshot = load_snapshots([case.pk], timezone.now())[case.pk]
    assert snapshot.facts.fault_finding == FaultFindingFacts(PoliceFault.SERIOUS, found_on=today(), documented=True)


def _error_case(world, **overrides):
    case = case_in(world, CaseStatus.SUPERVISION)
    before = standing(case)
    with pytest.raises(ValidationError) as refused:
        record(case, world.supervisor, **overrides)
    assert standing(case) == before
    return refused.value.message_dict


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        (
            {"found_on": None},
            {"found_on": ["Give the date of the finding."]},
        ),
        (
            {"found_on": timezone.localdate() + timedelta(days=2)},
            {"found_on": ["The date of the finding cannot be in the future."]},
        ),
        (
            {"finding": PoliceFault.SERIOUS, "document_reference": "  "},
            {
                "document_reference": [
                    "Give the number of the finding document: it is required when the fault found is considerable "
                    "or serious."
                ]
            },
        ),
        (
            {"finding": PoliceFault.LARGE, "document_reference": ""},
            {
                "document_reference": [
                    "Give the number of the finding document: it is required when the fault found is considerable "
                    "or serious."
                ]
            },
        ),
        (
            {"finding": PoliceFault.UNKNOWN},
            {"finding": ["Choose what the department found."]},
        ),
        (
            {"department": "   "},
            {"department": ["Name the department that made the finding (the legal-affairs department)."]},
        ),
        (
            {"department": "法" * 151, "document_reference": "号" * 101, "notes": "注" * 2001},
            {
                "department": ["Keep this to 150 characters or fewer."],
                "document_reference": ["Keep this to 100 characters or fewer."],
                "notes": ["Keep this to 2000 characters or fewer."],
            },
        ),
    ],
    ids=[
        "no date",
        "future",
        "serious without document",
        "considerable without document",
        "unknown",
        "no dept",
        "long",
    ],
)
def test_invalid_findings_are_refused_field_by_field_and_nothing_is_written(world, overrides, errors):
    finding = overrides.pop("finding", PoliceFault.SERIOUS)
    assert _error_case(world, finding=finding, **overrides) == errors


def test_a_finding_dated_before_the_incident_is_refused(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    incident = timezone.localdate(case.occurred_at)
    before = standing(case)
    with pytest.raises(ValidationError) as refused:
        record(case, world.supervisor, found_on=incident - timedelta(days=1))
    assert refused.value.message_dict == {
        "found_on": [f"The finding cannot be dated before the incident ({incident.isoformat()})."]
    }
    assert standing(case) == before
    # The day of the incident itself is allowed, and a finding of none or minor fault needs no document.
    record(case, world.supervisor, PoliceFault.MINOR, found_on=incident, document_reference="")
    assert FaultFinding.objects.filter(case=case).count() == 1


# --- who may record one ----------------------------------------------------------------------------------------------

PEOPLE = {
    "officer": False,  # the filer, listed as the victim
    "other_officer": False,
    "supervisor": True,  # the city, above the case's station
    "county_supervisor": True,
    "sibling_supervisor": False,  # another province
    "ministry_supervisor": True,
    "admin": False,  # administers the province, does not handle cases
}


@pytest.mark.parametrize(("who", "allowed"), PEOPLE.items())
def test_who_may_record_a_finding(world, who, allowed):
    case = case_in(world, CaseStatus.SUPERVISION)
    user = getattr(world, who)
    assert policy.can_record_fault_finding(actor_for(user), case) is allowed
    before = standing(case)
    if allowed:
        record(case, user)
        assert FaultFinding.objects.filter(case=case, recorded_by=user).count() == 1
    else:
        with pytest.raises(PermissionDenied):
            record(case, user)
        assert standing(case) == before


def test_a_supervisor_who_filed_the_case_or_is_listed_on_it_may_not_record_one(world):
    filed = services.create_draft_case(by=world.county_supervisor, unit=world.station, add_filer_as_officer=False)
    services.update_case_details(
        case=filed,
        by=world.county_supervisor,
        expected_version=None,
        changes={"occurred_at": timezone.now() - timedelta(days=1), "location": "北山街", "summary": "踢打"},
    )
    services.add_involved_officer(case=filed, by=world.county_supervisor, name="王警官")
    filed = services.submit_case(case=filed, by=world.county_supervisor, expected_version=None)
    assert policy.can_handle(actor_for(world.county_supervisor), filed) is True
    assert policy.can_record_fault_finding(actor_for(world.county_supervisor), filed) is False
    assert policy.can_record_fault_finding(actor_for(world.supervisor), filed) is True

    listed = case_in(world, CaseStatus.SUPERVISION)
    services.add_involved_officer(case=listed, by=world.supervisor, user=world.county_supervisor)
    assert policy.can_record_fault_finding(actor_for(world.county_supervisor), listed) is False
    before = standing(listed)
    with pytest.raises(PermissionDenied):
        record(listed, world.county_supervisor)
    assert standing(listed) == before


@pytest.mark.parametrize("status", [CaseStatus.DRAFT, CaseStatus.CLOSED, CaseStatus.REJECTED])
def test_no_finding_is_recorded_outside_the_open_stages(world, status):
    case = draft(world) if status == CaseStatus.DRAFT else case_in(world, status)
    assert policy.can_record_fault_finding(actor_for(world.supervisor), case) is False
    with pytest.raises(PermissionDenied):
        record(case, world.supervisor)
    assert FaultFinding.objects.count() == 0


def test_an_inactive_actor_may_not_record_one(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    assert policy.can_record_fault_finding(ANONYMOUS, case) is False


# --- the case page ---------------------------------------------------------------------------------------------------


def _page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(case: Case, **overrides) -> dict:
    fields = {
        "version": case.version,
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": today().isoformat(),
        "document_reference": REFERENCE,
        "notes": "",
        **overrides,
    }
    # The page's forms share field names (notes): this one's are prefixed.
    return {f"fault-{name}": value for name, value in fields.items()}


@pytest.mark.parametrize(("who", "status_code"), [("officer", 403), ("admin", 403), ("sibling_supervisor", 404)])
def test_the_page_refuses_those_who_may_not_record_and_changes_nothing(world, who, status_code):
    case = case_in(world, CaseStatus.SUPERVISION)
    before = standing(case)
    response = _page_client(getattr(world, who)).post(f"/cases/{case.pk}/fault-findings/", _form(case))
    assert response.status_code == status_code
    assert standing(case) == before


def test_a_supervisor_records_a_finding_on_the_page_and_sees_it(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    client = _page_client(world.supervisor)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'action="/cases/{case.pk}/fault-findings/"' in page
    response = client.post(f"/cases/{case.pk}/fault-findings/", _form(case, notes="民警执法程序存在严重瑕疵。"))
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/"
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Police-fault finding" in page
    assert "民警执法程序存在严重瑕疵。" in page
    assert f"Police-fault finding: Serious ({DEPARTMENT}, {shown(today())}, document {REFERENCE})" in page
    # The finding is the office's internal record (cases/policy.py): the officer's page has neither it nor a form.
    officer_page = _page_client(world.officer).get(f"/cases/{case.pk}/").content.decode()
    assert DEPARTMENT not in officer_page
    assert "Police-fault finding" not in officer_page
    assert "fault-findings/" not in officer_page


def test_the_page_shows_the_errors_next_to_the_fields_and_keeps_what_was_typed(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    before = standing(case)
    response = _page_client(world.supervisor).post(
        f"/cases/{case.pk}/fault-findings/", _form(case, document_reference="", notes="已核实执法记录仪")
    )
    assert response.status_code == 400
    form = response.context["handling"]["fault"]
    assert form.errors == {
        "document_reference": [
            "Give the number of the finding document: it is required when the fault found is considerable or serious."
        ]
    }
    page = response.content.decode()
    assert "已核实执法记录仪" in page
    assert DEPARTMENT in page
    assert standing(case) == before


def test_hostile_text_in_the_notes_and_the_reference_is_shown_escaped(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    record(case, world.supervisor, notes=HOSTILE_NOTES, document_reference=HOSTILE_REFERENCE)
    page = _page_client(world.supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert "<script>alert('notes')</script>" not in page
    assert "&lt;script&gt;alert(&#x27;notes&#x27;)&lt;/script&gt;" in page
    assert '"><img src=x onerror=alert(1)>' not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


# --- the API ---------------------------------------------------------------------------------------------------------


def _api_body(**overrides) -> dict:
    return {
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": today().isoformat(),
        "document_reference": REFERENCE,
        **overrides,
    }


@pytest.mark.parametrize(
    ("who", "status_code"),
    [("officer", 403), ("admin", 403), ("sibling_supervisor", 404), ("other_officer", 404)],
)
def test_the_api_refuses_those_who_may_not_record_and_changes_nothing(world, who, status_code):
    case = case_in(world, CaseStatus.SUPERVISION)
    before = standing(case)
    client = token_client(getattr(world, who))
    response = client.post(f"/api/v1/cases/{case.pk}/fault-findings/", _api_body(), format="json")
    assert response.status_code == status_code, response.content
    # Whatever was sent: the refusal does not depend on the body.
    response = client.post(f"/api/v1/cases/{case.pk}/fault-findings/", {"finding": "grave"}, format="json")
    assert response.status_code == status_code
    assert standing(case) == before


def test_the_api_records_a_finding_and_lists_the_history_with_the_current_one(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    client = token_client(world.supervisor)
    response = client.post(f"/api/v1/cases/{case.pk}/fault-findings/", _api_body(notes=HOSTILE_NOTES), format="json")
    assert response.status_code == 201, response.content
    first = FaultFinding.objects.get(case=case)
    assert response.json() == {
        "id": first.pk,
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": today().isoformat(),
        "document_reference": REFERENCE,
        "notes": HOSTILE_NOTES,
        "carried_over": False,
        "recorded_by": {"id": world.supervisor.pk, "name": world.supervisor.full_name},
        "recorded_at": response.json()["recorded_at"],
        "current": True,
    }
    response = client.post(
        f"/api/v1/cases/{case.pk}/fault-findings/",
        _api_body(finding="none", document_reference=""),
        format="json",
        HTTP_IF_MATCH=f'"{Case.objects.get(pk=case.pk).version}"',
    )
    assert response.status_code == 201, response.content
    listed = token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/fault-findings/")
    assert listed.status_code == 200
    assert [(f["finding"], f["current"]) for f in listed.json()] == [("serious", False), ("none", True)]
    # The finding is the office's internal record: the filing officer is refused the list (cases/policy.py).
    assert token_client(world.officer).get(f"/api/v1/cases/{case.pk}/fault-findings/").status_code == 403


def test_the_api_answers_precise_errors(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    client = token_client(world.supervisor)
    before = standing(case)
    response = client.post(
        f"/api/v1/cases/{case.pk}/fault-findings/",
        _api_body(document_reference="", found_on="2999-01-01"),
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "found_on": ["The date of the finding cannot be in the future."],
        "document_reference": [
            "Give the number of the finding document: it is required when the fault found is considerable or serious."
        ],
    }
    stale = client.post(f"/api/v1/cases/{case.pk}/fault-findings/", _api_body(version=1), format="json")
    assert stale.status_code == 412
    assert standing(case) == before


def test_the_case_api_refuses_the_former_field(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    before = standing(case)
    response = token_client(world.supervisor).patch(
        f"/api/v1/cases/{case.pk}/", {"police_fault": "serious"}, format="json"
    )
    assert response.status_code == 400
    assert "fault-findings" in response.content.decode()
    assert standing(case) == before
    assert "police_fault" not in token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/").json()


# --- the admin site --------------------------------------------------------------------------------------------------


def test_the_admin_site_shows_findings_read_only_within_the_administrators_scope(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    finding = record(case, world.supervisor)
    admin = world.admin
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    admin.groups.add(ensure_admin_group())
    client = _page_client(admin)
    listing = client.get("/admin/cases/faultfinding/")
    assert listing.status_code == 200
    assert case.reference in listing.content.decode()
    assert client.get(f"/admin/cases/faultfinding/{finding.pk}/change/").status_code == 200
    assert client.get("/admin/cases/faultfinding/add/").status_code == 403
    before = standing(case)
    changed = client.post(f"/admin/cases/faultfinding/{finding.pk}/change/", {"finding": "none"})
    assert changed.status_code == 403
    assert client.post(f"/admin/cases/faultfinding/{finding.pk}/delete/", {"post": "yes"}).status_code == 403
    assert standing(case) == before

    other = member(world.sibling_province, Role.ADMIN, is_staff=True)
    other.groups.add(ensure_admin_group())
    assert case.reference not in _page_client(other).get("/admin/cases/faultfinding/").content.decode()


# --- the timeline ----------------------------------------------------------------------------------------------------


def test_the_timeline_says_what_was_found_and_by_whom(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    record(case, world.supervisor)
    event = CaseEvent.objects.filter(case=case, kind=EventKind.FAULT_FINDING).get()
    assert event_text(event) == (
        f"Police-fault finding: Serious ({DEPARTMENT}, {shown(today())}, document {REFERENCE})"
    )
    carried = CaseEvent(case=case, kind=EventKind.FAULT_FINDING, data={"finding": "large", "carried_over": True})
    assert event_text(carried) == (
        "Police-fault finding carried over from the case record (no finding document): Considerable"
    )
    events = token_client(world.supervisor).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert [e["kind"] for e in events].count("fault_finding") == 1
    # The filer's timeline leaves the office's internal record out.
    events = token_client(world.officer).get(f"/api/v1/cases/{case.pk}/events/").json()["results"]
    assert [e["kind"] for e in events].count("fault_finding") == 0


# --- rule R14 through the database -----------------------------------------------------------------------------------


def test_a_slight_injury_kick_with_a_recorded_serious_finding_raises_no_r1(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = kicked(world)
    # Dropped citing police fault that no finding supports yet: R1, and the prompt for the finding.
    assert open_rule_flags(case) == [("FAULT_CITED", PROMPT), ("R1", DOWNGRADED)]
    with django_capture_on_commit_callbacks(execute=True):
        record(case, world.supervisor)
    # The criminal case is no longer expected; an administrative punishment still is (R7), and "no action" is not one.
    assert open_rule_flags(case) == [("R7", PROMPT)]
    # A newer finding of no fault lifts the suppression at the check that follows it.
    with django_capture_on_commit_callbacks(execute=True):
        record(case, world.county_supervisor, PoliceFault.NONE, document_reference="")
    assert open_rule_flags(case) == [("FAULT_CITED", PROMPT), ("R1", DOWNGRADED)]


def test_a_serious_injury_dropped_despite_serious_fault_still_raises_r5(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = kicked(world, injury=InjuryGrade.SERIOUS_2)
        record(case, world.supervisor)
    assert open_rule_flags(case) == [("R5", DOWNGRADED)]
    case.refresh_from_db()
    assert case.expected_min_rank == 15


def test_a_carried_over_serious_value_silences_nothing(world, django_capture_on_commit_callbacks):
    case = kicked(world)
    # As the migration leaves it: no author, date or document.
    FaultFinding.objects.create(
        case=case,
        finding=PoliceFault.SERIOUS,
        carried_over=True,
        notes="carried over from the case record; no finding document on file",
        recorded_at=timezone.now(),
    )
    snapshot = load_snapshots([case.pk], timezone.now())[case.pk]
    assert snapshot.facts.fault_finding == FaultFindingFacts(
        PoliceFault.SERIOUS, found_on=None, documented=False, carried_over=True
    )
    flagging.check_case_flags(case_id=case.pk, now=timezone.now())
    assert open_rule_flags(case) == [("FAULT_CITED", PROMPT), ("R1", DOWNGRADED)]
    # Any finding recorded since supersedes it, whatever its date.
    with django_capture_on_commit_callbacks(execute=True):
        record(case, world.supervisor, found_on=timezone.localdate(case.occurred_at))
    assert open_rule_flags(case) == [("R7", PROMPT)]


def test_the_scan_reads_the_current_finding_of_many_cases_in_one_query(world):
    cases = [case_in(world, CaseStatus.SUPERVISION) for _ in range(3)]
    record(cases[0], world.supervisor)
    record(cases[1], world.supervisor, PoliceFault.MINOR, document_reference="")
    record(cases[1], world.supervisor, PoliceFault.LARGE)
    with CaptureQueriesContext(connection) as one:
        load_snapshots([cases[0].pk], timezone.now())
    with CaptureQueriesContext(connection) as three:
        snapshots = load_snapshots([c.pk for c in cases], timezone.now())
    assert len(three) == len(one)
    assert [snapshots[c.pk].facts.fault_finding for c in cases] == [
        FaultFindingFacts(PoliceFault.SERIOUS, found_on=today(), documented=True),
        FaultFindingFacts(PoliceFault.LARGE, found_on=today(), documented=True),
        None,
    ]


# --- the carry-over of the former field ------------------------------------------------------------------------------

MIGRATION = ("cases", "0017_fault_findings")


@pytest.mark.django_db(transaction=True)
def test_the_migration_carries_each_known_value_over_without_a_document():
    executor = MigrationExecutor(connection)
    (before,) = [p for p in executor.loader.graph.node_map[MIGRATION].parents if p.key[0] == "cases"]
    executor.migrate([before.key])
    old = executor.loader.project_state([before.key]).apps
    try:
        OrgUnit = old.get_model("accounts", "OrgUnit")
        User = old.get_model("accounts", "User")
        OldCase = old.get_model("cases", "Case")
        unit = OrgUnit.objects.create(code="330106001", name="北山派出所", level="station", path="/330106001/", depth=0)
        user = User.objects.create(username="officer", password="!")
        now = timezone.now()
        made = {}
        for number, fault in enumerate(["unknown", "none", "serious", "large"], start=1):
            made[fault] = OldCase.objects.create(
                reference=f"RG-2026-{number:06d}",
                unit=unit,
                unit_path=unit.path,
                kind="violent_attack",
                status="supervision",
                stage_due_at=now,
                police_fault=fault,
                filed_by=user,
                created_at=now,
                updated_at=now,
                last_activity_at=now,
                version=3,
            ).pk
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    carried = {f.case_id: f for f in FaultFinding.objects.all()}
    assert {case_id: f.finding for case_id, f in carried.items()} == {
        made["none"]: "none",
        made["serious"]: "serious",
        made["large"]: "large",
    }
    for f in carried.values():
        assert (f.carried_over, f.recorded_by_id, f.department, f.found_on, f.document_reference, f.notes) == (
            True,
            None,
            "",
            None,
            "",
            "carried over from the case record; no finding document on file",
        )
    versions = dict(Case.objects.values_list("pk", "version"))
    assert versions == {made["unknown"]: 3, made["none"]: 4, made["serious"]: 4, made["large"]: 4}
    events = CaseEvent.objects.filter(kind=EventKind.FAULT_FINDING)
    assert sorted((e.case_id, e.actor_id, e.data["carried_over"]) for e in events) == sorted(
        (made[v], None, True) for v in ("none", "serious", "large")
    )
    snapshot = load_snapshots([made["serious"]], timezone.now())[made["serious"]]
    assert snapshot.facts.fault_finding == FaultFindingFacts(
        PoliceFault.SERIOUS, found_on=None, documented=False, carried_over=True
    )
