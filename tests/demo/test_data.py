"""The demo's data files (demo/data/*.json) hold only what the code and the domain accept (pure: no database)."""

import string
from dataclasses import fields

import pytest

from accounts.models import OrgLevel, Role
from cases.choices import (
    LENIENT_DISPOSITIONS,
    Disposition,
    DutyStatus,
    FindingProblem,
    IncidentKind,
    InjuryGrade,
    LenientReason,
    OfficerType,
    PauseReason,
    ReferralTarget,
    SupportKind,
    SupportStatus,
    SuspectStatus,
    Track,
)
from cases.models import Case
from demo import generator, stories
from demo.organisation import DEMO_ACCOUNTS, ORG_TREE, UNIT_SPECS

# The step fields that hold a choice, and the choices they may hold.
STEP_CHOICES = {
    (stories.Refer, "track"): Track,
    (stories.Refer, "target"): ReferralTarget,
    (stories.Dispose, "disposition"): Disposition,
    (stories.Support, "kind"): SupportKind,
    (stories.Support, "status"): SupportStatus,
    (stories.Finding, "problem"): FindingProblem,
    (stories.Reopen, "problem"): FindingProblem,
    (stories.Pause, "reason"): PauseReason,
}
# What the generator formats the summaries and narratives with.
TEXT_FIELDS = {"md", "place", "station", "officer", "suspect", "views", "items", "attackers"}


def placeholders(template: str) -> set[str]:
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(template) if name is not None}


def test_the_org_tree_has_unique_codes_and_each_unit_below_its_parent():
    assert len(UNIT_SPECS) == len(ORG_TREE) == 39
    seen: set[str] = set()
    for spec in ORG_TREE:
        assert spec.level in OrgLevel.values, spec
        assert spec.parent is None or spec.parent in seen, spec  # created after its parent
        seen.add(spec.code)
    counties = [s for s in ORG_TREE if s.level == OrgLevel.COUNTY]
    assert counties
    assert all(s.locality and len(s.roads) >= 2 and s.abbr for s in counties)


def test_demo_accounts_hold_known_roles_in_demo_units():
    assert [a.username for a in DEMO_ACCOUNTS] == [
        "officer",
        "officer2",
        "officer_hubei",
        "supervisor",
        "county_supervisor",
        "supervisor_hubei",
        "province_supervisor",
        "admin",
    ]
    for account in DEMO_ACCOUNTS:
        assert account.role in Role.values, account
        assert account.unit in UNIT_SPECS, account
    assert [a.username for a in DEMO_ACCOUNTS if a.is_staff] == ["admin"]


def test_each_story_names_demo_people_units_and_valid_choices():
    accounts = {a.username: a for a in DEMO_ACCOUNTS}
    keys: list[str] = []
    for story in stories.DEMO_CASES:
        assert story.key not in keys, story.key
        assert accounts[story.filer].role == Role.OFFICER, story.key
        assert accounts[story.handler].role == Role.SUPERVISOR, story.key
        assert story.unit in UNIT_SPECS, story.key
        for name, value in story.details.items():
            field = Case._meta.get_field(name)  # an unknown detail raises here
            if field.choices:
                assert value in dict(field.flatchoices), (story.key, name, value)
        for v in story.victims:
            assert v.officer_type in OfficerType.values, story.key
            assert v.duty in DutyStatus.values, story.key
            assert v.injury in InjuryGrade.values, story.key
        assert all(p.status in SuspectStatus.values for p in story.suspects), story.key
        for step in story.steps:
            for f in fields(step):
                choices = STEP_CHOICES.get((type(step), f.name))
                if choices is not None:
                    assert getattr(step, f.name) in choices.values, (story.key, step)
            match step:
                case stories.Refer(unit=unit):
                    assert not unit or unit in UNIT_SPECS, (story.key, step)
                case stories.Reject(duplicate_of=key):
                    assert not key or key in keys, (story.key, step)  # an earlier story
                case stories.Dispose(suspect=index, disposition=disposition, reason=reason):
                    assert index < len(story.suspects), (story.key, step)
                    # Every lenient outcome of the demo says why it was reached; no other outcome has a reason.
                    if disposition in LENIENT_DISPOSITIONS:
                        assert reason in LenientReason.values, (story.key, step)
                    else:
                        assert reason == "", (story.key, step)
                case stories.Transfer(suspect=index, unit=unit, body=body):
                    assert index < len(story.suspects), (story.key, step)
                    assert (unit in UNIT_SPECS) != bool(body), (story.key, step)
                case stories.Support(officer=index):
                    assert index is None or index < len(story.victims), (story.key, step)
        keys.append(story.key)
    assert len(keys) == 38


def test_an_unknown_step_is_refused():
    entry = {
        "key": "bad",
        "filer": "officer",
        "unit": "330106001",
        "handler": "supervisor",
        "days_ago": 1,
        "details": {},
        "victims": [],
        "suspects": [],
        "steps": [{"step": "submit"}, {"step": "escalate"}],
    }
    with pytest.raises(ValueError, match="Demo case bad: unknown step 'escalate'"):
        stories._story(entry)


def test_the_vocabulary_covers_every_incident_kind_the_generator_picks():
    assert set(generator.TEXTS) <= set(IncidentKind.values)
    assert set(generator.KIND_MIX.values) <= set(generator.TEXTS)
    for kind, (summaries, narratives) in generator.TEXTS.items():
        assert len(summaries) == len(narratives) >= 1, kind  # paired by position
        for template in (*summaries, *narratives):
            assert placeholders(template) <= TEXT_FIELDS, (kind, template)
    assert set(generator.REASONS["no_suspect_by_kind"]) <= set(IncidentKind.values)
    assert placeholders(generator.REASONS["recall"]) == {"campaign"}
    assert all(placeholders(p) <= {"road", "road2", "n"} for p in generator.PLACES)
    assert len(generator.SURNAMES) >= 50
    assert len(generator.GIVEN) >= 30
