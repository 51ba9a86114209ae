"""What users read: dates in one local format per language, notifications rendered in the reader's language at read
time (and e-mailed in the recipient's), timeline lines and flag facts with labels, unit names by one rule."""

import importlib
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import OrgUnit, User, unit_name
from cases import flagging, messages, notifications, services
from cases.choices import CaseStatus, Disposition, EventKind, FlagKind
from cases.models import Case, CaseEvent, Flag, Notification
from cases.rules.presentation import describe_flag
from cases.templatetags.rg import event_text
from rightsguard.text import language_of, when
from tests.cases.test_severity import attack
from tests.factories import PASSWORD, case_in, draft, due_day

MOMENT = datetime(2026, 10, 31, 13, 31, 16, 865090, tzinfo=UTC)  # 21:31 in Asia/Shanghai


@pytest.fixture(autouse=True)
def _language_left_as_found():
    """A request in Chinese leaves Chinese active in the thread: restore the language for the tests that follow."""
    with translation.override(translation.get_language()):
        yield


# --- Dates ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [("en", "31 Oct 2026 21:31", "31 Oct 2026"), ("zh-hans", "2026年10月31日 21:31", "2026年10月31日")],
)
def test_dates_read_in_one_local_format_per_language(language, moment, day):
    with translation.override(language):
        assert when(MOMENT) == moment
        assert when("2026-10-31T21:31:16.865090+08:00") == moment
        assert when(MOMENT.isoformat()) == moment
        assert when(date(2026, 10, 31)) == day
        assert when("2026-10-31") == day
        # The template filters pages use give the same text.
        page = Template(
            '{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"DATETIME_FORMAT" }}|{{ d|date:"SHORT_DATE_FORMAT" }}'
        )
        rendered = page.render(Context({"m": timezone.localtime(MOMENT), "d": date(2026, 10, 31)}))
        assert rendered == f"{moment}|{moment}|{day}"


def test_text_that_is_no_date_is_left_alone():
    assert when("R7") == "R7"
    assert when(None) == ""
    assert when("2026-13-45") == "2026-13-45"


# --- Unit names -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "name_en", "language", "shown"),
    [
        ("北山派出所", "Beishan Police Station", "en", "Beishan Police Station"),
        ("北山派出所", "Beishan Police Station", "zh-hans", "北山派出所"),
        ("北山派出所", "", "en", "北山派出所"),  # no English name recorded: the Chinese one
        ("", "Beishan Police Station", "zh-hans", "Beishan Police Station"),
    ],
)
def test_a_unit_is_named_in_the_interface_language_falling_back_to_the_other(name, name_en, language, shown):
    assert unit_name(name, name_en, language) == shown
    unit = OrgUnit(code="330106001", name=name, name_en=name_en)
    with translation.override(language):
        assert unit.display_name == shown
        assert str(unit) == f"{shown} (330106001)"


@pytest.mark.django_db
def test_the_api_gives_both_recorded_names_and_the_one_for_the_request_language(world):
    account_services.rename_org_unit(unit=world.station, name="北山派出所", name_en="Beishan Police Station")
    case = case_in(world, CaseStatus.INTAKE)
    client = Client()
    client.login(username="supervisor", password=PASSWORD)
    for language, shown in (("en", "Beishan Police Station"), ("zh-hans", "北山派出所")):
        body = client.get(f"/api/v1/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
        assert {k: body["unit"][k] for k in ("code", "name", "display_name")} == {
            "code": "330106001",
            "name": "北山派出所",
            "display_name": shown,
        }


# --- Notifications --------------------------------------------------------------------------------------------


def test_every_message_reads_as_a_sentence_in_english():
    ref = "RG-2026-000001"
    with translation.override("en"):
        assert messages.render(*messages.for_event(ref, EventKind.TRANSITION, "close")) == f"Case {ref} was closed."
        assert messages.render(*messages.for_event(ref, EventKind.TRANSITION, "submit")) == (
            f"Case {ref} was submitted to the rights-protection office."
        )
        assert messages.render(*messages.for_event(ref, EventKind.ASSIGNED)) == f"Case {ref} was assigned to you."
        assert messages.render(*messages.for_event(ref, EventKind.NOTE)) == f"Case {ref}: Note."
        assert messages.render(*messages.for_flag(ref, FlagKind.STALLED, "STALLED", None)) == (
            f"Case {ref} was flagged: Stage past its time limit."
        )
        assert messages.render(*messages.for_flag(ref, FlagKind.IDLE, "IDLE", None)) == (
            f"Case {ref} was flagged: No activity in an open stage."
        )
        assert messages.render(*messages.for_stage_warning(ref, CaseStatus.SUPERVISION, MOMENT.isoformat())) == (
            f"Case {ref} has used three quarters of the time limit for its stage “Supervision”; it is due on "
            "31 Oct 2026 21:31."
        )
        assert messages.render(*messages.for_email_failed(ref, "张三", 5)) == (
            f"The e-mail to 张三 about case {ref} could not be sent after 5 attempts."
        )
        assert messages.render("unknown", {}) == ""


def test_a_message_names_its_parts_in_the_readers_language():
    message = messages.for_stage_warning("RG-2026-000001", CaseStatus.SUPERVISION, MOMENT.isoformat())
    with translation.override("zh-hans"):
        text = messages.render(*message)
    assert "督办" in text
    assert "2026年10月31日 21:31" in text
    assert "Supervision" not in text
    assert "2026-10-31" not in text


@pytest.mark.django_db
def test_a_stored_notification_renders_in_the_readers_language_at_read_time(world):
    case = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    note = Notification.objects.get(recipient=world.county_supervisor, case=case, message=messages.FLAG)
    assert note.params == {
        "v": 2,
        "to": "office",
        "ref": case.reference,
        "kind": FlagKind.DOWNGRADED,
        "rule": "R1",
        "version": "2025-01-18",
    }
    english = (
        f"The flag scan found that {case.reference} may have been handled below the minimum the law calls for: "
        "Violent attack on an officer on duty (rule R1) — review the disposition before the case concludes."
    )
    assert note.verb == english  # the English text the admin site lists
    with translation.override("en"):
        assert note.text == english
    with translation.override("zh-hans"):
        assert "暴力袭击正在依法执行职务的民警" in note.text
        assert "Violent attack" not in note.text


@pytest.mark.django_db
def test_a_notification_without_a_message_shows_its_stored_text(world):
    case = case_in(world, CaseStatus.INTAKE)
    note = Notification.objects.create(
        recipient=world.supervisor, case=case, verb="Written before messages", created_at=timezone.now()
    )
    with translation.override("zh-hans"):
        assert note.text == "Written before messages"


@pytest.mark.django_db
def test_the_notification_api_speaks_the_request_language(world):
    case = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    client = Client()
    client.login(username="county_supervisor", password=PASSWORD)
    english = client.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    chinese = client.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    flag_en = next(n for n in english if n["message"] == messages.FLAG)
    flag_zh = next(n for n in chinese if n["message"] == messages.FLAG)
    assert flag_en["verb"].endswith(
        "Violent attack on an officer on duty (rule R1) — review the disposition before the case concludes."
    )
    assert "暴力袭击正在依法执行职务的民警" in flag_zh["verb"]
    assert (
        flag_en["params"]
        == flag_zh["params"]
        == {
            "v": 2,
            "to": "office",
            "ref": case.reference,
            "kind": "downgraded",
            "rule": "R1",
            "version": "2025-01-18",
        }
    )


@pytest.mark.django_db
def test_an_event_e_mail_goes_out_in_the_recipients_language(world):
    world.county_supervisor.email = "county@example.org"
    world.county_supervisor.save()
    account_services.set_language_preference(user=world.county_supervisor, language="zh-hans")
    case = draft(world)
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    event = CaseEvent.objects.get(case=case, kind=EventKind.TRANSITION, action="submit")
    mail.outbox.clear()
    Notification.objects.filter(event=event).delete()
    assert notifications.deliver_for_event(event.pk) == 1
    [sent] = mail.outbox
    note = Notification.objects.get(event=event)
    case.refresh_from_db()
    due = due_day(case.stage_due_at, "zh-hans")
    what = f"{world.officer.full_name}已将 {case.reference} 提交维权办——请于{due}前审查。"
    with translation.override("zh-hans"):
        assert note.text == what
    assert sent.subject == what
    assert sent.body == (
        f"{world.county_supervisor.full_name}，您好：\n\n{what}\n\n"
        f"在民警维权系统中打开：http://localhost:8000/notifications/{note.pk}/"
    )
    assert note.verb == (
        f"{world.officer.full_name} submitted {case.reference} to the rights-protection office — review it by "
        f"{due_day(case.stage_due_at)}."
    )


@pytest.mark.django_db
def test_a_flag_digest_goes_out_in_the_recipients_language(world):
    world.county_supervisor.email = "county@example.org"
    world.county_supervisor.save()
    account_services.set_language_preference(user=world.county_supervisor, language="zh-hans")
    attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    mail.outbox.clear()
    Notification.objects.update(emailed_at=None)
    Notification.objects.exclude(message=messages.FLAG).update(emailed_at=timezone.now())
    assert notifications.deliver_flag_digests() == 1
    [sent] = mail.outbox
    assert sent.subject == "民警维权系统：有 1 条预警需要您关注"
    assert "暴力袭击正在依法执行职务的民警" in sent.body


@pytest.mark.django_db
def test_without_a_preference_e_mail_is_in_the_site_language(world, settings):
    assert world.officer.language == ""
    assert language_of(world.officer) == settings.LANGUAGE_CODE == "en"


@pytest.mark.django_db
def test_choosing_a_language_remembers_it_for_e_mail(world, client):
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert list(User.objects.filter(language="zh-hans")) == []  # nobody logged in: nothing stored
    client.login(username="officer", password=PASSWORD)
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    assert User.objects.get(pk=world.officer.pk).language == "zh-hans"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert User.objects.get(pk=world.officer.pk).language == "zh-hans"


# --- Existing notifications get their message back ------------------------------------------------------------

migration = importlib.import_module("cases.migrations.0022_notification_message")


def test_old_notifications_get_their_message_from_their_event_or_their_english_text():
    ref = "RG-2026-000007"
    transition = SimpleNamespace(kind="transition", action="close", data={})
    flag = SimpleNamespace(kind="flag_raised", action="", data={"kind": "review_prompt", "rule": "R7", "version": "x"})
    other = SimpleNamespace(kind="support", action="", data={})
    note = SimpleNamespace(verb=f"{ref}: Close")
    assert migration.message_of(note, transition, ref) == ("transition", {"ref": ref, "action": "close"})
    assert migration.message_of(note, flag, ref) == (
        "flag",
        {"ref": ref, "kind": "review_prompt", "rule": "R7", "version": "x"},
    )
    assert migration.message_of(note, other, ref) == ("event", {"ref": ref, "kind": "support"})
    warning = SimpleNamespace(verb=f"{ref}: Supervision has used 75 % of its time limit; due 2026-10-31 21:31")
    assert migration.message_of(warning, None, ref) == (
        "stage_warning",
        {"ref": ref, "stage": "supervision", "due": "2026-10-31T21:31:00+08:00"},
    )
    failed = SimpleNamespace(verb=f"The e-mail to 张三 about {ref} could not be sent after 5 attempts.")
    assert migration.message_of(failed, None, ref) == ("email_failed", {"ref": ref, "name": "张三", "attempts": 5})
    assert migration.message_of(SimpleNamespace(verb="something else"), None, ref) == ("", {})


# --- Timeline and flags ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_details_change_names_the_fields_by_their_labels(world):
    case = draft(world)
    services.update_case_details(
        case=case, by=world.officer, expected_version=case.version, changes={"summary": "新摘要", "narrative": "新经过"}
    )
    event = CaseEvent.objects.get(case=case, kind=EventKind.UPDATED)
    with translation.override("en"):
        assert event_text(event) == "Changed: Summary, What happened"
    with translation.override("zh-hans"):
        text = event_text(event)
    assert text.startswith("已修改：")
    assert "事件经过" in text
    assert "摘要" in text
    assert "narrative" not in text
    assert "summary" not in text


@pytest.mark.django_db
def test_flag_facts_show_outcomes_dates_and_labels_not_ranks_or_iso_times(world):
    case = attack(world, Disposition.ADMIN_FINE)
    flagging.flag_cases()
    flag = Flag.objects.get(case=case, kind=FlagKind.DOWNGRADED)
    assert flag.detail["facts"]["outcome_rank"] == 5  # stored for the program
    with translation.override("en"):
        view = describe_flag(flag)
    assert view.facts == (
        ("Incident date", "1 Jun 2025"),
        ("Incident type", "Violent attack"),
        ("Officers attacked", "1"),
        ("Worst injury", "Slight injury"),
        ("Outcome recorded", "Administrative fine"),
    )
    assert view.shown_code == "R1"
    with translation.override("zh-hans"):
        view = describe_flag(flag)
    assert view.facts[0] == ("事发日期", "2025年6月1日")


@pytest.mark.django_db
def test_operational_flags_show_their_title_and_local_dates_not_codes(world):
    case = case_in(world, CaseStatus.SUPERVISION)
    due = timezone.now() - timedelta(days=3)
    Case.objects.filter(pk=case.pk).update(stage_due_at=due)
    flagging.flag_cases()
    flag = Flag.objects.get(case=case, kind=FlagKind.STALLED)
    with translation.override("en"):
        view = describe_flag(flag)
        raised = CaseEvent.objects.get(case=case, kind=EventKind.FLAG_RAISED)
        line = event_text(raised)
        due_text = when(due)
    assert view.shown_code == ""
    facts = dict(view.facts)
    assert facts["Stage"] == "Supervision"
    assert facts["Due"] == due_text
    assert facts["Due"] == f"{timezone.localtime(due).day} {timezone.localtime(due):%b %Y %H:%M}"
    assert line == "Flag raised (Stalled): Stage past its time limit"


def test_a_stale_version_is_told_as_a_sentence():
    from cases.exceptions import StaleVersion
    from cases.services.common import check_version

    with pytest.raises(StaleVersion) as refused, translation.override("en"):
        check_version(SimpleNamespace(version=13), 12)  # type: ignore[arg-type]
    assert str(refused.value.message) == (
        "This case was changed by someone else after you opened it, so nothing was saved. Look at what changed, "
        "then try again."
    )
