"""The browser pages: who gets what, what a refusal leaves behind, and that typed input survives errors."""

import struct
import zlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.selectors import actor_for
from cases import services
from cases.choices import CaseStatus, EventKind, SupportKind, SupportStatus, Track
from cases.models import Attachment, Case, CaseEvent, Flag, Notification, SupportMeasure
from cases.queue_filters import QueueFilters, queue_page
from cases.rules.presentation import describe_flag
from cases.templatetags.rg import event_text
from tests.cases.test_services import snapshot
from tests.evidence_files import pdf_document
from tests.factories import case_in, draft, due_day

S = CaseStatus


def png_bytes() -> bytes:
    """A real 1×1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# who -> expected status for the case page of a submitted case filed by "officer" at the station
DETAIL_MATRIX = {
    "officer": 200,
    "other_officer": 404,
    "supervisor": 200,
    "county_supervisor": 200,
    "sibling_supervisor": 404,
    "ministry_supervisor": 200,
    "admin": 200,
    "sibling_officer": 404,
}


@pytest.mark.parametrize(("who", "expected"), sorted(DETAIL_MATRIX.items()))
def test_case_page_visibility(client, world, who, expected):
    case = case_in(world, S.SUPERVISION)
    client.force_login(getattr(world, who))
    response = client.get(reverse("cases:detail", args=[case.pk]))
    assert response.status_code == expected
    if expected == 200:
        assert case.reference in response.content.decode()
        assert response["Cache-Control"].startswith("max-age=0")


def test_anonymous_and_deactivated_users_are_sent_to_login(client, world):
    case = case_in(world, S.INTAKE)
    url = reverse("cases:detail", args=[case.pk])
    assert client.get(url)["Location"].startswith("/accounts/login/")
    client.force_login(world.supervisor)
    account_services.deactivate_user(user=world.supervisor)
    assert client.get(url)["Location"].startswith("/accounts/login/")


def test_a_draft_is_invisible_to_supervisors(client, world):
    case = draft(world)
    client.force_login(world.supervisor)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404


@pytest.mark.parametrize(
    ("who", "expected"),
    [("officer", 403), ("admin", 403), ("sibling_supervisor", 404), ("other_officer", 404), ("supervisor", 302)],
)
def test_refer_action_matrix_and_nothing_changes_when_denied(client, world, who, expected):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client.force_login(getattr(world, who))
    response = client.post(
        reverse("cases:action", args=[case.pk, "refer"]),
        {
            "refer-version": case.version,
            "refer-target": "internal_unit",
            "refer-to_unit": world.county.pk,
            "refer-track": Track.CRIMINAL,
        },
    )
    assert response.status_code == expected
    if expected == 302:
        assert Case.objects.get(pk=case.pk).status == S.REFERRED
    else:
        assert snapshot(case) == before


def test_only_actions_the_user_may_take_are_offered(client, world):
    case = case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'name="do" value="refer"' in body
    assert 'name="do" value="reject"' in body
    assert 'name="do" value="withdraw"' not in body
    client.force_login(world.officer)
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'name="do" value="withdraw"' in body
    assert 'name="do" value="refer"' not in body


def test_invalid_action_input_is_shown_next_to_the_field_and_kept(client, world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client.force_login(world.supervisor)
    response = client.post(
        reverse("cases:action", args=[case.pk, "refer"]),
        {
            "refer-version": case.version,
            "refer-target": "procuratorate",
            "refer-track": Track.CRIMINAL,
            "refer-body_name": "",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_refer-body_name_errors"' in body
    assert "Name the body the case is referred to." in body
    assert 'value="procuratorate" selected' in body
    assert snapshot(case) == before


def test_stale_form_shows_a_clear_message_and_keeps_what_was_typed(client, world):
    case = case_in(world, S.INTAKE)
    old_version = case.version
    client.force_login(world.supervisor)
    client.post(reverse("cases:note", args=[case.pk]), {"text": "someone else was quicker"})
    before = snapshot(case)
    response = client.post(
        reverse("cases:action", args=[case.pk, "reject"]),
        {"reject-version": old_version, "reject-reason": "Duplicate of the hotline report filed yesterday"},
    )
    # Back to the case page (POST, redirect, GET), which says what changed and gives the reason back in its form,
    # now carrying the case's current version.
    assert (response.status_code, response["Location"]) == (302, reverse("cases:detail", args=[case.pk]))
    assert snapshot(case) == before
    page = client.get(response["Location"])
    body = page.content.decode()
    notice = page.context["kept_notice"]
    assert notice.headline.startswith(f"This case was changed by {world.supervisor} at ")
    assert notice.headline.endswith("(Internal note: someone else was quicker).")
    assert notice.detail == ("Nothing was saved. What you typed is back in “Reject” below: check it and send it again.")
    assert "version" not in notice.headline
    assert "Duplicate of the hotline report filed yesterday</textarea>" in body
    assert f'name="reject-version" value="{before[1]}"' in body
    assert page.context["open_panel"] == "reject"


def test_supervisor_takes_a_case_to_closure_through_the_pages(client, world):
    case = case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    steps = [
        ("refer", {"target": "internal_unit", "to_unit": world.county.pk, "track": Track.ADMINISTRATIVE}),
        ("acknowledge", {"external_reference": "XH-77"}),
        ("conclude", {"reason": "Attacker not identified", "no_suspect_reason": "unknown_pursuing"}),
        ("close", {"officer_informed": "on", "disposition_consistent": "on"}),
    ]
    for action, data in steps:
        case.refresh_from_db()
        payload = {f"{action}-{k}": v for k, v in {"version": case.version, **data}.items()}
        response = client.post(reverse("cases:action", args=[case.pk, action]), payload)
        assert response.status_code == 302, response.content.decode()[:2000]
    case.refresh_from_db()
    assert case.status == S.CLOSED
    assert list(CaseEvent.objects.filter(case=case, kind="transition").values_list("action", flat=True)) == [
        "submit",
        "refer",
        "acknowledge",
        "conclude",
        "close",
    ]


def test_officer_files_an_application_step_by_step(client, world, media):
    client.force_login(world.officer)
    occurred = (timezone.localtime() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("cases:new"),
        {
            "unit": world.station.pk,
            "kind": "violent_attack",
            "occurred_at": occurred,
            "location": "北山街",
            "channel": "web",
        },
    )
    case = Case.objects.get()
    assert response["Location"] == reverse("cases:edit", args=[case.pk, "narrative"])
    response = client.post(
        reverse("cases:edit", args=[case.pk, "narrative"]),
        {"version": case.version, "summary": "被踢伤", "narrative": "经过"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    response = client.post(
        reverse("cases:edit", args=[case.pk, "support"]),
        {"kinds": [SupportKind.GREEN_CHANNEL, SupportKind.LEGAL_SERVICE]},
    )
    assert response.status_code == 302
    upload = SimpleUploadedFile("photo.png", png_bytes(), content_type="image/png")
    response = client.post(reverse("cases:evidence-upload", args=[case.pk]), {"file": upload, "step": "evidence"})
    assert response.status_code == 302
    case.refresh_from_db()
    response = client.post(reverse("cases:action", args=[case.pk, "submit"]), {"submit-version": case.version})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.summary) == (S.INTAKE, "被踢伤")
    assert sorted(SupportMeasure.objects.filter(case=case).values_list("kind", "status")) == [
        (SupportKind.GREEN_CHANNEL, SupportStatus.REQUESTED),
        (SupportKind.LEGAL_SERVICE, SupportStatus.REQUESTED),
    ]
    attachment = Attachment.objects.get(case=case)
    assert (attachment.original_name, attachment.content_type, attachment.size) == (
        "photo.png",
        "image/png",
        len(png_bytes()),
    )
    page = client.get(reverse("cases:detail", args=[case.pk]), follow=True).content.decode()
    assert case.reference in page


def test_draft_autosave_answers_htmx_with_the_new_version(client, world):
    case = draft(world)
    client.force_login(world.officer)
    response = client.post(
        reverse("cases:edit", args=[case.pk, "narrative"]),
        {"version": case.version, "summary": "自动保存", "narrative": "x"},
        HTTP_HX_REQUEST="true",
    )
    case.refresh_from_db()
    assert response.status_code == 200
    assert case.summary == "自动保存"
    assert f'id="draft-version" value="{case.version}" hx-swap-oob="true"' in response.content.decode()


def test_invalid_step_keeps_the_typed_values(client, world):
    case = draft(world)
    client.force_login(world.officer)
    future = (timezone.localtime() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("cases:edit", args=[case.pk, "incident"]),
        {
            "version": case.version,
            "kind": "threat",
            "occurred_at": future,
            "location": "我输入的地点",
            "channel": "web",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "The incident cannot be in the future." in body
    assert "我输入的地点" in body
    case.refresh_from_db()
    assert case.location == "杭州市西湖区北山街"


def test_other_users_cannot_edit_a_draft(client, world):
    case = draft(world)
    client.force_login(world.other_officer)
    assert client.get(reverse("cases:edit", args=[case.pk, "incident"])).status_code == 404


def test_evidence_is_checked_by_content_and_served_as_a_download(client, world, media):
    case = case_in(world, S.INTAKE)
    client.force_login(world.officer)
    fake = SimpleUploadedFile("report.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf")
    response = client.post(reverse("cases:evidence-upload", args=[case.pk]), {"file": fake})
    assert response.status_code == 400
    assert "Only JPEG, PNG, PDF and MP4 files are accepted" in response.content.decode()
    assert Attachment.objects.count() == 0
    assert [p for p in media.rglob("*") if p.is_file()] == []
    pdf = SimpleUploadedFile("会议纪要.pdf", pdf_document(), content_type="application/pdf")
    assert client.post(reverse("cases:evidence-upload", args=[case.pk]), {"file": pdf}).status_code == 302
    attachment = Attachment.objects.get()
    response = client.get(reverse("cases:evidence-download", args=[case.pk, attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert b"".join(response.streaming_content) == pdf_document()
    client.force_login(world.sibling_supervisor)
    assert client.get(reverse("cases:evidence-download", args=[case.pk, attachment.pk])).status_code == 404


def test_queue_is_for_supervisors_only(client, world):
    client.force_login(world.officer)
    assert client.get(reverse("cases:queue")).status_code == 403


def test_queue_filters_and_pages_without_repeating_rows(client, world):
    cases = [case_in(world, S.INTAKE, summary=f"摘要{i}") for i in range(7)]
    threat = case_in(world, S.REFERRED, kind="threat", summary="威胁")
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:queue"), {"kind": "threat"}).content.decode()
    assert threat.reference in body
    assert cases[0].reference not in body
    body = client.get(reverse("cases:queue"), {"q": "摘要3"}).content.decode()
    assert cases[3].reference in body
    assert cases[4].reference not in body
    seen: list[str] = []
    cursor = None
    actor = actor_for(world.supervisor)
    while True:
        page = queue_page(actor, QueueFilters(), cursor=cursor, size=3)
        seen += [c.reference for c in page.cases]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(c.reference for c in [*cases, threat])
    assert len(seen) == len(set(seen)) == 8


def test_queue_query_count_does_not_grow_with_cases(client, world):
    for _ in range(3):
        case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    client.get(reverse("cases:queue"))  # warm up (session, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("cases:queue")).status_code == 200
    for _ in range(12):
        case_in(world, S.SUPERVISION)
    with CaptureQueriesContext(connection) as large:
        assert client.get(reverse("cases:queue")).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_case_page_query_count_does_not_grow_with_the_timeline(client, world):
    case = case_in(world, S.SUPERVISION)
    client.force_login(world.supervisor)
    url = reverse("cases:detail", args=[case.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(20):
        client.post(reverse("cases:note", args=[case.pk]), {"text": f"note {i}"})
    with CaptureQueriesContext(connection) as large:
        client.get(url)
    assert len(large.captured_queries) == len(small.captured_queries)


def test_notifications_list_and_mark_read(client, world, django_capture_on_commit_callbacks):
    case = draft(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    client.force_login(world.county_supervisor)
    body = client.get(reverse("cases:notifications")).content.decode()
    case.refresh_from_db()
    assert (
        f"{world.officer.full_name} submitted {case.reference} to the rights-protection office — review it by "
        f"{due_day(case.stage_due_at)}." in body
    )
    assert client.post(reverse("cases:notifications-read")).status_code == 302
    assert Notification.objects.filter(recipient=world.county_supervisor, read_at__isnull=True).count() == 0


def test_pages_speak_chinese_when_asked(client, world):
    case = case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'lang="zh-Hans"' in body
    assert "受理" in body


def test_language_can_be_switched_before_login(client, db):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "zh-hans"


def test_case_page_shows_a_flag_with_its_rule_and_basis(client, world):
    case = case_in(world, S.SUPERVISION)
    Flag.objects.create(case=case, kind="stalled", rule_code="STALLED", detail={}, raised_at=timezone.now())
    client.force_login(world.supervisor)
    body = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    view = describe_flag(Flag.objects.get(case=case))
    assert view.title in body
    assert "A flag is a prompt for review, not a legal verdict." in body


def test_the_timeline_names_the_officer_removed_also_for_removals_recorded_as_updates(client, world):
    case = draft(world)
    colleague = services.add_involved_officer(case=case, by=world.officer, name="王警官")
    client.force_login(world.officer)
    response = client.post(reverse("cases:remove-officer", args=[case.pk, colleague.pk]))
    assert response.status_code == 302
    removal = CaseEvent.objects.filter(case=case).order_by("at", "id").last()
    assert (removal.kind, event_text(removal)) == (EventKind.OFFICER_REMOVED, "Involved officer removed: 王警官")
    # Before removals had their own kind they were stored as officer updates; the timeline still says what they were.
    recorded_before = CaseEvent(case=case, kind=EventKind.OFFICER_UPDATED, data={"removed": "李警官"})
    assert event_text(recorded_before) == "Involved officer removed: 李警官"
    update = CaseEvent(case=case, kind=EventKind.OFFICER_UPDATED, data={"officer": colleague.pk, "changes": {}})
    assert event_text(update) == "Involved officer updated"
