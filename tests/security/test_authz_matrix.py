"""The authorization matrix of docs/authorization-matrix.md, run against the application.

The document's tables are parsed, not copied: each browser-page row and each row of "the other endpoints" of the
API is requested by every kind of caller and must answer exactly what its cell says; the API rows already run by
tests/api/test_matrix.py must agree with that file cell for cell. A refused request (4xx, or a redirect to a
log-in page) must leave every record as it was. Every route of the case pages and of the API must appear in
some row, so a new view cannot go undocumented. The admin-site table runs the same way, with every person made
staff in the unit administrators' group.

Also here: a revoked membership and a deactivated account take effect on the very next request.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts import tokens
from accounts.models import AccountAudit, ApiToken, Membership, OrgUnit, Role, SavedQueueFilter, User
from analysis import services as analysis_services
from analysis.choices import WarningKind
from analysis.models import EarlyWarning, EvaluationReport
from cases import evidence, services
from cases.choices import (
    PREFERENCE_KINDS,
    CaseStatus,
    Disposition,
    FindingProblem,
    FlagKind,
    IncidentKind,
    LenientReason,
    NoteVisibility,
    NotificationDelivery,
    SupportKind,
    SuspectStatus,
    Track,
)
from cases.forms import DispositionForm, OfficerForm, SupervisorFactsForm, SupportMeasureForm, SuspectForm
from cases.models import (
    Case,
    Flag,
    Notification,
    NotificationPreference,
    QueueExport,
    ReportExport,
    RetentionPolicy,
    RetentionPolicyChange,
    StageLimit,
    Suspect,
)
from cases.services import retention as retention_services
from cases.views.kept import SESSION_KEY as KEPT_INPUT
from demo.organisation import ensure_admin_group
from integrations.models import IncidentImport
from integrations.services.accounts import create_integration_account
from library import services as library_services
from library.choices import COLUMNS as LIBRARY_COLUMNS
from library.guidance import services as tip_services
from library.guidance.models import Tip, TipEvent, TipRead
from library.models import LibraryFeedback, LibraryRead, WriteUp, WriteUpEvent, WriteUpVersion
from oversight import services as oversight_services
from oversight.choices import CHECKLISTS, CampaignKind, ProblemType, SelectionMode
from oversight.models import (
    Accountability,
    Campaign,
    CampaignCase,
    CampaignEvent,
    Problem,
    PursuitRecord,
    Review,
    ReviewerAssignment,
)
from oversight.scope import Scope
from tests.analysis.warnings_dataset import a_warning
from tests.api.conftest import PDF, stored_files, token_client, upload
from tests.api.test_matrix import ENDPOINTS as API_MATRIX_ENDPOINTS
from tests.api.test_matrix import EXPECTED as API_MATRIX_EXPECTED
from tests.api.test_matrix import ROLES, WORLD_ATTRIBUTE
from tests.api.test_matrix import clients as api_clients
from tests.api.test_matrix import snapshot as records_snapshot
from tests.conftest import reauthenticated
from tests.factories import PASSWORD, World, case_in, draft, finished_export, finished_queue_export, member
from tests.integrations.conftest import client_for as integration_token_client
from tests.integrations.conftest import incident
from tests.security.test_admin_scope import user_form

DOCUMENT = Path(settings.BASE_DIR) / "docs" / "authorization-matrix.md"
HTML_SECTION = "Browser pages"
API_MATRIX_SECTION = "API v1 — the role matrix of `tests/api/test_matrix.py`"
API_OTHER_SECTION = "API v1 — the other endpoints"
ADMIN_SECTION = "Admin site"
CONTENT_SECTION = "What the filer reads, what stays with the office"
COLUMNS = {
    "Owner": "owner",
    "Other officer": "other_officer",
    "Supervisor": "supervisor",
    "Sibling supervisor": "sibling_supervisor",
    "Ancestor supervisor": "ancestor",
    "Admin": "admin",
    "Anonymous": "anonymous",
    "Deactivated": "deactivated",
}
assert tuple(COLUMNS.values()) == ROLES
LOGIN_PREFIX = f"{settings.LOGIN_URL}?next="
ADMIN_LOGIN_PREFIX = "/admin/login/?next="
ADMIN_INDEX = "/admin/"


# --- reading the document --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    path: str  # with {placeholders}
    cells: dict[str, str]  # role -> cell text


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def read_tables(text: str, columns: dict[str, str] = COLUMNS) -> dict[str, list[Row]]:
    """The matrix tables of the document with these columns, by the heading they stand under."""
    tables: dict[str, list[Row]] = {}
    heading = ""
    header: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            heading, header = line[3:].strip(), None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = cells
            continue
        if set("".join(cells)) <= set("-: "):
            continue
        if header[:3] != ["Row", *header[1:2], "Request"] or header[3:] != list(columns):
            continue  # not a matrix table (the people, the legend)
        request = re.fullmatch(r"`(GET|POST|PUT|PATCH|DELETE) (\S+)`", cells[2])
        assert request, f"{heading}: row {cells[0]} has no `METHOD /path` request: {cells[2]!r}"
        row_id = cells[0].strip("`")
        assert len(cells) == len(header), f"{heading}: row {row_id} has {len(cells)} cells, not {len(header)}"
        tables.setdefault(heading, []).append(
            Row(
                id=row_id,
                method=request[1].lower(),
                path=request[2],
                cells={columns[column]: cell for column, cell in zip(header[3:], cells[3:], strict=True)},
            )
        )
    return tables


TABLES = read_tables(DOCUMENT.read_text(encoding="utf-8"))
HTML_ROWS = {row.id: row for row in TABLES.get(HTML_SECTION, [])}
API_MATRIX_ROWS = {row.id: row for row in TABLES.get(API_MATRIX_SECTION, [])}
API_OTHER_ROWS = {row.id: row for row in TABLES.get(API_OTHER_SECTION, [])}
ADMIN_ROWS = {row.id: row for row in TABLES.get(ADMIN_SECTION, [])}
CONTENT_ROWS = {row.id: row for row in TABLES.get(CONTENT_SECTION, [])}
# The integration accounts' table has one more column: another system's account (accounts/integration.py).
INTEGRATION_SECTION = "Integration accounts"
INTEGRATION_COLUMNS = {**COLUMNS, "Integration": "integration"}
INTEGRATION_ROLES = (*ROLES, "integration")
INTEGRATION_ROWS = {
    row.id: row
    for row in read_tables(DOCUMENT.read_text(encoding="utf-8"), INTEGRATION_COLUMNS).get(INTEGRATION_SECTION, [])
}
# The rows of the other tables that ask no account, and what they answer the integration account as anyone else.
INTEGRATION_EXCEPTIONS = {"token-obtain": "400", "not-found": "404"}


INTERNAL_NOTE = "内部电话记录"
LESSONS = "一、110接处警现场袭警多发。二、加强执法记录仪全程记录。"
SHARED_NOTE = "已电话告知本人"
# A typical case's texts, anonymised (roles for names), complete in Chinese.
TYPICAL_TEXTS = {
    "title_zh": "处警时遭驾车冲撞",
    "happened_zh": "民警甲处警时，嫌疑人A驾车冲撞民警。",
    "handling_zh": "现场控制嫌疑人，固定视频证据，依法移送起诉。",
    "legal_basis_zh": "以袭警罪追究刑事责任。",
    "outcome_zh": "嫌疑人A被判处有期徒刑。",
    "lessons_zh": "遇冲撞先避让，保全证据，及时呼叫支援。",
}
CITY_CODE = "330100"
TIP_TEXTS = {
    "title_zh": "交通查控：不要站在车辆正前方",
    "body_zh": "拦车检查时站在车辆侧前方，驾驶人拒不熄火时立即避让。",
}

_DUPLICATE_DETAILS = {
    "occurred_at": timezone.now() - timedelta(days=1),
    "location": "杭州市西湖区北山街",
    "summary": "盘查时遭嫌疑人踢打",
}

# --- the objects the rows act on -------------------------------------------------------------------------------


class Fixture:
    """The world and, built when a row first names them, the objects behind the placeholders."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _intake(self) -> SimpleNamespace:
        w = self.world
        case = case_in(w, CaseStatus.INTAKE)
        suspect = services.add_suspect(case=case, by=w.supervisor, name="张某", id_number="330106199001011234")
        stored = evidence.validate_and_store(upload(PDF, "statement.pdf", "application/pdf"))
        attachment = services.record_attachment(case=case, by=w.officer, **stored.attachment_fields())
        support = services.record_support_measure(case=case, by=w.supervisor, kind=SupportKind.COMFORT_VISIT)
        finding = services.raise_finding(case=case, by=w.supervisor, problem=FindingProblem.PROTRACTED, detail="久拖")
        flag = Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
        Case.objects.filter(pk=case.pk).update(is_stalled=True)  # the read model the flag scan keeps
        services.add_note(case=case, by=w.supervisor, text=INTERNAL_NOTE)
        services.add_note(case=case, by=w.supervisor, text=SHARED_NOTE, visibility=NoteVisibility.SHARED)
        case.refresh_from_db()
        return SimpleNamespace(
            case=case, suspect=suspect, attachment=attachment, support=support, finding=finding, flag=flag
        )

    @cached_property
    def on_intake(self) -> SimpleNamespace:
        return self._intake()

    @cached_property
    def colleague(self) -> User:
        """Another officer of the owner's station, attacked in the same incident: the duplicates below are theirs."""
        return member(self.world.station, Role.OFFICER, username="colleague")

    def _duplicate(self) -> Case:
        """A submitted application of the colleague about the submitted case's incident (same 110 number)."""
        details = {"kind": "violent_attack", "dispatch_ref": "110-0601", **_DUPLICATE_DETAILS}
        case = services.create_draft_case(by=self.colleague, unit=self.world.station, details=details)
        return services.submit_case(case=case, by=self.colleague, expected_version=None)

    @cached_property
    def twin(self) -> Case:
        return self._duplicate()

    @cached_property
    def linked_twin(self) -> Case:
        """Another, linked with the submitted case by the city supervisor."""
        twin = self._duplicate()
        services.link_cases(by=self.world.supervisor, case=self.on_intake.case, other=twin, reason="同一警情")
        return twin

    @cached_property
    def merged(self) -> Case:
        """Another, merged by the city supervisor into ``twin``: a merged record."""
        merged = self._duplicate()
        services.merge_cases(by=self.world.supervisor, case=merged, into=self.twin, reason="重复报案")
        return Case.objects.get(pk=merged.pk)

    @cached_property
    def draft(self) -> Case:
        return draft(self.world)

    @cached_property
    def non_prosecuted(self) -> Suspect:
        case = self.in_status(CaseStatus.SUPERVISION)
        suspect = services.add_suspect(case=case, by=self.world.supervisor, name="陈某")
        return services.record_disposition(
            suspect=suspect,
            by=self.world.supervisor,
            disposition=Disposition.CRIMINAL_NON_PROSECUTION,
            lenient_reason=LenientReason.MINOR_CIRCUMSTANCES,
        )

    @cached_property
    def export(self) -> ReportExport:
        return finished_export(self.world.supervisor, self.world.city, timezone.localdate().year)

    @cached_property
    def queue_workbook(self) -> QueueExport:
        return finished_queue_export(self.world.supervisor)

    @cached_property
    def notification(self) -> Notification:
        """The owner's unread notification about the submitted case."""
        return Notification.objects.create(
            recipient=self.world.officer, case=self.on_intake.case, verb="Submitted", created_at=timezone.now()
        )

    @cached_property
    def warning(self) -> EarlyWarning:
        """An open early warning of the county: a rise in its cases."""
        return a_warning(WarningKind.UNIT_RISE, self.world.county, key=f"unit_rise:{self.world.county.pk}:2025-12-31")

    @cached_property
    def acknowledged_warning(self) -> EarlyWarning:
        """Another, of the window before, acknowledged by the county's supervisor."""
        warning = a_warning(
            WarningKind.UNIT_RISE, self.world.county, key=f"unit_rise:{self.world.county.pk}:2025-11-30"
        )
        return analysis_services.acknowledge_warning(warning=warning, by=self.world.county_supervisor)

    @cached_property
    def evaluation(self) -> EvaluationReport:
        """The county's report for last year, a draft its supervisor started and wrote."""
        report, _created = analysis_services.start_evaluation(
            unit=self.world.county, year=timezone.localdate().year - 1, quarter=0, by=self.world.county_supervisor
        )
        return analysis_services.save_lessons(report=report, by=self.world.county_supervisor, lessons=LESSONS)

    @cached_property
    def submitted_evaluation(self) -> EvaluationReport:
        """The county's report for the last quarter of last year, submitted by the county's supervisor."""
        report, _created = analysis_services.start_evaluation(
            unit=self.world.county, year=timezone.localdate().year - 1, quarter=4, by=self.world.county_supervisor
        )
        return analysis_services.submit_evaluation(report=report, by=self.world.county_supervisor, lessons=LESSONS)

    @cached_property
    def token(self) -> ApiToken:
        return tokens.issue_token(user=self.world.officer, name="patrol tablet", mfa_verified=False)[0]

    @cached_property
    def saved_filter(self) -> SavedQueueFilter:
        return account_services.save_queue_filter(user=self.world.supervisor, name="逾期", query="flag=overdue")

    def _campaign(self, kind: str, name: str, status: str) -> Campaign:
        today = timezone.localdate()
        return oversight_services.create_campaign(
            by=self.world.supervisor,
            name=name,
            kind=kind,
            owner_unit=self.world.city,
            period_start=today.replace(month=1, day=1),
            period_end=today.replace(month=12, day=31),
            deadline=today + timedelta(days=30),
            scope=Scope(statuses=(status,)),
            selection=SelectionMode.ALL,
        )

    def _typical_case(self, until: str) -> WriteUp:
        """A typical case the city supervisor wrote from a closed case of the owner (anonymised), taken ``until``
        "drafting", "submitted" or "published" (by the province administrator, to the city)."""
        w = self.world
        writeup = library_services.propose_case(case=case_in(w, CaseStatus.CLOSED), by=w.supervisor)
        writeup = library_services.save_writeup(
            writeup=writeup, by=w.supervisor, texts=TYPICAL_TEXTS, expected_version=None
        )
        if until in ("submitted", "published"):
            writeup = library_services.submit_writeup(writeup=writeup, by=w.supervisor, expected_version=None)
        if until == "published":
            writeup = library_services.publish_writeup(
                writeup=writeup, by=w.admin, scope_unit=w.city, expected_version=writeup.version
            )
        return writeup

    @cached_property
    def typical_case(self) -> WriteUp:
        return self._typical_case("published")

    @cached_property
    def drafting_typical_case(self) -> WriteUp:
        return self._typical_case("drafting")

    @cached_property
    def submitted_typical_case(self) -> WriteUp:
        return self._typical_case("submitted")

    def _tip(self, until: str) -> Tip:
        """A guidance tip of the city written by the city supervisor, taken ``until`` "draft", "submitted" or
        "published" (by the province administrator, to the city: in force from today)."""
        w = self.world
        data = tip_services.TipInput(texts=TIP_TEXTS, priority="high", valid_from=timezone.localdate())
        tip = tip_services.create_tip(by=w.supervisor, unit=w.city, data=data)
        if until in ("submitted", "published"):
            tip = tip_services.submit_tip(tip=tip, by=w.supervisor, expected_version=None)
        if until == "published":
            tip = tip_services.publish_tip(tip=tip, by=w.admin, scope_unit=w.city, expected_version=tip.version)
        return tip

    @cached_property
    def tip(self) -> Tip:
        return self._tip("published")

    @cached_property
    def draft_tip(self) -> Tip:
        return self._tip("draft")

    @cached_property
    def submitted_tip(self) -> Tip:
        return self._tip("submitted")

    def tip_version(self, placeholder: str) -> int:
        """The version the editors' page of a tip shows now (its forms send it back)."""
        return Tip.objects.get(pk=self.value(placeholder).pk).version

    def writeup_version(self, placeholder: str) -> int:
        """The version the editors' page of a typical case shows now (its forms send it back)."""
        return WriteUp.objects.get(pk=self.value(placeholder).pk).version

    @cached_property
    def campaigns(self) -> SimpleNamespace:
        """A running special supervision of the city over its closed cases, the city supervisor assigned to review the
        county's (one case, with a problem); a look-back still in draft; a running fugitive pursuit over the cases in
        supervision (one suspect at large)."""
        w = self.world
        closed = self.in_status(CaseStatus.CLOSED)
        campaign = self._campaign(CampaignKind.SPECIAL_SUPERVISION, "2026年专项监督", CaseStatus.CLOSED)
        oversight_services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.supervisor)
        campaign = oversight_services.start_campaign(campaign=campaign, by=w.supervisor)
        item = CampaignCase.objects.get(campaign=campaign, case=closed)
        problem = oversight_services.raise_problem(
            item=item,
            by=w.supervisor,
            type=ProblemType.PROTRACTED,
            description="久拖未结",
            responsible_unit=w.county,
            rectify_by=timezone.localdate() + timedelta(days=7),
        )
        fugitive = services.add_suspect(
            case=self.in_status(CaseStatus.SUPERVISION), by=w.supervisor, name="赵某", status=SuspectStatus.AT_LARGE
        )
        pursuit = self._campaign(CampaignKind.FUGITIVE_PURSUIT, "追逃专项", CaseStatus.SUPERVISION)
        pursuit = oversight_services.start_campaign(campaign=pursuit, by=w.supervisor)
        return SimpleNamespace(
            campaign=campaign,
            item=item,
            problem=problem,
            draft=self._campaign(CampaignKind.LOOK_BACK, "2026年回头看", CaseStatus.CLOSED),
            pursuit_campaign=pursuit,
            pursuit=PursuitRecord.objects.get(campaign_case__campaign=pursuit, suspect=fugitive),
        )

    @cached_property
    def by_status(self) -> dict[str, Case]:
        return {}

    def in_status(self, status: str) -> Case:
        if status not in self.by_status:
            self.by_status[status] = case_in(self.world, status)
        return self.by_status[status]

    def value(self, placeholder: str) -> Any:
        """The object (or value) a placeholder of the document names; built on first use."""
        makers: dict[str, Callable[[], Any]] = {
            "intake": lambda: self.on_intake.case,
            "suspect": lambda: self.on_intake.suspect,
            "attachment": lambda: self.on_intake.attachment,
            "support": lambda: self.on_intake.support,
            "finding": lambda: self.on_intake.finding,
            "flag": lambda: self.on_intake.flag,
            "officer": lambda: self.on_intake.case.officers.get(),
            "draft": lambda: self.draft,
            "draft_officer": lambda: self.draft.officers.get(),
            "referred": lambda: self.in_status(CaseStatus.REFERRED),
            "supervision": lambda: self.in_status(CaseStatus.SUPERVISION),
            "non_prosecuted": lambda: self.non_prosecuted,
            "look_back": lambda: self.in_status(CaseStatus.LOOK_BACK),
            "closed": lambda: self.in_status(CaseStatus.CLOSED),
            "saved_filter": lambda: self.saved_filter,
            "export": lambda: self.export,
            "queue_workbook": lambda: self.queue_workbook,
            "owner_account": lambda: self.world.officer,
            "admin_account": lambda: self.world.admin,
            "sibling_account": lambda: self.world.sibling_officer,
            "owner_membership": lambda: Membership.objects.get(user=self.world.officer),
            "sibling_membership": lambda: Membership.objects.get(user=self.world.sibling_supervisor),
            "station": lambda: self.world.station,
            "sibling_province": lambda: self.world.sibling_province,
            "stage_limit": lambda: StageLimit.objects.order_by("pk").first(),
            "retention_period": lambda: RetentionPolicy.objects.get(kind=IncidentKind.VIOLENT_ATTACK),
            "token": lambda: self.token,
            "notification": lambda: self.notification,
            "campaign": lambda: self.campaigns.campaign,
            "campaign_case": lambda: self.campaigns.item,
            "problem": lambda: self.campaigns.problem,
            "draft_campaign": lambda: self.campaigns.draft,
            "pursuit_campaign": lambda: self.campaigns.pursuit_campaign,
            "pursuit": lambda: self.campaigns.pursuit,
            "pursuit_case": lambda: self.campaigns.pursuit.campaign_case,
            "warning": lambda: self.warning,
            "acknowledged_warning": lambda: self.acknowledged_warning,
            "evaluation": lambda: self.evaluation,
            "submitted_evaluation": lambda: self.submitted_evaluation,
            "typical_case": lambda: self.typical_case,
            "drafting_typical_case": lambda: self.drafting_typical_case,
            "submitted_typical_case": lambda: self.submitted_typical_case,
            "tip": lambda: self.tip,
            "draft_tip": lambda: self.draft_tip,
            "submitted_tip": lambda: self.submitted_tip,
            "twin": lambda: self.twin,
            "linked_twin": lambda: self.linked_twin,
            "merged": lambda: self.merged,
        }
        if placeholder not in makers:
            raise KeyError(f"unknown placeholder {{{placeholder}}} in {DOCUMENT.name}")
        return makers[placeholder]()

    def url(self, path: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(self.value(m[1]).pk), path)

    def current(self, placeholder: str) -> Case:
        return Case.objects.get(pk=self.value(placeholder).pk)

    def warning_version(self, placeholder: str) -> int:
        """The version a warning's page shows now (its forms send it back)."""
        return EarlyWarning.objects.get(pk=self.value(placeholder).pk).version

    def evaluation_version(self, placeholder: str) -> int:
        """The version a report's page shows now (its forms send it back)."""
        return EvaluationReport.objects.get(pk=self.value(placeholder).pk).version

    def campaign_version(self, placeholder: str) -> int:
        """The version the review page of a selected case shows now (its forms send it back)."""
        return CampaignCase.objects.get(pk=self.value(placeholder).pk).version


# --- what the rows send ----------------------------------------------------------------------------------------


def form_data(form: forms.BaseForm, **values: Any) -> dict[str, Any]:
    """What a browser submits for an untouched form (its initial values), with ``values`` typed in."""
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        if value is None or value is False:
            continue
        data[field.html_name] = "on" if value is True else value
    data.update({form.add_prefix(name): value for name, value in values.items()})
    return data


def action(name: str, placeholder: str, **values: Any) -> Callable[[Fixture], dict[str, Any]]:
    """The fields of a workflow action's form (prefixed with the action's name), with the case's version."""
    return lambda fx: {f"{name}-{k}": v for k, v in {"version": fx.current(placeholder).version, **values}.items()}


def versioned(placeholder: str, **values: Any) -> Callable[[Fixture], dict[str, Any]]:
    return lambda fx: {"version": fx.current(placeholder).version, **values}


HTML_DATA: dict[str, Callable[[Fixture], Any]] = {
    "legal-hold-place": lambda fx: {"reason": "Court order"},
    "queue-save": lambda fx: {"name": "我的案件", "query": "view=mine"},
    "queue-workbook-new": lambda fx: {"query": "view=mine"},
    "notification-settings-save": lambda fx: dict.fromkeys(PREFERENCE_KINDS, NotificationDelivery.DAILY),
    "queue-bulk": lambda fx: {
        "action": "note",
        "case": f"{fx.current('intake').pk}:{fx.current('intake').version}",
        "text": INTERNAL_NOTE,
        "visibility": NoteVisibility.INTERNAL,
        "apply": "1",
    },
    "new": lambda fx: {
        "unit": fx.world.station.pk,
        "kind": "violent_attack",
        "occurred_at": (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "location": "北山街",
        "channel": "web",
    },
    "draft-save": lambda fx: {"version": fx.current("draft").version, "summary": "被踢伤", "narrative": "经过"},
    "draft-support": lambda fx: {"kinds": [SupportKind.LEGAL_SERVICE]},
    "submit": action("submit", "draft"),
    "withdraw": action("withdraw", "intake", reason="Filed by mistake"),
    "reject": action("reject", "intake", reason="Not within scope"),
    "refer": lambda fx: action("refer", "intake", target="internal_unit", to_unit=fx.world.county.pk, track="criminal")(
        fx
    ),
    "refer-draft": lambda fx: action(
        "refer", "draft", target="internal_unit", to_unit=fx.world.county.pk, track="criminal"
    )(fx),
    "acknowledge": action("acknowledge", "referred", external_reference="XH-2026-118"),
    "acknowledge-intake": action("acknowledge", "intake", external_reference="XH-2026-118"),
    "conclude": action("conclude", "supervision", reason="Attacker not identified", no_suspect_reason="other"),
    "reopen": action("reopen", "look_back", problem=FindingProblem.PROTRACTED, detail="久拖未结"),
    "close": action("close", "look_back", officer_informed="on", disposition_consistent="on"),
    "recall": action("recall", "closed", reason="New facts"),
    "add-suspect": lambda fx: form_data(SuspectForm(prefix="suspect"), name="李某"),
    "edit-party": lambda fx: {
        **form_data(SuspectForm(prefix="suspect"), name="李某"),
        "version": fx.current("intake").version,
    },
    "add-officer": lambda fx: form_data(OfficerForm(prefix="officer"), name="王警官"),
    "assign": lambda fx: versioned("intake", assignee=fx.world.supervisor.pk)(fx),
    "clock-pause": versioned("intake", reason="other", note="等待鉴定"),
    "disposition": lambda fx: form_data(
        DispositionForm(instance=fx.value("suspect"), prefix=f"d{fx.value('suspect').pk}"),
        disposition="admin_fine",
        lenient_reason="forgiveness",
    ),
    "transfer": lambda fx: {
        f"t{fx.value('non_prosecuted').pk}-{name}": value
        for name, value in {
            "version": fx.current("supervision").version,
            "target": "internal_unit",
            "to_unit": fx.world.county.pk,
        }.items()
    },
    "support": lambda fx: form_data(
        SupportMeasureForm(case=fx.value("intake")), kind=SupportKind.COMFORT_VISIT, status="offered"
    ),
    "support-answer": lambda fx: {
        f"answer-{fx.value('support').pk}-{name}": value
        for name, value in {
            "version": fx.current("intake").version,
            "answer": "deliver",
            "provider": "西湖区人民医院",
            "delivered_on": timezone.localdate().isoformat(),
        }.items()
    },
    "finding": lambda fx: {"problem": FindingProblem.PROTRACTED, "detail": "久拖"},
    "fault-finding": lambda fx: {
        "fault-finding": "serious",
        "fault-department": "杭州市公安局法制支队",
        "fault-found_on": timezone.localdate().isoformat(),
        "fault-document_reference": "杭公法审〔2026〕12号",
        "fault-version": fx.current("intake").version,
    },
    "facts": lambda fx: {
        **form_data(SupervisorFactsForm(instance=fx.current("intake")), weapon="blunt"),
        "version": fx.current("intake").version,
    },
    "note": lambda fx: {"text": "已电话联系"},
    "duplicate-link": lambda fx: {"reason": "同一警情的两份申请"},
    "duplicate-unlink": lambda fx: {"reason": "并非同一警情"},
    "duplicate-merge": lambda fx: {"reason": "同一警情重复报案"},
    "duplicate-unmerge": lambda fx: {"reason": "并非同一警情"},
    "evidence-upload": lambda fx: {"file": upload(PDF, "report.pdf", "application/pdf")},
    "reports-export": lambda fx: {"unit": "330100", "year": timezone.localdate().year, "format": "csv"},
    "reveal-suspect": lambda fx: {},
    "reveal-officer": lambda fx: {},
    "set-language": lambda fx: {"language": "en", "next": "/"},
    "campaign-new": lambda fx: {
        "name": "2026年袭警案件专项监督",
        "kind": CampaignKind.SPECIAL_SUPERVISION,
        "owner_unit": fx.world.city.code,
        "period_start": timezone.localdate().replace(month=1, day=1).isoformat(),
        "period_end": timezone.localdate().replace(month=12, day=31).isoformat(),
        "deadline": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "statuses": [CaseStatus.CLOSED],
        "selection": SelectionMode.ALL,
    },
    "campaign-start": lambda fx: {},
    "campaign-close": lambda fx: {},
    "campaign-assign": lambda fx: {"sub_unit": fx.world.county.code, "reviewer": fx.world.county_supervisor.username},
    "campaign-review-record": lambda fx: {
        **dict.fromkeys(CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION], "pass"),
        "version": fx.campaign_version("campaign_case"),
        "summary": "办理规范",
    },
    "campaign-problem": lambda fx: {
        "type": ProblemType.EVIDENCE,
        "description": "证据未固定",
        "responsible_unit": fx.world.county.code,
        "rectify_by": (timezone.localdate() + timedelta(days=7)).isoformat(),
        "version": fx.campaign_version("campaign_case"),
    },
    "campaign-rectify": lambda fx: {
        f"p{fx.value('problem').pk}-rectification": "已补充调查",
        f"p{fx.value('problem').pk}-rectified_on": timezone.localdate().isoformat(),
        f"p{fx.value('problem').pk}-version": fx.campaign_version("campaign_case"),
    },
    "campaign-make-up": lambda fx: {"problem": fx.value("problem").pk, "version": fx.campaign_version("campaign_case")},
    "campaign-accountability": lambda fx: {
        "officer_name": "王某",
        "unit": fx.world.county.code,
        "measure": "admonishment",
        "document_reference": "杭督〔2026〕3号",
        "decided_on": timezone.localdate().isoformat(),
        "version": fx.campaign_version("campaign_case"),
    },
    "warning-acknowledge": lambda fx: {
        "acknowledge-version": fx.warning_version("warning"),
        "acknowledge-note": "已安排核查",
    },
    "warning-resolve": lambda fx: {
        "resolve-version": fx.warning_version("acknowledged_warning"),
        "resolve-note": "经核查为同一起事件重复报案",
    },
    "evaluation-start": lambda fx: {"unit": fx.world.county.code, "year": timezone.localdate().year - 1, "quarter": 1},
    "evaluation-lessons": lambda fx: {
        "lessons-version": fx.evaluation_version("evaluation"),
        "lessons-lessons": LESSONS + "三、",
    },
    "evaluation-submit": lambda fx: {
        "lessons-version": fx.evaluation_version("evaluation"),
        "lessons-lessons": LESSONS,
    },
    "evaluation-approve": lambda fx: {"approve-version": fx.evaluation_version("submitted_evaluation")},
    "evaluation-return": lambda fx: {
        "return-version": fx.evaluation_version("submitted_evaluation"),
        "return-note": "请补充整改措施",
    },
    "campaign-pursuit": lambda fx: {
        f"f{fx.value('pursuit').pk}-{name}": value
        for name, value in {
            "status": "arrested",
            "on": timezone.localdate().isoformat(),
            "unit": fx.world.county.code,
            "custody": SuspectStatus.DETAINED,
            "version": fx.campaign_version("pursuit_case"),
        }.items()
    },
}


def writeup_form(placeholder: str, **values: Any) -> Callable[[Fixture], dict[str, Any]]:
    return lambda fx: {"version": fx.writeup_version(placeholder), **values}


HTML_DATA.update(
    {
        "library-feedback": lambda fx: {"useful": "yes"},
        "library-propose": lambda fx: {"note": "驾车冲撞的处置"},
        "library-save": lambda fx: {
            **TYPICAL_TEXTS,
            "lessons_zh": "遇冲撞先避让。",
            "version": fx.writeup_version("drafting_typical_case"),
        },
        "library-anonymise": writeup_form("drafting_typical_case"),
        "library-submit": writeup_form("drafting_typical_case"),
        "library-return": lambda fx: {
            "return-version": fx.writeup_version("submitted_typical_case"),
            "return-note": "请补充证据保全要点",
        },
        "library-publish": writeup_form("submitted_typical_case", scope_unit=CITY_CODE),
        "library-withdraw": lambda fx: {
            "withdraw-version": fx.writeup_version("typical_case"),
            "withdraw-note": "判决被改",
        },
        "library-revise": writeup_form("typical_case"),
        "library-decline": lambda fx: {
            "decline-version": fx.writeup_version("drafting_typical_case"),
            "decline-note": "案例代表性不足",
        },
        "tip-create": lambda fx: {
            **TIP_TEXTS,
            "unit": CITY_CODE,
            "priority": "normal",
            "valid_from": timezone.localdate().isoformat(),
        },
        "tip-save": lambda fx: {
            **TIP_TEXTS,
            "body_zh": "拦车检查时站在车辆侧前方。",
            "priority": "urgent",
            "valid_from": timezone.localdate().isoformat(),
            "version": fx.tip_version("draft_tip"),
        },
        "tip-submit": lambda fx: {"version": fx.tip_version("draft_tip")},
        "tip-return": lambda fx: {"return-version": fx.tip_version("submitted_tip"), "return-note": "请补充英文"},
        "tip-publish": lambda fx: {"version": fx.tip_version("submitted_tip"), "scope_unit": CITY_CODE},
        "tip-withdraw": lambda fx: {"withdraw-version": fx.tip_version("tip"), "withdraw-note": "已过时"},
        "tip-copy": lambda fx: {"version": fx.tip_version("tip")},
    }
)

API_DATA: dict[str, Callable[[Fixture], Any]] = {
    "api-legal-hold": lambda fx: {"reason": "Court order"},
    "api-legal-hold-lift": lambda fx: {"reason": "Order quashed"},
    "token-obtain": lambda fx: {"username": "officer", "password": "not-the-password"},
    "notification-preferences-set": lambda fx: dict.fromkeys(PREFERENCE_KINDS, NotificationDelivery.DAILY),
    "notification-preferences-change": lambda fx: {"flags": NotificationDelivery.IN_APP},
    "action-reject": lambda fx: {"reason": "Not within scope"},
    "action-acknowledge": lambda fx: {"external_reference": "XH-2026-118"},
    "action-conclude": lambda fx: {"reason": "Attacker not identified", "no_suspect_reason": "other"},
    "action-reopen": lambda fx: {"problem": FindingProblem.PROTRACTED, "detail": "久拖未结"},
    "action-close": lambda fx: {"officer_informed": True, "disposition_consistent": True},
    "action-recall": lambda fx: {"reason": "New facts"},
    "clock-resume": lambda fx: {},
    "clock-extend": lambda fx: {"approval_reference": "杭公复〔2026〕12号", "reason": "伤情鉴定未完成"},
    "suspect-patch": lambda fx: {"name": "李某"},
    "suspect-reveal": lambda fx: {"field": "id_number"},
    "suspect-transfer": lambda fx: {"to_unit": fx.world.county.pk},
    "officer-reveal": lambda fx: {"field": "medical_notes"},
    "support-patch": lambda fx: {"notes": "已安排慰问"},
    "support-answer": lambda fx: {
        "answer": "deliver",
        "provider": "西湖区人民医院",
        "delivered_on": timezone.localdate().isoformat(),
    },
    "finding-rectify": lambda fx: {},
    "case-link-add": lambda fx: {"case": fx.value("twin").pk, "reason": "同一警情的两份申请"},
    "case-link-remove": lambda fx: {"reason": "并非同一警情"},
    "case-merge": lambda fx: {"into": fx.value("twin").pk, "reason": "同一警情重复报案"},
    "case-unmerge": lambda fx: {"reason": "并非同一警情"},
    "fault-finding-add": lambda fx: {
        "finding": "serious",
        "department": "杭州市公安局法制支队",
        "found_on": timezone.localdate().isoformat(),
        "document_reference": "杭公法审〔2026〕12号",
    },
    "campaign-create": lambda fx: {
        "name": "2026年袭警案件专项监督",
        "kind": CampaignKind.SPECIAL_SUPERVISION,
        "owner_unit": fx.world.city.pk,
        "period_start": timezone.localdate().replace(month=1, day=1).isoformat(),
        "period_end": timezone.localdate().replace(month=12, day=31).isoformat(),
        "deadline": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "scope": {"statuses": [CaseStatus.CLOSED]},
        "selection": SelectionMode.ALL,
    },
    "campaign-reviewer-assign": lambda fx: {"sub_unit": fx.world.county.pk, "reviewer": fx.world.county_supervisor.pk},
    "campaign-review-record": lambda fx: {
        "answers": [{"item": item, "answer": "pass"} for item in CHECKLISTS[CampaignKind.SPECIAL_SUPERVISION]],
        "summary": "办理规范",
    },
    "campaign-problem": lambda fx: {
        "type": ProblemType.EVIDENCE,
        "description": "证据未固定",
        "responsible_unit": fx.world.county.pk,
        "rectify_by": (timezone.localdate() + timedelta(days=7)).isoformat(),
    },
    "campaign-problem-rectify": lambda fx: {
        "rectification": "已补充调查",
        "rectified_on": timezone.localdate().isoformat(),
    },
    "campaign-make-up": lambda fx: {"problem": fx.value("problem").pk},
    "campaign-accountability": lambda fx: {
        "officer_name": "王某",
        "unit": fx.world.county.pk,
        "measure": "admonishment",
        "document_reference": "杭督〔2026〕3号",
        "decided_on": timezone.localdate().isoformat(),
    },
    "warning-acknowledge": lambda fx: {"note": "已安排核查"},
    "warning-resolve": lambda fx: {"note": "经核查为同一起事件重复报案"},
    "evaluation-create": lambda fx: {"unit": fx.world.county.pk, "year": timezone.localdate().year - 1, "quarter": 1},
    "evaluation-lessons": lambda fx: {"lessons": LESSONS + "三、"},
    "evaluation-submit": lambda fx: {},
    "evaluation-approve": lambda fx: {},
    "evaluation-return": lambda fx: {"note": "请补充整改措施"},
    "campaign-pursuit-step": lambda fx: {
        "status": "arrested",
        "on": timezone.localdate().isoformat(),
        "unit": fx.world.county.pk,
    },
    "api-library-feedback": lambda fx: {"useful": True},
    "api-library-propose": lambda fx: {"case": fx.in_status(CaseStatus.CLOSED).pk},
    "api-library-edit": lambda fx: {"lessons_zh": "遇冲撞先避让。"},
    "api-library-action": lambda fx: {
        "scope_unit": fx.world.city.pk,
        "version": fx.writeup_version("submitted_typical_case"),
    },
    "api-guidance-create": lambda fx: {
        "unit": fx.world.city.pk,
        **TIP_TEXTS,
        "priority": "normal",
        "valid_from": timezone.localdate().isoformat(),
    },
    "api-guidance-edit": lambda fx: {"body_zh": "拦车检查时站在车辆侧前方。", "version": fx.tip_version("draft_tip")},
    "api-guidance-submit": lambda fx: {"version": fx.tip_version("draft_tip")},
    "api-guidance-return": lambda fx: {"note": "请补充英文", "version": fx.tip_version("submitted_tip")},
    "api-guidance-publish": lambda fx: {"scope_unit": fx.world.city.pk, "version": fx.tip_version("submitted_tip")},
    "api-guidance-withdraw": lambda fx: {"note": "已过时", "version": fx.tip_version("tip")},
    "api-guidance-copy": lambda fx: {"version": fx.tip_version("tip")},
}

# Rows whose object must first be in a particular state.
SETUP: dict[str, Callable[[Fixture], Any]] = {
    "reveal-officer": lambda fx: services.update_involved_officer(
        officer=fx.value("officer"), by=fx.world.supervisor, medical_notes="左臂骨折"
    ),
    "officer-reveal": lambda fx: services.update_involved_officer(
        officer=fx.value("officer"), by=fx.world.supervisor, medical_notes="左臂骨折"
    ),
    # Cases reach supervision on the criminal track in the fixtures; the extension is the administrative track's.
    "clock-extend": lambda fx: Case.objects.filter(pk=fx.in_status(CaseStatus.SUPERVISION).pk).update(
        track=Track.ADMINISTRATIVE
    ),
    "clock-resume": lambda fx: services.pause_clock(
        case=fx.current("intake"), by=fx.world.supervisor, expected_version=None, reason="other"
    ),
    "api-legal-hold-lift": lambda fx: retention_services.place_legal_hold(
        case=fx.current("closed"), by=fx.world.admin, reason="Court order"
    ),
}


# --- callers ---------------------------------------------------------------------------------------------------


def browsers(world: World) -> dict[str, Client]:
    made = {}
    # Every session re-authenticated recently (reveals and exports need it; tests/security/test_reveal.py proves
    # the re-authentication itself): the rows are about who may, not about how recently they typed their password.
    for role, attribute in WORLD_ATTRIBUTE.items():
        made[role] = Client(raise_request_exception=False)
        made[role].force_login(getattr(world, attribute))
        reauthenticated(made[role])
    deactivated = member(world.city, Role.SUPERVISOR)
    made["deactivated"] = Client(raise_request_exception=False)
    made["deactivated"].force_login(deactivated)
    reauthenticated(made["deactivated"])
    account_services.deactivate_user(user=deactivated)
    made["anonymous"] = Client(raise_request_exception=False)
    return {role: made[role] for role in ROLES}


NEW_PASSWORD = "a-new-and-long-passphrase-9"
ADMIN_DATA: dict[str, Callable[[Fixture], Any]] = {
    "admin-user-self": lambda fx: user_form(fx.world.admin, is_superuser="on", is_staff="on"),
    "admin-deactivate": lambda fx: {k: v for k, v in user_form(fx.world.officer).items() if k != "is_active"},
    "admin-password": lambda fx: {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    "admin-password-sibling": lambda fx: {
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "usable_password": "true",
    },
    "admin-add-user": lambda fx: {
        "username": "new_officer",
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "unit": fx.world.station.pk,
        "role": Role.OFFICER,
    },
    "admin-grant": lambda fx: {"user": fx.world.officer.pk, "unit": fx.world.county.pk, "role": Role.SUPERVISOR},
    "admin-grant-ministry": lambda fx: {"user": fx.world.admin.pk, "unit": fx.world.ministry.pk, "role": Role.ADMIN},
    "admin-revoke": lambda fx: {"post": "yes"},
    "admin-revoke-sibling": lambda fx: {"post": "yes"},
    "admin-unit-rename": lambda fx: {"name": "北山街派出所", "name_en": "Beishan Street"},
    "admin-unit-sibling": lambda fx: {"name": "浙江省公安厅二处", "name_en": "Taken over"},
    "admin-stage-limit": lambda fx: {"days": 1, "halved_in_major_period": "on"},
    "admin-retention-period": lambda fx: {
        "seal_after_days": 1,
        "anonymise_after_days": 2,
        "reason": "Shorter",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
    },
}


def admin_browsers(world: World) -> dict[str, Client]:
    """The callers of the admin table: every person staff and in the unit administrators' group."""
    group = ensure_admin_group()
    made = {}
    for role, attribute in WORLD_ATTRIBUTE.items():
        user = getattr(world, attribute)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(group)
        made[role] = Client(raise_request_exception=False)
        made[role].force_login(user)
    deactivated = member(world.city, Role.SUPERVISOR, is_staff=True)
    deactivated.groups.add(group)
    made["deactivated"] = Client(raise_request_exception=False)
    made["deactivated"].force_login(deactivated)
    account_services.deactivate_user(user=deactivated)
    made["anonymous"] = Client(raise_request_exception=False)
    return {role: made[role] for role in ROLES}


def cell_of(response: Any) -> str:
    """The answer as the document writes it."""
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    location = response.get("Location", "")
    if response.status_code in (301, 302) and location.startswith(LOGIN_PREFIX):
        return f"{response.status_code} login"
    if response.status_code in (301, 302) and location.startswith(ADMIN_LOGIN_PREFIX):
        return f"{response.status_code} admin login"
    if response.status_code == 302 and location == ADMIN_INDEX:
        return "302 admin index"
    if response.status_code == 200 and response.context is not None and response.context.get("errors"):
        return "200 form error"
    session = getattr(getattr(response, "wsgi_request", None), "session", None)
    if response.status_code == 302 and session is not None and KEPT_INPUT in session:
        return "302 kept"
    return str(response.status_code)


def is_refusal(cell: str) -> bool:
    return cell.endswith(("login", "admin index", "form error", "kept")) or int(cell.split()[0]) >= 400


def records() -> tuple:
    """Every row a request could write (the access log aside: a refusal is meant to leave its trace there)."""
    return (
        records_snapshot(),
        tuple(SavedQueueFilter.objects.order_by("pk").values_list("pk", "user_id", "name", "query")),
        tuple(ReportExport.objects.order_by("pk").values_list("pk", "status")),
        tuple(QueueExport.objects.order_by("pk").values_list("pk", "status")),
        tuple(Notification.objects.order_by("pk").values_list("pk", "read_at")),
        tuple(NotificationPreference.objects.order_by("pk").values_list("pk", "user_id", "kind", "delivery")),
        tuple(Membership.objects.order_by("pk").values_list("pk", "user_id", "unit_id", "role")),
        tuple(Case.objects.order_by("pk").values_list("pk", *_CASE_FACTS)),
        tuple(User.objects.order_by("pk").values_list("pk", "is_active", "is_staff", "is_superuser", "password")),
        tuple(OrgUnit.objects.order_by("pk").values_list("pk", "name", "name_en", "parent_id")),
        tuple(StageLimit.objects.order_by("pk").values_list("pk", "days", "halved_in_major_period")),
        tuple(RetentionPolicy.objects.order_by("pk").values_list("pk", "seal_after_days", "anonymise_after_days")),
        RetentionPolicyChange.objects.count(),
        AccountAudit.objects.count(),
        campaign_records(),
        tuple(EarlyWarning.objects.order_by("pk").values_list("pk", "state", "version")),
        tuple(EvaluationReport.objects.order_by("pk").values_list("pk", "state", "version", "lessons")),
        library_records(),
        tuple(IncidentImport.objects.order_by("pk").values_list("pk", "incident_number", "unit_id", "case_id")),
    )


def library_records() -> tuple:
    """Every row of the typical-case library a request could write."""
    return (
        tuple(WriteUp.objects.order_by("pk").values_list("pk", "state", "version", "listed", *LIBRARY_COLUMNS)),
        WriteUpVersion.objects.count(),
        WriteUpEvent.objects.count(),
        LibraryRead.objects.count(),
        tuple(LibraryFeedback.objects.order_by("pk").values_list("pk", "useful")),
        tuple(Tip.objects.order_by("pk").values_list("pk", "state", "version", "title_zh", "body_zh", "priority")),
        TipEvent.objects.count(),
        TipRead.objects.count(),
    )


def campaign_records() -> tuple:
    """Every row of the oversight campaigns a request could write."""
    return (
        tuple(Campaign.objects.order_by("pk").values_list("pk", "state", "selected_count")),
        tuple(CampaignCase.objects.order_by("pk").values_list("pk", "made_up_at", "version")),
        tuple(Problem.objects.order_by("pk").values_list("pk", "rectified_on")),
        tuple(PursuitRecord.objects.order_by("pk").values_list("pk", "status", "ended_on")),
        ReviewerAssignment.objects.count(),
        Review.objects.count(),
        Accountability.objects.count(),
        CampaignEvent.objects.count(),
    )


# Accepted requests that write nothing the snapshot compares: marking an empty inbox read, leaving, choosing a
# language, an inline report export and a reveal (only their access-log entries are written).
WRITES_NOTHING = {
    "notifications-read",
    "logout",
    "set-language",
    "reports-export",
    "reveal-suspect",
    "reveal-officer",
    "suspect-reveal",
    "officer-reveal",
}
_CASE_FACTS = (
    "summary",
    "narrative",
    "weapon",
    "major_security_period",
    "paused_at",
    "pause_reason",
    "is_stalled",
    "legal_hold",
    "legal_hold_reason",
    "sealed_at",
    "anonymised_at",
)


def run_row(
    row: Row,
    fx: Fixture,
    callers: dict[str, Any],
    data: Callable[[Fixture], Any] | None,
    api: bool,
    roles: tuple[str, ...] = ROLES,
) -> None:
    url = fx.url(row.path)
    if row.id in SETUP:
        SETUP[row.id](fx)
    if data:
        data(fx)  # build whatever the payload names now, not inside a savepoint that is rolled back
    answers: dict[str, str] = {}
    changed_on_refusal: list[str] = []
    unchanged_on_success: list[str] = []
    for role in roles:
        files_before = stored_files()
        with transaction.atomic():
            before = records()
            payload = data(fx) if data else None
            client = callers[role]
            if api:
                options = {"format": "json"} if payload is not None else {}
                response = getattr(client, row.method)(url, payload, **options)
            elif payload is not None:
                response = getattr(client, row.method)(url, payload)
            else:
                response = getattr(client, row.method)(url)
            answers[role] = cell_of(response)
            changed = records() != before
            if is_refusal(answers[role]) and changed:
                changed_on_refusal.append(role)
            if not is_refusal(answers[role]) and row.method != "get" and row.id not in WRITES_NOTHING and not changed:
                unchanged_on_success.append(role)
            transaction.set_rollback(True)
        for name in stored_files() - files_before:
            evidence.path_of(name).unlink()
    assert answers == row.cells, (
        f"{row.method.upper()} {url}: the document says {row.cells}, the site answers {answers}"
    )
    assert changed_on_refusal == [], f"records changed although the request was refused: {changed_on_refusal}"
    assert unchanged_on_success == [], f"accepted, yet nothing was written: {unchanged_on_success}"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- the document itself ---------------------------------------------------------------------------------------


def test_the_document_has_its_three_tables():
    assert len(HTML_ROWS) == len(TABLES[HTML_SECTION]), "a row id is used twice in the browser table"
    assert len(API_OTHER_ROWS) == len(TABLES[API_OTHER_SECTION]), "a row id is used twice in the API table"
    assert (len(HTML_ROWS), len(API_MATRIX_ROWS), len(API_OTHER_ROWS)) == (149, 31, 97)


def _route_names(namespace: str) -> set[str]:
    resolver = get_resolver()
    found = resolver.namespace_dict[namespace][1]
    return {f"{namespace}:{p.name}" for p in found.url_patterns if getattr(p, "name", None)}


def _resolved_names(rows: list[Row]) -> set[str]:
    fake = re.compile(r"\{\w+\}")
    return {resolve(fake.sub("1", row.path).split("?")[0]).view_name for row in rows}


def test_every_case_page_and_api_route_has_a_row():
    html = _resolved_names(list(HTML_ROWS.values()))
    api = _resolved_names([*API_MATRIX_ROWS.values(), *API_OTHER_ROWS.values(), *HTML_ROWS.values()])
    assert _route_names("cases") - html == set(), "case pages without a row in the browser table"
    assert _route_names("oversight") - html == set(), "campaign pages without a row in the browser table"
    assert _route_names("analysis") - html == set(), "analysis pages without a row in the browser table"
    assert _route_names("api") - api == set(), "API routes without a row in the API tables"
    assert _route_names("campaigns-api") - api == set(), "campaign API routes without a row in the API tables"
    assert _route_names("analysis-api") - api == set(), "analysis API routes without a row in the API tables"
    assert _route_names("warnings-api") - api == set(), "early-warning API routes without a row in the API tables"
    assert _route_names("library") - html == set(), "library pages without a row in the browser table"
    assert _route_names("library-api") - api == set(), "library API routes without a row in the API tables"
    assert _route_names("guidance-api") - api == set(), "guidance API routes without a row in the API tables"
    integration = _resolved_names(list(INTEGRATION_ROWS.values()))
    assert _route_names("integrations-api") - integration == set(), "integration API routes without a row"


def test_every_post_row_says_what_it_sends():
    posted = {row.id for row in HTML_ROWS.values() if row.method != "get"}
    silent = {
        "notifications-read",
        "notification-read",
        "queue-delete",
        "remove-officer",
        "remove-party",
        "undo-removal",
        "unknown-action",
        "logout",
    }
    assert set(HTML_DATA) - posted == set(), "form data for rows the document does not have"
    assert posted - set(HTML_DATA) == silent
    assert set(API_DATA) <= set(API_OTHER_ROWS)


def test_the_api_table_is_the_api_role_matrix():
    """Same rows, same requests, same cells as tests/api/test_matrix.py (which runs them)."""
    stub = SimpleNamespace(
        case=SimpleNamespace(
            pk="{intake}",
            officers=SimpleNamespace(get=lambda: SimpleNamespace(pk="{officer}")),
            occurred_at=SimpleNamespace(year="{year}"),
        ),
        draft=SimpleNamespace(pk="{draft}"),
        suspect=SimpleNamespace(pk="{suspect}"),
        attachment=SimpleNamespace(pk="{attachment}"),
        flag=SimpleNamespace(pk="{flag}"),
    )
    in_test = {name: (call.method, call.url(stub)) for name, call in API_MATRIX_ENDPOINTS.items()}
    in_document = {row.id: (row.method, row.path) for row in API_MATRIX_ROWS.values()}
    assert in_document == in_test
    cells = {row.id: tuple(int(row.cells[role]) for role in ROLES) for row in API_MATRIX_ROWS.values()}
    assert cells == API_MATRIX_EXPECTED


# --- the rows, run ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("row_id", list(HTML_ROWS))
def test_browser_page(world, media, row_id):
    row = HTML_ROWS[row_id]
    run_row(row, Fixture(world), browsers(world), HTML_DATA.get(row_id), api=False)


@pytest.mark.parametrize("row_id", list(API_OTHER_ROWS))
def test_api_endpoint(world, media, row_id):
    row = API_OTHER_ROWS[row_id]
    fx = Fixture(world)
    fx.url(row.path)  # build the objects before the deactivated caller's account is made
    run_row(row, fx, api_clients(world), API_DATA.get(row_id), api=True)


@pytest.mark.parametrize("row_id", list(ADMIN_ROWS))
def test_admin_page(world, media, row_id):
    row = ADMIN_ROWS[row_id]
    fx = Fixture(world)
    fx.url(row.path)  # build the objects before the callers are made
    run_row(row, fx, admin_browsers(world), ADMIN_DATA.get(row_id), api=False)


def test_the_admin_table_is_there_and_says_what_it_sends():
    assert len(ADMIN_ROWS) == len(TABLES[ADMIN_SECTION]) == 24, "a row id is used twice, or rows went missing"
    assert {row.id for row in ADMIN_ROWS.values() if row.method != "get"} == set(ADMIN_DATA)
    assert {resolve(re.sub(r"\{\w+\}", "1", row.path)).namespace for row in ADMIN_ROWS.values()} == {"admin"}


# --- what each reader sees of a case ---------------------------------------------------------------------------

# What each row of the content table looks for in the answer (the page's HTML or the API's JSON).
CONTENT_MARKERS: dict[str, Callable[[Fixture], str]] = {
    "sees-flag-box": lambda fx: 'data-flag-kind="stalled"',
    "sees-finding": lambda fx: "久拖",
    "sees-finding-event": lambda fx: '<li class="finding">',
    "sees-internal-note": lambda fx: INTERNAL_NOTE,
    "sees-shared-note": lambda fx: SHARED_NOTE,
    "sees-support": lambda fx: str(SupportKind.COMFORT_VISIT.label),
    "api-sees-internal-note": lambda fx: INTERNAL_NOTE,
    "api-sees-finding-event": lambda fx: '"kind":"finding"',
    "api-sees-shared-note": lambda fx: SHARED_NOTE,
    "api-sees-flag": lambda fx: '"open_flags":["stalled"]',
    "api-flag-filter": lambda fx: f'"reference":"{fx.value("intake").reference}"',
    "library-sees-source": lambda fx: fx.value("typical_case").case.reference,
    "api-library-sees-source": lambda fx: fx.value("typical_case").case.reference,
}


def test_the_content_table_is_there_and_every_row_looks_for_something():
    assert len(CONTENT_ROWS) == len(TABLES[CONTENT_SECTION]) == 13, "a row id is used twice, or rows went missing"
    assert set(CONTENT_ROWS) == set(CONTENT_MARKERS)
    assert {row.method for row in CONTENT_ROWS.values()} == {"get"}


@pytest.mark.parametrize("row_id", list(CONTENT_ROWS))
def test_what_each_reader_sees(world, media, row_id):
    row = CONTENT_ROWS[row_id]
    fx = Fixture(world)
    url = fx.url(row.path)
    api = url.startswith("/api/")
    callers = api_clients(world) if api else browsers(world)
    marker = CONTENT_MARKERS[row_id](fx)
    answers: dict[str, str] = {}
    for role in ROLES:
        with translation.override("en"):
            response = callers[role].get(url, HTTP_ACCEPT_LANGUAGE="en")
        cell = cell_of(response)
        if cell == "200":
            body = response.content.decode()
            if api:
                body = body.replace(": ", ":").replace(", ", ",")
            cell = "shown" if marker in body else "hidden"
        answers[role] = cell
    assert answers == row.cells, f"GET {url}: the document says {row.cells}, the site answers {answers}"


# --- changes of standing ---------------------------------------------------------------------------------------


def test_a_revoked_membership_ends_access_on_the_next_request(world, media):
    case = case_in(world, CaseStatus.INTAKE)
    browser = Client()
    browser.force_login(world.supervisor)
    api = token_client(world.supervisor)
    page, endpoint = f"/cases/{case.pk}/", f"/api/v1/cases/{case.pk}/"
    assert (browser.get(page).status_code, api.get(endpoint).status_code) == (200, 200)
    assert browser.get("/queue/").status_code == 200

    account_services.revoke_membership(membership=Membership.objects.get(user=world.supervisor, unit=world.city))

    # The change of roles also revoked the supervisor's API tokens; a token obtained afterwards sees what the
    # remaining roles allow.
    assert (browser.get(page).status_code, api.get(endpoint).status_code) == (404, 401)
    assert token_client(world.supervisor).get(endpoint).status_code == 404
    assert browser.get("/queue/").status_code == 403
    before = records()
    note = browser.post(f"/cases/{case.pk}/notes/", {"text": "仍想补充"})
    assert (note.status_code, records()) == (404, before)


def _logged_in_browser(username: str) -> Client:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert (response.status_code, response["Location"]) == (302, settings.LOGIN_REDIRECT_URL)
    return browser


def test_deactivation_ends_the_accounts_sessions_and_tokens_at_once(world, media):
    case = case_in(world, CaseStatus.INTAKE)
    page = f"/cases/{case.pk}/"
    desk, laptop = _logged_in_browser("supervisor"), _logged_in_browser("supervisor")
    terminal = token_client(world.supervisor)
    assert (desk.get(page).status_code, laptop.get(page).status_code) == (200, 200)
    assert terminal.get("/api/v1/me/").status_code == 200

    account_services.deactivate_user(user=world.supervisor)

    response = laptop.get(page)
    assert (response.status_code, response["Location"]) == (302, f"{LOGIN_PREFIX}{page}")
    assert desk.get("/queue/")["Location"] == f"{LOGIN_PREFIX}/queue/"
    assert terminal.get("/api/v1/me/").status_code == 401
    assert terminal.get(f"/api/v1/cases/{case.pk}/").status_code == 401
    assert not ApiToken.objects.filter(user=world.supervisor).exists()
    # Nor can the account log in again.
    assert Client().post("/accounts/login/", {"username": "supervisor", "password": PASSWORD}).status_code == 200
    token = APIClient().post("/api/v1/auth/token/", {"username": "supervisor", "password": PASSWORD}, format="json")
    assert token.status_code == 400


def test_a_reactivated_account_must_log_in_again(world, media):
    """Deactivation ends the sessions; it does not suspend them until an administrator ticks "active" again."""
    case = case_in(world, CaseStatus.INTAKE)
    page = f"/cases/{case.pk}/"
    laptop = _logged_in_browser("supervisor")
    assert laptop.get(page).status_code == 200

    account_services.deactivate_user(user=world.supervisor)
    assert laptop.get(page).status_code == 302
    # An administrator reactivates the account (the admin site's "active" box saves the user like this).
    world.supervisor.refresh_from_db()
    world.supervisor.is_active = True
    world.supervisor.save()

    response = laptop.get(page)
    assert (response.status_code, response.get("Location")) == (302, f"{LOGIN_PREFIX}{page}")


# --- integration accounts --------------------------------------------------------------------------------------

INTEGRATION_DATA: dict[str, Callable[[Fixture], Any]] = {
    "incident-110": lambda fx: incident(fx.world),
}


def integration_client(world: World) -> APIClient:
    """The city's 110 dispatch system, with a token."""
    account = User.objects.filter(username="hz110").first() or create_integration_account(
        username="hz110", name="杭州市110接处警系统", unit=world.city
    )
    return integration_token_client(account)


def test_the_integration_table_is_there_and_says_what_it_sends():
    assert set(INTEGRATION_ROWS) == {"incident-110"}
    assert {row.id for row in INTEGRATION_ROWS.values() if row.method != "get"} == set(INTEGRATION_DATA)


@pytest.mark.parametrize("row_id", list(INTEGRATION_ROWS))
def test_integration_endpoint(world, media, row_id):
    row = INTEGRATION_ROWS[row_id]
    fx = Fixture(world)
    callers = {**api_clients(world), "integration": integration_client(world)}
    run_row(row, fx, callers, INTEGRATION_DATA.get(row_id), api=True, roles=INTEGRATION_ROLES)


def _refused_everywhere(fx: Fixture, rows: list[Row], client: Any, data: dict[str, Any], api: bool) -> list[str]:
    """Request each row as the integration account; the rows that did not answer as the document says, or wrote."""
    wrong = []
    for row in rows:
        # The API role matrix's yearly report names the intake case's year (tests/api/test_matrix.py).
        url = fx.url(row.path.replace("{year}", str(fx.value("intake").occurred_at.year)))
        if row.id in SETUP:
            SETUP[row.id](fx)
        make = data.get(row.id)
        if make:
            make(fx)  # build what the payload names outside the savepoint
        files_before = stored_files()
        with transaction.atomic():
            before = records()
            payload = make(fx) if make else None
            options = {"format": _format(row.id)} if api and payload is not None else {}
            response = getattr(client, row.method)(url, payload, **options)
            cell = cell_of(response)
            changed = records() != before
            transaction.set_rollback(True)
        for name in stored_files() - files_before:
            evidence.path_of(name).unlink()
        expected = INTEGRATION_EXCEPTIONS.get(row.id, "403")
        if cell != expected or changed:
            wrong.append(f"{row.id}: {row.method.upper()} {url} answered {cell}{' and wrote' if changed else ''}")
    return wrong


def _format(row_id: str) -> str:
    call = API_MATRIX_ENDPOINTS.get(row_id)
    return "multipart" if call is not None and call.multipart else "json"


def test_the_integration_token_is_refused_by_every_other_api_row(world, media):
    fx = Fixture(world)
    client = integration_client(world)
    matrix_data = {
        name: (lambda fx, call=call: call.data(fx.world, _api_objects(fx)))
        for name, call in API_MATRIX_ENDPOINTS.items()
    }
    rows = [*API_MATRIX_ROWS.values(), *API_OTHER_ROWS.values()]
    wrong = _refused_everywhere(fx, rows, client, {**matrix_data, **API_DATA}, api=True)
    assert wrong == [], "\n".join(wrong)


def test_an_integration_accounts_session_is_refused_on_every_page(world, media):
    fx = Fixture(world)
    integration_client(world)
    browser = Client(raise_request_exception=False)
    browser.force_login(User.objects.get(username="hz110"))
    wrong = _refused_everywhere(fx, list(HTML_ROWS.values()), browser, HTML_DATA, api=False)
    assert wrong == [], "\n".join(wrong)


def _api_objects(fx: Fixture) -> SimpleNamespace:
    """The objects tests/api/test_matrix.py's payloads name, taken from this file's fixture."""
    return SimpleNamespace(
        case=fx.value("intake"),
        draft=fx.value("draft"),
        suspect=fx.value("suspect"),
        attachment=fx.value("attachment"),
        flag=fx.value("flag"),
    )
