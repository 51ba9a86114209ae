"""Notification e-mail tried from outside: an e-mail that waits for a retry (after the mail server refused it, or
after an administrator asked for one) must not go to someone who can no longer see its case by the time it is
sent. The subject and body name the case and what happened to it."""

import smtplib
import socket
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Membership, Role
from cases import notifications, services
from cases.models import Case, CaseEvent, Notification
from cases.selectors import cases_visible_to
from tests.api.conftest import token_client
from tests.factories import draft, member

NOTHING = {"sent": 0, "nowhere": 0, "retry": 0, "failed": 0, "skipped": 0}


class DownBackend(EmailBackend):
    """A mail server that drops the connection on every message."""

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def submitted_with_mail_down(world, settings, django_capture_on_commit_callbacks) -> Notification:
    """The officer submits while the mail server is down: the county supervisor's e-mail waits for a retry."""
    settings.EMAIL_BACKEND = f"{__name__}.DownBackend"
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.submit_case(case=case, by=world.officer, expected_version=case.version)
    note = Notification.objects.get(event=CaseEvent.objects.get(case=case, action="submit"))
    assert note.recipient == world.county_supervisor
    assert (note.emailed_at, note.email_attempts) == (None, 1)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return note


def moved_away(world, case: Case) -> None:
    """The county supervisor leaves the county: the case is no longer theirs to see."""
    account_services.revoke_membership(membership=Membership.objects.get(user=world.county_supervisor))
    assert not cases_visible_to(world.county_supervisor).filter(pk=case.pk).exists()


@pytest.mark.django_db
def test_a_retried_email_does_not_go_to_a_recipient_who_lost_access_to_the_case(
    world, settings, django_capture_on_commit_callbacks
):
    note = submitted_with_mail_down(world, settings, django_capture_on_commit_callbacks)
    moved_away(world, note.case)

    assert notifications.retry_unsent_emails(now=note.email_retry_at) == {**NOTHING, "nowhere": 1}
    assert mail.outbox == []
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert (note.email_attempts, note.email_failed_at) == (1, None)
    # Handled: later sweeps do not try again.
    assert notifications.retry_unsent_emails(now=note.email_retry_at + timedelta(days=2)) == NOTHING
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_administrators_retry_does_not_send_the_case_to_a_recipient_who_lost_access(
    world, settings, django_capture_on_commit_callbacks
):
    settings.RIGHTSGUARD_EMAIL_MAX_ATTEMPTS = 1
    note = submitted_with_mail_down(world, settings, django_capture_on_commit_callbacks)
    note.refresh_from_db()
    assert note.email_failed_at is not None
    moved_away(world, note.case)

    assert services.retry_failed_emails(notifications=Notification.objects.filter(pk=note.pk), by=world.admin) == 1
    assert notifications.retry_unsent_emails(now=timezone.now() + timedelta(seconds=1)) == {**NOTHING, "nowhere": 1}
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_flag_digest_leaves_out_the_cases_its_recipient_can_no_longer_see(world, settings):
    case = draft(world)
    case = services.submit_case(case=case, by=world.officer, expected_version=case.version)
    other = draft(world, location="杭州市西湖区灵隐路")
    other = services.submit_case(case=other, by=world.officer, expected_version=other.version)
    now = timezone.now()
    # Stage-clock warnings (flag notifications without an event): the county supervisor's, then the city one's.
    Notification.objects.bulk_create(
        [
            Notification(recipient=world.county_supervisor, case=case, verb=f"{case.reference}: gone", created_at=now),
            Notification(recipient=world.supervisor, case=other, verb=f"{other.reference}: kept", created_at=now),
        ]
    )
    moved_away(world, case)

    assert notifications.deliver_flag_digests(now=now + timedelta(seconds=1)) == 1
    assert [(m.to, case.reference in m.body, other.reference in m.body) for m in mail.outbox] == [
        (["supervisor@police.example"], False, True)
    ]
    gone = Notification.objects.get(recipient=world.county_supervisor, case=case, event__isnull=True)
    assert gone.emailed_at is not None
    assert gone.email_attempts == 0


# --- A mail server that does not answer ----------------------------------------------------------------------------


def _listen_on_loopback() -> socket.socket:
    """A listening socket on the first free port of the range set aside for these tests (loopback only)."""
    for port in range(8701, 8710):
        try:
            return socket.create_server(("127.0.0.1", port))
        except OSError:
            continue
    raise AssertionError("no free port in 8701-8709")


class SilentMailServer:
    """A loopback port that accepts connections and never says a word (a hung mail server): each client waits out
    its ``EMAIL_TIMEOUT``. Counts the connections; every wait is bounded."""

    def __init__(self) -> None:
        self.listener = _listen_on_loopback()
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            self.held.append(conn)

    def __enter__(self) -> "SilentMailServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.held:
            conn.close()
        self.listener.close()


@pytest.mark.django_db
def test_a_hung_mail_server_costs_one_delivery_a_few_timeouts_not_one_per_recipient(world, settings):
    """The retry sweep stops after ``RETRY_STOP_AFTER_FAILURES`` failures in a row instead of waiting out every
    notification's timeout; a delivery to many recipients (an event that tells a whole office) must stop the same
    way, or a hung mail server holds it (and, without a broker, the user's request) for one timeout per recipient."""
    for _ in range(4):
        member(world.county, Role.SUPERVISOR)
    case = draft(world)
    case = services.submit_case(case=case, by=world.officer, expected_version=case.version)  # job not run yet
    event = CaseEvent.objects.get(case=case, action="submit")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = 0.3
    with SilentMailServer() as server:
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
        assert notifications.deliver_for_event(event.pk) == 5
        assert server.connections == notifications.RETRY_STOP_AFTER_FAILURES == 3
    attempts = sorted(Notification.objects.filter(event=event).values_list("email_attempts", flat=True))
    assert attempts == [0, 0, 1, 1, 1]
    assert Notification.objects.filter(event=event, emailed_at__isnull=False).count() == 0
    # The ones not tried are the sweep's once the delivery's grace period is over.
    later = timezone.now() + notifications.RETRY_GRACE
    assert Notification.objects.filter(notifications.email_due_for_retry(later), email_attempts=0).count() == 2


@pytest.mark.django_db
def test_the_in_app_notifications_of_a_case_go_with_access_to_it(world):
    """What an e-mail may no longer say, the notifications page, its unread count and the API may not show either:
    a supervisor who left the county keeps only the notifications of the cases they can still see."""
    case = services.submit_case(case=draft(world), by=world.officer, expected_version=1)
    other = services.submit_case(case=draft(world, location="杭州市西湖区灵隐路"), by=world.officer, expected_version=1)
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(recipient=world.county_supervisor, case=case, verb=f"{case.reference}: gone", created_at=now),
        ]
    )
    Case.objects.filter(pk=other.pk).update(filed_by=world.county_supervisor)  # theirs whatever their role
    Notification.objects.create(
        recipient=world.county_supervisor, case=other, verb=f"{other.reference}: kept", created_at=now
    )
    browser = Client()
    browser.force_login(world.county_supervisor)

    def shown() -> tuple[list[str], int, list[str]]:
        page = browser.get(reverse("cases:notifications"))
        verbs = [n.verb for n in page.context["items"]]
        # A new token each time: a change of roles ends the tokens issued before it.
        api = token_client(world.county_supervisor)
        listed = [n["verb"] for n in api.get("/api/v1/notifications/").json()["results"]]
        return verbs, page.context["nav_unread"], listed

    everything = [f"{other.reference}: kept", f"{case.reference}: gone"]
    assert shown() == (everything, 2, everything)
    moved_away(world, case)
    still = [f"{other.reference}: kept"]
    assert shown() == (still, 1, still)
    assert Notification.objects.filter(recipient=world.county_supervisor).count() == 2  # hidden, not deleted
