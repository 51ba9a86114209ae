"""Users, the organisation tree and memberships (who holds which role where)."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
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
    # Another system of the intranet (the 110 command centre's dispatch system), not a person: it calls the
    # endpoints made for it (integrations/) for the units of its subtree, and nothing else (accounts/integration.py).
    INTEGRATION = "integration", _("Integration (another system)")


# Least authority first: an administrator may grant a role up to their own, never above it. An integration account
# reads nothing: it stands below the officer.
ROLE_ORDER = [Role.INTEGRATION, Role.OFFICER, Role.SUPERVISOR, Role.ADMIN]


class User(AbstractUser):
    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    badge_number = models.CharField(_("badge number"), max_length=20, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # The language e-mails reach the user in; blank: the site's. Set when the user picks a language.
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(language__in=["", *(code for code, _name in settings.LANGUAGES)]),
                name="user_language_valid",
            )
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    # Every way a password changes passes here (the change page, the admin site, ``manage.py changepassword``, a hash
    # upgraded at log-in): the API tokens' cached checks must end with the old password (accounts/tokens.py).
    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self._password_changed()

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_changed()

    def _password_changed(self) -> None:
        from accounts import tokens

        tokens.forget_user(self)


def unit_name(name: str, name_en: str, language: str | None = None) -> str:
    """A unit's name in the interface language, falling back to the other: the official Chinese name in Chinese
    (its English name where no Chinese one is recorded), the English name in English (the Chinese one where no
    English name is recorded). Pages, reports, exports, notifications and e-mails all name units by this rule."""
    language = language if language is not None else (get_language() or settings.LANGUAGE_CODE)
    if language.startswith("zh"):
        return name or name_en
    return name_en or name


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
        return f"{self.display_name} ({self.code})"

    @property
    def display_name(self) -> str:
        """The unit's name in the active language (``unit_name``)."""
        return unit_name(self.name, self.name_en)

    def contains(self, path: str) -> bool:
        """Whether ``path`` (a unit's or a case's) lies in this unit's subtree."""
        return path.startswith(self.path)


class SignOn(models.TextChoices):
    """A directory that users log in through besides RightsGuard's own accounts (accounts/sso.py)."""

    OIDC = "oidc", _("OpenID Connect identity provider")
    LDAP = "ldap", _("LDAP directory")


class Membership(models.Model):
    """A role held at a unit; it covers the unit and everything below it."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships")
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Blank: granted in RightsGuard. Otherwise the directory whose group mapping granted it at a log-in: that
    # directory's next log-ins add and remove it, and never touch a membership granted here.
    managed_by = models.CharField(
        _("granted by directory group"), max_length=4, choices=SignOn.choices, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "unit", "role"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
            models.CheckConstraint(
                condition=Q(managed_by__in=["", *SignOn.values]), name="membership_managed_by_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.unit}"


# The roles a directory group may ever map to: never an integration account (another system, not a person). Which of
# these a mapping may actually grant is the installation's allow-list (RIGHTSGUARD_SSO_GRANTABLE_ROLES).
DIRECTORY_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)


class DirectoryGroupMapping(models.Model):
    """A directory group whose members hold ``role`` at ``unit`` (accounts/sso.py applies it at each log-in).

    ``group`` is an LDAP group's DN or an identity provider's group name, as the directory sends it (compared without
    regard to case). A role outside RIGHTSGUARD_SSO_GRANTABLE_ROLES is never granted, whatever a row says.
    """

    directory = models.CharField(_("directory"), max_length=4, choices=SignOn.choices)
    group = models.CharField(_("directory group"), max_length=500)
    unit = models.ForeignKey(OrgUnit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("role"), max_length=12, choices=[(r.value, r.label) for r in DIRECTORY_ROLES])

    class Meta:
        verbose_name = _("directory group mapping")
        verbose_name_plural = _("directory group mappings")
        ordering = ["directory", "group", "unit__path", "role"]
        constraints = [
            models.UniqueConstraint(fields=["directory", "group", "unit", "role"], name="directorymapping_unique"),
            models.CheckConstraint(condition=Q(directory__in=SignOn.values), name="directorymapping_directory_valid"),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in DIRECTORY_ROLES]), name="directorymapping_role_valid"
            ),
            models.CheckConstraint(condition=~Q(group=""), name="directorymapping_group_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()} · {self.unit}"


class SavedQueueFilter(models.Model):
    """A supervisor's named queue filter (the query string of the queue page)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=1000)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Shared read-only with the other supervisors of this unit (accounts/selectors.shared_queue_filters); blank: the
    # owner's alone.
    shared_unit = models.ForeignKey(
        "OrgUnit",
        verbose_name=_("shared with unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("saved queue filter")
        verbose_name_plural = _("saved queue filters")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_name_per_user")]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A terminal's API token. Only the SHA-256 of its key is kept; the key itself is shown once, when issued.

    Policy (idle and absolute expiry, revocation, the second factor) is in ``accounts/tokens.py``.
    """

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=60)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    # Whether the token was issued after a second-factor check; without one it stops working once the user must
    # use two-factor log-in.
    mfa_verified = models.BooleanField(_("issued with a second factor"), default=False)
    # The user's session authentication hash (a keyed hash of the password hash) when the token was issued: a new
    # password changes it, which ends the token whichever way the password was changed.
    password_fingerprint = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created at"))
    last_used_at = models.DateTimeField(_("last used at"))

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-last_used_at"], name="apitoken_user_last_used")]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="apitoken_name_not_empty"),
            models.CheckConstraint(condition=Q(last_used_at__gte=models.F("created_at")), name="apitoken_used_after"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"


class AccountChange(models.TextChoices):
    CREATED = "created", _("Account created")
    MEMBERSHIP_GRANTED = "membership_granted", _("Membership granted")
    MEMBERSHIP_REVOKED = "membership_revoked", _("Membership revoked")
    PASSWORD_SET = "password_set", _("Password set")
    PASSWORD_DISABLED = "password_disabled", _("Password log-in disabled")
    DEACTIVATED = "deactivated", _("Account deactivated")
    REACTIVATED = "reactivated", _("Account reactivated")
    PRIVILEGES_CHANGED = "privileges_changed", _("Staff status, superuser status, groups or permissions changed")
    # Second-factor notices go to this address: whoever changes it can hide a change of the second factor.
    EMAIL_CHANGED = "email_changed", _("E-mail address changed")


class AccountAudit(models.Model):
    """One change to who may do what: written by the account services in the same transaction as the change.

    Append-only: the admin shows it read-only, and on PostgreSQL a trigger refuses UPDATE and DELETE.
    ``before`` and ``after`` hold the standing that changed (memberships, flags), never a password or its hash.
    """

    at = models.DateTimeField(_("at"), default=timezone.now)
    # Null: a change made by the system itself (the demo seed, a management command), not by a person.
    actor = models.ForeignKey(
        User, verbose_name=_("changed by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        User, verbose_name=_("account"), on_delete=models.PROTECT, related_name="account_changes"
    )
    action = models.CharField(_("change"), max_length=20, choices=AccountChange.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, blank=True)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)

    class Meta:
        verbose_name = _("account change")
        verbose_name_plural = _("account changes")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=AccountChange.values), name="accountaudit_action_valid"),
        ]
        indexes = [models.Index(fields=["subject", "at"], name="accountaudit_subject_at")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.subject}"
