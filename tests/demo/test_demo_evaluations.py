"""``manage.py seed_demo``'s evaluation reports (demo/evaluations.py): the Hangzhou bureau's report for last year,
approved by the provincial department's supervisor with its figures frozen, and its draft for the current quarter;
nothing changed by a second run."""

import pytest
from django.utils import timezone

from analysis.choices import WHOLE_YEAR, EvaluationState
from analysis.models import EvaluationReport
from demo.evaluations import ANNUAL_LESSONS, QUARTER_LESSONS, current_quarter, seed_demo_evaluations
from demo.organisation import ensure_demo_accounts, ensure_org_tree

pytestmark = pytest.mark.django_db


def test_the_city_has_an_approved_report_for_last_year_and_a_draft_for_this_quarter():
    units, _ = ensure_org_tree()
    users, _ = ensure_demo_accounts(units)
    assert seed_demo_evaluations(units, users).reports == 2
    year, quarter = current_quarter()
    assert quarter == (timezone.localdate().month - 1) // 3 + 1
    reports = list(
        EvaluationReport.objects.order_by("year", "quarter").values_list(
            "unit__code", "year", "quarter", "state", "lessons", "submitted_by__username", "approved_by__username"
        )
    )
    assert reports == [
        ("330100", year - 1, WHOLE_YEAR, EvaluationState.APPROVED, ANNUAL_LESSONS, "supervisor", "province_supervisor"),
        ("330100", year, quarter, EvaluationState.DRAFT, QUARTER_LESSONS, None, None),
    ]
    approved = EvaluationReport.objects.get(state=EvaluationState.APPROVED)
    assert (approved.figures["unit"]["code"], approved.figures["year"], approved.figures["quarter"]) == (
        "330100",
        year - 1,
        WHOLE_YEAR,
    )
    before = list(EvaluationReport.objects.order_by("pk").values_list("pk", "state", "version", "lessons"))
    assert seed_demo_evaluations(units, users).reports == 0
    assert list(EvaluationReport.objects.order_by("pk").values_list("pk", "state", "version", "lessons")) == before
