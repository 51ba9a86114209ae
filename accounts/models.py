"""Users, the organisation tree and memberships (who holds which role where)."""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OrgLevel(models.TextChoices):
    MINISTRY = "ministry", _("Ministry")
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    STATION = "station", _("Station")


LEVEL_ORDER = [OrgLevel.MINISTRY, OrgLevel.PROVINCE, OrgLevel.CITY, OrgLevel.COUNTY, OrgLevel.STATION]


class Role(models.TextChoices):
    OFFICER = "officer", _("Officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    badge_number = models.CharField(_("badge number"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username


class OrgUnit(models.Model):
    """A unit of the police organisation, stored as a materialised path of codes.

    ``path`` is ``/<root code>/<child code>/.../<own code>/``; the subtree of a unit is every row whose path
    starts with the unit's path. Cases copy the path of their handling unit so queues filter without a join.
    """

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=150, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=OrgLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("depth"), editable=False)

    class Meta:
        verbose_name = _("organisation unit")
        verbose_name_plural = _("organisation units")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=OrgLevel.values), name="orgunit_level_valid"),
            models.CheckConstraint(
                condition=Q(path__startswith="/") & Q(path__endswith="/"), name="orgunit_path_slashed"
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True, depth=0) | Q(parent__isnull=False, depth__gt=0),
                name="orgunit_depth_matches_parent",
            ),
        ]
        indexes = [models.Index(fields=["path"], name="orgunit_path_prefix", opclasses=["text_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def contains(self, path: str) -> bool:
        """Whether ``path`` (a unit's or a case's) lies in this unit's subtree."""
        return path.startswith(self.path)


class Membership(models.Model):
    """A role held at a unit; it covers the unit and everything below it."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


class SavedQueueFilter(models.Model):
    """A supervisor's named queue filter (the query string of the queue page)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved queue filter")
        verbose_name_plural = _("saved queue filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_per_user")]

    def __str__(self) -> str:
        return self.name
