"""The facts table (cases/rules/facts.FACTS) and everything that derives from it or must agree with it."""

import dataclasses
from datetime import date

import pytest
from django.db import connection, models
from django.utils import timezone
from django.utils.text import capfirst

from cases.api.serializers import CaseDetailSerializer, CaseDetailsWriteSerializer
from cases.choices import Disposition, DutyStatus, IncidentKind, InjuryGrade, OfficerType, Weapon
from cases.flagging.snapshot import load_snapshots
from cases.forms import FactsForm, SupervisorFactsForm
from cases.models import Case
from cases.rules import CaseFacts, OfficerFacts, SuspectFacts, evaluate
from cases.rules.facts import FACT_NAMES, FACTS, OFFICER, SUPERVISOR, Fact
from cases.services.intake import DETAIL_FIELDS
from tests.factories import case_in

# CaseFacts' fields that are not case facts of the table: the incident, the handling, and the related rows.
NOT_FACTS = {
    "incident_date",
    "kind",
    "status",
    "track",
    "officers",
    "suspects",
    "referrals",
    "support_delivered",
    "support_under_way",
    "rectified_findings",
    "no_suspect_reason",
    "fault_finding",
    "as_of",
}
MODEL_FIELD = {bool: models.BooleanField, str: models.CharField}
COUNT_FIELD = {32767: models.PositiveSmallIntegerField, 2**31 - 1: models.PositiveIntegerField}


def _other_value(fact: Fact) -> object:
    """A value other than the fact's default that a rule could react to."""
    if fact.choices is Weapon:
        return Weapon.GUN
    if fact.choices is not None:
        return fact.choices.values[0]
    if fact.type is bool:
        return not fact.default if fact.default is not None else True
    return 5


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f.name)
def test_the_case_model_stores_each_fact_as_the_table_declares(fact):
    field = Case._meta.get_field(fact.name)
    assert str(field.verbose_name) == str(fact.label)
    assert field.null is fact.nullable
    assert field.get_default() == fact.default
    assert field.editable is True
    if fact.type is int:
        assert type(field) is COUNT_FIELD[fact.max_value]
        if connection.vendor == "postgresql":
            # SQLite stores every integer in 64 bits; PostgreSQL's columns hold what the table declares.
            assert connection.ops.integer_field_range(field.get_internal_type()) == (0, fact.max_value)
    else:
        assert type(field) is MODEL_FIELD[fact.type]
        assert fact.max_value is None
    if fact.choices is None:
        assert field.choices is None
    else:
        assert [value for value, _label in field.choices] == list(fact.choices.values)


def test_case_facts_has_exactly_the_tables_facts_with_the_same_defaults():
    fields = {f.name: f for f in dataclasses.fields(CaseFacts)}
    assert set(fields) == set(FACT_NAMES) | NOT_FACTS
    assert {f.name: fields[f.name].default for f in FACTS} == {f.name: f.default for f in FACTS}


def test_the_facts_forms_ask_the_officer_the_officers_facts_and_the_supervisor_all_of_them():
    officer_facts = [f.name for f in FACTS if f.asked_of == OFFICER]
    supervisor_only = [f.name for f in FACTS if f.asked_of == SUPERVISOR]
    assert supervisor_only == ["major_security_period"]
    assert list(FactsForm().fields) == officer_facts
    assert list(SupervisorFactsForm().fields) == [*officer_facts, *supervisor_only]


def test_the_facts_forms_label_each_fact_with_its_question_or_else_its_name():
    form = SupervisorFactsForm()
    assert {name: str(field.label) for name, field in form.fields.items()} == {
        f.name: str(f.question) if f.question else capfirst(str(f.label)) for f in FACTS
    }
    assert form.fields["weapon"].label == "Was a weapon used?"
    assert "police_fault" not in form.fields
    assert all(field.help_text == "" for field in form.fields.values())


def test_the_case_serializers_carry_every_fact_in_the_tables_order():
    read = list(CaseDetailSerializer().fields)
    start = read.index("narrative") + 1
    assert read[start : start + len(FACTS)] == list(FACT_NAMES)
    assert read[start + len(FACTS)] == "stage_started_at"
    write = list(CaseDetailsWriteSerializer().fields)
    assert write == ["kind", "channel", "dispatch_ref", "occurred_at", "location", "summary", "narrative", *FACT_NAMES]
    assert set(FACT_NAMES) <= set(DETAIL_FIELDS)


@pytest.mark.parametrize(
    ("data", "valid"),
    [
        ({"officers_attacked": 32767, "online_views": 2**31 - 1}, True),
        ({"officers_attacked": 32768}, False),
        ({"attackers": -1}, False),
        ({"personal_info_items": 2**31}, False),
        ({"vehicle_used": None, "online_reposts": None}, True),
        ({"weapon": None}, False),
        ({"major_security_period": None}, False),
        ({"weapon": "gun", "major_security_period": True}, True),
        ({"weapon": "sword"}, False),
        # The former field is refused with a pointer to the fault findings, not silently dropped.
        ({"police_fault": "serious"}, False),
    ],
)
def test_the_write_serializer_takes_the_range_and_nullability_of_each_fact(data, valid):
    serializer = CaseDetailsWriteSerializer(data=data)
    assert serializer.is_valid() is valid
    if not valid:
        assert set(serializer.errors) == set(data)


def test_the_snapshot_reads_every_fact_of_the_case(world):
    values = {f.name: _other_value(f) for f in FACTS}
    case = case_in(world, "intake")
    Case.objects.filter(pk=case.pk).update(**values)
    snap = load_snapshots([case.pk], timezone.now())[case.pk]
    assert {name: getattr(snap.facts, name) for name in FACT_NAMES} == values


def _scenarios(kind: str, fact: Fact) -> list[CaseFacts]:
    """Cases of ``kind`` on both sides of the 2025 change, with victims the rules treat differently, handled at the
    lowest, a middle and a criminal rank; the other facts unknown, or all shown."""
    victims = [
        (OfficerFacts(injury=InjuryGrade.SLIGHT),),
        (OfficerFacts(injury=InjuryGrade.MINOR_2), OfficerFacts()),
        (OfficerFacts(officer_type=OfficerType.AUXILIARY),),
        (OfficerFacts(duty_status=DutyStatus.OFF_DUTY_INTERVENING, injury=InjuryGrade.SLIGHT),),
        (OfficerFacts(duty_status=DutyStatus.OFF_DUTY, injury=InjuryGrade.MINOR_2),),
    ]
    shown = {f.name: _other_value(f) for f in FACTS if f.name != fact.name}
    return [
        CaseFacts(
            incident_date=on,
            kind=kind,
            officers=officers,
            suspects=(SuspectFacts(id=1, disposition=disposition, probation=True, sentence_months=6),),
            **others,
        )
        for on in (date(2024, 6, 1), date(2026, 3, 1))
        for officers in victims
        for disposition in (Disposition.NON_LEGAL_HANDLING, Disposition.ADMIN_FINE, Disposition.CONVICTED_277_5_BASIC)
        for others in ({}, shown)
    ]


@pytest.mark.parametrize("fact", [f for f in FACTS if f.kinds is not None], ids=lambda f: f.name)
def test_a_fact_tied_to_incident_types_changes_no_evaluation_of_other_types(fact):
    others = [kind for kind in IncidentKind.values if kind not in fact.kinds]
    assert others
    for kind in others:
        for facts in _scenarios(kind, fact):
            assert evaluate(dataclasses.replace(facts, **{fact.name: _other_value(fact)})) == evaluate(facts)


@pytest.mark.parametrize("fact", [f for f in FACTS if f.kinds is not None], ids=lambda f: f.name)
def test_a_fact_tied_to_incident_types_changes_an_evaluation_of_each_of_them(fact):
    unchanged = [
        kind
        for kind in sorted(fact.kinds)
        if all(
            evaluate(dataclasses.replace(facts, **{fact.name: _other_value(fact)})) == evaluate(facts)
            for facts in _scenarios(kind, fact)
        )
    ]
    assert unchanged == []
