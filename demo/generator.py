"""Synthetic cases for reports and benchmarks: ``generate_cases(count)`` tells each case's story from filing to now,
in the order the services would have written it, and hands batches to ``demo.bulk`` to insert (on PostgreSQL from
several worker processes at once).

The same seed, clock and batch size give the same cases. The names, places and narratives are in
``data/vocabulary.json``; the proportions below are the generator's model of a caseload.
"""

import math
import multiprocessing
import multiprocessing.util
import operator
import os
import queue
import random
import threading
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, TypeVar

from django.contrib.auth.hashers import make_password
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from accounts.models import Membership, OrgLevel, OrgUnit, Role, User
from cases import partitions
from cases.choices import (
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    LENIENT_DISPOSITIONS,
    OPEN_STATUSES,
    CaseStatus,
    Channel,
    Disposition,
    DutyScenario,
    DutyStatus,
    EventKind,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    NoSuspectReason,
    OfficerType,
    PauseReason,
    PlaceCategory,
    PoliceFault,
    ReferralTarget,
    ReviewVerdict,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
    Weapon,
)
from cases.models import CaseEvent
from cases.search import party_names
from cases.sla import stage_deadline
from cases.workflow import TRANSITIONS
from demo.bulk import Bundle, LinkedRow, Writer, roomy_sqlite_cache, take_numbers
from demo.datafiles import load
from demo.organisation import UNIT_SPECS

DEFAULT_SEED = 20190201  # any fixed value does; this is the day the 2019 regulation came into force
DEFAULT_BATCH_SIZE = 2500
MAX_WORKERS = 8
# How far back from now the synthetic cases are filed.
SPAN = timedelta(days=5 * 365)

Log = Callable[[str], None]
_T = TypeVar("_T")

K, C, Inj, Sp, SK, SS, D, F = (
    IncidentKind,
    Channel,
    InjuryGrade,
    SuspectStatus,
    SupportKind,
    SupportStatus,
    Disposition,
    FindingProblem,
)

# Names, places and texts; the reasons are the wording of the recorded decisions.
_VOCABULARY = load("vocabulary.json")
SURNAMES: str = _VOCABULARY["surnames"]  # one character each, as are the given names
GIVEN: str = _VOCABULARY["given_names"]
UNKNOWN_PERSON: str = _VOCABULARY["unknown_person"]
DEFAULT_ROADS: tuple[str, ...] = tuple(_VOCABULARY["default_roads"])  # for a county the demo tree does not describe
PLACES: tuple[str, ...] = tuple(_VOCABULARY["places"])
ONLINE_PLACES: tuple[str, ...] = tuple(_VOCABULARY["online_places"])
# Per incident type: summaries and narratives, paired by position.
TEXTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    kind: (tuple(texts["summaries"]), tuple(texts["narratives"])) for kind, texts in _VOCABULARY["texts"].items()
}
REASONS: dict[str, Any] = _VOCABULARY["reasons"]


def _one(rng: random.Random, seq: Sequence[_T]) -> _T:
    # rng.choice and rng.randrange draw bits in a loop; one float is several times cheaper and just as uniform
    # for the generator's purposes, which matters at a dozen draws per case.
    return seq[int(rng.random() * len(seq))]


def _below(rng: random.Random, n: int) -> int:
    return int(rng.random() * n)


def _between(rng: random.Random, low: int, high: int) -> int:
    return low + int(rng.random() * (high - low))


def _person_name(rng: random.Random) -> str:
    given = _one(rng, GIVEN) + (_one(rng, GIVEN) if rng.random() < 0.7 else "")
    return _one(rng, SURNAMES) + given


def _masked_name(rng: random.Random) -> str:
    # Case files name private parties by surname only, the way published decisions do.
    return _one(rng, SURNAMES) + ("某" if rng.random() < 0.75 else "某某")


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _fake_id_number(rng: random.Random, region: str, born: date) -> str:
    """A well-formed but invented resident ID number (region, birth date, sequence, ISO 7064 check digit)."""
    body = f"{region[:6]}{born.year:04d}{born.month:02d}{born.day:02d}{_below(rng, 1000):03d}"
    return body + "10X98765432"[sum(map(operator.mul, map(int, body), ID_WEIGHTS)) % 11]


class _Weighted:
    """rng.choices with the cumulative weights computed once."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.values = [v for v, _w in pairs]
        self.cum = list(accumulate(w for _v, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> Any:
        return self.values[bisect(self.cum, rng.random() * self.total)]


def _w(*pairs: tuple[Any, float]) -> _Weighted:
    return _Weighted(pairs)


KIND_MIX = _w(
    (K.OBSTRUCTION, 17),
    (K.VIOLENT_ATTACK, 15),
    (K.INSULT_ON_SCENE, 12),
    (K.MINOR_RESISTANCE, 10),
    (K.ONLINE_DEFAMATION, 9),
    (K.UNTRUE_COMPLAINT, 8),
    (K.THREAT, 6),
    (K.FALSE_ACCUSATION, 4),
    (K.SCENE_DISRUPTION, 4),
    (K.ATTACK_ON_VEHICLE_OR_EQUIPMENT, 3),
    (K.DOXXING, 2.5),
    (K.STALKING_HARASSMENT, 2),
    (K.PROPERTY_DAMAGE, 1.5),
    (K.RETALIATION_OFF_DUTY, 1.5),
    (K.RETALIATION_RELATIVES, 1),
    (K.ARMED_ATTACK, 1),
    (K.VEHICLE_RAMMING, 1),
    (K.OTHER, 1),
)
CHANNEL_ON_SCENE = _w(
    (C.DISPATCH_110, 35), (C.MOBILE_APP, 30), (C.WEB, 20), (C.OWN_MOTION, 10), (C.HOTLINE_12389, 3), (C.MAILBOX, 2)
)
CHANNEL_REMOTE = _w(
    (C.WEB, 38), (C.MOBILE_APP, 35), (C.OWN_MOTION, 12), (C.HOTLINE_12389, 8), (C.MAILBOX, 6), (C.DISPATCH_110, 1)
)
INJURY_SEVERE = _w(
    (Inj.NONE, 25), (Inj.SLIGHT, 40), (Inj.MINOR_2, 15), (Inj.MINOR_1, 7), (Inj.SERIOUS_2, 4), (Inj.SERIOUS_1, 1.5),
    (Inj.DEATH, 0.2), (Inj.PENDING_APPRAISAL, 6), (Inj.NOT_APPRAISED, 1.3),
)  # fmt: skip
INJURY_PHYSICAL = _w(
    (Inj.NONE, 40), (Inj.SLIGHT, 42), (Inj.MINOR_2, 8), (Inj.MINOR_1, 2.5), (Inj.SERIOUS_2, 0.8), (Inj.SERIOUS_1, 0.2),
    (Inj.DEATH, 0.03), (Inj.PENDING_APPRAISAL, 4.5), (Inj.NOT_APPRAISED, 2),
)  # fmt: skip
INJURY_LIGHT = _w(
    (Inj.NONE, 72), (Inj.SLIGHT, 24), (Inj.MINOR_2, 1.2), (Inj.PENDING_APPRAISAL, 1.5), (Inj.NOT_APPRAISED, 1.3)
)
POLICE_FAULT = _w(
    (PoliceFault.NONE, 80), (PoliceFault.UNKNOWN, 12), (PoliceFault.MINOR, 6), (PoliceFault.LARGE, 1.5),
    (PoliceFault.SERIOUS, 0.5),
)  # fmt: skip
FAULT_RECORDED = frozenset({PoliceFault.MINOR, PoliceFault.LARGE, PoliceFault.SERIOUS})
ADMIN_OUTCOME = _w(
    (D.NO_ACTION, 1.5), (D.NON_LEGAL_HANDLING, 4), (D.MEDIATION, 3), (D.NO_PUNISHMENT, 2.5), (D.ADMIN_WARNING, 10),
    (D.ADMIN_FINE, 18), (D.ADMIN_DETENTION_1_5, 25), (D.ADMIN_DETENTION_6_10, 24), (D.ADMIN_DETENTION_11_15, 12),
)  # fmt: skip
SPEECH_OUTCOME = _w(
    (D.NO_ACTION, 2), (D.NON_LEGAL_HANDLING, 5), (D.MEDIATION, 3), (D.ADMIN_WARNING, 15), (D.ADMIN_FINE, 25),
    (D.ADMIN_DETENTION_1_5, 35), (D.ADMIN_DETENTION_6_10, 15),
)  # fmt: skip
COMPLAINT_OUTCOME = _w((D.NON_LEGAL_HANDLING, 70), (D.NO_ACTION, 25), (D.ADMIN_WARNING, 5))
CRIMINAL_OUTCOME = _w(
    (D.CRIMINAL_NON_PROSECUTION, 10), (D.CONVICTED_277_1, 18), (D.CONVICTED_277_5_BASIC, 45),
    (D.CONVICTED_277_5_AGGRAVATED, 8), (D.CONVICTED_OTHER, 12), (D.CONVICTED_SERIOUS, 2), (D.ADMIN_DETENTION_11_15, 5),
)  # fmt: skip
CRIMINAL_GRAVE_OUTCOME = _w(
    (D.CONVICTED_277_5_AGGRAVATED, 30), (D.CONVICTED_SERIOUS, 25), (D.CONVICTED_277_5_BASIC, 25),
    (D.CONVICTED_OTHER, 10), (D.CRIMINAL_NON_PROSECUTION, 5), (D.CONVICTED_277_1, 5),
)  # fmt: skip
CRIMINAL_SPEECH_OUTCOME = _w((D.CONVICTED_OTHER, 70), (D.CRIMINAL_NON_PROSECUTION, 20), (D.ADMIN_DETENTION_11_15, 10))
# Why a lenient outcome was reached ("other" needs words the generator has none of).
LENIENT_REASON = _w(
    (LenientReason.MINOR_CIRCUMSTANCES, 60), (LenientReason.FORGIVENESS, 18),
    (LenientReason.INSUFFICIENT_EVIDENCE, 14), (LenientReason.INTOXICATION, 5), (LenientReason.POLICE_FAULT, 3),
)  # fmt: skip
PENDING_ADMIN = _w((D.UNDER_INVESTIGATION, 85), (D.AT_LARGE, 10), (D.APPRAISAL_PENDING, 5))
PENDING_CRIMINAL = _w(
    (D.UNDER_INVESTIGATION, 35), (D.CRIMINAL_FILED, 25), (D.AWAITING_PROSECUTION, 15), (D.AWAITING_TRIAL, 12),
    (D.AT_LARGE, 8), (D.APPRAISAL_PENDING, 5),
)  # fmt: skip
OFFICER_COUNT = _w((1, 70), (2, 22), (3, 6), (4, 2))
SUSPECTS_COMPLAINT = _w((0, 40), (1, 60))
SUSPECTS_CROWD = _w((1, 40), (2, 35), (3, 25))
SUSPECTS_PHYSICAL = _w((0, 4), (1, 72), (2, 17), (3, 7))
SUSPECTS_OTHER = _w((0, 8), (1, 85), (2, 6), (3, 1))
WEAPON_ARMED = _w((Weapon.CONTROLLED_KNIFE, 45), (Weapon.BLUNT, 30), (Weapon.OTHER_LETHAL, 20), (Weapon.GUN, 5))
WEAPON_PHYSICAL = _w((Weapon.NONE, 72), (Weapon.BLUNT, 10), (Weapon.UNKNOWN, 15), (Weapon.CONTROLLED_KNIFE, 3))
# What the officers were doing and where (the analysis facts): attacks on officers cluster in 110 call responses,
# traffic enforcement and dispute mediation, on roads, in residential areas and at entertainment venues. A few cases
# leave them unrecorded (""), as filers do.
Duty, Place = DutyScenario, PlaceCategory
DUTY_ON_SCENE = _w(
    (Duty.CALL_110, 36), (Duty.TRAFFIC, 17), (Duty.DISPUTE, 14), (Duty.ARREST, 10), (Duty.PATROL, 8),
    (Duty.INVESTIGATION, 6), (Duty.EVENT_SECURITY, 3), (Duty.EVICTION, 2), (Duty.OTHER, 2), ("", 2),
)  # fmt: skip
# An online post or a complaint about officers starts from a duty too, recorded less often.
DUTY_REMOTE = _w(
    (Duty.CALL_110, 26), (Duty.TRAFFIC, 22), (Duty.DISPUTE, 12), (Duty.ARREST, 10), (Duty.INVESTIGATION, 10),
    (Duty.PATROL, 4), (Duty.OTHER, 8), ("", 8),
)  # fmt: skip
PLACE_ON_SCENE = _w(
    (Place.ROAD, 30), (Place.RESIDENTIAL, 20), (Place.ENTERTAINMENT, 13), (Place.MARKET, 11), (Place.HOSPITAL, 7),
    (Place.TRANSPORT_HUB, 7), (Place.GOVERNMENT, 4), (Place.SCHOOL, 2), (Place.OTHER, 4), ("", 2),
)  # fmt: skip
PLACE_FOR_DUTY: dict[str, _Weighted] = {
    Duty.TRAFFIC: _w((Place.ROAD, 88), (Place.TRANSPORT_HUB, 6), (Place.OTHER, 4), ("", 2)),
    Duty.EVICTION: _w((Place.RESIDENTIAL, 70), (Place.OTHER, 28), ("", 2)),
    Duty.EVENT_SECURITY: _w(
        (Place.ENTERTAINMENT, 40),
        (Place.TRANSPORT_HUB, 20),
        (Place.GOVERNMENT, 10),
        (Place.SCHOOL, 5),
        (Place.OTHER, 25),
    ),
    Duty.OFF_DUTY: _w((Place.RESIDENTIAL, 60), (Place.ROAD, 15), (Place.MARKET, 15), (Place.OTHER, 8), ("", 2)),
}
PLACE_ONLINE = _w((Place.ONLINE, 95), ("", 5))
COMFORT_AMOUNTS = (500, 1000, 1000, 2000, 2000, 3000, 5000, 5000, 8000, 10000, 20000, 50000)

SUSPECT_STATUS_FOR: dict[str, tuple[str, ...]] = {
    D.UNDER_INVESTIGATION: (Sp.IDENTIFIED, Sp.IDENTIFIED, Sp.BAIL),
    D.APPRAISAL_PENDING: (Sp.IDENTIFIED, Sp.BAIL),
    D.AT_LARGE: (Sp.AT_LARGE,),
    D.AWAITING_PROSECUTION: (Sp.ARRESTED, Sp.BAIL, Sp.RESIDENTIAL_SURVEILLANCE),
    D.AWAITING_TRIAL: (Sp.ARRESTED, Sp.BAIL),
    D.APPEAL_PENDING: (Sp.ARRESTED,),
    D.CRIMINAL_FILED: (Sp.DETAINED, Sp.ARRESTED, Sp.BAIL),
    D.CRIMINAL_NON_PROSECUTION: (Sp.RELEASED,),
    D.ADMIN_DETENTION_1_5: (Sp.RELEASED,),
    D.ADMIN_DETENTION_6_10: (Sp.RELEASED,),
    D.ADMIN_DETENTION_11_15: (Sp.RELEASED,),
}
CONVICTIONS = {
    D.CONVICTED_277_1: (6, 30, 0.4),
    D.CONVICTED_277_5_BASIC: (6, 36, 0.35),
    D.CONVICTED_277_5_AGGRAVATED: (36, 84, 0.0),
    D.CONVICTED_OTHER: (6, 60, 0.3),
    D.CONVICTED_SERIOUS: (36, 180, 0.0),
}

PHYSICAL_KINDS = frozenset(
    {
        K.VIOLENT_ATTACK,
        K.ARMED_ATTACK,
        K.VEHICLE_RAMMING,
        K.RETALIATION_OFF_DUTY,
        K.OBSTRUCTION,
        K.MINOR_RESISTANCE,
        K.SCENE_DISRUPTION,
        K.ATTACK_ON_VEHICLE_OR_EQUIPMENT,
    }
)
ONLINE_KINDS = frozenset({K.ONLINE_DEFAMATION, K.DOXXING})
SPEECH_KINDS = frozenset({K.INSULT_ON_SCENE, K.ONLINE_DEFAMATION, K.THREAT, K.STALKING_HARASSMENT, K.DOXXING})
CLARIFICATION_KINDS = frozenset({K.UNTRUE_COMPLAINT, K.FALSE_ACCUSATION, K.ONLINE_DEFAMATION})
CRIMINAL_SHARE: dict[str, float] = {
    K.ARMED_ATTACK: 0.95,
    K.VEHICLE_RAMMING: 0.9,
    K.VIOLENT_ATTACK: 0.6,
    K.RETALIATION_OFF_DUTY: 0.5,
    K.ATTACK_ON_VEHICLE_OR_EQUIPMENT: 0.45,
    K.OBSTRUCTION: 0.2,
    K.SCENE_DISRUPTION: 0.25,
    K.DOXXING: 0.25,
    K.FALSE_ACCUSATION: 0.2,
    K.ONLINE_DEFAMATION: 0.08,
    K.RETALIATION_RELATIVES: 0.3,
    K.STALKING_HARASSMENT: 0.1,
    K.PROPERTY_DAMAGE: 0.1,
}
ADMIN_ARTICLE: dict[str, str] = {
    K.VIOLENT_ATTACK: "治安管理处罚法第43条",
    K.RETALIATION_OFF_DUTY: "治安管理处罚法第43条",
    K.RETALIATION_RELATIVES: "治安管理处罚法第43条",
    K.INSULT_ON_SCENE: "治安管理处罚法第42条第2项",
    K.ONLINE_DEFAMATION: "治安管理处罚法第42条第2项",
    K.THREAT: "治安管理处罚法第42条第1项",
    K.STALKING_HARASSMENT: "治安管理处罚法第42条第5项",
    K.FALSE_ACCUSATION: "治安管理处罚法第42条第3项",
    K.DOXXING: "治安管理处罚法第42条第6项",
    K.PROPERTY_DAMAGE: "治安管理处罚法第49条",
    K.SCENE_DISRUPTION: "治安管理处罚法第23条",
}
OTHER_OFFENCE: dict[str, str] = {
    K.ONLINE_DEFAMATION: "刑法第246条",
    K.FALSE_ACCUSATION: "刑法第243条",
    K.DOXXING: "刑法第253条之一",
    K.STALKING_HARASSMENT: "刑法第293条",
    K.SCENE_DISRUPTION: "刑法第293条",
    K.PROPERTY_DAMAGE: "刑法第275条",
}


@dataclass
class _Person:
    user_id: int
    name: str
    badge: str


@dataclass
class _Site:
    """A unit that handles synthetic cases, with what the generator needs to know about its surroundings."""

    unit_id: int
    path: str
    station: str
    region: str
    locality: str
    roads: tuple[str, ...]
    abbr: str
    filers: list[_Person]
    supervisor_id: int
    admin_stations: list[int]  # where an administrative case is referred
    criminal_unit: int  # where a criminal case is referred


def _ancestor(unit: OrgUnit, by_code: dict[str, OrgUnit], level: str) -> OrgUnit | None:
    for code in unit.path.strip("/").split("/"):
        other = by_code.get(code)
        if other is not None and other.level == level:
            return other
    return None


def _ensure_synthetic_staff(stations: list[OrgUnit], offices: list[OrgUnit]) -> dict[str, User]:
    """One officer per station and one supervisor per city office, created in bulk when missing.

    They have unusable passwords: they exist so synthetic cases have believable filers and handlers.
    """
    wanted: dict[str, tuple[OrgUnit, str]] = {f"officer-{u.code}": (u, Role.OFFICER) for u in stations}
    wanted |= {f"supervisor-{u.code}": (u, Role.SUPERVISOR) for u in offices}
    existing = set(User.objects.filter(username__in=list(wanted)).values_list("username", flat=True))
    new_users = []
    for username in sorted(set(wanted) - existing):
        unit, _role = wanted[username]
        # Seeded from the username so a user looks the same however many runs created others before it.
        rng = random.Random(username)
        new_users.append(
            User(
                username=username,
                full_name=_person_name(rng),
                badge_number=f"{unit.code[:2]}{_below(rng, 10000):04d}",
                password=make_password(None),
            )
        )
    User.objects.bulk_create(new_users)
    users = {u.username: u for u in User.objects.filter(username__in=list(wanted))}
    Membership.objects.bulk_create(
        [Membership(user=users[name], unit=unit, role=role) for name, (unit, role) in wanted.items()],
        ignore_conflicts=True,
    )
    return users


def _load_sites() -> list[_Site]:
    units = list(OrgUnit.objects.all())
    by_code = {u.code: u for u in units}
    by_id = {u.pk: u for u in units}
    stations = [u for u in units if u.level == OrgLevel.STATION]
    if not stations:
        raise ValueError("The organisation tree has no police stations to file synthetic cases at.")

    def office_of(station: OrgUnit) -> OrgUnit:
        return _ancestor(station, by_code, OrgLevel.CITY) or by_id.get(station.parent_id) or station

    offices = {office_of(s).pk: office_of(s) for s in stations}
    staff = _ensure_synthetic_staff(stations, list(offices.values()))

    counties: dict[int, list[OrgUnit]] = {}
    for station in stations:
        county = _ancestor(station, by_code, OrgLevel.COUNTY) or station
        counties.setdefault(county.pk, []).append(station)

    def person(station: OrgUnit) -> _Person:
        user = staff[f"officer-{station.code}"]
        return _Person(user.pk, user.full_name or user.username, user.badge_number)

    sites = []
    for county_id, members in counties.items():
        county = by_id[county_id]
        spec = UNIT_SPECS.get(county.code)
        common = {
            "locality": spec.locality if spec and spec.locality else county.name,
            "roads": spec.roads if spec and spec.roads else DEFAULT_ROADS,
            "abbr": spec.abbr if spec and spec.abbr else "公",
            "supervisor_id": staff[f"supervisor-{office_of(members[0]).code}"].pk,
            "admin_stations": [s.pk for s in members],
            "criminal_unit": county.pk,
            "region": county.code if county.code.isdigit() and len(county.code) == 6 else "330106",
        }
        for station in members:
            sites.append(
                _Site(unit_id=station.pk, path=station.path, station=station.name, filers=[person(station)], **common)
            )
        if county.level == OrgLevel.COUNTY:
            filers = [person(s) for s in members]
            sites.append(_Site(unit_id=county.pk, path=county.path, station=county.name, filers=filers, **common))
    return sites


def _stage_allowances() -> dict[tuple[str, str, bool], timedelta]:
    """Every stage limit the generator can need, read once through the SLA module rather than once per case."""
    base = timezone.now()
    allowances = {}
    for stage in OPEN_STATUSES:
        for track in ("", *Track.values):
            for major in (False, True):
                due = stage_deadline(stage=stage, track=track, major_security_period=major, start=base)
                if due is not None:
                    allowances[(stage, track, major)] = due - base
    return allowances


def _days(rng: random.Random, median: float, sigma: float, low: float, high: float) -> timedelta:
    return timedelta(days=min(high, max(low, median * math.exp(rng.gauss(0.0, sigma)))))


def _in_major_period(local: datetime) -> bool:
    """The National People's Congress sessions in March and the National Day holiday are security periods."""
    month_day = (local.month, local.day)
    return (3, 2) <= month_day <= (3, 15) or (9, 28) <= month_day <= (10, 8)


Move = Callable[[str, datetime, int, dict[str, Any]], None]


class _Generator:
    """Tells each synthetic case's story from filing to now, in the order the services would have written it."""

    def __init__(
        self,
        rng: random.Random,
        sites: list[_Site],
        now: datetime,
        allowances: dict[tuple[str, str, bool], timedelta] | None = None,
    ) -> None:
        self.rng = rng
        self.sites = sites
        self.now = now
        self.allow = allowances if allowances is not None else _stage_allowances()
        self.tzinfo = timezone.get_current_timezone()

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tzinfo).date()

    def _allowance(self, stage: str, track: str, major: bool) -> timedelta:
        return self.allow.get((stage, track, major)) or self.allow[(stage, "", major)]

    def _place(self, site: _Site, kind: str) -> str:
        rng = self.rng
        if kind in ONLINE_KINDS:
            return _one(rng, ONLINE_PLACES)
        if kind in (K.UNTRUE_COMPLAINT, K.FALSE_ACCUSATION):
            return f"{site.locality}{site.station}辖区"
        road, road2 = rng.sample(site.roads, 2) if len(site.roads) > 1 else (site.roads[0], site.roads[0])
        return site.locality + _one(rng, PLACES).format(road=road, road2=road2, n=_between(rng, 1, 400))

    def _officers(self, kind: str, physical: bool, filer: _Person, created: datetime) -> list[LinkedRow]:
        """Involved officers: the filer is usually among the victims; colleagues here have no account."""
        rng = self.rng
        if kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
            injuries: _Weighted | None = INJURY_SEVERE
        elif kind in (K.VIOLENT_ATTACK, K.RETALIATION_OFF_DUTY):
            injuries = INJURY_PHYSICAL
        else:
            injuries = INJURY_LIGHT if physical else None
        off_duty = kind in (K.RETALIATION_OFF_DUTY, K.RETALIATION_RELATIVES, K.PROPERTY_DAMAGE)
        rows = []
        for i in range(OFFICER_COUNT.pick(rng) if physical else 1):
            is_filer = i == 0 and rng.random() < 0.85
            auxiliary = not is_filer and rng.random() < 0.3
            if off_duty:
                duty = DutyStatus.OFF_DUTY
            elif kind == K.VIOLENT_ATTACK and rng.random() < 0.03:
                duty = DutyStatus.OFF_DUTY_INTERVENING
            else:
                duty = DutyStatus.ON_DUTY
            if is_filer:
                name, badge = filer.name, filer.badge
            else:
                name = _person_name(rng)
                badge = f"F{_below(rng, 100000):05d}" if auxiliary else f"{_below(rng, 1000000):06d}"
            rows.append(
                LinkedRow(
                    user_id=filer.user_id if is_filer else None,
                    name=name,
                    badge_number=badge,
                    officer_type=OfficerType.AUXILIARY if auxiliary else OfficerType.REGULAR,
                    duty_status=duty,
                    injury=injuries.pick(rng) if injuries else Inj.NONE,
                    created_at=created,
                )
            )
        return rows

    def build(self, created: datetime) -> Bundle:
        rng, now = self.rng, self.now
        site = _one(rng, self.sites)
        filer = _one(rng, site.filers)
        sup = site.supervisor_id
        kind = KIND_MIX.pick(rng)
        physical = kind in PHYSICAL_KINDS
        occurred = created - _days(rng, 1.0, 1.2, 0.02, 60)
        local_occ = occurred.astimezone(self.tzinfo)
        major = _in_major_period(local_occ)
        channel = (CHANNEL_ON_SCENE if physical or kind == K.INSULT_ON_SCENE else CHANNEL_REMOTE).pick(rng)
        if kind == K.UNTRUE_COMPLAINT and rng.random() < 0.5:
            channel = C.HOTLINE_12389

        officers = self._officers(kind, physical, filer, created)
        injury_ranks = [INJURY_RANK[o["injury"]] for o in officers if o["injury"] in INJURY_RANK]
        worst = max(injury_ranks) if injury_ranks else None

        # Suspects: most physical incidents have an identified attacker; online ones often do not.
        if kind == K.UNTRUE_COMPLAINT:
            n_suspects = SUSPECTS_COMPLAINT.pick(rng)
        elif kind == K.SCENE_DISRUPTION:
            n_suspects = SUSPECTS_CROWD.pick(rng)
        else:
            n_suspects = (SUSPECTS_PHYSICAL if physical else SUSPECTS_OTHER).pick(rng)
        identified_share = 0.62 if kind in ONLINE_KINDS else 0.75 if kind == K.PROPERTY_DAMAGE else 0.92
        identified = [rng.random() < identified_share for _ in range(n_suspects)]

        criminal = rng.random() < CRIMINAL_SHARE.get(kind, 0.0) or (physical and worst is not None and worst >= 2)
        track = Track.CRIMINAL if criminal else Track.ADMINISTRATIVE
        names = [_masked_name(rng) if known else "" for known in identified]
        views = int(math.exp(rng.gauss(8.0, 1.6))) if kind in ONLINE_KINDS else None
        items = _between(rng, 3, 400) if kind == K.DOXXING else None
        place = self._place(site, kind)
        summaries, narratives = TEXTS[kind]
        variant = _below(rng, len(summaries))
        text_args = {
            "md": f"{local_occ.month}月{local_occ.day}日",
            "place": place,
            "station": site.station,
            "officer": officers[0]["name"],
            "suspect": names[0] if names and names[0] else UNKNOWN_PERSON,
            "views": views or 0,
            "items": items or 0,
            "attackers": max(n_suspects, 2),
        }
        weapon = (WEAPON_ARMED if kind == K.ARMED_ATTACK else WEAPON_PHYSICAL).pick(rng) if physical else Weapon.NONE
        if kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
            endangered, serious_harm = rng.random() < 0.9, rng.random() < 0.7
        elif physical:
            endangered, serious_harm = (rng.random() < 0.3 if rng.random() < 0.9 else None), rng.random() < 0.03
        else:
            endangered = serious_harm = None
        if kind in (K.RETALIATION_OFF_DUTY, K.RETALIATION_RELATIVES, K.PROPERTY_DAMAGE):
            duty = Duty.OFF_DUTY
        elif channel == C.DISPATCH_110 and rng.random() < 0.8:
            duty = Duty.CALL_110
        else:
            duty = (DUTY_ON_SCENE if physical or kind == K.INSULT_ON_SCENE else DUTY_REMOTE).pick(rng)
        if kind in ONLINE_KINDS:
            place_category = PLACE_ONLINE.pick(rng)
        else:
            place_category = PLACE_FOR_DUTY.get(duty, PLACE_ON_SCENE).pick(rng)
        # What the legal-affairs department would find if the officers' conduct were looked into; recorded as a
        # finding during supervision where some fault is found (a finding of none is rarely written up).
        fault = POLICE_FAULT.pick(rng)
        case: dict[str, Any] = {
            "unit_id": site.unit_id,
            "unit_path": site.path,
            "kind": kind,
            "channel": channel,
            "dispatch_ref": (
                f"J{site.region}{local_occ:%Y%m%d}{_below(rng, 100000):05d}" if channel == C.DISPATCH_110 else ""
            ),
            "occurred_at": occurred,
            "location": place,
            "summary": summaries[variant].format(**text_args),
            "narrative": narratives[variant].format(**text_args),
            "major_security_period": major,
            "duty_scenario": duty,
            "place_category": place_category,
            "weapon": weapon,
            "vehicle_used": True if kind == K.VEHICLE_RAMMING else False if physical else None,
            "endangered_safety": endangered,
            "could_cause_serious_harm": serious_harm,
            "officers_attacked": len(officers) if physical else None,
            "attackers": max(1, n_suspects) if physical else (n_suspects or None),
            "organised_or_incited": rng.random() < (0.5 if kind == K.SCENE_DISRUPTION else 0.03),
            "intoxicated": (rng.random() < 0.35) if physical or kind == K.INSULT_ON_SCENE else None,
            "evidence_lost": rng.random() < 0.02,
            "others_hurt": (rng.random() < 0.05) if physical else False,
            "major_property_loss": rng.random() < (0.1 if kind == K.ATTACK_ON_VEHICLE_OR_EQUIPMENT else 0.01),
            "prior_attack_on_police": rng.random() < 0.03 if n_suspects else None,
            "online_views": views,
            "online_reposts": int(views / rng.uniform(8, 40)) if views else None,
            "personal_info_items": items,
            "filed_by_id": filer.user_id,
            "created_at": created,
            "track": "",
            "status": CaseStatus.DRAFT,
        }
        bundle = Bundle(case=case, year=created.astimezone(self.tzinfo).year, officers=officers)
        events = bundle.events

        def event(at: datetime, kind_: str, actor: int | None, data: dict[str, Any], **transition: str) -> None:
            events.append({"kind": kind_, "actor_id": actor, "at": at, "data": data, **transition})

        def move(action: str, at: datetime, actor: int, data: dict[str, Any]) -> None:
            transition = TRANSITIONS[action]
            status = case["status"]
            if status not in transition.sources:
                raise RuntimeError(f"Generator bug: {action} from {status}")
            event(at, EventKind.TRANSITION, actor, data, action=action, from_status=status, to_status=transition.target)
            case["status"], case["stage_started_at"] = transition.target, at

        # Drafting: the filer lists colleagues and suspects right after creating the application. The timeline
        # keeps what a reader of a case history looks for (filing, status changes, dispositions, support, clock,
        # findings); these drafting steps and the assignment count in the version but are not stored as events,
        # which is a fifth of all rows and what keeps 100,000 cases within their time budget.
        event(created, EventKind.CREATED, filer.user_id, {}, to_status=CaseStatus.DRAFT)
        t = created
        for o in officers:
            t += timedelta(seconds=_between(rng, 20, 300))
            if o["user_id"] is None:
                o["created_at"] = t
                bundle.unrecorded += 1
            elif o["duty_status"] != DutyStatus.ON_DUTY or o["injury"] != Inj.NONE:
                bundle.unrecorded += 1
        for known, name in zip(identified, names, strict=True):
            t += timedelta(seconds=_between(rng, 20, 300))
            suspect = LinkedRow(
                name=name,
                id_number="",
                status=Sp.IDENTIFIED if known else Sp.UNIDENTIFIED,
                disposition=D.UNDER_INVESTIGATION,
                created_at=t,
            )
            if known and rng.random() < 0.6:
                born = created.date() - timedelta(days=_between(rng, 18 * 365, 65 * 365))
                suspect["id_number"] = _fake_id_number(rng, site.region, born)
            bundle.suspects.append(suspect)
            bundle.unrecorded += 1

        def finish() -> Bundle:
            return self._finalise(bundle, major)

        # Draft: submitted within hours, rarely abandoned or withdrawn.
        submit_at = t + _days(rng, 0.08, 1.2, 0.003, 5)
        roll = rng.random()
        if submit_at > now or roll < 0.004:
            return finish()
        if roll < 0.012:
            move("withdraw", submit_at, filer.user_id, {"reason": REASONS["withdrawn_draft"]})
            return finish()
        move("submit", submit_at, filer.user_id, {})
        case["submitted_at"] = submit_at

        # Intake: the office refers most applications within days, rejects a few; some officers withdraw.
        decide_at = submit_at + _days(rng, 2.5, 0.7, 0.05, 25)
        roll = rng.random()
        if decide_at > now:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            return finish()
        if roll < 0.04:
            move("reject", decide_at, sup, {"reason": REASONS["rejected"], "duplicate_of": ""})
            return finish()
        if roll < 0.05:
            move("withdraw", decide_at, filer.user_id, {"reason": REASONS["withdrawn"]})
            return finish()
        case["track"] = track
        if rng.random() < 0.7:
            case["assigned_to_id"] = sup
            bundle.unrecorded += 1
        due = decide_at + self._allowance(CaseStatus.REFERRED, track, major)
        external = criminal and rng.random() < 0.04
        referral = LinkedRow(
            target=ReferralTarget.PROCURATORATE if external else ReferralTarget.INTERNAL_UNIT,
            to_unit_id=None if external else (site.criminal_unit if criminal else _one(rng, site.admin_stations)),
            body_name=f"{site.locality}人民检察院" if external else "",
            track=track,
            referred_by_id=sup,
            referred_at=decide_at,
            due_at=due,
        )
        bundle.referrals.append(referral)
        move("refer", decide_at, sup, {"referral": referral, "track": track, "due_at": due.isoformat()})

        # Referred: the handling unit acknowledges with its own case number.
        ack_at = decide_at + _days(rng, 1.8, 0.8, 0.05, 20)
        if ack_at > now:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            return finish()
        year = ack_at.astimezone(self.tzinfo).year
        referral["acknowledged_at"] = ack_at
        referral["external_reference"] = ref = (
            f"{site.abbr[:1]}检介〔{year}〕{_between(rng, 1, 300)}号"
            if external
            else f"{site.abbr}{'刑立' if criminal else '行受'}字〔{year}〕{_between(rng, 1, 30000):05d}号"
        )
        move("acknowledge", ack_at, sup, {"referral": referral, "external_reference": ref})

        # Supervision: criminal cases take months, administrative ones weeks; a few drag on for years.
        span = _days(rng, 70 if criminal else 17, 0.55, 3, 400)
        if rng.random() < 0.02:
            span *= rng.uniform(3, 8)
        conclude_at = ack_at + span
        concluded = conclude_at <= now
        if fault in FAULT_RECORDED:
            self._fault_finding(bundle, site, fault, ack_at, conclude_at if concluded else now, sup)
        self._dispose(bundle, kind, criminal, worst, ack_at, conclude_at if concluded else now, concluded, sup)
        if not concluded:
            self._support(bundle, kind, worst, submit_at, now, sup, concluded=False)
            self._maybe_pause(bundle, ack_at, sup)
            return finish()
        self._support(bundle, kind, worst, submit_at, conclude_at, sup, concluded=True)
        self._conclude(bundle, conclude_at, sup, kind, move)

        # Look-back: a few reviews find a deficiency and send the case back to supervision.
        close_at = conclude_at + _days(rng, 7, 0.5, 1, 40)
        if close_at > now:
            return finish()
        if rng.random() < 0.04:
            problem = _one(rng, (F.DOWNGRADED, F.NO_FEEDBACK_TO_OFFICER, F.EVIDENCE_NOT_SECURED, F.PROTRACTED))
            finding = LinkedRow(
                problem=problem,
                detail=REASONS["look_back_finding"],
                raised_by_id=sup,
                raised_at=close_at,
                rectify_by=close_at.astimezone(self.tzinfo).date() + timedelta(days=15),
                officers_held_accountable=0,
            )
            bundle.findings.append(finding)
            bundle.reviews[-1].update(
                finished_at=close_at, verdict=ReviewVerdict.DEFICIENT, reviewer_id=sup, disposition_consistent=False
            )
            move("reopen", close_at, sup, {"finding": finding, "problem": problem})
            rectified_at = close_at + _days(rng, 12, 0.5, 1, 60)
            if rectified_at > now:
                return finish()
            finding["rectified_at"] = rectified_at
            event(rectified_at, EventKind.FINDING, sup, {"finding": finding, "rectified": True, "accountable": 0})
            conclude_at = rectified_at + timedelta(hours=_between(rng, 1, 72))
            if conclude_at > now:
                return finish()
            self._conclude(bundle, conclude_at, sup, kind, move)
            close_at = conclude_at + _days(rng, 7, 0.5, 1, 40)
            if close_at > now:
                return finish()
        self._close(bundle, close_at, sup, move)

        # Annual look-back campaigns recall a few closed cases early the next year.
        if rng.random() < 0.02:
            campaign = close_at.astimezone(self.tzinfo).year + 1
            recall_at = close_at.replace(year=campaign, month=_between(rng, 1, 4), day=_between(rng, 1, 28))
            if close_at < recall_at <= now:
                bundle.reviews.append(
                    LinkedRow(campaign_year=campaign, started_at=recall_at, verdict=ReviewVerdict.PENDING)
                )
                case["closed_at"] = None
                reason = REASONS["recall"].format(campaign=campaign)
                move("recall", recall_at, sup, {"reason": reason, "campaign_year": campaign})
                again = recall_at + _days(rng, 10, 0.5, 2, 40)
                if again <= now:
                    self._close(bundle, again, sup, move)
        return finish()

    def _outcome(self, kind: str, criminal: bool, worst: int | None, concluded: bool) -> str:
        rng = self.rng
        if not concluded:
            return (PENDING_CRIMINAL if criminal else PENDING_ADMIN).pick(rng)
        if rng.random() < 0.03:
            return D.AT_LARGE  # never caught: the case concludes with a recorded reason
        if kind == K.UNTRUE_COMPLAINT:
            return COMPLAINT_OUTCOME.pick(rng)
        if criminal:
            if (worst or 0) >= 4 or kind in (K.ARMED_ATTACK, K.VEHICLE_RAMMING):
                return CRIMINAL_GRAVE_OUTCOME.pick(rng)
            return (CRIMINAL_SPEECH_OUTCOME if kind in SPEECH_KINDS else CRIMINAL_OUTCOME).pick(rng)
        return (SPEECH_OUTCOME if kind in SPEECH_KINDS else ADMIN_OUTCOME).pick(rng)

    def _dispose(
        self,
        bundle: Bundle,
        kind: str,
        criminal: bool,
        worst: int | None,
        start: datetime,
        end: datetime,
        concluded: bool,
        sup: int,
    ) -> None:
        """Give each identified suspect a disposition (final if the case concludes, pending otherwise)."""
        rng = self.rng
        span = (end - start).total_seconds()
        for s in bundle.suspects:
            if s["status"] == Sp.UNIDENTIFIED:
                continue
            outcome = self._outcome(kind, criminal, worst, concluded)
            s["status"] = _one(rng, SUSPECT_STATUS_FOR.get(outcome, (Sp.IDENTIFIED, Sp.RELEASED)))
            if outcome == D.UNDER_INVESTIGATION:
                continue
            # Criminal cases pass through "filed" before the outcome; that is where lowered charges show.
            steps = [outcome]
            if criminal and concluded and outcome in FINAL_DISPOSITIONS and rng.random() < 0.6:
                steps.insert(0, D.CRIMINAL_FILED)
            moments = sorted(start + timedelta(seconds=span * rng.uniform(0.05, 0.95)) for _ in steps)
            previous, article_before = D.UNDER_INVESTIGATION, ""
            for step, at in zip(steps, moments, strict=True):
                changes: dict[str, list[Any]] = {"disposition": [previous, step]}
                article = _article(kind, step)
                if article != article_before:
                    changes["disposition_article"] = [article_before, article]
                before, after = DISPOSITION_RANK.get(previous), DISPOSITION_RANK.get(step)
                lowered = before is not None and after is not None and after < before
                s["disposition"], s["disposition_article"] = step, article
                if lowered:
                    s["lowered_reason"] = REASONS["lowered_charge"]
                    changes["lowered_reason"] = ["", s["lowered_reason"]]
                lenient: dict[str, str] = {}
                if step in LENIENT_DISPOSITIONS:
                    # The service asks why a lenient outcome was reached; the timeline keeps the reason.
                    s["lenient_reason"] = LENIENT_REASON.pick(rng)
                    changes["lenient_reason"] = ["", s["lenient_reason"]]
                    lenient = {"lenient_reason": s["lenient_reason"], "lenient_reason_detail": ""}
                if step in FINAL_DISPOSITIONS:
                    s["decided_at"] = at.astimezone(self.tzinfo).date()
                    changes["decided_at"] = [None, s["decided_at"].isoformat()]
                    if step in CONVICTIONS:
                        low, high, probation_share = CONVICTIONS[step]
                        months = s["sentence_months"] = _between(rng, low, high + 1)
                        s["probation"] = months <= 36 and rng.random() < probation_share
                        changes["sentence_months"] = [None, months]
                        changes["probation"] = [None, s["probation"]]
                data = {"suspect": s, "changes": changes, "lowered": lowered, **lenient}
                bundle.events.append({"kind": EventKind.DISPOSITION, "actor_id": sup, "at": at, "data": data})
                previous, article_before = step, article

    def _conclude(self, bundle: Bundle, at: datetime, sup: int, kind: str, move: Move) -> None:
        identified = [s for s in bundle.suspects if s["status"] != Sp.UNIDENTIFIED]
        gaps = [s["name"] for s in identified if s["disposition"] not in FINAL_DISPOSITIONS] if identified else ["-"]
        reason, no_suspect = "", ""
        if gaps == ["-"]:
            reason = REASONS["no_suspect_by_kind"].get(kind, REASONS["no_suspect"])
            # An untrue complaint leaves nobody to pursue; otherwise the attacker is still sought.
            no_suspect = (
                NoSuspectReason.NOT_AN_OFFENCE if kind == K.UNTRUE_COMPLAINT else NoSuspectReason.UNKNOWN_PURSUING
            )
        elif gaps:
            reason = REASONS["at_large"]
        bundle.case["conclusion_reason"] = reason
        bundle.case["no_suspect_reason"] = no_suspect
        year = at.astimezone(self.tzinfo).year
        bundle.reviews.append(LinkedRow(campaign_year=year, started_at=at, verdict=ReviewVerdict.PENDING))
        move("conclude", at, sup, {"reason": reason, "missing": gaps, "no_suspect_reason": no_suspect})

    def _close(self, bundle: Bundle, at: datetime, sup: int, move: Move) -> None:
        kinds = {m["kind"] for m in bundle.measures}
        review = bundle.reviews[-1]
        review.update(
            finished_at=at,
            reviewer_id=sup,
            verdict=ReviewVerdict.UPHELD,
            officer_informed=True,
            disposition_consistent=True,
            support_delivered=True if bundle.measures else None,
            clarification_issued=True if SK.CLARIFICATION_NOTICE in kinds else None,
        )
        bundle.case["closed_at"] = at
        move("close", at, sup, {"review": review})

    def _support(
        self,
        bundle: Bundle,
        kind: str,
        worst: int | None,
        start: datetime,
        end: datetime,
        sup: int,
        *,
        concluded: bool,
    ) -> None:
        """Support measures, recorded while the case is open as the office records them."""
        rng = self.rng
        first = bundle.officers[0]
        injured = (worst is not None and worst >= 1) or any(
            o["injury"] == Inj.PENDING_APPRAISAL for o in bundle.officers
        )
        wanted: list[tuple[str, LinkedRow | None, float]] = []  # measure, officer, typical days after submission
        if injured and rng.random() < 0.55:
            wanted.append((SK.GREEN_CHANNEL, first, 0.01))
        if worst is not None and worst >= 2:
            if rng.random() < 0.7:
                wanted.append((SK.COMFORT_VISIT, first, 2))
            if rng.random() < 0.5:
                wanted.append((SK.COMFORT_PAYMENT, first, 6))
            if rng.random() < 0.4:
                wanted.append((SK.DUTY_INJURY_CERTIFICATION, first, 10))
            if rng.random() < 0.2:
                wanted.append((SK.LIABILITY_INSURANCE_CLAIM, first, 12))
        if kind in PHYSICAL_KINDS and rng.random() < 0.1:
            wanted.append((_one(rng, (SK.PSYCH_ASSESSMENT, SK.PSYCH_INTERVENTION)), first, 4))
        if kind in CLARIFICATION_KINDS and concluded and rng.random() < 0.6:
            wanted.append((SK.CLARIFICATION_NOTICE, first, 20))
        if kind in ONLINE_KINDS and rng.random() < 0.3:
            wanted.append((SK.PUBLIC_OPINION_RESPONSE, None, 3))
        if kind in (K.ONLINE_DEFAMATION, K.FALSE_ACCUSATION) and rng.random() < 0.2:
            wanted.append((SK.LEGAL_SERVICE, first, 5))
        if kind in (K.RETALIATION_RELATIVES, K.STALKING_HARASSMENT, K.DOXXING) and rng.random() < 0.6:
            wanted.append((SK.RELATIVE_PROTECTION, first, 1))
        if kind == K.PROPERTY_DAMAGE and rng.random() < 0.5:
            wanted.append((SK.CIVIL_CLAIM_SUPPORT, first, 15))
        if any(s["status"] == Sp.AT_LARGE for s in bundle.suspects) and rng.random() < 0.6:
            wanted.append((SK.FUGITIVE_PURSUIT, None, 3))
        window = (end - start).total_seconds()
        for measure_kind, officer, after_days in wanted:
            at = start + timedelta(days=after_days * rng.uniform(0.5, 1.5))
            if at >= end:
                at = start + timedelta(seconds=window * rng.uniform(0.1, 0.9))
            delivered_at = at + timedelta(days=rng.uniform(0, 10))
            delivered = concluded or delivered_at <= end
            measure = LinkedRow(
                officer=officer,
                kind=measure_kind,
                status=SS.DELIVERED if delivered else _one(rng, (SS.OFFERED, SS.IN_PROGRESS)),
                amount=Decimal(_one(rng, COMFORT_AMOUNTS)) if measure_kind == SK.COMFORT_PAYMENT else None,
                started_on=at.astimezone(self.tzinfo).date(),
                delivered_on=min(delivered_at, end).astimezone(self.tzinfo).date() if delivered else None,
                recorded_by_id=sup,
                created_at=at,
                updated_at=at,
            )
            bundle.measures.append(measure)
            data = {"measure": measure, "kind": measure_kind, "status": measure["status"]}
            bundle.events.append({"kind": EventKind.SUPPORT, "actor_id": sup, "at": at, "data": data})

    def _fault_finding(self, bundle: Bundle, site: _Site, fault: str, start: datetime, end: datetime, sup: int) -> None:
        """The legal-affairs department's finding, recorded by the supervisor during supervision."""
        at = start + (end - start) * self.rng.uniform(0.2, 0.8)
        found_on = at.astimezone(self.tzinfo).date()
        finding = LinkedRow(
            finding=fault,
            department=f"{site.locality}法制大队",
            found_on=found_on,
            document_reference=f"{site.abbr}法审〔{found_on.year}〕{_between(self.rng, 1, 3000):04d}号",
            notes="",
            carried_over=False,
            recorded_by_id=sup,
            recorded_at=at,
        )
        bundle.fault_findings.append(finding)
        bundle.events.append(
            {
                "kind": EventKind.FAULT_FINDING,
                "actor_id": sup,
                "at": at,
                "data": {
                    "fault_finding": finding,
                    "finding": fault,
                    "department": finding["department"],
                    "found_on": found_on.isoformat(),
                    "document_reference": finding["document_reference"],
                    "previous": None,
                    "current": True,
                },
            }
        )

    def _maybe_pause(self, bundle: Bundle, since: datetime, sup: int) -> None:
        """Open supervision waiting on an appraisal or a fugitive often has its clock stopped."""
        if any(o["injury"] == Inj.PENDING_APPRAISAL for o in bundle.officers):
            reason = PauseReason.APPRAISAL_PENDING
        elif any(s["status"] == Sp.AT_LARGE for s in bundle.suspects):
            reason = PauseReason.SUSPECT_AT_LARGE
        else:
            return
        if self.rng.random() < 0.4:
            return
        at = since + (self.now - since) * self.rng.uniform(0.1, 0.9)
        bundle.case["paused_at"], bundle.case["pause_reason"] = at, reason
        bundle.events.append(
            {"kind": EventKind.CLOCK_PAUSED, "actor_id": sup, "at": at, "data": {"reason": reason, "note": ""}}
        )

    def _finalise(self, bundle: Bundle, major: bool) -> Bundle:
        case, events = bundle.case, bundle.events
        events.sort(key=lambda e: e["at"])
        status = case["status"]
        if status in OPEN_STATUSES:
            if status == CaseStatus.REFERRED:
                case["stage_due_at"] = bundle.referrals[-1]["due_at"]
            else:
                case["stage_due_at"] = case["stage_started_at"] + self._allowance(status, case["track"], major)
        case["last_activity_at"] = case["updated_at"] = events[-1]["at"]
        # Every service call after creation bumps the version once.
        case["version"] = len(events) + bundle.unrecorded
        ranks = [INJURY_RANK[o["injury"]] for o in bundle.officers if o["injury"] in INJURY_RANK]
        case["max_injury_rank"] = max(ranks) if ranks else None
        dranks = [DISPOSITION_RANK[d] for s in bundle.suspects if (d := s["disposition"]) in DISPOSITION_RANK]
        case["disposition_rank"] = max(dranks) if dranks else None
        names = [*(o["name"] for o in bundle.officers), *(s["name"] for s in bundle.suspects)]
        case["party_names"] = party_names(names)
        return bundle


def _article(kind: str, disposition: str) -> str:
    """The provision a disposition is usually decided under, for the suspect's record."""
    if disposition in (D.NO_ACTION, D.NON_LEGAL_HANDLING) or disposition not in DISPOSITION_RANK:
        return ""
    if disposition == D.MEDIATION:
        return "治安管理处罚法第9条"
    if DISPOSITION_RANK[disposition] <= DISPOSITION_RANK[D.ADMIN_DETENTION_11_15]:
        return ADMIN_ARTICLE.get(kind, "治安管理处罚法第50条第1款第2项")
    if disposition == D.CRIMINAL_NON_PROSECUTION:
        return "刑事诉讼法第177条第2款"
    if disposition == D.CONVICTED_277_1:
        return "刑法第277条第1款"
    if disposition == D.CONVICTED_OTHER:
        return OTHER_OFFENCE.get(kind, "刑法第234条")
    if disposition == D.CONVICTED_SERIOUS:
        return "刑法第114条" if kind == K.VEHICLE_RAMMING else "刑法第234条第2款"
    return "刑法第277条第5款"


@dataclass(frozen=True)
class GenerationResult:
    cases: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.cases / self.seconds if self.seconds else 0.0


def generate_cases(
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    batch_size: int = DEFAULT_BATCH_SIZE,
    log: Log | None = None,
    now: datetime | None = None,
    workers: int | None = None,
) -> GenerationResult:
    """Insert ``count`` synthetic cases spread over the five years before ``now``.

    The cases come in chunks of ``batch_size``, each told with its own random sequence (from the seed and the
    chunk's place) and written in one transaction; on PostgreSQL, ``workers`` processes (default: one per CPU) build
    and write chunks side by side, each on its own connection. The same seed, clock and batch size give the same
    cases whatever the number of workers.
    """
    started = time.perf_counter()
    now = now or timezone.now()
    # Their events in their months' partitions, not in DEFAULT (PostgreSQL: cases/partitions.py).
    partitions.cover(CaseEvent, start=now - SPAN, end=now)
    state = _WorkerState(seed=seed, sites=_load_sites(), now=now, allowances=_stage_allowances())
    chunks = _plan_chunks(count, seed=seed, batch_size=batch_size, now=now)
    # Each worker holds a database connection: a machine reporting many CPUs gets no more than MAX_WORKERS.
    workers = max(1, min(workers or _usable_cpus(), MAX_WORKERS, len(chunks)))
    done = 0
    for written in _written_chunks(chunks, state, workers):
        done += written
        if log:
            log(f"  {done:,}/{count:,} cases ({done / (time.perf_counter() - started):,.0f} cases/s)")
    return GenerationResult(cases=done, seconds=time.perf_counter() - started)


def _usable_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):  # Linux: the CPUs this process may run on
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class _Chunk:
    """Cases told together with one random sequence and written in one transaction."""

    first: int  # the place of its first case in the run, which seeds its sequence
    created: list[datetime]
    numbers: dict[int, int]  # per year, the reference number of its first case filed that year


@dataclass(frozen=True)
class _WorkerState:
    seed: int
    sites: list[_Site]
    now: datetime
    allowances: dict[tuple[str, str, bool], timedelta]


def _plan_chunks(count: int, *, seed: int, batch_size: int, now: datetime) -> list[_Chunk]:
    """The filing times of the whole run, its chunks, and the reference numbers reserved for all of it at once.

    Reserving up front (rather than per chunk, as chunks are written) keeps the numbers following the filing dates
    whatever order the workers finish in; a run that fails leaves the numbers of the cases it did not write unused.
    """
    rng = random.Random(seed)
    tzinfo = timezone.get_current_timezone()
    latest = now - timedelta(minutes=1)
    # Skewed towards recent years (caseloads grow), and sorted so reference numbers follow filing dates.
    created = [min(now - SPAN + SPAN * o, latest) for o in sorted(rng.random() ** 0.85 for _ in range(count))]
    years = [moment.astimezone(tzinfo).year for moment in created]
    next_number = take_numbers(Counter(years)) if count else {}
    chunks = []
    for begin in range(0, count, batch_size):
        end = begin + batch_size
        chunks.append(_Chunk(first=begin, created=created[begin:end], numbers=dict(next_number)))
        for year in years[begin:end]:
            next_number[year] += 1
    return chunks


def _build_chunk(generator: "_Generator", seed: int, chunk: _Chunk) -> list[Bundle]:
    generator.rng.seed(f"{seed}/{chunk.first}")
    numbers = dict(chunk.numbers)
    bundles = []
    for created in chunk.created:
        bundle = generator.build(created)
        bundle.case["reference"] = f"RG-{bundle.year}-{numbers[bundle.year]:06d}"
        numbers[bundle.year] += 1
        bundles.append(bundle)
    return bundles


def _written_chunks(chunks: list[_Chunk], state: _WorkerState, workers: int) -> Iterator[int]:
    """Write every chunk; yields the number of cases of each as its transaction commits."""
    connection = connections[DEFAULT_DB_ALIAS]
    # Other processes see only what is committed: inside a transaction (a test's), or on a database a second
    # connection cannot share (SQLite), the chunks are written here, on this connection.
    if workers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Forked, so the workers inherit the settings as they are now (a test database's name included); the
        # connection is closed first so that no process shares its socket.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_start_worker, initargs=(state,)) as pool:
            yield from pool.imap_unordered(_write_chunk, chunks)
            pool.close()
            pool.join()
        return
    generator = _Generator(random.Random(), state.sites, state.now, state.allowances)
    writer = Writer()
    built = (_build_chunk(generator, state.seed, chunk) for chunk in chunks)
    with roomy_sqlite_cache(), closing(_ahead(built)) as ahead:
        for bundles in ahead:
            writer.write(bundles)
            yield len(bundles)


_worker: tuple["_Generator", int, Writer] | None = None  # in a worker process: what _write_chunk works with


def _start_worker(state: _WorkerState) -> None:
    global _worker  # one per worker process, set once as it starts
    _worker = (_Generator(random.Random(), state.sites, state.now, state.allowances), state.seed, Writer())
    # Say goodbye to the server when the pool lets the worker go, rather than leave it a dropped socket.
    multiprocessing.util.Finalize(None, connections.close_all, exitpriority=10)


def _write_chunk(chunk: _Chunk) -> int:
    assert _worker is not None, "_start_worker runs first in every worker"  # noqa: S101
    generator, seed, writer = _worker
    bundles = _build_chunk(generator, seed, chunk)
    writer.write(bundles)
    return len(bundles)


def _ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """Produce the next item in a background thread while the caller consumes this one.

    Building a batch is pure Python and touches no database; writing one mostly waits on the database with the
    GIL released. Overlapping the two is what the time budget needs. The rng is used by the one producer thread
    only, so the output is exactly as reproducible as a plain loop.
    """
    handoff: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(entry: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer((True, item)):
                    return
            offer((False, None))
        except BaseException as error:  # handed to the consumer, which raises it
            offer((False, error))

    thread = threading.Thread(target=produce, name="seed-demo-builder", daemon=True)
    thread.start()
    try:
        while True:
            more, item = handoff.get()
            if not more:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        thread.join()
