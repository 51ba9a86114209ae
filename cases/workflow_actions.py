"""For each action of the workflow table (cases/workflow.py): the service that takes it, the browser form and the API
input that parse what it needs. The case page and the API look an action up here and nowhere else;
tests/cases/test_workflow_actions.py keeps this table and ``TRANSITIONS`` in step (every action listed once, every
field a form or an input sends accepted by its service).

Only the doors (views, API) use this module: the services know nothing of forms or serializers.
"""

from collections.abc import Callable
from dataclasses import dataclass

from cases import forms, services
from cases.api import serializers
from cases.models import Case
from cases.workflow import TRANSITIONS, Transition


@dataclass(frozen=True)
class WorkflowAction:
    transition: Transition
    # Called as service(case=..., by=..., expected_version=..., **the form's or the input's other fields).
    service: Callable[..., Case]
    form: type[forms.VersionForm]
    api_input: type[serializers.VersionedSerializer]

    @property
    def name(self) -> str:
        return self.transition.action


def _action(
    name: str,
    service: Callable[..., Case],
    form: type[forms.VersionForm],
    api_input: type[serializers.VersionedSerializer],
) -> WorkflowAction:
    # A name the workflow table does not have fails here, at import.
    return WorkflowAction(TRANSITIONS[name], service, form, api_input)


WORKFLOW_ACTIONS: dict[str, WorkflowAction] = {
    a.name: a
    for a in (
        _action("submit", services.submit_case, forms.SubmitForm, serializers.SubmitActionSerializer),
        _action("withdraw", services.withdraw_case, forms.WithdrawForm, serializers.WithdrawActionSerializer),
        _action("reject", services.reject_case, forms.RejectForm, serializers.RejectActionSerializer),
        _action("refer", services.refer_case, forms.ReferForm, serializers.ReferActionSerializer),
        _action(
            "acknowledge",
            services.acknowledge_referral,
            forms.AcknowledgeForm,
            serializers.AcknowledgeActionSerializer,
        ),
        _action("conclude", services.conclude_case, forms.ConcludeForm, serializers.ConcludeActionSerializer),
        _action("reopen", services.reopen_case, forms.ReopenForm, serializers.ReopenActionSerializer),
        _action("close", services.close_case, forms.CloseForm, serializers.CloseActionSerializer),
        _action("recall", services.recall_case, forms.RecallForm, serializers.RecallActionSerializer),
    )
}
