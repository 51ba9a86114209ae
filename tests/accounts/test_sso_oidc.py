"""Single sign-on through an OpenID Connect provider, end to end: a real provider on loopback
(tests/accounts/oidc_provider.py), RightsGuard calling it over HTTP, the Django test client as the browser.

Proven: log-in and first log-in provisioning by the police number (never the name), the provider's refusal blocking
the next log-in, a deactivated account staying out, the group mapping's allow-list, the provider's second factor
honoured from a verified ID token only (a forged, unsigned, shared-secret, misaddressed, expired or replayed token is
refused and changes nothing), state, nonce and PKCE, and a safe ``next``.
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.hashers import is_password_usable
from django.test import Client

from accounts import oidc, services
from accounts.admin import DirectoryGroupMappingForm
from accounts.models import AccountAudit, AccountChange, DirectoryGroupMapping, Membership, Role, SignOn, User
from tests.accounts.oidc_provider import Provider, ProviderUser
from tests.factories import PASSWORD, UserFactory

CLIENT_ID = "rightsguard-test"
CLIENT_SECRET = "a-client-secret-for-the-tests-only-0123456789"
REDIRECT_URI = "http://testserver/accounts/oidc/callback/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def provider_server() -> Iterator[Provider]:
    server = Provider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri=REDIRECT_URI).start()
    yield server
    server.stop()


@pytest.fixture
def provider(provider_server, settings) -> Iterator[Provider]:
    provider_server.reset()
    settings.RIGHTSGUARD_OIDC_ISSUER = provider_server.issuer
    settings.RIGHTSGUARD_OIDC_CLIENT_ID = CLIENT_ID
    settings.RIGHTSGUARD_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.RIGHTSGUARD_OIDC_REDIRECT_URI = REDIRECT_URI
    settings.RIGHTSGUARD_OIDC_PROVIDER_NAME = "Police ID"
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    # Each test reads the provider's discovery document and keys afresh.
    oidc._provider.cache_clear()
    yield provider_server
    oidc._provider.cache_clear()


def sign_in(client: Client, provider: Provider, login: str, *, next_url: str = ""):
    """The browser's round trip: RightsGuard sends it to the provider, the provider (where ``login`` is signed in)
    sends it back to the callback. Returns the callback's answer."""
    provider.signed_in = login
    start = client.get("/accounts/oidc/login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302
    assert start["Location"].startswith(f"{provider.issuer}/authorize?")
    at_provider = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302
    back = at_provider.headers["Location"]
    assert back.startswith(REDIRECT_URI)
    return client.get(back)


def logged_in_as(client: Client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return None if pk is None else User.objects.get(pk=pk)


def test_without_a_provider_the_log_in_page_is_unchanged_and_the_routes_are_not_found(client, db, settings):
    settings.RIGHTSGUARD_OIDC_ISSUER = ""
    page = client.get("/accounts/login/").content.decode()
    assert "Sign in with" not in page
    assert "/accounts/oidc/login/" not in page
    assert client.get("/accounts/oidc/login/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


def test_the_log_in_page_offers_the_provider(client, db, provider):
    page = client.get("/accounts/login/?next=/cases/").content.decode()
    assert "Sign in with Police ID" in page
    assert 'href="/accounts/oidc/login/?next=/cases/"' in page


def test_first_log_in_provisions_an_account_by_police_number_with_no_membership(client, world, provider):
    provider.users["wang.li"] = ProviderUser(police_number="330106123", name="Wang Li", email="wang.li@example.police")
    before = User.objects.count()
    answer = sign_in(client, provider, "wang.li")
    assert answer.status_code == 302
    assert answer["Location"] == "/"
    user = logged_in_as(client)
    assert user is not None
    assert User.objects.count() == before + 1
    assert (user.username, user.badge_number, user.full_name, user.email) == (
        "wang.li",
        "330106123",
        "Wang Li",
        "wang.li@example.police",
    )
    assert not is_password_usable(user.password)
    assert list(Membership.objects.filter(user=user)) == []
    assert list(AccountAudit.objects.filter(subject=user).values_list("action", "actor")) == [
        (AccountChange.CREATED, None)
    ]
    # The next log-in finds the same account.
    client.post("/accounts/logout/")
    sign_in(client, provider, "wang.li")
    assert logged_in_as(client) == user
    assert User.objects.count() == before + 1


def test_the_account_is_found_by_police_number_never_by_name(client, world, provider):
    # The provider's user is called "officer", like another person's local account; their police number is the
    # county supervisor's.
    services.update_user_details(user=world.county_supervisor, changes={"badge_number": "330106777"})
    provider.users["officer"] = ProviderUser(police_number="330106777", name=world.officer.full_name)
    sign_in(client, provider, "officer")
    assert logged_in_as(client) == world.county_supervisor


def test_two_accounts_with_one_police_number_are_refused(client, world, provider):
    for user in (world.officer, world.other_officer):
        services.update_user_details(user=user, changes={"badge_number": "330106555"})
    provider.users["x"] = ProviderUser(police_number="330106555")
    answer = sign_in(client, provider, "x")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None


def test_a_user_the_provider_disables_cannot_log_in_next_time(client, world, provider):
    provider.users["wang.li"] = ProviderUser(police_number="330106123")
    sign_in(client, provider, "wang.li")
    assert logged_in_as(client) is not None
    client.post("/accounts/logout/")
    # Disabled at the provider: it answers the authorization request with error=access_denied.
    provider.users["wang.li"].disabled = True
    answer = sign_in(client, provider, "wang.li")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None
    assert "Signing in with Police ID did not succeed" in client.get("/accounts/login/").content.decode()


def test_an_account_deactivated_in_rightsguard_stays_out(client, world, provider):
    services.update_user_details(user=world.officer, changes={"badge_number": "330106001"})
    services.deactivate_user(user=world.officer)
    provider.users["officer"] = ProviderUser(police_number="330106001")
    sign_in(client, provider, "officer")
    assert logged_in_as(client) is None
    world.officer.refresh_from_db()
    assert world.officer.is_active is False


def test_the_group_mapping_grants_only_allowed_roles_and_is_audited(client, world, provider, settings):
    settings.RIGHTSGUARD_SSO_GRANTABLE_ROLES = ["officer", "supervisor"]
    DirectoryGroupMapping.objects.create(
        directory=SignOn.OIDC, group="rg-station", unit=world.station, role=Role.OFFICER
    )
    # A row that names a role the installation does not let a mapping grant (written past the admin's check).
    DirectoryGroupMapping.objects.create(
        directory=SignOn.OIDC, group="rg-province-admins", unit=world.province, role=Role.ADMIN
    )
    # The same group for LDAP grants nothing through the provider.
    DirectoryGroupMapping.objects.create(
        directory=SignOn.LDAP, group="rg-station", unit=world.city, role=Role.SUPERVISOR
    )
    provider.users["wang.li"] = ProviderUser(police_number="330106123", groups=["RG-Station", "rg-province-admins"])
    sign_in(client, provider, "wang.li")
    user = logged_in_as(client)
    assert user is not None
    assert set(Membership.objects.filter(user=user).values_list("unit__code", "role", "managed_by")) == {
        (world.station.code, Role.OFFICER, SignOn.OIDC)
    }
    granted = AccountAudit.objects.get(subject=user, action=AccountChange.MEMBERSHIP_GRANTED)
    assert (granted.actor, granted.unit, granted.role) == (None, world.station, Role.OFFICER)
    assert granted.after == {
        "memberships": [f"{world.station.code}:officer"],
        "directory": "oidc",
        "groups": ["rg-station"],
    }


def test_the_mapping_removes_only_the_memberships_it_granted(client, world, provider):
    DirectoryGroupMapping.objects.create(
        directory=SignOn.OIDC, group="rg-station", unit=world.station, role=Role.OFFICER
    )
    services.update_user_details(user=world.supervisor, changes={"badge_number": "330100009"})
    provider.users["sup"] = ProviderUser(police_number="330100009", groups=["rg-station"])
    sign_in(client, provider, "sup")
    assert set(Membership.objects.filter(user=world.supervisor).values_list("unit__code", "role", "managed_by")) == {
        (world.city.code, Role.SUPERVISOR, ""),
        (world.station.code, Role.OFFICER, SignOn.OIDC),
    }
    client.post("/accounts/logout/")
    provider.users["sup"].groups = []
    sign_in(client, provider, "sup")
    assert logged_in_as(client) == world.supervisor
    # The local supervisor membership stays; the one the group granted is gone, and the change is recorded.
    assert set(Membership.objects.filter(user=world.supervisor).values_list("unit__code", "role", "managed_by")) == {
        (world.city.code, Role.SUPERVISOR, "")
    }
    revoked = AccountAudit.objects.get(subject=world.supervisor, action=AccountChange.MEMBERSHIP_REVOKED)
    assert (revoked.actor, revoked.unit, revoked.role) == (None, world.station, Role.OFFICER)
    assert revoked.after == {"memberships": [f"{world.city.code}:supervisor"], "directory": "oidc", "groups": []}


@pytest.mark.parametrize(
    ("amr", "acr", "passes"),
    [(["pwd", "otp"], "", True), (["hwk"], "", True), (["pwd"], "", False), (["pwd"], "loa3", True)],
)
def test_the_providers_second_factor_passes_ours_only_when_the_token_asserts_it(
    client, world, provider, settings, amr, acr, passes
):
    settings.RIGHTSGUARD_OIDC_MFA_ACR = ["loa3"]
    services.update_user_details(user=world.supervisor, changes={"badge_number": "330100009"})
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=amr, acr=acr)
    sign_in(client, provider, "sup")
    assert logged_in_as(client) == world.supervisor
    home = client.get("/")
    if passes:
        assert home.status_code == 200
    else:
        assert home.status_code == 302
        assert home["Location"] == "/accounts/mfa/setup/?next=/"


def test_a_password_log_in_in_the_same_session_does_not_keep_the_providers_second_factor(client, world, provider):
    services.update_user_details(user=world.supervisor, changes={"badge_number": "330100009"})
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=["mfa"])
    sign_in(client, provider, "sup")
    assert client.get("/").status_code == 200
    client.post("/accounts/login/", {"username": "supervisor", "password": PASSWORD})
    assert logged_in_as(client) == world.supervisor
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    "tamper",
    [
        "unsigned",
        "foreign_key",
        "shared_secret",
        "wrong_audience",
        "wrong_issuer",
        "expired",
        "wrong_nonce",
        "no_nonce",
        "no_id_token",
    ],
)
def test_only_a_verified_id_token_logs_in_or_passes_the_second_factor(client, world, provider, tamper):
    services.update_user_details(user=world.supervisor, changes={"badge_number": "330100009"})
    provider.users["sup"] = ProviderUser(police_number="330100009", amr=["mfa", "hwk"])
    provider.users["new"] = ProviderUser(police_number="330199999", amr=["mfa"])
    provider.tamper = tamper
    users, audits = User.objects.count(), AccountAudit.objects.count()
    for login in ("sup", "new"):
        answer = sign_in(client, provider, login)
        assert answer.status_code == 302
        assert answer["Location"] == "/accounts/login/"
        assert logged_in_as(client) is None
        assert "rg_provider_second_factor" not in client.session
    assert (User.objects.count(), AccountAudit.objects.count()) == (users, audits)


def test_the_discovery_document_must_name_the_configured_issuer(client, world, provider):
    provider.discovery_issuer = "http://127.0.0.1:1"
    provider.signed_in = "x"
    answer = client.get("/accounts/oidc/login/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"
    assert provider.authorize_requests == []


def test_state_nonce_and_pkce_are_sent_and_a_callback_is_good_once(client, world, provider):
    provider.users["wang.li"] = ProviderUser(police_number="330106123", amr=["mfa"])
    provider.signed_in = "wang.li"
    start = client.get("/accounts/oidc/login/")
    sent = {k: v[0] for k, v in parse_qs(urlsplit(start["Location"]).query).items()}
    assert sent["redirect_uri"] == REDIRECT_URI
    assert sent["code_challenge_method"] == "S256"
    assert len(sent["state"]) >= 20
    assert len(sent["nonce"]) >= 20
    assert len(sent["code_challenge"]) == 43
    back = requests.get(start["Location"], allow_redirects=False, timeout=10).headers["Location"]
    # Another browser (no state in its session) cannot use the provider's answer, nor add its own claims to it.
    stranger = Client()
    assert stranger.get(back + "&amr=mfa&police_number=330106123")["Location"] == "/accounts/login/"
    assert logged_in_as(stranger) is None
    assert User.objects.filter(badge_number="330106123").count() == 0
    # The browser that started it: logged in once; the same answer again is refused (state used up).
    assert client.get(back).status_code == 302
    user = logged_in_as(client)
    assert user is not None
    client.post("/accounts/logout/")
    assert client.get(back)["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [("/cases/", "/cases/"), ("https://evil.example/", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/")],
)
def test_next_is_kept_only_on_this_site(client, world, provider, next_url, lands):
    provider.users["wang.li"] = ProviderUser(police_number="330106123")
    answer = sign_in(client, provider, "wang.li", next_url=next_url)
    assert answer.status_code == 302
    assert answer["Location"] == lands


def test_an_unreachable_provider_fails_the_log_in_politely(client, world, provider, settings):
    settings.RIGHTSGUARD_OIDC_ISSUER = "http://127.0.0.1:1"
    answer = client.get("/accounts/oidc/login/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/"
    assert logged_in_as(client) is None


def test_a_local_account_still_logs_in_with_its_password(client, world, provider):
    local = UserFactory(username="local-only")
    assert client.post("/accounts/login/", {"username": "local-only", "password": PASSWORD}).status_code == 302
    assert logged_in_as(client) == local


def test_a_provider_log_in_works_with_the_lockout_on(client, world, provider, settings):
    settings.AXES_ENABLED = True
    provider.users["wang.li"] = ProviderUser(police_number="330106123")
    answer = sign_in(client, provider, "wang.li")
    assert answer.status_code == 302
    assert answer["Location"] == "/"
    assert logged_in_as(client) is not None


@pytest.mark.parametrize(("role", "valid"), [("officer", True), ("supervisor", True), ("admin", False)])
def test_the_admin_form_offers_only_the_allowed_roles(world, settings, role, valid):
    settings.RIGHTSGUARD_SSO_GRANTABLE_ROLES = ["officer", "supervisor"]
    form = DirectoryGroupMappingForm(
        data={"directory": SignOn.OIDC, "group": "rg-x", "unit": world.station.pk, "role": role}
    )
    assert form.is_valid() is valid
    if not valid:
        assert form.errors["role"] == [
            "This installation lets directory groups grant only these roles: officer, supervisor."
        ]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"RIGHTSGUARD_OIDC_ISSUER": "https://id.example.police", "RIGHTSGUARD_OIDC_CLIENT_ID": "rg"},
            "RIGHTSGUARD_OIDC_ISSUER needs RIGHTSGUARD_OIDC_CLIENT_ID, RIGHTSGUARD_OIDC_CLIENT_SECRET and "
            "RIGHTSGUARD_OIDC_REDIRECT_URI.",
        ),
        (
            {
                "RIGHTSGUARD_OIDC_ISSUER": "http://id.example.police",
                "RIGHTSGUARD_OIDC_CLIENT_ID": "rg",
                "RIGHTSGUARD_OIDC_CLIENT_SECRET": "s",
                "RIGHTSGUARD_OIDC_REDIRECT_URI": "https://rg.example.police/accounts/oidc/callback/",
            },
            "RIGHTSGUARD_OIDC_ISSUER must be an https:// address.",
        ),
        ({"RIGHTSGUARD_LDAP_URI": "ldaps://directory.example.police"}, "RIGHTSGUARD_LDAP_URI needs"),
    ],
)
def test_an_incomplete_sign_on_configuration_stops_the_start(variables, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "RIGHTSGUARD_"))}
    env |= {"DJANGO_DEBUG": "1", "DJANGO_SECRET_KEY": "x", **variables}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert message in result.stderr
