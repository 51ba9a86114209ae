"""A small hand-built set of cases for the analysis (cases/breakdowns.py, analysis/figures.py): see
``analysis_dataset``."""

from datetime import datetime
from zoneinfo import ZoneInfo

from cases import services
from cases.choices import IncidentKind, InjuryGrade, OfficerType
from tests.reports.dataset import clock

SH = ZoneInfo("Asia/Shanghai")
VIOLENT, THREAT = IncidentKind.VIOLENT_ATTACK.value, IncidentKind.THREAT.value


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=SH)


def filed(world, unit, by, submitted: datetime, *, occurred: datetime, injuries=(), **facts):
    with clock(submitted):
        case = services.create_draft_case(
            by=by,
            unit=unit,
            details={
                "kind": facts.pop("kind", VIOLENT),
                "occurred_at": occurred,
                "location": "杭州",
                "summary": "执法时遭到侵害",
            },
        )
        if facts:
            case = services.update_case_details(case=case, by=by, expected_version=case.version, changes=facts)
        for injury in injuries:
            services.add_involved_officer(
                case=case, by=by, name="王警官", officer_type=OfficerType.AUXILIARY, injury=injury
            )
            case.refresh_from_db()
        return services.submit_case(case=case, by=by, expected_version=case.version)


def analysis_dataset(world):
    """S1, S2 at the station, O1 at the other station, X1 in the sibling province; D1 a draft that never counts.

    S1 violent attack, submitted 2025-03-31 23:50 Shanghai (15:50 UTC: March there), occurred Sunday 30 March 22:10,
       on a 110 call on a road, drunk attacker, two attackers; the filer and one auxiliary with a minor injury.
    S2 threat, submitted 2025-04-01 00:10 (April), occurred Tuesday 1 April 00:05, nothing else recorded.
    O1 violent attack at the other station, submitted 2025-04-20, occurred Friday 18 April 14:00, organised, in a
       hospital.
    X1 threat in the sibling province, submitted 2025-04-02.
    """
    s1 = filed(
        world,
        world.station,
        world.officer,
        at(2025, 3, 31, 23, 50),
        occurred=at(2025, 3, 30, 22, 10),
        injuries=[InjuryGrade.MINOR_2],
        duty_scenario="call_110",
        place_category="road",
        intoxicated=True,
        attackers=2,
    )
    s2 = filed(world, world.station, world.officer, at(2025, 4, 1, 0, 10), occurred=at(2025, 4, 1, 0, 5), kind=THREAT)
    o1 = filed(
        world,
        world.other_station,
        world.other_officer,
        at(2025, 4, 20),
        occurred=at(2025, 4, 18, 14),
        place_category="hospital",
        organised_or_incited=True,
        attackers=5,
    )
    x1 = filed(
        world, world.sibling_station, world.sibling_officer, at(2025, 4, 2), occurred=at(2025, 4, 1, 9), kind=THREAT
    )
    with clock(at(2025, 4, 3)):
        services.create_draft_case(by=world.officer, unit=world.station, details={"kind": VIOLENT})
    return s1, s2, o1, x1
