"""The vocabulary of oversight campaigns: kinds, states, how cases are selected, the review checklist per kind, the
problems a review finds and the accountability measures taken. The checklist is data: the review form, the service
and the tests read it from ``CHECKLISTS``."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cases.choices import SuspectStatus


class CampaignKind(models.TextChoices):
    SPECIAL_SUPERVISION = "special_supervision", _("Special supervision")
    LOOK_BACK = "look_back", _("Yearly look-back")
    FUGITIVE_PURSUIT = "fugitive_pursuit", _("Fugitive pursuit")


class CampaignState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # A context of their own: a campaign under way is not an export being written ("Running"), nor a closed one a
    # closed case ("Closed"), in Chinese.
    RUNNING = "running", pgettext_lazy("campaign state", "Running")
    CLOSED = "closed", pgettext_lazy("campaign state", "Closed")


class SelectionMode(models.TextChoices):
    ALL = "all", _("Every case in scope")
    SAMPLE = "sample", _("A random sample")
    STRATIFIED = "stratified", _("A random sample from each sub-unit")


class ChecklistItem(models.TextChoices):
    NON_HANDLING = "non_handling", _("Handled at all (no non-handling)")
    DOWNGRADED = "downgraded", _("Handled at the level the facts call for (no downgrading)")
    PROTRACTED = "protracted", _("Handled without protracted delay")
    INTERFERENCE = "interference", _("Free of obstruction or interference")
    EVIDENCE = "evidence", _("Evidence secured")
    TIME_LIMITS = "time_limits", _("Time limits kept")
    SUPPORT = "support", _("Support delivered to the officer")
    LOOK_BACK = "look_back", _("Look-back review done")


class Answer(models.TextChoices):
    PASS = "pass", _("Pass")
    PROBLEM = "problem", _("Problem")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class ProblemType(models.TextChoices):
    NON_HANDLING = "non_handling", _("Non-handling")
    DOWNGRADED = "downgraded", _("Downgraded handling")
    PROTRACTED = "protracted", _("Protracted delay")
    INTERFERENCE = "interference", _("Obstruction or interference in handling")
    EVIDENCE = "evidence", _("Evidence")
    TIME_LIMITS = "time_limits", _("Time limits")
    SUPPORT = "support", _("Support")
    LOOK_BACK = "look_back", _("Look-back")


class Measure(models.TextChoices):
    CRITICISM_EDUCATION = "criticism_education", _("Criticism and education")
    ADMONISHMENT = "admonishment", _("Admonishment")
    DISCIPLINARY_SANCTION = "disciplinary_sanction", _("Disciplinary sanction")


class LogStep(models.TextChoices):
    """The steps the campaign's own log records."""

    CREATED = "created", _("Campaign created")
    SCOPE_SET = "scope_set", _("Scope and selection set")
    STARTED = "started", _("Campaign started and cases selected")
    REVIEWER_ASSIGNED = "reviewer_assigned", _("Reviewer assigned")
    REVIEWED = "reviewed", _("Case reviewed")
    PROBLEM_RAISED = "problem_raised", _("Problem raised")
    RECTIFIED = "rectified", _("Problem rectified")
    MADE_UP = "made_up", _("Case sent back to be handled again")
    ACCOUNTABILITY = "accountability", _("Accountability recorded")
    PURSUIT = "pursuit", _("Pursuit step recorded")
    CLOSED = "closed", _("Campaign closed")


class ReminderReason(models.TextChoices):
    REVIEW_DUE = "review_due", _("Cases to review before the deadline")
    RECTIFICATION_OVERDUE = "rectification_overdue", _("Rectification overdue")


class PursuitStatus(models.TextChoices):
    """Where the pursuit of one fugitive stands: at large, located, then one of the four ends."""

    AT_LARGE = "at_large", _("At large")
    LOCATED = "located", _("Located")
    # Caught and in custody (抓获归案): not the formal arrest a suspect's status "Arrested" (逮捕) means.
    ARRESTED = "arrested", pgettext_lazy("fugitive pursuit", "Arrested")
    SURRENDERED = "surrendered", _("Surrendered")
    EXTRADITED = "extradited", _("Extradited or repatriated")
    DECEASED = "deceased", _("Deceased")


# The pursuit's ends: each has its date; none leads anywhere else.
PURSUIT_ENDS = frozenset(
    {PursuitStatus.ARRESTED, PursuitStatus.SURRENDERED, PursuitStatus.EXTRADITED, PursuitStatus.DECEASED}
)
# The ends that bring the suspect into custody (the suspect's own status changes through the case services).
PURSUIT_CUSTODY = frozenset({PursuitStatus.ARRESTED, PursuitStatus.SURRENDERED, PursuitStatus.EXTRADITED})
# The suspect's status once a pursuit brings them into custody: criminal detention unless the step says otherwise.
CUSTODY_STATUSES: tuple[str, ...] = (
    SuspectStatus.DETAINED,
    SuspectStatus.ADMIN_DETAINED,
    SuspectStatus.ARRESTED,
    SuspectStatus.BAIL,
    SuspectStatus.RESIDENTIAL_SURVEILLANCE,
)
# The steps a pursuit may take from each status; an end is final.
PURSUIT_STEPS: dict[str, frozenset[str]] = {
    PursuitStatus.AT_LARGE: frozenset({PursuitStatus.LOCATED, *PURSUIT_ENDS}),
    PursuitStatus.LOCATED: frozenset({PursuitStatus.AT_LARGE, *PURSUIT_ENDS}),
    **{end: frozenset() for end in PURSUIT_ENDS},
}


_I = ChecklistItem
# What a review checks, per campaign kind: the four problems special supervision looks for first, then the rest.
CHECKLISTS: dict[str, tuple[str, ...]] = {
    CampaignKind.SPECIAL_SUPERVISION: (
        _I.NON_HANDLING,
        _I.DOWNGRADED,
        _I.PROTRACTED,
        _I.INTERFERENCE,
        _I.EVIDENCE,
        _I.TIME_LIMITS,
        _I.SUPPORT,
    ),
    CampaignKind.LOOK_BACK: tuple(_I.values),
    CampaignKind.FUGITIVE_PURSUIT: (_I.NON_HANDLING, _I.PROTRACTED, _I.INTERFERENCE, _I.TIME_LIMITS),
}
