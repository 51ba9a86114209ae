"""Downgrades apart from review prompts: each rule finding is raised under the flag kind of its severity, and every
place that says or counts "downgraded" (read model, queue, API, reports, case page, notifications) counts only
downgrades, with review prompts beside them.

Cases are built from facts through the services; the flag scan decides what they carry.
"""

import csv
import importlib
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation

from accounts.selectors import actor_for
from cases import flagging, services
from cases.choices import (
    LENIENT_DISPOSITIONS,
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    IncidentKind,
    InjuryGrade,
)
from cases.models import Case, CaseEvent, Flag, Notification
from cases.queue_filters import QueueFilters, queue_page
from cases.reports.detail import stream_detail_csv
from cases.reports.layout import report_tables
from cases.reports.yearly import case_summary, yearly_report
from cases.rules.presentation import describe_flag
from tests.api.conftest import token_client
from tests.factories import case_in

SH = ZoneInfo("Asia/Shanghai")
# Incidents in 2025, after the 2025 Interpretation and before the revised administration law: R1 and R4 are
# verified minimums (downgrades), R7 rests partly on an inference (a review prompt).
OCCURRED = datetime(2025, 6, 1, 10, 0, tzinfo=SH)


def record(world, suspect, disposition: str, **extra: str) -> None:
    """Record a disposition; a lenient one with its reason (the victim forgave, or the evidence fell short)."""
    if disposition in LENIENT_DISPOSITIONS:
        extra.setdefault(
            "lenient_reason", "insufficient_evidence" if disposition == Disposition.NO_ACTION else "forgiveness"
        )
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=disposition, **extra)


def attack(world, disposition: str, *, injury: str = InjuryGrade.SLIGHT) -> Case:
    """A violent attack on the officer on duty, with one suspect whose final disposition is ``disposition``."""
    case = case_in(world, CaseStatus.SUPERVISION, kind=IncidentKind.VIOLENT_ATTACK, occurred_at=OCCURRED)
    services.update_involved_officer(officer=case.officers.get(), by=world.supervisor, injury=injury)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    record(world, suspect, disposition)
    return case


def obstruction_left_alone(world) -> Case:
    """Obstruction of the officer on duty, and no action taken: only R7 applies, and R7 is a review prompt."""
    case = case_in(world, CaseStatus.SUPERVISION, kind=IncidentKind.OBSTRUCTION, occurred_at=OCCURRED)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="李某")
    record(world, suspect, Disposition.NO_ACTION)
    return case


def open_flags(case: Case) -> list[tuple[str, str]]:
    return sorted(Flag.objects.filter(case=case, resolved_at__isnull=True).values_list("kind", "rule_code"), key=str)


def read_model(case: Case) -> tuple[bool, bool]:
    case = Case.objects.get(pk=case.pk)
    return case.is_downgraded, case.has_review_prompt


def queue_refs(world, *flags: str) -> set[str]:
    page = queue_page(actor_for(world.supervisor), QueueFilters(flags=flags))
    return {c.reference for c in page.cases}


def api_refs(world, query: str) -> set[str]:
    response = token_client(world.supervisor).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 200
    return {c["reference"] for c in response.json()["results"]}


def test_a_prompt_only_finding_raises_a_review_prompt_and_is_never_counted_as_downgraded(world):
    prompt = obstruction_left_alone(world)
    downgrade = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()

    assert open_flags(prompt) == [(FlagKind.REVIEW_PROMPT, "R7")]
    flag = Flag.objects.get(case=prompt)
    assert (flag.detail["severity"], flag.detail["version"], flag.detail["problems"]) == (
        "prompt",
        "2025-01-18",
        ["below_minimum"],
    )
    assert read_model(prompt) == (False, True)
    assert open_flags(downgrade) == [(FlagKind.DOWNGRADED, "R1")]
    assert read_model(downgrade) == (True, False)

    # The queue's filters and badges.
    assert queue_refs(world, FlagKind.DOWNGRADED) == {downgrade.reference}
    assert queue_refs(world, FlagKind.REVIEW_PROMPT) == {prompt.reference}
    assert queue_refs(world, FlagKind.DOWNGRADED, FlagKind.REVIEW_PROMPT) == {downgrade.reference, prompt.reference}
    # The API's case list: its filter, and each case's open flags.
    assert api_refs(world, "flag=downgraded") == {downgrade.reference}
    assert api_refs(world, "flag=review_prompt") == {prompt.reference}
    listed = token_client(world.supervisor).get("/api/v1/cases/?flag=downgraded&flag=review_prompt").json()
    assert {c["reference"]: c["open_flags"] for c in listed["results"]} == {
        downgrade.reference: ["downgraded"],
        prompt.reference: ["review_prompt"],
    }
    # The API's flag list filters by kind too.
    flags = token_client(world.supervisor).get("/api/v1/flags/?kind=review_prompt").json()["results"]
    assert [(f["case"]["reference"], f["kind"], f["rule_code"]) for f in flags] == [
        (prompt.reference, "review_prompt", "R7")
    ]


def test_the_reports_count_a_review_prompt_apart_from_the_downgrades(world):
    prompt = obstruction_left_alone(world)
    downgrade = attack(world, Disposition.ADMIN_FINE)
    second_prompt = obstruction_left_alone(world)
    flagging.flag_cases()
    # The second prompt is settled: a warning is an administrative punishment, the minimum R7 asks for.
    record(world, second_prompt.suspects.get(), Disposition.ADMIN_WARNING)
    flagging.flag_cases()
    assert Flag.objects.filter(case=second_prompt, kind=FlagKind.REVIEW_PROMPT, resolved_at__isnull=False).count() == 1
    year = timezone.localtime(timezone.now(), SH).year

    report = yearly_report(unit=world.city, year=year)
    counts = {f.kind: (f.raised.current, f.resolved.current, f.still_open.current) for f in report.flags}
    assert counts[FlagKind.DOWNGRADED] == (1, 0, 1)
    assert counts[FlagKind.REVIEW_PROMPT] == (2, 1, 1)
    with translation.override("en"):
        tables = {t.key: {r.label: r.current for r in t.rows} for t in report_tables(report)}
    assert tables["overview"]["Downgraded flags raised"] == 1
    assert tables["overview"]["Review prompts raised"] == 2
    assert tables["overview"]["Review prompts resolved in the year"] == 1
    assert tables["flags"]["Downgraded: raised"] == 1
    assert tables["flags"]["Review prompt: still open"] == 1

    # The API's yearly summary says the same.
    summary = case_summary(units=[world.city], year=year)
    assert (summary.flags_raised[FlagKind.DOWNGRADED], summary.flags_resolved[FlagKind.DOWNGRADED]) == (1, 0)
    assert (summary.flags_raised[FlagKind.REVIEW_PROMPT], summary.flags_resolved[FlagKind.REVIEW_PROMPT]) == (2, 1)
    body = token_client(world.supervisor).get(f"/api/v1/reports/yearly/?year={year}&unit={world.city.pk}").json()
    assert {f["kind"]: (f["raised"], f["resolved"]) for f in body["flags"]} == {
        "stalled": (0, 0),
        "overdue_referral": (0, 0),
        "downgraded": (1, 0),
        "idle": (0, 0),
        "review_prompt": (2, 1),
    }

    # The detail export: "Downgraded" is the downgrades alone, the review prompts have their own column.
    with translation.override("en"):
        data = b"".join(stream_detail_csv(unit=world.city, year=year)).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    header = rows[0]
    by_ref = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert {ref: (r["Downgraded"], r["Review prompt"]) for ref, r in by_ref.items()} == {
        prompt.reference: ("0", "1"),
        downgrade.reference: ("1", "0"),
        second_prompt.reference: ("0", "0"),
    }


def test_a_finding_that_changes_severity_resolves_one_flag_and_raises_the_other(
    world, django_capture_on_commit_callbacks
):
    # A minor injury: R1 and R4 expect a criminal case; a fine is below that verified minimum (two downgrades). The
    # minor injury also makes the attack aggravated (R6), a rule resting partly on guidance: a review prompt.
    with django_capture_on_commit_callbacks(execute=True):
        case = attack(world, Disposition.ADMIN_FINE, injury=InjuryGrade.MINOR_2)
    assert open_flags(case) == [
        (FlagKind.DOWNGRADED, "R1"),
        (FlagKind.DOWNGRADED, "R4"),
        (FlagKind.REVIEW_PROMPT, "R6"),
    ]
    assert read_model(case) == (True, True)
    downgraded_r4 = Flag.objects.get(case=case, rule_code="R4")

    # Convicted of obstructing official duty: high enough for R1 and R6, but R4 calls it too light a charge (a wrong
    # label, so only a review prompt). R4's downgrade is resolved and R4 comes back as a review prompt.
    with django_capture_on_commit_callbacks(execute=True):
        services.record_disposition(
            suspect=case.suspects.get(), by=world.supervisor, disposition=Disposition.CONVICTED_277_1
        )
    assert open_flags(case) == [(FlagKind.REVIEW_PROMPT, "R4")]
    assert read_model(case) == (False, True)
    downgraded_r4.refresh_from_db()
    assert downgraded_r4.resolved_at is not None
    prompt = Flag.objects.get(case=case, kind=FlagKind.REVIEW_PROMPT, resolved_at__isnull=True)
    assert (prompt.rule_code, prompt.detail["severity"], prompt.detail["problems"]) == (
        "R4",
        "prompt",
        ["wrong_charge"],
    )

    def events(kind: str) -> list[tuple[str, str]]:
        return sorted(CaseEvent.objects.filter(case=case, kind=kind).values_list("data__kind", "data__rule"), key=str)

    assert events(EventKind.FLAG_RAISED) == [
        ("downgraded", "R1"),
        ("downgraded", "R4"),
        ("review_prompt", "R4"),
        ("review_prompt", "R6"),
    ]
    assert events(EventKind.FLAG_RESOLVED) == [("downgraded", "R1"), ("downgraded", "R4"), ("review_prompt", "R6")]
    # The notifications say which each one is.
    raised = Notification.objects.filter(case=case, event__kind=EventKind.FLAG_RAISED)
    verbs = sorted(set(raised.values_list("verb", flat=True)))
    review = " — review the case."
    before_conclusion = " — review the disposition before the case concludes."
    assert verbs == [
        f"The flag scan found that {case.reference} may have been handled below the minimum the law calls for: "
        f"Officer on duty suffered a minor injury (rule R4){before_conclusion}",
        f"The flag scan found that {case.reference} may have been handled below the minimum the law calls for: "
        f"Violent attack on an officer on duty (rule R1){before_conclusion}",
        f"The flag scan raised a review prompt on {case.reference}: Aggravated attack on police (rule R6){review}",
        f"The flag scan raised a review prompt on {case.reference}: Officer on duty suffered a minor injury "
        f"(rule R4){review}",
    ]

    # Back to a fine (on appeal, with its reason): R4's prompt is resolved and its downgrade raised again, beside R1's
    # and R6's prompt.
    record(world, case.suspects.get(), Disposition.ADMIN_FINE, lowered_reason="Conviction quashed on appeal")
    flagging.flag_cases()
    assert open_flags(case) == [
        (FlagKind.DOWNGRADED, "R1"),
        (FlagKind.DOWNGRADED, "R4"),
        (FlagKind.REVIEW_PROMPT, "R6"),
    ]
    assert read_model(case) == (True, True)
    prompt.refresh_from_db()
    assert prompt.resolved_at is not None


def test_a_flag_says_which_it_is_and_why(world):
    downgrade = attack(world, Disposition.ADMIN_FINE)
    unverified = obstruction_left_alone(world)
    wrong_label = attack(world, Disposition.CONVICTED_277_1, injury=InjuryGrade.MINOR_2)
    flagging.flag_cases()
    with translation.override("en"):
        views = {
            case.pk: [(v.kind, v.rule_code, v.headline, v.catalogue_anchor) for v in map(describe_flag, flags)]
            for case in (downgrade, unverified, wrong_label)
            if (flags := Flag.objects.filter(case=case, resolved_at__isnull=True).order_by("rule_code"))
        }
    assert views == {
        downgrade.pk: [
            (
                "downgraded",
                "R1",
                "Downgraded: below the minimum verified law calls for",
                "rule-R1-2025-01-18",
            )
        ],
        unverified.pk: [
            (
                "review_prompt",
                "R7",
                "Review prompt: the rule rests on material not verified from the official text",
                "rule-R7-2025-01-18",
            )
        ],
        wrong_label.pk: [
            (
                "review_prompt",
                "R4",
                "Review prompt: the outcome is high enough, but under a lighter offence than the facts call for",
                "rule-R4-2025-01-18",
            )
        ],
    }


def test_the_case_page_and_the_queue_show_which_it_is(client, world):
    downgrade = attack(world, Disposition.ADMIN_FINE)
    prompt = obstruction_left_alone(world)
    flagging.flag_cases()
    client.force_login(world.supervisor)

    page = client.get(reverse("cases:detail", args=[prompt.pk])).content.decode()
    assert "<strong>Review prompt: the rule rests on material not verified from the official text</strong>" in page
    assert "Downgraded: below the minimum" not in page
    assert f'href="{reverse("cases:rules")}#rule-R7-2025-01-18"' in page
    page = client.get(reverse("cases:detail", args=[downgrade.pk])).content.decode()
    assert "<strong>Downgraded: below the minimum verified law calls for</strong>" in page
    assert f'href="{reverse("cases:rules")}#rule-R1-2025-01-18"' in page

    queue = client.get(reverse("cases:queue"), {"flag": "review_prompt"}).content.decode()
    assert prompt.reference in queue
    assert downgrade.reference not in queue
    assert '<span class="badge text-bg-info">Review prompt</span>' in queue
    assert '<span class="badge text-bg-danger">Downgraded</span>' not in queue
    queue = client.get(reverse("cases:queue"), {"flag": "downgraded"}).content.decode()
    assert (downgrade.reference in queue, prompt.reference in queue) == (True, False)
    assert '<span class="badge text-bg-danger">Downgraded</span>' in queue
    # The filter offers both kinds, each under its own name.
    assert 'value="review_prompt"' in queue
    assert 'value="downgraded"' in queue


def test_the_timeline_names_the_kind_of_flag(world):
    from cases.templatetags.rg import event_text

    prompt = obstruction_left_alone(world)
    flagging.flag_cases()
    raised = CaseEvent.objects.get(case=prompt, kind=EventKind.FLAG_RAISED)
    with translation.override("en"):
        assert event_text(raised) == (
            "Flag raised (Review prompt): R7 Violence or threats obstructing an officer, below a violent attack"
        )


# --- the upgrade: open flags raised as DOWNGRADED before the two kinds existed ---------------------------------------

MIGRATION = importlib.import_module("cases.migrations.0016_review_prompt_flags")


def as_raised_before(case: Case) -> None:
    """Put the case back as the scan left it before review prompts: every open finding a DOWNGRADED flag (without a
    severity in its detail), the read model saying downgraded, and the case evaluated."""
    for flag in Flag.objects.filter(case=case, resolved_at__isnull=True):
        detail = {k: v for k, v in flag.detail.items() if k != "severity"}
        Flag.objects.filter(pk=flag.pk).update(kind=FlagKind.DOWNGRADED, detail=detail)
    Case.objects.filter(pk=case.pk).update(is_downgraded=True, has_review_prompt=False)


@pytest.mark.parametrize("rescan", [False, True])
def test_the_upgrade_moves_open_prompts_to_review_prompts_and_the_next_scan_agrees(world, rescan):
    prompt = obstruction_left_alone(world)
    downgrade = attack(world, Disposition.ADMIN_FINE)
    wrong_label = attack(world, Disposition.CONVICTED_277_1, injury=InjuryGrade.MINOR_2)
    flagging.flag_cases()
    for case in (prompt, downgrade, wrong_label):
        as_raised_before(case)
    acknowledged = Flag.objects.get(case=prompt)
    services.acknowledge_flag(flag=acknowledged, by=world.supervisor)
    before = {f.pk: (f.raised_at, f.acknowledged_at) for f in Flag.objects.all()}
    events, notes = CaseEvent.objects.count(), Notification.objects.count()
    assert Case.objects.filter(is_downgraded=True).count() == 3

    MIGRATION.move_prompts(apps, None)

    assert open_flags(prompt) == [(FlagKind.REVIEW_PROMPT, "R7")]
    assert open_flags(wrong_label) == [(FlagKind.REVIEW_PROMPT, "R4")]
    assert open_flags(downgrade) == [(FlagKind.DOWNGRADED, "R1")]
    assert [read_model(c) for c in (prompt, wrong_label, downgrade)] == [(False, True), (False, True), (True, False)]
    # Moved in place: the same flags, raised and acknowledged when they were, nobody told again.
    assert {f.pk: (f.raised_at, f.acknowledged_at) for f in Flag.objects.all()} == before
    assert (CaseEvent.objects.count(), Notification.objects.count()) == (events, notes)
    # The cases moved are left for the next scan, which refreshes their flags' detail and changes nothing else.
    assert set(flagging.scan.unchecked_cases().values_list("pk", flat=True)) == {prompt.pk, wrong_label.pk}
    if rescan:
        result = flagging.flag_cases()
        assert (result.raised, result.resolved, result.notifications) == (0, 0, 0)
        assert Flag.objects.get(case=prompt).detail["severity"] == "prompt"
        assert not flagging.scan.unchecked_cases().exists()
        assert {f.pk: (f.raised_at, f.acknowledged_at) for f in Flag.objects.all()} == before


def test_going_back_turns_review_prompts_into_downgraded_flags(world):
    prompt = obstruction_left_alone(world)
    flagging.flag_cases()
    assert open_flags(prompt) == [(FlagKind.REVIEW_PROMPT, "R7")]
    MIGRATION.move_back(apps, None)
    assert open_flags(prompt) == [(FlagKind.DOWNGRADED, "R7")]
    assert read_model(prompt) == (True, False)
