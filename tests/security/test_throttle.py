"""Password guessing is throttled per source address, and a stranger cannot lock an officer out.

Failures lock the (username, address) pair after 5 and the address after 10 across usernames, on every password
check: the log-in page, re-authentication and the API token endpoint (accounts/throttle.py).
"""

import logging

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.network import throttle_address
from accounts.reauth import REAUTH_AT
from cases.choices import CaseStatus
from cases.models import AccessLog
from tests.factories import PASSWORD, case_in

SPRAYER = "10.0.0.66"
OFFICE = "10.0.0.5"
TOKEN_URL = "/api/v1/auth/token/"
# Ten accounts, each guessed once: real ones (officer last) and made-up ones.
SPRAYED = ["other_officer", "supervisor", "admin", "county_supervisor", "chen", "li", "wang", "zhao", "sun", "officer"]


@pytest.fixture
def throttle_on(settings):
    settings.AXES_ENABLED = True
    assert (settings.AXES_FAILURE_LIMIT, settings.RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES) == (5, 10)
    # The alert is sent once per username and period, remembered in the cache.
    cache.clear()
    yield
    cache.clear()


def log_in(client, username: str, password: str, address: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def token(username: str, password: str, address: str) -> tuple[int, dict]:
    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )
    return response.status_code, response.json()


def failures_from(address: str) -> int:
    return sum(AccessAttempt.objects.filter(ip_address=address).values_list("failures_since_start", flat=True))


# --- the log-in page ------------------------------------------------------------------------------------------


def test_spraying_usernames_from_one_address_locks_the_address(client, world, throttle_on):
    answers = [log_in(client, name, "Summer2025!spring", SPRAYER).status_code for name in SPRAYED]
    assert answers == [200] * 9 + [429]
    # The eleventh guess is refused even with the right password.
    eleventh = log_in(client, "officer", PASSWORD, SPRAYER)
    assert eleventh.status_code == 429
    assert "Too many failed log-ins" in eleventh.content.decode()
    assert "_auth_user_id" not in client.session
    # No account is locked for its owner elsewhere.
    assert log_in(client, "officer", PASSWORD, OFFICE).status_code == 302


def test_an_insiders_own_log_in_does_not_clear_the_address_count(client, world, throttle_on):
    for name in SPRAYED[1:]:
        assert log_in(client, name, "Summer2025!spring", SPRAYER).status_code == 200
    assert failures_from(SPRAYER) == 9
    # Logging in with one's own account clears one's own failures only.
    assert log_in(client, "other_officer", PASSWORD, SPRAYER).status_code == 302
    client.post(reverse("logout"))
    assert failures_from(SPRAYER) == 9
    assert log_in(client, "sibling_officer", "Summer2025!spring", SPRAYER).status_code == 429
    assert log_in(client, "other_officer", PASSWORD, SPRAYER).status_code == 429


def test_a_stranger_failing_on_an_officers_username_does_not_lock_the_officer_out(client, world, throttle_on):
    stranger = [log_in(client, "officer", "wrong-password-123", SPRAYER).status_code for _ in range(5)]
    assert stranger == [200] * 4 + [429]
    assert log_in(client, "officer", PASSWORD, SPRAYER).status_code == 429
    assert "_auth_user_id" not in client.session

    response = log_in(client, "officer", PASSWORD, OFFICE)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(world.officer.pk)
    # The officer's log-in does not unlock the stranger.
    client.post(reverse("logout"))
    assert log_in(client, "officer", PASSWORD, SPRAYER).status_code == 429
    assert "_auth_user_id" not in client.session


def test_one_username_failing_from_many_addresses_alerts_the_administrators(
    client, world, throttle_on, settings, caplog
):
    settings.ADMINS = [("", "security@police.example")]
    with caplog.at_level(logging.WARNING, logger="rightsguard.security"):
        for n in range(1, 5):
            assert log_in(client, "officer", "wrong-password-123", f"10.9.0.{n}").status_code == 200
        assert mail.outbox == []
        assert log_in(client, "officer", "wrong-password-123", "10.9.0.5").status_code == 200
        assert log_in(client, "officer", "wrong-password-123", "10.9.0.6").status_code == 200
    # One alert, not one per further failure.
    assert [m.to for m in mail.outbox] == [["security@police.example"]]
    assert mail.outbox[0].subject == "[RightsGuard] Failed log-ins for 'officer' from 5 addresses"
    assert "log-ins as 'officer' failed from 5 different addresses" in mail.outbox[0].body
    assert [r.getMessage() for r in caplog.records if r.name == "rightsguard.security"] == [
        "Failed log-ins for username 'officer' from 5 addresses within 15 minutes."
    ]
    # Reported, not locked: the officer still logs in.
    assert log_in(client, "officer", PASSWORD, OFFICE).status_code == 302


# --- re-authentication ------------------------------------------------------------------------------------------


def test_reauthentication_is_throttled_per_pair_and_per_address(client, world, throttle_on):
    client.force_login(world.supervisor)

    def reauth(password: str, address: str) -> int:
        return client.post("/accounts/reauth/", {"password": password}, REMOTE_ADDR=address).status_code

    # Five wrong passwords from one address lock the pair: the right one is refused there, not elsewhere.
    assert [reauth("wrong-password-123", SPRAYER) for _ in range(5)] == [400] * 4 + [429]
    assert reauth(PASSWORD, SPRAYER) == 429
    assert REAUTH_AT not in client.session
    assert reauth(PASSWORD, OFFICE) == 302
    assert REAUTH_AT in client.session

    # An address that failed nine log-ins is locked by its tenth failure, a re-authentication's.
    session = client.session
    del session[REAUTH_AT]
    session.save()
    other = "10.0.0.77"
    for name in SPRAYED[1:]:
        assert log_in(APIClient(), name, "Summer2025!spring", other).status_code == 200
    assert reauth("wrong-password-123", other) == 429
    assert reauth(PASSWORD, other) == 429
    assert REAUTH_AT not in client.session


# --- the API token endpoint -----------------------------------------------------------------------------------


def test_the_token_endpoint_is_throttled_per_address_with_a_json_429(world, throttle_on):
    answers = [token(name, "Summer2025!spring", SPRAYER) for name in SPRAYED]
    assert [status for status, _body in answers] == [400] * 9 + [429]
    assert answers[-1][1]["code"] == "locked_out"
    status, body = token("officer", PASSWORD, SPRAYER)
    assert (status, body["code"]) == (429, "locked_out")
    assert "token" not in body
    assert token("officer", PASSWORD, OFFICE)[0] == 200


def test_a_stranger_on_the_token_endpoint_does_not_lock_the_officers_terminal_out(world, throttle_on):
    assert [token("officer", "wrong-password-123", SPRAYER)[0] for _ in range(5)] == [400] * 4 + [429]
    assert token("officer", PASSWORD, SPRAYER) == (
        429,
        {"code": "locked_out", "detail": "Too many failed log-ins. Try again later."},
    )
    assert token("officer", PASSWORD, OFFICE)[0] == 200


# --- the password change page -----------------------------------------------------------------------------------

NEW_PASSWORD = "a-new-and-long-passphrase-9"


def change_password(client, old: str, address: str):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR=address,
    )


def test_the_password_change_page_is_throttled_like_the_log_in(client, world, throttle_on):
    """Its old-password check goes through authenticate(): wrong guesses count, and a locked pair changes nothing."""
    client.force_login(world.officer)
    hash_before = world.officer.password
    answers = [change_password(client, f"wrong-guess-{i}", SPRAYER).status_code for i in range(5)]
    assert answers == [200] * 4 + [429]
    assert failures_from(SPRAYER) == 5
    assert change_password(client, PASSWORD, SPRAYER).status_code == 429
    world.officer.refresh_from_db()
    assert world.officer.password == hash_before
    # From the officer's own computer the right old password still changes it.
    response = change_password(client, PASSWORD, OFFICE)
    assert (response.status_code, response["Location"]) == (302, "/accounts/password_change/done/")
    world.officer.refresh_from_db()
    assert world.officer.check_password(NEW_PASSWORD)


def test_the_admin_sites_password_change_is_throttled_like_the_log_in(client, world, throttle_on):
    """Django's admin form checks the old password without authenticate(); the site's page uses the checked form."""
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    client.force_login(world.admin)
    hash_before = world.admin.password
    page = reverse("admin:password_change")
    assert page == "/admin/password_change/"

    def change(old: str, address: str):
        data = {"old_password": old, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
        return client.post(page, data, REMOTE_ADDR=address)

    assert [change(f"wrong-guess-{i}", SPRAYER).status_code for i in range(5)] == [200] * 4 + [429]
    assert failures_from(SPRAYER) == 5
    assert change(PASSWORD, SPRAYER).status_code == 429
    world.admin.refresh_from_db()
    assert world.admin.password == hash_before
    response = change(PASSWORD, OFFICE)
    assert (response.status_code, response["Location"]) == (302, "/admin/password_change/done/")
    world.admin.refresh_from_db()
    assert world.admin.check_password(NEW_PASSWORD)


# --- IPv6 ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "counted"),
    [
        ("10.0.0.66", "10.0.0.66"),
        ("2001:db8:1:2::1", "2001:db8:1:2::"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::"),
        ("2001:db8:1:3::1", "2001:db8:1:3::"),
        ("::ffff:10.0.0.66", "10.0.0.66"),
        ("::1", "::"),
    ],
)
def test_the_lockout_counts_an_ipv6_address_by_its_64(rf, address, counted):
    assert throttle_address(rf.get("/", REMOTE_ADDR=address)) == counted


def test_ipv6_guesses_from_one_64_lock_it_and_the_access_log_keeps_each_address(client, world, throttle_on):
    # Each guess from another address of the same /64.
    answers = [
        log_in(Client(), name, "Summer2025!spring", f"2001:db8:1:2:{i:x}::{i + 1:x}").status_code
        for i, name in enumerate(SPRAYED)
    ]
    assert answers == [200] * 9 + [429]
    assert failures_from("2001:db8:1:2::") == 10
    # Another /64 is another address; the locked one refuses the right password from a new address in it.
    assert log_in(Client(), "officer", PASSWORD, "2001:db8:1:2:aaaa::1").status_code == 429
    assert log_in(Client(), "officer", PASSWORD, "2001:db8:1:3::1").status_code == 302
    # The access log records the full address of the successful log-in's later requests.
    browser = Client()
    assert log_in(browser, "supervisor", PASSWORD, "2001:db8:1:4::abcd").status_code == 302
    case = case_in(world, CaseStatus.INTAKE)
    assert browser.get(reverse("cases:detail", args=[case.pk]), REMOTE_ADDR="2001:db8:1:4::abcd").status_code == 200
    assert list(AccessLog.objects.filter(case=case).values_list("source_ip", flat=True)) == ["2001:db8:1:4::abcd"]
