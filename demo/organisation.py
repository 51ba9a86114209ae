"""The demo organisation tree (``data/org_tree.json``) and demo accounts (``data/accounts.json``).

Both are idempotent: a second run finds what the first created and leaves it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from accounts.models import OrgUnit, Role, User
from accounts.services import create_org_unit, create_user, grant_membership
from demo.datafiles import load

# Documented in DESIGN §7 and printed by `make run`; it only ever guards the demo accounts.
DEMO_PASSWORD = "rightsguard-demo"  # noqa: S105
ADMIN_GROUP = "Unit administrators"


# --- Organisation tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    name_en: str
    level: str
    parent: str | None
    # For county units: how street addresses in the area begin, some of its roads, and the prefix of the
    # case numbers its departments issue. Synthetic cases use them to read like real files.
    locality: str = ""
    roads: tuple[str, ...] = ()
    abbr: str = ""


def _units(node: dict[str, Any], parent: str | None = None) -> Iterator[UnitSpec]:
    """The units of the nested tree, each before its children (the order they are created in)."""
    yield UnitSpec(
        code=node["code"],
        name=node["name"],
        name_en=node["name_en"],
        level=node["level"],
        parent=parent,
        locality=node.get("locality", ""),
        roads=tuple(node.get("roads", ())),
        abbr=node.get("abbr", ""),
    )
    for child in node.get("units", ()):
        yield from _units(child, node["code"])


ORG_TREE: tuple[UnitSpec, ...] = tuple(_units(load("org_tree.json")))
UNIT_SPECS: dict[str, UnitSpec] = {spec.code: spec for spec in ORG_TREE}


@transaction.atomic
def ensure_org_tree() -> tuple[dict[str, OrgUnit], int]:
    """Create the demo units that are missing (a unit whose code exists is left as it is)."""
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=list(UNIT_SPECS))}
    created = 0
    for spec in ORG_TREE:
        if spec.code in units:
            continue
        parent = units[spec.parent] if spec.parent else None
        units[spec.code] = create_org_unit(
            code=spec.code, name=spec.name, name_en=spec.name_en, level=spec.level, parent=parent
        )
        created += 1
    return units, created


# --- Accounts ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    badge_number: str
    role: str
    unit: str
    is_staff: bool = False


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = tuple(DemoAccount(**account) for account in load("accounts.json"))
DEMO_OFFICERS = tuple(a.username for a in DEMO_ACCOUNTS if a.role == Role.OFFICER)

# Unit administrators read everything in the admin and maintain users, units and time limits (DESIGN §1).
ADMIN_EDITABLE: tuple[tuple[str, str], ...] = (
    ("accounts", "user"),
    ("accounts", "membership"),
    ("accounts", "orgunit"),
    ("cases", "stagelimit"),
    # The retention periods: only administrators of the whole tree change them, each change with its reason.
    ("cases", "retentionpolicy"),
    ("analysis", "officerstrength"),
    # The early warnings' settings: the admin site lets only administrators of the whole tree change them.
    ("analysis", "warningsettings"),
    # Webhook subscriptions of their units (integrations/policy.py); the deliveries and 110 imports are read-only.
    ("integrations", "webhooksubscription"),
)
# They revoke memberships as well as grant them (both audited service calls, within their subtree).
ADMIN_REVOCABLE: tuple[tuple[str, str], ...] = (("accounts", "membership"),)


def ensure_admin_group() -> Group:
    group, _created = Group.objects.get_or_create(name=ADMIN_GROUP)
    editable = Q(pk__in=[])
    for app_label, model in ADMIN_EDITABLE:
        editable |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"add_{model}", f"change_{model}"],
        )
    for app_label, model in ADMIN_REVOCABLE:
        editable |= Q(content_type__app_label=app_label, content_type__model=model, codename=f"delete_{model}")
    viewable = Q(
        content_type__app_label__in=["accounts", "cases", "analysis", "integrations"], codename__startswith="view_"
    )
    # add() rather than set(): permissions an administrator granted the group later survive a re-run.
    group.permissions.add(*Permission.objects.filter(viewable | editable))
    return group


@transaction.atomic
def ensure_demo_accounts(units: dict[str, OrgUnit]) -> tuple[dict[str, User], int]:
    """Create missing demo accounts and their memberships. Existing accounts keep their passwords."""
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])}
    group = ensure_admin_group()
    created = 0
    for account in DEMO_ACCOUNTS:
        user = users.get(account.username)
        if user is None:
            user = create_user(
                username=account.username,
                password=DEMO_PASSWORD,
                full_name=account.full_name,
                badge_number=account.badge_number,
                validate=False,
            )
            created += 1
        changed = []
        if not user.is_active:
            user.is_active = True
            changed.append("is_active")
        if account.is_staff and not user.is_staff:
            user.is_staff = True
            changed.append("is_staff")
        if changed:
            user.save(update_fields=changed)
        grant_membership(user=user, unit=units[account.unit], role=account.role)
        if account.role == Role.ADMIN:
            user.groups.add(group)
        users[account.username] = user
    return users, created
