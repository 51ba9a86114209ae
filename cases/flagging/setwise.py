"""The rules in SQL: every case's findings at once, for the full re-evaluation and the first scan (PostgreSQL).

The Python engine (``cases.rules.engine``) stays the reference: it explains a flag on the case page and decides the
few cases a scan finds changed. Evaluating the whole population through it costs a Python object per officer,
suspect and referral and a call per rule; here the same decisions are made set-wise:

1. ``build`` reads one facts relation per scan (a temporary table, ``FACTS``): the case row, its officers reduced to
   counts and worst appraised injuries per group of victims (on duty, intervening off duty, off duty, regular,
   auxiliary), its suspects reduced to the principal outcome and the handful of yes/no facts the rules read (each
   suspect counted at ``counted_disposition``, with the dispositions it had before from the timeline), its
   referrals, support measures, rectified supervision findings, the current police-fault finding and the number
   of open flags.
2. Each rule's predicate is a SQL expression over that relation (``PREDICATES``, keyed by the Python predicate it
   mirrors: a rule added without its SQL twin fails ``missing_sql`` and its test, and the build, never silently
   skipped), and each rule *version* comes from the catalogue itself (dates, minimum rank, too-light charges,
   sentence bracket, probation stance, suppressions, severity): the versions are not written twice.
3. The law applied (the incident date's, or the later, lighter law of the judging date) and the expected minimum
   rank are chosen as ``engine.evaluate`` chooses them; the findings relation (``FINDINGS``: case, rule, version,
   severity) applies the engine's judging, its "establish the fact" filter and its "a wrong charge is said once"
   filter.

4. Each finding's flag detail (``Finding.as_detail``) is built in SQL from the same relation, and the findings are
   diffed against the open flags (``diff``: kind, rule and detail, compared as stored).

``tests/cases/test_rules_sql.py`` proves the relations equal to the engine, rule version by rule version and detail
by detail, on a generated population, and the diff equal to the planner's. The scan (``cases.flagging.scan``) hands
the planner only the cases whose flags change, whose clocks run (open cases) or that carry an overridden finding,
and records every other case as evaluated in a few set-based UPDATEs (``settle``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from cases.choices import (
    ADMIN_PUNISHMENTS,
    DISPOSITION_RANK,
    FINAL_DISPOSITIONS,
    INJURY_RANK,
    LENIENT_DISPOSITIONS,
    OPEN_STATUSES,
    CaseStatus,
    Disposition,
    EventKind,
    FindingProblem,
    FlagResolution,
    InjuryGrade,
    LenientReason,
    NoSuspectReason,
    PoliceFault,
    SupportKind,
    SupportStatus,
    Track,
    Weapon,
)
from cases.flagging.plan import SEVERITY_KIND
from cases.rules import downgrade as dg
from cases.rules import procedure as pr
from cases.rules.base import Problem, Rule, Severity, Suppression
from cases.rules.engine import CONVICTED, RULES
from cases.rules.facts import ATTACK_KINDS, EQUIPMENT_KINDS

FACTS = "flag_scan_facts"
SCOPE = "flag_scan_scope"
FINDINGS = "flag_scan_findings"

# Characters Python's str.isspace() accepts: a lowered reason made of these alone is no reason (``strip()``).
_BLANK = r"^[ \t\n\r\f\v\u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"


def _lit(value: str) -> str:
    """A code from the choices as a SQL literal (codes are identifiers: no quotes to escape)."""
    if "'" in value or "\\" in value:
        raise ValueError(value)
    return f"'{value}'"


def _in(column: str, values: Any) -> str:
    values = sorted(str(v) for v in values)
    return f"{column} IN ({', '.join(_lit(v) for v in values)})" if values else "FALSE"


def _rank(column: str, ranks: dict[str, int]) -> str:
    whens = " ".join(f"WHEN {_lit(k)} THEN {v}" for k, v in sorted(ranks.items()))
    return f"(CASE {column} {whens} END)"


def _name(column: str, ranks: dict[str, int]) -> str:
    """The code of a rank (the inverse of ``_rank``; the ranks are distinct)."""
    whens = " ".join(f"WHEN {v} THEN {_lit(k)}" for k, v in sorted(ranks.items()))
    return f"(CASE {column} {whens} END)"


def _date(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


# --- 1. The facts relation ------------------------------------------------------------------------------------

_A_E = ATTACK_KINDS | EQUIPMENT_KINDS
_UNDER_WAY = (SupportStatus.APPROVED, SupportStatus.OFFERED, SupportStatus.IN_PROGRESS, SupportStatus.DELIVERED)


# A principal outcome without a decision day, in the array that picks it (days since 2000-01-01 otherwise).
_NO_DAY = -(2**31)


def _facts_sql(scope: str) -> str:
    """The facts relation of the cases not in draft (``scope``: a further condition on the case row). The related
    rows are aggregated whole and joined by hash: a scan in SQL covers most cases (a full or a first scan), and a
    lookup per case, or a semi-join on the scope, costs several times more."""
    on, off, inter = "'on_duty'", "'off_duty'", "'off_duty_intervening'"
    reg, aux = "'regular'", "'auxiliary'"
    injury = _rank("o.injury", INJURY_RANK)
    ranked = _in("e.data->'changes'->'disposition'->>0", DISPOSITION_RANK)
    old_rank = _rank("e.data->'changes'->'disposition'->>0", DISPOSITION_RANK)
    counted = (
        f"CASE WHEN {_in('s.disposition', ADMIN_PUNISHMENTS)} AND coalesce(h.had_np, FALSE) AND tr.suspect_id IS NOT "
        f"NULL THEN {_lit(Disposition.CRIMINAL_NON_PROSECUTION)} ELSE s.disposition END"
    )
    non_prosecuted = (
        f"(disposition = {_lit(Disposition.CRIMINAL_NON_PROSECUTION)} OR ({_in('disposition', ADMIN_PUNISHMENTS)} "
        "AND had_np))"
    )
    # An administrative-track referral of the case on or after the decision (as recorded before transfers named a
    # suspect).
    transfer_after = "(admin_referred_on IS NOT NULL AND (decided_at IS NULL OR admin_referred_on >= decided_at))"
    return f"""
WITH scope AS (
    SELECT c.id, c.version, c.flags_checked_version, c.status, c.kind, c.track, c.no_suspect_reason, c.weapon,
           c.vehicle_used, c.endangered_safety, c.could_cause_serious_harm, c.officers_attacked,
           c.organised_or_incited, c.suspect_escaped, c.evidence_lost, c.others_hurt, c.major_property_loss,
           c.prior_attack_on_police, (c.occurred_at AT TIME ZONE %(tz)s)::date AS incident_date,
           c.is_stalled, c.is_idle, c.has_overdue_referral, c.is_downgraded, c.has_review_prompt,
           c.expected_min_rank, c.sla_warn_at
    FROM cases_case c
    WHERE c.status <> {_lit(CaseStatus.DRAFT)} {scope}
),
officers AS (
    SELECT o.case_id,
           count(*) FILTER (WHERE o.duty_status = {on}) AS n_on,
           count(*) FILTER (WHERE o.duty_status = {on} AND o.officer_type = {reg}) AS n_on_reg,
           count(*) FILTER (WHERE o.duty_status = {on} AND o.officer_type = {aux}) AS n_on_aux,
           count(*) FILTER (WHERE o.duty_status = {inter} AND o.officer_type = {reg}) AS n_int,
           count(*) FILTER (WHERE o.duty_status = {off}) AS n_off,
           coalesce(max({injury}) FILTER (WHERE o.duty_status = {on}), -1) AS w_on,
           coalesce(max({injury}) FILTER (WHERE o.duty_status = {on} AND o.officer_type = {reg}), -1) AS w_on_reg,
           coalesce(max({injury}) FILTER (WHERE o.duty_status = {on} AND o.officer_type = {aux}), -1) AS w_on_aux,
           coalesce(max({injury}) FILTER (WHERE o.duty_status = {inter} AND o.officer_type = {reg}), -1) AS w_int,
           coalesce(max({injury}) FILTER (WHERE o.duty_status = {off}), -1) AS w_off,
           coalesce(max({injury}), -1) AS w_all,
           count(*) AS n_all
    FROM cases_involvedofficer o
    GROUP BY o.case_id
),
history AS (
    SELECT (e.data->>'suspect')::bigint AS suspect_id,
           bool_or(e.data->'changes'->'disposition'->>0 = {_lit(Disposition.CRIMINAL_NON_PROSECUTION)}) AS had_np,
           max({old_rank}) AS peak
    FROM cases_caseevent e
    WHERE e.kind = {_lit(EventKind.DISPOSITION)}
      AND jsonb_typeof(e.data->'suspect') = 'number' AND (e.data->>'suspect') ~ '^[0-9]{{1,18}}$'
      AND jsonb_typeof(e.data->'changes'->'disposition'->0) = 'string' AND {ranked}
    GROUP BY 1
),
transfers AS (
    SELECT DISTINCT r.case_id, r.suspect_id FROM cases_referral r
    WHERE r.suspect_id IS NOT NULL AND r.track = {_lit(Track.ADMINISTRATIVE)}
),
case_referrals AS (
    SELECT r.case_id, max((r.referred_at AT TIME ZONE %(tz)s)::date) AS admin_referred_on
    FROM cases_referral r
    WHERE r.suspect_id IS NULL AND r.track = {_lit(Track.ADMINISTRATIVE)}
    GROUP BY r.case_id
),
suspects AS (
    SELECT s.case_id, s.id, s.status, s.disposition, s.probation, s.sentence_months, s.decided_at,
           s.lenient_reason, s.lowered_reason, tr.suspect_id IS NOT NULL AS transferred,
           coalesce(h.had_np, FALSE) AS had_np, h.peak, {counted} AS counted,
           {_rank(counted, DISPOSITION_RANK)} AS counted_rank, {_rank("s.disposition", DISPOSITION_RANK)} AS rank,
           {_in("s.disposition", FINAL_DISPOSITIONS)} AS final, {_in("s.disposition", LENIENT_DISPOSITIONS)} AS lenient,
           cr.admin_referred_on
    FROM cases_suspect s
    LEFT JOIN history h ON h.suspect_id = s.id
    LEFT JOIN transfers tr ON tr.case_id = s.case_id AND tr.suspect_id = s.id
    LEFT JOIN case_referrals cr ON cr.case_id = s.case_id
),
suspect_facts AS (
    -- Read in the order of the suspects' ids (the engine's order): each list below is aggregated in that order
    -- without a sort per case.
    SELECT case_id,
           bool_or(status <> 'unidentified' AND NOT final) AS pending,
           count(*) FILTER (WHERE status <> 'unidentified') AS n_identified,
           bool_or(final) AS any_final,
           bool_or(on_probation) AS any_probation,
           bool_or(cites_intoxication) AS cites_intoxication,
           bool_or(cites_fault) AS cites_fault,
           bool_or(mediated) AS any_mediation,
           bool_or(non_prosecuted) AS any_non_prosecuted,
           bool_or(untransferred) AS untransferred,
           bool_or(lowered) AS lowered,
           -- The principal outcome (``facts.principal_outcome``): the final suspect of the highest counted rank, the
           -- latest of equals; its rank, id, sentence and decision day as one array, compared as a whole.
           max(ARRAY[counted_rank, id, coalesce(sentence_months, -1),
                     coalesce(decided_at - DATE '2000-01-01', {_NO_DAY})]) FILTER (WHERE final) AS principal,
           -- What the flags' details list, suspect by suspect.
           jsonb_agg(id) FILTER (WHERE on_probation) AS probation_ids,
           jsonb_agg(id) FILTER (WHERE cites_intoxication) AS intox_ids,
           jsonb_agg(id) FILTER (WHERE cites_fault) AS fault_ids,
           jsonb_agg(id) FILTER (WHERE non_prosecuted) AS np_ids,
           jsonb_agg(jsonb_build_object('suspect', id, 'decided_on', to_char(decided_at, 'YYYY-MM-DD')))
               FILTER (WHERE untransferred) AS transfer_items,
           jsonb_agg(jsonb_build_object('suspect', id)) FILTER (WHERE mediated) AS mediation_items,
           jsonb_agg(jsonb_build_object('suspect', id, 'from', {_name("peak", DISPOSITION_RANK)}, 'to', disposition))
               FILTER (WHERE lowered) AS lowered_items
    FROM (
        SELECT s.*,
               final AND coalesce(rank, 0) >= {CONVICTED} AND probation IS TRUE AS on_probation,
               lenient AND lenient_reason = {_lit(LenientReason.INTOXICATION)} AS cites_intoxication,
               lenient AND lenient_reason = {_lit(LenientReason.POLICE_FAULT)} AS cites_fault,
               disposition = {_lit(Disposition.MEDIATION)} AS mediated,
               {non_prosecuted} AS non_prosecuted,
               {non_prosecuted} AND NOT transferred AND NOT {transfer_after} AS untransferred,
               coalesce(final AND counted_rank IS NOT NULL AND peak > counted_rank AND lowered_reason ~ %(blank)s,
                        FALSE) AS lowered
        FROM suspects s
        ORDER BY s.case_id, s.id
        OFFSET 0
    ) AS s
    GROUP BY case_id
),
support AS (
    SELECT m.case_id,
           bool_or(m.kind = {_lit(SupportKind.CLARIFICATION_NOTICE)} AND m.status = {_lit(SupportStatus.DELIVERED)})
               AS clarified,
           bool_or(m.kind = {_lit(SupportKind.FUGITIVE_PURSUIT)} AND {_in("m.status", _UNDER_WAY)}) AS pursued
    FROM cases_supportmeasure m
    WHERE {_in("m.kind", (SupportKind.CLARIFICATION_NOTICE, SupportKind.FUGITIVE_PURSUIT))}
    GROUP BY m.case_id
),
rectified AS (
    SELECT f.case_id,
           bool_or(f.problem = {_lit(FindingProblem.NO_TRANSFER_AFTER_NON_PROSECUTION)}) AS r_transfer,
           bool_or(f.problem = {_lit(FindingProblem.NO_CLARIFICATION)}) AS r_clarification,
           bool_or(f.problem = {_lit(FindingProblem.FUGITIVE_NOT_PURSUED)}) AS r_pursuit
    FROM cases_supervisionfinding f
    WHERE f.rectified_at IS NOT NULL
    GROUP BY f.case_id
),
fault AS (
    SELECT DISTINCT ON (f.case_id) f.case_id, f.finding AS fault, f.document_reference <> '' AS fault_documented,
           f.carried_over AS fault_carried_over
    FROM cases_faultfinding f
    ORDER BY f.case_id, f.found_on DESC NULLS LAST, f.id DESC
)
SELECT c.*,
       coalesce(o.n_on, 0) AS n_on, coalesce(o.n_on_reg, 0) AS n_on_reg, coalesce(o.n_on_aux, 0) AS n_on_aux,
       coalesce(o.n_int, 0) AS n_int, coalesce(o.n_off, 0) AS n_off,
       coalesce(o.w_on, -1) AS w_on, coalesce(o.w_on_reg, -1) AS w_on_reg, coalesce(o.w_on_aux, -1) AS w_on_aux,
       coalesce(o.w_int, -1) AS w_int, coalesce(o.w_off, -1) AS w_off, coalesce(o.w_all, -1) AS w_all,
       coalesce(s.pending, FALSE) AS pending, coalesce(s.n_identified, 0) AS n_identified,
       coalesce(s.any_final, FALSE) AS any_final, coalesce(s.any_probation, FALSE) AS any_probation,
       coalesce(s.cites_intoxication, FALSE) AS cites_intoxication, coalesce(s.cites_fault, FALSE) AS cites_fault,
       coalesce(s.any_mediation, FALSE) AS any_mediation,
       coalesce(s.any_non_prosecuted, FALSE) AS any_non_prosecuted,
       coalesce(s.untransferred, FALSE) AS untransferred, coalesce(s.lowered, FALSE) AS lowered,
       coalesce(o.n_all, 0) AS n_all,
       coalesce(s.probation_ids, '[]') AS probation_ids, coalesce(s.intox_ids, '[]') AS intox_ids,
       coalesce(s.fault_ids, '[]') AS fault_ids, coalesce(s.np_ids, '[]') AS np_ids,
       coalesce(s.transfer_items, '[]') AS transfer_items, coalesce(s.mediation_items, '[]') AS mediation_items,
       coalesce(s.lowered_items, '[]') AS lowered_items,
       (coalesce(s.any_final, FALSE) AND NOT coalesce(s.pending, FALSE)) AS has_outcome,
       {_name("s.principal[1]", DISPOSITION_RANK)} AS o_disposition, s.principal[1]::int AS o_rank,
       nullif(s.principal[3], -1)::int AS o_months,
       DATE '2000-01-01' + nullif(s.principal[4], {_NO_DAY})::int AS o_decided,
       coalesce(sp.clarified, FALSE) AS clarified, coalesce(sp.pursued, FALSE) AS pursued,
       coalesce(r.r_transfer, FALSE) AS r_transfer, coalesce(r.r_clarification, FALSE) AS r_clarification,
       coalesce(r.r_pursuit, FALSE) AS r_pursuit,
       ff.fault, coalesce(ff.fault_documented, FALSE) AS fault_documented,
       coalesce(ff.fault_carried_over, FALSE) AS fault_carried_over
FROM scope c
LEFT JOIN officers o ON o.case_id = c.id
LEFT JOIN suspect_facts s ON s.case_id = c.id
LEFT JOIN support sp ON sp.case_id = c.id
LEFT JOIN rectified r ON r.case_id = c.id
LEFT JOIN fault ff ON ff.case_id = c.id
"""


# --- 2. The predicates -----------------------------------------------------------------------------------------

# Groups of victims over the facts relation: duty victims are those on duty and regular officers intervening off
# duty (``downgrade._duty_victims``); assault victims are the regular officers among them, or all of them where
# none is regular (``facts.assault_victims``).
N_DV = "(n_on + n_int)"
W_DV = "greatest(w_on, w_int)"
N_DVR = "(n_on_reg + n_int)"
W_DVR = "greatest(w_on_reg, w_int)"
W_AV = f"(CASE WHEN {N_DVR} > 0 THEN {W_DVR} ELSE {W_DV} END)"
SLIGHT, MINOR_2, SERIOUS_2 = (INJURY_RANK[g] for g in (InjuryGrade.SLIGHT, InjuryGrade.MINOR_2, InjuryGrade.SERIOUS_2))
ATTACK = _in("kind", ATTACK_KINDS)
EQUIPMENT = _in("kind", EQUIPMENT_KINDS)
A_E = _in("kind", _A_E)
RAMMED = f"(vehicle_used IS TRUE OR (kind = {_lit('vehicle_ramming')} AND vehicle_used IS DISTINCT FROM FALSE))"
LETHAL = _in("weapon", dg.LETHAL_WEAPONS)
SERIOUS_FAULT = f"(fault = {_lit(PoliceFault.SERIOUS)} AND fault_documented)"
ONLY_AUXILIARIES = f"({N_DV} > 0 AND {N_DVR} = 0)"
CONCLUDED = _in("status", pr.CONCLUDED)


@dataclass(frozen=True)
class Pred:
    """A rule predicate in SQL: it ``applies`` (a trigger), is ``made`` out (no fact unknown), leaves the rule
    ``open`` (a fact unknown or an appraisal pending), and the minimum rank its trigger sets (``Trigger.min_rank``).

    ``facts`` is the trigger's facts (``Trigger.facts``) as a jsonb expression, where the predicate applies, and
    ``unknown`` the name of the fact left unknown (``Trigger.unknown``, one at most here) where it is not made out:
    with them the flag's detail is written in SQL as the engine writes it."""

    applies: str
    made: str | None = None  # None: whenever it applies
    open: str = "FALSE"
    min_rank: str | None = None
    facts: str = "'{}'::jsonb"
    unknown: str = "NULL::text"

    @property
    def made_out(self) -> str:
        return self.applies if self.made is None else self.made


def _made(*preds: Pred) -> str:
    return "(" + " OR ".join(f"({p.made_out})" for p in preds) + ")"


# The worst appraised injury's name (``facts.injury_name``): -1 stands for nobody appraised.
_INJURY_NAME = "(CASE {w} " + " ".join(f"WHEN {r} THEN {_lit(g)}" for g, r in sorted(INJURY_RANK.items())) + " END)"


def _victims(n: str, w: str) -> str:
    """``downgrade._victim_facts`` of a group of victims counted ``n`` whose worst injury rank is ``w``."""
    return f"jsonb_build_object('kind', kind, 'victims', {n}, 'worst_injury', {_INJURY_NAME.format(w=w)})"


def _also(condition: str, key: str, value: str = "TRUE") -> str:
    """A key added to the facts where ``condition`` holds."""
    return f"(CASE WHEN {condition} THEN jsonb_build_object({_lit(key)}, {value}) ELSE '{{}}'::jsonb END)"


def _names(*pairs: tuple[str, str]) -> str:
    """A JSON list of the names whose condition holds, in order."""
    items = ", ".join(f"CASE WHEN {cond} THEN {_lit(name)} END" for cond, name in pairs)
    return f"to_jsonb(array_remove(ARRAY[{items}]::text[], NULL))"


N_AV = f"(CASE WHEN {N_DVR} > 0 THEN {N_DVR} ELSE {N_DV} END)"
DUTY_VICTIMS = _victims(N_DV, W_DV)
ASSAULT_VICTIMS = _victims(N_AV, W_AV)
ON_DUTY_VICTIMS = _victims("n_on", "w_on")
INTERVENING_VICTIMS = f"({_victims('n_int', 'w_int')} || jsonb_build_object('off_duty_intervening', TRUE))"

VA_2025 = Pred(f"(n_on > 0 AND {ATTACK} AND {W_AV} >= {SLIGHT})", facts=ASSAULT_VICTIMS)
VA_BEFORE = Pred(f"({ATTACK} AND n_on > 0)", facts=ON_DUTY_VICTIMS)
_EA = f"({N_DV} > 0 AND {A_E} AND ({EQUIPMENT} OR {RAMMED}))"
EA_2025 = Pred(
    f"({_EA} AND endangered_safety IS NOT FALSE)",
    made=f"({_EA} AND endangered_safety IS TRUE)",
    open=f"({_EA} AND endangered_safety IS NULL)",
    facts=f"({DUTY_VICTIMS} || {_also('endangered_safety IS TRUE', 'endangered_safety')})",
    unknown="'endangered_safety'",
)
EA_BEFORE = Pred(f"({EQUIPMENT} AND n_on > 0)", facts=ON_DUTY_VICTIMS)
_LA = f"({A_E} AND {N_DV} > 0 AND ({LETHAL} OR {RAMMED}))"
LA = Pred(
    f"({_LA} AND (could_cause_serious_harm IS TRUE OR (could_cause_serious_harm IS NULL "
    "AND endangered_safety IS DISTINCT FROM FALSE)))",
    made=f"({_LA} AND could_cause_serious_harm IS TRUE)",
    open=f"({_LA} AND could_cause_serious_harm IS NULL AND endangered_safety IS DISTINCT FROM FALSE)",
    facts=f"({DUTY_VICTIMS} || jsonb_build_object('weapon', weapon, 'vehicle_used', {RAMMED}) "
    f"|| {_also('could_cause_serious_harm IS TRUE', 'could_cause_serious_harm')})",
    unknown="'could_cause_serious_harm'",
)
MINOR_INJURY = Pred(f"({ATTACK} AND {N_DV} > 0 AND {W_AV} >= {MINOR_2})", facts=ASSAULT_VICTIMS)
GRAVE = Pred(
    f"({_in('kind', ATTACK_KINDS | {'retaliation_off_duty'})} AND w_all >= {SERIOUS_2})",
    facts=_victims("n_all", "w_all"),
)
INT_2025 = Pred(f"({ATTACK} AND n_int > 0 AND n_on = 0 AND w_int >= {SLIGHT})", facts=INTERVENING_VICTIMS)
INT_BEFORE = Pred(f"({ATTACK} AND n_int > 0 AND n_on = 0)", facts=INTERVENING_VICTIMS)
_AGGRAVATING_FACTS = ("suspect_escaped", "evidence_lost", "others_hurt", "major_property_loss", "organised_or_incited")
_BOOLS = " OR ".join(f"{n} IS TRUE" for n in _AGGRAVATING_FACTS)
_TWO_2025 = f"({N_DVR} >= 2 OR ({N_DV} = {N_DVR} AND coalesce(officers_attacked, 0) >= 2))"
_BESIDE_AUX = f"({N_DVR} > 0 AND n_on_aux > 0)"
_TWO_GUIDANCE = f"({N_DV} >= 2 OR coalesce(officers_attacked, 0) >= 2)"
_WEAPON_OR_VEHICLE = f"({_in('weapon', dg.LETHAL_WEAPONS | {Weapon.BLUNT})} OR vehicle_used IS TRUE)"
AGGRAVATORS_2025 = f"({W_AV} >= {MINOR_2} OR {_BOOLS} OR {_TWO_2025} OR {_BESIDE_AUX})"
AGGRAVATORS_GUIDANCE = (
    f"({W_AV} >= {MINOR_2} OR {_BOOLS} OR {_TWO_GUIDANCE} OR {_WEAPON_OR_VEHICLE} OR prior_attack_on_police IS TRUE)"
)
# ``downgrade._aggravators``, in its order.
_FOUND_BOOLS = tuple((f"{n} IS TRUE", n) for n in _AGGRAVATING_FACTS)
_FOUND_2025 = _names(
    (f"{W_AV} >= {MINOR_2}", "minor_injury"),
    *_FOUND_BOOLS,
    (_TWO_2025, "two_or_more_officers"),
    (_BESIDE_AUX, "auxiliaries_also_attacked"),
)
_FOUND_GUIDANCE = _names(
    (f"{W_AV} >= {MINOR_2}", "minor_injury"),
    *_FOUND_BOOLS,
    (_TWO_GUIDANCE, "two_or_more_officers"),
    (_WEAPON_OR_VEHICLE, "weapon_or_vehicle"),
    ("prior_attack_on_police IS TRUE", "prior_attack_on_police"),
)


def _first_facts(*preds: Pred, then_applying: bool = False) -> str:
    """The facts of the first predicate made out (``downgrade._first_made_out``); with ``then_applying``, failing
    that, of the first that applies."""
    whens = [f"WHEN {p.made_out} THEN {p.facts}" for p in preds]
    if then_applying:
        whens += [f"WHEN {p.applies} THEN {p.facts}" for p in preds]
    return f"(CASE {' '.join(whens)} END)"


AGGRAVATED_2025 = Pred(
    f"({_made(VA_2025, EA_2025, INT_2025)} AND {AGGRAVATORS_2025})",
    facts=f"({_first_facts(VA_2025, EA_2025, INT_2025)} || jsonb_build_object('aggravating', {_FOUND_2025}))",
)
AGGRAVATED_BEFORE = Pred(
    f"({_made(VA_BEFORE, EA_BEFORE)} AND {AGGRAVATORS_GUIDANCE})",
    facts=f"({_first_facts(VA_BEFORE, EA_BEFORE)} || jsonb_build_object('aggravating', {_FOUND_GUIDANCE}))",
)


def _obstruction(met: str) -> str:
    return (
        f"({N_DV} > 0 AND ({_in('kind', dg.OBSTRUCTION_KINDS)} OR ({A_E} AND NOT {met}) "
        f"OR ({A_E} AND NOT w_all >= {SERIOUS_2} AND {SERIOUS_FAULT})))"
    )


def _obstruction_facts(met: str) -> str:
    return (
        f"(CASE WHEN {_in('kind', dg.OBSTRUCTION_KINDS)} THEN {DUTY_VICTIMS} "
        f"WHEN {A_E} AND NOT {met} THEN {DUTY_VICTIMS} || jsonb_build_object('below_violent_attack_threshold', TRUE) "
        f"ELSE {DUTY_VICTIMS} || jsonb_build_object('serious_police_fault', TRUE) END)"
    )


_MET_2025 = _made(VA_2025, EA_2025, INT_2025, LA)
_MET_BEFORE = _made(VA_BEFORE, EA_BEFORE, INT_BEFORE, LA)
_AWAITING = f"(NOT {_MET_2025} AND {ATTACK} AND {W_DV} = -1)"
OBSTRUCTION_2025 = Pred(
    f"(CASE WHEN {_AWAITING} THEN {N_DV} > 0 ELSE {_obstruction(_MET_2025)} END)",
    open=f"({_AWAITING} AND {N_DV} > 0)",
    facts=f"(CASE WHEN {_AWAITING} THEN {DUTY_VICTIMS} || jsonb_build_object('injury_appraised', FALSE) "
    f"ELSE {_obstruction_facts(_MET_2025)} END)",
)
OBSTRUCTION_BEFORE = Pred(_obstruction(_MET_BEFORE), facts=_obstruction_facts(_MET_BEFORE))
MINOR_RESISTANCE = Pred(f"({_in('kind', dg.MINOR_KINDS)} AND {N_DV} > 0)", facts=DUTY_VICTIMS)
RETALIATION = Pred(
    f"(({ATTACK} OR kind = 'retaliation_off_duty') AND n_off > 0 AND w_off >= {SLIGHT})",
    min_rank=f"(CASE WHEN w_off >= {MINOR_2} THEN {dg.CRIMINAL} ELSE {dg.ADMIN_DETENTION} END)",
    facts=_victims("n_off", "w_off"),
)
_AUX_HARM = f"({W_DV} >= {SLIGHT} OR endangered_safety IS TRUE)"
_AUX_ALONE = f"({A_E} AND {ONLY_AUXILIARIES} AND {_AUX_HARM})"
_AUX_BESIDE = f"({A_E} AND {N_DVR} > 0 AND n_on_aux > 0 AND w_on_aux >= {SLIGHT} AND NOT {_made(VA_2025, EA_2025, LA)})"
_AUX_ONLY_FACTS = f"({DUTY_VICTIMS} || jsonb_build_object('auxiliary_only', TRUE))"
AUXILIARY_2025 = Pred(
    f"({_AUX_ALONE} OR {_AUX_BESIDE})",
    facts=f"(CASE WHEN {_AUX_ALONE} THEN {_AUX_ONLY_FACTS} "
    f"ELSE {_victims('n_on_aux', 'w_on_aux')} || jsonb_build_object('auxiliaries_hurt', n_on_aux) END)",
)
AUXILIARY_BEFORE = Pred(f"({A_E} AND {ONLY_AUXILIARIES})", facts=_AUX_ONLY_FACTS)
INTOXICATION = Pred(
    f"(cites_intoxication AND {_made(VA_2025, EA_2025)})",
    facts=f"({_first_facts(VA_2025, EA_2025)} || jsonb_build_object('intoxication_cited', intox_ids))",
)
FALSE_ACCUSATION_CRIMINAL = Pred(
    f"(kind = 'false_accusation' AND track = {_lit(Track.CRIMINAL)})",
    facts="jsonb_build_object('kind', kind, 'track', track)",
)
FALSE_ACCUSATION = Pred("(kind = 'false_accusation')", facts="jsonb_build_object('kind', kind)")


def _concluded_without_suspect(reason: str) -> str:
    return f"({CONCLUDED} AND no_suspect_reason = {_lit(reason)} AND n_identified = 0)"


_NO_SUSPECT_REASON = "jsonb_build_object('no_suspect_reason', no_suspect_reason)"


def _declared_no_offence(*assault: Pred) -> Pred:
    without = _concluded_without_suspect(NoSuspectReason.NOT_AN_OFFENCE)
    applies = "(" + " OR ".join(f"({p.applies})" for p in assault) + ")"
    # Not made out: the first that applies is the one waiting for a fact.
    unknown = "(CASE " + " ".join(f"WHEN {p.applies} THEN {p.unknown}" for p in assault) + " END)"
    return Pred(
        f"({without} AND {applies})",
        made=f"({without} AND {_made(*assault)})",
        open=f"({without} AND {applies} AND NOT {_made(*assault)})",
        facts=f"({_first_facts(*assault, then_applying=True)} || {_NO_SUSPECT_REASON})",
        unknown=unknown,
    )


# Keyed by the Python predicate each mirrors; the R27 versions' predicates are closures, looked up by rule.
PREDICATES: dict[Callable, Pred] = {
    dg.violent_attack_2025: VA_2025,
    dg.violent_attack_before_2025: VA_BEFORE,
    dg.equipment_attack_2025: EA_2025,
    dg.equipment_attack_before_2025: EA_BEFORE,
    dg.lethal_attack: LA,
    dg.minor_injury_attack: MINOR_INJURY,
    dg.grave_injury: GRAVE,
    dg.aggravated_attack_2025: AGGRAVATED_2025,
    dg.aggravated_attack_before_2025: AGGRAVATED_BEFORE,
    dg.obstruction_2025: OBSTRUCTION_2025,
    dg.obstruction_before_2025: OBSTRUCTION_BEFORE,
    dg.minor_resistance: MINOR_RESISTANCE,
    dg.off_duty_retaliation: RETALIATION,
    dg.intervening_attack: INT_2025,
    dg.intervening_attack_before_2025: INT_BEFORE,
    dg.auxiliary_attack_2025: AUXILIARY_2025,
    dg.auxiliary_attack_before_2025: AUXILIARY_BEFORE,
    dg.intoxication_cited: INTOXICATION,
    dg.false_accusation_criminal: FALSE_ACCUSATION_CRIMINAL,
    dg.false_accusation: FALSE_ACCUSATION,
    pr.non_prosecuted: Pred("any_non_prosecuted", facts="jsonb_build_object('non_prosecuted_suspects', np_ids)"),
    pr.concluded_untrue_complaint: Pred(
        f"(kind = 'untrue_complaint' AND {CONCLUDED})", facts="jsonb_build_object('kind', kind, 'status', status)"
    ),
    pr.attack_on_duty: Pred(
        f"({_in('kind', pr.ON_SCENE_KINDS)} AND {N_DV} > 0)",
        facts=f"jsonb_build_object('kind', kind, 'victims', {N_DV})",
    ),
    pr.has_final_disposition: Pred("any_final"),
    pr.concluded_suspect_unknown: Pred(
        _concluded_without_suspect(NoSuspectReason.UNKNOWN_PURSUING), facts=_NO_SUSPECT_REASON
    ),
    pr.concluded_suspect_fled: Pred(_concluded_without_suspect(NoSuspectReason.FLED), facts=_NO_SUSPECT_REASON),
    pr.police_fault_cited: Pred("cites_fault", facts="jsonb_build_object('police_fault_cited', fault_ids)"),
    pr.CONCLUSION_RULES[0].applies: _declared_no_offence(VA_BEFORE, EA_BEFORE, INT_BEFORE),
    pr.CONCLUSION_RULES[1].applies: _declared_no_offence(VA_2025, EA_2025, INT_2025),
}
SUPPRESSION_PREDICATES: dict[Callable, str] = {
    dg.auxiliary_only: ONLY_AUXILIARIES,
    dg.serious_police_fault: SERIOUS_FAULT,
}
# A rule's own check, where it has one: the problems it finds beyond the level of the outcome.
_FAULT_RECORDED = f"(fault IS NOT NULL AND NOT fault_carried_over AND fault <> {_lit(PoliceFault.NONE)})"
CHECKS: dict[Callable, str] = {
    dg.intoxication_as_reason: "cites_intoxication",
    pr.missing_transfer: "(NOT r_transfer AND untransferred)",
    pr.missing_clarification: "(NOT clarified AND NOT r_clarification)",
    pr.mediated: "any_mediation",
    pr.lowered_without_reason: "lowered",
    pr.fault_not_found: f"(NOT {_FAULT_RECORDED} AND cites_fault)",
    pr.no_case_to_answer: "TRUE",
    pr.pursuit_open: "TRUE",
    pr.missing_pursuit: "(NOT pursued AND NOT r_pursuit)",
}


def _suspect_items(ids: str) -> str:
    """``[{"suspect": id}, …]`` for a JSON list of suspect ids."""
    return (
        f"coalesce((SELECT jsonb_agg(jsonb_build_object('suspect', x) ORDER BY n) "
        f"FROM jsonb_array_elements({ids}) WITH ORDINALITY AS t(x, n)), '[]'::jsonb)"
    )


# What each check adds to a finding's detail: its problem (one kind per check) and its items (``details``), a JSON
# list over the facts relation; an empty item ({}) is not listed, as the engine leaves it out.
CHECK_DETAILS: dict[Callable, tuple[str, str]] = {
    dg.intoxication_as_reason: (Problem.INTOXICATION_AS_REASON, _suspect_items("intox_ids")),
    pr.missing_transfer: (Problem.NO_ADMINISTRATIVE_TRANSFER, "transfer_items"),
    pr.missing_clarification: (Problem.NO_CLARIFICATION, "'[]'::jsonb"),
    pr.mediated: (Problem.MEDIATION_OF_ATTACK, "mediation_items"),
    pr.lowered_without_reason: (Problem.LOWERED_WITHOUT_REASON, "lowered_items"),
    pr.fault_not_found: (Problem.FAULT_NOT_FOUND, _suspect_items("fault_ids")),
    pr.no_case_to_answer: (Problem.BELOW_MINIMUM, "'[]'::jsonb"),
    pr.pursuit_open: (Problem.PURSUIT_OPEN, "'[]'::jsonb"),
    pr.missing_pursuit: (Problem.FUGITIVE_NOT_PURSUED, "'[]'::jsonb"),
}


def missing_sql() -> list[str]:
    """Rules, suppressions and checks of the catalogue with no SQL twin (a test keeps this empty)."""
    from cases.rules.downgrade import SUPPRESSIONS

    missing = [f"{r.code} {r.version}: applies" for r in RULES if r.applies not in PREDICATES]
    missing += [
        f"{r.code} {r.version}: check"
        for r in RULES
        if r.check is not None and (r.check not in CHECKS or r.check not in CHECK_DETAILS)
    ]
    missing += [f"{s.code} {s.version}" for s in SUPPRESSIONS if s.applies not in SUPPRESSION_PREDICATES]
    return missing


# --- 3. Which law, and the findings --------------------------------------------------------------------------

# Each distinct predicate is worked out once per case, as columns of the evaluation relation; the rule versions
# read the columns.
_UNIQUE: list[Pred] = list(dict.fromkeys(PREDICATES.values()))
_COLUMN = {id(p): f"p{i}" for i, p in enumerate(_UNIQUE)}


def _a(pred: Pred) -> str:
    return f"{_COLUMN[id(pred)]}_a"


def _m(pred: Pred) -> str:
    return f"{_COLUMN[id(pred)]}_m"


def _o(pred: Pred) -> str:
    return f"{_COLUMN[id(pred)]}_o"


def _predicate_columns() -> str:
    columns = []
    for pred in _UNIQUE:
        columns += [
            f"coalesce({pred.applies}, FALSE) AS {_a(pred)}",
            f"coalesce({pred.made_out}, FALSE) AS {_m(pred)}",
            f"coalesce({pred.open}, FALSE) AS {_o(pred)}",
        ]
    columns += [f"coalesce({sql}, FALSE) AS s_{i}" for i, sql in enumerate(SUPPRESSION_PREDICATES.values())]
    columns += [f"coalesce({sql}, FALSE) AS c_{i}" for i, sql in enumerate(CHECKS.values())]
    return ",\n       ".join(columns)


def _suppression_column(applies: Callable) -> str:
    return f"s_{list(SUPPRESSION_PREDICATES).index(applies)}"


def _check_column(check: Callable) -> str:
    return f"c_{list(CHECKS).index(check)}"


# Checks that find a problem about the level of the outcome (``LEVEL_PROBLEMS``): R27's "no case to answer".
LEVEL_CHECKS = frozenset({pr.no_case_to_answer})


def _periods(version: Rule | Suppression) -> list[int]:
    """The legal periods (``engine._period``) in which the version is in force: the same all through each."""
    from cases.rules.engine import _BOUNDARIES

    starts = [date.min, *_BOUNDARIES]
    return [i for i, start in enumerate(starts) if version.in_force(start)]


def _in_force(version: Rule | Suppression, period: str) -> str:
    periods = _periods(version)
    if period.isdigit():
        return "TRUE" if int(period) in periods else "FALSE"
    return f"{period} IN ({', '.join(map(str, periods))})" if periods else "FALSE"


def _kind_ok(rule: Rule) -> str:
    return "TRUE" if rule.kinds is None else _in("kind", rule.kinds)


def _silenced(rule: Rule, day: str) -> str:
    from cases.rules.downgrade import SUPPRESSIONS

    parts = [
        f"({_in_force(s, day)} AND {_suppression_column(s.applies)})"
        for s in SUPPRESSIONS
        if s.code in rule.suppressed_by
    ]
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _applied(rule: Rule, day: str) -> str:
    """In force on ``day`` for the case's kind, its predicate holds, and no suppression in force silences it."""
    pred = PREDICATES[rule.applies]
    return f"({_in_force(rule, day)} AND {_kind_ok(rule)} AND {_a(pred)} AND NOT {_silenced(rule, day)})"


def _min_rank(rule: Rule) -> str | None:
    pred = PREDICATES[rule.applies]
    if pred.min_rank is not None:
        return pred.min_rank
    return None if rule.min_rank is None else str(rule.min_rank)


def _period_count() -> int:
    from cases.rules.engine import _BOUNDARIES

    return len(_BOUNDARIES) + 1


def _expected(period: str) -> str:
    """The highest minimum among the rules applied in the legal period whose preconditions are made out; only the
    versions in force in each period are tested."""
    whens = []
    for p in range(_period_count()):
        terms = []
        for rule in RULES:
            rank = _min_rank(rule)
            if p in _periods(rule) and rule.sets_expected_rank and rank is not None:
                terms.append(f"CASE WHEN {_applied(rule, str(p))} AND {_m(PREDICATES[rule.applies])} THEN {rank} END")
        if terms:
            whens.append(f"WHEN {p} THEN greatest({', '.join(terms)})")
    return f"(CASE {period} {' '.join(whens)} END)"


def _undetermined(period: str) -> str:
    whens = []
    for p in range(_period_count()):
        terms = [
            f"({_applied(rule, str(p))} AND {_o(PREDICATES[rule.applies])})"
            for rule in RULES
            if p in _periods(rule) and PREDICATES[rule.applies].open != "FALSE"
        ]
        whens.append(f"WHEN {p} THEN {' OR '.join(terms) if terms else 'FALSE'}")
    return f"(CASE {period} {' '.join(whens)} END)"


def _period(day: str) -> str:
    """``engine._period``: how many boundaries fall on or before the day (NULL without a day)."""
    from cases.rules.engine import _BOUNDARIES

    counted = " + ".join(f"({day} >= {_date(b)})::int" for b in _BOUNDARIES)
    return f"(CASE WHEN {day} IS NOT NULL THEN {counted} END)"


def _eval_sql(facts: str, hits: str, found: str) -> str:
    """One pass over the cases, each layer a subquery fenced with ``OFFSET 0`` (never flattened into the next, so
    every expression is worked out once per case, and nothing is stored between them):

    1. the facts relation (``facts``: ``_facts_sql``) and the judging date;
    2. the predicates as columns and the legal periods of the incident and the judging dates;
    3. the expected minimum rank under the incident date's law and the judging date's, and the law that applies
       (``engine.evaluate``): the later one only where it falls in a later period, is determined and is lighter;
    4. which rule versions find something (``hits``: their indexes in ``RULES``), and for those only, each finding
       (``found``: severity, minimum, what the filter of repeated wrong charges needs, and the flag's detail).

    Stored: one narrow row per case (its id, version, status, expected minimum rank and findings as JSON)."""
    judging = "(CASE WHEN has_outcome THEN o_decided ELSE %(as_of)s::date END)"
    return f"""
CREATE TEMP TABLE {FACTS}_eval AS
SELECT h.id, h.version, h.status, h.expected,
       CASE WHEN h.hits <> '{{}}' THEN (SELECT jsonb_agg({found} ORDER BY idx) FROM unnest(h.hits) AS idx) END AS found
FROM (
    SELECT e.*, array_remove(ARRAY[{hits}], NULL) AS hits
    FROM (
        SELECT e.*,
               CASE WHEN later_law THEN judging_period ELSE incident_period END AS law_period,
               CASE WHEN incident_date IS NULL THEN NULL WHEN later_law THEN later_expected ELSE base_expected END
                   AS expected
        FROM (
            SELECT l.*,
                   (judging_on IS NOT NULL AND incident_date IS NOT NULL AND judging_on > incident_date
                    AND judging_period <> incident_period AND NOT later_undetermined
                    AND coalesce(later_expected, -1) < coalesce(base_expected, -1)) AS later_law
            FROM (
                SELECT p.*, {_expected("incident_period")} AS base_expected,
                       {_expected("judging_period")} AS later_expected,
                       coalesce({_undetermined("judging_period")}, FALSE) AS later_undetermined
                FROM (
                    SELECT j.*, {_period("incident_date")} AS incident_period,
                           {_period("judging_on")} AS judging_period,
                           {_predicate_columns()}
                    FROM (SELECT f.*, {judging} AS judging_on FROM ({facts}) AS f OFFSET 0) AS j
                    OFFSET 0
                ) AS p
                OFFSET 0
            ) AS l
            OFFSET 0
        ) AS e
        OFFSET 0
    ) AS e
    OFFSET 0
) AS h
"""


def _finding_parts(rule: Rule) -> dict[str, str]:
    """How this rule version judges a case on the law date (``engine._evaluate_on``): whether it finds something
    (``hit``), the finding's severity, and what the filter of repeated wrong charges needs."""
    pred = PREDICATES[rule.applies]
    made_out = _m(pred)
    rank = _min_rank(rule)
    below = f"(has_outcome AND o_rank < {rank})" if rank is not None else "FALSE"
    wrong = f"(has_outcome AND NOT {below} AND {_in('o_disposition', rule.wrong_charges)})"
    sentence = "FALSE"
    if rule.min_sentence_months is not None:
        sentence = (
            f"(has_outcome AND NOT {below} AND NOT {wrong} AND o_rank >= {CONVICTED} AND o_months IS NOT NULL "
            f"AND o_months < {rule.min_sentence_months})"
        )
    probation = "any_probation" if rule.discourage_probation else "FALSE"
    check = _check_column(rule.check) if rule.check is not None else "FALSE"
    level_check = check if rule.check in LEVEL_CHECKS else "FALSE"
    # Not made out: a prompt to establish the fact, once a final outcome falls short of what the rule would call
    # for (``engine._meets``), and only if the answer could raise what is expected already.
    meets = "FALSE"
    if rank is not None:
        meets = f"(o_rank >= {rank}"
        if rule.min_sentence_months is not None:
            meets += f" AND o_months IS NOT NULL AND o_months >= {rule.min_sentence_months}"
        meets += ")"
    worth = f"(expected IS NULL OR coalesce({rank or 'NULL'}, 0) > expected OR {rule.min_sentence_months is not None})"
    establish = f"(NOT {made_out} AND has_outcome AND NOT {meets} AND {worth})"
    made = f"({made_out} AND ({below} OR {wrong} OR {sentence} OR {probation} OR {check}))"
    severity = "'prompt'"
    if rule.severity == Severity.DOWNGRADE:
        downgrade = f"{made_out} AND ({below} OR {sentence} OR {level_check})"
        severity = f"CASE WHEN {downgrade} THEN 'downgrade' ELSE 'prompt' END"
    return {
        "hit": f"({_applied(rule, 'law_period')} AND ({made} OR {establish}))",
        "severity": severity,
        "detail": _detail(rule, made_out=made_out, below=below, wrong=wrong, sentence=sentence, severity=severity),
        "min_rank": f"coalesce({rank or 'NULL'}, 0)",
        "wrong_only": f"({made_out} AND {wrong} AND NOT {probation} AND NOT {check})",
        "wrong_or_below": f"({made_out} AND ({below} OR {wrong} OR {level_check}))",
    }


def _detail(rule: Rule, *, made_out: str, below: str, wrong: str, sentence: str, severity: str) -> str:
    """The finding's ``Flag.detail`` (``Finding.as_detail``) as jsonb, for a case the rule version finds something
    about: what ``engine._evaluate_on`` and ``engine._judge`` write, key for key and item for item."""
    pred = PREDICATES[rule.applies]
    rank = _min_rank(rule)
    level = (
        f"CASE WHEN {below} THEN {_lit(Problem.BELOW_MINIMUM)} WHEN {wrong} THEN {_lit(Problem.WRONG_CHARGE)} "
        f"WHEN {sentence} THEN {_lit(Problem.SENTENCE_BELOW_BRACKET)} END"
    )
    problems = [level]
    details = []
    if rule.discourage_probation:
        problems.append(f"CASE WHEN any_probation THEN {_lit(Problem.PROBATION_DESPITE_AGGRAVATION)} END")
        details.append(
            "(CASE WHEN any_probation THEN jsonb_build_array(jsonb_build_object('probation_suspects', probation_ids)) "
            "ELSE '[]'::jsonb END)"
        )
    if rule.check is not None:
        check = _check_column(rule.check)
        problem, items = CHECK_DETAILS[rule.check]
        # Listed once: a check's problem already found by the comparison of ranks is not said twice.
        problems.append(f"CASE WHEN {check} AND ({level}) IS DISTINCT FROM {_lit(problem)} THEN {_lit(problem)} END")
        details.append(f"(CASE WHEN {check} THEN {items} ELSE '[]'::jsonb END)")
    judged = f"to_jsonb(array_remove(ARRAY[{', '.join(problems)}]::text[], NULL))"
    listed = " || ".join(details) if details else "'[]'::jsonb"
    unknown = f"jsonb_build_array(jsonb_build_object('unknown', jsonb_build_array({pred.unknown})))"
    items = f"(CASE WHEN {made_out} THEN {listed} ELSE {unknown} END)"
    outcome = (
        "(CASE WHEN has_outcome THEN jsonb_build_object('outcome', o_disposition, 'outcome_rank', o_rank) "
        "|| (CASE WHEN o_months IS NOT NULL THEN jsonb_build_object('sentence_months', o_months) ELSE '{}' END) "
        "ELSE '{}'::jsonb END)"
    )
    facts = (
        f"jsonb_build_object('incident_date', to_char(incident_date, 'YYYY-MM-DD')) || {pred.facts} || {outcome} "
        f"|| (CASE WHEN later_law THEN jsonb_build_object('favourable_law_from', {_lit(rule.version)}) "
        "ELSE '{}'::jsonb END) "
        f"|| (SELECT CASE WHEN d <> '[]'::jsonb THEN jsonb_build_object('details', d) ELSE '{{}}'::jsonb END "
        f"FROM (SELECT {items} AS d) AS listed)"
    )
    return (
        f"jsonb_build_object('rule', {_lit(rule.code)}, 'version', {_lit(rule.version)}, 'severity', ({severity}), "
        f"'problems', CASE WHEN {made_out} THEN {judged} ELSE '[\"{Problem.FACT_UNKNOWN}\"]'::jsonb END, "
        f"'min_rank', {rank or 'NULL::int'}, 'facts', {facts})"
    )


def _findings_columns() -> tuple[str, str]:
    """For ``_eval_sql``: the hits (the indexes of the rule versions that find something about the case, each
    rule's test starting with the cheap ones: its legal period, the case's kind) and, for each hit, the finding as
    JSON."""
    parts = [_finding_parts(rule) for rule in RULES]
    hits = ", ".join(f"CASE WHEN {p['hit']} THEN {i} END" for i, p in enumerate(parts))

    def by_rule(name: str) -> str:
        return "CASE idx " + " ".join(f"WHEN {i} THEN {p[name]}" for i, p in enumerate(parts)) + " END"

    found = (
        f"jsonb_build_object('i', idx, 's', ({by_rule('severity')})::text, 'm', {by_rule('min_rank')}, "
        f"'wo', {by_rule('wrong_only')}, 'wb', {by_rule('wrong_or_below')}, 'd', {by_rule('detail')})"
    )
    return hits, found


def _findings_sql() -> list[str]:
    """The findings relation, from the findings stored per case, after "a wrong charge is said once": a finding
    that is only a wrong charge is dropped where another finding of the case says the outcome is too low or wrongly
    charged at a higher minimum, or at the same minimum from a later rule."""
    codes = "CASE a.idx " + " ".join(f"WHEN {i} THEN {_lit(r.code)}" for i, r in enumerate(RULES)) + " END"
    versions = "CASE a.idx " + " ".join(f"WHEN {i} THEN {_lit(r.version)}" for i, r in enumerate(RULES)) + " END"
    kinds = " ".join(f"WHEN {_lit(str(sev))} THEN {_lit(str(kind))}" for sev, kind in SEVERITY_KIND.items())
    return [
        f"""CREATE TEMP TABLE {FINDINGS} AS
SELECT a.id AS case_id, {codes}::text AS rule, {versions}::text AS version, a.severity,
       CASE a.severity {kinds} END AS kind, a.detail
FROM (
    SELECT a.*, max(ARRAY[a.min_rank, a.idx]) FILTER (WHERE a.wrong_or_below) OVER (PARTITION BY a.id) AS top
    FROM (
        SELECT e.id, (x->>'i')::int AS idx, x->>'s' AS severity, (x->>'m')::int AS min_rank,
               (x->>'wo')::boolean AS wrong_only, (x->>'wb')::boolean AS wrong_or_below, x->'d' AS detail
        FROM {FACTS}_eval e CROSS JOIN LATERAL jsonb_array_elements(e.found) AS x
        WHERE e.found IS NOT NULL
    ) AS a
) AS a
WHERE NOT (a.wrong_only AND a.top > ARRAY[a.min_rank, a.idx])""",
        f"CREATE INDEX ON {FINDINGS} (case_id)",
        f"ANALYZE {FINDINGS} (case_id)",
    ]


def drop(cursor: CursorWrapper) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {PLANNER}, {FINDINGS}, {FACTS}_settle, {FACTS}_eval, {SCOPE}")


def build(cursor: CursorWrapper, *, now: Any, only_unchecked: bool = False, case_ids: list[int] | None = None) -> None:
    """Build the evaluation relation (``FACTS``_eval: one row per case in scope, with its facts, the law date and
    its expected minimum rank) and the findings relation (``FINDINGS``) for the cases not in draft: every one, only
    those changed since they were last evaluated, or the given ones."""
    drop(cursor)
    params: dict[str, Any] = {
        "tz": timezone.get_current_timezone_name(),
        "as_of": timezone.localdate(now),
        "blank": _BLANK,
    }
    scope = ""
    if only_unchecked:
        scope = "AND c.flags_checked_version <> c.version"
    if case_ids is not None:
        scope += " AND c.id = ANY(%(ids)s)"
        params["ids"] = list(case_ids)
    if scope:
        cursor.execute(f"CREATE TEMP TABLE {SCOPE} AS SELECT c.id FROM cases_case c WHERE TRUE {scope}", params)
        cursor.execute(f"ANALYZE {SCOPE}")
    # Expressions this large cost more to compile (JIT) than to run.
    cursor.execute("SET jit = off")
    # The aggregates over officers, suspects and the timeline sort and hash in memory rather than on disk.
    cursor.execute("SET work_mem = '64MB'")
    # Every join here is of whole relations, by hash or merge; the estimate of a filtered aggregate (the timeline's
    # dispositions) can be off by four orders of magnitude, and a nested loop over it would read it once per suspect.
    cursor.execute("SET enable_nestloop = off")
    try:
        # The cases are those of the scope table, whose size the planner knows (ANALYZE): a condition repeated here
        # would be estimated at a fraction of its rows and joined case by case.
        limited = f"AND c.id IN (SELECT id FROM {SCOPE})" if scope else ""
        hits, found = _findings_columns()
        cursor.execute(_eval_sql(_facts_sql(limited), hits, found), params)
        cursor.execute(f"CREATE UNIQUE INDEX ON {FACTS}_eval (id)")
        # The row count and the ids' spread; the findings' JSON needs no statistics.
        cursor.execute(f"ANALYZE {FACTS}_eval (id, status)")
        for statement in _findings_sql():
            cursor.execute(statement)
    finally:
        cursor.execute("RESET jit")
        cursor.execute("RESET work_mem")
        cursor.execute("RESET enable_nestloop")


COUNT_SQL = f"SELECT count(*) FROM {FACTS}_eval"
PLANNER = "flag_scan_planner"
_DOWNGRADED, _PROMPT = (_lit(SEVERITY_KIND[s]) for s in (Severity.DOWNGRADE, Severity.PROMPT))

# What the Python planner must decide, diffed in SQL against the flags open now: a case whose clocks run (stalled,
# idle, overdue referrals, warnings: an open case), one with a finding a supervisor overrode (the planner compares
# the finding with the overridden one), and one whose open flags differ from its findings — a flag to raise, to
# resolve, or whose detail changed (compared as stored, jsonb). Every other case keeps the flags it has.
_PLANNER_SQL = f"""
CREATE TEMP TABLE {PLANNER} AS
SELECT e.id FROM {FACTS}_eval e WHERE {_in("e.status", OPEN_STATUSES)}
UNION
SELECT f.case_id FROM cases_flag f JOIN {FACTS}_eval e ON e.id = f.case_id
WHERE f.resolution = {_lit(FlagResolution.OVERRIDDEN)}
UNION
SELECT coalesce(x.case_id, o.case_id)
FROM {FINDINGS} x
FULL JOIN (
    SELECT f.case_id, f.kind, f.rule_code, f.detail
    FROM cases_flag f JOIN {FACTS}_eval e ON e.id = f.case_id
    WHERE f.resolved_at IS NULL
) AS o ON o.case_id = x.case_id AND o.kind = x.kind AND o.rule_code = x.rule AND o.detail = x.detail
WHERE x.case_id IS NULL OR o.case_id IS NULL
"""
PLANNER_IDS_SQL = f"SELECT id FROM {PLANNER} ORDER BY id"


def diff(cursor: CursorWrapper) -> list[int]:
    """The cases the planner must decide (``_PLANNER_SQL``), in id order; after ``build``."""
    cursor.execute(_PLANNER_SQL)
    cursor.execute(f"CREATE UNIQUE INDEX ON {PLANNER} (id)")
    cursor.execute(f"ANALYZE {PLANNER}")
    cursor.execute(PLANNER_IDS_SQL)
    return [row[0] for row in cursor.fetchall()]


# The cases whose open flags are already what their facts call for: evaluated, their read model that of their
# findings. Each row is guarded by the version it was read at (a change committed meanwhile is evaluated by the next
# run) and skipped if a user holds it locked; only rows whose stored state differs are written.
_SETTLE_SQL = f"""
WITH todo AS (
    SELECT e.id, e.version, e.expected, e.downgraded, e.prompted
    FROM {FACTS}_settle e WHERE e.n > %(low)s AND e.n <= %(high)s
), free AS (
    SELECT c.id FROM cases_case c JOIN todo t ON t.id = c.id
    WHERE c.version = t.version
      AND (c.flags_checked_version <> c.version OR c.is_stalled OR c.is_idle OR c.has_overdue_referral
           OR c.is_downgraded <> t.downgraded OR c.has_review_prompt <> t.prompted OR c.sla_warn_at IS NOT NULL
           OR c.expected_min_rank IS DISTINCT FROM t.expected)
    FOR NO KEY UPDATE OF c SKIP LOCKED
)
UPDATE cases_case c
SET flags_checked_version = t.version, is_stalled = FALSE, is_idle = FALSE, has_overdue_referral = FALSE,
    is_downgraded = t.downgraded, has_review_prompt = t.prompted, expected_min_rank = t.expected, sla_warn_at = NULL
FROM todo t
WHERE c.id = t.id AND c.id IN (SELECT id FROM free)
"""


def settle(cursor: CursorWrapper, *, batch_size: int) -> int:
    """Record every case the planner need not decide (after ``diff``) as evaluated, in batches of ``batch_size``
    (one short transaction each); returns how many cases that covers (written or already in step)."""
    cursor.execute(
        f"""CREATE TEMP TABLE {FACTS}_settle AS
        SELECT row_number() OVER (ORDER BY e.id) AS n, e.id, e.version, e.expected,
               coalesce(x.downgraded, FALSE) AS downgraded, coalesce(x.prompted, FALSE) AS prompted
        FROM {FACTS}_eval e
        LEFT JOIN (
            SELECT case_id, bool_or(kind = {_DOWNGRADED}) AS downgraded, bool_or(kind = {_PROMPT}) AS prompted
            FROM {FINDINGS} GROUP BY case_id
        ) AS x ON x.case_id = e.id
        WHERE NOT EXISTS (SELECT 1 FROM {PLANNER} p WHERE p.id = e.id)"""
    )
    cursor.execute(f"CREATE INDEX ON {FACTS}_settle (n)")
    cursor.execute(f"ANALYZE {FACTS}_settle")
    cursor.execute(f"SELECT count(*) FROM {FACTS}_settle")
    total = cursor.fetchone()[0]
    for low in range(0, total, batch_size):
        cursor.execute(_SETTLE_SQL, {"low": low, "high": low + batch_size})
    return total
