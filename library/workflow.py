"""The typical-case workflow as data: which action moves a write-up from which state to which, and who takes it. The
services check it, the pages and the API offer what it allows, the tests enumerate it. Knows nothing of the database.

proposed → drafting (the first save) → submitted → published; a submitted write-up is returned to drafting with a
note; a published one is revised (drafting again, the published version still read until the revision is published
as the next version) or withdrawn with a note (readers no longer see it; its versions stay in its history). A withdrawn
write-up may be revised and published again. A proposal (or a draft never published) may be declined with a reason,
which ends it.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from library.choices import WriteUpState

S = WriteUpState
EDITOR = "editor"  # a supervisor of the proposing unit or above it
APPROVER = "approver"  # an administrator of the proposing unit or above it


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    who: frozenset[str]
    label: Promise


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("save", frozenset({S.PROPOSED, S.DRAFTING}), S.DRAFTING, frozenset({EDITOR}), _("Save the draft")),
        Transition(
            "anonymise",
            frozenset({S.PROPOSED, S.DRAFTING}),
            S.DRAFTING,
            frozenset({EDITOR}),
            _("Accept the proposed replacements"),
        ),
        Transition("submit", frozenset({S.DRAFTING}), S.SUBMITTED, frozenset({EDITOR}), _("Send for approval")),
        Transition("return", frozenset({S.SUBMITTED}), S.DRAFTING, frozenset({APPROVER}), _("Return to the editor")),
        Transition("publish", frozenset({S.SUBMITTED}), S.PUBLISHED, frozenset({APPROVER}), _("Approve and publish")),
        # Withdrawal takes down what readers see: from any state while a version is read (``WriteUp.listed``),
        # by those who publish and by those who edit (taking material down is never the risky direction).
        Transition(
            "withdraw",
            frozenset({S.PUBLISHED, S.DRAFTING, S.SUBMITTED}),
            S.WITHDRAWN,
            frozenset({APPROVER, EDITOR}),
            _("Withdraw"),
        ),
        Transition(
            "revise", frozenset({S.PUBLISHED, S.WITHDRAWN}), S.DRAFTING, frozenset({EDITOR}), _("Start a revision")
        ),
        # A proposal not taken up, with the reason: before anything of it was ever published (a revision of a
        # published write-up is withdrawn instead). Final: the case is not proposed again.
        Transition(
            "decline",
            frozenset({S.PROPOSED, S.DRAFTING}),
            S.DECLINED,
            frozenset({APPROVER, EDITOR}),
            _("Decline the proposal"),
        ),
    )
}


def allows(action: str, state: str) -> bool:
    return state in TRANSITIONS[action].sources
