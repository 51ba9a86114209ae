"""The case workflow as data: which action moves a case from which statuses to which, who may take it, and
what it needs. This table is the single source of truth for the buttons the UI offers, the actions the API
accepts and the transitions the tests enumerate. It knows nothing about the database.
"""

from dataclasses import dataclass

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


def _t(
    action: str, sources: set[str], target: str, performers: set[str], label: Promise, requires: Promise
) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(performers), label, requires)


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
        ),
        _t("withdraw", {S.DRAFT, S.INTAKE}, S.WITHDRAWN, {FILER}, _("Withdraw"), _("A reason for withdrawing.")),
        _t(
            "reject",
            {S.INTAKE},
            S.REJECTED,
            {Role.SUPERVISOR},
            _("Reject"),
            _("A reason (out of scope, or a duplicate)."),
        ),
        _t(
            "refer",
            {S.INTAKE},
            S.REFERRED,
            {Role.SUPERVISOR},
            _("Refer"),
            _("The handling unit or body, the track and an acknowledgement due date."),
        ),
        _t(
            "acknowledge",
            {S.REFERRED},
            S.SUPERVISION,
            {Role.SUPERVISOR},
            _("Acknowledge"),
            _("The handling unit's case number."),
        ),
        _t(
            "conclude",
            {S.SUPERVISION},
            S.LOOK_BACK,
            {Role.SUPERVISOR},
            _("Conclude"),
            _("A final disposition for every identified suspect, or a recorded reason."),
        ),
        _t("reopen", {S.LOOK_BACK}, S.SUPERVISION, {Role.SUPERVISOR}, _("Reopen"), _("A supervision finding.")),
        _t(
            "close",
            {S.LOOK_BACK},
            S.CLOSED,
            {Role.SUPERVISOR},
            _("Close"),
            _("A look-back verdict of upheld, with the officer informed."),
        ),
        _t(
            "recall",
            {S.CLOSED},
            S.LOOK_BACK,
            {Role.SUPERVISOR, Role.ADMIN},
            _("Recall"),
            _("An annual look-back campaign or new facts."),
        ),
    )
}

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
