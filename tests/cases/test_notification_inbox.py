"""The notification list (pages, filters, counts), opening a notification, marking one or all read; the delivery
preferences per kind (e-mail at once, the daily digest, in-app only) and the daily digest; the flag digest's link."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from accounts import services as account_services
from cases import messages, notifications, tasks
from cases.choices import (
    PREFERENCE_KINDS,
    CaseStatus,
    FlagKind,
    NotificationDelivery,
    NotificationKind,
    Track,
)
from cases.ledger import reconcile
from cases.models import Case, Notification, NotificationPreference
from cases.services import refer_case, submit_case
from cases.services.inbox import set_notification_preferences
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db

D = NotificationDelivery


@pytest.fixture(autouse=True)
def _language_left_as_found():
    with translation.override(translation.get_language()):
        yield


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def make_notes(user, case: Case, count: int, kind: str = NotificationKind.CASE_MOVES, read: bool = False) -> list:
    now = timezone.now()
    return Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                case=case,
                verb=f"{kind} {i}",
                kind=kind,
                created_at=now - timedelta(minutes=i),
                read_at=now if read else None,
            )
            for i in range(count)
        ]
    )


def state(user) -> list[tuple]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("pk", "read_at"))


# --- Opening, marking read ----------------------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(world):
    case = case_in(world, CaseStatus.INTAKE)
    [note] = make_notes(world.officer, case, 1)
    client = login(world.officer)
    assert client.head(reverse("cases:notification-open", args=[note.pk])).status_code == 302
    assert Notification.objects.get(pk=note.pk).read_at is None  # a HEAD (a link checker) reads nothing
    response = client.get(reverse("cases:notification-open", args=[note.pk]))
    assert (response.status_code, response["Location"]) == (302, reverse("cases:detail", args=[case.pk]))
    assert Notification.objects.get(pk=note.pk).read_at is not None


def test_someone_elses_notification_is_not_found_and_nothing_changes(world):
    case = case_in(world, CaseStatus.INTAKE)
    [note] = make_notes(world.officer, case, 1)
    before = state(world.officer)
    for user in (world.other_officer, world.supervisor):
        client = login(user)
        assert client.get(reverse("cases:notification-open", args=[note.pk])).status_code == 404
        assert client.post(reverse("cases:notification-read", args=[note.pk])).status_code == 404
    assert state(world.officer) == before
    assert before[0][1] is None


def test_marking_one_read_leaves_the_others_and_returns_to_the_list_as_it_was(world):
    case = case_in(world, CaseStatus.INTAKE)
    first, second = make_notes(world.officer, case, 2)
    client = login(world.officer)
    back = reverse("cases:notifications") + "?show=unread&page=1"
    response = client.post(reverse("cases:notification-read", args=[first.pk]), {"next": back})
    assert (response.status_code, response["Location"]) == (302, back)
    assert [r is not None for _pk, r in state(world.officer)] == [True, False]
    # Another site is never where it goes back to.
    response = client.post(reverse("cases:notification-read", args=[second.pk]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("cases:notifications")
    assert [r is not None for _pk, r in state(world.officer)] == [True, True]


def test_mark_all_read_marks_only_ones_own(world):
    case = case_in(world, CaseStatus.INTAKE)
    make_notes(world.officer, case, 3)
    make_notes(world.other_officer, case, 1)
    login(world.officer).post(reverse("cases:notifications-read"))
    assert Notification.objects.filter(recipient=world.officer, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=world.other_officer, read_at__isnull=True).count() == 1


# --- The list: pages, filters, counts -------------------------------------------------------------------------------


def test_the_list_pages_and_counts(world):
    case = case_in(world, CaseStatus.INTAKE)
    notes = make_notes(world.officer, case, 30)
    client = login(world.officer)
    page1 = client.get(reverse("cases:notifications"))
    assert [n.pk for n in page1.context["items"]] == [n.pk for n in notes[:25]]  # newest first
    body = page1.content.decode()
    assert "1–25 of 30" in body
    assert "You have 30 unread notifications." in body
    assert page1.context["next_url"] == "?page=2"
    page2 = client.get(reverse("cases:notifications") + "?page=2")
    assert [n.pk for n in page2.context["items"]] == [n.pk for n in notes[25:]]
    assert "26–30 of 30" in page2.content.decode()
    assert page2.context["prev_url"] == "?page=1"
    assert page2.context["next_url"] == ""


def test_the_list_filters_by_unread_and_kind_and_keeps_them_across_pages(world):
    case = case_in(world, CaseStatus.INTAKE)
    unread_moves = make_notes(world.officer, case, 26)
    make_notes(world.officer, case, 2, read=True)
    flags = make_notes(world.officer, case, 3, kind=NotificationKind.FLAGS)
    client = login(world.officer)
    url = reverse("cases:notifications")
    only_flags = client.get(url, {"kind": "flags"})
    assert {n.pk for n in only_flags.context["items"]} == {n.pk for n in flags}
    unread = client.get(url, {"show": "unread", "kind": "case_moves"})
    assert unread.context["page"].paginator.count == 26
    assert unread.context["next_url"] == "?show=unread&kind=case_moves&page=2"
    read = client.get(url, {"show": "read"})
    assert read.context["page"].paginator.count == 2
    assert unread.context["counts"] == {"case_moves": 26, "flags": 3, "all": 29}
    assert [n.pk for n in client.get(url + "?show=unread&kind=case_moves&page=2").context["items"]] == [
        unread_moves[25].pk
    ]


def test_bad_filters_are_refused_and_everything_is_shown(world):
    case = case_in(world, CaseStatus.INTAKE)
    make_notes(world.officer, case, 2)
    response = login(world.officer).get(reverse("cases:notifications"), {"kind": "gossip", "page": "x"})
    assert response.status_code == 400
    assert len(response.context["items"]) == 2
    assert "These filters are not valid; every notification is shown." in response.content.decode()


def test_the_list_costs_the_same_queries_for_ten_or_forty(world):
    case = case_in(world, CaseStatus.INTAKE)
    make_notes(world.officer, case, 10)
    client = login(world.officer)
    client.get(reverse("cases:notifications"))  # warm the session
    with CaptureQueriesContext(connection) as ten:
        client.get(reverse("cases:notifications"))
    make_notes(world.officer, case, 30)
    with CaptureQueriesContext(connection) as forty:
        client.get(reverse("cases:notifications"))
    assert len(forty) == len(ten)


# --- Preferences ------------------------------------------------------------------------------------------------


def test_the_settings_page_shows_the_defaults_and_saves_choices_in_both_languages(world):
    client = login(world.officer)
    page = client.get(reverse("cases:notification-settings"))
    assert page.status_code == 200
    assert {name: page.context["form"][name].value() for name in PREFERENCE_KINDS} == dict.fromkeys(
        PREFERENCE_KINDS, "email"
    )
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("cases:notification-settings")).content.decode()
    assert "通知设置" in chinese
    assert "每日汇总邮件" in chinese
    choices = {**dict.fromkeys(PREFERENCE_KINDS, "email"), "flags": "daily", "case_moves": "in_app"}
    response = client.post(reverse("cases:notification-settings"), choices)
    assert (response.status_code, response["Location"]) == (302, reverse("cases:notification-settings"))
    assert dict(NotificationPreference.objects.filter(user=world.officer).values_list("kind", "delivery")) == choices


def test_a_bad_choice_is_refused_next_to_its_field_and_nothing_is_saved(world):
    client = login(world.officer)
    choices = {**dict.fromkeys(PREFERENCE_KINDS, "daily"), "flags": "pigeon"}
    response = client.post(reverse("cases:notification-settings"), choices)
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["flags"]
    assert response.context["form"]["case_moves"].value() == "daily"  # what was chosen is kept
    assert not NotificationPreference.objects.exists()


def submitted(world) -> Case:
    case = draft(world)
    submit_case(case=case, by=world.officer, expected_version=case.version)  # eager: delivered after commit
    return case


def with_mail(user, address: str, language: str = "en") -> None:
    user.email = address
    user.save(update_fields=["email"])
    account_services.set_language_preference(user=user, language=language)


def test_by_default_a_notification_is_e_mailed_at_once_with_the_same_text(world, django_capture_on_commit_callbacks):
    with_mail(world.county_supervisor, "county@example.org", "zh-hans")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case = submitted(world)
    note = Notification.objects.get(recipient=world.county_supervisor, case=case)
    [sent] = mail.outbox
    with translation.override("zh-hans"):
        assert sent.subject == note.text
        assert note.text in sent.body.split("\n\n")
    assert (note.delivery, note.emailed_at is not None) == (D.EMAIL, True)


def test_in_app_only_sends_no_e_mail_and_leaves_nothing_to_send(world, django_capture_on_commit_callbacks):
    with_mail(world.county_supervisor, "county@example.org")
    set_notification_preferences(user=world.county_supervisor, deliveries={"case_moves": D.IN_APP})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        case = submitted(world)
    note = Notification.objects.get(recipient=world.county_supervisor, case=case)
    assert mail.outbox == []
    assert (note.delivery, note.emailed_at == note.created_at) == (D.IN_APP, True)
    later = timezone.now() + timedelta(days=2)
    assert notifications.retry_unsent_emails(now=later)["sent"] == 0
    assert notifications.deliver_daily_digests(now=later) == 0
    assert mail.outbox == []


def test_the_daily_digest_sends_one_mail_once_in_the_recipients_language(world, django_capture_on_commit_callbacks):
    with_mail(world.county_supervisor, "county@example.org", "zh-hans")
    with_mail(world.officer, "officer@example.org")
    set_notification_preferences(user=world.county_supervisor, deliveries={"case_moves": D.DAILY})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first, second = submitted(world), submitted(world)
    assert mail.outbox == []  # not at once
    later = timezone.now() + timedelta(hours=1)
    # Nor by the retry sweep, which takes only the ones to be e-mailed at once.
    assert notifications.retry_unsent_emails(now=later)["sent"] == 0
    assert notifications.deliver_daily_digests(now=later) == 1
    [digest] = mail.outbox
    notes = list(Notification.objects.filter(recipient=world.county_supervisor).order_by("created_at", "id"))
    assert [n.case_id for n in notes] == [first.pk, second.pk]
    with translation.override("zh-hans"):
        texts = [n.text for n in notes]
    assert digest.to == ["county@example.org"]
    assert digest.subject == "民警维权系统：您的每日汇总，共 2 条通知"
    assert digest.body == "\n\n".join(
        [
            f"{world.county_supervisor.full_name}，您好：",
            "自上次汇总以来，您的案件有以下动态：",
            "\n".join(f"- {t}" for t in texts),
            "您在民警维权系统中的通知：http://localhost:8000/notifications/",
        ]
    )
    assert all(n.emailed_at is not None and n.email_attempts == 1 for n in notes)
    # A rerun (the beat's task twice, or a redelivered job) sends nothing more.
    assert notifications.deliver_daily_digests(now=later) == 0
    assert tasks.send_daily_digests() == 0
    assert len(mail.outbox) == 1


def test_a_refused_digest_is_retried_after_its_backoff(world, django_capture_on_commit_callbacks, monkeypatch):
    with_mail(world.county_supervisor, "county@example.org")
    set_notification_preferences(user=world.county_supervisor, deliveries={"case_moves": D.DAILY})
    with django_capture_on_commit_callbacks(execute=True):
        submitted(world)
    mail.outbox.clear()

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(notifications, "send_mail", refuse)
    now = timezone.now()
    assert notifications.deliver_daily_digests(now=now) == 0
    note = Notification.objects.get(recipient=world.county_supervisor)
    assert (note.emailed_at, note.email_attempts) == (None, 1)
    assert note.email_retry_at == now + notifications.email_backoff(1)
    monkeypatch.undo()
    assert notifications.deliver_daily_digests(now=now) == 0  # still waiting out the backoff
    assert notifications.deliver_daily_digests(now=note.email_retry_at) == 1
    assert len(mail.outbox) == 1


def test_the_daily_digest_is_scheduled_once_a_day(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["send-daily-digests"]
    assert entry["task"] == "cases.send_daily_digests"
    assert entry["kwargs"] == {"period": 86400.0}
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({settings.RIGHTSGUARD_DAILY_DIGEST_HOUR}, {0})


def test_preferences_apply_per_kind(world, django_capture_on_commit_callbacks):
    """The filer chose in-app only for case moves but e-mail for the rest: a referral is not e-mailed."""
    with_mail(world.officer, "officer@example.org")
    set_notification_preferences(user=world.officer, deliveries={"case_moves": D.IN_APP, "flags": D.DAILY})
    case = case_in(world, CaseStatus.INTAKE)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        refer_case(
            case=case, by=world.supervisor, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
        )
    note = Notification.objects.get(recipient=world.officer, case=case)
    assert (note.kind, note.delivery) == (NotificationKind.CASE_MOVES, D.IN_APP)
    assert mail.outbox == []


# --- The flag digest's link ----------------------------------------------------------------------------------------


def flagged_for_county_supervisor(world, flag: str, code: str, delivery: str) -> Case:
    """An intake case with a flag-scan notification for the county supervisor (who has an address), mail cleared."""
    with_mail(world.county_supervisor, "county@example.org")
    case = case_in(world, CaseStatus.INTAKE)
    message, params = messages.for_flag(case.reference, flag, code, None)
    notifications.build_notification(
        recipient_id=world.county_supervisor.pk,
        case_id=case.pk,
        message=message,
        params={**params, "v": 2, "to": "office"},
        delivery=delivery,
        now=timezone.now(),
    ).save()
    mail.outbox.clear()
    return case


def test_the_stalled_case_digest_links_to_the_queue_of_stalled_cases(world, settings):
    settings.RIGHTSGUARD_SITE_URL = "https://rg.example.gov.cn"
    case = flagged_for_county_supervisor(world, FlagKind.STALLED, "STALLED", D.EMAIL)
    assert notifications.deliver_flag_digests() == 1
    [digest] = mail.outbox
    assert digest.body.endswith("\n\nThe stalled cases of your units: https://rg.example.gov.cn/queue/?flag=stalled")
    # The link is the queue's own filter: it lists the supervisor's stalled cases.
    Case.objects.filter(pk=case.pk).update(is_stalled=True)
    queue = login(world.county_supervisor).get("/queue/?flag=stalled")
    assert [c.pk for c in queue.context["page"].cases] == [case.pk]


def test_a_flag_chosen_for_the_daily_digest_is_not_in_the_flag_digest(world):
    flagged_for_county_supervisor(world, FlagKind.IDLE, "IDLE", D.DAILY)
    assert notifications.deliver_flag_digests() == 0
    assert notifications.deliver_daily_digests() == 1
    assert "The flag scan flagged" in mail.outbox[0].body


def test_reconciliation_gives_the_daily_digest_its_day(world, django_capture_on_commit_callbacks):
    with_mail(world.county_supervisor, "county@example.org")
    set_notification_preferences(user=world.county_supervisor, deliveries={"case_moves": D.DAILY})
    with django_capture_on_commit_callbacks(execute=True):
        case = submitted(world)
    note = Notification.objects.get(recipient=world.county_supervisor, case=case)
    assert reconcile(since=case.created_at, email_after=timedelta(0)).emails_unsent == 0
    Notification.objects.filter(pk=note.pk).update(created_at=note.created_at - timedelta(days=1, minutes=1))
    assert reconcile(since=case.created_at - timedelta(days=2), email_after=timedelta(0)).emails_unsent == 1
