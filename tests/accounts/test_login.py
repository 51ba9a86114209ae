"""Log-in protection: lockout per username and address, uniform answers, session limits, security headers."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import LOGIN_AT
from tests.factories import PASSWORD


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


def attempt(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_five_failures_lock_the_username_from_that_address_even_for_the_right_password(client, world, axes_on):
    for _ in range(4):
        assert attempt(client, "officer", "wrong-password-123").status_code == 200
    locked = attempt(client, "officer", "wrong-password-123")
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert attempt(client, "officer", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session
    # Another officer at that address is unaffected: five failures are below the address's own limit.
    assert attempt(client, "other_officer", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    # The lock is on the username at that address: from another address its owner logs in (a stranger's failures
    # must not lock an officer out; tests/security/test_throttle.py).
    elsewhere = client.post(reverse("login"), {"username": "officer", "password": PASSWORD}, REMOTE_ADDR="10.0.0.5")
    assert elsewhere.status_code == 302


def test_success_resets_the_failure_count(client, world, axes_on):
    for _ in range(4):
        attempt(client, "officer", "wrong-password-123")
    assert attempt(client, "officer", PASSWORD).status_code == 302
    assert AccessAttempt.objects.filter(username="officer").count() == 0


def test_unknown_and_known_usernames_get_the_same_answer(client, world, axes_on):
    unknown = attempt(client, "nobody-here", "wrong-password-123").content.decode()
    known = attempt(client, "officer", "wrong-password-123").content.decode()
    marker = "Please enter a correct username and password"
    assert marker in unknown
    assert marker in known


def test_a_session_ends_twelve_hours_after_login_however_active(client, world, settings):
    client.force_login(world.officer)
    assert client.get("/").status_code == 200
    session = client.session
    session[LOGIN_AT] = timezone.now().timestamp() - settings.RIGHTSGUARD_SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_idle_timeout_is_thirty_minutes_and_refreshed_by_activity(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_pages_carry_a_strict_content_security_policy(client, world):
    client.force_login(world.officer)
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_other_security_headers(client, db):
    response = client.get(reverse("login"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_new_session_id_at_login(client, world):
    client.get(reverse("login"))
    client.cookies["sessionid"] = "attacker-chosen-session-id"
    client.post(reverse("login"), {"username": "officer", "password": PASSWORD})
    assert client.cookies["sessionid"].value != "attacker-chosen-session-id"


def test_log_in_brings_back_the_language_the_user_chose(client, world):
    world.officer.language = "zh-hans"
    world.officer.save(update_fields=["language"])

    response = attempt(client, "officer", PASSWORD)

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    home = client.get(reverse("cases:home"))
    assert home.headers["Content-Language"] == "zh-hans"


def test_log_in_without_a_chosen_language_keeps_the_browser_s(client, world):
    assert world.officer.language == ""

    response = attempt(client, "officer", PASSWORD)

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_a_refused_log_in_sets_no_language(client, world):
    world.officer.language = "zh-hans"
    world.officer.save(update_fields=["language"])

    response = attempt(client, "officer", "wrong-password-123")

    assert response.status_code == 200
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
