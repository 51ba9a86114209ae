"""API tokens (accounts/tokens.py): one per device, hashed at rest, idle and absolute expiry, revoked with the
account's standing (password, second factor, activity, roles), the second factor enforced on tokens issued without
it, and listed and revoked by their user alone; administrators see the tokens of their subtree only.

Only the clock is mocked (``django.utils.timezone.now``); everything else runs as in production.
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken, Membership, Role, User
from tests.factories import PASSWORD, member

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
ME = "/api/v1/me/"
LIST = "/api/v1/auth/tokens/"
NEW_PASSWORD = "another-long-passphrase-42"
INVALID = {"code": "authentication_failed", "detail": "Invalid token."}


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.RIGHTSGUARD_TOKEN_IDLE_DAYS = 7
    settings.RIGHTSGUARD_TOKEN_MAX_DAYS = 30


@contextmanager
def clock(at: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def issue(user: User, name: str = "patrol phone", *, at: datetime | None = None, mfa_verified: bool = False):
    with clock(at) if at else _now():
        return tokens.issue_token(user=user, name=name, mfa_verified=mfa_verified)


@contextmanager
def _now() -> Iterator[None]:
    yield


def terminal(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def get(key: str, path: str = ME, *, at: datetime | None = None) -> Any:
    with clock(at) if at else _now():
        return terminal(key).get(path)


def rows() -> list[tuple]:
    return list(
        ApiToken.objects.order_by("pk").values_list(
            "pk", "user_id", "name", "key_hash", "mfa_verified", "password_fingerprint", "created_at", "last_used_at"
        )
    )


def refused(response: Any, body: dict[str, str] = INVALID) -> bool:
    return response.status_code == 401 and response.json() == body


# --- the key ---------------------------------------------------------------------------------------------------


def test_the_key_is_shown_once_and_only_its_sha256_is_stored(world):
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "officer", "password": PASSWORD, "name": "patrol phone"}, format="json"
    )
    key = response.json()["token"]
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert len(key) == 43  # 32 random bytes, URL-safe base64
    assert all(key not in str(value) for value in rows()[0])
    # Listed without it, by anyone, ever again.
    listed = get(key, LIST).json()
    assert [set(item) for item in listed] == [
        {"id", "name", "created_at", "last_used_at", "expires_at", "mfa_verified", "current"}
    ]
    assert key not in str(listed)
    # The hash itself is not a key.
    assert refused(get(token.key_hash))


# --- expiry ----------------------------------------------------------------------------------------------------


def test_a_token_unused_for_the_idle_limit_stops_working(world):
    token, key = issue(world.officer, at=T0)
    used = T0 + timedelta(days=6)
    assert get(key, at=used).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == used
    # The idle limit runs from the last use: a second before it ends the token still works.
    again = used + timedelta(days=7) - timedelta(seconds=1)
    assert get(key, at=again).status_code == 200
    assert refused(get(key, at=again + timedelta(days=7)))
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_token_ends_at_its_lifetime_however_much_it_is_used(world):
    token, key = issue(world.officer, at=T0)
    for day in (5, 10, 15, 20, 25):
        assert get(key, at=T0 + timedelta(days=day)).status_code == 200
    last_second = T0 + timedelta(days=30) - timedelta(seconds=1)
    assert get(key, at=last_second).status_code == 200
    assert refused(get(key, at=T0 + timedelta(days=30)))
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_the_limits_follow_the_settings(world, settings):
    settings.RIGHTSGUARD_TOKEN_IDLE_DAYS = 1
    settings.RIGHTSGUARD_TOKEN_MAX_DAYS = 2
    _token, key = issue(world.officer, at=T0)
    assert refused(get(key, at=T0 + timedelta(days=1)))
    _token, key = issue(world.officer, at=T0)
    assert get(key, at=T0 + timedelta(hours=23)).status_code == 200
    assert get(key, at=T0 + timedelta(hours=46)).status_code == 200
    assert refused(get(key, at=T0 + timedelta(days=2)))


def test_the_last_use_is_written_at_most_once_a_minute(world):
    token, key = issue(world.officer, at=T0)
    with CaptureQueriesContext(connection) as queries:
        assert get(key, at=T0 + timedelta(seconds=59)).status_code == 200
    assert [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "accounts_apitoken" in q["sql"]] == []
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0
    assert get(key, at=T0 + timedelta(seconds=60)).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0 + timedelta(seconds=60)
    assert get(key, at=T0 + timedelta(seconds=100)).status_code == 200
    assert ApiToken.objects.get(pk=token.pk).last_used_at == T0 + timedelta(seconds=60)


def test_the_defaults_end_a_token_within_thirty_days():
    from rightsguard import settings as defaults

    assert (defaults.RIGHTSGUARD_TOKEN_IDLE_DAYS, defaults.RIGHTSGUARD_TOKEN_MAX_DAYS) == (7, 30)


# --- revoked with the account's standing ----------------------------------------------------------------------


def test_changing_ones_password_ends_every_token(world):
    _phone, phone = issue(world.officer)
    _tablet, tablet = issue(world.officer, "tablet")
    _other, other = issue(world.other_officer)
    browser = Client()
    browser.force_login(world.officer)
    response = browser.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert (response.status_code, response["Location"]) == (302, "/accounts/password_change/done/")
    assert refused(get(phone))
    assert refused(get(tablet))
    assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["other_officer"]
    assert get(other).status_code == 200
    # A token obtained with the new password works.
    world.officer.refresh_from_db()
    assert get(issue(world.officer)[1]).status_code == 200


def test_an_administrators_password_reset_ends_every_token(world):
    _token, key = issue(world.officer)
    admin = Client()
    admin.force_login(member(world.ministry, Role.ADMIN, is_staff=True, is_superuser=True))
    response = admin.post(
        f"/admin/accounts/user/{world.officer.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert refused(get(key))
    assert not ApiToken.objects.filter(user=world.officer).exists()


def test_a_password_set_anywhere_else_ends_every_token_too(world):
    _token, key = issue(world.officer)
    world.officer.set_password(PASSWORD)  # even the same password: a new salt, a new hash
    world.officer.save(update_fields=["password"])
    assert refused(get(key))


def test_resetting_two_factor_log_in_revokes_the_tokens(world):
    _token, key = issue(world.supervisor, mfa_verified=True)
    _other, other = issue(world.county_supervisor, mfa_verified=True)
    admin = Client()
    admin.force_login(member(world.ministry, Role.ADMIN, is_staff=True, is_superuser=True))
    response = admin.post(
        "/admin/accounts/user/", {"action": "reset_two_factor", "_selected_action": [world.supervisor.pk]}
    )
    assert response.status_code == 302
    assert refused(get(key))
    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [world.county_supervisor.pk]
    assert get(other).status_code == 200


def test_deactivation_revokes_the_tokens_for_good(world):
    _token, key = issue(world.officer)
    account_services.deactivate_user(user=world.officer)
    assert refused(get(key))
    assert not ApiToken.objects.filter(user=world.officer).exists()
    User.objects.filter(pk=world.officer.pk).update(is_active=True)
    assert refused(get(key))


def admin_form_data(response: Any, **changes: Any) -> dict[str, Any]:
    """What the admin site's change form posts back untouched (the user, its inline memberships), with changes."""
    data: dict[str, Any] = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for field in form:
            if field.field.disabled:
                continue
            widget = field.field.widget
            if isinstance(widget, RelatedFieldWidgetWrapper):
                widget = widget.widget
            widget = widget.get_context(field.html_name, field.value(), {})["widget"]
            for part in widget.get("subwidgets") or [widget]:
                if part.get("type") == "checkbox":
                    if part["attrs"].get("checked"):
                        data[part["name"]] = "on"
                elif part["value"] not in (None, [], ""):
                    data[part["name"]] = part["value"]
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


@pytest.fixture
def superuser_admin(world) -> Client:
    admin = Client()
    admin.force_login(member(world.ministry, Role.ADMIN, is_staff=True, is_superuser=True))
    return admin


def test_unticking_active_in_the_admin_site_revokes_the_tokens(world, superuser_admin):
    _token, key = issue(world.officer)
    url = f"/admin/accounts/user/{world.officer.pk}/change/"
    response = superuser_admin.post(url, admin_form_data(superuser_admin.get(url), is_active=None))
    assert response.status_code == 302
    assert User.objects.get(pk=world.officer.pk).is_active is False
    assert not ApiToken.objects.filter(user=world.officer).exists()
    # Ticking it again brings nothing back.
    response = superuser_admin.post(url, admin_form_data(superuser_admin.get(url), is_active="on"))
    assert response.status_code == 302
    assert refused(get(key))


def test_saving_a_user_in_the_admin_site_without_changes_keeps_the_tokens(world, superuser_admin):
    _token, key = issue(world.officer)
    url = f"/admin/accounts/user/{world.officer.pk}/change/"
    assert superuser_admin.post(url, admin_form_data(superuser_admin.get(url))).status_code == 302
    assert get(key).status_code == 200


def test_a_role_granted_or_revoked_by_the_services_revokes_the_tokens(world):
    _token, key = issue(world.officer)
    _other, other = issue(world.other_officer)
    # Granting a role the user already holds changes nothing.
    account_services.grant_membership(user=world.officer, unit=world.station, role=Role.OFFICER)
    assert get(key).status_code == 200
    account_services.grant_membership(user=world.officer, unit=world.station, role=Role.SUPERVISOR)
    assert refused(get(key))
    _token, key = issue(world.officer)
    account_services.revoke_membership(membership=Membership.objects.get(user=world.officer, role=Role.SUPERVISOR))
    assert refused(get(key))
    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [world.other_officer.pk]
    assert get(other).status_code == 200


def test_a_role_granted_or_revoked_in_the_admin_sites_membership_pages_revokes_the_tokens(world, superuser_admin):
    _token, key = issue(world.supervisor, mfa_verified=True)
    _other, other = issue(world.officer)
    response = superuser_admin.post(
        "/admin/accounts/membership/add/", {"user": world.supervisor.pk, "unit": world.county.pk, "role": Role.ADMIN}
    )
    assert response.status_code == 302
    granted = Membership.objects.get(user=world.supervisor, unit=world.county)
    assert granted.role == Role.ADMIN
    assert refused(get(key))
    assert get(other).status_code == 200
    _token, key = issue(world.supervisor, mfa_verified=True)
    response = superuser_admin.post(f"/admin/accounts/membership/{granted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=granted.pk).exists()
    assert refused(get(key))
    assert get(other).status_code == 200


def test_a_role_revoked_in_the_user_page_of_the_admin_site_revokes_the_tokens(world, superuser_admin):
    account_services.grant_membership(user=world.officer, unit=world.other_station, role=Role.OFFICER)
    _token, key = issue(world.officer)
    url = f"/admin/accounts/user/{world.officer.pk}/change/"
    data = admin_form_data(superuser_admin.get(url), **{"memberships-1-DELETE": "on"})
    assert superuser_admin.post(url, data).status_code == 302
    assert list(Membership.objects.filter(user=world.officer).values_list("unit__code", flat=True)) == ["330106001"]
    assert refused(get(key))


# --- the second factor -----------------------------------------------------------------------------------------


def test_a_token_issued_without_the_second_factor_stops_when_it_becomes_required(world, settings):
    # Two-factor log-in is off (as in the embedded demo): the supervisor's terminal logs in with the password alone.
    response = APIClient().post("/api/v1/auth/token/", {"username": "supervisor", "password": PASSWORD}, format="json")
    assert (response.status_code, response.json()["mfa_verified"]) == (200, False)
    before_code = response.json()["token"]
    with_code = issue(world.supervisor, "issued after a code", mfa_verified=True)[1]
    officers = issue(world.officer)[1]
    assert get(before_code).status_code == 200

    settings.RIGHTSGUARD_MFA_REQUIRED = True

    assert refused(
        get(before_code),
        {
            "code": "mfa_required",
            "detail": "This token was issued without a two-factor code, which this account now needs. "
            "Obtain a new token with your code.",
        },
    )
    assert get(with_code).status_code == 200
    assert get(officers).status_code == 200  # officers are not required to use a second factor
    # Nor does a role that needs the second factor make an officer's old token enough: the grant revokes it.
    account_services.grant_membership(user=world.officer, unit=world.station, role=Role.SUPERVISOR)
    assert refused(get(officers))


# --- listed and revoked by their user ------------------------------------------------------------------------


def test_a_user_lists_their_own_working_tokens(world):
    _stale, stale_key = issue(world.officer, "old phone", at=T0)
    phone, phone_key = issue(world.officer, "patrol phone", at=T0 + timedelta(days=1))
    tablet, _tablet_key = issue(world.officer, "tablet", at=T0 + timedelta(days=1, hours=1), mfa_verified=True)
    issue(world.other_officer, "someone else's", at=T0 + timedelta(days=1, hours=2))
    assert get(_tablet_key, at=T0 + timedelta(days=6)).status_code == 200
    listed = get(phone_key, LIST, at=T0 + timedelta(days=7, hours=12))
    # The old phone idled out a day after its last (and only) use plus seven; the patrol phone's use is this request.
    assert (listed.status_code, listed.json()) == (
        200,
        [
            {
                "id": tablet.pk,
                "name": "tablet",
                "created_at": "2026-03-03T10:00:00+08:00",
                "last_used_at": "2026-03-08T09:00:00+08:00",
                "expires_at": "2026-03-15T09:00:00+08:00",
                "mfa_verified": True,
                "current": False,
            },
            {
                "id": phone.pk,
                "name": "patrol phone",
                "created_at": "2026-03-03T09:00:00+08:00",
                "last_used_at": "2026-03-09T21:00:00+08:00",
                "expires_at": "2026-03-16T21:00:00+08:00",
                "mfa_verified": False,
                "current": True,
            },
        ],
    )
    assert refused(get(stale_key, at=T0 + timedelta(days=7, hours=12)))


def test_a_user_revokes_one_of_their_tokens_by_id(world):
    phone, phone_key = issue(world.officer)
    tablet, tablet_key = issue(world.officer, "tablet")
    response = terminal(phone_key).delete(f"{LIST}{tablet.pk}/")
    assert response.status_code == 204
    assert refused(get(tablet_key))
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [phone.pk]
    assert get(phone_key).status_code == 200


def test_nobody_revokes_someone_elses_token(world):
    theirs, their_key = issue(world.other_officer)
    mine, my_key = issue(world.supervisor, mfa_verified=True)  # the supervisor covers the other officer's unit
    before = rows()
    response = terminal(my_key).delete(f"{LIST}{theirs.pk}/")
    assert (response.status_code, response.json()) == (404, {"code": "not_found", "detail": "Not found."})
    assert rows() == before
    assert get(their_key).status_code == 200
    # The same from the page.
    browser = Client()
    browser.force_login(world.supervisor)
    assert browser.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert rows() == before
    assert [t.pk for t in tokens.tokens_of(world.supervisor)] == [mine.pk]


def test_the_tokens_page_lists_and_revokes_ones_own(world):
    phone, _phone_key = issue(world.officer)
    tablet, tablet_key = issue(world.officer, "tablet")
    issue(world.other_officer, "their radio")
    browser = Client()
    browser.force_login(world.officer)
    page = browser.get("/accounts/tokens/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    assert ("patrol phone" in html, "tablet" in html, "their radio" in html) == (True, True, False)
    assert f'action="/accounts/tokens/{tablet.pk}/revoke/"' in html
    assert browser.get(f"/accounts/tokens/{tablet.pk}/revoke/").status_code == 405
    response = browser.post(f"/accounts/tokens/{tablet.pk}/revoke/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/tokens/")
    assert refused(get(tablet_key))
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["patrol phone", "their radio"]
    assert phone.pk in ApiToken.objects.values_list("pk", flat=True)


def test_logging_in_again_and_again_keeps_at_most_twenty_tokens(world):
    issued = [issue(world.officer, f"device {i}", at=T0 + timedelta(minutes=i)) for i in range(20)]
    # The first device is the one used most recently; the second is now the least recently used.
    assert get(issued[0][1], at=T0 + timedelta(hours=1)).status_code == 200
    newest, _key = issue(world.officer, "device 20", at=T0 + timedelta(hours=2))
    names = set(ApiToken.objects.values_list("name", flat=True))
    assert len(names) == 20
    assert names == {f"device {i}" for i in range(21)} - {"device 1"}
    assert refused(get(issued[1][1], at=T0 + timedelta(hours=2)))
    assert newest.name == "device 20"


def test_the_token_list_costs_the_same_queries_for_two_tokens_as_for_fifteen(world):
    _token, key = issue(world.officer)
    issue(world.officer, "second")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = get(key, LIST)
        assert response.status_code == 200
        return len(response.json()), len(queries)

    assert count() == (2, 3)  # the token and its user's grants (then kept in the cache), then the list
    # The list, and the password hash its fingerprint check reads (never cached): the token comes from the cache.
    assert count() == (2, 2)
    for i in range(13):
        issue(world.officer, f"more {i}")
    assert count() == (15, 2)


# --- the admin site --------------------------------------------------------------------------------------------


def test_an_administrator_sees_and_revokes_only_the_tokens_of_their_subtree(world):
    admin_user = world.admin  # the province 330000's administrator
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    may = Permission.objects.filter(
        codename__in=["view_apitoken", "delete_apitoken"], content_type__app_label="accounts"
    )
    admin_user.user_permissions.add(*may)
    officers, officer_key = issue(world.officer, "station phone")
    theirs, their_key = issue(world.sibling_supervisor, "other province", mfa_verified=True)
    ministry, _ministry_key = issue(world.ministry_supervisor, "ministry desk", mfa_verified=True)
    browser = Client()
    browser.force_login(admin_user)
    page = browser.get("/admin/accounts/apitoken/")
    html = page.content.decode()
    assert page.status_code == 200
    assert ("station phone" in html, "other province" in html, "ministry desk" in html) == (True, False, False)
    # Another province's token cannot be opened or deleted.
    before = rows()
    assert browser.get(f"/admin/accounts/apitoken/{theirs.pk}/change/").status_code == 302
    assert browser.post(f"/admin/accounts/apitoken/{theirs.pk}/delete/", {"post": "yes"}).status_code == 302
    bulk = browser.post(
        "/admin/accounts/apitoken/",
        {"action": "delete_selected", "_selected_action": [theirs.pk, ministry.pk], "post": "yes"},
    )
    assert bulk.status_code == 302
    assert rows() == before
    assert get(their_key).status_code == 200
    # Tokens are only ever issued by logging in: there is no add page; one's subtree's tokens can be revoked.
    assert browser.get("/admin/accounts/apitoken/add/").status_code == 403
    assert browser.post(f"/admin/accounts/apitoken/{officers.pk}/delete/", {"post": "yes"}).status_code == 302
    assert refused(get(officer_key))
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["ministry desk", "other province"]
