"""Overriding a rule's flag when a case concludes or closes: which flags need an override, and what one must say.

A finding that the handling fell below what verified law calls for (a downgrade) stops a case from concluding or
closing until a supervisor overrides it, flag by flag, with a reason from a fixed list and an explanation; a review
prompt may be acknowledged and left open, or overridden the same way. The operational flags (stalled, idle, overdue
referral) describe the clock, not a finding, and are never overridden.

Pure: the page's form, the API's input and the service check an override with ``override_errors``, and the service
alone decides, under the case's lock, which open flags need one (``needs_override``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from cases.choices import RULE_FLAG_KINDS, FlagKind, OverrideReason
from cases.rules.base import Severity

# The actions that end the office's handling of a case: an open downgrade must be overridden before either.
OVERRIDING_ACTIONS = frozenset({"conclude", "close"})
TEXT_MAX = 2000
BASIS_MAX = 300


@dataclass(frozen=True)
class OverrideInput:
    """One override as a door received it: the flag's id, the reason (``OverrideReason``), the explanation, and the
    legal basis (required for a lawful reason)."""

    flag: int
    reason: str
    text: str
    basis: str = ""

    @classmethod
    def of(cls, value: "OverrideInput | Mapping[str, Any]") -> "OverrideInput":
        if isinstance(value, OverrideInput):
            return value
        return cls(
            flag=int(value["flag"]),
            reason=str(value.get("reason") or ""),
            text=str(value.get("text") or "").strip(),
            basis=str(value.get("basis") or "").strip(),
        )


def is_rule_flag(kind: str) -> bool:
    """Raised by a rule's finding (a downgrade or a review prompt), not by a stage clock: only these are overridden."""
    return kind in RULE_FLAG_KINDS


def needs_override(kind: str, detail: Mapping[str, Any] | None) -> bool:
    """Whether an open flag stops the case concluding or closing until it is overridden: a finding that is a
    downgrade. A flag recorded before findings carried a severity counts as one."""
    severity = (detail or {}).get("severity", Severity.DOWNGRADE)
    return kind == FlagKind.DOWNGRADED and severity == Severity.DOWNGRADE


def downgrade_q(prefix: str = "") -> Q:
    """``needs_override`` as a condition on flags (``prefix``: the path to the flag, e.g. "flag__"): a downgraded flag
    whose finding is a downgrade, or one recorded before findings carried a severity."""
    severity = Q(**{f"{prefix}detail__severity": Severity.DOWNGRADE}) | ~Q(**{f"{prefix}detail__has_key": "severity"})
    return Q(**{f"{prefix}kind": FlagKind.DOWNGRADED}) & severity


def override_errors(*, reason: str, text: str, basis: str) -> dict[str, str]:
    """What is wrong with one override, by field (``reason``, ``text``, ``basis``); empty when nothing is."""
    errors: dict[str, str] = {}
    if reason not in OverrideReason.values:
        errors["reason"] = _("Choose why the finding does not stand.")
    if not text.strip():
        errors["text"] = _("Explain why the finding does not stand.")
    elif len(text) > TEXT_MAX:
        errors["text"] = _("Keep the explanation within %(max)s characters.") % {"max": TEXT_MAX}
    if reason == OverrideReason.LAWFUL_REASON and not basis.strip():
        errors["basis"] = _("Give the legal basis of the lawful reason.")
    elif len(basis) > BASIS_MAX:
        errors["basis"] = _("Keep the legal basis within %(max)s characters.") % {"max": BASIS_MAX}
    return errors
