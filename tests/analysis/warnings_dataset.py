"""A hand-built set of cases on which the early-warning job (analysis/warnings.py) finds exactly one condition of each
kind, and two scenario rises, as of ``AS_OF`` (15 January 2026): see ``warnings_dataset``."""

from dataclasses import dataclass
from fractions import Fraction

from accounts.models import OrgUnit
from analysis.choices import Severity, WarningKind
from analysis.models import EarlyWarning, WarningSettings
from cases import services, welfare
from cases.choices import CaseStatus
from cases.models import Case, WelfarePrompt
from tests.analysis.dataset import at, filed
from tests.factories import World, case_in
from tests.reports.dataset import clock

AS_OF = at(2026, 1, 15, 9)
# The window: October to December 2025 (92 days); the baseline: the 24 months before, October 2023 to September 2025
# (731 days, 29 February 2024 among them).
WINDOW_DAYS, BASELINE_DAYS = 92, 731
# The county's expected count in the window from its 2 baseline cases: λ = 2 × 92 / 731, exactly.
LAMBDA = Fraction(2 * WINDOW_DAYS, BASELINE_DAYS)
ID_NUMBER = "420102198001011234"


@dataclass
class Dataset:
    baseline: list[Case]
    window: list[Case]
    victim_cases: list[Case]
    prompt: WelfarePrompt
    earlier: Case  # in the sibling province, with the suspect
    later: Case  # the open case at the other station whose suspect matches it
    draft: Case  # a draft listing the same number: never on record


def warnings_dataset(world: World) -> Dataset:
    """- Baseline: 2 cases at the other station (responding to a 110 call, on a road), March 2024 and February 2025.
    - Window: 6 such cases in November 2025 and 1 on patrol (no place recorded) in December 2025: 7 for the county,
      6 for the province's 110 calls and roads, 1 for its patrols (fewer than the minimum of 5).
    - The filing officer of the station, attacked on 5, 8 and 12 January 2026 (outside the window): a welfare prompt.
    - A case in the sibling province (May 2025) and an open case at the other station (January 2026) whose suspects
      have the same ID number; a draft of the station's officer listing it too.
    """
    # The settings these figures were worked out under, as an administrator set them long before: a 24-month baseline
    # and alpha 0.01 (the defaults are stricter: a 12-month baseline and 0.001).
    WarningSettings.objects.create(
        window_days=90,
        baseline_months=24,
        alpha=0.01,
        min_cases=5,
        repeat_victim_threshold=3,
        changed_at=at(2023, 1, 1),
    )
    rise = {"duty_scenario": "call_110", "place_category": "road"}
    baseline = [
        filed(world, world.other_station, world.other_officer, at(2024, 3, 10), occurred=at(2024, 3, 9), **rise),
        filed(world, world.other_station, world.other_officer, at(2025, 2, 10), occurred=at(2025, 2, 9), **rise),
    ]
    window = [
        filed(world, world.other_station, world.other_officer, at(2025, 11, d), occurred=at(2025, 11, d - 1), **rise)
        for d in (3, 7, 11, 15, 19, 23)
    ]
    window.append(
        filed(
            world,
            world.other_station,
            world.other_officer,
            at(2025, 12, 5),
            occurred=at(2025, 12, 4),
            duty_scenario="patrol",
        )
    )
    victim_cases = [
        filed(world, world.station, world.officer, at(2026, 1, d), occurred=at(2026, 1, d)) for d in (5, 8, 12)
    ]
    with clock(at(2026, 1, 13)):
        for case in victim_cases:
            welfare.check_case(case_id=case.pk)
    prompt = WelfarePrompt.objects.get()
    earlier = filed(world, world.sibling_station, world.sibling_officer, at(2025, 5, 20), occurred=at(2025, 5, 19))
    with clock(at(2025, 5, 21)):
        services.add_suspect(case=earlier, by=world.sibling_supervisor, name="李某", id_number=ID_NUMBER)
    later = filed(world, world.other_station, world.other_officer, at(2026, 1, 10), occurred=at(2026, 1, 9))
    assert later.status == CaseStatus.INTAKE
    with clock(at(2026, 1, 10, 11)):
        services.add_suspect(case=later, by=world.supervisor, name="李某", id_number=ID_NUMBER)
    with clock(at(2026, 1, 11)):
        draft = services.create_draft_case(
            by=world.officer, unit=world.station, details={"kind": "violent_attack", "occurred_at": at(2026, 1, 1)}
        )
        services.add_suspect(case=draft, by=world.officer, name="李某", id_number=ID_NUMBER)
    return Dataset(baseline, window, victim_cases, prompt, earlier, later, draft)


RISE_FIGURES = {
    "observed": 7,
    "expected": 0.2517,
    "limit": 3,
    "p_value": 1.0195069332060639e-08,
    "alpha": 0.01,
    "window": {"start": "2025-10-01", "end": "2025-12-31"},
    "baseline": {"start": "2023-10-01", "end": "2025-09-30", "cases": 2, "months": 24},
}


def a_warning(kind: str, owner: OrgUnit, *, case: Case | None = None, raised_at=None, key: str = "") -> EarlyWarning:
    """A warning as the job raises it (analysis/services.py), without the cases behind it: for the pages and the API."""
    figures: dict = dict(RISE_FIGURES)
    if kind == WarningKind.SCENARIO_RISE:
        figures.update(dimension="scenario", code="call_110")
    elif kind == WarningKind.REPEAT_ATTACKER:
        figures = {"ref": case.reference if case else "", "suspects": 1, "prior_attack_on_police": False}
    elif kind == WarningKind.REPEAT_VICTIM:
        figures = {"ref": case.reference if case else "", "officer": "王警官", "attacks": 3, "threshold": 3}
    return EarlyWarning.objects.create(
        kind=kind,
        severity=Severity.HIGH if kind in (WarningKind.UNIT_RISE, WarningKind.SCENARIO_RISE) else Severity.MEDIUM,
        owner_unit=owner,
        case=case,
        key=key or f"{kind}:{owner.pk}:{case.pk if case else ''}:2025-12-31",
        figures=figures,
        raised_at=raised_at or AS_OF,
    )


@dataclass
class Warnings:
    unit_rise: EarlyWarning  # the county's
    scenario_rise: EarlyWarning  # the province's
    repeat_attacker: EarlyWarning  # a case of the station
    repeat_victim: EarlyWarning  # the same case

    def all(self) -> list[EarlyWarning]:
        return [self.unit_rise, self.scenario_rise, self.repeat_attacker, self.repeat_victim]


def four_warnings(world: World) -> Warnings:
    """One warning of each kind: the county's rise, the province's, and the two repeats of a case at the station."""
    case = case_in(world, CaseStatus.INTAKE)
    return Warnings(
        unit_rise=a_warning(WarningKind.UNIT_RISE, world.county),
        scenario_rise=a_warning(WarningKind.SCENARIO_RISE, world.province),
        repeat_attacker=a_warning(WarningKind.REPEAT_ATTACKER, world.station, case=case),
        repeat_victim=a_warning(WarningKind.REPEAT_VICTIM, world.station, case=case),
    )


def state_of(warning: EarlyWarning) -> tuple:
    """Everything a step writes."""
    return tuple(
        EarlyWarning.objects.filter(pk=warning.pk).values_list(
            "state",
            "version",
            "acknowledged_by",
            "acknowledged_at",
            "acknowledgement_note",
            "resolved_by",
            "resolved_at",
            "resolution_note",
        )[0]
    )
