"""A city running campaigns over two counties: the world's county (西湖) and an eastern one (滨江), each with a
station, an officer filing there and a supervisor of the county."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import OrgUnit, Role, User
from cases import services as case_services
from cases.choices import CaseStatus
from cases.models import Case
from cases.workflow_actions import WORKFLOW_ACTIONS
from oversight import services
from oversight.choices import CampaignKind, SelectionMode
from oversight.models import Campaign
from oversight.scope import Scope
from tests.factories import PATH, World, build_world, complete_details, member, resolve


@dataclass
class Camp:
    world: World
    east: OrgUnit
    east_station: OrgUnit
    east_officer: User
    east_supervisor: User

    @property
    def city(self) -> OrgUnit:
        return self.world.city


def build_camp() -> Camp:
    world = build_world()
    east = account_services.create_org_unit(code="330108", name="滨江区分局", level="county", parent=world.city)
    east_station = account_services.create_org_unit(code="330108001", name="西兴派出所", level="station", parent=east)
    return Camp(
        world=world,
        east=east,
        east_station=east_station,
        east_officer=member(east_station, Role.OFFICER, username="east_officer"),
        east_supervisor=member(east, Role.SUPERVISOR, username="east_supervisor"),
    )


@pytest.fixture
def camp(db) -> Camp:
    return build_camp()


def case_at(camp: Camp, status: str, *, east: bool = False, **details: object) -> Case:
    """A case filed at the west station (the world's) or the east one, taken to ``status`` by the city supervisor."""
    world = camp.world
    officer, unit = (camp.east_officer, camp.east_station) if east else (world.officer, world.station)
    case = case_services.create_draft_case(by=officer, unit=unit, details=complete_details(**details))
    for action, who, payload in PATH[status]:
        by = officer if who == "officer" else getattr(world, who)
        case = WORKFLOW_ACTIONS[action].service(
            case=case, by=by, expected_version=case.version, **resolve(world, payload)
        )
    assert case.status == status
    return case


def new_campaign(
    camp: Camp,
    *,
    by: User | None = None,
    scope: Scope | None = None,
    selection: str = SelectionMode.ALL,
    sample_size: int | None = None,
    seed: str = "",
    kind: str = CampaignKind.SPECIAL_SUPERVISION,
    name: str = "2026年袭警案件专项监督",
) -> Campaign:
    today = timezone.localdate()
    return services.create_campaign(
        by=by or camp.world.supervisor,
        name=name,
        kind=kind,
        owner_unit=camp.city,
        period_start=date(today.year, 1, 1),
        period_end=date(today.year, 12, 31),
        deadline=today + timedelta(days=30),
        scope=scope if scope is not None else Scope(statuses=(CaseStatus.CLOSED,)),
        selection=selection,
        sample_size=sample_size,
        seed=seed,
    )
