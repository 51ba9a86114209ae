"""A hand-built set of cases and warnings for the case analysis and evaluation report (analysis/evaluation.py), of the
county 330106 in the second quarter and the whole of 2025 against 2024: see ``evaluation_dataset``."""

from dataclasses import dataclass

from django.utils import timezone

from analysis.choices import WarningKind
from analysis.models import EarlyWarning, OfficerStrength
from analysis.services import acknowledge_warning
from cases import services
from cases.choices import InjuryGrade
from cases.models import Case
from tests.analysis.dataset import at, filed
from tests.analysis.warnings_dataset import a_warning
from tests.factories import World
from tests.reports.dataset import clock

N1, N2 = "330106198503070011", "330106199204150022"


@dataclass
class Dataset:
    a1: Case
    a2: Case
    a3: Case
    a4: Case
    a5: Case
    z1: Case  # Q1 2025
    b1: Case  # Q3 2025
    c1: Case  # Q2 2024
    c2: Case  # Q1 2024
    unit_rise: EarlyWarning  # the county's, raised in May 2025 and acknowledged
    repeat: EarlyWarning  # on A3, owned by the other station, raised in May 2025, open
    summer: EarlyWarning  # the county's, raised in July 2025: in the year, not the quarter


def suspect(case: Case, by, name: str, id_number: str, moment) -> None:
    with clock(moment):
        services.add_suspect(case=case, by=by, name=name, id_number=id_number)


def evaluation_dataset(world: World) -> Dataset:
    """The county's cases, by local month of submission (Asia/Shanghai):

    - Q2 2025 (5): A1 station 10 April, 110 call on a road, an officer with a minor injury (grade 2), suspect
      "张三丰" (ID N2); A2 station 22 April, 110 call, residential area; A3 other station 5 May, nothing recorded,
      suspect "Li Sisi" (ID N1); A4 other station 30 June 23:30 (still June there), patrol, no place; A5 station
      12 June, 110 call on a road, an officer with a slight injury (not counted as injured).
    - elsewhere in 2025: Z1 station 1 February, suspect "张某" (ID N2); B1 station 1 August, dispute in a market.
    - 2024: C1 station 10 May, a minor injury (grade 1), suspect "李某" (ID N1); C2 other station 1 February, suspect
      "张某" (ID N2).
    - outside the county: a case of the sibling province in January 2024 with a suspect of ID N1 (never counted, nor
      as an earlier case), one in April 2025; a draft of the station in April 2025 (never counted).

    Strength of the county: 200 officers in 2025 (150 + 50), 100 in 2024 (80 + 20). Warnings: the county's rise in
    May 2025 (acknowledged), a repeat-attacker warning on A3 (the other station's, May 2025, open), the county's rise
    in July 2025 (open); and the sibling province's in May 2025 (never counted).
    """
    w = world
    s, o = w.station, w.other_station
    a1 = filed(w, s, w.officer, at(2025, 4, 10), occurred=at(2025, 4, 9), injuries=[InjuryGrade.MINOR_2],
               duty_scenario="call_110", place_category="road")  # fmt: skip
    a2 = filed(w, s, w.officer, at(2025, 4, 22), occurred=at(2025, 4, 21), duty_scenario="call_110",
               place_category="residential")  # fmt: skip
    a3 = filed(w, o, w.other_officer, at(2025, 5, 5), occurred=at(2025, 5, 4))
    a4 = filed(w, o, w.other_officer, at(2025, 6, 30, 23, 30), occurred=at(2025, 6, 30, 20), duty_scenario="patrol")
    a5 = filed(w, s, w.officer, at(2025, 6, 12), occurred=at(2025, 6, 11), injuries=[InjuryGrade.SLIGHT],
               duty_scenario="call_110", place_category="road")  # fmt: skip
    z1 = filed(w, s, w.officer, at(2025, 2, 1), occurred=at(2025, 1, 31))
    b1 = filed(w, s, w.officer, at(2025, 8, 1), occurred=at(2025, 7, 31), duty_scenario="dispute",
               place_category="market")  # fmt: skip
    c1 = filed(w, s, w.officer, at(2024, 5, 10), occurred=at(2024, 5, 9), injuries=[InjuryGrade.MINOR_1])
    c2 = filed(w, o, w.other_officer, at(2024, 2, 1), occurred=at(2024, 1, 31))
    x0 = filed(w, w.sibling_station, w.sibling_officer, at(2024, 1, 10), occurred=at(2024, 1, 9))
    filed(w, w.sibling_station, w.sibling_officer, at(2025, 4, 15), occurred=at(2025, 4, 14))
    with clock(at(2025, 4, 16)):
        draft = services.create_draft_case(by=w.officer, unit=s, details={"kind": "violent_attack"})
    suspect(draft, w.officer, "王某", N2, at(2025, 4, 16, 11))
    suspect(x0, w.sibling_supervisor, "李某", N1, at(2024, 1, 11))
    suspect(c2, w.supervisor, "张某", N2, at(2024, 2, 2))
    suspect(c1, w.supervisor, "李某", N1, at(2024, 5, 11))
    suspect(z1, w.supervisor, "张某", N2, at(2025, 2, 2))
    suspect(a1, w.supervisor, "张三丰", N2, at(2025, 4, 11))
    suspect(a3, w.supervisor, "Li Sisi", N1, at(2025, 5, 6))
    now = timezone.now()
    OfficerStrength.objects.create(unit=w.county, year=2025, regular=150, auxiliary=50, recorded_at=now)
    OfficerStrength.objects.create(unit=w.county, year=2024, regular=80, auxiliary=20, recorded_at=now)
    unit_rise = a_warning(
        WarningKind.UNIT_RISE, w.county, raised_at=at(2025, 5, 2), key=f"unit_rise:{w.county.pk}:2025-04-30"
    )
    with clock(at(2025, 5, 3)):
        unit_rise = acknowledge_warning(warning=unit_rise, by=w.county_supervisor, note="已核查")
    repeat = a_warning(WarningKind.REPEAT_ATTACKER, o, case=a3, raised_at=at(2025, 5, 6, 12))
    summer = a_warning(
        WarningKind.UNIT_RISE, w.county, raised_at=at(2025, 7, 2), key=f"unit_rise:{w.county.pk}:2025-06-30"
    )
    a_warning(
        WarningKind.SCENARIO_RISE,
        w.sibling_province,
        raised_at=at(2025, 5, 2),
        key=f"scenario_rise:{w.sibling_province.pk}:scenario:call_110:2025-04-30",
    )
    return Dataset(a1, a2, a3, a4, a5, z1, b1, c1, c2, unit_rise, repeat, summer)
