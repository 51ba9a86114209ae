"""Test data builders. Units and cases are made through the services so paths, clocks and events are real."""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import factory
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import OrgUnit, Role, User
from cases import services
from cases.choices import CaseStatus, Disposition, IncidentKind, NoSuspectReason, Track
from cases.evidence_store import exports_storage
from cases.models import Case, ExportStatus, QueueExport, ReportExport
from cases.reports.queue_jobs import queue_file
from cases.reports.services import export_file
from cases.rules.facts import SUPERVISOR, facts_asked_of
from cases.workflow_actions import WORKFLOW_ACTIONS
from rightsguard.text import when

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"民警{n}")
    badge_number = factory.Sequence(lambda n: f"{100000 + n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@police.example")
    password = factory.django.Password(PASSWORD)


def member(unit: OrgUnit, role: str, **kwargs: Any) -> User:
    user = UserFactory(**kwargs)
    account_services.grant_membership(user=user, unit=unit, role=role)
    return user


@dataclass
class World:
    """Two provinces under one ministry, with people placed to probe every visibility edge."""

    ministry: OrgUnit
    province: OrgUnit
    city: OrgUnit
    county: OrgUnit
    station: OrgUnit
    other_station: OrgUnit
    sibling_province: OrgUnit
    sibling_station: OrgUnit
    officer: User
    other_officer: User
    supervisor: User  # at the city
    county_supervisor: User
    sibling_supervisor: User  # in the other province
    ministry_supervisor: User
    admin: User  # at the province
    sibling_officer: User


def build_world() -> World:
    unit = account_services.create_org_unit
    ministry = unit(code="000000", name="公安部", name_en="Ministry of Public Security", level="ministry", parent=None)
    province = unit(code="330000", name="浙江省公安厅", level="province", parent=ministry)
    city = unit(code="330100", name="杭州市公安局", level="city", parent=province)
    county = unit(code="330106", name="西湖区分局", level="county", parent=city)
    station = unit(code="330106001", name="北山派出所", level="station", parent=county)
    other_station = unit(code="330106002", name="灵隐派出所", level="station", parent=county)
    sibling_province = unit(code="420000", name="湖北省公安厅", level="province", parent=ministry)
    sibling_city = unit(code="420100", name="武汉市公安局", level="city", parent=sibling_province)
    sibling_station = unit(code="420100001", name="江岸派出所", level="station", parent=sibling_city)
    return World(
        ministry=ministry,
        province=province,
        city=city,
        county=county,
        station=station,
        other_station=other_station,
        sibling_province=sibling_province,
        sibling_station=sibling_station,
        officer=member(station, Role.OFFICER, username="officer"),
        other_officer=member(other_station, Role.OFFICER, username="other_officer"),
        supervisor=member(city, Role.SUPERVISOR, username="supervisor"),
        county_supervisor=member(county, Role.SUPERVISOR, username="county_supervisor"),
        sibling_supervisor=member(sibling_province, Role.SUPERVISOR, username="sibling_supervisor"),
        ministry_supervisor=member(ministry, Role.SUPERVISOR, username="ministry_supervisor"),
        admin=member(province, Role.ADMIN, username="admin"),
        sibling_officer=member(sibling_station, Role.OFFICER, username="sibling_officer"),
    )


def complete_details(**overrides: Any) -> dict[str, Any]:
    details = {
        "kind": IncidentKind.VIOLENT_ATTACK,
        "occurred_at": timezone.now() - timedelta(days=1),
        "location": "杭州市西湖区北山街",
        "summary": "盘查时遭嫌疑人踢打",
        "narrative": "民警依法盘查时，嫌疑人拒不配合并踢打民警。",
    }
    details.update(overrides)
    return details


def draft(world: World, **details: Any) -> Case:
    return services.create_draft_case(by=world.officer, unit=world.station, details=complete_details(**details))


# The shortest legal path from a draft to each status, as (action, performer attribute, payload).
PATH: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    CaseStatus.DRAFT: [],
    CaseStatus.INTAKE: [("submit", "officer", {})],
    CaseStatus.WITHDRAWN: [("withdraw", "officer", {"reason": "Filed by mistake"})],
    CaseStatus.REJECTED: [("submit", "officer", {}), ("reject", "supervisor", {"reason": "Not within scope"})],
}
PATH[CaseStatus.REFERRED] = [
    *PATH[CaseStatus.INTAKE],
    ("refer", "supervisor", {"track": Track.CRIMINAL, "to_unit": "county"}),
]
PATH[CaseStatus.SUPERVISION] = [
    *PATH[CaseStatus.REFERRED],
    ("acknowledge", "supervisor", {"external_reference": "XH-2026-118"}),
]
PATH[CaseStatus.LOOK_BACK] = [
    *PATH[CaseStatus.SUPERVISION],
    ("conclude", "supervisor", {"reason": "Attacker not identified", "no_suspect_reason": NoSuspectReason.OTHER}),
]
PATH[CaseStatus.CLOSED] = [
    *PATH[CaseStatus.LOOK_BACK],
    ("close", "supervisor", {"officer_informed": True, "disposition_consistent": True}),
]


def resolve(world: World, payload: dict[str, Any]) -> dict[str, Any]:
    """Payload values naming a unit of the world ("county") become that unit."""
    return {k: getattr(world, v) if k == "to_unit" else v for k, v in payload.items()}


SUPERVISOR_FACTS = frozenset(f.name for f in facts_asked_of(SUPERVISOR))


def case_in(world: World, status: str, **details: Any) -> Case:
    """A case filed by the officer and taken to ``status``. The facts that are the supervisor's judgement are set by
    the supervisor once the application is submitted, as on the case page (the filer is never asked them)."""
    judged = {name: details.pop(name) for name in SUPERVISOR_FACTS & set(details)}
    case = draft(world, **details)
    for action, who, payload in PATH[status]:
        case = WORKFLOW_ACTIONS[action].service(
            case=case, by=getattr(world, who), expected_version=case.version, **resolve(world, payload)
        )
        if judged and action == "submit":
            case = services.update_case_details(case=case, by=world.supervisor, expected_version=None, changes=judged)
    if judged and status in (CaseStatus.DRAFT, CaseStatus.WITHDRAWN):
        raise ValueError("The supervisor's facts are set on a submitted case; a draft or a withdrawn one has none.")
    assert case.status == status
    return case


def add_convicted_suspect(world: World, case: Case) -> None:
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(suspect=suspect, by=world.supervisor, disposition=Disposition.CONVICTED_277_5_BASIC)


def finished_export(user: User, unit: OrgUnit, year: int) -> ReportExport:
    """A background report export that has finished, with its file in the exports storage."""
    job = ReportExport.objects.create(
        requested_by=user,
        unit=unit,
        year=year,
        format="csv",
        language="en",
        status=ExportStatus.DONE,
        progress=100,
        file_name="pending",
        created_at=timezone.now(),
        finished_at=timezone.now(),
    )
    job.file_name = export_file(job)
    job.save(update_fields=["file_name"])
    exports_storage().put(job.file_name, io.BytesIO(b"unit,cases\n330100,1\n"))
    return job


def finished_queue_export(user: User) -> QueueExport:
    """A queue workbook prepared in the background that has finished, with its file in the exports storage."""
    job = QueueExport.objects.create(
        requested_by=user,
        order="-last_activity_at",
        language="en",
        rows=1,
        status=ExportStatus.DONE,
        progress=100,
        file_name="pending",
        created_at=timezone.now(),
        finished_at=timezone.now(),
    )
    job.file_name = queue_file(job)
    job.save(update_fields=["file_name"])
    exports_storage().put(job.file_name, io.BytesIO(b"PK\x03\x04 a workbook"))
    return job


def due_day(moment: datetime | None, language: str = "en") -> str:
    """A due date as notifications say it: the local day, in ``language`` (``16 Dec 2026`` / ``2026年12月16日``)."""
    assert moment is not None
    with translation.override(language):
        return when(timezone.localtime(moment).date())
