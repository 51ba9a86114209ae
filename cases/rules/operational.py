"""Operational flags: a case left unhandled or dragged out, as opposed to one handled below the law.

- STALLED: an open stage past its time limit with the clock running (a paused clock is never stalled).
- IDLE: an open stage without any recorded activity for ``RIGHTSGUARD_IDLE_DAYS`` days (14 by default),
  paused or not: waiting for an appraisal is still a reason to look at the case now and then.
- REFERRAL_OVERDUE: a referral neither acknowledged nor closed by its due date.

The limits themselves are data (``StageLimit``, ``cases.sla``); these rules only say when a flag is raised.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.choices import FlagKind
from cases.rules.base import Source, Tag

DEFAULT_IDLE_DAYS = 14


def idle_days() -> int:
    return int(getattr(settings, "RIGHTSGUARD_IDLE_DAYS", DEFAULT_IDLE_DAYS))


@dataclass(frozen=True)
class OperationalRule:
    code: str
    kind: str
    title: Promise
    basis: Promise
    sources: tuple[Source, ...]
    version: str = "-"

    @property
    def verified(self) -> bool:
        return all(s.tag == Tag.VERIFIED for s in self.sources)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(sorted({str(s.tag) for s in self.sources}))


STALLED = OperationalRule(
    code="STALLED",
    kind=FlagKind.STALLED,
    title=_("Stage past its time limit"),
    basis=_(
        "Stage time limits set by the administrators; on the administrative track, Public Security "
        "Administration Punishments Law (2012) Art. 99: 30 days, 30 more with approval, appraisal time excluded"
    ),
    sources=(
        Source(_("Administrative cases: 30 days from acceptance, extendable by 30"), Tag.VERIFIED),
        Source(_("The other stage limits are the office's defaults"), Tag.INFERENCE),
    ),
)
IDLE = OperationalRule(
    code="IDLE",
    kind=FlagKind.IDLE,
    title=_("No activity in an open stage"),
    basis=_("The office's rule that no case is left unhandled"),
    sources=(
        Source(_("No case left unhandled, downgraded or dragged out"), Tag.BRIEF),
        Source(_("The idle threshold is a setting"), Tag.INFERENCE),
    ),
)
REFERRAL_OVERDUE = OperationalRule(
    code="REFERRAL_OVERDUE",
    kind=FlagKind.OVERDUE_REFERRAL,
    title=_("Referral not acknowledged by its due date"),
    basis=_("The acknowledgement due date set when the case was referred"),
    sources=(Source(_("The handling unit acknowledges within the referral's due date"), Tag.INFERENCE),),
)

OPERATIONAL_RULES: dict[str, OperationalRule] = {r.code: r for r in (STALLED, IDLE, REFERRAL_OVERDUE)}
