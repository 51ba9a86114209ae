"""The guidance tips' workflow as data: which action moves a tip from which state to which, and who takes it. The
services check it, the pages offer what it allows, the tests enumerate it. Knows nothing of the database.

draft → submitted → published → withdrawn; a submitted tip is returned to draft with a note. A published tip is never
edited: "copy" starts a new draft from it (or from a withdrawn one) that replaces it when published.
"""

from django.utils.translation import gettext_lazy as _

from library.guidance.choices import TipState
from library.workflow import APPROVER, EDITOR, Transition

# Who takes a step, as for the typical cases (library/workflow.py): EDITOR, a supervisor or administrator of the tip's
# unit or above it; APPROVER, an administrator of the tip's unit or above it, who neither wrote it nor edited it last.

S = TipState

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("save", frozenset({S.DRAFT}), S.DRAFT, frozenset({EDITOR}), _("Save the draft")),
        Transition("submit", frozenset({S.DRAFT}), S.SUBMITTED, frozenset({EDITOR}), _("Send for approval")),
        Transition("return", frozenset({S.SUBMITTED}), S.DRAFT, frozenset({APPROVER}), _("Return to the editor")),
        Transition("publish", frozenset({S.SUBMITTED}), S.PUBLISHED, frozenset({APPROVER}), _("Approve and publish")),
        # Taking a tip down is never the risky direction: its editors may, as well as its approvers.
        Transition("withdraw", frozenset({S.PUBLISHED}), S.WITHDRAWN, frozenset({APPROVER, EDITOR}), _("Withdraw")),
        # Not a move of this tip: a new draft written from it, which replaces it once published.
        Transition(
            "copy", frozenset({S.PUBLISHED, S.WITHDRAWN}), S.DRAFT, frozenset({EDITOR}), _("Write a new tip from it")
        ),
    )
}


def allows(action: str, state: str) -> bool:
    return state in TRANSITIONS[action].sources
