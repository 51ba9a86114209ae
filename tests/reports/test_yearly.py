"""The yearly report selector: every figure of the hand-built dataset (tests/reports/dataset.py), exactly."""

from decimal import Decimal

import pytest
from django.db.models import F

from cases.choices import CaseStatus, Disposition, IncidentKind
from cases.models import Case
from cases.reports.yearly import DaysBetween, Item, Pair, _Window, window_percentiles, yearly_report


def nonzero(items) -> dict[str, tuple]:
    """A breakdown as {code: (this year, last year)}, rows empty in both years left out."""
    return {i.code: (i.current, i.previous) for i in items if i.current or i.previous}


def pair(p: Pair) -> tuple:
    return (p.current, p.previous)


@pytest.fixture
def county_2025(dataset):
    return yearly_report(unit=dataset.world.county, year=2025)


def test_case_counts_by_submission_year_in_local_time(county_2025):
    r = county_2025
    assert (r.year, r.previous_year, r.unit.code) == (2025, 2024, "330106")
    # C1 (00:30 on 1 January local, still 2024 in UTC) counts in 2025; P3 (midnight 1 January 2024) in 2024;
    # O1 (2023), N1 (2026), the drafts and the sibling's cases nowhere.
    assert pair(r.cases.total) == (4, 3)
    assert nonzero(r.cases.by_month) == {"1": (1, 1), "3": (1, 0), "6": (0, 1), "8": (1, 0), "12": (1, 1)}
    assert nonzero(r.cases.by_kind) == {
        IncidentKind.VIOLENT_ATTACK: (1, 1),
        IncidentKind.ONLINE_DEFAMATION: (1, 1),
        IncidentKind.ARMED_ATTACK: (1, 0),
        IncidentKind.INSULT_ON_SCENE: (1, 0),
        IncidentKind.DOXXING: (0, 1),
    }
    assert nonzero(r.cases.by_channel) == {
        "web": (2, 2),
        "mobile_app": (1, 0),
        "dispatch_110": (1, 0),
        "hotline_12389": (0, 1),
    }
    assert nonzero(r.cases.by_status) == {
        CaseStatus.CLOSED: (1, 2),
        CaseStatus.SUPERVISION: (1, 0),
        CaseStatus.INTAKE: (1, 1),
        CaseStatus.REJECTED: (1, 0),
    }
    assert CaseStatus.DRAFT not in {i.code for i in r.cases.by_status}


def test_cases_by_direct_sub_unit(county_2025):
    rows = [(s.unit.code, s.own, s.current, s.previous) for s in county_2025.cases.by_subunit]
    assert rows == [
        ("330106", True, 1, 0),  # C3, handled by the county itself
        ("330106001", False, 2, 2),  # C1, C6 / P1, P3
        ("330106002", False, 1, 1),  # C2 / P2
    ]


def test_officers_and_injuries(county_2025):
    o = county_2025.officers
    assert pair(o.total) == (5, 4)
    assert nonzero(o.by_type) == {"regular": (4, 3), "auxiliary": (1, 1)}
    assert nonzero(o.by_injury) == {
        "none": (2, 3),
        "slight": (1, 0),
        "minor_2": (1, 0),
        "minor_1": (0, 1),
        "death": (1, 0),
    }
    assert pair(o.injured) == (3, 1)
    assert pair(o.deaths) == (1, 0)


def test_suspects_and_outcomes(county_2025):
    s = county_2025.suspects
    assert pair(s.total) == (5, 3)
    assert pair(s.identified) == (3, 3)
    assert pair(s.per_case) == (1.25, 1.0)
    assert nonzero(s.by_status) == {
        "unidentified": (2, 0),
        "arrested": (1, 1),
        "at_large": (1, 0),
        "detained": (1, 0),
        "released": (0, 1),
        "bail": (0, 1),
    }
    assert pair(s.arrested) == (1, 1)
    assert pair(s.at_large) == (1, 0)


def test_dispositions_by_ladder_level(county_2025):
    d = county_2025.dispositions
    assert [(i.code, i.current, i.previous) for i in d.by_level] == [
        ("pending", 3, 0),
        ("no_penalty", 0, 1),
        ("administrative", 0, 1),
        ("criminal_filed", 1, 0),
        ("non_prosecution", 0, 1),
        ("convicted", 1, 0),
    ]
    assert nonzero(d.convicted_by_article) == {Disposition.CONVICTED_277_5_BASIC: (1, 0)}
    assert nonzero(d.by_disposition) == {
        "under_investigation": (2, 0),
        "at_large": (1, 0),
        "criminal_filed": (1, 0),
        "convicted_277_5_basic": (1, 0),
        "admin_detention_6_10": (0, 1),
        "mediation": (0, 1),
        "criminal_non_prosecution": (0, 1),
    }


def test_flags_raised_in_the_year_and_their_resolution(county_2025):
    flags = {
        f.kind: (pair(f.raised), pair(f.resolved), pair(f.still_open), pair(f.resolved_in_year))
        for f in county_2025.flags
    }
    assert flags == {
        # P1 is a 2024 case; its overdue referral was flagged and resolved in 2025, so it counts in 2025.
        "stalled": ((1, 1), (0, 1), (1, 0), (0, 1)),
        "overdue_referral": ((1, 0), (1, 0), (0, 0), (1, 0)),
        "downgraded": ((1, 0), (1, 0), (0, 0), (1, 0)),
        "idle": ((0, 1), (0, 0), (0, 1), (0, 0)),
        # C1, C2 and C3 raised in 2025 (C1 and C3 since resolved, C3 only in 2026), P3 in 2024 (resolved in 2025):
        # resolved in 2025 are C1's and P3's.
        "review_prompt": ((3, 1), (2, 1), (1, 0), (2, 0)),
    }


def test_supervision_findings(county_2025):
    f = county_2025.findings
    assert pair(f.total) == (3, 1)
    assert nonzero(f.by_problem) == {
        "protracted": (1, 0),
        "no_feedback_to_officer": (1, 0),  # raised by the reopen of C1
        "downgraded": (1, 0),
        "evidence_not_secured": (0, 1),
    }
    assert pair(f.rectified) == (2, 1)
    # C2's finding was rectified at 07:00 on the day after its deadline (local), still the deadline day in UTC.
    assert pair(f.rectified_on_time) == (1, 1)
    assert pair(f.officers_held_accountable) == (3, 0)


def test_look_back_reviews_by_campaign_year(county_2025):
    v = county_2025.reviews
    assert pair(v.total) == (3, 1)
    assert nonzero(v.by_verdict) == {"upheld": (2, 1), "deficient": (1, 0)}
    assert pair(v.officer_informed) == (2, 1)
    assert pair(v.support_delivered) == (1, 1)
    assert pair(v.clarification_issued) == (1, 0)


def test_support_delivered_in_the_year(county_2025):
    s = county_2025.support
    assert pair(s.delivered) == (4, 2)
    assert nonzero(s.by_kind) == {
        "green_channel": (1, 0),
        "psych_intervention": (1, 0),
        "comfort_payment": (1, 2),
        "clarification_notice": (1, 0),
    }
    assert pair(s.comfort_payment_total) == (Decimal("5000.00"), Decimal("2000.50"))
    assert isinstance(s.comfort_payment_total.current, Decimal)
    assert pair(s.clarification_notices) == (1, 0)


def test_handling_time_percentiles(county_2025):
    referral, closure = county_2025.intake_to_referral, county_2025.intake_to_closure
    # First referrals made in 2025: C1 2 days, P1 2 days, C2 4 days (C2's second referral is not a first one).
    assert (pair(referral.count), pair(referral.median), pair(referral.p90)) == ((3, 1), (2.0, 10.0), (3.6, 10.0))
    # Closed in 2025: P1 after 32 days, C1 after 59; in 2024 P2 after 30.
    assert (pair(closure.count), pair(closure.median), pair(closure.p90)) == ((2, 1), (45.5, 30.0), (56.3, 30.0))


def test_a_wider_unit_includes_the_city_but_never_the_sibling(dataset):
    r = yearly_report(unit=dataset.world.province, year=2025)
    assert pair(r.cases.total) == (5, 3)  # + K1 at the city itself
    assert [(s.unit.code, s.own, s.current, s.previous) for s in r.cases.by_subunit] == [
        ("330000", True, 0, 0),
        ("330100", False, 5, 3),
    ]
    assert pair(r.officers.deaths) == (1, 0)  # the sibling's death is not here
    assert pair(r.support.comfort_payment_total) == (Decimal("5000.00"), Decimal("2000.50"))
    assert pair(r.findings.officers_held_accountable) == (3, 0)
    assert nonzero(r.dispositions.convicted_by_article) == {Disposition.CONVICTED_277_5_BASIC: (1, 0)}


def test_the_ministry_sees_both_provinces(dataset):
    r = yearly_report(unit=dataset.world.ministry, year=2025)
    assert pair(r.cases.total) == (6, 4)
    assert [(s.unit.code, s.current, s.previous) for s in r.cases.by_subunit] == [
        ("000000", 0, 0),
        ("330000", 5, 3),
        ("420000", 1, 1),
    ]
    assert pair(r.officers.deaths) == (2, 0)
    assert pair(r.support.comfort_payment_total) == (Decimal("14999.00"), Decimal("2000.50"))
    assert pair(r.findings.officers_held_accountable) == (8, 0)
    assert pair(r.intake_to_closure.count) == (3, 1)  # + S1, closed after 8 days
    assert pair(r.intake_to_closure.median) == (32.0, 30.0)


def test_the_sibling_sees_only_its_own(dataset):
    r = yearly_report(unit=dataset.world.sibling_province, year=2025)
    assert pair(r.cases.total) == (1, 1)
    assert pair(r.officers.deaths) == (1, 0)
    assert nonzero(r.dispositions.convicted_by_article) == {Disposition.CONVICTED_277_1: (1, 0)}
    assert pair(r.intake_to_referral.median) == (1.0, None)  # no referral in 2024: no data, not zero


def test_the_next_year_compares_with_this_one(dataset):
    r = yearly_report(unit=dataset.world.county, year=2026)
    assert pair(r.cases.total) == (1, 4)  # N1 (midnight, 1 January 2026) / the four 2025 cases
    assert nonzero(r.cases.by_month) == {"1": (1, 1), "3": (0, 1), "8": (0, 1), "12": (0, 1)}
    assert pair(r.intake_to_closure.count) == (0, 2)
    assert pair(r.intake_to_closure.median) == (None, 45.5)


def test_change_against_last_year():
    assert (Pair(5, 4).change, Pair(5, 4).change_pct) == (1, 25.0)
    assert (Pair(1, 0).change, Pair(1, 0).change_pct) == (1, None)
    assert (Pair(None, 3).change, Item(2, 4, code="x").change_pct) == (None, -50.0)


def test_window_percentiles_agree_with_percentile_cont(postgres_only, dataset):
    """The portable method (used on SQLite) gives what PostgreSQL's percentile_cont gives."""
    w = _Window.of(2025)
    closed = Case.objects.filter(w.within("closed_at"))
    sizes, values = window_percentiles(closed, w.bucket("closed_at"), DaysBetween(F("closed_at"), F("submitted_at")))
    r = yearly_report(unit=dataset.world.ministry, year=2025)
    assert round(values[(2025, 0.5)], 1) == r.intake_to_closure.median.current
    assert round(values[(2025, 0.9)], 1) == r.intake_to_closure.p90.current
    assert round(values[(2024, 0.5)], 1) == r.intake_to_closure.median.previous
    assert (sizes[2025], sizes[2024]) == (r.intake_to_closure.count.current, r.intake_to_closure.count.previous)
