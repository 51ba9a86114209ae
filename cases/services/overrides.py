"""Overrides of rule flags, taken inside the conclude and close services (cases/overrides.py says which flags need
one and what one must say).

``check_overrides`` runs under the case's lock, beside the action's own checks, and returns what to write or the
errors that refuse the action; ``write_overrides`` resolves each flag as overridden, keeps the override and puts it
on the timeline, in the action's transaction. A flag raised after the user's page or request was prepared has no
override, so the action is refused naming it, and nothing is written.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from accounts.selectors import actor_for
from cases import policy
from cases.choices import FLAG_FIELDS, EventKind, FlagResolution
from cases.models import Flag, FlagOverride
from cases.overrides import OverrideInput, is_rule_flag, needs_override, override_errors
from cases.rules.engine import rule_version
from cases.services.common import CaseChange, record_event, require


@dataclass(frozen=True)
class Checked:
    """Overrides that passed every check, each with its flag (locked), or the messages that refuse the action."""

    accepted: list[tuple[Flag, OverrideInput]]
    errors: list[str]


def flag_label(flag: Flag) -> str:
    """How a message names a flag: its id, rule code and rule title."""
    rule = rule_version(flag.rule_code, (flag.detail or {}).get("version", ""))
    title = str(rule.title) if rule is not None else flag.rule_code
    return _("flag %(id)s, %(code)s “%(title)s”") % {"id": flag.pk, "code": flag.rule_code, "title": title}


def check_overrides(change: CaseChange, action: str, overrides: Iterable[OverrideInput | Mapping[str, Any]]) -> Checked:
    """Match the overrides given with the case's open flags: each names an open rule flag of this case once and says
    why, and every open flag that needs an override has one."""
    case = change.case
    given = [OverrideInput.of(o) for o in overrides]
    if given:
        # The action itself was allowed by its service; an override is a decision of its own, asked of the policy.
        actor = actor_for(change.by)
        require(
            policy.can_override_flags(actor, case, action),
            _("You filed this case or are listed on it: another supervisor of its unit must override its flags.")
            if policy.is_involved(actor, case)
            else _("You are not allowed to override this case's flags."),
        )
    open_flags = {
        f.pk: f for f in Flag.objects.select_for_update().filter(case=case, resolved_at__isnull=True).order_by("pk")
    }
    errors: list[str] = []
    accepted: list[tuple[Flag, OverrideInput]] = []
    seen: set[int] = set()
    for item in given:
        flag = open_flags.get(item.flag)
        if flag is None or not is_rule_flag(flag.kind):
            errors.append(_("Flag %(id)s is not an open rule flag of this case.") % {"id": item.flag})
            continue
        if flag.pk in seen:
            errors.append(_("%(flag)s is overridden twice.") % {"flag": flag_label(flag)})
            continue
        seen.add(flag.pk)
        problems = override_errors(reason=item.reason, text=item.text, basis=item.basis)
        errors.extend(f"{flag_label(flag)}: {message}" for message in problems.values())
        if not problems:
            accepted.append((flag, item))
    for flag in open_flags.values():
        if needs_override(flag.kind, flag.detail) and flag.pk not in seen:
            errors.append(
                _("%(flag)s is open and finds the handling below what the law calls for: give a reason to override it.")
                % {"flag": flag_label(flag)}
            )
    return Checked(accepted=accepted if not errors else [], errors=errors)


def write_overrides(change: CaseChange, action: str, checked: Checked) -> list[str]:
    """Resolve each flag as overridden, keep its override and record it on the timeline; update the case's flag
    booleans in memory and return their names, for the action to save with its own change."""
    case, by, at = change.case, change.by, change.at
    for flag, item in checked.accepted:
        FlagOverride.objects.create(
            flag=flag, action=action, reason=item.reason, explanation=item.text, legal_basis=item.basis, by=by, at=at
        )
        flag.resolved_at, flag.resolution = at, FlagResolution.OVERRIDDEN
        flag.save(update_fields=["resolved_at", "resolution"])
        record_event(
            case=case,
            kind=EventKind.FLAG_OVERRIDDEN,
            by=by,
            now=at,
            data={
                "flag": flag.pk,
                "kind": flag.kind,
                "rule": flag.rule_code,
                "version": (flag.detail or {}).get("version"),
                "problems": (flag.detail or {}).get("problems", []),
                "reason": item.reason,
                "text": item.text,
                "basis": item.basis,
                "action": action,
            },
            notify=False,
        )
    kinds = {flag.kind for flag, _item in checked.accepted if flag.kind in FLAG_FIELDS}
    still_open = set(
        Flag.objects.filter(case=case, kind__in=kinds, resolved_at__isnull=True).values_list("kind", flat=True)
    )
    for kind in kinds:
        setattr(case, FLAG_FIELDS[kind], kind in still_open)
    return [FLAG_FIELDS[kind] for kind in sorted(kinds)]
