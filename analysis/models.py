"""What the analysis of cases needs besides the cases: each unit's officer strength per year, the denominator of the
rates per 100 officers. Written through ``analysis.services`` only."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import OrgUnit

# The years a strength may be recorded for: none before the earliest case the application holds.
FIRST_YEAR = 2000
LAST_YEAR = 2100


class OfficerStrength(models.Model):
    """How many officers a unit has in a year: regular police officers and auxiliary officers, as its personnel
    office counts them (the establishment at the end of the year, or the year's average where that is what the unit
    reports; one figure per unit and year either way)."""

    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    regular = models.PositiveIntegerField(_("regular officers"))
    auxiliary = models.PositiveIntegerField(_("auxiliary officers"), default=0)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    recorded_at = models.DateTimeField(_("recorded at"), editable=False)

    class Meta:
        verbose_name = _("officer strength")
        verbose_name_plural = _("officer strengths")
        ordering = ["unit__path", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "year"],
                name="officerstrength_once_per_unit_year",
                violation_error_message=_("This unit's officer strength for this year is recorded already."),
            ),
            models.CheckConstraint(
                condition=Q(regular__gte=0) & Q(auxiliary__gte=0), name="officerstrength_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=FIRST_YEAR) & Q(year__lte=LAST_YEAR), name="officerstrength_year_plausible"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} {self.year}: {self.regular} + {self.auxiliary}"

    @property
    def total(self) -> int:
        return self.regular + self.auxiliary
