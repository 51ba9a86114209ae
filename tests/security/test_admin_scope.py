"""The admin site as a provincial administrator: everything it shows and changes lies in the province.

Zhejiang's ``admin`` (role ``admin`` at 330000, staff, in the unit administrators' group as ``seed_demo`` makes it,
not a superuser) drives the real admin site through the test client and tries each escalation once reported:

(a) a membership making itself an administrator of the ministry, then reading a Hubei case over the API;
(b) ticking "superuser" (and "staff", groups, permissions) on its own account or on another's;
(c) setting the password of a Hubei officer, then logging in as them;
(d) listing every user of the country, and changing another province's unit.

Each is refused and leaves every account, membership, unit and password hash as it was. A legitimate grant inside
the province works and writes exactly one audit record; the audit table refuses UPDATE and DELETE on PostgreSQL.
"""

from typing import Any

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import scope, services, tokens
from accounts.models import AccountAudit, AccountChange, Membership, OrgUnit, Role, User
from analysis.models import OfficerStrength
from cases import services as case_services
from cases.choices import CaseStatus
from cases.models import Case, StageLimit
from demo.organisation import ensure_admin_group
from tests.api.conftest import token_client
from tests.factories import PASSWORD, World, case_in, complete_details, member
from tests.test_site import SUPERUSER_ONLY

NEW_PASSWORD = "a-new-and-long-passphrase-9"


@pytest.fixture
def province_admin(world: World) -> User:
    user = world.admin
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    return user


@pytest.fixture
def browser(province_admin: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(province_admin)
    return client


def standing() -> tuple:
    """Every account's standing and every unit, as stored."""
    return (
        tuple(
            User.objects.order_by("pk").values_list(
                "pk", "username", "is_active", "is_staff", "is_superuser", "password", "full_name"
            )
        ),
        tuple(User.groups.through.objects.order_by("pk").values_list("user_id", "group_id")),
        tuple(User.user_permissions.through.objects.order_by("pk").values_list("user_id", "permission_id")),
        tuple(Membership.objects.order_by("pk").values_list("pk", "user_id", "unit_id", "role")),
        tuple(OrgUnit.objects.order_by("pk").values_list("pk", "code", "name", "name_en", "parent_id", "path")),
        AccountAudit.objects.count(),
    )


def hubei_case(world: World):
    draft = case_services.create_draft_case(
        by=world.sibling_officer, unit=world.sibling_station, details=complete_details()
    )
    case = case_services.submit_case(case=draft, by=world.sibling_officer, expected_version=draft.version)
    assert case.status == CaseStatus.INTAKE
    return case


def user_form(user: User, **changes: Any) -> dict[str, Any]:
    """What the admin's change form of ``user`` submits untouched (every field the stock form has), plus changes."""
    joined = timezone.localtime(user.date_joined)
    memberships = list(user.memberships.order_by("pk"))
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "full_name": user.full_name,
        "badge_number": user.badge_number,
        "phone": user.phone,
        "date_joined_0": joined.strftime("%Y-%m-%d"),
        "date_joined_1": joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    if user.is_active:
        data["is_active"] = "on"
    for i, membership in enumerate(memberships):
        data.update(
            {
                f"memberships-{i}-id": membership.pk,
                f"memberships-{i}-user": user.pk,
                f"memberships-{i}-unit": membership.unit_id,
                f"memberships-{i}-role": membership.role,
            }
        )
    data.update(changes)
    return data


def form_errors(response) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def is_not_found_redirect(response) -> bool:
    """The admin site's answer for an object that does not exist for the caller: back to the index."""
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


# --- (a) a membership at the ministry ---------------------------------------------------------------------------


def test_a_no_membership_at_the_ministry_and_the_other_provinces_case_stays_invisible(world, browser, province_admin):
    case = hubei_case(world)
    api = token_client(province_admin)
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    before = standing()
    add = reverse("admin:accounts_membership_add")

    # For itself: neither the account (its own) nor the unit (above its province) is a choice.
    response = browser.post(add, {"user": province_admin.pk, "unit": world.ministry.pk, "role": Role.ADMIN})
    assert response.status_code == 200
    assert set(form_errors(response)) == {"user", "unit"}
    # For an officer of its own province: the ministry is still no choice.
    response = browser.post(add, {"user": world.officer.pk, "unit": world.ministry.pk, "role": Role.ADMIN})
    assert (response.status_code, set(form_errors(response))) == (200, {"unit"})
    # Through its own account's page (the membership inline): that page does not exist for it.
    own = reverse("admin:accounts_user_change", args=[province_admin.pk])
    data = user_form(
        province_admin,
        **{
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-user": province_admin.pk,
            "memberships-1-unit": world.ministry.pk,
            "memberships-1-role": Role.ADMIN,
        },
    )
    assert is_not_found_redirect(browser.post(own, data))

    assert standing() == before
    assert list(Membership.objects.filter(user=province_admin).values_list("unit__code", "role")) == [
        ("330000", Role.ADMIN)
    ]
    assert api.get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_a_the_services_refuse_the_grant_too(world, province_admin):
    before = standing()
    with pytest.raises(PermissionDenied):
        services.grant_membership(user=province_admin, unit=world.ministry, role=Role.ADMIN, by=province_admin)
    with pytest.raises(PermissionDenied):
        services.grant_membership(user=world.officer, unit=world.ministry, role=Role.OFFICER, by=province_admin)
    with pytest.raises(PermissionDenied):
        services.grant_membership(user=world.sibling_officer, unit=world.station, role=Role.OFFICER, by=province_admin)
    with pytest.raises(PermissionDenied):
        services.set_password(user=world.sibling_officer, password=NEW_PASSWORD, by=province_admin)
    with pytest.raises(PermissionDenied):
        services.deactivate_user(user=world.sibling_officer, by=province_admin)
    with pytest.raises(PermissionDenied):
        services.set_privileges(
            user=province_admin, is_staff=True, is_superuser=True, groups=[], permissions=[], by=province_admin
        )
    assert standing() == before


# --- (b) superuser, staff, groups, permissions --------------------------------------------------------------------


def test_b_no_superuser_status_for_itself(browser, province_admin):
    before = standing()
    own = reverse("admin:accounts_user_change", args=[province_admin.pk])
    assert is_not_found_redirect(browser.get(own))
    response = browser.post(own, user_form(province_admin, is_superuser="on", is_staff="on"))
    assert is_not_found_redirect(response)
    assert standing() == before
    province_admin.refresh_from_db()
    assert (province_admin.is_superuser, province_admin.is_staff) == (False, True)


def test_b_privileges_of_an_account_it_administers_are_read_only(world, browser):
    officer = world.officer
    permission = Permission.objects.get(codename="change_case")
    page = reverse("admin:accounts_user_change", args=[officer.pk])
    form = browser.get(page).context["adminform"].form
    assert not {"is_staff", "is_superuser", "groups", "user_permissions"} & set(form.fields)
    audits = AccountAudit.objects.count()

    response = browser.post(
        page,
        user_form(
            officer,
            full_name="王磊",
            is_superuser="on",
            is_staff="on",
            groups=[ensure_admin_group().pk],
            user_permissions=[permission.pk],
        ),
    )

    assert (response.status_code, response["Location"]) == (302, reverse("admin:accounts_user_changelist"))
    officer.refresh_from_db()
    assert officer.full_name == "王磊"  # the details were saved
    assert (officer.is_superuser, officer.is_staff) == (False, False)
    assert list(officer.groups.all()) == []
    assert list(officer.user_permissions.all()) == []
    assert AccountAudit.objects.count() == audits


# --- (c) another province's officer's password -------------------------------------------------------------------


def test_c_no_password_for_an_officer_of_another_province(world, browser):
    target = world.sibling_officer
    before = standing()
    page = reverse("admin:auth_user_password_change", args=[target.pk])
    assert page == f"/admin/accounts/user/{target.pk}/password/"

    assert browser.get(page).status_code == 404
    response = browser.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 404
    response = browser.post(page, {"usable_password": "false", "unset-password": "1"})
    assert response.status_code == 404

    assert standing() == before
    assert not Client().login(username=target.username, password=NEW_PASSWORD)
    assert Client().login(username=target.username, password=PASSWORD)


def test_c_nor_for_itself_or_a_superuser_through_the_admin(world, browser, province_admin):
    superuser = User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)
    before = standing()
    for account in (province_admin, superuser):
        page = reverse("admin:auth_user_password_change", args=[account.pk])
        response = browser.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
        assert response.status_code == 404
    assert standing() == before


def test_c_a_password_in_its_province_is_set_and_audited(world, browser, province_admin):
    target = world.officer
    page = reverse("admin:auth_user_password_change", args=[target.pk])

    response = browser.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})

    assert (response.status_code, response["Location"]) == (
        302,
        reverse("admin:accounts_user_change", args=[target.pk]),
    )
    target.refresh_from_db()
    assert target.check_password(NEW_PASSWORD)
    audit = AccountAudit.objects.get(subject=target, action=AccountChange.PASSWORD_SET)
    assert (audit.actor, audit.before, audit.after) == (province_admin, {"password": "usable"}, {"password": "usable"})
    assert NEW_PASSWORD not in str(audit.before) + str(audit.after)
    assert target.password not in str(audit.before) + str(audit.after)


# --- (d) the country's users, another province's unit --------------------------------------------------------------


def test_d_the_user_list_is_the_province_without_itself(world, browser):
    member(world.sibling_station, Role.SUPERVISOR, username="hubei_two")
    both = member(world.station, Role.OFFICER, username="two_provinces")
    services.grant_membership(user=both, unit=world.sibling_station, role=Role.OFFICER)
    User.objects.create_user("root", is_superuser=True, is_staff=True)
    User.objects.create_user("nobody")

    listed = browser.get(reverse("admin:accounts_user_changelist")).context["cl"].result_list
    assert sorted(u.username for u in listed) == ["county_supervisor", "officer", "other_officer", "supervisor"]

    # The account field's search (autocomplete) of the membership form offers the same accounts.
    found = browser.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "membership", "field_name": "user", "term": ""},
    ).json()["results"]
    assert sorted(r["text"] for r in found) == sorted(str(u) for u in listed)
    # An account that also holds a role in Hubei is out of reach: whoever set its password would hold that role.
    assert is_not_found_redirect(browser.get(reverse("admin:accounts_user_change", args=[both.pk])))
    assert is_not_found_redirect(browser.get(reverse("admin:accounts_user_change", args=[world.sibling_officer.pk])))


def test_d_no_change_to_another_provinces_unit(world, browser):
    before = standing()
    hubei = world.sibling_province
    page = reverse("admin:accounts_orgunit_change", args=[hubei.pk])

    assert is_not_found_redirect(browser.get(page))
    assert is_not_found_redirect(browser.post(page, {"name": "浙江省公安厅二处", "name_en": "Taken over"}))
    # Nor a new unit under it, nor a new root.
    add = reverse("admin:accounts_orgunit_add")
    for parent in (hubei.pk, ""):
        response = browser.post(add, {"code": "420999", "name": "新单位", "level": "city", "parent": parent})
        assert (response.status_code, set(form_errors(response))) == (200, {"parent"})

    assert standing() == before
    listed = browser.get(reverse("admin:accounts_orgunit_changelist")).context["cl"].result_list
    assert [u.code for u in listed] == ["330000", "330100", "330106", "330106001", "330106002"]


def test_d_units_of_its_province_are_renamed_and_added(world, browser):
    page = reverse("admin:accounts_orgunit_change", args=[world.station.pk])
    response = browser.post(page, {"name": "北山街派出所", "name_en": "Beishan Street"})
    assert response.status_code == 302
    world.station.refresh_from_db()
    assert (world.station.name, world.station.name_en, world.station.code) == (
        "北山街派出所",
        "Beishan Street",
        "330106001",
    )

    response = browser.post(
        reverse("admin:accounts_orgunit_add"),
        {"code": "330106003", "name": "文新派出所", "name_en": "", "level": "station", "parent": world.county.pk},
    )
    assert response.status_code == 302
    assert OrgUnit.objects.get(code="330106003").path == "/000000/330000/330100/330106/330106003/"


# --- legitimate administration, audited ---------------------------------------------------------------------------


def test_a_grant_in_its_province_works_and_writes_one_audit_record(world, browser, province_admin):
    audits = AccountAudit.objects.count()
    response = browser.post(
        reverse("admin:accounts_membership_add"),
        {"user": world.officer.pk, "unit": world.county.pk, "role": Role.SUPERVISOR},
    )
    assert (response.status_code, response["Location"]) == (302, reverse("admin:accounts_membership_changelist"))
    assert list(Membership.objects.filter(user=world.officer).order_by("unit__path").values_list("unit", "role")) == [
        (world.county.pk, Role.SUPERVISOR),
        (world.station.pk, Role.OFFICER),
    ]
    assert AccountAudit.objects.count() == audits + 1
    audit = AccountAudit.objects.latest("pk")
    assert (audit.actor, audit.subject, audit.action, audit.unit, audit.role) == (
        province_admin,
        world.officer,
        AccountChange.MEMBERSHIP_GRANTED,
        world.county,
        Role.SUPERVISOR,
    )
    assert audit.before == {"memberships": ["330106001:officer"]}
    assert audit.after == {"memberships": ["330106:supervisor", "330106001:officer"]}


def test_a_revocation_and_a_deactivation_are_audited(world, browser, province_admin):
    membership = Membership.objects.get(user=world.county_supervisor)
    response = browser.post(reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:accounts_membership_changelist"))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    revoked = AccountAudit.objects.get(action=AccountChange.MEMBERSHIP_REVOKED)
    assert (revoked.actor, revoked.subject, revoked.unit, revoked.role) == (
        province_admin,
        world.county_supervisor,
        world.county,
        Role.SUPERVISOR,
    )
    assert (revoked.before, revoked.after) == ({"memberships": ["330106:supervisor"]}, {"memberships": []})

    officer = world.other_officer
    page = reverse("admin:accounts_user_change", args=[officer.pk])
    data = user_form(officer)
    del data["is_active"]
    assert browser.post(page, data).status_code == 302
    officer.refresh_from_db()
    assert officer.is_active is False
    deactivated = AccountAudit.objects.get(action=AccountChange.DEACTIVATED)
    assert (deactivated.actor, deactivated.subject, deactivated.before, deactivated.after) == (
        province_admin,
        officer,
        {"is_active": True},
        {"is_active": False},
    )


def test_another_provinces_membership_cannot_be_revoked(world, browser):
    before = standing()
    membership = Membership.objects.get(user=world.sibling_supervisor)
    page = reverse("admin:accounts_membership_delete", args=[membership.pk])
    assert is_not_found_redirect(browser.post(page, {"post": "yes"}))
    assert standing() == before


def test_a_new_account_comes_with_a_role_it_may_grant(world, browser, province_admin):
    add = reverse("admin:accounts_user_add")
    account = {
        "username": "new_officer",
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    before = standing()
    for unit in (None, world.ministry, world.sibling_station):
        data = {**account, "role": Role.OFFICER} | ({"unit": unit.pk} if unit else {})
        response = browser.post(add, data)
        assert (response.status_code, set(form_errors(response))) == (200, {"unit"})
    assert standing() == before

    response = browser.post(add, {**account, "unit": world.station.pk, "role": Role.OFFICER})
    assert response.status_code == 302
    created = User.objects.get(username="new_officer")
    assert (created.is_staff, created.is_superuser, created.check_password(NEW_PASSWORD)) == (False, False, True)
    assert list(created.memberships.values_list("unit", "role")) == [(world.station.pk, Role.OFFICER)]
    assert list(AccountAudit.objects.filter(subject=created).order_by("pk").values_list("actor", "action")) == [
        (province_admin.pk, AccountChange.CREATED),
        (province_admin.pk, AccountChange.MEMBERSHIP_GRANTED),
    ]


# --- the audit table --------------------------------------------------------------------------------------------


def test_the_audit_is_read_only_in_the_admin(world, browser):
    services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR, by=world.admin)
    audit = AccountAudit.objects.latest("pk")
    assert browser.get(reverse("admin:accounts_accountaudit_changelist")).status_code == 200
    before = standing()
    assert (
        browser.post(reverse("admin:accounts_accountaudit_change", args=[audit.pk]), {"role": "admin"}).status_code
        == 403
    )
    assert (
        browser.post(reverse("admin:accounts_accountaudit_delete", args=[audit.pk]), {"post": "yes"}).status_code == 403
    )
    assert browser.get(reverse("admin:accounts_accountaudit_add")).status_code == 403
    assert standing() == before


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_the_account_audit(postgres_only, world):
    services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR, by=world.admin)
    rows = list(AccountAudit.objects.order_by("pk").values_list("pk", "action", "before", "after"))
    for attempt in (
        lambda: AccountAudit.objects.update(after={"forged": True}),
        lambda: AccountAudit.objects.filter(actor=world.admin).delete(),
        lambda: AccountAudit.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    with connection.cursor() as cursor, pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        cursor.execute("DELETE FROM accounts_accountaudit")
    assert list(AccountAudit.objects.order_by("pk").values_list("pk", "action", "before", "after")) == rows


# --- the other admin pages ----------------------------------------------------------------------------------------


def test_the_time_limits_are_for_administrators_of_the_whole_tree(world, browser):
    limit = StageLimit.objects.order_by("pk").first()
    assert limit is not None
    page = reverse("admin:cases_stagelimit_change", args=[limit.pk])
    assert browser.post(page, {"days": 1, "halved_in_major_period": "on"}).status_code == 403
    assert StageLimit.objects.get(pk=limit.pk).days == limit.days

    national = member(world.ministry, Role.ADMIN, is_staff=True)
    national.groups.add(ensure_admin_group())
    assert scope.may_change_shared_settings(national)
    assert not scope.may_change_shared_settings(world.admin)


def records_of(officer: User, units: list[OrgUnit], case: Case) -> set[tuple[str, int]]:
    """A record of every kind the admin site lists that belongs to the officer's province, as (label, pk)."""
    token, _key = tokens.issue_token(user=officer, name="patrol tablet", mfa_verified=False)
    strength = OfficerStrength.objects.create(
        unit=units[-1], year=2025, regular=40, auxiliary=12, recorded_at=timezone.now()
    )
    seen = {"user_agent": "test", "ip_address": "10.0.0.9", "username": officer.username, "http_accept": "*/*"}
    login = "/accounts/login/"
    made = [
        officer,
        *units,
        Membership.objects.get(user=officer),
        AccountAudit.objects.filter(subject=officer).first(),
        token,
        TOTPDevice.objects.create(user=officer, name="authenticator", confirmed=True),
        StaticDevice.objects.create(user=officer, name="recovery", confirmed=True),
        AccessAttempt.objects.create(**seen, path_info=login, get_data="", post_data="", failures_since_start=3),
        AxesAccessLog.objects.create(**seen, path_info=login),
        AccessFailureLog.objects.create(**seen, path_info=login, locked_out=False),
        case,
        *case.events.all(),
        *case.officers.all(),
        strength,
    ]
    return {(obj._meta.label, obj.pk) for obj in made}


def test_no_admin_list_shows_another_provinces_records(world, browser, province_admin):
    """Every registered admin, with every view permission: the province's records are listed, Hubei's never."""
    province_admin.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    zhejiang = records_of(world.officer, [world.province, world.station], case_in(world, CaseStatus.INTAKE))
    hubei = records_of(world.sibling_officer, [world.sibling_province, world.sibling_station], hubei_case(world))

    listed: set[tuple[str, int]] = set()
    for model in admin.site._registry:
        response = browser.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        if model._meta.label in SUPERUSER_ONLY:  # a row there grants roles: not a province administrator's page
            assert response.status_code == 403, model._meta.label
            continue
        assert response.status_code == 200, model._meta.label
        listed |= {(model._meta.label, obj.pk) for obj in response.context["cl"].result_list}

    assert sorted(hubei & listed) == []
    assert sorted(zhejiang - listed) == []


def test_third_party_account_records_are_the_superusers_to_change(world, browser, province_admin):
    province_admin.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["otp_totp", "otp_static", "axes", "auth"])
    )
    device = TOTPDevice.objects.create(user=world.officer, name="authenticator", confirmed=True)
    group = ensure_admin_group()
    group_permissions = set(group.permissions.values_list("pk", flat=True))
    before = (standing(), list(TOTPDevice.objects.values_list("pk", "name", "confirmed")))

    assert browser.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk])).status_code == 200
    assert browser.post(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]), {"name": "x"}).status_code == 403
    assert (
        browser.post(reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}).status_code == 403
    )
    # Its secret is shown to nobody (OTP_ADMIN_HIDE_SENSITIVE_DATA).
    assert browser.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk])).status_code == 403
    # Groups carry permissions: seen, never changed, by anyone but a superuser.
    response = browser.post(
        reverse("admin:auth_group_change", args=[group.pk]), {"name": group.name, "permissions": []}
    )
    assert response.status_code == 403
    assert browser.get(reverse("admin:auth_group_add")).status_code == 403

    assert before == (standing(), list(TOTPDevice.objects.values_list("pk", "name", "confirmed")))
    assert set(group.permissions.values_list("pk", flat=True)) == group_permissions != set()


# --- what a change list may be filtered by --------------------------------------------------------------------------

# Fields no admin page shows (or shows only masked): a query-string filter on them would answer guesses by its count.
HIDDEN_LOOKUPS = [
    ("cases", "involvedofficer", "medical_notes__contains", "骨折"),
    ("cases", "involvedofficer", "medical_notes__isnull", "False"),
    ("cases", "suspect", "id_number__startswith", "3301"),
    ("cases", "attachment", "stored_name__startswith", "a"),
    ("accounts", "user", "password__startswith", "pbkdf2_sha256$"),
    ("accounts", "apitoken", "key_hash__startswith", "a"),
    ("accounts", "apitoken", "password_fingerprint__startswith", "a"),
    ("otp_totp", "totpdevice", "key__startswith", "a"),
]
HIDDEN_FIELDS = {"medical_notes", "id_number", "stored_name", "password", "key_hash", "password_fingerprint", "key"}


@pytest.fixture
def superuser_browser(db) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True))
    return client


def changelist(app: str, model: str) -> str:
    return reverse(f"admin:{app}_{model}_changelist")


@pytest.mark.parametrize(("app", "model", "lookup", "value"), HIDDEN_LOOKUPS)
def test_no_change_list_accepts_a_filter_on_a_field_it_hides(
    world, browser, province_admin, superuser_browser, app, model, lookup, value
):
    province_admin.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    for client in (browser, superuser_browser):
        assert client.get(changelist(app, model)).status_code == 200
        response = client.get(changelist(app, model), {lookup: value})
        assert response.status_code == 400, (app, model, lookup)


def test_a_declared_filter_does_not_open_the_fields_behind_it(world, superuser_browser):
    url = changelist("accounts", "membership")
    # Zhejiang's administrator and Hubei's supervisor hold their roles at a province.
    assert superuser_browser.get(url, {"unit__level__exact": "province"}).context["cl"].result_count == 2
    assert superuser_browser.get(url, {"unit__name__contains": "浙江"}).status_code == 400
    assert (
        superuser_browser.get(changelist("accounts", "user"), {"memberships__unit__code": "330000"}).status_code == 400
    )


def test_every_declared_filter_and_date_drill_down_still_works(world, superuser_browser):
    """Each choice every list filter offers, and each date hierarchy's drill-down, is accepted (200, not refused)."""
    records_of(world.officer, [world.province, world.station], case_in(world, CaseStatus.INTAKE))
    tried = 0
    for model, model_admin in admin.site._registry.items():
        url = changelist(model._meta.app_label, model._meta.model_name)
        cl = superuser_browser.get(url).context["cl"]
        queries = [choice["query_string"] for spec in cl.filter_specs for choice in spec.choices(cl)]
        if model_admin.date_hierarchy:
            field = model_admin.date_hierarchy
            queries.append(f"?{field}__year=2025&{field}__month=3&{field}__day=1")
        for query in queries:
            response = superuser_browser.get(url + query)
            assert (response.status_code, "cl" in response.context) == (200, True), (model._meta.label, query)
            tried += 1
    assert tried > 60


def test_no_admin_searches_a_field_it_hides(db):
    for model, model_admin in admin.site._registry.items():
        hidden = HIDDEN_FIELDS | set(model_admin.exclude or ())
        for field in model_admin.get_search_fields(None):
            parts = field.lstrip("^=@").split("__")
            assert not hidden & set(parts), (model._meta.label, field)


# --- (e) administrators of the same rank ----------------------------------------------------------------------------


@pytest.fixture
def fellow_admin(world: World) -> User:
    """A second administrator of Zhejiang, staff like the first, with an authenticator and an API token."""
    fellow = member(world.province, Role.ADMIN, username="new_province_admin", is_staff=True)
    fellow.groups.add(ensure_admin_group())
    TOTPDevice.objects.create(user=fellow, name="authenticator", confirmed=True)
    tokens.issue_token(user=fellow, name="laptop", mfa_verified=True)
    return fellow


def test_e_an_administrator_never_administers_a_fellow_administrator_of_its_unit(
    world, browser, province_admin, fellow_admin
):
    """Neither its password, nor its second factor, nor its role, nor its details: each refused, nothing changed."""
    before = (standing(), list(TOTPDevice.objects.values_list("pk", flat=True)), tokens.tokens_of(fellow_admin).count())
    membership = Membership.objects.get(user=fellow_admin)

    listed = browser.get(reverse("admin:accounts_user_changelist")).context["cl"].result_list
    assert fellow_admin not in listed
    assert is_not_found_redirect(browser.get(reverse("admin:accounts_user_change", args=[fellow_admin.pk])))
    assert is_not_found_redirect(
        browser.post(
            reverse("admin:accounts_user_change", args=[fellow_admin.pk]),
            user_form(fellow_admin, email="x@evil.example"),
        )
    )
    page = reverse("admin:auth_user_password_change", args=[fellow_admin.pk])
    response = browser.post(page, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert response.status_code == 404
    browser.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [fellow_admin.pk]},
    )
    assert is_not_found_redirect(
        browser.post(reverse("admin:accounts_membership_delete", args=[membership.pk]), {"post": "yes"})
    )

    assert before == (
        standing(),
        list(TOTPDevice.objects.values_list("pk", flat=True)),
        tokens.tokens_of(fellow_admin).count(),
    )
    assert Client().login(username=fellow_admin.username, password=PASSWORD)
    # The services refuse it too, whoever calls them.
    for attempt in (
        lambda: services.set_password(user=fellow_admin, password=NEW_PASSWORD, by=province_admin),
        lambda: services.revoke_membership(membership=membership, by=province_admin),
        lambda: services.deactivate_user(user=fellow_admin, by=province_admin),
        lambda: services.update_user_details(user=fellow_admin, changes={"email": "x@evil.example"}, by=province_admin),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    assert before[0] == standing()


def test_e_an_administrator_at_a_higher_unit_is_out_of_reach_too(world, province_admin):
    national = member(world.ministry, Role.ADMIN, username="national_admin")
    assert not scope.may_administer_user(province_admin, national)


def test_e_lower_roles_at_its_unit_and_administrators_of_lower_units_are_administered(world, province_admin):
    provincial_supervisor = member(world.province, Role.SUPERVISOR, username="provincial_supervisor")
    city_admin = member(world.city, Role.ADMIN, username="city_admin")
    administered = set(scope.administered_users(province_admin).values_list("username", flat=True))
    assert {"provincial_supervisor", "city_admin", "officer", "supervisor"} <= administered
    assert "admin" not in administered
    # The city's administrator does not administer the province's supervisor (a unit above), nor itself.
    assert not scope.may_administer_user(city_admin, provincial_supervisor)
    assert not scope.may_administer_user(city_admin, city_admin)
    assert scope.may_administer_user(city_admin, world.officer)


def test_e_an_administrator_makes_no_new_peers(world, browser, province_admin):
    """Administrator at its own unit is not granted (the account would leave its reach); below its unit it is."""
    supervisor = member(world.province, Role.SUPERVISOR, username="provincial_supervisor")
    before = standing()
    with pytest.raises(PermissionDenied):
        services.grant_membership(user=supervisor, unit=world.province, role=Role.ADMIN, by=province_admin)
    response = browser.post(
        reverse("admin:accounts_membership_add"), {"user": supervisor.pk, "unit": world.province.pk, "role": Role.ADMIN}
    )
    assert response.status_code == 200
    assert standing() == before
    assert scope.grantable_roles(province_admin, world.province) == [Role.INTEGRATION, Role.OFFICER, Role.SUPERVISOR]
    assert scope.grantable_roles(province_admin, world.city) == [
        Role.INTEGRATION,
        Role.OFFICER,
        Role.SUPERVISOR,
        Role.ADMIN,
    ]
    services.grant_membership(user=world.supervisor, unit=world.city, role=Role.ADMIN, by=province_admin)
    assert scope.may_administer_user(province_admin, world.supervisor)


# --- (f) e-mail addresses, where second-factor notices go ---------------------------------------------------------


def test_f_an_email_change_through_the_admin_is_audited(world, browser, province_admin):
    officer = world.officer
    page = reverse("admin:accounts_user_change", args=[officer.pk])
    old = officer.email
    response = browser.post(page, user_form(officer, email="wang.lei@police.example"))
    assert (response.status_code, response["Location"]) == (302, reverse("admin:accounts_user_changelist"))
    officer.refresh_from_db()
    assert officer.email == "wang.lei@police.example"
    audit = AccountAudit.objects.get(subject=officer, action=AccountChange.EMAIL_CHANGED)
    assert (audit.actor, audit.before, audit.after) == (
        province_admin,
        {"email": old},
        {"email": "wang.lei@police.example"},
    )

    # Other details are saved without an audit record; an unchanged address writes none.
    audits = AccountAudit.objects.count()
    assert browser.post(page, user_form(officer, full_name="王磊")).status_code == 302
    officer.refresh_from_db()
    assert (officer.full_name, officer.email) == ("王磊", "wang.lei@police.example")
    assert AccountAudit.objects.count() == audits


def test_f_the_details_service_changes_details_only(world, province_admin):
    before = standing()
    with pytest.raises(ValueError, match="is_superuser"):
        services.update_user_details(user=world.officer, changes={"is_superuser": True}, by=province_admin)
    assert standing() == before
