"""Regressions found by attacking the integrations: the 110 import (POST /api/v1/incidents/110/) and webhooks out.

Each test failed on the code before its fix."""

import ipaddress
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from cases.models import Case, OutboxMessage
from integrations import outbound
from integrations.api.serializers import MAX_OFFICERS
from integrations.choices import DeliveryStatus
from integrations.models import IncidentImport, WebhookAttempt, WebhookDelivery, WebhookSubscription
from integrations.services import webhooks
from tests.integrations import receiver as receivers
from tests.integrations.conftest import URL, incident
from tests.integrations.test_incidents import records
from tests.integrations.test_webhooks import SECRET, submit, subscribe

HOST = "hooks.procuratorate.example"


@pytest.fixture
def loopback_allowed_hosts(settings):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    return settings


# --- webhooks: an IPv6 address that carries an IPv4 one ---------------------------------------------------------

# IPv6 forms that reach (or are translated to) the IPv4 address inside them, which ``is_global`` judges as IPv6 only:
# each must be refused when the IPv4 address inside is loopback, private or link-local.
EMBEDDING = {
    "::7f00:1": "IPv4-compatible 127.0.0.1",
    "::ffff:0:a9fe:a9fe": "IPv4-translated (SIIT) 169.254.169.254",
    "64:ff9b::a9fe:a9fe": "NAT64 169.254.169.254, the cloud metadata address",
    "64:ff9b::a14:304": "NAT64 10.20.3.4",
    "64:ff9b:1::a14:304": "local-use NAT64 prefix (RFC 8215), never global",
    "2002:7f00:1::1": "6to4 of 127.0.0.1",
    "2002:a14:304::1": "6to4 of 10.20.3.4",
    "fec0::1": "deprecated site-local, a private range",
}


@pytest.mark.parametrize("address", list(EMBEDDING))
def test_an_ipv6_address_carrying_a_private_ipv4_one_is_refused(world, settings, monkeypatch, address):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = [HOST]
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address(address)])
    with pytest.raises(ValidationError) as error:
        subscribe(world, f"https://{HOST}/rg")
    assert error.value.message_dict == {
        "url": [
            f"{HOST} resolves to {address}, a loopback, private, link-local or reserved address that "
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS does not name."
        ]
    }, EMBEDDING[address]
    assert WebhookSubscription.objects.count() == 0
    # And when sending, after the name was rebound to it.
    with pytest.raises(outbound.Refused):
        outbound.checked_addresses(outbound.parse_url(f"https://{HOST}/rg"))


def test_an_ipv6_address_carrying_a_public_or_listed_ipv4_one_is_still_allowed(world, settings, monkeypatch):
    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = [HOST, "10.20.0.0/16"]
    for address in ("64:ff9b::5db8:d822", "2002:5db8:d822::1", "2001:4860:4860::8888", "64:ff9b::a14:304"):
        monkeypatch.setattr(outbound, "resolve", lambda host, port, a=address: [ipaddress.ip_address(a)])
        assert subscribe(world, f"https://{HOST}/{address}").url == f"https://{HOST}/{address}"
    assert WebhookSubscription.objects.count() == 4


def test_a_receiver_reached_through_an_embedding_address_is_never_sent_to(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    receiver = receivers.start(SECRET)
    try:
        settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = [HOST]
        monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address("93.184.216.34")])
        subscribe(world, receiver.url(host=HOST))
        # Rebound to 127.0.0.1 inside an IPv4-compatible address: refused before any connection is tried.
        monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address("::7f00:1")])
        submit(world, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (
            1,
            None,
            f"Refused: {HOST} resolves to ::7f00:1, a loopback, private, link-local or reserved address that "
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS does not name.",
        )
        assert receiver.requests == []
    finally:
        receivers.stop(receiver)


# --- the 110 import -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "330106202603120042\u200b",  # a zero-width space: looks like the same incident, would start a second draft
        "3301062026\n03120042",  # a line break: the notification e-mail's subject could not be sent
        "\u202e240021302620601033",  # a right-to-left override: shows as another number
        "330106202603120042<b>",
        "３３０１０６２０２６",  # full-width digits: never equal to the number typed by hand
    ],
)
def test_an_incident_number_is_letters_digits_and_hyphens_only(world, feed, number):
    assert feed.post(URL, incident(world), format="json").status_code == 201
    before = records()
    response = feed.post(URL, incident(world, number=number), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "incident_number": ["A 110 incident number holds only letters, digits and hyphens."]
    }
    assert records() == before
    assert list(IncidentImport.objects.values_list("incident_number", flat=True)) == ["330106202603120042"]


def test_a_time_without_its_offset_is_refused(world, feed):
    before = records()
    response = feed.post(URL, incident(world, occurred_at="2026-03-12T21:40:00"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "occurred_at": ["Give the time with its offset from UTC, for example 2026-03-12T21:40:00+08:00."]
    }
    assert records() == before
    # With its offset it is taken as it is.
    assert feed.post(URL, incident(world, occurred_at="2026-03-12T21:40:00+08:00"), format="json").status_code == 201
    assert Case.objects.get().occurred_at.isoformat() == "2026-03-12T13:40:00+00:00"


def test_an_unknown_field_is_named_not_dropped(world, feed):
    """A misspelt optional field (``injure`` for ``injured``, ``kinds`` for ``kind``) would otherwise be dropped and
    the draft say the officer was not injured and the incident of type "other"."""
    before = records()
    body = incident(world, kinds="violent_attack")
    body["officers"][0]["injure"] = body["officers"][0].pop("injured")
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "kinds": ["This field is not part of the request."],
        "officers[0].injure": ["This field is not part of the request."],
    }
    assert records() == before


def test_the_schema_states_the_limits_the_import_enforces(world, feed):
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]["Incident110Request"]
    properties = schema["properties"]
    assert (properties["units_dispatched"]["minItems"], properties["units_dispatched"]["maxItems"]) == (1, 50)
    assert (properties["officers"]["minItems"], properties["officers"]["maxItems"]) == (1, MAX_OFFICERS)
    assert properties["officers"]["items"] == {"$ref": "#/components/schemas/Incident110OfficerRequest"}
    assert properties["incident_number"]["pattern"] == "^[0-9A-Za-z-]+$"
    # And the behaviour is what the schema says; too many officers are refused before any of them is looked at.
    body = incident(world, officers=[{"police_number": 1}] * (MAX_OFFICERS + 1))
    before = records()
    response = feed.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"officers": [f"Ensure this field has no more than {MAX_OFFICERS} elements."]}
    assert records() == before


def test_a_replay_with_other_content_keeps_what_the_officer_typed(world, feed, client):
    """Holds: the first import wins, a later message about the same incident and unit changes nothing."""
    assert feed.post(URL, incident(world), format="json").status_code == 201
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(location="北山街12号门口", summary="我补充的经过。")
    later = incident(world, location='=HYPERLINK("http://evil.example/")', summary="<script>x</script>")
    response = feed.post(URL, later, format="json")
    assert response.status_code == 200
    assert response.json()["drafts"][0]["created"] is False
    case.refresh_from_db()
    assert (case.location, case.summary) == ("北山街12号门口", "我补充的经过。")
    assert (timezone.now() - case.occurred_at) > timedelta(hours=2)


# --- webhooks: a configuration error is the deployment's, not the receivers' ------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "scheme"),
    [
        ("RIGHTSGUARD_WEBHOOK_CA_FILE", "/nonexistent/intranet-ca.pem", "https"),
        ("RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS", ["127.0.0.1", "http://hooks.procuratorate.example/"], "http"),
    ],
)
def test_a_configuration_error_disables_no_subscription_and_loses_no_delivery(
    world, settings, django_capture_on_commit_callbacks, setting, value, scheme
):
    """A mistyped setting fails every attempt alike: counted as the receivers' failures, it disabled every
    subscription, told their owners to check their receivers, and cancelled the moves waiting to be sent."""
    receiver = receivers.start(SECRET)
    try:
        settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
        settings.RIGHTSGUARD_WEBHOOK_DISABLE_AFTER = 2
        subscription = subscribe(world, receiver.url(scheme=scheme))
        setattr(settings, setting, value)
        # The task's own run fails (the outbox keeps its job for the relay), and so does every later one.
        submit(world, django_capture_on_commit_callbacks)
        delivery = WebhookDelivery.objects.get()
        for _ in range(3):
            with pytest.raises(ImproperlyConfigured):
                webhooks.deliver(delivery.pk, now=timezone.now() + timedelta(days=1))
        delivery.refresh_from_db()
        subscription.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (DeliveryStatus.PENDING, 0, "")
        assert (subscription.active, subscription.consecutive_failures) == (True, 0)
        assert WebhookAttempt.objects.count() == 0
        assert not OutboxMessage.objects.filter(task="integrations.tell_webhook_owner").exists()
        assert receiver.requests == []
    finally:
        receivers.stop(receiver)


PROGRAM = "import django; django.setup()"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS",
            "hooks.procuratorate.example,http://hooks.procuratorate.example/",
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS holds 'http://hooks.procuratorate.example/': neither a host name nor an "
            "address or range.",
        ),
        (
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS",
            "10.20.0.0/33",
            "RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS holds '10.20.0.0/33': neither a host name nor an address or range.",
        ),
        (
            "RIGHTSGUARD_WEBHOOK_CA_FILE",
            "/nonexistent/intranet-ca.pem",
            "RIGHTSGUARD_WEBHOOK_CA_FILE is /nonexistent/intranet-ca.pem, which is not a file.",
        ),
    ],
)
def test_a_malformed_webhook_setting_stops_the_start(variable, value, message):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rightsguard.settings", variable: value}
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROGRAM],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == f"django.core.exceptions.ImproperlyConfigured: {message}"


# --- the admin site: held ---------------------------------------------------------------------------------------


def test_a_supervisor_with_the_admin_group_manages_no_subscription(world, client, settings):
    """Held: the admin group and staff flag give a supervisor (no administrator grant) neither the list nor a form."""
    from demo.organisation import ensure_admin_group

    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    made = subscribe(world, "http://127.0.0.1:9/hook")
    world.supervisor.is_staff = True
    world.supervisor.save(update_fields=["is_staff"])
    world.supervisor.groups.add(ensure_admin_group())
    client.force_login(world.supervisor)
    form = {"name": "x", "url": "http://127.0.0.1:9/x", "unit": world.county.pk, "event_kinds": ["case.closed"]}
    assert client.post("/admin/integrations/webhooksubscription/add/", {**form, "secret": SECRET}).status_code == 403
    change = f"/admin/integrations/webhooksubscription/{made.pk}/change/"
    response = client.post(change, {**form, "secret": "n" * 40, "active": ""})
    assert response.status_code == 403
    assert client.get("/admin/integrations/webhooksubscription/").status_code == 403
    made.refresh_from_db()
    assert (made.name, made.url, made.secret, made.active, WebhookSubscription.objects.count()) == (
        "杭州市检察院",
        "http://127.0.0.1:9/hook",
        SECRET,
        True,
        1,
    )


def test_a_refused_change_does_not_show_the_secret_typed(world, client, settings):
    """Held: the form shown again after a refusal leaves the new secret out."""
    from demo.organisation import ensure_admin_group

    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    made = subscribe(world, "http://127.0.0.1:9/hook")
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    world.admin.groups.add(ensure_admin_group())
    client.force_login(world.admin)
    typed = "a-new-secret-for-the-procuratorate-0123456789"
    response = client.post(
        f"/admin/integrations/webhooksubscription/{made.pk}/change/",
        {
            "name": "x",
            "url": "http://localhost:9/",
            "unit": world.city.pk,
            "event_kinds": ["case.closed"],
            "secret": typed,
            "active": "on",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "localhost is not among the hosts webhooks may be sent to" in page
    assert typed not in page
    assert SECRET not in page
    made.refresh_from_db()
    assert (made.url, made.secret) == ("http://127.0.0.1:9/hook", SECRET)


# --- the 110 import: what it locks --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_import_in_progress_does_not_stop_the_units_officers_filing(postgres_only, monkeypatch):
    """The import locks its units' rows so that replays wait for each other. A lock that also stops every row that
    refers to the unit (FOR UPDATE) stopped each officer of the station filing an application by hand for as long as
    an import took (an import of 200 attacked officers takes seconds)."""
    from accounts.models import Role
    from cases import services as case_services
    from integrations.services import incidents
    from integrations.services.accounts import create_integration_account
    from tests.factories import build_world, member

    world = build_world()
    dispatch = create_integration_account(username="hz110", name="杭州市110接处警系统", unit=world.city)
    colleague = member(world.station, Role.OFFICER)
    body = incident(world)
    officer = body["officers"][0]
    sent = incidents.Incident(
        number=body["incident_number"],
        occurred_at=timezone.now() - timedelta(hours=1),
        location=body["location"],
        summary=body["summary"],
        units_dispatched=(world.station.code,),
        officers=(incidents.OfficerOnScene(officer["police_number"], officer["name"], world.station.code, True),),
    )
    holding, release = threading.Event(), threading.Event()
    draft_for = incidents._draft_for

    def paused(*args, **kwargs):
        holding.set()  # the units are locked now
        release.wait(timeout=30)
        return draft_for(*args, **kwargs)

    monkeypatch.setattr(incidents, "_draft_for", paused)
    failures: list[BaseException] = []

    def run_import() -> None:
        try:
            incidents.import_incident(incident=sent, by=dispatch)
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run_import)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '3s'")  # a wait for the import's lock is an error here
            filed = case_services.create_draft_case(by=colleague, unit=world.station)
    finally:
        release.set()
        thread.join(timeout=60)
    assert failures == []
    assert sorted(Case.objects.values_list("filed_by_id", flat=True)) == sorted([colleague.pk, world.officer.pk])
    assert IncidentImport.objects.get().case_id != filed.pk


def test_a_name_that_cannot_be_looked_up_is_refused_not_a_server_error(world, client, settings):
    """A label of 60 "ü" is a valid address to Django's URL field, but its ASCII form is longer than DNS allows: the
    name look-up raised UnicodeError, not OSError, and the admin site answered 500."""
    from demo.organisation import ensure_admin_group

    settings.RIGHTSGUARD_WEBHOOK_ALLOWED_HOSTS = ["*.court.example"]
    host = "ü" * 60 + ".court.example"
    with pytest.raises(ValidationError) as error:
        subscribe(world, f"https://{host}/rg")
    assert error.value.message_dict == {"url": [f"{host} does not resolve."]}
    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    world.admin.groups.add(ensure_admin_group())
    client.force_login(world.admin)
    form = {"name": "法院", "unit": world.city.pk, "event_kinds": ["case.closed"], "secret": SECRET}
    response = client.post("/admin/integrations/webhooksubscription/add/", {**form, "url": f"https://{host}/rg"})
    assert response.status_code == 200
    assert f"{host} does not resolve." in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_a_name_with_a_line_break_is_refused(world, settings, loopback_allowed_hosts):
    """The name is the subject of the e-mail telling the owner the subscription was disabled: a line break there made
    sending it fail (BadHeaderError) on every try, and the owner was never told."""
    with pytest.raises(ValidationError) as error:
        webhooks.create_subscription(
            by=world.admin,
            data=webhooks.SubscriptionInput(
                name="杭州市检察院\nBcc: someone@example.com",
                url="http://127.0.0.1:9/hook",
                event_kinds=("case.closed",),
                unit=world.city,
                secret=SECRET,
            ),
        )
    assert error.value.message_dict == {"name": ["The name may not hold line breaks or other control characters."]}
    assert WebhookSubscription.objects.count() == 0


def test_an_error_report_of_the_subscription_form_hides_the_secret(world, client, loopback_allowed_hosts):
    """Django's error reports (an e-mail to ADMINS, an error tracker) show a failed request's form fields; the
    signing secret is among those the report must hide, as the admin site hides a password."""
    from django.views.debug import SafeExceptionReporterFilter

    from demo.organisation import ensure_admin_group

    world.admin.is_staff = True
    world.admin.save(update_fields=["is_staff"])
    world.admin.groups.add(ensure_admin_group())
    client.force_login(world.admin)
    form = {"name": "法院", "unit": world.city.pk, "event_kinds": ["case.closed"], "url": "http://127.0.0.1:9/"}
    response = client.post("/admin/integrations/webhooksubscription/add/", {**form, "secret": SECRET})
    assert response.status_code == 302
    reported = SafeExceptionReporterFilter().get_post_parameters(response.wsgi_request)
    assert reported["secret"] == "********************"
    assert reported["name"] == "法院"
