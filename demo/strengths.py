"""The demo units' officer strength, the denominator of the analysis's rates per 100 officers (analysis/figures.py).

Recorded for every county and police station of the demo tree, for every year the demo's cases can fall in (the
synthetic cases go back ``SPAN`` from now; the demo stories a few months); nothing for the cities, provinces and the
ministry, whose strength the analysis sums from the counties below them. A station counts its own officers; a
county counts its stations and its own headquarters, brigades and squads, so its figure always exceeds the sum of
its stations'. Each figure follows from the unit's code and the year alone (seeded, not from the day it is seeded),
with a slow growth, faster for auxiliary officers, and a little noise from year to year.

Written as the personnel offices' figures loaded with the demo: straight into the model, by nobody
(``recorded_by`` empty), because ``analysis.services.record_officer_strength`` asks for an administrator of each
unit and the demo has none in Hubei. A second run creates only the records that are missing and leaves the others,
corrections made in the admin site included.
"""

import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import OrgLevel, OrgUnit
from analysis.models import OfficerStrength
from demo.generator import SPAN
from demo.organisation import ORG_TREE

# The year the seeded headcounts are drawn for; the other years grow towards it and beyond.
BASE_YEAR = 2024


@dataclass(frozen=True)
class Headcount:
    """How a kind of unit's regular or auxiliary headcount is drawn: the base in ``BASE_YEAR``, the yearly growth
    (a fraction), the noise from year to year, and the bounds no year goes outside."""

    base: tuple[int, int]
    growth: tuple[float, float]
    noise: int
    bounds: tuple[int, int]


# A police station: 30-80 regular officers and 20-60 auxiliaries. A county's own headquarters, brigades (criminal
# investigation, traffic, public order...) and squads, on top of its stations. Auxiliary numbers grew faster in
# these years than the regular establishment.
STATION = (
    Headcount(base=(34, 72), growth=(0.0, 0.02), noise=2, bounds=(30, 80)),
    Headcount(base=(24, 52), growth=(0.01, 0.05), noise=2, bounds=(20, 60)),
)
COUNTY_ORGANS = (
    Headcount(base=(110, 240), growth=(0.0, 0.02), noise=4, bounds=(80, 320)),
    Headcount(base=(70, 180), growth=(0.01, 0.05), noise=4, bounds=(40, 260)),
)


def demo_years() -> range:
    """The years the demo's cases can be submitted in: those of the synthetic cases, from ``SPAN`` ago to now."""
    today = timezone.localdate()
    return range(timezone.localdate(timezone.now() - SPAN).year, today.year + 1)


def _drawn(code: str, year: int, headcounts: tuple[Headcount, Headcount]) -> tuple[int, int]:
    """A unit's own (regular, auxiliary) officers in ``year``: from the code (base and growth) and the code and
    year (noise), so the same whatever else is seeded and whenever."""
    unit_rng = random.Random(f"officer-strength:{code}")
    year_rng = random.Random(f"officer-strength:{code}:{year}")
    figures = []
    for h in headcounts:
        base = unit_rng.randint(*h.base)
        growth = unit_rng.uniform(*h.growth)
        drawn = round(base * (1 + growth) ** (year - BASE_YEAR)) + year_rng.randint(-h.noise, h.noise)
        figures.append(min(max(drawn, h.bounds[0]), h.bounds[1]))
    return figures[0], figures[1]


def demo_strengths(years: range) -> dict[tuple[str, int], tuple[int, int]]:
    """(unit code, year) -> (regular, auxiliary) for every county and station of the demo tree."""
    stations: dict[str, list[str]] = {}
    for spec in ORG_TREE:
        if spec.level == OrgLevel.STATION and spec.parent is not None:
            stations.setdefault(spec.parent, []).append(spec.code)
    strengths: dict[tuple[str, int], tuple[int, int]] = {}
    for spec in ORG_TREE:
        if spec.level not in (OrgLevel.COUNTY, OrgLevel.STATION):
            continue
        for year in years:
            if spec.level == OrgLevel.STATION:
                strengths[(spec.code, year)] = _drawn(spec.code, year, STATION)
                continue
            own = [_drawn(code, year, STATION) for code in stations.get(spec.code, ())]
            organs = _drawn(spec.code, year, COUNTY_ORGANS)
            strengths[(spec.code, year)] = (
                organs[0] + sum(r for r, _a in own),
                organs[1] + sum(a for _r, a in own),
            )
    return strengths


@transaction.atomic
def ensure_officer_strengths(units: dict[str, OrgUnit], years: range | None = None) -> tuple[int, int]:
    """Record the demo strengths that are missing (``units``: the demo tree by code); returns how many were
    created and how many were there already."""
    wanted = demo_strengths(years if years is not None else demo_years())
    ids = {units[code].pk: code for code, _year in wanted}
    present = set(
        OfficerStrength.objects.filter(unit_id__in=list(ids), year__in={y for _c, y in wanted}).values_list(
            "unit_id", "year"
        )
    )
    present_keys = {(ids[unit_id], year) for unit_id, year in present}
    now = timezone.now()
    missing = [
        OfficerStrength(unit=units[code], year=year, regular=regular, auxiliary=auxiliary, recorded_at=now)
        for (code, year), (regular, auxiliary) in sorted(wanted.items())
        if (code, year) not in present_keys
    ]
    # A record written in between (an administrator, another run) is theirs to keep.
    OfficerStrength.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing), len(present_keys)
