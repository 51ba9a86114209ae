"""Concluding and closing a case: open downgraded flags need an override each, and a case without an identified suspect
needs a structured reason. The same service answers the page, the API and direct calls; a refusal changes nothing."""

import csv
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from accounts.selectors import actor_for
from cases import policy, services
from cases.choices import (
    LENIENT_DISPOSITIONS,
    CaseStatus,
    Disposition,
    EventKind,
    FlagKind,
    FlagResolution,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    NoSuspectReason,
    OverrideReason,
    SupportKind,
)
from cases.flagging import check_case_flags, flag_cases
from cases.models import Case, CaseEvent, Flag, FlagOverride, InvolvedOfficer, LookBackReview, ReportFormat
from cases.reports.services import render_export
from cases.reports.yearly import case_summary, yearly_report
from tests.api.conftest import token_client
from tests.factories import case_in

S = CaseStatus
ATTACKED_ON = datetime(2025, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
R1_TITLE = "Violent attack on an officer on duty"
R2_TITLE = "Attack on a police vehicle or equipment endangering safety"
HOSTILE = '<script>alert("x")</script>'
HOSTILE_BASIS = "<img src=x onerror=alert(1)>"


# --- building the cases -----------------------------------------------------------------------------------------


def rammed(world, status: str = S.SUPERVISION, **details) -> Case:
    """A car driven at the filer, on duty, on 2025-03-01: a slight injury, safety endangered, not able to kill (R1
    and R2 apply)."""
    facts = {
        "kind": IncidentKind.VEHICLE_RAMMING,
        "occurred_at": ATTACKED_ON,
        "endangered_safety": True,
        "could_cause_serious_harm": False,
    }
    case = case_in(world, status, **{**facts, **details})
    officer = InvolvedOfficer.objects.get(case=case)
    services.update_involved_officer(officer=officer, by=world.supervisor, injury=InjuryGrade.SLIGHT)
    return Case.objects.get(pk=case.pk)


def kicked(world, status: str = S.SUPERVISION) -> Case:
    """The filer kicked, on duty, on 2025-03-01: a slight injury (R1 applies)."""
    return rammed(
        world, status, kind=IncidentKind.VIOLENT_ATTACK, endangered_safety=None, could_cause_serious_harm=None
    )


def dispose(world, suspect, disposition: str) -> None:
    """Record a disposition, with the reason a lenient one needs (not one the rules object to)."""
    lenient = {"lenient_reason": LenientReason.MINOR_CIRCUMSTANCES} if disposition in LENIENT_DISPOSITIONS else {}
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=disposition, **lenient)


def fined(world, case: Case, disposition: str = Disposition.ADMIN_FINE):
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    dispose(world, suspect, disposition)
    return suspect


def open_flags(case: Case) -> list[Flag]:
    return list(Flag.objects.filter(case=case, resolved_at__isnull=True).order_by("rule_code"))


def two_downgrades(world) -> tuple[Case, Flag, Flag]:
    """In supervision, fined although the facts call for a criminal case: R1 and R2 open, both downgrades."""
    case = rammed(world)
    fined(world, case)
    check_case_flags(case_id=case.pk)
    r1, r2 = open_flags(case)
    assert [(f.kind, f.rule_code, f.detail["severity"]) for f in (r1, r2)] == [
        (FlagKind.DOWNGRADED, "R1", "downgrade"),
        (FlagKind.DOWNGRADED, "R2", "downgrade"),
    ]
    return Case.objects.get(pk=case.pk), r1, r2


def in_look_back_with_two_downgrades(world) -> tuple[Case, Flag, Flag]:
    """Concluded before the flags were raised (the check after the conclusion raises them)."""
    case = rammed(world)
    fined(world, case)
    case = services.conclude_case(case=Case.objects.get(pk=case.pk), by=world.supervisor, expected_version=None)
    check_case_flags(case_id=case.pk)
    r1, r2 = open_flags(case)
    assert (r1.rule_code, r2.rule_code) == ("R1", "R2")
    return Case.objects.get(pk=case.pk), r1, r2


def override(flag: Flag, text: str = "行为人系限制刑事责任能力人，已依法处理", **kwargs) -> dict:
    return {"flag": flag.pk, "reason": OverrideReason.AUTHORITY_DECIDED, "text": text, **kwargs}


def state(case: Case) -> tuple:
    """Everything a refused conclusion or closure must leave as it was."""
    c = Case.objects.get(pk=case.pk)
    return (
        c.status,
        c.version,
        c.is_downgraded,
        c.no_suspect_reason,
        c.conclusion_reason,
        sorted(Flag.objects.filter(case=c).values_list("pk", "resolved_at", "resolution")),
        CaseEvent.objects.filter(case=c).count(),
        FlagOverride.objects.count(),
        LookBackReview.objects.filter(case=c).count(),
    )


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as excinfo:
        call()
    return excinfo.value.message_dict


def missing(flag: Flag, title: str) -> str:
    return (
        f"flag {flag.pk}, {flag.rule_code} “{title}” is open and finds the handling below what the law calls for: "
        "give a reason to override it."
    )


# --- the service ----------------------------------------------------------------------------------------------------


def test_concluding_with_two_open_downgraded_flags_and_no_override_is_refused(world):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    errors = refusal(lambda: services.conclude_case(case=case, by=world.supervisor, expected_version=case.version))
    assert errors == {"overrides": [missing(r1, R1_TITLE), missing(r2, R2_TITLE)]}
    assert state(case) == before


def test_an_override_for_only_one_flag_is_refused_naming_the_other(world):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    errors = refusal(
        lambda: services.conclude_case(
            case=case, by=world.supervisor, expected_version=case.version, overrides=[override(r1)]
        )
    )
    assert errors == {"overrides": [missing(r2, R2_TITLE)]}
    assert state(case) == before


def test_overriding_both_concludes_and_resolves_them_as_overridden_on_the_timeline(world):
    case, r1, r2 = two_downgrades(world)
    assert case.is_downgraded is True
    case = services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        overrides=[
            override(r1, reason=OverrideReason.LAWFUL_REASON, text="未满十六周岁", basis="刑法第十七条"),
            override(r2, reason=OverrideReason.FACTS_INCOMPLETE, text="醉酒情节经复核不成立，见办案卷宗"),
        ],
    )
    assert (case.status, case.is_downgraded) == (S.LOOK_BACK, False)
    assert Case.objects.get(pk=case.pk).is_downgraded is False
    transition = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION, action="conclude")
    for flag in (r1, r2):
        flag.refresh_from_db()
        assert (flag.resolution, flag.resolved_at) == (FlagResolution.OVERRIDDEN, transition.at)
    assert [
        (o.flag_id, o.action, o.reason, o.explanation, o.legal_basis, o.by, o.at)
        for o in FlagOverride.objects.order_by("flag__rule_code")
    ] == [
        (
            r1.pk,
            "conclude",
            OverrideReason.LAWFUL_REASON,
            "未满十六周岁",
            "刑法第十七条",
            world.supervisor,
            transition.at,
        ),
        (
            r2.pk,
            "conclude",
            OverrideReason.FACTS_INCOMPLETE,
            "醉酒情节经复核不成立，见办案卷宗",
            "",
            world.supervisor,
            transition.at,
        ),
    ]
    events = CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_OVERRIDDEN).order_by("id")
    assert [(e.actor, e.at, e.data) for e in events] == [
        (
            world.supervisor,
            transition.at,
            {
                "flag": r1.pk,
                "kind": FlagKind.DOWNGRADED,
                "rule": "R1",
                "version": "2025-01-18",
                "problems": ["below_minimum"],
                "reason": OverrideReason.LAWFUL_REASON,
                "text": "未满十六周岁",
                "basis": "刑法第十七条",
                "action": "conclude",
            },
        ),
        (
            world.supervisor,
            transition.at,
            {
                "flag": r2.pk,
                "kind": FlagKind.DOWNGRADED,
                "rule": "R2",
                "version": "2025-01-18",
                "problems": ["below_minimum"],
                "reason": OverrideReason.FACTS_INCOMPLETE,
                "text": "醉酒情节经复核不成立，见办案卷宗",
                "basis": "",
                "action": "conclude",
            },
        ),
    ]
    # The yearly report and the API's summary count both, in the year of the override.
    year = timezone.localdate().year
    report = yearly_report(unit=world.city, year=year)
    assert (report.overrides.downgraded.current, report.overrides.downgraded.previous) == (2, 0)
    assert {i.code: i.current for i in report.overrides.by_reason} == {
        OverrideReason.FACTS_INCOMPLETE: 1,
        OverrideReason.LAWFUL_REASON: 1,
        OverrideReason.AUTHORITY_DECIDED: 0,
        OverrideReason.OTHER: 0,
    }
    assert case_summary(units=[world.city], year=year).downgraded_overridden == 2
    assert case_summary(units=[world.sibling_province], year=year).downgraded_overridden == 0
    assert yearly_report(unit=world.city, year=year - 1).overrides.downgraded.current == 0


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"reason": "", "text": "x"}, "Choose why the finding does not stand."),
        ({"reason": OverrideReason.OTHER, "text": "   "}, "Explain why the finding does not stand."),
        ({"reason": OverrideReason.LAWFUL_REASON, "text": "x"}, "Give the legal basis of the lawful reason."),
    ],
)
def test_an_override_must_say_why_and_on_which_basis(world, item, message):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    errors = refusal(
        lambda: services.conclude_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            overrides=[{"flag": r1.pk, **item}, override(r2)],
        )
    )
    assert errors == {"overrides": [f"flag {r1.pk}, R1 “{R1_TITLE}”: {message}"]}
    assert state(case) == before


def test_an_override_must_name_an_open_rule_flag_of_the_case_once(world):
    case, r1, r2 = two_downgrades(world)
    stalled = Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="STALLED", raised_at=timezone.now())
    other, *_ = two_downgrades(world)
    elsewhere = open_flags(other)[0]
    before = state(case)
    errors = refusal(
        lambda: services.conclude_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            overrides=[override(r1), override(r1), override(r2), override(stalled), override(elsewhere)],
        )
    )
    assert errors == {
        "overrides": [
            f"flag {r1.pk}, R1 “{R1_TITLE}” is overridden twice.",
            f"Flag {stalled.pk} is not an open rule flag of this case.",
            f"Flag {elsewhere.pk} is not an open rule flag of this case.",
        ]
    }
    assert state(case) == before


def test_closing_with_open_downgraded_flags_needs_an_override_each_ticked_checklist_or_not(world):
    case, r1, r2 = in_look_back_with_two_downgrades(world)
    checklist = {"officer_informed": True, "disposition_consistent": True}
    before = state(case)
    errors = refusal(
        lambda: services.close_case(case=case, by=world.supervisor, expected_version=case.version, **checklist)
    )
    assert errors == {"overrides": [missing(r1, R1_TITLE), missing(r2, R2_TITLE)]}
    errors = refusal(
        lambda: services.close_case(
            case=case, by=world.supervisor, expected_version=case.version, overrides=[override(r2)], **checklist
        )
    )
    assert errors == {"overrides": [missing(r1, R1_TITLE)]}
    assert state(case) == before

    case = services.close_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        overrides=[override(r1), override(r2, reason=OverrideReason.OTHER, text="检察院已作出决定并经复议")],
        **checklist,
    )
    assert (case.status, case.is_downgraded) == (S.CLOSED, False)
    assert open_flags(case) == []
    assert sorted(FlagOverride.objects.values_list("flag__rule_code", "action", "reason")) == [
        ("R1", "close", OverrideReason.AUTHORITY_DECIDED),
        ("R2", "close", OverrideReason.OTHER),
    ]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_OVERRIDDEN, data__action="close").count() == 2
    assert yearly_report(unit=world.city, year=timezone.localdate().year).overrides.downgraded.current == 2


def test_a_review_prompt_does_not_stop_closing_and_may_be_overridden(world):
    case = case_in(world, S.LOOK_BACK)
    Case.objects.filter(pk=case.pk).update(no_suspect_reason=NoSuspectReason.UNKNOWN_PURSUING)
    check_case_flags(case_id=case.pk)
    (prompt,) = open_flags(case)
    assert (prompt.rule_code, prompt.detail["severity"], prompt.detail["problems"]) == (
        "R28",
        "prompt",
        ["pursuit_open"],
    )
    case = Case.objects.get(pk=case.pk)
    closed = services.close_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        officer_informed=True,
        disposition_consistent=True,
        overrides=[override(prompt, reason=OverrideReason.OTHER, text="嫌疑人已死亡，经核实")],
    )
    prompt.refresh_from_db()
    assert (closed.status, prompt.resolution) == (S.CLOSED, FlagResolution.OVERRIDDEN)
    # Overriding a review prompt is not a downgrade overridden.
    assert yearly_report(unit=world.city, year=timezone.localdate().year).overrides.downgraded.current == 0


# --- the scans after an override ------------------------------------------------------------------------------------


def test_the_scan_keeps_an_overridden_finding_closed_until_the_finding_changes(world):
    case, r1, r2 = two_downgrades(world)
    case = services.conclude_case(
        case=case, by=world.supervisor, expected_version=case.version, overrides=[override(r1), override(r2)]
    )
    raised = CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_RAISED).count()

    check_case_flags(case_id=case.pk)
    flag_cases(full=True, notify=False)
    # A change that does not change the finding (a fact no rule here reads): still overridden.
    case = services.update_case_details(case=case, by=world.supervisor, expected_version=None, changes={"attackers": 1})
    check_case_flags(case_id=case.pk)
    assert open_flags(case) == []
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_RAISED).count() == raised
    assert Case.objects.get(pk=case.pk).is_downgraded is False

    # A new outcome changes both findings: new flags, the overridden ones stay as they were.
    suspect = case.suspects.get()
    dispose(world, suspect, Disposition.ADMIN_DETENTION_1_5)
    check_case_flags(case_id=case.pk)
    new_r1, new_r2 = open_flags(case)
    assert {new_r1.pk, new_r2.pk}.isdisjoint({r1.pk, r2.pk})
    assert (new_r1.rule_code, new_r1.detail["facts"]["outcome"]) == ("R1", Disposition.ADMIN_DETENTION_1_5)
    assert new_r2.rule_code == "R2"
    assert sorted(Flag.objects.filter(resolution=FlagResolution.OVERRIDDEN).values_list("pk", flat=True)) == sorted(
        [r1.pk, r2.pk]
    )
    assert CaseEvent.objects.filter(case=case, kind=EventKind.FLAG_RAISED).count() == raised + 2
    assert Case.objects.get(pk=case.pk).is_downgraded is True


def test_a_flag_the_facts_no_longer_call_for_is_resolved_as_cleared(world):
    case, r1, _r2 = two_downgrades(world)
    suspect = case.suspects.get()
    dispose(world, suspect, Disposition.CRIMINAL_FILED)
    check_case_flags(case_id=case.pk)
    r1.refresh_from_db()
    assert (r1.resolution, r1.resolved_at is not None) == (FlagResolution.CLEARED, True)
    assert open_flags(case) == []


# --- the page -------------------------------------------------------------------------------------------------------


def action_url(case: Case, action: str) -> str:
    return reverse("cases:action", args=[case.pk, action])


def page_fields(case: Case, action: str, data: dict) -> dict:
    return {f"{action}-{k}": v for k, v in data.items()}


def override_fields(flag: Flag, reason: str, text: str, basis: str = "") -> dict:
    return {f"override_{flag.pk}_reason": reason, f"override_{flag.pk}_text": text, f"override_{flag.pk}_basis": basis}


def test_the_page_lists_each_flag_to_override_beside_the_conclude_form(client, world):
    case, r1, r2 = two_downgrades(world)
    client.force_login(world.supervisor)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    form = page[page.index('id="action-conclude"') :]
    form = form[: form.index("</form>")]
    assert f"R1: {R1_TITLE}</legend>" in form
    assert f"R2: {R2_TITLE}</legend>" in form
    for flag in (r1, r2):
        assert f'name="conclude-override_{flag.pk}_reason"' in form
        assert f'name="conclude-override_{flag.pk}_text"' in form
        assert f'name="conclude-override_{flag.pk}_basis"' in form
    assert f'name="conclude-flags_shown" value="{r1.pk},{r2.pk}"' in form
    assert 'name="conclude-no_suspect_reason"' in form


def test_the_page_refuses_without_overrides_with_errors_next_to_each_field_and_keeps_the_input(client, world):
    case, r1, r2 = two_downgrades(world)
    client.force_login(world.supervisor)
    before = state(case)
    data = {
        "version": case.version,
        "flags_shown": f"{r1.pk},{r2.pk}",
        "reason": "两名嫌疑人均已处理",
        **override_fields(r1, OverrideReason.LAWFUL_REASON, "未满十六周岁"),
    }
    response = client.post(action_url(case, "conclude"), page_fields(case, "conclude", data))
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        f'<div class="invalid-feedback d-block" id="id_conclude-override_{r1.pk}_basis_errors" role="alert">'
        "Give the legal basis of the lawful reason.</div>"
    ) in body
    for part in ("reason", "text"):
        assert (
            f'<div class="invalid-feedback d-block" id="id_conclude-override_{r2.pk}_{part}_errors" role="alert">'
            "This field is required.</div>"
        ) in body
    assert "未满十六周岁</textarea>" in body
    assert "两名嫌疑人均已处理</textarea>" in body
    assert state(case) == before


def test_the_page_concludes_with_an_override_for_each_flag(client, world):
    case, r1, r2 = two_downgrades(world)
    client.force_login(world.supervisor)
    data = {
        "version": case.version,
        "flags_shown": f"{r1.pk},{r2.pk}",
        **override_fields(r1, OverrideReason.LAWFUL_REASON, "未满十六周岁", "刑法第十七条"),
        **override_fields(r2, OverrideReason.AUTHORITY_DECIDED, "法院已判决"),
    }
    response = client.post(action_url(case, "conclude"), page_fields(case, "conclude", data))
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == S.LOOK_BACK
    assert sorted(FlagOverride.objects.values_list("flag__rule_code", "reason", "explanation", "legal_basis")) == [
        ("R1", OverrideReason.LAWFUL_REASON, "未满十六周岁", "刑法第十七条"),
        ("R2", OverrideReason.AUTHORITY_DECIDED, "法院已判决", ""),
    ]
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert (
        "Flag overridden: R1 Violent attack on an officer on duty, A lawful reason the rules do not capture: "
        "未满十六周岁 (legal basis: 刑法第十七条)" in page
    )
    assert "Overridden flags" in page


def test_a_stale_tab_is_refused_naming_the_flag_raised_since_and_keeps_what_was_typed(client, world):
    case = rammed(world, endangered_safety=False)
    fined(world, case)
    check_case_flags(case_id=case.pk)
    (r1,) = open_flags(case)
    # A fact changes; the check it asks for has not run yet when the supervisor opens the page.
    services.update_case_details(
        case=case, by=world.supervisor, expected_version=None, changes={"endangered_safety": True}
    )
    client.force_login(world.supervisor)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    version = re.search(r'name="conclude-version" value="(\d+)"', page).group(1)
    shown = re.search(r'name="conclude-flags_shown" value="([\d,]*)"', page).group(1)
    assert shown == str(r1.pk)
    check_case_flags(case_id=case.pk)  # raises R2; the case's version does not change
    r2 = Flag.objects.get(case=case, rule_code="R2", resolved_at__isnull=True)
    assert str(Case.objects.get(pk=case.pk).version) == version
    before = state(case)
    data = {"version": version, "flags_shown": shown, **override_fields(r1, OverrideReason.OTHER, "已由上级复核同意")}
    response = client.post(action_url(case, "conclude"), page_fields(case, "conclude", data))
    assert response.status_code == 400
    body = response.content.decode()
    assert (
        f"A flag was raised on this case after the page was loaded: R2 “{R2_TITLE}”. Read it and give a reason to "
        "override it too; nothing you typed is lost."
    ) in body
    assert "已由上级复核同意</textarea>" in body
    assert f'name="conclude-override_{r2.pk}_reason"' in body
    assert state(case) == before


@pytest.mark.parametrize(("who", "status"), [("sibling_supervisor", 404), ("officer", 403), ("admin", 403)])
def test_only_a_supervisor_of_the_unit_may_override_on_the_page(client, world, who, status):
    case, r1, r2 = two_downgrades(world)
    client.force_login(getattr(world, who))
    before = state(case)
    data = {
        "version": case.version,
        "flags_shown": f"{r1.pk},{r2.pk}",
        **override_fields(r1, OverrideReason.OTHER, "x"),
        **override_fields(r2, OverrideReason.OTHER, "y"),
    }
    response = client.post(action_url(case, "conclude"), page_fields(case, "conclude", data))
    assert response.status_code == status
    assert state(case) == before


def test_hostile_text_in_an_override_is_shown_as_text_on_the_page_and_never_reaches_the_reports(client, world):
    case, r1, r2 = two_downgrades(world)
    services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        overrides=[
            override(r1, reason=OverrideReason.LAWFUL_REASON, text=HOSTILE, basis=HOSTILE_BASIS),
            override(r2, text=HOSTILE),
        ],
    )
    client.force_login(world.supervisor)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert HOSTILE not in page
    assert HOSTILE_BASIS not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page

    year = timezone.localdate().year
    html = client.get(reverse("cases:reports"), {"unit": world.city.code, "year": year}).content.decode()
    assert "Downgraded flags overridden" in html
    exports = {}
    for fmt in (ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF):
        out = io.BytesIO()
        with translation.override("en"):
            render_export(unit=world.city, year=year, fmt=fmt, out=out)
        exports[fmt] = out.getvalue()
    rows = list(csv.reader(io.StringIO(exports[ReportFormat.CSV].decode("utf-8-sig"))))
    assert ["Downgraded flags overridden", "2", "0", "+2", ""] in rows
    assert ["Overridden because: A lawful reason the rules do not capture", "1", "0", "+1", ""] in rows
    workbook = openpyxl.load_workbook(io.BytesIO(exports[ReportFormat.XLSX]))
    cells = [str(v) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert "Downgraded flags overridden" in cells
    pdf = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(exports[ReportFormat.PDF])).pages).split())
    assert "Downgraded flags overridden 2 0 +2" in pdf
    texts = [html, exports[ReportFormat.CSV].decode("utf-8-sig"), " ".join(cells), pdf]
    for text in texts:
        assert "alert(" not in text
        assert "onerror" not in text


# --- the API --------------------------------------------------------------------------------------------------------


def api_action(world, who: str, case: Case, action: str, body: dict):
    return token_client(getattr(world, who)).post(f"/api/v1/cases/{case.pk}/actions/{action}/", body, format="json")


def test_the_api_refuses_missing_overrides_naming_the_flags_and_concludes_with_them(world):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    response = api_action(world, "supervisor", case, "conclude", {"version": case.version})
    assert response.status_code == 400
    assert response.json()["errors"] == {"overrides": [missing(r1, R1_TITLE), missing(r2, R2_TITLE)]}
    response = api_action(world, "supervisor", case, "conclude", {"overrides": [override(r1)]})
    assert response.status_code == 400
    assert response.json()["errors"] == {"overrides": [missing(r2, R2_TITLE)]}
    assert state(case) == before

    response = api_action(world, "supervisor", case, "conclude", {"overrides": [override(r1), override(r2)]})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.LOOK_BACK
    assert sorted(Flag.objects.filter(case=case).values_list("rule_code", "resolution")) == [
        ("R1", FlagResolution.OVERRIDDEN),
        ("R2", FlagResolution.OVERRIDDEN),
    ]
    year = timezone.localdate().year
    summary = token_client(world.supervisor).get(f"/api/v1/reports/yearly/?year={year}").json()
    assert summary["downgraded_overridden"] == 2
    flags = token_client(world.supervisor).get("/api/v1/flags/").json()["results"]
    assert {(f["rule_code"], f["resolution"]) for f in flags if f["case"]["id"] == case.pk} == {
        ("R1", "overridden"),
        ("R2", "overridden"),
    }


def test_the_api_checks_each_override_field_by_field(world):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    response = api_action(
        world,
        "supervisor",
        case,
        "conclude",
        {"overrides": [{"flag": r1.pk, "reason": "lawful_reason", "text": "x"}, {"flag": r2.pk, "reason": "maybe"}]},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "overrides": [
            "0: basis: Give the legal basis of the lawful reason.",
            '1: reason: "maybe" is not a valid choice.',
            "1: text: This field is required.",
        ]
    }
    assert state(case) == before


def test_the_api_closes_with_overrides(world):
    case, r1, r2 = in_look_back_with_two_downgrades(world)
    checklist = {"officer_informed": True, "disposition_consistent": True}
    before = state(case)
    response = api_action(world, "supervisor", case, "close", checklist)
    assert response.status_code == 400
    assert response.json()["errors"] == {"overrides": [missing(r1, R1_TITLE), missing(r2, R2_TITLE)]}
    assert state(case) == before
    response = api_action(world, "supervisor", case, "close", {**checklist, "overrides": [override(r1), override(r2)]})
    assert response.status_code == 200
    assert Case.objects.get(pk=case.pk).status == S.CLOSED


@pytest.mark.parametrize(("who", "status"), [("sibling_supervisor", 404), ("officer", 403), ("admin", 403)])
def test_only_a_supervisor_of_the_unit_may_override_through_the_api(world, who, status):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    response = api_action(world, who, case, "conclude", {"overrides": [override(r1), override(r2)]})
    assert response.status_code == status
    assert state(case) == before


def test_the_service_refuses_an_officer_whatever_the_overrides(world):
    case, r1, r2 = two_downgrades(world)
    before = state(case)
    with pytest.raises(PermissionDenied):
        services.conclude_case(
            case=case, by=world.officer, expected_version=case.version, overrides=[override(r1), override(r2)]
        )
    assert state(case) == before


def test_the_policy_lets_whoever_may_conclude_or_close_override(world):
    case = case_in(world, S.SUPERVISION)
    people = ["supervisor", "county_supervisor", "ministry_supervisor", "sibling_supervisor", "officer", "admin"]
    allowed = {who: policy.can_override_flags(actor_for(getattr(world, who)), case, "conclude") for who in people}
    assert allowed == {
        "supervisor": True,
        "county_supervisor": True,
        "ministry_supervisor": True,
        "sibling_supervisor": False,
        "officer": False,
        "admin": False,
    }
    assert policy.can_override_flags(actor_for(world.supervisor), case, "reopen") is False


# --- concluding without an identified suspect -----------------------------------------------------------------------


def test_concluding_without_a_suspect_needs_a_structured_reason(world):
    case = kicked(world)
    before = state(case)
    errors = refusal(
        lambda: services.conclude_case(case=case, by=world.supervisor, expected_version=case.version, reason="已处理")
    )
    assert errors == {"no_suspect_reason": ["No suspect is identified: say why the case concludes without one."]}
    errors = refusal(
        lambda: services.conclude_case(
            case=case, by=world.supervisor, expected_version=case.version, no_suspect_reason=NoSuspectReason.OTHER
        )
    )
    assert errors == {"reason": ["Explain the other reason the case concludes without an identified suspect."]}
    assert state(case) == before


def test_the_reason_is_only_for_a_case_without_an_identified_suspect(world):
    case = kicked(world)
    fined(world, case, Disposition.CRIMINAL_FILED)
    case = Case.objects.get(pk=case.pk)
    before = state(case)
    errors = refusal(
        lambda: services.conclude_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            no_suspect_reason=NoSuspectReason.DECEASED,
            reason="x",
        )
    )
    assert errors == {
        "no_suspect_reason": ["A suspect is identified: this reason is only for a case that concludes without one."]
    }
    assert state(case) == before


def test_the_page_and_the_api_put_the_missing_reason_next_to_its_field(client, world):
    case = kicked(world)
    before = state(case)
    client.force_login(world.supervisor)
    data = {"version": case.version, "reason": "已处理"}
    response = client.post(action_url(case, "conclude"), page_fields(case, "conclude", data))
    assert response.status_code == 400
    assert (
        '<div class="invalid-feedback d-block" id="id_conclude-no_suspect_reason_errors" role="alert">'
        "No suspect is identified: say why the case concludes without one.</div>"
    ) in response.content.decode()
    assert "已处理</textarea>" in response.content.decode()
    response = api_action(world, "supervisor", case, "conclude", {"reason": "已处理"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "no_suspect_reason": ["No suspect is identified: say why the case concludes without one."]
    }
    assert state(case) == before


def test_not_a_crime_on_a_slight_injury_kick_is_a_downgrade_that_closing_must_override(client, world):
    case = kicked(world)
    case = services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        no_suspect_reason=NoSuspectReason.NOT_AN_OFFENCE,
        reason="已处理",
    )
    assert (case.no_suspect_reason, case.conclusion_reason) == (NoSuspectReason.NOT_AN_OFFENCE, "已处理")
    event = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION, action="conclude")
    assert event.data == {"reason": "已处理", "missing": ["-"], "no_suspect_reason": NoSuspectReason.NOT_AN_OFFENCE}
    check_case_flags(case_id=case.pk)
    (r27,) = open_flags(case)
    assert (r27.kind, r27.rule_code, r27.detail["severity"], r27.detail["problems"], r27.detail["min_rank"]) == (
        FlagKind.DOWNGRADED,
        "R27",
        "downgrade",
        ["below_minimum"],
        9,
    )
    case = Case.objects.get(pk=case.pk)
    assert case.is_downgraded is True
    client.force_login(world.supervisor)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "Not a crime or violation: no case to answer" in page
    assert "Conclude: Not a crime or violation: no case to answer; 已处理" in page
    before = state(case)
    errors = refusal(
        lambda: services.close_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            officer_informed=True,
            disposition_consistent=True,
        )
    )
    title = "Concluded as no case to answer on the facts of an assault on police"
    assert errors == {"overrides": [missing(r27, title)]}
    assert state(case) == before


def test_suspect_unknown_keeps_a_pursuit_prompt_open_until_a_suspect_is_identified(world):
    case = kicked(world)
    case = services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        no_suspect_reason=NoSuspectReason.UNKNOWN_PURSUING,
    )
    check_case_flags(case_id=case.pk)
    (prompt,) = open_flags(case)
    assert (prompt.rule_code, prompt.detail["severity"], prompt.detail["problems"]) == (
        "R28",
        "prompt",
        ["pursuit_open"],
    )
    services.add_suspect(case=Case.objects.get(pk=case.pk), by=world.supervisor, name="李某")
    check_case_flags(case_id=case.pk)
    prompt.refresh_from_db()
    assert (prompt.resolution, open_flags(case)) == (FlagResolution.CLEARED, [])


def test_a_fled_suspect_expects_a_fugitive_pursuit(world):
    case = kicked(world)
    case = services.conclude_case(
        case=case, by=world.supervisor, expected_version=case.version, no_suspect_reason=NoSuspectReason.FLED
    )
    check_case_flags(case_id=case.pk)
    assert [(f.rule_code, f.detail["problems"]) for f in open_flags(case)] == [("R29", ["fugitive_not_pursued"])]
    services.record_support_measure(
        case=Case.objects.get(pk=case.pk), by=world.supervisor, kind=SupportKind.FUGITIVE_PURSUIT, status="in_progress"
    )
    check_case_flags(case_id=case.pk)
    assert open_flags(case) == []
