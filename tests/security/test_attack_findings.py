# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""Holes found by trying to break the recent security fixes; each test fails while its hole is open.

Each test drives the application the way an attacker would (the admin site, the browser pages, the API) and
asserts the safe behaviour.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import mfa
from accounts.models import User
from cases import services as case_services
from cases.choices import CaseStatus
from demo.organisation import ensure_admin_group
from tests.factories import PASSWORD, case_in

SETUP = "/accounts/mfa/setup/"
TOKEN_URL = "/api/v1/auth/token/"
MEDICAL = "左臂骨折，住院三日"


@pytest.fixture
def mfa_on(settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def throttle_on(settings):
    from django.core.cache import cache

    settings.AXES_ENABLED = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def province_admin_browser(world) -> Client:
    """Zhejiang's administrator in the admin site, as seed_demo sets it up (staff, unit administrators' group)."""
    user = world.admin
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def log_in(client: Client, username: str, password: str = PASSWORD, address: str = "127.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def changelist_count(response) -> int | None:
    """Rows the admin changelist found, or None when it refused the filter (400, or the ?e=1 redirect)."""
    if response.status_code != 200 or "cl" not in (response.context or {}):
        return None
    return response.context["cl"].result_count


# --- the admin site as a second door ----------------------------------------------------------------------------


def test_admin_changelist_filter_cannot_probe_officers_hidden_medical_notes(world, province_admin_browser):
    """A provincial admin (not a supervisor) filtering /admin/cases/involvedofficer/?medical_notes__contains=… learns the medical details the admin and the API hide from them; the filter must be refused or ignored."""
    case = case_in(world, CaseStatus.INTAKE)
    case_services.update_involved_officer(
        officer=case.officers.get(user=world.officer), by=world.supervisor, medical_notes=MEDICAL
    )
    url = reverse("admin:cases_involvedofficer_changelist")
    # The officer's row is visible to the administrator (the case lies in the province), its medical notes are not.
    assert changelist_count(province_admin_browser.get(url)) == 1

    hit = changelist_count(province_admin_browser.get(url, {"medical_notes__contains": "骨折"}))
    miss = changelist_count(province_admin_browser.get(url, {"medical_notes__contains": "no such words"}))
    # Safe: the lookup is refused (None) or has no effect; never one answer for the right guess and another for a
    # wrong one.
    assert hit is None or hit == miss, f"medical notes oracle: right guess {hit} row(s), wrong guess {miss}"


# --- the second factor ------------------------------------------------------------------------------------------


def test_superuser_must_pass_the_second_factor(db, client, mfa_on):
    """A superuser (no unit membership) logging in with only the password reaches the whole admin site and gets API tokens without a code; the most powerful account must need the second factor like administrators do."""
    User.objects.create(username="root", password=make_password(PASSWORD), is_staff=True, is_superuser=True)
    assert log_in(client, "root").status_code == 302
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302, "a password-only superuser session reaches /admin/"
    assert response["Location"].startswith("/accounts/mfa/")
    api = APIClient().post(TOKEN_URL, {"username": "root", "password": PASSWORD}, format="json")
    assert api.status_code == 400, "an API token was issued to a superuser without a code"
    assert api.json().get("code") == "otp_required"


def test_first_enrolment_secret_is_not_handed_to_another_password_only_session(world, mfa_on):
    """An attacker with only the password opens the set-up page before the owner enrols (first time or after an admin reset): the half-finished authenticator is shared, so the owner confirms the secret the attacker copied and the attacker can make codes; each set-up page must get a secret of its own."""
    attacker, owner = Client(), Client()
    assert log_in(attacker, "supervisor").status_code == 302
    seen_by_attacker = attacker.get(SETUP).context["secret"]
    # The attacker confirms nothing, so no notice is sent. Later the owner enrols from their own session.
    assert log_in(owner, "supervisor").status_code == 302
    owner_page = owner.get(SETUP)
    pending = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    assert mfa.secret_of(pending) == owner_page.context["secret"]
    done = owner.post(SETUP, {"token": code_for(pending)})
    assert done.status_code == 200
    assert done.context.get("codes")
    confirmed = TOTPDevice.objects.get(user=world.supervisor, confirmed=True)
    assert mfa.secret_of(confirmed) != seen_by_attacker, "the attacker holds the secret of the owner's authenticator"


def test_replacing_the_authenticator_ends_the_api_tokens_issued_with_the_old_one(world, mfa_on):
    """Someone holding the owner's old (stolen) authenticator obtained an API token with its codes; after the owner replaces the authenticator that token still works. A replacement must end the account's tokens, as an administrator's reset does."""
    device = mfa.pending_totp_device(user=world.supervisor)
    codes = mfa.confirm_totp(device=device, token=code_for(device))
    stolen = APIClient().post(
        TOKEN_URL,
        {"username": "supervisor", "password": PASSWORD, "otp_token": codes[0], "name": "thief"},
        format="json",
    )
    assert stolen.status_code == 200
    thief = APIClient()
    thief.credentials(HTTP_AUTHORIZATION=f"Token {stolen.json()['token']}")
    assert thief.get("/api/v1/me/").status_code == 200

    owner = Client()
    assert log_in(owner, "supervisor").status_code == 302
    assert owner.post("/accounts/mfa/", {"token": codes[1], "next": "/"}).status_code == 302
    owner.get(SETUP)
    new = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    done = owner.post(SETUP, {"token": code_for(new), "password": PASSWORD})
    assert done.status_code == 200
    assert done.context.get("codes")
    assert list(TOTPDevice.objects.filter(user=world.supervisor).values_list("pk", flat=True)) == [new.pk]

    assert thief.get("/api/v1/me/").status_code == 401, "a token from the replaced authenticator still works"


# --- log-in throttling ------------------------------------------------------------------------------------------


def test_password_change_form_counts_wrong_old_passwords_towards_the_lockout(world, throttle_on):
    """Someone at an officer's unlocked session guesses the password on /accounts/password_change/ without limit (its old-password check bypasses authenticate() and the lockout), then changes it; after 5 wrong guesses the form must stop checking."""
    address = "10.0.0.66"
    session = Client()
    session.force_login(world.officer)
    url = reverse("password_change")
    new = "a-new-and-long-passphrase-9"
    for i in range(6):
        session.post(
            url,
            {"old_password": f"wrong-guess-{i}-xyz", "new_password1": new, "new_password2": new},
            REMOTE_ADDR=address,
        )
    failures = sum(AccessAttempt.objects.filter(ip_address=address).values_list("failures_since_start", flat=True))
    # The seventh guess is the right one.
    session.post(url, {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, REMOTE_ADDR=address)
    world.officer.refresh_from_db()
    assert world.officer.check_password(PASSWORD), "the password was guessed and changed after 6 wrong tries"
    assert failures >= 5, f"only {failures} failures counted towards the lockout"


def test_address_lockout_counts_one_ipv6_subnet_as_one_address(world, throttle_on):
    """An IPv6 client owns a whole /64 and rotates its source address per guess, so the 10-failures-per-address lock (and the 5-per-pair lock) never trigger; failures from one /64 must count together."""
    names = ["other_officer", "supervisor", "admin", "county_supervisor", "chen", "li", "wang", "zhao", "sun", "x"]
    answers = [
        log_in(Client(), name, "Summer2025!spring", f"2001:db8:1:2::{i + 1:x}").status_code
        for i, name in enumerate(names)
    ]
    eleventh = log_in(Client(), "officer", "Summer2025!spring", "2001:db8:1:2::ff").status_code
    assert 429 in answers or eleventh == 429, "ten failures from one /64 did not lock it"


# --- forwarded addresses ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("forwarded", [None, "unknown"], ids=["header-dropped", "unknown-client"])
def test_readyz_behind_a_loopback_proxy_does_not_treat_an_unforwarded_client_as_loopback(
    client, settings, monkeypatch, forwarded
):
    """Behind a trusted proxy on loopback, an outside request whose X-Forwarded-For is dropped (hop-by-hop 'Connection: X-Forwarded-For') or unparsable ('unknown') keeps REMOTE_ADDR=127.0.0.1 and is told which dependency is down (and shares the proxy's throttle bucket); a trusted proxy's request without a usable client must not count as loopback."""
    from rightsguard import health

    settings.RIGHTSGUARD_TRUSTED_PROXIES = ["127.0.0.1"]
    monkeypatch.setattr(health, "_broker_ok", lambda: False)
    extra = {"REMOTE_ADDR": "127.0.0.1"}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    response = client.get("/readyz", **extra)
    assert response.status_code == 503
    assert "checks" not in response.json(), "an outside caller relayed by the proxy was treated as loopback"
