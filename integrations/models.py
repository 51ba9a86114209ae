"""What other systems of the intranet brought in: applications started from 110 incidents.

``IncidentImport`` is the 110 import's own record, one per (incident number, unit): which application the incident
started (or was matched to) for that unit. Its unique constraint is what makes the import idempotent whatever the
door or the timing: a replay finds the row and answers the same application; two replays at once cannot both add one
(integrations/services/incidents.py also locks the units first, so the second waits and finds the first's row).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit
from cases.models import Case

USER = settings.AUTH_USER_MODEL
# As long as ``Case.dispatch_ref``, which holds the same number.
INCIDENT_NUMBER_MAX = 40


class IncidentImport(models.Model):
    incident_number = models.CharField(_("110 incident number"), max_length=INCIDENT_NUMBER_MAX)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey(Case, verbose_name=_("application"), on_delete=models.PROTECT, related_name="+")
    # Whether an application recorded for the incident already was matched rather than a draft started.
    attached = models.BooleanField(_("matched an existing application"), default=False)
    imported_by = models.ForeignKey(USER, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("110 incident import")
        verbose_name_plural = _("110 incident imports")
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["incident_number", "unit"], name="incident_import_once_per_unit"),
            models.CheckConstraint(condition=~Q(incident_number=""), name="incident_import_number_given"),
        ]

    def __str__(self) -> str:
        return f"{self.incident_number} · {self.unit.code}"
