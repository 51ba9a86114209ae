"""The analysis API, mounted at /api/v1/analysis/: the analysis page's figures (analysis/figures.py), for the same
readers (administrators and supervisors, on the units they may report on: no role is 403, a unit outside their area
404)."""

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from accounts.models import OrgUnit
from accounts.requests import ApiRequest
from analysis import figures
from analysis.api import serializers as s
from cases import policy
from cases.api.schema import responses
from cases.api.views import ApiView


def _unit_figures(r: figures.UnitRow) -> dict[str, Any]:
    return {
        "unit": r.unit,
        "own": r.own,
        "cases": r.cases,
        "cases_previous_year": r.cases_before,
        "cases_change_pct": r.cases_change,
        "officers_injured": r.injured,
        "officers_injured_previous_year": r.injured_before,
        "officer_strength": r.strength,
        "cases_per_100_officers": r.cases_per_100,
        "officers_injured_per_100_officers": r.injured_per_100,
    }


def _handling(r: figures.HandlingRow) -> dict[str, Any]:
    return {
        "unit": r.unit,
        "own": r.own,
        "cases_first_referred": r.referred,
        "median_days_to_first_referral": r.median_days_to_referral,
        "cases_flagged_downgraded": r.downgraded,
        "downgraded_share_pct": r.downgraded_share,
        "downgrade_flags_overridden": r.overridden,
        "look_back_reviews": [{"verdict": v, "reviews": n} for v, n in sorted(r.verdicts.items())],
    }


def answer(a: figures.Analysis) -> dict[str, Any]:
    return {
        "unit": a.unit,
        "year": a.year,
        "months": [{"month": m, "cases": now, "cases_previous_year": before} for m, (now, before) in a.months.items()],
        "years": [{"year": y, "cases": c, "officers_injured": i} for y, (c, i) in sorted(a.years.items())],
        "sub_units": [_unit_figures(r) for r in a.rows],
        "total": _unit_figures(a.total),
        "handling": [_handling(r) for r in a.handling],
        "handling_total": _handling(a.handling_total) if a.handling_total else None,
        "scenarios": [
            {"kind": kind, "duty_scenario": scenario, "cases": n} for (kind, scenario), n in sorted(a.scenarios.items())
        ],
        "heat_map": [{"weekday": d, "hour": h, "cases": n} for (d, h), n in sorted(a.heat.items())],
        "heat_map_time_not_recorded": a.heat_unknown,
        "breakdowns": {
            dimension: [
                {"code": code, "cases": now, "cases_previous_year": before}
                for code, (now, before) in sorted(counts.items())
            ]
            for dimension, counts in a.distributions.items()
        },
    }


class AnalysisView(ApiView):
    @extend_schema(
        summary=gettext_lazy("Analysis of a unit's cases in a year"),
        description=gettext_lazy(
            "The analysis page's figures: submitted cases by month against the previous year, cases and officers "
            "injured by year over five years, each sub-unit's cases and officers injured with the rates per 100 "
            "officers, cases by incident type and duty scenario, by weekday and hour it happened, and by place, "
            "weapon, drink and attackers. Cases count in the local month they were submitted in."
        ),
        parameters=[s.AnalysisQuerySerializer],
        responses=responses({200: s.AnalysisSerializer}, 400, 401, 403, 404),
    )
    def get(self, request: ApiRequest) -> Response:
        # A plain dict: an empty ``?unit=`` is refused as not a unit id, not read as "not given".
        query = s.AnalysisQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        if not policy.can_report(request.actor):
            raise exceptions.PermissionDenied(_("The analysis is for administrators and supervisors."))
        unit: OrgUnit | None
        if "unit" in query.validated_data:
            unit = get_object_or_404(policy.reportable_units(request.actor), pk=query.validated_data["unit"])
        else:
            paths = policy.report_paths(request.actor)
            unit = OrgUnit.objects.filter(path__in=paths).order_by("depth", "path").first()
        if unit is None:
            raise exceptions.PermissionDenied(_("The analysis is for administrators and supervisors."))
        a = figures.analyse(unit=unit, year=query.validated_data["year"])
        return Response(s.AnalysisSerializer(answer(a), context={"request": request}).data)
