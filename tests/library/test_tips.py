"""Guidance tips (library/guidance/): the workflow with its four eyes and scope, refusals that change nothing, the push
to every officer of the subtree (one notification each, none outside, in a bounded number of queries), the reads, and
the notices of the editorial work (submitted, returned, published; a write-up's proposal declined)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from accounts import services as account_services
from accounts.models import Role
from accounts.selectors import actor_for
from cases import selectors as case_selectors
from cases import services as case_services
from cases.choices import NotificationKind
from cases.exceptions import IllegalTransition, StaleVersion
from cases.models import Notification
from cases.notices import _TOPICS, register_topic
from library import notices
from library import services as library_services
from library.guidance import policy, selectors, services
from library.guidance.models import Tip, TipEvent, TipRead
from library.models import WriteUp
from tests.factories import member
from tests.library.conftest import drafted, proposed, published, submitted
from tests.library.tipkit import TEXTS, draft_tip, published_tip, run_pushes, submitted_tip, tip_input, today

pytestmark = pytest.mark.django_db


def snapshot() -> tuple:
    """Every row a tip's step could write."""
    return (
        tuple(
            Tip.objects.order_by("pk").values_list(
                "pk", "state", "version", "title_zh", "body_zh", "approved_by_id", "scope_path", "withdrawn_at"
            )
        ),
        TipEvent.objects.count(),
        TipRead.objects.count(),
        tuple(Notification.objects.order_by("pk").values_list("pk", "recipient_id", "kind")),
    )


def guidance_recipients() -> list[str]:
    notes = Notification.objects.filter(kind=NotificationKind.GUIDANCE).select_related("recipient")
    return sorted(n.recipient.username for n in notes)


def work_notes() -> list[tuple[str, str]]:
    notes = Notification.objects.filter(kind=NotificationKind.LIBRARY_WORK).select_related("recipient")
    with translation.override("en"):
        return sorted((n.recipient.username, n.text) for n in notes)


# --- the workflow ----------------------------------------------------------------------------------------------------


def test_a_tip_is_written_sent_approved_published_and_withdrawn(world):
    tip = draft_tip(world)
    assert (tip.state, tip.version, tip.unit, tip.author, tip.last_editor) == (
        "draft",
        1,
        world.city,
        world.supervisor,
        world.supervisor,
    )
    tip = services.submit_tip(tip=tip, by=world.supervisor, expected_version=1)
    tip = services.publish_tip(tip=tip, by=world.admin, scope_unit=world.county, expected_version=2)
    assert (tip.state, tip.version, tip.approved_by, tip.scope_unit, tip.scope_path) == (
        "published",
        3,
        world.admin,
        world.county,
        world.county.path,
    )
    tip = services.withdraw_tip(tip=tip, by=world.supervisor, note="已过时", expected_version=3)
    assert (tip.state, tip.withdrawal_note, tip.version) == ("withdrawn", "已过时", 4)
    steps = list(TipEvent.objects.filter(tip=tip).order_by("at", "id").values_list("step", "actor__username"))
    assert steps == [
        ("created", "supervisor"),
        ("submitted", "supervisor"),
        ("published", "admin"),
        ("withdrawn", "supervisor"),
    ]


def test_whoever_wrote_a_tip_or_edited_it_last_never_approves_it(world):
    # The province administrator edits the supervisor's draft: now the last editor, they may not publish it.
    tip = draft_tip(world)
    tip = services.save_tip(
        tip=tip, by=world.admin, data=tip_input(texts={"body_zh": "站在车辆侧前方。"}), expected_version=1
    )
    tip = services.submit_tip(tip=tip, by=world.supervisor, expected_version=tip.version)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="four eyes"):
        services.publish_tip(tip=tip, by=world.admin, scope_unit=world.city, expected_version=tip.version)
    assert snapshot() == before
    assert not policy.can_take(actor_for(world.admin), Tip.objects.get(pk=tip.pk), "publish")
    # Another administrator above the unit approves it.
    other_admin = member(world.ministry, Role.ADMIN, username="ministry_admin")
    tip = services.publish_tip(tip=tip, by=other_admin, scope_unit=world.city, expected_version=tip.version)
    assert (tip.state, tip.approved_by, tip.author, tip.last_editor) == (
        "published",
        other_admin,
        world.supervisor,
        world.admin,
    )


def test_an_administrator_who_wrote_a_tip_does_not_approve_it_either(world):
    tip = services.create_tip(by=world.admin, unit=world.province, data=tip_input())
    tip = services.submit_tip(tip=tip, by=world.admin, expected_version=1)
    before = snapshot()
    with pytest.raises(PermissionDenied, match="four eyes"):
        services.publish_tip(tip=tip, by=world.admin, scope_unit=world.city, expected_version=2)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "action"),
    [
        ("officer", "submit"),  # not an editor
        ("sibling_supervisor", "submit"),  # another province
        ("supervisor", "publish"),  # an editor, not an approver
        ("ministry_supervisor", "return"),  # a supervisor above: edits, never approves
        ("sibling_supervisor", "withdraw"),
    ],
)
def test_a_step_out_of_ones_role_or_scope_is_refused_and_changes_nothing(world, who, action):
    made = {"submit": draft_tip, "publish": submitted_tip, "return": submitted_tip, "withdraw": published_tip}
    tip = made[action](world)
    by, version = getattr(world, who), tip.version
    steps = {
        "submit": lambda: services.submit_tip(tip=tip, by=by, expected_version=version),
        "publish": lambda: services.publish_tip(tip=tip, by=by, scope_unit=world.city, expected_version=version),
        "return": lambda: services.return_tip(tip=tip, by=by, note="改", expected_version=version),
        "withdraw": lambda: services.withdraw_tip(tip=tip, by=by, note="撤", expected_version=version),
    }
    before = snapshot()
    with pytest.raises(PermissionDenied):
        steps[action]()
    assert snapshot() == before


def test_a_tip_is_published_only_within_its_units_subtree(world):
    tip = submitted_tip(world)
    before = snapshot()
    for outside in (world.province, world.sibling_province, world.sibling_station):
        with pytest.raises(ValidationError) as refused:
            services.publish_tip(tip=tip, by=world.admin, scope_unit=outside, expected_version=tip.version)
        assert refused.value.message_dict == {"scope_unit": ["Publish to the tip's unit or to a unit below it."]}
    assert snapshot() == before


def test_a_tip_is_written_only_for_a_unit_one_covers(world):
    before = snapshot()
    for who, unit in (
        (world.officer, world.station),
        (world.supervisor, world.province),
        (world.sibling_supervisor, world.city),
    ):
        with pytest.raises(PermissionDenied):
            services.create_tip(by=who, unit=unit, data=tip_input())
    assert snapshot() == before
    # A supervisor writes for a unit below their own too.
    assert services.create_tip(by=world.supervisor, unit=world.county, data=tip_input()).unit == world.county


def test_a_stale_copy_and_a_step_the_state_refuses_change_nothing(world):
    tip = submitted_tip(world)
    before = snapshot()
    with pytest.raises(StaleVersion):
        services.publish_tip(tip=tip, by=world.admin, scope_unit=world.city, expected_version=1)
    with pytest.raises(IllegalTransition):
        services.withdraw_tip(tip=tip, by=world.admin, note="撤", expected_version=tip.version)
    with pytest.raises(IllegalTransition):
        services.save_tip(tip=tip, by=world.supervisor, data=tip_input(), expected_version=tip.version)
    assert snapshot() == before


def test_what_is_written_is_checked(world):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        services.create_tip(
            by=world.supervisor,
            unit=world.city,
            data=tip_input(
                texts={"title_zh": "一\n二", "body_en": "x" * 2001, "motto_zh": "?"},
                scenarios=["traffic", "flying"],
                kinds=["nonsense"],
                priority="whenever",
                valid_until=today() - timedelta(days=1),
            ),
        )
    assert refused.value.message_dict == {
        "title_zh": ["Write the title on one line."],
        "body_en": ["Keep this to 2000 characters or fewer."],
        "motto_zh": ["There is no such text."],
        "scenarios": ["Choose among the listed values."],
        "kinds": ["Choose among the listed values."],
        "priority": ["Choose among the listed values."],
        "valid_until": ["The last day cannot be before the first."],
    }
    assert snapshot() == before


def test_a_tip_is_sent_on_only_complete_and_still_valid(world):
    tip = draft_tip(world, texts={"title_zh": "只有标题", "body_en": "Only a body"})
    with pytest.raises(ValidationError) as refused:
        services.submit_tip(tip=tip, by=world.supervisor, expected_version=1)
    assert refused.value.message_dict == {
        "body_zh": ["Tip (Chinese) is needed before the tip is sent on."],
        "title_en": ["Title (English) is needed before the tip is sent on."],
    }
    ended = draft_tip(world, valid_from=today() - timedelta(days=10), valid_until=today() - timedelta(days=1))
    with pytest.raises(ValidationError) as refused:
        services.submit_tip(tip=ended, by=world.supervisor, expected_version=1)
    assert refused.value.message_dict == {"valid_until": ["The tip's last day has passed: give a later one."]}


def test_a_new_tip_written_from_a_published_one_replaces_it_when_published(world):
    old = published_tip(world)
    new = services.copy_tip(tip=old, by=world.supervisor)
    assert (new.state, new.replaces, new.unit, new.title_zh, new.scenarios) == (
        "draft",
        old,
        world.city,
        TEXTS["title_zh"],
        ["traffic"],
    )
    assert Tip.objects.get(pk=old.pk).state == "published"  # still read until the new one is published
    new = services.save_tip(
        tip=new, by=world.supervisor, data=tip_input(texts={"body_zh": "新的要点。"}), expected_version=1
    )
    new = services.submit_tip(tip=new, by=world.supervisor, expected_version=new.version)
    services.publish_tip(tip=new, by=world.admin, scope_unit=world.city, expected_version=new.version)
    old = Tip.objects.get(pk=old.pk)
    assert (old.state, old.withdrawal_note) == ("withdrawn", f"Replaced by tip no. {new.pk}.")
    officer = actor_for(world.officer)
    assert [t.pk for t in selectors.tips_in_force(officer)] == [new.pk]


# --- the push ------------------------------------------------------------------------------------------------------


def test_publication_tells_every_officer_of_the_subtree_once_and_nobody_outside(world):
    member(world.station, Role.SUPERVISOR, username="station_head")
    # Two roles in the subtree: still one notification.
    account_services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR)
    tip = published_tip(world, scope=world.county)
    assert run_pushes() == 4
    assert guidance_recipients() == ["county_supervisor", "officer", "other_officer", "station_head"]
    note = Notification.objects.get(kind=NotificationKind.GUIDANCE, recipient=world.officer)
    assert (note.case, note.unit, note.link, note.delivery, note.read_at) == (
        None,
        world.county,
        f"/library/tips/{tip.pk}/",
        "in_app",
        None,
    )
    assert note.emailed_at is not None  # in-app only: nothing to e-mail
    with translation.override("en"):
        assert note.text == f"New guidance tip: “{TEXTS['title_en']}”."
    with translation.override("zh-hans"):
        assert TEXTS["title_zh"] in note.text


def test_an_urgent_tip_says_so(world):
    published_tip(world, priority="urgent")
    run_pushes()
    note = Notification.objects.filter(kind=NotificationKind.GUIDANCE).first()
    with translation.override("en"):
        assert note.text == f"Urgent guidance tip: “{TEXTS['title_en']}”. Read it before your next call-out."


def test_the_push_takes_the_same_queries_for_three_officers_or_thirty(world):
    def push_counting(extra: int) -> int:
        for _n in range(extra):
            member(world.station, Role.OFFICER)
        tip = submitted_tip(world)
        services.publish_tip(tip=tip, by=world.admin, scope_unit=world.city, expected_version=tip.version)
        with CaptureQueriesContext(connection) as queries:
            run_pushes()
        return len(queries)

    few = push_counting(3)
    told_few = Notification.objects.filter(kind=NotificationKind.GUIDANCE).count()
    many = push_counting(27)
    told_many = Notification.objects.filter(kind=NotificationKind.GUIDANCE).count() - told_few
    assert (told_few, told_many) == (4 + 3, 4 + 30)
    assert many == few


def test_the_push_is_written_in_chunks(world, monkeypatch):
    monkeypatch.setattr(notices, "PUSH_CHUNK", 2)
    for _n in range(3):
        member(world.station, Role.OFFICER)
    tip = submitted_tip(world)
    services.publish_tip(tip=tip, by=world.admin, scope_unit=world.city, expected_version=tip.version)
    with CaptureQueriesContext(connection) as queries:
        assert run_pushes() == 7
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "cases_notification"')]
    # Seven officers: 2 + 2 + 2 + 1, each chunk in its own transaction.
    assert len(inserts) == 4
    assert Notification.objects.filter(kind=NotificationKind.GUIDANCE).count() == 7


def test_an_officer_reads_the_pushed_notice_while_in_the_subtree_and_it_opens_the_tip(world):
    tip = published_tip(world)
    run_pushes()
    client = Client()
    client.force_login(world.officer)
    note = Notification.objects.get(kind=NotificationKind.GUIDANCE, recipient=world.officer)
    assert list(case_selectors.notifications_for(actor_for(world.officer))) == [note]
    opened = client.get(f"/notifications/{note.pk}/")
    assert (opened.status_code, opened["Location"]) == (302, f"/library/tips/{tip.pk}/")
    assert Notification.objects.get(pk=note.pk).read_at is not None
    # Moved to another province: the notice is no longer theirs to read.
    world.officer.memberships.all().delete()
    account_services.grant_membership(user=world.officer, unit=world.sibling_station, role=Role.OFFICER)
    assert list(case_selectors.notifications_for(actor_for(world.officer))) == []


def test_an_office_notice_is_not_read_by_a_member_who_is_not_its_office(world):
    """The member rule is for notices to members only: an early warning's notice stays the supervisors'."""
    register_topic("test_office", lambda params: "x")
    try:
        case_services.notify_unit_office(unit=world.county, topic="test_office", params={}, link="/x/")
        note = Notification.objects.get()
        Notification.objects.filter(pk=note.pk).update(recipient=world.officer)
        assert list(case_selectors.notifications_for(actor_for(world.officer))) == []
    finally:
        _TOPICS.pop("test_office")


def test_notices_to_members_need_a_registered_member_topic(world):
    with pytest.raises(ValueError, match="not registered as a notice to members"):
        case_services.notify_members(
            recipients=[world.officer.pk], unit=world.city, topic="early_warning", params={}, link="/x/"
        )
    assert Notification.objects.count() == 0


# --- reads ---------------------------------------------------------------------------------------------------------


def test_a_read_is_recorded_once_per_officer_with_their_unit(world):
    tip = published_tip(world)
    assert services.record_tip_read(tip=tip, by=world.other_officer) is True
    assert services.record_tip_read(tip=tip, by=world.other_officer) is False
    # A supervisor above the subtree reads it too, counted for their own unit.
    services.record_tip_read(tip=tip, by=world.ministry_supervisor)
    assert sorted(TipRead.objects.values_list("reader__username", "unit__code")) == [
        ("ministry_supervisor", world.ministry.code),
        ("other_officer", world.other_station.code),
    ]
    with pytest.raises(PermissionDenied):
        services.record_tip_read(tip=tip, by=world.sibling_officer)
    assert TipRead.objects.count() == 2


def test_a_tip_is_in_force_from_its_first_day_to_its_last(world):
    officer = actor_for(world.officer)
    now = published_tip(world)
    later = published_tip(world, valid_from=today() + timedelta(days=1))
    ended_yesterday = published_tip(world, valid_until=today() + timedelta(days=5))
    Tip.objects.filter(pk=ended_yesterday.pk).update(
        valid_from=today() - timedelta(days=9), valid_until=today() - timedelta(days=1)
    )
    last_day = published_tip(world, valid_until=today())
    assert {t.pk for t in selectors.tips_in_force(officer)} == {now.pk, last_day.pk}
    assert {t.pk for t in selectors.tips_in_force(officer, on=today() + timedelta(days=1))} == {now.pk, later.pk}


def test_the_readers_list_puts_the_urgent_first_and_filters_by_tag(world):
    normal = published_tip(world, priority="normal", scenarios=["dispute"], kinds=[])
    urgent = published_tip(world, priority="urgent", scenarios=["traffic"], kinds=["vehicle_ramming"])
    high = published_tip(world, priority="high", scenarios=["traffic"], kinds=[])
    officer = actor_for(world.officer)
    assert [t.pk for t in selectors.tips_in_force(officer)] == [urgent.pk, high.pk, normal.pk]
    traffic = selectors.TipFilters(scenario="traffic")
    assert [t.pk for t in selectors.tips_in_force(officer, filters=traffic)] == [urgent.pk, high.pk]
    ramming = selectors.TipFilters(kind="vehicle_ramming")
    assert [t.pk for t in selectors.tips_in_force(officer, filters=ramming)] == [urgent.pk]
    assert selectors.tips_in_force(actor_for(world.sibling_officer)) == []


# --- the notices of the editorial work -------------------------------------------------------------------------------


def test_a_tip_sent_for_approval_tells_its_approvers_and_returned_or_published_its_writer(world):
    tip = submitted_tip(world)
    assert work_notes() == [
        ("admin", f"{world.supervisor.full_name} sent the guidance tip “{TEXTS['title_en']}” for your approval.")
    ]
    Notification.objects.all().delete()
    services.return_tip(tip=tip, by=world.admin, note="补充", expected_version=tip.version)
    tip = Tip.objects.get(pk=tip.pk)
    assert work_notes() == [
        (
            "supervisor",
            f"{world.admin.full_name} returned the guidance tip “{TEXTS['title_en']}” to its editors: read the note.",
        )
    ]
    Notification.objects.all().delete()
    tip = services.submit_tip(tip=tip, by=world.supervisor, expected_version=tip.version)
    Notification.objects.all().delete()
    services.publish_tip(tip=tip, by=world.admin, scope_unit=world.station, expected_version=tip.version)
    assert work_notes() == [
        ("supervisor", f"{world.admin.full_name} approved and published the guidance tip “{TEXTS['title_en']}”.")
    ]
    note = Notification.objects.get(kind=NotificationKind.LIBRARY_WORK)
    assert (note.unit, note.link) == (world.city, f"/library/tips/manage/{tip.pk}/")


def test_a_write_up_sent_for_approval_tells_the_nearest_administrators(lib):
    writeup = submitted(lib)
    title = writeup.title_zh
    with translation.override("en"):
        expected = f"{lib.editor.full_name} sent the typical case “{title}” for your approval."
    # The province is the nearest unit above the city with administrators: both of them (not the ministry's).
    member(lib.world.ministry, Role.ADMIN, username="ministry_admin")
    assert work_notes() == [("admin", expected), ("admin_supervisor", expected)]
    note = Notification.objects.get(recipient=lib.approver)
    assert (note.unit, note.link) == (lib.world.city, f"/library/manage/{writeup.pk}/")
    assert [n.pk for n in case_selectors.notifications_for(actor_for(lib.approver))] == [note.pk]


def test_a_write_up_returned_or_published_tells_its_editors(lib):
    writeup = submitted(lib)
    Notification.objects.all().delete()
    writeup = library_services.return_writeup(
        writeup=writeup, by=lib.approver, note="请补充", expected_version=writeup.version
    )
    title = writeup.title_zh
    assert work_notes() == [
        ("supervisor", f"{lib.approver.full_name} returned the typical case “{title}” to its editors: read the note.")
    ]
    writeup = library_services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=writeup.version)
    Notification.objects.all().delete()
    library_services.publish_writeup(
        writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
    )
    assert work_notes() == [
        ("supervisor", f"{lib.approver.full_name} approved and published the typical case “{title}”.")
    ]


def test_a_proposal_is_declined_with_a_reason_and_its_proposer_is_told(lib):
    writeup = proposed(lib)
    before = (WriteUp.objects.values_list("state", "version").get(pk=writeup.pk), Notification.objects.count())
    with pytest.raises(ValidationError) as refused:
        library_services.decline_writeup(writeup=writeup, by=lib.approver, note=" ", expected_version=writeup.version)
    assert refused.value.message_dict == {"note": ["Say why the proposal is declined."]}
    with pytest.raises(PermissionDenied):
        library_services.decline_writeup(
            writeup=writeup, by=lib.world.officer, note="不典型", expected_version=writeup.version
        )
    assert (WriteUp.objects.values_list("state", "version").get(pk=writeup.pk), Notification.objects.count()) == before
    writeup = library_services.decline_writeup(
        writeup=writeup, by=lib.approver, note="不具代表性", expected_version=writeup.version
    )
    assert (writeup.state, writeup.decline_note) == ("declined", "不具代表性")
    # Named by its number: its working title is still the case's own summary.
    assert work_notes() == [
        (
            "supervisor",
            f"{lib.approver.full_name} declined the proposal of typical case no. {writeup.pk}: read the reason.",
        )
    ]
    assert lib.case.summary not in str(Notification.objects.get().params)


def test_a_published_write_up_is_withdrawn_not_declined(lib):
    writeup = published(lib)
    writeup = library_services.revise_writeup(writeup=writeup, by=lib.editor, expected_version=writeup.version)
    with pytest.raises(IllegalTransition):
        library_services.decline_writeup(writeup=writeup, by=lib.approver, note="x", expected_version=writeup.version)
    assert WriteUp.objects.get(pk=writeup.pk).state == "drafting"


def test_a_draft_never_published_may_be_declined_by_its_editors(lib):
    writeup = drafted(lib)
    writeup = library_services.decline_writeup(
        writeup=writeup, by=lib.editor, note="重复", expected_version=writeup.version
    )
    assert writeup.state == "declined"
