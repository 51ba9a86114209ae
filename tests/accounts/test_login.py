"""Log-in protection: lockout per username and address, uniform answers, session limits, security headers."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.middleware import LOGIN_AT, SEEN_AT
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


def test_idle_timeout_is_thirty_minutes_and_refreshed_by_activity_not_by_saving_every_request(settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.MIDDLEWARE.index("accounts.middleware.IdleExpiryMiddleware") == (
        settings.MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1
    )


T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def at(when: datetime):
    return mock.patch("django.utils.timezone.now", return_value=when)


def session_writes(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries if "django_session" in q["sql"] and not q["sql"].startswith("SELECT")]


def stored_expiry(client) -> datetime:
    return Session.objects.get(session_key=client.cookies["sessionid"].value).expire_date


def test_a_request_within_a_minute_of_the_last_refresh_does_not_write_the_session(client, world):
    with at(T0):
        client.force_login(world.officer)
        assert client.get("/").status_code == 200  # the first request marks the refresh
    assert stored_expiry(client) == T0 + timedelta(minutes=30)
    for seconds in (1, 30, 59):
        with at(T0 + timedelta(seconds=seconds)), CaptureQueriesContext(connection) as queries:
            response = client.get("/")
        assert response.status_code == 200
        assert session_writes(queries) == []
        assert "sessionid" not in response.cookies
        assert stored_expiry(client) == T0 + timedelta(minutes=30)


def test_a_request_a_minute_or_more_after_the_last_refresh_pushes_the_expiry_forward(client, world):
    with at(T0):
        client.force_login(world.officer)
        client.get("/")
    later = T0 + timedelta(seconds=60)
    with at(later), CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    assert len(session_writes(queries)) == 1
    assert response.cookies["sessionid"]["max-age"] == 30 * 60
    assert stored_expiry(client) == later + timedelta(minutes=30)
    with at(later):
        assert client.session[SEEN_AT] == later.timestamp()


def test_activity_keeps_a_session_past_thirty_minutes_and_thirty_idle_minutes_end_it(client, world):
    with at(T0):
        client.force_login(world.officer)
    for minutes in (0, 10, 20, 30, 40, 50):
        with at(T0 + timedelta(minutes=minutes)):
            assert client.get("/").status_code == 200
    # 30 minutes after the last request (the last refresh), the session is gone.
    with at(T0 + timedelta(minutes=50 + 30, seconds=1)):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_idle_time_counts_from_the_last_refresh_not_from_requests_within_its_minute(client, world):
    with at(T0):
        client.force_login(world.officer)
        client.get("/")
    with at(T0 + timedelta(seconds=50)):
        assert client.get("/").status_code == 200  # within the minute: nothing written
    # So the session ends 30 minutes after the refresh, 50 seconds before 30 minutes of idleness: within a minute.
    with at(T0 + timedelta(minutes=30, seconds=1)):
        assert client.get("/").status_code == 302


def test_a_stale_session_cookie_is_not_made_into_a_session(client, db):
    client.cookies["sessionid"] = "no-such-session-0123456789abcdef"
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert session_writes(queries) == []
    assert not Session.objects.exists()


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


def test_logging_out_ends_the_session_between_refreshes(client, world):
    with at(T0):
        client.force_login(world.officer)
        client.get("/")
    key = client.cookies["sessionid"].value
    with at(T0 + timedelta(seconds=10)):  # within the minute: the session was not written since
        assert client.post("/accounts/logout/").status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    with at(T0 + timedelta(seconds=20)):
        client.cookies["sessionid"] = key
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not Session.objects.filter(session_key=key).exists()


def test_a_refresh_by_a_request_that_reads_no_user_does_not_outlive_a_new_password(client, world):
    with at(T0):
        client.force_login(world.officer)
        client.get("/")
    with at(T0 + timedelta(seconds=5)):
        services.set_password(user=world.officer, password="An0ther-Passw0rd!!")
    with at(T0 + timedelta(seconds=70)):
        assert client.get("/healthz").status_code == 200  # pushes the expiry forward without reading the user
    with at(T0 + timedelta(seconds=80)):
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
