"""``manage.py seed_demo``: an idempotent demo world, and synthetic cases that obey the same rules as real ones."""

import hashlib
import json
import os
import re
from collections import defaultdict
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from accounts.models import Membership, OrgLevel, OrgUnit, Role, User
from cases import flagging, services, summaries
from cases.choices import (
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    LENIENT_DISPOSITIONS,
    OPEN_STATUSES,
    RULE_FLAG_KINDS,
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    ReferralTarget,
    SupportKind,
    SuspectStatus,
)
from cases.models import (
    Case,
    CaseEvent,
    Flag,
    InvolvedOfficer,
    LookBackReview,
    ReferenceCounter,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from cases.workflow import TRANSITIONS
from demo.bulk import Writer
from demo.organisation import ADMIN_GROUP, DEMO_ACCOUNTS, DEMO_OFFICERS, DEMO_PASSWORD

pytestmark = pytest.mark.django_db

DEMO_USERNAMES = [a.username for a in DEMO_ACCOUNTS]
REFERENCE = re.compile(r"RG-(\d{4})-(\d{6})")
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {
        "units": OrgUnit.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "cases": Case.objects.count(),
        "events": CaseEvent.objects.count(),
    }


def demo_cases() -> list[Case]:
    return list(Case.objects.filter(filed_by__username__in=DEMO_OFFICERS))


@pytest.fixture
def fixed_now(monkeypatch):
    """Synthetic cases are dated back from now (stage limits, security periods and reference years follow the
    calendar): with the clock fixed too, what the tests below see depends on the seed alone, not on the day they run."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def test_running_twice_changes_nothing_and_keeps_the_demo_password():
    seed()
    first = counts()
    output = seed()

    assert counts() == first
    assert "already present" in output
    for username in DEMO_USERNAMES:
        user = User.objects.get(username=username)
        assert user.check_password(DEMO_PASSWORD), username
        assert user.is_active


def test_a_rerun_reactivates_demo_accounts_without_resetting_passwords():
    seed("--no-demo")
    officer = User.objects.get(username="officer")
    officer.set_password("changed-by-its-owner")
    officer.is_active = False
    officer.save()

    seed("--no-demo")

    officer.refresh_from_db()
    assert officer.is_active
    assert officer.check_password("changed-by-its-owner")


def test_no_demo_still_creates_units_and_accounts():
    seed("--no-demo")

    assert set(User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)) == set(
        DEMO_USERNAMES
    )
    assert OrgUnit.objects.filter(code="000000").exists()
    assert not Case.objects.exists()


def test_the_org_tree_has_two_provinces_down_to_stations():
    seed("--no-demo")

    ministry = OrgUnit.objects.get(code="000000")
    assert (ministry.name, ministry.name_en, ministry.level) == ("公安部", "Ministry of Public Security", "ministry")
    provinces = OrgUnit.objects.filter(level=OrgLevel.PROVINCE, parent=ministry)
    assert {"330000", "420000"} <= set(provinces.values_list("code", flat=True))
    for county in OrgUnit.objects.filter(level=OrgLevel.COUNTY):
        stations = county.children.filter(level=OrgLevel.STATION)
        assert stations.count() >= 2, county
        assert all(len(s.code) == 9 and s.code.startswith(county.code) for s in stations)
        assert all(s.path == f"{county.path}{s.code}/" and s.name_en for s in stations)


def test_demo_accounts_hold_their_roles():
    seed("--no-demo")

    def held(username: str) -> set[tuple[str, str]]:
        return set(Membership.objects.filter(user__username=username).values_list("role", "unit__code"))

    assert held("supervisor") == {(Role.SUPERVISOR, "330100")}
    assert held("county_supervisor") == {(Role.SUPERVISOR, "330106")}
    assert held("supervisor_hubei") == {(Role.SUPERVISOR, "420000")}
    assert held("province_supervisor") == {(Role.SUPERVISOR, "330000")}
    assert held("admin") == {(Role.ADMIN, "330000")}
    officer_unit = Membership.objects.get(user__username="officer").unit
    assert officer_unit.level == OrgLevel.STATION
    assert officer_unit.parent.code == "330106"


def test_demo_admin_is_staff_but_not_superuser_and_in_the_group():
    seed("--no-demo")

    admin = User.objects.get(username="admin")
    assert admin.is_staff
    assert not admin.is_superuser
    assert admin.groups.filter(name=ADMIN_GROUP).exists()
    assert admin.has_perm("cases.view_case")
    assert admin.has_perm("cases.view_caseevent")
    assert admin.has_perm("accounts.view_orgunit")
    assert admin.has_perm("accounts.change_user")
    assert admin.has_perm("accounts.add_membership")
    assert admin.has_perm("cases.change_stagelimit")
    assert not admin.has_perm("cases.change_case")
    assert not admin.has_perm("cases.delete_case")
    assert not admin.has_perm("accounts.delete_user")


def test_demo_cases_cover_every_status_and_the_handling_features():
    seed()

    cases = demo_cases()
    assert 30 <= len(cases) <= 40
    assert {c.status for c in cases} == set(CaseStatus.values)
    ids = [c.pk for c in cases]
    referrals = Referral.objects.filter(case__in=ids)
    assert referrals.filter(target=ReferralTarget.INTERNAL_UNIT, to_unit__isnull=False).exists()
    assert referrals.filter(target=ReferralTarget.PROCURATORATE).exclude(body_name="").exists()
    kinds = {c.kind for c in cases}
    assert len(kinds) >= 8
    measures = {m.kind: m for m in SupportMeasure.objects.filter(case__in=ids)}
    assert {
        SupportKind.GREEN_CHANNEL,
        SupportKind.COMFORT_PAYMENT,
        SupportKind.PSYCH_INTERVENTION,
        SupportKind.CLARIFICATION_NOTICE,
    } <= set(measures)
    assert measures[SupportKind.COMFORT_PAYMENT].amount > 0
    assert any(c.paused_at is not None for c in cases)
    now = timezone.now()
    assert all(c.occurred_at is None or c.occurred_at <= now for c in cases)


@pytest.mark.usefixtures("fixed_now")
def test_synthetic_cases_are_added_with_gap_free_references_per_year():
    # Numbers already taken, by an earlier run and by the services, must be continued, not repeated or skipped.
    seed("--no-demo", "--cases", "100")
    officer = User.objects.get(username="officer")
    services.create_draft_case(by=officer, unit=Membership.objects.get(user=officer).unit)
    before = set(Case.objects.values_list("pk", flat=True))

    output = seed("--no-demo", "--cases", "300", "--batch-size", "64", "--seed", "7")

    new = Case.objects.exclude(pk__in=before)
    assert new.count() == 300
    assert "cases/s" in output
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references))
    by_year: dict[int, list[int]] = defaultdict(list)
    for reference in references:
        match = REFERENCE.fullmatch(reference)
        assert match, reference
        by_year[int(match[1])].append(int(match[2]))
    counters = dict(ReferenceCounter.objects.values_list("year", "last_number"))
    assert set(counters) == set(by_year)
    for year, numbers in by_year.items():
        assert sorted(numbers) == list(range(1, counters[year] + 1)), year
    assert len({c.created_at.year for c in new}) >= 5


@pytest.mark.usefixtures("fixed_now")
def test_synthetic_cases_are_consistent_with_the_workflow():
    seed("--no-demo", "--cases", "300", "--batch-size", "100")
    cases = {c.pk: c for c in Case.objects.select_related("unit", "filed_by")}
    assert len(cases) == 300
    now = timezone.now()

    officers = defaultdict(list)
    for case_id, injury in InvolvedOfficer.objects.values_list("case_id", "injury"):
        officers[case_id].append(injury)
    suspects = defaultdict(list)
    for suspect in Suspect.objects.all():
        suspects[suspect.case_id].append(suspect)
    events = defaultdict(list)
    for event in CaseEvent.objects.order_by("at", "id"):
        events[event.case_id].append(event)
    referred = set(Referral.objects.values_list("case_id", flat=True))
    reviewed = set(LookBackReview.objects.values_list("case_id", flat=True))

    for case in cases.values():
        assert case.unit_path == case.unit.path
        assert case.unit.level in (OrgLevel.STATION, OrgLevel.COUNTY)
        assert case.filed_by.username.startswith("officer-")
        assert not case.filed_by.has_usable_password()
        assert case.occurred_at <= case.created_at <= case.last_activity_at <= now
        assert now - case.created_at <= timedelta(days=5 * 365 + 1)
        assert officers[case.pk], case
        assert (case.status in OPEN_STATUSES) == (case.stage_due_at is not None), case
        assert (case.status == CaseStatus.CLOSED) == (case.closed_at is not None), case
        assert case.version >= len(events[case.pk])

        # The timeline starts with the filing and every status change is a legal transition.
        timeline = events[case.pk]
        assert timeline[0].kind == EventKind.CREATED
        assert timeline[0].to_status == CaseStatus.DRAFT
        status = CaseStatus.DRAFT
        for event in timeline:
            if event.kind == EventKind.TRANSITION:
                transition = TRANSITIONS[event.action]
                assert event.from_status == status, case
                assert status in transition.sources, case
                assert event.to_status == transition.target, case
                status = event.to_status
        assert status == case.status, case
        assert timeline[-1].at == case.last_activity_at

        # Timestamps, referral, track and look-back rows exist exactly when the workflow sets or creates them.
        assert any(e.action == "submit" for e in timeline) == (case.submitted_at is not None), case
        past_intake = any(e.action == "refer" for e in timeline)
        assert past_intake == (case.pk in referred) == bool(case.track), case
        assert any(e.action == "conclude" for e in timeline) == (case.pk in reviewed), case

        # The read model matches the rows.
        injury_ranks = [INJURY_RANK[i] for i in officers[case.pk] if i in INJURY_RANK]
        assert case.max_injury_rank == (max(injury_ranks) if injury_ranks else None), case
        disposition_ranks = [
            DISPOSITION_RANK[s.disposition] for s in suspects[case.pk] if s.disposition in DISPOSITION_RANK
        ]
        assert case.disposition_rank == (max(disposition_ranks) if disposition_ranks else None), case

        # A lenient outcome says why it was reached, as the service asks; no other outcome has a reason.
        for s in suspects[case.pk]:
            assert (s.disposition in LENIENT_DISPOSITIONS) == bool(s.lenient_reason), (case, s.disposition)

        # Open cases have no decided outcome yet; concluded ones have one for each identified suspect, or a reason.
        identified = [s for s in suspects[case.pk] if s.status != SuspectStatus.UNIDENTIFIED]
        reopened = any(e.action == "reopen" for e in timeline)
        undecided = (
            CaseStatus.DRAFT,
            CaseStatus.INTAKE,
            CaseStatus.REFERRED,
            CaseStatus.REJECTED,
            CaseStatus.WITHDRAWN,
        )
        if case.status in undecided or (case.status == CaseStatus.SUPERVISION and not reopened):
            assert not any(s.disposition in FINAL_DISPOSITIONS for s in suspects[case.pk]), case
        if case.status in (CaseStatus.LOOK_BACK, CaseStatus.CLOSED):
            gaps = [s for s in identified if s.disposition not in FINAL_DISPOSITIONS]
            assert not gaps or case.conclusion_reason, case
            assert identified or case.conclusion_reason, case

    statuses = {c.status for c in cases.values()}
    assert {CaseStatus.CLOSED, CaseStatus.SUPERVISION} <= statuses


@pytest.mark.usefixtures("fixed_now")
def test_old_synthetic_cases_are_mostly_closed_and_open_ones_recent():
    seed("--no-demo", "--cases", "300")
    year_ago = timezone.now() - timedelta(days=365)
    old = Case.objects.filter(created_at__lt=year_ago)
    recent_open = Case.objects.filter(status__in=OPEN_STATUSES, created_at__gte=year_ago).count()

    assert old.filter(status=CaseStatus.CLOSED).count() > 0.8 * old.count()
    assert recent_open > old.filter(status__in=OPEN_STATUSES).count()


def test_a_negative_case_count_is_refused():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--cases", "-1", stdout=StringIO())


def test_demo_lenient_outcomes_say_why_and_the_transfer_after_non_prosecution_is_shown():
    seed()
    flagging.flag_cases()
    suspects = Suspect.objects.filter(case__in=[c.pk for c in demo_cases()])
    lenient = suspects.filter(disposition__in=LENIENT_DISPOSITIONS)
    assert lenient.count() == 10
    assert not lenient.filter(lenient_reason="").exists()
    assert not suspects.exclude(disposition__in=LENIENT_DISPOSITIONS).exclude(lenient_reason="").exists()

    transferred = Suspect.objects.get(name="何某", transfers__isnull=False)
    assert (transferred.disposition, transferred.case.status) == (
        Disposition.ADMIN_DETENTION_6_10,
        CaseStatus.LOOK_BACK,
    )
    rule_flags = Flag.objects.filter(kind__in=RULE_FLAG_KINDS, resolved_at__isnull=True)
    assert not rule_flags.filter(case=transferred.case).exists()

    drunk = Suspect.objects.get(name="邵某")
    # Drunkenness cited as the reason: R13's review prompt (a reason to look, not an outcome below a minimum).
    assert list(rule_flags.filter(case=drunk.case).values_list("kind", "rule_code")) == [
        (FlagKind.REVIEW_PROMPT, "R13")
    ]


@pytest.mark.usefixtures("fixed_now")
def test_a_seeding_that_fails_midway_leaves_the_report_summaries_in_step_with_what_it_wrote(monkeypatch):
    """The synthetic cases are written around the services, a batch per transaction: when a later batch fails, the
    batches already committed are in the cases, so they are in the report summaries too."""
    write = Writer.write
    batches: list[int] = []

    def fail_on_the_third(self, bundles):
        batches.append(len(bundles))
        if len(batches) == 3:
            raise RuntimeError("the database went away")
        write(self, bundles)

    monkeypatch.setattr(Writer, "write", fail_on_the_third)
    with pytest.raises(RuntimeError, match="went away"):
        seed("--no-demo", "--cases", "300", "--batch-size", "100")
    assert Case.objects.count() == 200
    assert summaries.reconcile().mismatches == []
    submitted = Case.objects.exclude(status=CaseStatus.DRAFT).exclude(submitted_at=None).count()
    assert sum(n for key, n in summaries.stored_rows().items() if key[:1] == ("cases",) and key[3] == "status") == (
        submitted
    )


# --- Bulk seeding by worker processes (PostgreSQL) -----------------------------------------------------------------

SEEDED_TABLES = (
    Case,
    InvolvedOfficer,
    Suspect,
    Referral,
    SupervisionFinding,
    LookBackReview,
    SupportMeasure,
    CaseEvent,
)


def seeded_fingerprint() -> dict[str, object]:
    """What a seed wrote, without the ids (which depend on which worker reserved them first)."""
    digest = hashlib.sha256()
    columns = ("reference", "status", "kind", "unit_path", "created_at", "closed_at", "party_names", "narrative")
    for row in Case.objects.order_by("reference").values_list(*columns, "version"):
        digest.update(repr(row).encode())
    children = (
        ("officers__name", "officers__injury"),
        ("suspects__name", "suspects__disposition"),
        ("events__kind", "events__at"),
        ("referrals__referred_at", "referrals__external_reference"),
    )
    for fields in children:
        for row in Case.objects.order_by("reference", *fields).values_list("reference", *fields):
            digest.update(repr(row).encode())
    return {
        "rows": {model.__name__: model.objects.count() for model in SEEDED_TABLES},
        "statuses": dict(Case.objects.values_list("status").annotate(n=Count("id")).order_by("status")),
        "references": hashlib.sha256(
            "\n".join(Case.objects.order_by("reference").values_list("reference", flat=True)).encode()
        ).hexdigest(),
        "content": digest.hexdigest(),
    }


def forget_synthetic_cases() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Case._meta.db_table}, {ReferenceCounter._meta.db_table} RESTART IDENTITY CASCADE")


@pytest.mark.django_db(transaction=True)
def test_two_workers_write_what_one_writes_and_the_ledger_reconciles(postgres_only, fixed_now, tmp_path, monkeypatch):
    seed("--no-demo")
    write = Writer.write

    def write_noting_the_process(self, bundles):
        (tmp_path / str(os.getpid())).touch()
        write(self, bundles)

    monkeypatch.setattr(Writer, "write", write_noting_the_process)
    found = {}
    for workers in (1, 2):
        forget_synthetic_cases()
        output = seed("--no-demo", "--cases", "400", "--batch-size", "50", "--seed", "11", "--workers", str(workers))
        assert "Added 400 synthetic cases" in output
        found[workers] = seeded_fingerprint()
        writers = {int(p.name) for p in tmp_path.iterdir()}
        for p in tmp_path.iterdir():
            p.unlink()
        # One worker writes on this process's connection; two are two other processes.
        if workers == 1:
            assert writers == {os.getpid()}
        else:
            assert len(writers) == 2
            assert os.getpid() not in writers
        result = json.loads(call_command_output("reconcile", "--no-notifications"))
        assert (result["problems"], result["ok"], result["cases"]) == ([], True, 400)

    assert found[2] == found[1]
    assert found[1]["rows"]["Case"] == 400
    assert sum(found[1]["statuses"].values()) == 400
    assert {CaseStatus.CLOSED, CaseStatus.SUPERVISION} <= set(found[1]["statuses"])


def call_command_output(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()
