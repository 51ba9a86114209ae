"""Acknowledging and resolving an early warning (analysis/services.py), the settings' service, and the invariants the
database holds whatever the door (analysis/models.py). Every refusal leaves the warning exactly as it was."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from accounts.selectors import actor_for
from analysis import policy, services
from analysis.choices import WarningKind, WarningState
from analysis.models import EarlyWarning, WarningSettings
from cases.exceptions import IllegalTransition, StaleVersion
from tests.analysis.warnings_dataset import AS_OF, a_warning, four_warnings, state_of
from tests.factories import member
from tests.reports.dataset import clock

LATER = AS_OF + timezone.timedelta(days=1)


@pytest.fixture
def warning(world):
    return a_warning(WarningKind.UNIT_RISE, world.county)


def acknowledged(warning, by, note=""):
    with clock(LATER):
        return services.acknowledge_warning(warning=warning, by=by, note=note, expected_version=warning.version)


def test_a_supervisor_of_the_unit_acknowledges_it_with_a_note(world, warning):
    done = acknowledged(warning, world.county_supervisor, "  已安排核查  ")
    assert state_of(done) == (
        WarningState.ACKNOWLEDGED,
        2,
        world.county_supervisor.pk,
        LATER,
        "已安排核查",
        None,
        None,
        "",
    )


def test_a_supervisor_above_the_unit_acts_on_it_too(world, warning):
    assert acknowledged(warning, world.supervisor).acknowledged_by == world.supervisor


@pytest.mark.parametrize("who", ["admin", "sibling_supervisor", "officer", "other_officer"])
def test_nobody_else_acts_on_it(world, warning, who):
    before = state_of(warning)
    with pytest.raises(PermissionDenied, match="Only a supervisor of the warning's unit"):
        acknowledged(warning, getattr(world, who))
    assert state_of(warning) == before


def test_a_supervisor_of_a_unit_below_does_not_act_on_it(world):
    province_rise = a_warning(WarningKind.SCENARIO_RISE, world.province)
    before = state_of(province_rise)
    with pytest.raises(PermissionDenied):
        acknowledged(province_rise, world.supervisor)
    assert state_of(province_rise) == before


def test_a_stale_version_writes_nothing(world, warning):
    before = state_of(warning)
    with pytest.raises(StaleVersion, match="changed after you opened it"):
        services.acknowledge_warning(warning=warning, by=world.county_supervisor, expected_version=7)
    assert state_of(warning) == before


def test_it_is_acknowledged_once(world, warning):
    done = acknowledged(warning, world.county_supervisor, "第一次")
    before = state_of(done)
    with pytest.raises(IllegalTransition, match="acknowledged already"):
        acknowledged(done, world.supervisor, "第二次")
    assert state_of(done) == before


def test_it_is_acknowledged_before_it_is_resolved(world, warning):
    before = state_of(warning)
    with pytest.raises(IllegalTransition, match="Acknowledge the warning before you resolve it"):
        services.resolve_warning(warning=warning, by=world.county_supervisor, note="已处理", expected_version=1)
    assert state_of(warning) == before


@pytest.mark.parametrize("note", ["", "   \n\t "])
def test_a_resolution_needs_a_note(world, warning, note):
    done = acknowledged(warning, world.county_supervisor)
    before = state_of(done)
    with pytest.raises(ValidationError) as refused:
        services.resolve_warning(warning=done, by=world.county_supervisor, note=note, expected_version=2)
    assert refused.value.message_dict == {"note": ["Say what was found and done: a resolution needs a note."]}
    assert state_of(done) == before


def test_a_note_is_at_most_two_thousand_characters(world, warning):
    before = state_of(warning)
    with pytest.raises(ValidationError) as refused:
        services.acknowledge_warning(warning=warning, by=world.county_supervisor, note="查" * 2001)
    assert refused.value.message_dict == {"note": ["Keep the note to 2000 characters."]}
    assert state_of(warning) == before


def test_it_is_resolved_with_who_when_and_the_note_then_never_again(world, warning):
    done = acknowledged(warning, world.county_supervisor)
    at = LATER + timezone.timedelta(hours=3)
    with clock(at):
        resolved = services.resolve_warning(
            warning=done, by=world.supervisor, note="经核查为同一起事件重复报案，已合并。", expected_version=2
        )
    assert state_of(resolved) == (
        WarningState.RESOLVED,
        3,
        world.county_supervisor.pk,
        LATER,
        "",
        world.supervisor.pk,
        at,
        "经核查为同一起事件重复报案，已合并。",
    )
    with pytest.raises(IllegalTransition, match="resolved already"):
        services.resolve_warning(warning=resolved, by=world.supervisor, note="再次", expected_version=3)
    assert state_of(resolved)[1] == 3


# --- the invariants in the database ------------------------------------------------------------------------------


def refused_by_the_database(**changes) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        EarlyWarning.objects.update(**changes)


def test_the_database_holds_the_invariants(world, warning):
    refused_by_the_database(kind="hunch")
    refused_by_the_database(severity="extreme")
    refused_by_the_database(state="forgotten")
    refused_by_the_database(key=f"scenario_rise:{world.county.pk}:2025-12-31")  # a key names its kind
    refused_by_the_database(kind=WarningKind.REPEAT_VICTIM, key="repeat_victim:1")  # a repeat names its case
    refused_by_the_database(state=WarningState.ACKNOWLEDGED)  # without who and when
    refused_by_the_database(acknowledged_at=LATER, acknowledged_by=world.county_supervisor)  # still open
    refused_by_the_database(
        state=WarningState.RESOLVED,
        acknowledged_at=LATER,
        acknowledged_by=world.county_supervisor,
        resolved_at=LATER,
        resolved_by=world.county_supervisor,
        resolution_note="  ",
    )
    refused_by_the_database(  # acknowledged before it was raised
        state=WarningState.ACKNOWLEDGED,
        acknowledged_at=AS_OF - timezone.timedelta(days=1),
        acknowledged_by=world.county_supervisor,
    )
    refused_by_the_database(version=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        a_warning(WarningKind.UNIT_RISE, world.county, key=warning.key)  # once per key
    assert state_of(warning) == (WarningState.OPEN, 1, None, None, "", None, None, "")


# --- the settings ------------------------------------------------------------------------------------------------

VALUES = {"window_days": 90, "baseline_months": 24, "alpha": 0.01, "min_cases": 5, "repeat_victim_threshold": 3}


@pytest.fixture
def tree_admin(world):
    return member(world.ministry, Role.ADMIN)


def test_an_administrator_of_the_whole_tree_records_new_settings_as_a_new_row(world, tree_admin):
    with clock(AS_OF):
        first = services.record_warning_settings(by=tree_admin, **VALUES)
    with clock(LATER):
        second = services.record_warning_settings(by=tree_admin, **{**VALUES, "alpha": 0.005})
    rows = list(WarningSettings.objects.order_by("changed_at").values_list("pk", "alpha", "changed_by", "changed_at"))
    assert rows == [(first.pk, 0.01, tree_admin.pk, AS_OF), (second.pk, 0.005, tree_admin.pk, LATER)]


@pytest.mark.parametrize("who", ["admin", "ministry_supervisor"])
def test_nobody_else_changes_the_settings(world, who):
    with pytest.raises(PermissionDenied, match="whole tree"):
        services.record_warning_settings(by=getattr(world, who), **VALUES)
    assert WarningSettings.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("window_days", 27, "Give a whole number from 28 to 366."),
        ("window_days", 367, "Give a whole number from 28 to 366."),
        ("baseline_months", 2, "Give a whole number from 3 to 120."),
        ("min_cases", 0, "Give a whole number from 1 to 1000."),
        ("repeat_victim_threshold", 2, "Give a whole number from 3 to 50."),
        ("alpha", 0.0, "Give a level above 0 and at most 0.2."),
        ("alpha", 0.5, "Give a level above 0 and at most 0.2."),
        ("alpha", float("nan"), "Give a level above 0 and at most 0.2."),
    ],
)
def test_settings_out_of_range_are_refused(world, tree_admin, field, value, message):
    with pytest.raises(ValidationError) as refused:
        services.record_warning_settings(by=tree_admin, **{**VALUES, field: value})
    assert refused.value.message_dict == {field: [message]}
    assert WarningSettings.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("window_days", 10), ("baseline_months", 500), ("alpha", 0.3), ("min_cases", 0), ("repeat_victim_threshold", 2)],
)
def test_the_database_holds_the_settings_ranges(db, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        WarningSettings.objects.create(**{**VALUES, field: value}, changed_at=AS_OF)


# --- the policy: each predicate agrees with its queryset ---------------------------------------------------------


def test_who_sees_a_warning_is_the_same_question_for_one_and_for_many(world):
    warnings = four_warnings(world)
    people = [
        "officer",
        "other_officer",
        "supervisor",
        "county_supervisor",
        "sibling_supervisor",
        "ministry_supervisor",
        "admin",
        "sibling_officer",
    ]
    seen = {}
    for who in people:
        actor = actor_for(getattr(world, who))
        many = set(policy.visible_warnings(actor).values_list("pk", flat=True))
        one = {w.pk for w in warnings.all() if policy.can_see(actor, w)}
        assert many == one, who
        acting = {w.pk for w in warnings.all() if policy.can_act(actor, w)}
        assert acting <= one, who
        seen[who] = (
            {
                k
                for k in ("unit_rise", "scenario_rise", "repeat_attacker", "repeat_victim")
                if getattr(warnings, k).pk in one
            },
            len(acting),
        )
    assert seen == {
        "officer": (set(), 0),
        "other_officer": (set(), 0),
        "supervisor": ({"unit_rise", "repeat_attacker", "repeat_victim"}, 3),
        "county_supervisor": ({"unit_rise", "repeat_attacker", "repeat_victim"}, 3),
        "sibling_supervisor": (set(), 0),
        "ministry_supervisor": ({"unit_rise", "scenario_rise", "repeat_attacker", "repeat_victim"}, 4),
        "admin": ({"unit_rise", "scenario_rise", "repeat_victim"}, 0),
        "sibling_officer": (set(), 0),
    }
