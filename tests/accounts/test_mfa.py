"""Two-factor log-in for supervisors and administrators."""

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa
from tests.factories import PASSWORD


@pytest.fixture
def mfa_on(settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True


def log_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_supervisor_must_enrol_before_seeing_anything(client, world, mfa_on, settings):
    # A wrong code throttles the device for a second; the test does not wait it out.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    log_in(client, "supervisor")
    response = client.get(reverse("cases:queue"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/setup/?next=/queue/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    wrong = client.post(response["Location"], {"token": "000000" if current_code(device) != "000000" else "111111"})
    assert wrong.status_code == 400
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False
    done = client.post(response["Location"], {"token": current_code(device), "next": "/queue/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert client.get(reverse("cases:queue")).status_code == 200


def test_enrolled_supervisor_verifies_at_each_login_and_recovery_codes_work_once(client, world, mfa_on):
    device = mfa.pending_totp_device(user=world.supervisor)
    codes = mfa.confirm_totp(device=device, token=current_code(device))
    log_in(client, "supervisor")
    assert client.get(reverse("cases:queue"))["Location"] == "/accounts/mfa/?next=/queue/"
    assert client.post("/accounts/mfa/", {"token": codes[0], "next": "/queue/"})["Location"] == "/queue/"
    assert client.get(reverse("cases:queue")).status_code == 200
    client.post(reverse("logout"))
    log_in(client, "supervisor")
    reused = client.post("/accounts/mfa/", {"token": codes[0]})
    assert reused.status_code == 400
    assert client.get(reverse("cases:queue")).status_code == 302


def test_api_on_a_session_without_the_second_factor_is_refused(client, world, mfa_on):
    log_in(client, "admin")
    response = client.get("/api/v1/me/")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_officers_are_not_forced_and_switching_off_disables_it(client, world, settings, mfa_on):
    log_in(client, "officer")
    assert client.get("/").status_code == 200
    settings.RIGHTSGUARD_MFA_REQUIRED = False
    client.post(reverse("logout"))
    log_in(client, "supervisor")
    assert client.get(reverse("cases:queue")).status_code == 200


def test_a_used_authenticator_code_cannot_be_replayed(client, world, mfa_on):
    device = mfa.pending_totp_device(user=world.supervisor)
    code = current_code(device)
    mfa.confirm_totp(device=device, token=code)
    log_in(client, "supervisor")
    assert client.post("/accounts/mfa/", {"token": code}).status_code == 400
    assert client.get(reverse("cases:queue")).status_code == 302


def test_open_redirects_are_refused(client, world, mfa_on):
    device = mfa.pending_totp_device(user=world.supervisor)
    codes = mfa.confirm_totp(device=device, token=current_code(device))
    log_in(client, "supervisor")
    # The TOTP code just used to confirm cannot be replayed, so a recovery code logs in here.
    response = client.post("/accounts/mfa/", {"token": codes[1], "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_login_page_says_when_two_factor_is_off(client, db, settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = False
    assert "Two-factor log-in is switched off" in client.get(reverse("login")).content.decode()
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    assert "Two-factor log-in is switched off" not in client.get(reverse("login")).content.decode()
