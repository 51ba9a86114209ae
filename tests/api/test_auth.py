"""Who gets in: tokens for terminals (obtain, revoke, dead with the account), sessions with CSRF for browsers,
two-factor log-in and lockout on the token endpoint, and the schema and offline docs behind log-in. The token
policy itself (expiry, revocation, the second factor, listing) is proven in tests/security/test_api_tokens.py."""

import hashlib
import re

import pytest
from django.contrib.staticfiles import finders
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import mfa
from accounts import services as account_services
from accounts.models import ApiToken
from cases.models import Case
from tests.factories import PASSWORD

TOKEN_URL = "/api/v1/auth/token/"


def obtain(username: str, password: str = PASSWORD, **extra) -> tuple[int, dict]:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")
    return response.status_code, response.json()


def test_a_terminal_obtains_a_token_and_uses_it(world):
    status, body = obtain("officer", name="patrol phone")
    assert status == 200
    token = ApiToken.objects.get(user=world.officer)
    assert body == {
        "token": body["token"],
        "id": token.pk,
        "name": "patrol phone",
        "created_at": body["created_at"],
        "last_used_at": body["created_at"],
        "expires_at": body["expires_at"],
        "mfa_verified": False,
        "current": False,
    }
    assert token.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert client.get("/api/v1/me/").json()["username"] == "officer"
    # Each log-in is a new token of its own (one per device); the first keeps working.
    status, second = obtain("officer")
    assert (status, second["name"]) == (200, "terminal")
    assert second["token"] != body["token"]
    assert ApiToken.objects.filter(user=world.officer).count() == 2
    assert client.get("/api/v1/me/").status_code == 200


def test_wrong_passwords_and_inactive_accounts_get_no_token(world):
    assert obtain("officer", "wrong") == (
        400,
        {"code": "invalid_credentials", "detail": "Unable to log in with the given username and password."},
    )
    account_services.deactivate_user(user=world.other_officer)
    assert obtain("other_officer")[0] == 400
    assert not ApiToken.objects.exists()


def test_revoking_ends_the_token(world, api):
    client = api("officer")
    assert client.delete(TOKEN_URL).status_code == 204
    response = client.get("/api/v1/me/")
    assert (response.status_code, response.json()["code"]) == (401, "authentication_failed")
    assert not ApiToken.objects.filter(user=world.officer).exists()


def test_a_deactivated_accounts_token_stops_working_at_once(world, api):
    client = api("supervisor")
    assert client.get("/api/v1/cases/").status_code == 200
    account_services.deactivate_user(user=world.supervisor)
    response = client.get("/api/v1/cases/")
    assert response.status_code == 401
    # Deactivation deletes the token itself, so reactivating the account does not bring it back.
    assert response.json() == {"code": "authentication_failed", "detail": "Invalid token."}
    world.supervisor.is_active = True
    world.supervisor.save(update_fields=["is_active"])
    assert client.get("/api/v1/cases/").status_code == 401


def test_no_credentials_is_a_401_that_names_the_scheme(db):
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_unsupported_methods_are_405_even_without_credentials(db):
    response = APIClient().put("/api/v1/cases/", {}, format="json")
    assert (response.status_code, response["Allow"]) == (405, "GET, POST, HEAD, OPTIONS")


def test_browser_sessions_work_and_need_the_csrf_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.officer)
    assert client.get("/api/v1/me/").status_code == 200
    refused = client.post("/api/v1/cases/", {"unit": world.station.pk}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert Case.objects.count() == 0
    page = client.get("/accounts/login/")
    token = page.cookies["csrftoken"].value
    accepted = client.post("/api/v1/cases/", {"unit": world.station.pk}, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


def test_a_deactivated_session_is_logged_out(world):
    client = APIClient()
    client.force_login(world.officer)
    account_services.deactivate_user(user=world.officer)
    assert client.get("/api/v1/me/").status_code == 401


# --- two-factor log-in and lockout ----------------------------------------------------------------------------


@pytest.fixture
def mfa_on(settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_supervisors_need_their_second_factor_for_a_token(world, mfa_on):
    device = mfa.pending_totp_device(user=world.supervisor)
    recovery = mfa.confirm_totp(device=device, token=code_for(device))
    assert obtain("supervisor")[1]["code"] == "otp_required"
    assert obtain("supervisor", otp_token="000000")[1]["code"] == "otp_required"
    assert not ApiToken.objects.filter(user=world.supervisor).exists()
    # The code used to confirm the device cannot be used twice; let the next one be the current one again.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    status, body = obtain("supervisor", otp_token=code_for(device))
    assert (status, body["mfa_verified"]) == (200, True)
    assert obtain("supervisor", otp_token=recovery[0])[1]["mfa_verified"] is True
    assert ApiToken.objects.filter(user=world.supervisor, mfa_verified=True).count() == 2
    # Officers are not required to use a second factor; a code they send must be right, though.
    assert obtain("officer")[1]["mfa_verified"] is False
    assert obtain("officer", otp_token="000000")[1]["code"] == "otp_required"
    assert ApiToken.objects.filter(user=world.officer).count() == 1


def test_a_supervisor_without_an_authenticator_gets_no_token(world, mfa_on):
    assert obtain("supervisor", otp_token="123456") == (
        400,
        {
            "code": "otp_required",
            "detail": (
                "This account needs its two-factor code (otp_token): from the authenticator app, or a recovery code. "
                "Set up two-factor log-in in the browser first if you have not."
            ),
        },
    )


def test_an_unverified_browser_session_is_refused_by_the_api(world, mfa_on):
    client = APIClient()
    client.force_login(world.supervisor)
    response = client.get("/api/v1/cases/")
    assert (response.status_code, response.json()["code"]) == (403, "mfa_required")


def test_repeated_failures_lock_the_account_with_a_json_429(world, settings):
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert obtain("officer", "wrong")[0] == 400
    status, body = obtain("officer", "wrong")
    assert (status, body["code"]) == (429, "locked_out")
    assert obtain("officer")[0] == 429  # even the right password, until the cool-off ends
    assert not ApiToken.objects.exists()


# --- the schema and the docs ------------------------------------------------------------------------------------


def test_the_schema_needs_log_in(world, api):
    assert APIClient().get("/api/v1/schema/").status_code == 401
    response = api("officer").get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/cases/{case_pk}/actions/refer/" in schema["paths"]


def test_the_docs_page_works_offline_under_the_csp(world, client):
    assert client.get("/api/v1/docs/").status_code == 302  # to the log-in page
    client.force_login(world.officer)
    page = client.get("/api/v1/docs/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>" not in html  # the split view: no inline script for the CSP to block
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert [a for a in assets if a.startswith(("http://", "https://", "//"))] == []
    for asset in (a for a in assets if a.startswith("/static/")):
        assert finders.find(asset.removeprefix("/static/")), asset
    script = client.get("/api/v1/docs/?script=")
    assert script.status_code == 200
    assert "/api/v1/schema/" in script.content.decode()
    csp = page.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp
