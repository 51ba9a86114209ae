"""The ledger check (cases/ledger.py, ``manage.py reconcile``) passes on every legal history, including the demo
data, and reports a history the workflow could not have produced."""

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from cases import services
from cases.choices import OPEN_STATUSES, CaseStatus, Disposition, EventKind, NoSuspectReason, SuspectStatus
from cases.exceptions import IllegalTransition, StaleVersion
from cases.ledger import reconcile
from cases.models import Case, CaseEvent, Suspect
from cases.workflow import TRANSITIONS, actions_from, reachable_statuses
from cases.workflow_actions import WORKFLOW_ACTIONS
from demo.seed import seed
from tests.factories import World, draft

pytestmark = pytest.mark.django_db

# Who takes each action when a path is played: the filer's own actions, the city's supervisor for the rest.
PERFORMER = {action: "officer" if action in ("submit", "withdraw") else "supervisor" for action in TRANSITIONS}


def payload(world: World, action: str, reason: bool = True) -> dict[str, Any]:
    return {
        "submit": {},
        "withdraw": {"reason": "no longer needed"},
        "reject": {"reason": "out of scope"},
        "refer": {"track": "criminal", "to_unit": world.county},
        "acknowledge": {"external_reference": "H-1"},
        "conclude": {"reason": "attacker unidentified" if reason else ""},
        "reopen": {"problem": "downgraded", "detail": "look-back found a lowered charge"},
        "close": {"officer_informed": True, "disposition_consistent": True},
        "recall": {"reason": "annual campaign"},
    }[action]


def workflow_paths(most_per_action: int = 2) -> list[list[str]]:
    """Every sequence of actions the table allows from a draft, each action taken at most ``most_per_action``
    times (so each loop, reopen and recall, is gone round twice), prefixes included."""
    paths: list[list[str]] = []

    def walk(status: str, path: list[str]) -> None:
        paths.append(path)
        for t in actions_from(status):
            if path.count(t.action) < most_per_action:
                walk(t.target, [*path, t.action])

    walk(CaseStatus.DRAFT, [])
    return paths


def explained(case: Case, action: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """A conclusion with a reason and no identified suspect says why none is identified."""
    identified = Suspect.objects.filter(case=case).exclude(status=SuspectStatus.UNIDENTIFIED).exists()
    if action == "conclude" and kwargs["reason"] and not identified:
        return {**kwargs, "no_suspect_reason": NoSuspectReason.OTHER}
    return kwargs


def act(world: World, case: Case, action: str, who: str | None = None) -> Case:
    """Take an action as a user would: the notification jobs run once its transaction commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return WORKFLOW_ACTIONS[action].service(
            case=case,
            by=getattr(world, who or PERFORMER[action]),
            expected_version=case.version,
            **explained(case, action, payload(world, action)),
        )


def reconcile_command(*args: str) -> dict[str, Any]:
    """``manage.py reconcile``: raises (exit status 1) on any problem."""
    out = StringIO()
    call_command("reconcile", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.fixture(autouse=True)
def _empty_evidence_dir(settings, tmp_path):
    # The full ledger scan compares the evidence directory with the attachment rows: start from an empty one.
    settings.MEDIA_ROOT = tmp_path


def test_a_draft_withdrawn_by_its_filer_reconciles(world):
    case = act(world, draft(world), "withdraw")
    assert case.status == CaseStatus.WITHDRAWN
    ledger = reconcile(email_after=timedelta(0))
    assert (ledger.problems, ledger.cases, ledger.submitted) == ([], 1, 0)
    assert reconcile_command("--email-after-minutes", "0")["ok"] is True


def test_every_workflow_path_reconciles(world):
    paths = workflow_paths()
    assert len(paths) == 30
    reached = set()
    for path in paths:
        case = draft(world)
        for action in path:
            case = act(world, case, action)
        assert case.status == (TRANSITIONS[path[-1]].target if path else CaseStatus.DRAFT)
        reached.add(case.status)
    assert reached == reachable_statuses()

    ledger = reconcile(email_after=timedelta(0))
    assert ledger.problems == []
    assert ledger.cases == 30
    assert ledger.submitted == 28  # all but the untouched draft and the withdrawn one
    transitions = CaseEvent.objects.filter(kind=EventKind.TRANSITION).count()
    assert transitions == sum(len(p) for p in paths) == 197
    assert ledger.notifications == ledger.notifications_expected > 0
    assert (ledger.emails_unsent, ledger.emails_failed, ledger.outbox_pending) == (0, 0, 0)
    assert reconcile_command("--email-after-minutes", "0")["problems"] == []


def test_assigning_a_case_or_adding_an_officer_after_its_events_keeps_the_ledger_clean(world):
    """Who an old event notified depends on the case at the time: a later assignee or a later officer did not
    miss anything."""
    case = act(world, draft(world), "submit")  # the county's office hears of it
    with TestCase.captureOnCommitCallbacks(execute=True):
        case = services.assign_case(
            case=case, by=world.county_supervisor, expected_version=case.version, assignee=world.supervisor
        )
    case = act(world, case, "refer")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.add_involved_officer(case=case, by=world.supervisor, user=world.other_officer)
    ledger = reconcile(email_after=timedelta(0))
    assert ledger.problems == []
    # The figure recomputes recipients as the case is now: the submission would now go to the assignee instead of
    # the county's supervisor, the referral to the new officer as well.
    assert (ledger.notifications, ledger.notifications_expected) == (3, 4)


def record(case: Case, action: str, from_status: str, to_status: str, by: Any) -> CaseEvent:
    """A transition event written behind the services' back (events are append-only, so only added)."""
    return CaseEvent.objects.create(
        case=case,
        kind=EventKind.TRANSITION,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=by,
        at=timezone.now() + timedelta(minutes=1),
    )


def test_histories_the_workflow_could_not_produce_are_reported(world):
    moved = draft(world)  # status changed with no transition recorded
    Case.objects.filter(pk=moved.pk).update(status=CaseStatus.INTAKE, stage_due_at=timezone.now())

    # Acknowledged without the referral it needs. (The filer as actor: an event that notifies nobody else.)
    skipped = act(world, draft(world), "submit")
    record(skipped, "acknowledge", CaseStatus.REFERRED, CaseStatus.SUPERVISION, world.officer)
    Case.objects.filter(pk=skipped.pk).update(status=CaseStatus.SUPERVISION)

    foreign = draft(world)  # a step the table does not have
    record(foreign, "refer", CaseStatus.DRAFT, CaseStatus.REFERRED, world.officer)
    Case.objects.filter(pk=foreign.pk).update(status=CaseStatus.REFERRED, stage_due_at=timezone.now())

    # A delivery that never ran: an event with recipients and no notifications.
    silent = act(world, draft(world), "submit")
    lost = record(silent, "reject", CaseStatus.INTAKE, CaseStatus.REJECTED, world.supervisor)
    Case.objects.filter(pk=silent.pk).update(status=CaseStatus.REJECTED)

    # The statuses written around the services leave the report summaries behind too (tests/cases/test_summaries.py
    # checks that reconcile says so); here only the histories are looked at.
    problems = reconcile(email_after=timedelta(0), summaries=False).problems
    assert problems == [
        f"case {skipped.pk}: 'acknowledge' from 'referred', but the case was 'intake'",
        f"case {foreign.pk}: transition 'refer' from 'draft' to 'referred'",
        f"case {moved.pk}: status 'intake', but its transitions end at 'draft'",
        f"event {lost.pk}: no notifications (1 expected)",
    ]
    with pytest.raises(CommandError, match="4 problem"):
        reconcile_command("--no-summaries")


# --- Random legal and refused steps by random people ------------------------------------------------------------

PEOPLE = ("officer", "other_officer", "supervisor", "county_supervisor", "admin")
REFUSED = (PermissionDenied, StaleVersion, IllegalTransition, ValidationError)


class LedgerMachine(RuleBasedStateMachine):
    """Plays a case through random steps, legal ones (the table's actions from its status, by their performer)
    and refused ones (anyone, any action, stale versions), with assignments, officers, suspects and
    dispositions in between; after each run the whole database must reconcile."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        self.case = draft(self.world)
        self.transitions = 0

    def fresh(self) -> Case:
        return Case.objects.get(pk=self.case.pk)

    @precondition(lambda self: bool(actions_from(self.fresh().status)))
    @rule(data=st.data(), reason=st.booleans())
    def legal_step(self, data: st.DataObject, reason: bool) -> None:
        case = self.fresh()
        action = data.draw(st.sampled_from(sorted(t.action for t in actions_from(case.status))))
        with TestCase.captureOnCommitCallbacks(execute=True):
            try:
                WORKFLOW_ACTIONS[action].service(
                    case=case,
                    by=getattr(self.world, PERFORMER[action]),
                    expected_version=case.version,
                    **explained(case, action, payload(self.world, action, reason)),
                )
            except ValidationError:
                # Concluding without a reason while a suspect's disposition is not final, or closing then.
                assert action in ("conclude", "close")
                return
        self.transitions += 1

    @rule(
        action=st.sampled_from(sorted(TRANSITIONS)),
        who=st.sampled_from(PEOPLE),
        stale=st.booleans(),
    )
    def any_step(self, action: str, who: str, stale: bool) -> None:
        case = self.fresh()
        with TestCase.captureOnCommitCallbacks(execute=True):
            try:
                WORKFLOW_ACTIONS[action].service(
                    case=case,
                    by=getattr(self.world, who),
                    expected_version=case.version - 1 if stale else case.version,
                    **explained(case, action, payload(self.world, action)),
                )
            except REFUSED:
                return
        self.transitions += 1

    @precondition(lambda self: self.fresh().status in OPEN_STATUSES)
    @rule(who=st.sampled_from(("supervisor", "county_supervisor")))
    def assign(self, who: str) -> None:
        case = self.fresh()
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.assign_case(
                case=case, by=self.world.supervisor, expected_version=case.version, assignee=getattr(self.world, who)
            )

    @precondition(lambda self: self.fresh().status in OPEN_STATUSES)
    @rule(disposition=st.sampled_from(sorted(Disposition.values)))
    def add_officer_and_suspect(self, disposition: str) -> None:
        case = self.fresh()
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.add_involved_officer(case=case, by=self.world.supervisor, name="王伟")
            suspect = services.add_suspect(case=self.fresh(), by=self.world.supervisor, name="嫌疑人")
            services.record_disposition(
                suspect=suspect, by=self.world.supervisor, disposition=disposition, lenient_reason="minor_circumstances"
            )

    @precondition(lambda self: self.fresh().status in OPEN_STATUSES and Suspect.objects.filter(case=self.case))
    @rule(disposition=st.sampled_from(sorted(Disposition.values)))
    def change_disposition(self, disposition: str) -> None:
        suspect = Suspect.objects.filter(case=self.case).order_by("pk").first()
        with TestCase.captureOnCommitCallbacks(execute=True):
            services.record_disposition(
                suspect=suspect,
                by=self.world.supervisor,
                disposition=disposition,
                lowered_reason="review",
                lenient_reason="minor_circumstances",
            )

    @invariant()
    def one_event_per_transition(self) -> None:
        assert CaseEvent.objects.filter(case=self.case, kind=EventKind.TRANSITION).count() == self.transitions

    def teardown(self) -> None:
        ledger = reconcile(email_after=timedelta(0))
        assert ledger.problems == []


def test_random_histories_reconcile(world):
    # Derandomised in CI by the "ci" hypothesis profile (tests/conftest.py).
    LedgerMachine.world = world
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    assert reconcile_command("--email-after-minutes", "0")["ok"] is True


# --- The demo data ------------------------------------------------------------------------------------------------


def test_the_demo_data_reconciles_clean(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        seed(demo=True, log=lambda _line: None)
    # The demo has a draft its filer withdrew, the history the ledger used to reject.
    withdrawn_drafts = Case.objects.filter(
        events__kind=EventKind.TRANSITION, events__action="withdraw", events__from_status=CaseStatus.DRAFT
    )
    assert withdrawn_drafts.exists()
    result = reconcile_command()  # no exit status 1
    assert result["problems"] == []
    assert result["ok"] is True
    assert result["cases"] == Case.objects.count()
    assert result["notifications"] > 0
    assert (result["emails_unsent"], result["emails_failed"], result["outbox_pending"]) == (0, 0, 0)
