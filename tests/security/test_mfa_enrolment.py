"""The second factor cannot be replaced by whoever knows only the password.

A session that has not passed the second factor of an account with a confirmed authenticator can only verify:
never enrol another authenticator, make recovery codes, reach the site or obtain an API token. Replacing needs a
verified session and the password again; replacements, new recovery codes and administrators' resets are written
to the access log and e-mailed to the account's owner.
"""

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import mfa, tokens
from accounts.models import ApiToken, Role
from cases.models import AccessLog
from tests.factories import PASSWORD, member

SETUP = "/accounts/mfa/setup/"
CODES = "/accounts/mfa/recovery-codes/"
MFA_ACTIONS = ["mfa_enrol", "mfa_change", "mfa_codes", "mfa_reset"]


@pytest.fixture
def mfa_on(settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    # A wrong code throttles a device for a while; the tests do not wait it out.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_for(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def enrolled(user) -> tuple[TOTPDevice, list[str]]:
    """The user's own authenticator, confirmed, and their recovery codes."""
    device = mfa.pending_totp_device(user=user)
    codes = mfa.confirm_totp(device=device, token=code_for(device))
    assert codes is not None
    return TOTPDevice.objects.get(pk=device.pk), codes


def confirmed_devices(user) -> list[int]:
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).values_list("pk", flat=True))


def recovery_codes(user) -> set[str]:
    return set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def mfa_log() -> list[tuple]:
    return list(
        AccessLog.objects.filter(action__in=MFA_ACTIONS)
        .order_by("id")
        .values_list("action", "user_id", "object_ref", "source_ip")
    )


def log_in(client, username: str = "supervisor"):
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def verified(client, code: str):
    response = client.post("/accounts/mfa/", {"token": code, "next": "/queue/"})
    assert (response.status_code, response["Location"]) == (302, "/queue/")
    return client


# --- the attack -----------------------------------------------------------------------------------------------


def test_a_session_with_only_the_password_cannot_enrol_its_own_authenticator(client, world, mfa_on):
    own, own_codes = enrolled(world.supervisor)
    log_before = mfa_log()
    log_in(client)

    # Step 1: the enrolment page sends the session to verify, and no secret is made for it.
    page = client.get(SETUP)
    assert (page.status_code, page["Location"]) == (302, "/accounts/mfa/?next=%2Faccounts%2Fmfa%2Fsetup%2F")
    assert list(TOTPDevice.objects.filter(user=world.supervisor).values_list("pk", flat=True)) == [own.pk]

    # Step 2: confirming an authenticator it holds the secret of (one left half-finished) is refused the same way.
    theirs = TOTPDevice.objects.create(user=world.supervisor, name="authenticator", confirmed=False)
    confirm = client.post(SETUP, {"token": code_for(theirs), "next": "/queue/"})
    assert (confirm.status_code, confirm["Location"]) == (302, "/accounts/mfa/?next=%2Faccounts%2Fmfa%2Fsetup%2F")
    assert TOTPDevice.objects.get(pk=theirs.pk).confirmed is False
    new_codes = client.post(CODES, {"password": PASSWORD})
    assert (new_codes.status_code, new_codes["Location"]) == (
        302,
        "/accounts/mfa/?next=%2Faccounts%2Fmfa%2Frecovery-codes%2F",
    )

    # Step 3: the site and the API stay closed to the session.
    queue = client.get(reverse("cases:queue"))
    assert (queue.status_code, queue["Location"]) == (302, "/accounts/mfa/?next=/queue/")
    api = client.get("/api/v1/me/")
    assert (api.status_code, api.json()["code"]) == (403, "mfa_required")

    # Step 4: its code obtains no API token.
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "supervisor", "password": PASSWORD, "otp_token": code_for(theirs)},
        format="json",
    )
    assert (token.status_code, token.json()["code"]) == (400, "otp_required")

    # Nothing changed: still exactly the owner's authenticator and recovery codes, and nothing logged.
    assert confirmed_devices(world.supervisor) == [own.pk]
    assert recovery_codes(world.supervisor) == set(own_codes)
    assert mfa_log() == log_before
    assert "_auth_user_id" in client.session
    assert client.get(reverse("cases:queue")).status_code == 302


def test_the_service_refuses_a_second_authenticator_without_a_verified_session(world, mfa_on):
    own, _codes = enrolled(world.supervisor)
    theirs = TOTPDevice.objects.create(user=world.supervisor, name="authenticator", confirmed=False)
    request = RequestFactory().post(SETUP)
    request.user = world.supervisor
    request.user.is_verified = lambda: False
    for given in (None, request):
        with pytest.raises(mfa.MFAChangeRefused):
            mfa.confirm_totp(device=theirs, token=code_for(theirs), request=given, password=PASSWORD)
        with pytest.raises(mfa.MFAChangeRefused):
            mfa.regenerate_recovery_codes(user=world.supervisor, request=given, password=PASSWORD)
    assert confirmed_devices(world.supervisor) == [own.pk]
    assert TOTPDevice.objects.get(pk=theirs.pk).confirmed is False


# --- the owner's ways -------------------------------------------------------------------------------------------


def test_the_owner_replaces_the_authenticator_with_the_second_factor_and_the_password(
    client, world, mfa_on, django_capture_on_commit_callbacks
):
    old, old_codes = enrolled(world.supervisor)
    verified(log_in(client), old_codes[0])
    mail.outbox.clear()
    log_before = mfa_log()
    # A terminal's token obtained with the old authenticator's code.
    _terminal, key = tokens.issue_token(user=world.supervisor, name="terminal", mfa_verified=True)

    page = client.get(SETUP)
    assert page.status_code == 200
    assert "This replaces your current authenticator" in page.content.decode()
    new = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)

    # The password is asked for again: a wrong one changes nothing (and the code is not spent on it).
    wrong = client.post(SETUP, {"token": code_for(new), "password": "wrong-password-123"})
    assert wrong.status_code == 400
    assert "That password is not correct." in wrong.content.decode()
    without = client.post(SETUP, {"token": code_for(new)})
    assert without.status_code == 400
    assert confirmed_devices(world.supervisor) == [old.pk]
    assert recovery_codes(world.supervisor) == set(old_codes[1:])
    assert mfa_log() == log_before

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(SETUP, {"token": code_for(new), "password": PASSWORD, "next": "/queue/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    # Exactly one authenticator, the new one; the old recovery codes are gone.
    assert list(TOTPDevice.objects.filter(user=world.supervisor).values_list("pk", "confirmed")) == [(new.pk, True)]
    assert recovery_codes(world.supervisor) == set(codes)
    assert not set(old_codes) & set(codes)
    # Tokens obtained with the replaced authenticator end with it.
    assert ApiToken.objects.filter(user=world.supervisor).count() == 0
    assert APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401
    # The session goes on with the new authenticator.
    assert client.get(reverse("cases:queue")).status_code == 200
    # Logged, and the owner told.
    assert mfa_log()[len(log_before) :] == [
        ("mfa_change", world.supervisor.pk, f"user:{world.supervisor.pk}", "127.0.0.1")
    ]
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["supervisor@police.example"]
    assert notice.subject == "Two-factor log-in on your RightsGuard account changed"
    assert "The authenticator of your RightsGuard account was replaced." in notice.body
    assert "From address: 127.0.0.1" in notice.body

    # The old authenticator and its recovery codes no longer log in.
    client.post(reverse("logout"))
    log_in(client)
    assert client.post("/accounts/mfa/", {"token": old_codes[1]}).status_code == 400
    assert client.post("/accounts/mfa/", {"token": codes[0]}).status_code == 302


def test_the_owner_makes_new_recovery_codes_with_the_second_factor_and_the_password(
    client, world, mfa_on, django_capture_on_commit_callbacks
):
    _device, old_codes = enrolled(world.supervisor)
    verified(log_in(client), old_codes[0])
    mail.outbox.clear()
    log_before = mfa_log()
    assert client.get(CODES).status_code == 200

    wrong = client.post(CODES, {"password": "wrong-password-123"})
    assert wrong.status_code == 400
    assert recovery_codes(world.supervisor) == set(old_codes[1:])
    assert mfa_log() == log_before

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(CODES, {"password": PASSWORD})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert recovery_codes(world.supervisor) == set(codes)
    assert mfa_log()[len(log_before) :] == [
        ("mfa_codes", world.supervisor.pk, f"user:{world.supervisor.pk}", "127.0.0.1")
    ]
    assert [m.to for m in mail.outbox] == [["supervisor@police.example"]]
    assert "New recovery codes were made for your RightsGuard account." in mail.outbox[0].body


def test_the_first_authenticator_is_set_up_after_the_password_and_logged(
    client, world, mfa_on, django_capture_on_commit_callbacks
):
    log_in(client)
    page = client.get(SETUP)
    assert page.status_code == 200
    assert "This replaces your current authenticator" not in page.content.decode()
    device = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(SETUP, {"token": code_for(device)})
    assert done.status_code == 200
    assert confirmed_devices(world.supervisor) == [device.pk]
    assert mfa_log() == [("mfa_enrol", world.supervisor.pk, f"user:{world.supervisor.pk}", "127.0.0.1")]
    assert [m.to for m in mail.outbox] == [["supervisor@police.example"]]


def test_a_set_up_page_opened_later_elsewhere_never_hands_over_the_owners_secret(world, mfa_on):
    """The owner opens the set-up page; someone with only the password opens it afterwards. The later page gets a
    secret of its own (the owner's is deleted, never shown), the owner's first code is then refused and the owner
    enrols with a new secret that the other session has not seen."""
    owner, other = log_in(Client()), log_in(Client())
    owners_secret = owner.get(SETUP).context["secret"]
    others_secret = other.get(SETUP).context["secret"]
    assert others_secret != owners_secret
    others_device = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    assert mfa.secret_of(others_device) == others_secret

    # The owner types a code of the secret they scanned: refused, and the other session's device is not confirmed
    # whatever the owner typed (not even a code of the other session's secret).
    refused = owner.post(SETUP, {"token": code_for(others_device)})
    assert refused.status_code == 400
    assert "started again in another session" in refused.content.decode()
    assert confirmed_devices(world.supervisor) == []
    retry_secret = refused.context["secret"]
    assert retry_secret not in (owners_secret, others_secret)

    retry = TOTPDevice.objects.get(user=world.supervisor, confirmed=False)
    assert mfa.secret_of(retry) == retry_secret
    done = owner.post(SETUP, {"token": code_for(retry)})
    assert done.status_code == 200
    assert done.context["codes"]
    assert confirmed_devices(world.supervisor) == [retry.pk]
    assert not TOTPDevice.objects.filter(user=world.supervisor, confirmed=False).exists()
    # The other session's page now belongs to an account with an authenticator: it is sent to verify.
    assert other.post(SETUP, {"token": code_for(retry)})["Location"].startswith("/accounts/mfa/?")
    assert confirmed_devices(world.supervisor) == [retry.pk]


def test_an_administrators_reset_removes_every_authenticator_and_code(
    client, world, mfa_on, settings, django_capture_on_commit_callbacks
):
    settings.RIGHTSGUARD_MFA_REQUIRED = False  # the administrator's own log-in is not under test here
    enrolled(world.supervisor)
    TOTPDevice.objects.create(user=world.supervisor, name="authenticator", confirmed=False)
    superuser = member(world.ministry, Role.ADMIN, is_staff=True, is_superuser=True)
    client.force_login(superuser)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/accounts/user/",
            {"action": "reset_two_factor", "_selected_action": [world.supervisor.pk]},
            REMOTE_ADDR="10.3.3.3",
        )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=world.supervisor).exists()
    assert not StaticDevice.objects.filter(user=world.supervisor).exists()
    assert not StaticToken.objects.filter(device__user=world.supervisor).exists()
    assert mfa_log()[-1] == ("mfa_reset", superuser.pk, f"user:{world.supervisor.pk}", "10.3.3.3")
    assert [m.to for m in mail.outbox] == [["supervisor@police.example"]]
    assert "An administrator reset two-factor log-in on your RightsGuard account." in mail.outbox[0].body
