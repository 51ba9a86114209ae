"""Retention: when a closed case is sealed and when it is anonymised, and what the job will do in a given month.

A closed case is sealed ``seal_after_days`` after its closure and anonymised ``anonymise_after_days`` after it (the
incident type's ``RetentionPolicy``; the database holds anonymise ≥ seal). Sealing restricts it to the administrators
covering its unit (cases/policy.py ``sees_sealed``); anonymising removes what identifies the people in it and keeps
what the reports count (cases/services/retention.py says which fields). A case under a legal hold is neither sealed nor
anonymised, however late it is. An incident type without a period is never sealed.

The due dates are compared in SQL, one condition per incident type (there are eighteen), so the candidates and the
plan are one query each, served by the partial index ``case_retention_due``.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.selectors import path_prefix_q
from cases.choices import CaseStatus, IncidentKind
from cases.models import Case, RetentionPolicy

SEAL = "seal"
ANONYMISE = "anonymise"
STEP_LABELS = {SEAL: _("Seal"), ANONYMISE: _("Anonymise")}


def periods() -> dict[str, RetentionPolicy]:
    return {policy.kind: policy for policy in RetentionPolicy.objects.all()}


def _closed_between(days_of: dict[str, int], start: datetime | None, end: datetime) -> Q:
    """Cases whose closure plus their type's period falls in [start, end) (no start: any time before ``end``)."""
    q = Q(pk__in=[])
    for kind, days in days_of.items():
        window = Q(kind=kind, closed_at__lt=end - timedelta(days=days))
        if start is not None:
            window &= Q(closed_at__gte=start - timedelta(days=days))
        q |= window
    return q


def _kept() -> QuerySet[Case]:
    """Closed cases the job may still act on: not held, not anonymised yet."""
    return Case.objects.filter(
        status=CaseStatus.CLOSED, closed_at__isnull=False, anonymised_at__isnull=True, legal_hold=False
    )


def seal_candidates(now: datetime, policies: dict[str, RetentionPolicy] | None = None) -> QuerySet[Case]:
    """Closed cases past their seal date, not sealed and not held, oldest closure first."""
    policies = periods() if policies is None else policies
    due = _closed_between({k: p.seal_after_days for k, p in policies.items()}, None, now + timedelta(microseconds=1))
    return _kept().filter(due, sealed_at__isnull=True).order_by("closed_at", "pk")


def anonymise_candidates(now: datetime, policies: dict[str, RetentionPolicy] | None = None) -> QuerySet[Case]:
    """Sealed cases past their anonymise date, not anonymised and not held, oldest closure first."""
    policies = periods() if policies is None else policies
    days = {k: p.anonymise_after_days for k, p in policies.items()}
    due = _closed_between(days, None, now + timedelta(microseconds=1))
    return _kept().filter(due, sealed_at__isnull=False).order_by("closed_at", "pk")


# --- the plan: what the job will do in a month ---------------------------------------------------------------------


@dataclass(frozen=True)
class PlanRow:
    case_id: int
    reference: str
    unit: str
    kind: str
    closed_at: datetime
    step: str
    due_at: datetime

    @property
    def step_label(self) -> str:
        return str(STEP_LABELS[self.step])

    @property
    def kind_label(self) -> str:
        return str(dict(IncidentKind.choices).get(self.kind, self.kind))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in local time."""
    zone = timezone.get_current_timezone()
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return datetime(month.year, month.month, 1, tzinfo=zone), datetime(following.year, following.month, 1, tzinfo=zone)


def next_month(now: datetime | None = None) -> date:
    today = timezone.localdate(now or timezone.now())
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def parse_month(text: str) -> date:
    """``YYYY-MM`` as the month's first day; ValueError otherwise."""
    year, _sep, month = text.partition("-")
    if len(year) != 4 or len(month) != 2 or not year.isdigit() or not month.isdigit():
        raise ValueError(text)
    return date(int(year), int(month), 1)


def retention_plan(month: date, *, paths: tuple[str, ...] | None = None) -> list[PlanRow]:
    """The cases whose seal date or anonymise date falls in ``month`` and that the job would act on as things stand
    (closed, not held, the step not taken yet), in the subtrees at ``paths`` (None: everywhere), by due date. A case
    due for both steps in the month is listed twice, once per step."""
    start, end = month_bounds(month)
    policies = periods()
    kept = _kept().select_related("unit")
    if paths is not None:
        kept = kept.filter(path_prefix_q("unit_path", paths))
    seal_days = {k: p.seal_after_days for k, p in policies.items()}
    anonymise_days = {k: p.anonymise_after_days for k, p in policies.items()}
    rows = [
        _row(case, SEAL, seal_days[case.kind])
        for case in kept.filter(_closed_between(seal_days, start, end), sealed_at__isnull=True)
    ]
    rows += [
        _row(case, ANONYMISE, anonymise_days[case.kind])
        for case in kept.filter(_closed_between(anonymise_days, start, end))
    ]
    return sorted(rows, key=lambda r: (r.due_at, r.reference, r.step))


def _row(case: Case, step: str, days: int) -> PlanRow:
    if case.closed_at is None:  # never: _kept asks for it
        raise ValueError(case.reference)
    return PlanRow(
        case_id=case.pk,
        reference=case.reference,
        unit=case.unit.display_name,
        kind=case.kind,
        closed_at=case.closed_at,
        step=step,
        due_at=case.closed_at + timedelta(days=days),
    )


def plan_csv_rows(rows: list[PlanRow]) -> list[list[str]]:
    """The plan as CSV rows, header first (written through the CSV injection guard, cases/reports/cells.py)."""
    header = [_("Reference"), _("Handling unit"), _("Incident type"), _("Closed at"), _("Step"), _("Due on")]
    body = [
        [
            row.reference,
            row.unit,
            row.kind_label,
            timezone.localtime(row.closed_at).strftime("%Y-%m-%d"),
            row.step_label,
            timezone.localtime(row.due_at).strftime("%Y-%m-%d"),
        ]
        for row in rows
    ]
    return [[str(cell) for cell in header], *body]
