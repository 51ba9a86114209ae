"""The vocabulary of the early warnings (analysis/warnings.py): what kind of warning, how serious, where it stands."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WarningKind(models.TextChoices):
    UNIT_RISE = "unit_rise", _("Rise in a unit's cases")
    SCENARIO_RISE = "scenario_rise", _("Rise in a duty scenario or place in a province")
    REPEAT_ATTACKER = "repeat_attacker", _("Suspect with earlier cases against police")
    REPEAT_VICTIM = "repeat_victim", _("Officer attacked repeatedly")


# The warnings about one case (the case is recorded with them); the others are about a unit's figures.
CASE_KINDS = (WarningKind.REPEAT_ATTACKER, WarningKind.REPEAT_VICTIM)
RISE_KINDS = (WarningKind.UNIT_RISE, WarningKind.SCENARIO_RISE)


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class WarningState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class EvaluationState(models.TextChoices):
    """Where a case analysis and evaluation report stands (analysis/models.py ``EvaluationReport``)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")


# A report covers a quarter (1-4) or, as 0, the whole year.
WHOLE_YEAR = 0
QUARTERS = (1, 2, 3, 4)
