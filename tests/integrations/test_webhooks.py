"""Webhooks out (integrations/services/webhooks.py, integrations/outbound.py), delivered to a real HTTP receiver on
loopback that the test starts (tests/integrations/receiver.py); loopback is allowed by each test's settings, never by
default."""

import ipaddress
import ssl
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, Track
from cases.models import CaseEvent
from integrations import outbound, tasks
from integrations.choices import DeliveryStatus, WebhookEvent
from integrations.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.services import webhooks
from tests.factories import case_in, draft
from tests.integrations import receiver as receivers

SECRET = "s3cret-agreed-with-the-procuratorate-0123456789"
PUBLIC_ADDRESS = ipaddress.ip_address("93.184.216.34")


@pytest.fixture
def receiver():
    started = receivers.start(SECRET)
    yield started
    receivers.stop(started)


@pytest.fixture
def loopback_allowed(settings):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS = 3.0
    settings.RIGHTSGUARD_WEBHOOK_RETRY_SECONDS = 60.0
    settings.RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS = 5
    settings.RIGHTSGUARD_WEBHOOK_DISABLE_AFTER = 3
    return settings


def subscribe(world, url, kinds=(WebhookEvent.SUBMITTED, WebhookEvent.REFERRED), unit=None, by=None):
    return webhooks.create_subscription(
        by=by or world.admin,
        data=webhooks.SubscriptionInput(
            name="杭州市检察院", url=url, event_kinds=tuple(kinds), unit=unit or world.city, secret=SECRET
        ),
    )


def submit(world, capture):
    case = draft(world)
    with capture(execute=True):
        return services.submit_case(case=case, by=world.officer, expected_version=None)


def test_a_move_is_delivered_signed_and_without_personal_data(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    subscription = subscribe(world, receiver.url())
    case = submit(world, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 1
    got = receiver.requests[0]
    delivery = WebhookDelivery.objects.get()
    event = CaseEvent.objects.get(case=case, action="submit")
    assert got.signature_valid is True
    assert (got.path, got.headers["X-RightsGuard-Event"], got.headers["X-RightsGuard-Delivery"]) == (
        "/hook",
        "case.submitted",
        str(delivery.uuid),
    )
    assert got.json == {
        "id": str(delivery.uuid),
        "event": "case.submitted",
        "occurred_at": event.at.isoformat(),
        "case": {"reference": case.reference, "kind": "violent_attack", "status": "intake", "unit": "330106001"},
    }
    text = got.body.decode()
    for personal in (world.officer.full_name, world.officer.badge_number, case.location, case.summary):
        assert personal not in text
    assert (delivery.subscription, delivery.status, delivery.attempts, delivery.last_status_code) == (
        subscription,
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    assert list(WebhookAttempt.objects.values_list("status_code", "error")) == [(200, "")]


def test_a_signature_under_another_secret_does_not_verify(world, receiver, loopback_allowed):
    body = b'{"event":"case.submitted"}'
    headers = outbound.signed_headers(secret="another-secret-" * 3, body=body, event="case.submitted", delivery="x")
    assert receiver.verify(headers, body) is False
    headers = outbound.signed_headers(secret=SECRET, body=body, event="case.submitted", delivery="x")
    assert receiver.verify(headers, body) is True
    assert receiver.verify(headers, body + b" ") is False
    old = outbound.signed_headers(secret=SECRET, body=body, event="e", delivery="x", now=time.time() - 3600)
    assert receiver.verify(old, body) is False


def test_only_the_moves_subscribed_to_of_the_units_subtree_are_sent(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url(), kinds=(WebhookEvent.REFERRED,), unit=world.county)
    with django_capture_on_commit_callbacks(execute=True):
        referred = case_in(world, CaseStatus.REFERRED)  # submitted (not subscribed to), then referred
        withdrawn = draft(world)
        services.withdraw_case(case=withdrawn, by=world.officer, expected_version=None, reason="填错了")
    assert [r.json["event"] for r in receiver.requests] == ["case.referred"]
    assert receiver.requests[0].json["case"]["reference"] == referred.reference
    assert WebhookDelivery.objects.count() == 1


def test_a_draft_withdrawn_before_submission_is_nobodys_news(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url(), kinds=tuple(WebhookEvent.values))
    with django_capture_on_commit_callbacks(execute=True):
        services.withdraw_case(case=draft(world), by=world.officer, expected_version=None, reason="填错了")
    assert receiver.requests == []
    assert WebhookDelivery.objects.count() == 0


def test_a_500_is_retried_after_the_backoff(world, receiver, loopback_allowed, django_capture_on_commit_callbacks):
    receiver.answers.extend([500])
    subscribe(world, receiver.url())
    submit(world, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    first_attempt = WebhookAttempt.objects.get().at
    assert delivery.next_attempt_at == first_attempt + timedelta(seconds=60)
    # Not yet due: the sweep leaves it; a redelivered job too.
    assert webhooks.retry_due(now=first_attempt + timedelta(seconds=59)) == {}
    assert tasks.deliver_webhook(delivery.pk) == "not_due"
    assert len(receiver.requests) == 1
    assert webhooks.retry_due(now=first_attempt + timedelta(seconds=61)) == {"delivered": 1}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert [r.headers["X-RightsGuard-Delivery"] for r in receiver.requests] == [str(delivery.uuid)] * 2
    assert all(r.signature_valid for r in receiver.requests)
    assert list(WebhookAttempt.objects.order_by("at", "pk").values_list("status_code", flat=True)) == [500, 200]
    assert WebhookSubscription.objects.get().consecutive_failures == 0


def test_the_backoff_doubles_and_a_delivery_is_given_up_after_the_last_attempt(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    loopback_allowed.RIGHTSGUARD_WEBHOOK_DISABLE_AFTER = 100
    loopback_allowed.RIGHTSGUARD_WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers.extend([503, 503, 503, 503])
    subscribe(world, receiver.url())
    submit(world, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    waits = []
    for _turn in range(2):
        waits.append(delivery.next_attempt_at - WebhookAttempt.objects.order_by("-at", "-pk").first().at)
        webhooks.retry_due(now=delivery.next_attempt_at)
        delivery.refresh_from_db()
    assert waits == [timedelta(seconds=60), timedelta(seconds=120)]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.FAILED, 3, None)
    assert len(receiver.requests) == 3
    assert webhooks.retry_due(now=timezone.now() + timedelta(days=1)) == {}


def test_repeated_failures_disable_the_subscription_and_tell_its_owner(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    receiver.answers.extend([500] * 10)
    subscription = subscribe(world, receiver.url())
    world.admin.email = "admin@police.example"
    world.admin.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        cases = [case_in(world, CaseStatus.INTAKE) for _ in range(2)]  # two deliveries, each failing
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for _turn in range(3):
            now += timedelta(hours=1)
            webhooks.retry_due(now=now)
    subscription.refresh_from_db()
    # Three failed attempts in a row (of either delivery) disable it, whatever the deliveries' own attempts.
    assert (subscription.active, subscription.consecutive_failures) == (False, 3)
    assert subscription.disabled_reason == "Disabled after 3 failed attempts in a row."
    assert len(receiver.requests) == 3
    assert WebhookAttempt.objects.count() == 3
    told = [(m.subject, m.body) for m in mail.outbox if m.to == ["admin@police.example"]]
    assert [subject for subject, _body in told] == ["Webhook “杭州市检察院” was disabled"]
    assert f"/admin/integrations/webhooksubscription/{subscription.pk}/change/" in told[0][1]
    # What waited is not sent now; new moves are not queued.
    webhooks.retry_due(now=now + timedelta(days=1))
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.CANCELLED}
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(
            case=cases[0], by=world.supervisor, expected_version=None, track=Track.CRIMINAL, to_unit=world.county
        )
    assert WebhookDelivery.objects.count() == 2
    assert len(receiver.requests) == 3
    # Enabled again by its administrator, it starts counting afresh.
    webhooks.update_subscription(
        subscription=subscription,
        by=world.admin,
        data=webhooks.SubscriptionInput(
            name=subscription.name, url=subscription.url, event_kinds=tuple(subscription.event_kinds), unit=world.city
        ),
        active=True,
    )
    subscription.refresh_from_db()
    assert (subscription.active, subscription.consecutive_failures, subscription.disabled_at) == (True, 0, None)
    assert subscription.secret == SECRET


def test_a_delivery_is_sent_once_however_often_its_task_runs(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url())
    submit(world, django_capture_on_commit_callbacks)
    delivery = WebhookDelivery.objects.get()
    assert tasks.deliver_webhook(delivery.pk) == "skipped"
    assert tasks.deliver_webhook(delivery.pk, outbox_key=f"webhook:{delivery.pk}") == "skipped"
    assert webhooks.retry_due(now=timezone.now() + timedelta(days=1)) == {}
    assert len(receiver.requests) == 1
    # The database holds one delivery per subscription and event, whoever tries to add a second.
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(
            subscription=delivery.subscription,
            event=delivery.event,
            event_kind=delivery.event_kind,
            payload={},
            created_at=timezone.now(),
        )


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_send_once(postgres_only, settings):
    from tests.factories import build_world

    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    receiver = receivers.start(SECRET)
    receiver.delay_seconds = 0.5  # the first run holds the delivery while the second arrives
    try:
        world = build_world()
        subscribe(world, receiver.url())
        case = draft(world)
        with transaction.atomic():
            services.submit_case(case=case, by=world.officer, expected_version=None)
            # The delivery's own job, published on commit, would run at once (tasks run eagerly here): left out, so
            # that the two runs below are the only ones.
            transaction.get_connection().run_on_commit.clear()
        delivery = WebhookDelivery.objects.get()
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def run() -> None:
            try:
                start.wait(timeout=10)
                outcomes.append(webhooks.deliver(delivery.pk))
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["delivered", "skipped"]
        assert len(receiver.requests) == 1
    finally:
        receivers.stop(receiver)


def test_addresses_are_refused_when_a_subscription_is_saved(world, settings, monkeypatch):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["hooks.procuratorate.example", "*.court.example"]
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_ADDRESS])
    refused = {
        "http://127.0.0.1:8080/hook": "127.0.0.1 is not among the hosts webhooks may be sent to "
        "(RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).",
        "http://localhost/hook": "localhost is not among the hosts webhooks may be sent to "
        "(RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).",
        "http://[::1]/hook": "::1 is not among the hosts webhooks may be sent to (RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).",
        "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is not among the hosts webhooks may be sent to "
        "(RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).",
        "http://evil.example/hook": "evil.example is not among the hosts webhooks may be sent to "
        "(RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS).",
        "ftp://hooks.procuratorate.example/": "Only http and https addresses can receive webhooks.",
        "https://user:pw@hooks.procuratorate.example/": "The address may not hold a user name or password: the "
        "signature authenticates.",
    }
    for url, message in refused.items():
        with pytest.raises(ValidationError) as error:
            subscribe(world, url)
        assert error.value.message_dict == {"url": [message]}, url
    # A listed name is refused while it resolves to a loopback or private address the list does not name.
    for address in ("127.0.0.1", "10.20.3.4", "::ffff:127.0.0.1", "100.64.0.1"):
        monkeypatch.setattr(outbound, "resolve", lambda host, port, a=address: [ipaddress.ip_address(a)])
        with pytest.raises(ValidationError) as error:
            subscribe(world, "https://hooks.procuratorate.example/rg")
        assert error.value.message_dict["url"] == [
            f"hooks.procuratorate.example resolves to {ipaddress.ip_address(address)}, a loopback, private, "
            "link-local or reserved address "
            "that RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS does not name."
        ]
    assert WebhookSubscription.objects.count() == 0
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_ADDRESS])
    assert subscribe(world, "https://hooks.procuratorate.example/rg").url == "https://hooks.procuratorate.example/rg"
    assert subscribe(world, "https://east.court.example/rg").unit == world.city
    # An intranet range named explicitly lets its receivers in.
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["hooks.procuratorate.example", "10.20.0.0/16"]
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address("10.20.3.4")])
    assert subscribe(world, "https://hooks.procuratorate.example/rg2").pk
    assert subscribe(world, "http://10.20.3.4:8443/rg").pk


def test_a_subscription_needs_events_a_long_secret_and_a_unit_its_administrator_administers(world, settings):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    data = webhooks.SubscriptionInput(name=" ", url="http://127.0.0.1:9/", event_kinds=("case.x",), unit=world.city)
    with pytest.raises(ValidationError) as error:
        webhooks.create_subscription(by=world.admin, data=data)
    assert error.value.message_dict == {
        "name": ["Give the subscription a name."],
        "event_kinds": ["Unknown events: case.x."],
        "secret": ["The signing secret must be at least 32 characters long."],
    }
    from django.core.exceptions import PermissionDenied

    for who, unit in ((world.admin, world.sibling_station), (world.supervisor, world.city)):
        with pytest.raises(PermissionDenied):
            subscribe(world, "http://127.0.0.1:9/", unit=unit, by=who)
    assert WebhookSubscription.objects.count() == 0


def test_a_rebound_name_is_refused_when_sending(
    world, receiver, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["hooks.procuratorate.example"]
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [PUBLIC_ADDRESS])
    subscribe(world, receiver.url(host="hooks.procuratorate.example"))
    # The name now points at the loopback receiver: connecting would reach it.
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address("127.0.0.1")])
    submit(world, django_capture_on_commit_callbacks)
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.PENDING, 1, None)
    assert delivery.last_error == (
        "Refused: hooks.procuratorate.example resolves to 127.0.0.1, a loopback, private, link-local or reserved "
        "address that RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS does not name."
    )
    # Loopback removed from an allow-list that named it: refused too, at the next attempt.
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = []
    webhooks.retry_due(now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.last_error.startswith("Refused: hooks.procuratorate.example is not among the hosts")
    assert receiver.requests == []


def test_redirects_are_not_followed(world, receiver, loopback_allowed, django_capture_on_commit_callbacks):
    receiver.redirect_to = receiver.url(path="/elsewhere")
    subscribe(world, receiver.url())
    submit(world, django_capture_on_commit_callbacks)
    assert [r.path for r in receiver.requests] == ["/hook"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code, delivery.last_error) == (
        DeliveryStatus.PENDING,
        302,
        "The receiver answered 302.",
    )


def test_a_huge_answer_is_read_only_up_to_the_limit(world, receiver, loopback_allowed):
    loopback_allowed.RIGHTSGUARD_WEBHOOK_MAX_RESPONSE_BYTES = 1024
    receiver.body = b"x" * (8 * 1024 * 1024)
    answer = outbound.send(receiver.url(), b"{}", {"Content-Type": "application/json"})
    assert (answer.status, len(answer.body), answer.address) == (200, 1024, "127.0.0.1")


def test_a_trickling_receiver_is_cut_off_at_the_timeout(world, receiver, loopback_allowed):
    loopback_allowed.RIGHTSGUARD_WEBHOOK_TIMEOUT_SECONDS = 1.0
    receiver.body = b"y" * 100
    receiver.trickle_seconds = 0.2  # 20 s for the whole answer, each byte well within a read's timeout
    started = time.monotonic()
    with pytest.raises((OSError, TimeoutError)):
        outbound.send(receiver.url(), b"{}", {"Content-Type": "application/json"})
    assert time.monotonic() - started < 2.5


def test_an_administrator_manages_the_subscriptions_of_their_subtree_in_the_admin_site(world, client, settings):
    from demo.organisation import ensure_admin_group

    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    for user in (world.admin,):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(ensure_admin_group())
    client.force_login(world.admin)
    add = "/admin/integrations/webhooksubscription/add/"
    form = {
        "name": "杭州市检察院",
        "url": "http://127.0.0.1:9/hook",
        "unit": world.city.pk,
        "event_kinds": ["case.submitted", "case.closed"],
        "secret": SECRET,
    }
    response = client.post(add, {**form, "url": "http://localhost:9/hook"})
    assert response.status_code == 200
    assert "localhost is not among the hosts webhooks may be sent to" in response.content.decode()
    assert client.post(add, form).status_code == 302
    made = WebhookSubscription.objects.get()
    assert (made.owner, made.unit, made.event_kinds, made.secret, made.active) == (
        world.admin,
        world.city,
        ["case.closed", "case.submitted"],
        SECRET,
        True,
    )
    page = client.get(f"/admin/integrations/webhooksubscription/{made.pk}/change/").content.decode()
    assert SECRET not in page
    # Another province's administrator neither lists nor opens it.
    from accounts import services as account_services
    from accounts.models import Role

    sibling_admin = account_services.create_user(
        username="hb_admin", password=None, unit=world.sibling_province, role=Role.ADMIN
    )
    sibling_admin.is_staff = True
    sibling_admin.save(update_fields=["is_staff"])
    sibling_admin.groups.add(ensure_admin_group())
    client.force_login(sibling_admin)
    assert "杭州市检察院" not in client.get("/admin/integrations/webhooksubscription/").content.decode()
    assert client.get(f"/admin/integrations/webhooksubscription/{made.pk}/change/").status_code == 302


def test_https_keeps_checking_the_name_while_connecting_to_the_checked_address(
    world, settings, monkeypatch, tmp_path, django_capture_on_commit_callbacks
):
    host = "hooks.procuratorate.example"
    tls = receivers.self_signed(tmp_path, host)
    receiver = receivers.start(SECRET, tls=tls)
    try:
        # The name resolves to the loopback receiver, which the list names explicitly (as an intranet range would be).
        settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = [host, "127.0.0.1"]
        settings.RIGHTSGUARD_WEBHOOK_CA_FILE = str(tls[0])
        monkeypatch.setattr(outbound, "resolve", lambda name, port: [ipaddress.ip_address("127.0.0.1")])
        subscribe(world, receiver.url(host=host, scheme="https"))
        submit(world, django_capture_on_commit_callbacks)
        assert [(r.headers["Host"], r.signature_valid) for r in receiver.requests] == [
            (f"{host}:{receiver.port}", True)
        ]
        assert WebhookDelivery.objects.get().status == DeliveryStatus.DELIVERED
        # A certificate for another name is refused, although the address is the same.
        settings.RIGHTSGUARD_WEBHOOK_CA_FILE = str(receivers.self_signed(tmp_path, "other.example")[0])
        with pytest.raises(ssl.SSLCertVerificationError):
            outbound.send(receiver.url(host=host, scheme="https"), b"{}", {"Content-Type": "application/json"})
        assert len(receiver.requests) == 1
    finally:
        receivers.stop(receiver)


def test_a_merge_and_a_link_of_duplicates_are_sent_as_case_merged_and_case_linked(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    subscribe(world, receiver.url(), kinds=(WebhookEvent.MERGED, WebhookEvent.LINKED))
    survivor, duplicate, related = (case_in(world, CaseStatus.INTAKE) for _ in range(3))
    with django_capture_on_commit_callbacks(execute=True):
        services.merge_cases(by=world.supervisor, case=duplicate, into=survivor, reason="重复报案")
        services.link_cases(by=world.supervisor, case=survivor, other=related, reason="同一警情")
    sent = sorted((r.json["event"], r.json["case"]["reference"], r.json["case"]["status"]) for r in receiver.requests)
    assert sent == [
        ("case.linked", survivor.reference, "intake"),
        ("case.linked", related.reference, "intake"),
        ("case.merged", duplicate.reference, "closed"),
    ]
    assert "重复报案" not in str([r.json for r in receiver.requests])  # the reason stays here: no personal data out
