"""GET, PUT and PATCH /api/v1/notifications/preferences/: the caller's own delivery choices, decided by the same rule as
the notification settings page (``set_notification_preferences``), with a message per kind; a refusal saves nothing."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from cases.choices import PREFERENCE_KINDS, NotificationDelivery
from cases.models import NotificationPreference
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/preferences/"
EVERY_KIND = ["case_moves", "assignments", "records", "support_answers", "flags", "stage_warnings"]
CHOOSE = "Choose how you hear about this kind of notification."


def stored(user) -> dict[str, str]:
    return dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))


def everything() -> list[tuple[int, str, str]]:
    """Every stored choice of every user."""
    return list(NotificationPreference.objects.order_by("user_id", "kind").values_list("user_id", "kind", "delivery"))


def test_the_url_and_the_kinds():
    assert reverse("api:notification-preferences") == URL
    assert list(PREFERENCE_KINDS) == EVERY_KIND


def test_every_kind_is_listed_with_its_default_then_with_the_callers_choice(api, world):
    client = api("officer")
    answer = client.get(URL)
    assert (answer.status_code, answer.json()) == (200, dict.fromkeys(EVERY_KIND, "email"))
    NotificationPreference.objects.create(user=world.officer, kind="flags", delivery=NotificationDelivery.DAILY)
    # Someone else's choice is not the caller's.
    NotificationPreference.objects.create(user=world.supervisor, kind="records", delivery=NotificationDelivery.IN_APP)
    assert client.get(URL).json() == {**dict.fromkeys(EVERY_KIND, "email"), "flags": "daily"}


def test_put_sets_every_kind_and_answers_with_the_settings(api, world):
    chosen = {**dict.fromkeys(EVERY_KIND, "in_app"), "flags": "daily", "case_moves": "email"}
    answer = api("supervisor").put(URL, chosen, format="json")
    assert (answer.status_code, answer.json()) == (200, chosen)
    assert stored(world.supervisor) == chosen
    assert stored(world.officer) == {}
    assert api("supervisor").get(URL).json() == chosen


def test_patch_changes_only_the_kinds_given(api, world):
    client = api("officer")
    client.put(URL, dict.fromkeys(EVERY_KIND, "daily"), format="json")
    answer = client.patch(URL, {"stage_warnings": "in_app"}, format="json")
    assert (answer.status_code, answer.json()) == (
        200,
        {**dict.fromkeys(EVERY_KIND, "daily"), "stage_warnings": "in_app"},
    )
    assert stored(world.officer) == {**dict.fromkeys(EVERY_KIND, "daily"), "stage_warnings": "in_app"}
    # An empty PATCH changes nothing and answers with the settings.
    assert client.patch(URL, {}, format="json").json() == stored(world.officer)


@pytest.mark.parametrize(
    ("method", "body", "errors"),
    [
        # A delivery that does not exist, next to valid ones: that kind's message; the valid ones are not saved either.
        ("patch", {"flags": "pigeon", "records": "daily"}, {"flags": ["Choose one of email, daily, in_app."]}),
        ("patch", {"flags": 3}, {"flags": ["Choose one of email, daily, in_app."]}),
        ("patch", {"flags": ["daily"]}, {"flags": ["Choose one of email, daily, in_app."]}),
        ("patch", {"flags": None, "records": ""}, {"flags": [CHOOSE], "records": [CHOOSE]}),
        # Kinds no one chooses.
        (
            "patch",
            {"email_problems": "daily", "user": 2, "records": "daily"},
            {
                "email_problems": [
                    "E-mail problems are told in the notification list only: their e-mail is what failed."
                ],
                "user": ["There is no such kind of notification to choose a delivery for."],
            },
        ),
        # A PUT leaving kinds out: each one missing is named.
        (
            "put",
            {"case_moves": "daily", "assignments": "daily", "records": "daily", "support_answers": "daily"},
            {"flags": [CHOOSE], "stage_warnings": [CHOOSE]},
        ),
        ("put", {}, {kind: [CHOOSE] for kind in EVERY_KIND}),
        # Not an object at all.
        (
            "put",
            ["flags", "daily"],
            {"non_field_errors": ["Send an object naming kinds of notification and how you hear about each."]},
        ),
        (
            "patch",
            "daily",
            {"non_field_errors": ["Send an object naming kinds of notification and how you hear about each."]},
        ),
    ],
)
def test_bad_input_is_refused_per_kind_and_nothing_is_saved(api, world, method, body, errors):
    NotificationPreference.objects.create(user=world.officer, kind="records", delivery=NotificationDelivery.IN_APP)
    before = everything()
    answer = getattr(api("officer"), method)(URL, body, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"code": "invalid", "detail": "The request is not valid.", "errors": errors}
    assert everything() == before


def test_a_user_only_ever_changes_their_own(api, world):
    api("supervisor").put(URL, dict.fromkeys(EVERY_KIND, "in_app"), format="json")
    api("officer").patch(URL, {"flags": "daily"}, format="json")
    assert stored(world.supervisor) == dict.fromkeys(EVERY_KIND, "in_app")
    assert stored(world.officer) == {"flags": "daily"}


def test_the_messages_are_in_the_callers_language(api):
    answer = api("officer").patch(URL, {"flags": ""}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.json()["errors"] == {"flags": ["请选择这类通知的接收方式。"]}


def test_without_authentication_nothing_is_read_or_changed(world):
    client = APIClient()
    assert client.get(URL).status_code == 401
    assert client.put(URL, dict.fromkeys(EVERY_KIND, "daily"), format="json").status_code == 401
    assert client.patch(URL, {"flags": "daily"}, format="json").status_code == 401
    assert NotificationPreference.objects.count() == 0


def test_a_browser_session_needs_its_csrf_token_to_change_them(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.officer)
    assert client.get(URL).status_code == 200
    assert client.patch(URL, {"flags": "daily"}, format="json").status_code == 403
    assert NotificationPreference.objects.count() == 0


def test_the_page_and_the_api_refuse_a_bad_delivery_with_the_same_message(client, world):
    """One rule: the settings page shows the service's message next to the field the API names."""
    client.force_login(world.officer)
    page = client.post(
        reverse("cases:notification-settings"), {**dict.fromkeys(EVERY_KIND, "email"), "flags": "pigeon"}
    )
    assert page.status_code == 400
    assert page.context["form"].errors == {"flags": ["Choose one of email, daily, in_app."]}
    api = token_client(world.officer).put(URL, {**dict.fromkeys(EVERY_KIND, "email"), "flags": "pigeon"}, format="json")
    assert api.json()["errors"] == {"flags": ["Choose one of email, daily, in_app."]}
    missing = client.post(reverse("cases:notification-settings"), dict.fromkeys(EVERY_KIND[:-1], "email"))
    assert missing.context["form"].errors == {"stage_warnings": [CHOOSE]}
    assert NotificationPreference.objects.count() == 0
