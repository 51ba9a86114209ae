"""Notification e-mails are sent once, retried with backoff when the mail server refuses them, and end either sent
or visibly failed; a lock on the recipient's user row never makes a delivery pass a notification by."""

import json
import smtplib
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone, translation

from cases import notifications, services, tasks
from cases.ledger import reconcile
from cases.models import Case, CaseEvent, Notification, OutboxMessage
from demo.organisation import ensure_admin_group
from tests.factories import draft, due_day

SUPERVISOR_MAIL = "county_supervisor@police.example"


class RefusingBackend(EmailBackend):
    """A mail server that refuses the next ``refusals`` messages (all of them when negative), then accepts; with
    ``refuse_to`` set, only messages to that address are refused."""

    refusals = 0
    attempts = 0
    refuse_to: str | None = None

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        cls = type(self)
        cls.attempts += 1
        targeted = cls.refuse_to is None or any(cls.refuse_to in m.to for m in messages)
        if cls.refusals and targeted:
            cls.refusals -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class HeldBackend(EmailBackend):
    """A send that signals it has started, waits to be let go, then fails: a delivery still in progress."""

    sending = threading.Event()
    proceed = threading.Event()

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        type(self).sending.set()
        assert type(self).proceed.wait(timeout=20)
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def refusing(settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    RefusingBackend.refusals = 0
    RefusingBackend.attempts = 0
    RefusingBackend.refuse_to = None
    yield RefusingBackend
    RefusingBackend.refusals = 0
    RefusingBackend.refuse_to = None


@pytest.fixture
def media(settings, tmp_path):
    # The ledger's full scan compares the evidence directory with the attachment rows: start from an empty one.
    settings.MEDIA_ROOT = tmp_path


def submit(world, case: Case) -> Case:
    return services.submit_case(case=case, by=world.officer, expected_version=case.version)


def the_notification(case: Case) -> Notification:
    event = CaseEvent.objects.get(case=case, action="submit")
    return Notification.objects.get(event=event)


def email_state(note: Notification) -> tuple:
    note.refresh_from_db()
    return (note.emailed_at is not None, note.email_attempts, note.email_last_error, note.email_failed_at is not None)


def reconcile_command(*args: str) -> dict:
    out = StringIO()
    try:
        call_command("reconcile", *args, stdout=out)
    finally:
        reconcile_command.last = json.loads(out.getvalue())  # type: ignore[attr-defined]
    return reconcile_command.last  # type: ignore[attr-defined]


# --- PostgreSQL: real row locks held by a second connection -------------------------------------------------------


def hold_lock(sql: str, params: list, locked: threading.Event, release: threading.Event, errors: list) -> None:
    """In its own connection: take a row lock, say so, and keep it until released."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            assert cursor.fetchall(), "nothing to lock"
            locked.set()
            assert release.wait(timeout=30)
    except Exception as exc:
        errors.append(exc)
        locked.set()
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_locked_recipient_row_does_not_stop_the_email(postgres_only, world, media):
    """The fault test's reproduction: another connection holds the supervisor's user row (as a last-login update
    does) while the officer submits. The e-mail goes out once, and the ledger finds nothing unsent."""
    case = draft(world)
    locked, release, errors = threading.Event(), threading.Event(), []
    holder = threading.Thread(
        target=hold_lock,
        args=(
            "SELECT id FROM accounts_user WHERE username = %s FOR NO KEY UPDATE",
            ["county_supervisor"],
            locked,
            release,
            errors,
        ),
    )
    holder.start()
    try:
        assert locked.wait(timeout=10)
        case = submit(world, case)  # commits; the notification job runs in-process right after
        note = the_notification(case)
        # Only the notification row is locked for the send, so the held user row did not make it skip.
        assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL]]
        assert email_state(note) == (True, 1, "", False)
    finally:
        release.set()
        holder.join(timeout=30)
    assert errors == []
    assert not holder.is_alive()

    # Later sweeps find nothing left to send: exactly one e-mail.
    later = timezone.now() + timedelta(days=2)
    assert notifications.retry_unsent_emails(now=later)["sent"] == 0
    assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL]]
    message = OutboxMessage.objects.get(key=f"notify:{note.event_id}")
    assert message.done_at is not None
    ledger = reconcile(since=case.created_at, email_after=timedelta(0))
    assert (ledger.problems, ledger.emails_unsent, ledger.emails_failed) == ([], 0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_sweep_passes_by_a_notification_another_delivery_is_sending_and_it_is_sent_once(
    postgres_only, world, settings, media
):
    """A delivery is still talking to the mail server (it holds the notification's row) when the retry sweep runs:
    the sweep passes it by. The delivery then fails, and a later sweep sends the e-mail: once, not twice."""
    settings.EMAIL_BACKEND = f"{__name__}.HeldBackend"
    HeldBackend.sending.clear()
    HeldBackend.proceed.clear()
    case = draft(world)
    errors: list = []

    def deliver() -> None:
        try:
            submit(world, Case.objects.get(pk=case.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    delivery = threading.Thread(target=deliver)
    delivery.start()
    try:
        assert HeldBackend.sending.wait(timeout=10)
        note = the_notification(case)
        swept = notifications.retry_unsent_emails(now=timezone.now() + timedelta(hours=1))
        assert swept == {"sent": 0, "nowhere": 0, "retry": 0, "failed": 0, "skipped": 1}
    finally:
        HeldBackend.proceed.set()
        delivery.join(timeout=30)
    assert errors == []
    assert not delivery.is_alive()
    assert email_state(note) == (False, 1, "SMTPServerDisconnected: Connection unexpectedly closed", False)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    due = note.email_retry_at
    assert notifications.retry_unsent_emails(now=due)["sent"] == 1
    assert notifications.retry_unsent_emails(now=due + timedelta(days=1))["sent"] == 0
    assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL]]
    assert email_state(note) == (True, 2, "SMTPServerDisconnected: Connection unexpectedly closed", False)


# --- Any database: refusals, backoff, giving up, the ledger ---------------------------------------------------------


@pytest.mark.django_db
def test_a_refused_email_is_retried_after_its_backoff_and_then_sent_once(
    world, refusing, django_capture_on_commit_callbacks
):
    refusing.refusals = 2
    case = draft(world)
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(world, case)
    after = timezone.now()
    note = the_notification(case)

    # The refusal is a failed attempt on the notification, not a crashed job: the job is done.
    assert email_state(note) == (False, 1, "SMTPServerDisconnected: Connection unexpectedly closed", False)
    assert before + timedelta(minutes=10) <= note.email_retry_at <= after + timedelta(minutes=10)
    assert OutboxMessage.objects.get(key=f"notify:{note.event_id}").done_at is not None
    assert mail.outbox == []

    # Not before its backoff is over.
    first_retry = note.email_retry_at
    nothing = {"sent": 0, "nowhere": 0, "retry": 0, "failed": 0, "skipped": 0}
    assert notifications.retry_unsent_emails(now=first_retry - timedelta(seconds=1)) == nothing
    assert refusing.attempts == 1

    # The second attempt is refused too: the wait doubles.
    assert notifications.retry_unsent_emails(now=first_retry) == {**nothing, "retry": 1}
    assert email_state(note) == (False, 2, "SMTPServerDisconnected: Connection unexpectedly closed", False)
    assert note.email_retry_at == first_retry + timedelta(minutes=20)

    assert notifications.retry_unsent_emails(now=note.email_retry_at) == {**nothing, "sent": 1}
    assert notifications.retry_unsent_emails(now=note.email_retry_at + timedelta(days=2)) == nothing
    assert refusing.attempts == 3
    assert [(m.subject, m.to) for m in mail.outbox] == [(note.verb, [SUPERVISOR_MAIL])]
    case.refresh_from_db()
    assert note.verb == (
        f"{world.officer.full_name} submitted {case.reference} to the rights-protection office — review it by "
        f"{due_day(case.stage_due_at)}."
    )
    assert email_state(note) == (True, 3, "SMTPServerDisconnected: Connection unexpectedly closed", False)
    assert note.email_retry_at is None


@pytest.mark.django_db
def test_after_the_last_attempt_the_email_is_failed_the_admins_are_told_and_the_admin_lists_it(
    world, refusing, settings, client, media, django_capture_on_commit_callbacks
):
    settings.RIGHTSGUARD_EMAIL_MAX_ATTEMPTS = 3
    refusing.refusals = -1  # the mail server refuses everything
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(world, case)
    note = the_notification(case)
    at = note.email_retry_at
    assert notifications.retry_unsent_emails(now=at)["retry"] == 1
    note.refresh_from_db()
    at = note.email_retry_at
    assert notifications.retry_unsent_emails(now=at)["failed"] == 1

    assert email_state(note) == (False, 3, "SMTPServerDisconnected: Connection unexpectedly closed", True)
    assert note.email_retry_at is None
    # Failed for good: later sweeps leave it alone.
    assert notifications.retry_unsent_emails(now=at + timedelta(days=30))["failed"] == 0
    assert refusing.attempts == 3
    assert mail.outbox == []

    # The administrators over the case's unit (the province's) are told in-app; nobody else is.
    with translation.override(settings.LANGUAGE_CODE):
        expected = (
            f"The e-mail to {world.county_supervisor.full_name} about {case.reference} could not be sent after 3 "
            "attempts — check their address, then retry it from the notifications in the administration."
        )
    notices = Notification.objects.filter(event__isnull=True)
    assert list(notices.values_list("recipient__username", "case_id", "verb")) == [("admin", case.pk, expected)]
    assert notices.get().emailed_at is not None  # in-app only

    # The province's administrator finds it in the admin's notification list under "e-mail: failed for good".
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    world.admin.groups.add(ensure_admin_group())
    client.force_login(world.admin)
    response = client.get("/admin/cases/notification/", {"email": "failed"})
    assert response.status_code == 200
    assert [n.pk for n in response.context["cl"].result_list] == [note.pk]
    sent = client.get("/admin/cases/notification/", {"email": "sent"}).context["cl"].result_list
    assert [(n.recipient.username, n.event_id) for n in sent] == [("admin", None)]  # the notice, in-app only

    # The ledger reports it.
    with pytest.raises(CommandError):
        reconcile_command()
    assert reconcile_command.last["emails_failed"] == 1  # type: ignore[attr-defined]
    assert reconcile_command.last["problems"] == ["1 notification e-mail(s) failed after every attempt"]  # type: ignore[attr-defined]

    # A supervisor may not retry it, and nothing changes.
    with pytest.raises(PermissionDenied):
        services.retry_failed_emails(notifications=Notification.objects.filter(pk=note.pk), by=world.supervisor)
    assert email_state(note) == (False, 3, "SMTPServerDisconnected: Connection unexpectedly closed", True)

    # Once the mail server works again, the unit's administrator retries it from the admin, and it is sent.
    refusing.refusals = 0
    response = client.post(
        "/admin/cases/notification/?email=failed", {"action": "retry_email", "_selected_action": [note.pk]}
    )
    assert response.status_code == 302
    assert email_state(note) == (False, 0, "SMTPServerDisconnected: Connection unexpectedly closed", False)
    assert notifications.retry_unsent_emails(now=timezone.now())["sent"] == 1
    assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL]]
    assert reconcile_command()["problems"] == []


@pytest.mark.django_db
def test_the_ledger_reports_an_email_not_sent_after_the_given_minutes_and_passes_once_it_is(
    world, refusing, media, django_capture_on_commit_callbacks
):
    refusing.refusals = 1
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        case = submit(world, case)
    note = the_notification(case)

    # Just created: within the default 30 minutes, not yet a problem.
    assert reconcile_command()["emails_unsent"] == 0
    with pytest.raises(CommandError, match="1 problem"):
        reconcile_command("--email-after-minutes", "0")
    assert reconcile_command.last["emails_unsent"] == 1  # type: ignore[attr-defined]
    assert reconcile_command.last["problems"] == ["1 notification e-mail(s) not sent after 0 minutes"]  # type: ignore[attr-defined]
    # Thirty-one minutes on, the default reports it too.
    Notification.objects.filter(pk=note.pk).update(created_at=note.created_at - timedelta(minutes=31))
    with pytest.raises(CommandError, match="1 problem"):
        reconcile_command()
    assert reconcile_command.last["problems"] == ["1 notification e-mail(s) not sent after 30 minutes"]  # type: ignore[attr-defined]

    note.refresh_from_db()
    assert notifications.retry_unsent_emails(now=note.email_retry_at)["sent"] == 1
    result = reconcile_command("--email-after-minutes", "0")
    assert (result["problems"], result["emails_unsent"], result["emails_failed"], result["ok"]) == ([], 0, 0, True)


@pytest.mark.django_db
def test_a_notification_a_delivery_left_unsent_is_taken_by_the_sweep_after_the_grace_period(world, media):
    """A delivery that died between creating the notification and e-mailing it (or skipped its row) leaves it
    with no attempt: the sweep sends it once the delivery's grace period is over."""
    case = draft(world)
    case = submit(world, case)  # in the test's transaction: the notification job has not run
    event = CaseEvent.objects.get(case=case, action="submit")
    created = timezone.now()
    note = Notification.objects.create(
        recipient=world.county_supervisor, case=case, event=event, verb="x", created_at=created
    )
    assert notifications.retry_unsent_emails(now=created + timedelta(seconds=119))["sent"] == 0
    assert notifications.retry_unsent_emails(now=created + timedelta(minutes=2))["sent"] == 1
    assert [(m.subject, m.to) for m in mail.outbox] == [("x", [SUPERVISOR_MAIL])]
    assert email_state(note) == (True, 1, "", False)


@pytest.mark.django_db
def test_a_refused_flag_digest_is_counted_and_retried_and_other_supervisors_still_get_theirs(world, refusing):
    # Flags are raised on submitted cases, which the supervisors see (a digest names only cases its reader sees).
    case = submit(world, draft(world))
    now = timezone.now()
    flagged = [
        Notification.objects.create(recipient=user, case=case, verb=f"flag for {user.username}", created_at=now)
        for user in (world.supervisor, world.county_supervisor)
    ]
    refusing.refusals = 1
    refusing.refuse_to = "supervisor@police.example"  # the city supervisor's digest is refused once
    assert notifications.deliver_flag_digests(now=now) == 1
    assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL]]
    city, county = flagged
    assert email_state(city) == (False, 1, "SMTPServerDisconnected: Connection unexpectedly closed", False)
    assert city.email_retry_at == now + timedelta(minutes=10)
    assert email_state(county) == (True, 1, "", False)

    # The next digest run within the backoff leaves it; the one after it sends it.
    assert notifications.deliver_flag_digests(now=now + timedelta(minutes=9)) == 0
    assert notifications.deliver_flag_digests(now=now + timedelta(minutes=10)) == 1
    assert [m.to for m in mail.outbox] == [[SUPERVISOR_MAIL], ["supervisor@police.example"]]
    assert email_state(city) == (True, 2, "SMTPServerDisconnected: Connection unexpectedly closed", False)


@pytest.mark.django_db
def test_the_retry_task_runs_once_per_period(world, monkeypatch):
    at = timezone.now().replace(second=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    assert tasks.retry_notification_emails(period=60.0) == {
        "sent": 0,
        "nowhere": 0,
        "retry": 0,
        "failed": 0,
        "skipped": 0,
    }
    assert tasks.retry_notification_emails(period=60.0) == {"skipped": 1}
