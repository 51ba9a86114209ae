"""What an early warning says: one sentence from its kind and figures, in the active language, for the list, its page,
the API (``explanation``) and the notification that announces it (``notice_text``, registered as the notice topic
``TOPIC`` in analysis/apps.py). Words only: the figures are the warning's own (analysis/warnings.py)."""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import unit_name
from analysis.choices import WarningKind
from cases import dimensions
from cases.choices import DutyScenario, PlaceCategory
from rightsguard.text import when

TOPIC = "early_warning"


def _label(choices: Any, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code


def p_value_text(p: float) -> str:
    """Two significant digits; in scientific notation below one in ten thousand."""
    return f"{p:.2g}"


def _rise(figures: dict[str, Any], unit: str) -> str:
    window, baseline = figures.get("window", {}), figures.get("baseline", {})
    observed = int(figures.get("observed", 0))
    values = {
        "unit": unit,
        "observed": observed,
        "start": when(window.get("start")),
        "end": when(window.get("end")),
        "expected": f"{float(figures.get('expected', 0)):.1f}",
        "months": int(baseline.get("months", 0)),
        "baseline": int(baseline.get("cases", 0)),
        "limit": int(figures.get("limit", 0)),
        "p": p_value_text(float(figures.get("p_value", 0))),
    }
    dimension = figures.get("dimension")
    if dimension == dimensions.SCENARIO:
        values["label"] = _label(DutyScenario, figures.get("code", ""))
        text = ngettext(
            "In %(unit)s, %(observed)d case on duty scenario “%(label)s” was submitted from %(start)s to %(end)s, "
            "where %(expected)s were expected from the %(months)d months before (%(baseline)d cases); %(limit)d or "
            "more is beyond the control limit (p = %(p)s).",
            "In %(unit)s, %(observed)d cases on duty scenario “%(label)s” were submitted from %(start)s to %(end)s, "
            "where %(expected)s were expected from the %(months)d months before (%(baseline)d cases); %(limit)d or "
            "more is beyond the control limit (p = %(p)s).",
            observed,
        )
    elif dimension == dimensions.PLACE:
        values["label"] = _label(PlaceCategory, figures.get("code", ""))
        text = ngettext(
            "In %(unit)s, %(observed)d case at a place of category “%(label)s” was submitted from %(start)s to "
            "%(end)s, where %(expected)s were expected from the %(months)d months before (%(baseline)d cases); "
            "%(limit)d or more is beyond the control limit (p = %(p)s).",
            "In %(unit)s, %(observed)d cases at a place of category “%(label)s” were submitted from %(start)s to "
            "%(end)s, where %(expected)s were expected from the %(months)d months before (%(baseline)d cases); "
            "%(limit)d or more is beyond the control limit (p = %(p)s).",
            observed,
        )
    else:
        text = ngettext(
            "%(unit)s received %(observed)d case from %(start)s to %(end)s, where %(expected)s were expected from the "
            "%(months)d months before (%(baseline)d cases); %(limit)d or more is beyond the control limit "
            "(p = %(p)s).",
            "%(unit)s received %(observed)d cases from %(start)s to %(end)s, where %(expected)s were expected from "
            "the %(months)d months before (%(baseline)d cases); %(limit)d or more is beyond the control limit "
            "(p = %(p)s).",
            observed,
        )
    return text % values


def _repeat_attacker(figures: dict[str, Any]) -> str:
    suspects = int(figures.get("suspects", 0))
    text = ngettext(
        "%(count)d suspect in %(ref)s has earlier cases against police on record.",
        "%(count)d suspects in %(ref)s have earlier cases against police on record.",
        suspects,
    ) % {"count": suspects, "ref": figures.get("ref", "")}
    if figures.get("prior_attack_on_police"):
        text += " " + _("The case records that a suspect was punished before for attacking police.")
    return text


def _repeat_victim(figures: dict[str, Any]) -> str:
    attacks = int(figures.get("attacks", 0))
    return ngettext(
        "%(officer)s was attacked %(attacks)d time within twelve months, most recently in %(ref)s.",
        "%(officer)s was attacked %(attacks)d times within twelve months, most recently in %(ref)s.",
        attacks,
    ) % {"officer": figures.get("officer", ""), "attacks": attacks, "ref": figures.get("ref", "")}


def explanation(kind: str, figures: dict[str, Any], unit: str) -> str:
    """The warning as one sentence (two where a repeat attacker was punished before); ``unit`` is the owner unit's
    name as the reader reads it."""
    if kind in (WarningKind.UNIT_RISE, WarningKind.SCENARIO_RISE):
        return _rise(figures, unit)
    if kind == WarningKind.REPEAT_ATTACKER:
        return _repeat_attacker(figures)
    if kind == WarningKind.REPEAT_VICTIM:
        return _repeat_victim(figures)
    return ""


def notice_params(kind: str, figures: dict[str, Any], unit_names: tuple[str, str]) -> dict[str, Any]:
    """What the notification announcing a warning keeps to word it in its reader's language."""
    return {"kind": kind, "figures": figures, "unit": {"name": unit_names[0], "name_en": unit_names[1]}}


def notice_text(params: dict[str, Any]) -> str:
    """The notification's sentence: the warning's, and what to do."""
    unit = params.get("unit") or {}
    name = unit_name(unit.get("name", ""), unit.get("name_en", ""))
    said = explanation(str(params.get("kind", "")), params.get("figures") or {}, name)
    return _("Early warning: %(text)s Look into it and acknowledge it on its page.") % {"text": said}
