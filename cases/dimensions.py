"""The analysis dimensions of a case: where each submitted case falls on each of the analysis's breakdowns.

One case has one code per dimension, decided here once and read three ways that must agree:

- ``codes(case)``, in Python: what the case adds to the report summaries (cases/summaries.py ``contribution``);
- ``SQL``, one expression per dimension over the case row ``c``: how the summaries are rebuilt and how a unit below
  the summaries' areas counts its cases live (cases/summaries.py);
- ``dimension_q(dimension, code)``: the queue's condition for a code (cases/queue_filters.py), so that every figure of
  the analysis links to the cases it counts.

An empty code means "not recorded" (a fact left blank, an unknown time): counted apart, never guessed.

- ``scenario``: the incident type and the duty scenario, ``"<kind>:<scenario>"`` (the type × scenario table; the
  scenario's totals add its row up over the types);
- ``place``: the place category;
- ``weekhour``: ISO weekday (1 Monday … 7 Sunday) and hour (0–23) of the time it occurred, in the report's time zone
  (settings.TIME_ZONE), ``"<weekday>:<hour>"``;
- ``weapon``: the weapon as recorded (``unknown`` where it was not asked);
- ``intox``: ``yes`` / ``no`` whether the attacker was drunk, empty when unknown;
- ``crowd``: ``organised`` when someone organised or incited it, else ``group`` for three attackers or more,
  ``few`` for one or two, empty when the number of attackers is unknown.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.choices import DutyScenario, IncidentKind, PlaceCategory, Weapon

SCENARIO = "scenario"
PLACE = "place"
WEEKHOUR = "weekhour"
WEAPON = "weapon"
INTOX = "intox"
CROWD = "crowd"
DIMENSIONS: tuple[str, ...] = (SCENARIO, PLACE, WEEKHOUR, WEAPON, INTOX, CROWD)

YES, NO = "yes", "no"
ORGANISED, GROUP, FEW = "organised", "group", "few"
CROWD_CODES: tuple[str, ...] = (ORGANISED, GROUP, FEW)
GROUP_FROM = 3  # attackers: three or more is a group
WEEKDAYS = range(1, 8)
HOURS = range(24)
# A filter value (the queue's and the API's parameters) writes the empty code, "not recorded", so: an empty parameter
# means "no filter".
NOT_RECORDED = "-"


def weekhour(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(settings.TIME_ZONE))
    return f"{local.isoweekday()}:{local.hour}"


def crowd(organised: bool | None, attackers: int | None) -> str:
    if organised:
        return ORGANISED
    if attackers is None or attackers == 0:
        return ""
    return GROUP if attackers >= GROUP_FROM else FEW


def intox(value: bool | None) -> str:
    return "" if value is None else (YES if value else NO)


def codes(case: Any) -> dict[str, str]:
    """The case's code on each dimension (a ``Case`` or anything with its fields)."""
    return {
        SCENARIO: f"{case.kind}:{case.duty_scenario}",
        PLACE: case.place_category,
        WEEKHOUR: weekhour(case.occurred_at),
        WEAPON: case.weapon,
        INTOX: intox(case.intoxicated),
        CROWD: crowd(case.organised_or_incited, case.attackers),
    }


# The same, in SQL over the case row ``c``; ``%(tz)s`` is settings.TIME_ZONE (cases/summaries.py rebuild_params).
_LOCAL_OCCURRED = "(c.occurred_at AT TIME ZONE %(tz)s)"
SQL: dict[str, str] = {
    SCENARIO: "c.kind || ':' || c.duty_scenario",
    PLACE: "c.place_category",
    WEEKHOUR: (
        f"CASE WHEN c.occurred_at IS NULL THEN '' ELSE EXTRACT(ISODOW FROM {_LOCAL_OCCURRED})::int::text || ':' || "
        f"EXTRACT(HOUR FROM {_LOCAL_OCCURRED})::int::text END"
    ),
    WEAPON: "c.weapon",
    INTOX: f"CASE WHEN c.intoxicated IS NULL THEN '' WHEN c.intoxicated THEN '{YES}' ELSE '{NO}' END",
    CROWD: (
        f"CASE WHEN c.organised_or_incited IS TRUE THEN '{ORGANISED}' "
        f"WHEN c.attackers IS NULL OR c.attackers = 0 THEN '' WHEN c.attackers >= {GROUP_FROM} THEN '{GROUP}' "
        f"ELSE '{FEW}' END"
    ),
}


NOT_RECORDED_LABEL = _("Not recorded")
_LABELS: dict[str, dict[str, Promise]] = {
    INTOX: {YES: pgettext_lazy("attacker intoxicated", "Drunk"), NO: pgettext_lazy("attacker intoxicated", "Sober")},
    CROWD: {
        ORGANISED: _("Organised or incited"),
        GROUP: _("Three attackers or more"),
        FEW: _("One or two attackers"),
    },
}
_CHOICES = {SCENARIO: DutyScenario, PLACE: PlaceCategory, WEAPON: Weapon}


def ordered_codes(dimension: str) -> list[str]:
    """A dimension's codes in their natural order (the choices'), without "not recorded"; the scenario's are the
    duty scenarios (its codes pair them with an incident type)."""
    if dimension in _CHOICES:
        return list(_CHOICES[dimension].values)
    if dimension == WEEKHOUR:
        return [f"{d}:{h}" for d in WEEKDAYS for h in HOURS]
    return list(_LABELS[dimension])


def label(dimension: str, code: str) -> str:
    """A code's name in the active language: the choice's label; "Not recorded" for the empty code."""
    if code == "":
        return str(NOT_RECORDED_LABEL)
    if dimension in _CHOICES:
        return str(dict(_CHOICES[dimension].choices).get(code, code))
    return str(_LABELS.get(dimension, {}).get(code, code))


class UnknownCode(ValueError):
    """A code no case can have on that dimension (the queue refuses it as a filter)."""


def dimension_q(dimension: str, code: str) -> Q:
    """The cases whose code on ``dimension`` is ``code``: the queue's filter for one figure of the analysis.

    Times are read in the current time zone, which the application keeps at settings.TIME_ZONE."""
    if dimension == SCENARIO:
        # "<kind>:<scenario>", or ":<scenario>" for a scenario whatever the type.
        kind, sep, scenario = code.partition(":")
        if not sep or (kind and kind not in IncidentKind.values):
            raise UnknownCode(code)
        return (Q(kind=kind) if kind else Q()) & Q(duty_scenario=_choice(scenario, DutyScenario.values))
    if dimension == PLACE:
        return Q(place_category=_choice(code, PlaceCategory.values))
    if dimension == WEAPON:
        return Q(weapon=_choice(code, Weapon.values))
    if dimension == INTOX:
        known = {YES: Q(intoxicated=True), NO: Q(intoxicated=False), "": Q(intoxicated__isnull=True)}
        if code not in known:
            raise UnknownCode(code)
        return known[code]
    if dimension == CROWD:
        if code == ORGANISED:
            return Q(organised_or_incited=True)
        not_organised = Q(organised_or_incited=False) | Q(organised_or_incited__isnull=True)
        if code == GROUP:
            return not_organised & Q(attackers__gte=GROUP_FROM)
        if code == FEW:
            return not_organised & Q(attackers__gte=1, attackers__lt=GROUP_FROM)
        if code == "":
            return not_organised & (Q(attackers__isnull=True) | Q(attackers=0))
        raise UnknownCode(code)
    if dimension == WEEKHOUR:
        # "<weekday>:<hour>", or one of the two alone (a heat map's row or column total): "3:" or ":14".
        if code == "":
            return Q(occurred_at__isnull=True)
        day, sep, hour = code.partition(":")
        if not sep or not (day or hour):
            raise UnknownCode(code)
        q = Q()
        if day:
            q &= Q(occurred_at__iso_week_day=_number(day, WEEKDAYS))
        if hour:
            q &= Q(occurred_at__hour=_number(hour, HOURS))
        return q
    raise UnknownCode(dimension)


def filter_code(value: str) -> str:
    """The code a filter value names: ``NOT_RECORDED`` is the empty code, any other value is the code itself."""
    return "" if value == NOT_RECORDED else value


def _choice(code: str, values: list[str]) -> str:
    """A choice's value, or "" (not recorded)."""
    if code and code not in values:
        raise UnknownCode(code)
    return code


def _number(text: str, allowed: range) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) not in allowed:
        raise UnknownCode(text)
    return int(text)
