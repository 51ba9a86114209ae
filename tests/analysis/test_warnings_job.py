"""The early-warning job (analysis/services.py ``raise_early_warnings``, analysis/tasks.py) on the hand-built set of
tests/analysis/warnings_dataset.py: each condition raised exactly once with its exact figures, the owner unit's office
told in-app, a rerun raising nothing, the settings read from their latest row, and the beat's task once per period."""

import io
from datetime import timedelta
from fractions import Fraction

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.utils import translation

from analysis import explain, poisson, services, tasks
from analysis.choices import Severity, WarningKind
from analysis.models import EarlyWarning, WarningSettings
from cases import messages
from cases.choices import NotificationKind
from cases.models import JobRun, Notification
from tests.analysis.dataset import at
from tests.analysis.test_warnings_poisson import reference_tail
from tests.analysis.warnings_dataset import AS_OF, LAMBDA, warnings_dataset
from tests.reports.dataset import clock


@pytest.fixture
def dataset(world):
    return warnings_dataset(world)


def run(now=AS_OF):
    with clock(now):
        return services.raise_early_warnings(now=now)


def test_each_condition_is_raised_exactly_once(world, dataset):
    assert run() == {"unit_rise": 1, "scenario_rise": 2, "repeat_attacker": 1, "repeat_victim": 1}
    found = {w.key: (w.kind, w.severity, w.owner_unit, w.case, w.state) for w in EarlyWarning.objects.all()}
    assert found == {
        f"unit_rise:{world.county.pk}:2025-12-31": (WarningKind.UNIT_RISE, Severity.HIGH, world.county, None, "open"),
        f"scenario_rise:{world.province.pk}:scenario:call_110:2025-12-31": (
            WarningKind.SCENARIO_RISE,
            Severity.HIGH,
            world.province,
            None,
            "open",
        ),
        f"scenario_rise:{world.province.pk}:place:road:2025-12-31": (
            WarningKind.SCENARIO_RISE,
            Severity.HIGH,
            world.province,
            None,
            "open",
        ),
        f"repeat_attacker:{dataset.later.pk}": (
            WarningKind.REPEAT_ATTACKER,
            Severity.LOW,
            world.other_station,
            dataset.later,
            "open",
        ),
        f"repeat_victim:{dataset.prompt.pk}": (
            WarningKind.REPEAT_VICTIM,
            Severity.MEDIUM,
            world.station,
            dataset.victim_cases[-1],
            "open",
        ),
    }
    assert set(EarlyWarning.objects.values_list("raised_at", "version")) == {(AS_OF, 1)}


def test_a_unit_rise_keeps_the_numbers_that_raised_it(world, dataset):
    run()
    warning = EarlyWarning.objects.get(kind=WarningKind.UNIT_RISE)
    p_value = warning.figures.pop("p_value")
    assert p_value == pytest.approx(reference_tail(7, LAMBDA), rel=1e-12)
    assert p_value < 0.01 / 10  # high
    assert warning.figures == {
        "observed": 7,
        "expected": round(2 * 92 / 731, 4),
        "limit": 3,
        "alpha": 0.01,
        "window": {"start": "2025-10-01", "end": "2025-12-31"},
        "baseline": {"start": "2023-10-01", "end": "2025-09-30", "cases": 2, "months": 24},
    }


def test_a_scenario_rise_counts_the_provinces_cases_of_the_scenario(world, dataset):
    run()
    rises = {w.figures["dimension"]: w.figures for w in EarlyWarning.objects.filter(kind=WarningKind.SCENARIO_RISE)}
    assert sorted(rises) == ["place", "scenario"]
    for dimension, code in (("scenario", "call_110"), ("place", "road")):
        figures = rises[dimension]
        assert (figures["code"], figures["observed"], figures["baseline"]["cases"]) == (code, 6, 2)
        assert figures["p_value"] == pytest.approx(reference_tail(6, LAMBDA), rel=1e-12)


def test_the_repeat_warnings_keep_their_case_and_officer(world, dataset):
    run()
    attacker = EarlyWarning.objects.get(kind=WarningKind.REPEAT_ATTACKER)
    assert attacker.figures == {"ref": dataset.later.reference, "suspects": 1, "prior_attack_on_police": False}
    victim = EarlyWarning.objects.get(kind=WarningKind.REPEAT_VICTIM)
    assert victim.figures == {
        "ref": dataset.victim_cases[-1].reference,
        "officer": dataset.prompt.officer_name,
        "attacks": 3,
        "attacked_at": dataset.prompt.attacked_at.isoformat(),
        "threshold": 3,
    }


def test_a_rerun_raises_nothing_and_tells_nobody_again(world, dataset):
    run()
    before = (
        list(EarlyWarning.objects.order_by("pk").values_list("pk", "key", "version")),
        Notification.objects.count(),
    )
    assert run() == {"unit_rise": 0, "scenario_rise": 0, "repeat_attacker": 0, "repeat_victim": 0}
    # Later the same month the window is the same: still nothing new.
    assert run(at(2026, 1, 31, 23)) == {"unit_rise": 0, "scenario_rise": 0, "repeat_attacker": 0, "repeat_victim": 0}
    after = (
        list(EarlyWarning.objects.order_by("pk").values_list("pk", "key", "version")),
        Notification.objects.count(),
    )
    assert after == before


def test_a_resolved_warning_is_not_raised_again_for_its_period(world, dataset):
    run()
    warning = EarlyWarning.objects.get(kind=WarningKind.UNIT_RISE)
    services.acknowledge_warning(warning=warning, by=world.county_supervisor)
    services.resolve_warning(warning=warning, by=world.county_supervisor, note="查明为同一事件多次报案")
    assert run()["unit_rise"] == 0
    assert EarlyWarning.objects.filter(kind=WarningKind.UNIT_RISE).count() == 1


def test_each_window_is_a_period_of_its_own(world, dataset):
    # As of 2 November 2025 the window (August to October) holds none of the rise; as of 2 December (September to
    # November) it holds the county's 6 of November against the same 2; as of AS_OF (October to December) its 7.
    assert run(at(2025, 11, 2))["unit_rise"] == 0
    assert run(at(2025, 12, 2))["unit_rise"] == 1
    assert run(AS_OF)["unit_rise"] == 1
    rises = EarlyWarning.objects.filter(kind=WarningKind.UNIT_RISE).order_by("raised_at")
    assert [(w.key, w.figures["observed"], w.figures["baseline"]["cases"]) for w in rises] == [
        (f"unit_rise:{world.county.pk}:2025-11-30", 6, 2),
        (f"unit_rise:{world.county.pk}:2025-12-31", 7, 2),
    ]


def test_the_settings_in_force_are_the_latest_row(world, dataset):
    ministry_admin = world.ministry_supervisor
    ministry_admin.is_superuser = True
    ministry_admin.save(update_fields=["is_superuser"])
    with clock(AS_OF - timedelta(days=2)):
        services.record_warning_settings(
            by=ministry_admin, window_days=90, baseline_months=24, alpha=0.01, min_cases=8, repeat_victim_threshold=4
        )
    with clock(AS_OF - timedelta(days=1)):
        services.record_warning_settings(
            by=ministry_admin, window_days=90, baseline_months=24, alpha=0.01, min_cases=7, repeat_victim_threshold=4
        )
    # 7 cases for the county reach the minimum of 7, the province's 6 do not; the officer's 3 attacks are below 4.
    assert run() == {"unit_rise": 1, "scenario_rise": 0, "repeat_attacker": 1, "repeat_victim": 0}
    assert EarlyWarning.objects.get(kind=WarningKind.UNIT_RISE).figures["observed"] == 7


def test_the_owner_units_office_is_told_in_app_in_its_language(world, dataset):
    run()
    notes = Notification.objects.filter(message=messages.NOTICE).select_related("unit")
    told = sorted((n.recipient.username, n.unit.code, n.link) for n in notes)
    warning = {w.kind: w for w in EarlyWarning.objects.all()}
    scenario = sorted(EarlyWarning.objects.filter(kind=WarningKind.SCENARIO_RISE).values_list("pk", flat=True))
    assert told == sorted(
        [
            # The county's office for the county, its stations and their cases; the province has no supervisor of its
            # own, so the ministry's are told of its rises.
            ("county_supervisor", "330106", f"/analysis/warnings/{warning[WarningKind.UNIT_RISE].pk}/"),
            ("county_supervisor", "330106002", f"/analysis/warnings/{warning[WarningKind.REPEAT_ATTACKER].pk}/"),
            ("county_supervisor", "330106001", f"/analysis/warnings/{warning[WarningKind.REPEAT_VICTIM].pk}/"),
            ("ministry_supervisor", "330000", f"/analysis/warnings/{scenario[0]}/"),
            ("ministry_supervisor", "330000", f"/analysis/warnings/{scenario[1]}/"),
        ]
    )
    assert {(n.kind, n.delivery, n.case_id) for n in notes} == {(NotificationKind.NOTICES, "in_app", None)}
    assert all(n.emailed_at == AS_OF for n in notes)  # in-app only: nothing to e-mail
    note = notes.get(unit=world.county)
    with translation.override("en"):
        assert note.text == (
            "Early warning: 西湖区分局 received 7 cases from 1 Oct 2025 to 31 Dec 2025, where 0.3 were expected from "
            "the 24 months before (2 cases); 3 or more is beyond the control limit (p = 1e-08). Look into it and "
            "acknowledge it on its page."
        )
    assert note.verb == note.text[:200]


def test_the_notice_is_worded_from_its_parameters(world):
    params = explain.notice_params(
        WarningKind.REPEAT_VICTIM,
        {"ref": "RG-2026-000003", "officer": "王警官", "attacks": 4, "threshold": 3},
        ("北山派出所", "Beishan Station"),
    )
    with translation.override("en"):
        assert messages.render(messages.NOTICE, {**params, "topic": explain.TOPIC, "v": messages.VERSION}) == (
            "Early warning: 王警官 was attacked 4 times within twelve months, most recently in RG-2026-000003. Look "
            "into it and acknowledge it on its page."
        )
    # A topic nobody registered says nothing: the stored English text stands in.
    assert messages.render(messages.NOTICE, {**params, "topic": "nobody", "v": messages.VERSION}) == ""


def test_the_task_runs_once_per_period(world, dataset):
    with clock(AS_OF):
        first = tasks.early_warning(period=24 * 3600.0)
        second = tasks.early_warning(period=24 * 3600.0)
    assert first == {"unit_rise": 1, "scenario_rise": 2, "repeat_attacker": 1, "repeat_victim": 1}
    assert second == {"skipped": 1}
    assert list(JobRun.objects.values_list("job", flat=True)) == ["early_warning"]
    assert EarlyWarning.objects.count() == 5
    # The next day's tick runs again, and finds nothing new.
    with clock(AS_OF + timedelta(days=1)):
        assert tasks.early_warning(period=24 * 3600.0) == {
            "unit_rise": 0,
            "scenario_rise": 0,
            "repeat_attacker": 0,
            "repeat_victim": 0,
        }
    assert EarlyWarning.objects.count() == 5


def test_beat_runs_the_job_daily_with_a_days_period():
    entry = django_settings.CELERY_BEAT_SCHEDULE["early-warning"]
    assert (entry["task"], entry["kwargs"]) == ("analysis.early_warning", {"period": 86400.0})
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({1}, {30})


def test_the_defaults_hold_while_nobody_set_any(db):
    from analysis.selectors import current_settings

    current = current_settings()
    assert current.pk is None
    values = (current.window_days, current.baseline_months, current.alpha, current.min_cases)
    assert (*values, current.repeat_victim_threshold) == (90, 12, 0.001, 5, 3)
    assert WarningSettings.objects.count() == 0


def test_a_repeat_attackers_page_names_only_the_earlier_cases_its_reader_may_know_of(client, world, dataset):
    run()
    warning = EarlyWarning.objects.get(kind=WarningKind.REPEAT_ATTACKER)
    url = f"/analysis/warnings/{warning.pk}/"
    # The earlier case is in the sibling province: the city's supervisor is told of the warning (it is their case)
    # but the earlier case is neither named nor counted for them; the ministry's supervisor sees it.
    client.force_login(world.supervisor)
    assert client.get(url).context["earlier"] == []
    client.force_login(world.ministry_supervisor)
    assert [c.pk for c in client.get(url).context["earlier"]] == [dataset.earlier.pk]
    # The administrator of the province reads no ID numbers: the warning does not exist for them.
    client.force_login(world.admin)
    assert client.get(url).status_code == 404


def test_the_backtest_counts_the_alarms_per_unit_month_and_writes_nothing(world, dataset):
    out = io.StringIO()
    call_command("early_warning_backtest", "--until", "2026-01-15", "--days", "31", "--alarms", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "2025-12-16 to 2026-01-15: 31 days, 2 windows (2025-09-01 … 2025-12-31); window 3 months, baseline 24 "
        "months, alpha 0.01, minimum 5 cases"
    )
    # The county's 6 of November, then its 7 of October to December; the province's 110 calls and roads both times.
    assert lines[1] == "unit_rise: 2 alarms in 2 county-months (1 counties): 1.0000 per unit-month"
    assert lines[2] == "scenario_rise: 4 alarms in 80 province-code-months (2 provinces): 0.0500 per unit-month"
    # 13 cases in the two windows against 2 × (91 + 92) / 731 expected: 25.964 times.
    assert lines[3].startswith("the median county expects 0.3 cases a window; the counties had 25.964 times what")
    # September to November is 91 days against 731: λ = 182 / 731, a little below October to December's 184 / 731.
    assert poisson.upper_tail(6, 182 / 731) == pytest.approx(reference_tail(6, Fraction(182, 731)), rel=1e-12)
    county = f"  unit_rise:{world.county.pk}"
    assert lines[3:][-2:] == [
        f"{county}:2025-11-30 (330106): observed 6, expected 0.25, limit 3, p 2.7e-07, high, 16 days",
        f"{county}:2025-12-31 (330106): observed 7, expected 0.25, limit 3, p 1e-08, high, 15 days",
    ]
    assert EarlyWarning.objects.count() == 0
    # Other settings are tried without saving them: at a minimum of 7 cases only the county's 7 remain.
    out = io.StringIO()
    call_command("early_warning_backtest", "--until", "2026-01-15", "--days", "31", "--min-cases", "7", stdout=out)
    assert (
        out.getvalue().splitlines()[1] == "unit_rise: 1 alarms in 2 county-months (1 counties): 0.5000 per unit-month"
    )
    assert WarningSettings.objects.count() == 1  # the dataset's own
