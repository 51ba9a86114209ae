"""The case workflow as data: which action moves a case from which statuses to which, who may take it, and
what it needs. This table is the single source of truth for the buttons the UI offers, the actions the API
accepts and the transitions the tests enumerate. It knows nothing about the database.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from cases.choices import CaseStatus

FILER = "filer"  # the officer who filed the application, whatever their current memberships


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    performers: frozenset[str]
    label: Promise
    requires: Promise
    # What happens next, said to whoever took the action once it is done: one sentence with the case's reference
    # %(ref)s and, where the new stage has a time limit, its due date %(due)s.
    next_step: Promise


def _t(
    action: str,
    sources: set[str],
    target: str,
    performers: set[str],
    label: Promise,
    requires: Promise,
    next_step: Promise,
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(performers), label, requires, next_step)


S = CaseStatus
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t(
            "submit",
            {S.DRAFT},
            S.INTAKE,
            {FILER},
            _("Submit"),
            _("Required details and at least one involved officer."),
            _("Your application %(ref)s is with the rights-protection office. A supervisor will review it by %(due)s."),
        ),
        _t(
            "withdraw",
            {S.DRAFT, S.INTAKE},
            S.WITHDRAWN,
            {FILER},
            _("Withdraw"),
            _("A reason for withdrawing."),
            _("Application %(ref)s is withdrawn: nothing more happens with it, and it stays on record here."),
        ),
        _t(
            "reject",
            {S.INTAKE},
            S.REJECTED,
            {Role.SUPERVISOR},
            _("Reject"),
            _("A reason (out of scope, or a duplicate)."),
            _("%(ref)s is rejected. The filer is told, with your reason; the case stays on record."),
        ),
        _t(
            "refer",
            {S.INTAKE},
            S.REFERRED,
            {Role.SUPERVISOR},
            _("Refer"),
            _("The handling unit or body, the track and an acknowledgement due date."),
            _(
                "%(ref)s is with the handling unit, which should acknowledge it by %(due)s; "
                "a late acknowledgement is flagged."
            ),
        ),
        _t(
            "acknowledge",
            {S.REFERRED},
            S.SUPERVISION,
            {Role.SUPERVISOR},
            _("Acknowledge"),
            _("The handling unit's case number."),
            _(
                "%(ref)s is under supervision: record dispositions and support as the handling goes on. "
                "This stage is due by %(due)s."
            ),
        ),
        _t(
            "conclude",
            {S.SUPERVISION},
            S.LOOK_BACK,
            {Role.SUPERVISOR},
            _("Conclude"),
            _("A final disposition for every identified suspect, or a recorded reason."),
            _("%(ref)s is concluded and awaits its look-back review, due by %(due)s."),
        ),
        _t(
            "reopen",
            {S.LOOK_BACK},
            S.SUPERVISION,
            {Role.SUPERVISOR},
            _("Reopen"),
            _("A supervision finding."),
            _("%(ref)s is back under supervision until the finding is rectified. This stage is due by %(due)s."),
        ),
        _t(
            "close",
            {S.LOOK_BACK},
            S.CLOSED,
            {Role.SUPERVISOR},
            _("Close"),
            _("A look-back verdict of upheld, with the officer informed."),
            _(
                "%(ref)s is closed and the officer is informed. "
                "It can be recalled for a look-back campaign or new facts."
            ),
        ),
        _t(
            "recall",
            {S.CLOSED},
            S.LOOK_BACK,
            {Role.SUPERVISOR, Role.ADMIN},
            _("Recall"),
            _("An annual look-back campaign or new facts."),
            _("%(ref)s is back in look-back review, due by %(due)s."),
        ),
    )
}

# The stages a case passes through, in order: the case page's progress stepper. Rejected and withdrawn are side
# exits, shown where the case left the path.
STAGES: tuple[str, ...] = (S.DRAFT, S.INTAKE, S.REFERRED, S.SUPERVISION, S.LOOK_BACK, S.CLOSED)
SIDE_EXITS: frozenset[str] = frozenset({S.REJECTED, S.WITHDRAWN})


@dataclass(frozen=True)
class Stage:
    status: str
    # "done", "current" or "next" (not reached yet, or left behind by a recall or reopen and to be passed again)
    state: str
    # When the case last entered this stage, from the timeline; None when it never did.
    entered_at: datetime | None

    @property
    def label(self) -> str:
        return str(CaseStatus(self.status).label)


def progress(status: str, entered: dict[str, datetime]) -> list[Stage]:
    """The stepper for a case in ``status`` whose timeline says when it last entered each stage (``entered``).

    Stages before the current one are done, later ones are next. A case that left the path (rejected, withdrawn)
    shows the stages it passed as done, up to the last it was in, and nothing as current: the exit comes last, as
    state "exit".
    """
    if status in STAGES:
        current = STAGES.index(status)
    else:
        # The last stage entered before the exit.
        passed = [i for i, stage in enumerate(STAGES) if stage in entered]
        current = (max(passed) + 1) if passed else 0
    steps = []
    for i, stage in enumerate(STAGES):
        state = "done" if i < current else "current" if i == current and status in STAGES else "next"
        steps.append(Stage(stage, state, entered.get(stage) if state != "next" else None))
    if status in SIDE_EXITS:
        steps.append(Stage(status, "exit", entered.get(status)))
    return steps


ACTIONS: tuple[str, ...] = tuple(TRANSITIONS)


def transition_for(action: str) -> Transition | None:
    return TRANSITIONS.get(action)


def is_legal(action: str, from_status: str) -> bool:
    t = TRANSITIONS.get(action)
    return t is not None and from_status in t.sources


def actions_from(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if status in t.sources]


def reachable_statuses() -> set[str]:
    return {t.target for t in TRANSITIONS.values()} | {S.DRAFT}
