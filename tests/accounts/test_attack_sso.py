"""Attacks on single sign-on: what a directory (OpenID Connect provider, LDAP) may never log in as, and how far the
provider's second factor reaches. Reuses the loopback provider and slapd of test_sso_oidc.py and test_sso_ldap.py."""

import pytest
import requests
from django.test import Client

from accounts.models import Membership, Role, User
from tests.accounts import test_sso_ldap as ldap_suite
from tests.accounts import test_sso_oidc as oidc_suite
from tests.accounts.oidc_provider import ProviderUser
from tests.factories import PASSWORD, UserFactory, member

# The loopback provider and slapd, as the sign-on suites start them.
provider_server = oidc_suite.provider_server
provider = oidc_suite.provider
directory = ldap_suite.directory
sign_in = oidc_suite.sign_in
logged_in_as = oidc_suite.logged_in_as
log_in = ldap_suite.log_in


def _privileged(kind: str, world) -> User:
    if kind == "superuser":
        return UserFactory(badge_number="330100077", is_superuser=True, is_staff=True)
    if kind == "staff":
        return UserFactory(badge_number="330100077", is_staff=True)
    return member(world.station, Role.ADMIN, badge_number="330100077")


def _state(user: User) -> tuple:
    user.refresh_from_db()
    memberships = sorted(Membership.objects.filter(user=user).values_list("unit_id", "role", "managed_by"))
    return (user.is_active, user.is_staff, user.is_superuser, user.last_login, memberships)


@pytest.mark.parametrize("kind", ["superuser", "staff", "unit_admin"])
def test_a_provider_asserting_a_privileged_accounts_police_number_does_not_log_in_as_it(
    client,
    world,
    provider,
    kind,
):
    """A directory identity carrying the police number of an account that administers (the admin site, the group
    mapping itself, a unit's accounts) must not become that account, with or without the provider's second factor."""
    target = _privileged(kind, world)
    before = _state(target)
    count = User.objects.count()
    provider.users["mallory"] = ProviderUser(police_number="330100077", amr=["mfa"])
    answer = sign_in(client, provider, "mallory")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None
    assert client.get("/admin/").status_code == 302
    assert _state(target) == before
    assert User.objects.count() == count


@pytest.mark.parametrize("kind", ["superuser", "staff", "unit_admin"])
def test_a_directory_entry_with_a_privileged_accounts_police_number_does_not_log_in_as_it(
    client,
    world,
    directory,
    kind,
):
    target = _privileged(kind, world)
    before = _state(target)
    directory.add_person("mallory", police_number="330100077", password="mallory-directory-password")
    answer = log_in(client, "mallory", "mallory-directory-password")
    assert answer.status_code == 200
    assert logged_in_as(client) is None
    assert _state(target) == before
    # The account's own password still works.
    log_in(client, target.username, PASSWORD)
    assert logged_in_as(client) == target


@pytest.mark.parametrize(
    "claimed",
    ["330100009\u200b", "\u200b330100009", "３３０１０００09", "330100009\u202e", "3301\u000009"],
)
def test_a_police_number_that_only_looks_like_another_is_refused(client, world, provider, claimed):
    """A police number with invisible, right-to-left or full-width characters would provision an account that shows as
    another officer's: refused, and no account is made."""
    world.supervisor.badge_number = "330100009"
    world.supervisor.save(update_fields=["badge_number"])
    count = User.objects.count()
    provider.users["mallory"] = ProviderUser(police_number=claimed, amr=["mfa"])
    answer = sign_in(client, provider, "mallory")
    assert answer["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None
    assert User.objects.count() == count
    assert list(User.objects.filter(badge_number__contains="330100009").values_list("pk", flat=True)) == [
        world.supervisor.pk
    ]


def test_the_providers_second_factor_does_not_open_the_admin_site_to_an_account_made_staff_later(
    client, world, provider
):
    """Staff and superusers never log in through a directory; a session that did so before the account was made one
    does not reach the admin site on the provider's second factor: RightsGuard's own is asked for."""
    world.supervisor.badge_number = "330100009"
    world.supervisor.save(update_fields=["badge_number"])
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=["mfa"])
    sign_in(client, provider, "sup")
    assert logged_in_as(client) == world.supervisor
    assert client.get("/").status_code == 200
    User.objects.filter(pk=world.supervisor.pk).update(is_staff=True, is_superuser=True)
    answer = client.get("/admin/accounts/directorygroupmapping/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/mfa/setup/?next=/admin/accounts/directorygroupmapping/"


def test_the_providers_second_factor_does_not_outlive_a_log_out(client, world, provider):
    world.supervisor.badge_number = "330100009"
    world.supervisor.save(update_fields=["badge_number"])
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=["mfa"])
    sign_in(client, provider, "sup")
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    client.post("/admin/login/", {"username": world.supervisor.username, "password": PASSWORD})
    client.post("/accounts/login/", {"username": world.supervisor.username, "password": PASSWORD})
    assert logged_in_as(client) == world.supervisor
    assert client.get("/")["Location"] == "/accounts/mfa/setup/?next=/"


def test_a_callback_carried_to_another_browser_logs_nobody_in(client, world, provider):
    """The provider's answer (code and state) taken to another browser session: its state is not that session's."""
    world.supervisor.badge_number = "330100009"
    world.supervisor.save(update_fields=["badge_number"])
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=["mfa"])
    provider.signed_in = "sup"
    start = client.get("/accounts/oidc/login/")
    back = requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"]
    other = Client()
    assert other.get(back)["Location"] == "/accounts/login/"
    assert logged_in_as(other) is None
    assert other.get(f"{back}&error=access_denied")["Location"] == "/accounts/login/"
    assert logged_in_as(other) is None
