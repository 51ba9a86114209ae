"""The API token cache (accounts/tokens.py): a checked token is served from the cache for a minute, and every change
that ends a token or changes what it stands for ends its cache entry at once. Each test first uses the token, proves
that the next request does not read the token from the database (it is cached), makes the change through the way
people make it (the API, the pages, the admin site, the services), and then proves the very next request is refused
(or sees the change)."""

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken, Membership, Role, User
from tests.factories import PASSWORD, member
from tests.security.test_api_tokens import INVALID, NEW_PASSWORD, admin_form_data, issue, refused

ME = "/api/v1/me/"
MFA_REFUSAL = {
    "code": "mfa_required",
    "detail": "This token was issued without a two-factor code, which this account now needs. "
    "Obtain a new token with your code.",
}


def terminal(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def token_reads(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if 'FROM "accounts_apitoken"' in q["sql"]]


def cached(key: str) -> Any:
    """Use the key twice; the second answer must come without reading the token from the database."""
    assert terminal(key).get(ME).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = terminal(key).get(ME)
    assert response.status_code == 200
    assert token_reads(queries) == []
    return response


@pytest.fixture
def superuser_admin(world) -> Client:
    admin = Client()
    admin.force_login(member(world.ministry, Role.ADMIN, is_staff=True, is_superuser=True))
    return admin


# --- revoked ------------------------------------------------------------------------------------------------------


def test_revoking_the_token_one_uses_ends_it_at_once(world):
    _token, key = issue(world.officer)
    cached(key)
    assert terminal(key).delete("/api/v1/auth/token/").status_code == 204
    assert refused(terminal(key).get(ME))


def test_revoking_another_of_ones_tokens_by_id_ends_it_at_once(world):
    _phone, phone = issue(world.officer)
    tablet, tablet_key = issue(world.officer, "tablet")
    cached(tablet_key)
    assert terminal(phone).delete(f"/api/v1/auth/tokens/{tablet.pk}/").status_code == 204
    assert refused(terminal(tablet_key).get(ME))
    assert terminal(phone).get(ME).status_code == 200


def test_revoking_on_the_tokens_page_ends_it_at_once(world):
    tablet, key = issue(world.officer, "tablet")
    cached(key)
    browser = Client()
    browser.force_login(world.officer)
    assert browser.post(f"/accounts/tokens/{tablet.pk}/revoke/").status_code == 302
    assert refused(terminal(key).get(ME))


def test_revoking_in_the_admin_site_one_by_one_or_in_bulk_ends_them_at_once(world, superuser_admin):
    first, first_key = issue(world.officer)
    second, second_key = issue(world.officer, "tablet")
    third, third_key = issue(world.other_officer)
    for key in (first_key, second_key, third_key):
        cached(key)
    response = superuser_admin.post(f"/admin/accounts/apitoken/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert refused(terminal(first_key).get(ME))
    response = superuser_admin.post(
        "/admin/accounts/apitoken/",
        {"action": "delete_selected", "_selected_action": [second.pk, third.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert refused(terminal(second_key).get(ME))
    assert refused(terminal(third_key).get(ME))


def test_a_token_evicted_by_a_twenty_first_log_in_ends_at_once(world):
    start = timezone.now() - timedelta(hours=1)
    issued = [issue(world.officer, f"device {i}", at=start + timedelta(minutes=i)) for i in range(20)]
    # The first device, used within a minute of being issued (its last use is not recorded again), stays the least
    # recently used one, and is cached.
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=30)):
        cached(issued[0][1])
    issue(world.officer, "device 20")
    assert refused(terminal(issued[0][1]).get(ME))
    assert terminal(issued[1][1]).get(ME).status_code == 200


# --- the account's standing ----------------------------------------------------------------------------------------


def test_deactivation_by_the_services_ends_the_cached_token(world):
    _token, key = issue(world.officer)
    cached(key)
    account_services.deactivate_user(user=world.officer)
    assert refused(terminal(key).get(ME))


def test_deactivation_in_the_admin_site_ends_the_cached_token(world, superuser_admin):
    _token, key = issue(world.officer)
    cached(key)
    url = f"/admin/accounts/user/{world.officer.pk}/change/"
    response = superuser_admin.post(url, admin_form_data(superuser_admin.get(url), is_active=None))
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))


def test_deleting_the_account_in_the_admin_site_ends_the_cached_token(world, superuser_admin):
    # An account with no history yet (nothing recorded about it protects it from deletion).
    user = User.objects.create_user(username="short_lived", password=PASSWORD)
    Membership.objects.create(user=user, unit=world.station, role=Role.OFFICER)
    _token, key = issue(user)
    cached(key)
    response = superuser_admin.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert refused(terminal(key).get(ME))


def test_changing_ones_password_on_the_page_ends_the_cached_token(world):
    _token, key = issue(world.officer)
    cached(key)
    browser = Client()
    browser.force_login(world.officer)
    response = browser.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))


def test_an_administrator_setting_the_password_ends_the_cached_token(world, superuser_admin):
    _token, key = issue(world.officer)
    cached(key)
    response = superuser_admin.post(
        f"/admin/accounts/user/{world.officer.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))


@pytest.mark.parametrize("usable", [True, False])
def test_a_password_set_anywhere_else_ends_the_cached_token(world, usable):
    _token, key = issue(world.officer)
    cached(key)
    user = User.objects.get(pk=world.officer.pk)  # as manage.py changepassword does
    if usable:
        user.set_password(PASSWORD)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    assert refused(terminal(key).get(ME))


def test_a_role_granted_or_revoked_by_the_services_ends_the_cached_token(world):
    _token, key = issue(world.officer)
    cached(key)
    account_services.grant_membership(user=world.officer, unit=world.station, role=Role.SUPERVISOR)
    assert refused(terminal(key).get(ME))
    _token, key = issue(world.officer)
    cached(key)
    account_services.revoke_membership(membership=Membership.objects.get(user=world.officer, role=Role.SUPERVISOR))
    assert refused(terminal(key).get(ME))


def test_a_role_granted_or_revoked_in_the_admin_site_ends_the_cached_token(world, superuser_admin):
    _token, key = issue(world.supervisor, mfa_verified=True)
    cached(key)
    response = superuser_admin.post(
        "/admin/accounts/membership/add/", {"user": world.supervisor.pk, "unit": world.county.pk, "role": Role.ADMIN}
    )
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))
    granted = Membership.objects.get(user=world.supervisor, unit=world.county)
    _token, key = issue(world.supervisor, mfa_verified=True)
    cached(key)
    response = superuser_admin.post(f"/admin/accounts/membership/{granted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))


def test_a_two_factor_reset_ends_the_cached_token(world, superuser_admin):
    _token, key = issue(world.supervisor, mfa_verified=True)
    cached(key)
    response = superuser_admin.post(
        "/admin/accounts/user/", {"action": "reset_two_factor", "_selected_action": [world.supervisor.pk]}
    )
    assert response.status_code == 302
    assert refused(terminal(key).get(ME))


def test_becoming_staff_ends_a_cached_token_issued_without_the_second_factor(world, settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    _token, key = issue(world.officer)  # officers need no second factor
    cached(key)
    account_services.set_privileges(user=world.officer, is_staff=True, is_superuser=False, groups=[], permissions=[])
    assert refused(terminal(key).get(ME), MFA_REFUSAL)


def test_switching_the_second_factor_on_applies_to_cached_tokens_at_once(world, settings):
    _token, key = issue(world.supervisor)  # the second factor is off: the supervisor's token needs none
    cached(key)
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    assert refused(terminal(key).get(ME), MFA_REFUSAL)


def test_new_details_are_seen_at_once(world):
    _token, key = issue(world.officer)
    assert cached(key).json()["username"] == "officer"
    account_services.update_user_details(user=world.officer, changes={"username": "officer_renamed"})
    assert terminal(key).get(ME).json()["username"] == "officer_renamed"


# --- time, races and outages ---------------------------------------------------------------------------------------


def test_a_cached_token_past_its_idle_limit_is_refused_and_deleted(world):
    token, key = issue(world.officer)
    cached(key)
    later = token.last_used_at + timedelta(days=7)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert refused(terminal(key).get(ME))
    assert not ApiToken.objects.filter(pk=token.pk).exists()


def test_a_check_that_read_the_database_before_a_revocation_cannot_put_the_token_back(world):
    token, key = issue(world.officer)
    # A request read the token from the database, then the token was revoked, then the request stores what it read.
    read_before = tokens._authenticate_in_database(tokens.hash_key(key), timezone.now())
    tokens.revoke_token(token=token)
    tokens._remember(read_before)
    assert refused(terminal(key).get(ME), INVALID)


def test_a_cache_that_does_not_answer_leaves_the_database_to_decide(world):
    _token, key = issue(world.officer)
    cached(key)
    broken = mock.Mock(side_effect=ConnectionError("the cache is down"))
    with mock.patch.object(tokens, "_cache", broken):
        with CaptureQueriesContext(connection) as queries:
            assert terminal(key).get(ME).status_code == 200
        assert len(token_reads(queries)) == 1
        account_services.deactivate_user(user=world.officer)  # the cache is not told: it cannot be reached
        assert refused(terminal(key).get(ME))


def test_without_a_cache_lifetime_nothing_is_kept(world, settings):
    settings.RIGHTSGUARD_TOKEN_CACHE_SECONDS = 0
    _token, key = issue(world.officer)
    assert terminal(key).get(ME).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert terminal(key).get(ME).status_code == 200
    assert len(token_reads(queries)) == 1


def test_the_cache_holds_no_password_hash_nor_fingerprint(world):
    token, key = issue(world.officer)
    cached(key)
    kept = tokens._cached(tokens.hash_key(key))
    assert kept is not None
    text = repr(kept)
    assert User.objects.get(pk=world.officer.pk).password not in text
    assert token.password_fingerprint not in text
    assert "password" not in tokens._USER_FIELDS
