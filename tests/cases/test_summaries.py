"""The report summaries (cases/summaries.py): kept by the services in the change's transaction, rebuilt and
reconciled from scratch."""

import threading
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone

from cases import services, summaries
from cases.choices import (
    CaseStatus,
    Channel,
    Disposition,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
    OfficerType,
    SuspectStatus,
    Track,
)
from cases.ledger import reconcile as ledger_reconcile
from cases.models import Case, OutboxMessage, ReportCaseSummary, ReportSpreadSummary
from tests.factories import case_in, draft
from tests.reports.dataset import clock

SH = ZoneInfo("Asia/Shanghai")
VIOLENT, WEB = IncidentKind.VIOLENT_ATTACK.value, Channel.WEB.value
# The station's cases count in its city's area (cases/summaries.py ``area_of``).
AREA = "/000000/330000/330100/"


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


def stored() -> Counter:
    return summaries.stored_rows()


def in_step() -> list:
    """The stored summaries against the rebuild from scratch: what differs (nothing, when the services kept them)."""
    return summaries.reconcile().mismatches


def officer_row(month: date, injury: str = InjuryGrade.NONE.value, kind: str = OfficerType.REGULAR.value) -> tuple:
    return ("officers", AREA, month, kind, injury)


def test_a_draft_adds_nothing_and_submission_adds_the_case_and_its_officer(world):
    with clock(at(2025, 3, 31, 23, 30)):
        case = draft(world)
    assert stored() == Counter()
    # 23:30 on 31 March in Shanghai is still March there (15:30 UTC): the local month counts.
    with clock(at(2025, 3, 31, 23, 45)):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    march = date(2025, 3, 1)
    assert stored() == Counter(
        {
            ("cases", AREA, march, "kind", VIOLENT): 1,
            ("cases", AREA, march, "channel", WEB): 1,
            ("cases", AREA, march, "status", "intake"): 1,
            # The analysis's breakdowns (cases/dimensions.py): nothing recorded but the type, the time and the weapon
            # left at "unknown"; it occurred a day before it was filed, at 23:30 on Sunday 30 March in Shanghai.
            ("cases", AREA, march, "scenario", f"{VIOLENT}:"): 1,
            ("cases", AREA, march, "place", ""): 1,
            ("cases", AREA, march, "weekhour", "7:23"): 1,
            ("cases", AREA, march, "weapon", "unknown"): 1,
            ("cases", AREA, march, "intox", ""): 1,
            ("cases", AREA, march, "crowd", ""): 1,
            officer_row(march): 1,
        }
    )
    assert in_step() == []


def test_every_path_of_a_case_keeps_the_summaries_in_step(world):
    """Status changes move the count between rows; parties, referrals, closure and recall change their rows."""
    with clock(at(2025, 1, 10)):
        case = draft(world)
        case = services.submit_case(case=case, by=world.officer, expected_version=case.version)
    month, sup = date(2025, 1, 1), world.supervisor
    officer = case.officers.get()
    with clock(at(2025, 1, 10, 11)):
        services.update_involved_officer(officer=officer, by=sup, injury=InjuryGrade.MINOR_2)
        colleague = services.add_involved_officer(
            case=case, by=sup, name="辅警甲", officer_type=OfficerType.AUXILIARY, injury=InjuryGrade.SLIGHT
        )
        suspect = services.add_suspect(case=case, by=sup, name="张三", status=SuspectStatus.ARRESTED)
        services.record_disposition(suspect=suspect, by=sup, disposition=Disposition.CRIMINAL_FILED)
        other = services.add_suspect(case=case, by=sup, name="李四")
    assert in_step() == []
    assert stored()[("suspects", AREA, month, "arrested", "criminal_filed")] == 1
    assert stored()[("suspects", AREA, month, "identified", "under_investigation")] == 1
    assert stored()[officer_row(month, "minor_2")] == 1
    assert stored()[officer_row(month, "slight", "auxiliary")] == 1

    with clock(at(2025, 1, 10, 12)):
        removed = services.remove_suspect(suspect=other, by=sup)
        services.remove_involved_officer(officer=colleague, by=sup)
    assert stored()[("suspects", AREA, month, "identified", "under_investigation")] == 0
    assert stored()[officer_row(month, "slight", "auxiliary")] == 0
    assert in_step() == []
    with clock(at(2025, 1, 10, 13)):
        services.undo_removal(case=case, by=sup, removed=removed)
    assert stored()[("suspects", AREA, month, "identified", "under_investigation")] == 1
    assert in_step() == []

    # The type and channel are the supervisor's to correct: the case moves to another row.
    with clock(at(2025, 1, 11)):
        case = services.update_case_details(
            case=Case.objects.get(pk=case.pk),
            by=sup,
            expected_version=None,
            changes={"kind": IncidentKind.THREAT, "channel": Channel.HOTLINE_12389},
        )
    assert stored()[("cases", AREA, month, "kind", VIOLENT)] == 0
    assert stored()[("cases", AREA, month, "channel", WEB)] == 0
    assert stored()[("cases", AREA, month, "kind", "threat")] == 1
    assert stored()[("cases", AREA, month, "channel", "hotline_12389")] == 1
    assert stored()[("cases", AREA, month, "status", "intake")] == 1
    assert in_step() == []

    # Referred 2 days 12 hours after submission: the first referral's histogram row; a second referral is not first.
    with clock(at(2025, 1, 12, 22)):
        case = services.refer_case(
            case=case, by=sup, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
        )
    assert case.first_referred_at == at(2025, 1, 12, 22)
    referral_row = ("spreads", "referral", 2025, AREA, 2)
    assert stored()[referral_row] == 1
    assert stored()[("cases", AREA, month, "status", "referred")] == 1
    assert stored()[("cases", AREA, month, "status", "intake")] == 0
    with clock(at(2025, 1, 13)):
        case = services.acknowledge_referral(case=case, by=sup, expected_version=case.version, external_reference="X-1")
    with clock(at(2025, 2, 1)):
        case = services.conclude_case(case=case, by=sup, expected_version=case.version, reason="处理完毕")
    with clock(at(2025, 2, 2)):
        case = services.reopen_case(
            case=case, by=sup, expected_version=case.version, problem=FindingProblem.PROTRACTED, detail="回头看"
        )
    with clock(at(2025, 2, 3)):
        case = services.conclude_case(case=case, by=sup, expected_version=case.version, reason="处理完毕")
    with clock(at(2026, 1, 9, 10)):
        case = services.close_case(
            case=case, by=sup, expected_version=case.version, officer_informed=True, disposition_consistent=True
        )
    # Closed in 2026, 364 days after submission (10 January 2025 10:00 to 9 January 2026 10:00).
    assert stored()[("spreads", "closure", 2026, AREA, 364)] == 1
    assert stored()[("cases", AREA, month, "status", "closed")] == 1
    assert in_step() == []
    with clock(at(2026, 2, 1)):
        case = services.recall_case(case=case, by=sup, expected_version=case.version, reason="年度回头看")
    assert stored()[("spreads", "closure", 2026, AREA, 364)] == 0
    assert stored()[("cases", AREA, month, "status", "look_back")] == 1
    assert stored()[("cases", AREA, month, "status", "closed")] == 0
    assert stored()[referral_row] == 1
    assert (
        sum(n for key, n in stored().items() if key[0] == "cases") == 9
    )  # its type, channel, status and six breakdowns
    assert in_step() == []


def test_a_withdrawn_draft_never_counts_and_a_rejected_case_moves_to_rejected(world):
    case_in(world, CaseStatus.WITHDRAWN)
    assert stored() == Counter()
    rejected = case_in(world, CaseStatus.REJECTED)
    month = summaries.local_month(rejected.submitted_at)
    assert stored()[("cases", AREA, month, "status", "rejected")] == 1
    assert stored()[("cases", AREA, month, "status", "intake")] == 0
    assert in_step() == []


def test_a_refused_change_leaves_the_summaries_as_they_were(world):
    case = case_in(world, CaseStatus.INTAKE)
    before = stored()
    with pytest.raises(Exception):  # noqa: B017, PT011  # the refusal's type is the service's business
        services.reject_case(case=case, by=world.officer, expected_version=case.version, reason="no")
    assert stored() == before


def test_reconcile_finds_a_planted_mismatch_and_repairs_it(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    month = summaries.local_month(case.submitted_at)
    row = ("cases", AREA, month, "status", "supervision")
    assert in_step() == []
    ReportCaseSummary.objects.filter(dimension="status", code="supervision").update(n=F("n") + 2)
    ReportSpreadSummary.objects.filter(measure="referral").delete()
    ReportCaseSummary.objects.create(area_path=AREA, month=month, dimension="kind", code="threat", n=1)
    referral = ("spreads", "referral", case.first_referred_at.astimezone(SH).year, AREA, 0)
    assert summaries.reconcile().mismatches == sorted(
        [(row, 3, 1), (referral, 0, 1), (("cases", AREA, month, "kind", "threat"), 1, 0)],
        key=lambda m: repr(m[0]),
    )
    ledger = ledger_reconcile(notifications=False)
    assert f"summary cases/{AREA}/{month}/status/supervision: stored 3, expected 1" in ledger.problems
    assert len([p for p in ledger.problems if p.startswith("summary ")]) == 3

    repaired = summaries.reconcile(repair=True)
    assert repaired.repaired is True
    assert len(repaired.mismatches) == 3
    assert in_step() == []
    assert stored()[row] == 1
    assert stored()[referral] == 1


def test_the_reconcile_command_fails_on_a_mismatch_until_repaired(world, capsys):
    case_in(world, CaseStatus.INTAKE)
    OutboxMessage.objects.update(done_at=timezone.now())  # the relay's work, not this test's subject
    ReportCaseSummary.objects.update(n=F("n") + 1)
    with pytest.raises(CommandError):
        call_command("reconcile", "--no-notifications")
    assert '"ok": false' in capsys.readouterr().out
    call_command("reconcile", "--no-notifications", "--repair-summaries")
    out = capsys.readouterr().out
    assert '"ok": true' in out
    assert "stored 2, expected 1" in out  # listed under summaries_repaired
    call_command("reconcile", "--no-notifications")
    assert in_step() == []


def test_the_rebuild_sql_agrees_with_what_each_case_adds(world):
    """The SQL rebuild (months and years in local time, whole days exactly) and the services' Python agree."""
    for status in (CaseStatus.INTAKE, CaseStatus.REFERRED, CaseStatus.CLOSED, CaseStatus.REJECTED):
        case_in(world, status)
    python = Counter()
    for case in Case.objects.all():
        python.update(summaries.contribution(case))
    assert +summaries.rebuild_rows() == +python
    assert +stored() == +python


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_into_one_row_lose_no_count(postgres_only, world):
    drafts = [draft(world) for _ in range(6)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(drafts))

    def submit(case: Case) -> None:
        try:
            start.wait()
            services.submit_case(case=case, by=world.officer, expected_version=case.version)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(c,)) for c in drafts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = stored()
    assert sum(n for k, n in counts.items() if k[0] == "cases" and k[3] == "status") == 6
    assert sum(n for k, n in counts.items() if k[0] == "officers") == 6
    assert in_step() == []
    assert connection.vendor == "postgresql"


def test_a_corrected_fact_moves_the_case_between_the_analysis_rows(world):
    """The breakdowns follow the case's facts: a supervisor's correction takes one from the old code's row and adds
    one to the new code's, in the change's transaction; the rebuild agrees."""
    with clock(at(2025, 5, 6, 9)):
        case = draft(world)
        case = services.update_case_details(
            case=case,
            by=world.officer,
            expected_version=case.version,
            changes={"duty_scenario": "call_110", "place_category": "road", "attackers": 2, "intoxicated": True},
        )
        case = services.submit_case(case=case, by=world.officer, expected_version=case.version)
    may = date(2025, 5, 1)

    def analysis_rows() -> dict:
        return {k[3:]: n for k, n in stored().items() if k[0] == "cases" and k[3] not in ("kind", "channel", "status")}

    assert analysis_rows() == {
        ("scenario", f"{VIOLENT}:call_110"): 1,
        ("place", "road"): 1,
        ("weekhour", "1:9"): 1,  # the factory's case occurred a day before: Monday 5 May 2025, 09:00 in Shanghai
        ("weapon", "unknown"): 1,
        ("intox", "yes"): 1,
        ("crowd", "few"): 1,
    }
    with clock(at(2025, 5, 7, 9)):
        services.update_case_details(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            changes={"place_category": "hospital", "attackers": 3, "organised_or_incited": True},
        )
    assert analysis_rows() == {
        ("scenario", f"{VIOLENT}:call_110"): 1,
        ("place", "hospital"): 1,
        ("weekhour", "1:9"): 1,
        ("weapon", "unknown"): 1,
        ("intox", "yes"): 1,
        ("crowd", "organised"): 1,
    }
    # The old codes' rows stay, at zero.
    left = ReportCaseSummary.objects.filter(n=0).values_list("dimension", "code")
    assert sorted(left) == [("crowd", "few"), ("place", "road")]
    assert {k[2] for k in stored() if k[0] == "cases"} == {may}
    assert in_step() == []


@pytest.mark.django_db(transaction=True)
def test_the_analysis_dimensions_migrate_back_and_forth_with_rows_present(world):
    """Migration 0037 going back drops the analysis's rows (the older check would refuse them) and coming forward
    fills them again from the cases: a migration test that goes back past it must not break the database."""
    from django.db.migrations.executor import MigrationExecutor

    with clock(at(2025, 5, 6, 9)):
        case = draft(world)
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    before = stored()
    assert sum(n for key, n in before.items() if key[0] == "cases" and key[3] == "place") == 1
    executor = MigrationExecutor(connection)
    executor.migrate([("cases", "0036_analysis_facts_and_welfare")])
    try:
        dims = set(ReportCaseSummary.objects.values_list("dimension", flat=True))
        assert dims == {"kind", "channel", "status"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert stored() == before
    assert in_step() == []
