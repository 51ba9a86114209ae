"""Random sequences of actions by random people keep the workflow's invariants (hypothesis, stateful).

A simple model predicts each outcome from the transition table alone; the services must agree with it,
and every refusal must leave the case exactly as it was.
"""

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from accounts.models import Role
from cases import services
from cases.choices import FINAL_DISPOSITIONS, OPEN_STATUSES, CaseStatus, Disposition, EventKind
from cases.exceptions import IllegalTransition, StaleVersion
from cases.models import Case, CaseEvent, LookBackReview, Suspect
from cases.workflow import FILER, TRANSITIONS
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.factories import World, draft

PEOPLE = {
    "officer": {FILER},
    "other_officer": set(),
    "supervisor": {Role.SUPERVISOR},
    "county_supervisor": {Role.SUPERVISOR},
    "sibling_supervisor": set(),
    "admin": {Role.ADMIN},
}
DISPOSITIONS = sorted(Disposition.values)


def payload(world: World, action: str, reason: bool) -> dict[str, Any]:
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


class CaseMachine(RuleBasedStateMachine):
    world: World

    def __init__(self) -> None:
        super().__init__()
        self.case = draft(self.world)
        self.transitions = 0
        self.suspects: dict[int, str] = {}  # id -> disposition (all identified)
        self.reason_recorded = False

    def fresh(self) -> Case:
        return Case.objects.get(pk=self.case.pk)

    def state(self) -> tuple:
        c = self.fresh()
        return (c.status, c.version, c.stage_due_at, CaseEvent.objects.filter(case=c).count())

    def gaps(self) -> bool:
        return not self.suspects or any(d not in FINAL_DISPOSITIONS for d in self.suspects.values())

    @rule(
        action=st.sampled_from(sorted(TRANSITIONS)),
        who=st.sampled_from(sorted(PEOPLE)),
        stale=st.booleans(),
        reason=st.booleans(),
    )
    def act(self, action: str, who: str, stale: bool, reason: bool) -> None:
        case = self.fresh()
        t = TRANSITIONS[action]
        allowed = bool(t.performers & PEOPLE[who]) and self.world.__dict__[who].is_active
        legal = case.status in t.sources
        meets = True
        if action == "conclude":
            meets = reason or not self.gaps()
        if action == "close":
            meets = self.reason_recorded or not self.gaps()
        before = self.state()
        kwargs = payload(self.world, action, reason)
        expected_version = case.version - 1 if stale else case.version
        try:
            result = WORKFLOW_ACTIONS[action].service(
                case=case, by=getattr(self.world, who), expected_version=expected_version, **kwargs
            )
        except PermissionDenied:
            assert not allowed
            assert self.state() == before
            return
        except StaleVersion:
            assert (allowed, stale) == (True, True)
            assert self.state() == before
            return
        except IllegalTransition:
            assert (allowed, stale, legal) == (True, False, False)
            assert self.state() == before
            return
        except ValidationError:
            assert (allowed, stale, legal, meets) == (True, False, True, False)
            assert self.state() == before
            return
        assert (allowed, stale, legal, meets) == (True, False, True, True), (action, who)
        assert result.status == t.target
        self.transitions += 1
        if action == "conclude":
            self.reason_recorded = bool(kwargs["reason"])

    @precondition(lambda self: self.fresh().status in OPEN_STATUSES)
    @rule(disposition=st.sampled_from(DISPOSITIONS))
    def add_suspect_with_disposition(self, disposition: str) -> None:
        suspect = services.add_suspect(case=self.fresh(), by=self.world.supervisor, name="嫌疑人")
        services.record_disposition(
            suspect=suspect, by=self.world.supervisor, disposition=disposition, lenient_reason="minor_circumstances"
        )
        self.suspects[suspect.pk] = disposition

    @precondition(lambda self: bool(self.suspects))
    @rule(data=st.data())
    def change_disposition(self, data: st.DataObject) -> None:
        pk = data.draw(st.sampled_from(sorted(self.suspects)))
        disposition = data.draw(st.sampled_from(DISPOSITIONS))
        try:
            services.record_disposition(
                suspect=Suspect.objects.get(pk=pk),
                by=self.world.supervisor,
                disposition=disposition,
                lowered_reason="review",
                lenient_reason="minor_circumstances",
            )
        except PermissionDenied:
            assert self.fresh().status not in OPEN_STATUSES
            return
        self.suspects[pk] = disposition

    @invariant()
    def status_is_known_and_clock_consistent(self) -> None:
        c = self.fresh()
        assert c.status in CaseStatus.values
        assert (c.stage_due_at is not None) == (c.status in OPEN_STATUSES)
        assert (c.closed_at is not None) == (c.status == CaseStatus.CLOSED)

    @invariant()
    def one_event_per_transition(self) -> None:
        assert CaseEvent.objects.filter(case=self.case, kind=EventKind.TRANSITION).count() == self.transitions

    @invariant()
    def at_most_one_open_review_and_only_in_look_back(self) -> None:
        open_reviews = LookBackReview.objects.filter(case=self.case, finished_at__isnull=True).count()
        assert open_reviews == (1 if self.fresh().status == CaseStatus.LOOK_BACK else 0)

    @invariant()
    def closed_cases_have_a_final_disposition_or_a_reason(self) -> None:
        c = self.fresh()
        if c.status == CaseStatus.CLOSED:
            assert c.conclusion_reason or (
                self.suspects and all(d in FINAL_DISPOSITIONS for d in self.suspects.values())
            )


@pytest.mark.django_db
def test_random_action_sequences_keep_the_invariants(world):
    CaseMachine.world = world
    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=40, stateful_step_count=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
        ),
    )
