"""Each notification is one sentence in its reader's language: who did what to which case, and what the reader is to
do, with the date where there is one. The office and the filer read different sentences about the same event, and
the filer's notification holds nothing from the case's internal material."""

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts import services as account_services
from cases import messages, notifications, services
from cases.choices import CaseStatus, EventKind, FindingProblem, FlagKind, NoSuspectReason, NotificationKind, Track
from cases.models import Case, CaseEvent, Notification, Referral
from cases.services.support_requests import answer_support_request
from tests.cases.test_support_lifecycle import requested
from tests.factories import PASSWORD, add_convicted_suspect, case_in, due_day

pytestmark = pytest.mark.django_db

ACTOR = "赵敏"


@pytest.fixture(autouse=True)
def _named(world):
    """The acting supervisor has a name, the county has both of its names, as in the office's examples."""
    world.supervisor.full_name = ACTOR
    world.supervisor.save(update_fields=["full_name"])
    account_services.rename_org_unit(unit=world.county, name="西湖区分局", name_en="Xihu District Branch")
    with translation.override(translation.get_language()):
        yield


def said(note: Notification) -> tuple[str, str]:
    """The notification in English and in Chinese."""
    with translation.override("en"):
        english = note.text
    with translation.override("zh-hans"):
        chinese = note.text
    return english, chinese


def note_for(user, case: Case, **filters) -> Notification:
    return Notification.objects.filter(recipient=user, case=case, **filters).latest("id")


def assigned_intake(world, django_capture_on_commit_callbacks) -> Case:
    """A submitted case the city supervisor has assigned to the county supervisor (its handler)."""
    case = case_in(world, CaseStatus.INTAKE)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_case(
            case=case, by=world.supervisor, expected_version=case.version, assignee=world.county_supervisor
        )
    return Case.objects.get(pk=case.pk)


def refer(world, case: Case, django_capture_on_commit_callbacks) -> Case:
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(
            case=case, by=world.supervisor, expected_version=case.version, track=Track.CRIMINAL, to_unit=world.county
        )
    return Case.objects.get(pk=case.pk)


def test_a_referral_tells_the_handler_to_acknowledge_and_the_filer_that_nothing_is_needed(
    world, django_capture_on_commit_callbacks
):
    case = refer(world, assigned_intake(world, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    due = Referral.objects.get(case=case).due_at
    ref = case.reference
    handler = note_for(world.county_supervisor, case, message=messages.TRANSITION)
    assert said(handler) == (
        f"{ACTOR} referred {ref} to Xihu District Branch — acknowledge by {due_day(due)}.",
        f"{ACTOR}已将 {ref} 移交西湖区分局——请于{due_day(due, 'zh-hans')}前确认接收。",
    )
    filer = note_for(world.officer, case, message=messages.TRANSITION)
    assert said(filer) == (
        f"{ACTOR} referred {ref} to Xihu District Branch — it is to be acknowledged by {due_day(due)}; nothing is "
        "needed from you.",
        f"{ACTOR}已将 {ref} 移交西湖区分局——应于{due_day(due, 'zh-hans')}前确认接收；您无需做任何处理。",
    )
    # Taken when the notification was made: the actor's name as it was, the unit's names, the due date.
    assert filer.params == {
        "v": 2,
        "ref": ref,
        "actor": ACTOR,
        "to": "filer",
        "action": "refer",
        "stage": CaseStatus.REFERRED,
        "due": due.isoformat(),
        "unit": {"name": "西湖区分局", "name_en": "Xihu District Branch"},
    }
    assert (handler.params["to"], handler.kind, filer.kind) == ("office", NotificationKind.CASE_MOVES, "case_moves")
    # The actor is not told of their own action.
    assert not Notification.objects.filter(recipient=world.supervisor, case=case).exists()


def test_an_assignment_tells_the_new_handler_by_when_the_next_step_is_due(world, django_capture_on_commit_callbacks):
    case = assigned_intake(world, django_capture_on_commit_callbacks)
    note = note_for(world.county_supervisor, case, kind=NotificationKind.ASSIGNMENTS)
    assert said(note) == (
        f"{ACTOR} assigned {case.reference} to you — take its next step by {due_day(case.stage_due_at)}.",
        f"{ACTOR}已将 {case.reference} 分派给您——请于{due_day(case.stage_due_at, 'zh-hans')}前完成下一步办理。",
    )


def test_an_acknowledgement_and_a_conclusion_read_differently_for_the_handler_and_the_filer(
    world, django_capture_on_commit_callbacks
):
    case = refer(world, assigned_intake(world, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    ref = case.reference
    with django_capture_on_commit_callbacks(execute=True):
        case = services.acknowledge_referral(
            case=case, by=world.supervisor, expected_version=case.version, external_reference="XH-2026-118"
        )
    supervised_due = Case.objects.get(pk=case.pk).stage_due_at
    assert said(note_for(world.county_supervisor, case, event__action="acknowledge")) == (
        f"{ACTOR} recorded that Xihu District Branch acknowledged {ref} — supervise its handling; this stage is due "
        f"by {due_day(supervised_due)}.",
        f"{ACTOR}已记录西湖区分局确认接收 {ref}——请督办其办理；本阶段应于{due_day(supervised_due, 'zh-hans')}前完成。",
    )
    assert said(note_for(world.officer, case, event__action="acknowledge")) == (
        f"{ACTOR} recorded that Xihu District Branch acknowledged {ref} — its handling is now supervised; nothing is "
        "needed from you.",
        f"{ACTOR}已记录西湖区分局确认接收 {ref}——案件已进入督办；您无需做任何处理。",
    )
    with django_capture_on_commit_callbacks(execute=True):
        case = services.conclude_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            reason="Attacker not identified",
            no_suspect_reason=NoSuspectReason.OTHER,
        )
    review_due = Case.objects.get(pk=case.pk).stage_due_at
    # The conclusion's reason is quoted to both: the filer reads it on the timeline too.
    english, chinese = said(note_for(world.county_supervisor, case, event__action="conclude"))
    assert english == (
        f"{ACTOR} concluded {ref} (reason: “Attacker not identified”) — complete its look-back review by "
        f"{due_day(review_due)}."
    )
    assert "“Attacker not identified”" in chinese
    filer = note_for(world.officer, case, event__action="conclude")
    english, chinese = said(filer)
    assert english == (
        f"{ACTOR} concluded {ref} (reason: “Attacker not identified”) — its look-back review is due by "
        f"{due_day(review_due)}; nothing is needed from you."
    )
    assert "“Attacker not identified”" in chinese
    # The conclusion's "missing" dispositions are the office's assessment: not in the filer's parameters.
    assert "missing" not in filer.params
    assert filer.params["reason"] == "Attacker not identified"


def test_a_conclusion_without_a_reason_reads_as_before(world, django_capture_on_commit_callbacks):
    case = case_in(world, CaseStatus.SUPERVISION)
    add_convicted_suspect(world, case)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.conclude_case(case=case, by=world.supervisor, expected_version=None)
    review_due = Case.objects.get(pk=case.pk).stage_due_at
    filer = note_for(world.officer, case, event__action="conclude")
    assert said(filer) == (
        f"{ACTOR} concluded {case.reference} — its look-back review is due by {due_day(review_due)}; nothing is "
        "needed from you.",
        f"{ACTOR}已对 {case.reference} 办结——回头看复查应于{due_day(review_due, 'zh-hans')}前完成；您无需做任何处理。",
    )
    assert "reason" not in filer.params


def test_a_rejection_quotes_the_offices_reason_to_the_filer_and_the_handler(world, django_capture_on_commit_callbacks):
    case = assigned_intake(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_case(case=case, by=world.supervisor, expected_version=case.version, reason="Not within scope")
    english, chinese = said(note_for(world.officer, case, event__action="reject"))
    assert english == (
        f"{ACTOR} rejected {case.reference} (reason: “Not within scope”) — the whole decision is on the case page."
    )
    assert "“Not within scope”" in chinese
    english, chinese = said(note_for(world.county_supervisor, case, event__action="reject"))
    assert english == (
        f"{ACTOR} rejected {case.reference} (reason: “Not within scope”) — nothing more is needed from you."
    )
    assert "“Not within scope”" in chinese


def test_a_submission_tells_the_office_by_when_to_review_it(world, django_capture_on_commit_callbacks):
    case = case_in(world, CaseStatus.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case=case, by=world.officer, expected_version=case.version)
    case.refresh_from_db()
    assert said(note_for(world.county_supervisor, case)) == (
        f"{world.officer.full_name} submitted {case.reference} to the rights-protection office — review it by "
        f"{due_day(case.stage_due_at)}.",
        f"{world.officer.full_name}已将 {case.reference} 提交维权办——请于{due_day(case.stage_due_at, 'zh-hans')}"
        "前审查。",
    )


def test_a_declined_support_request_gives_the_officer_the_reason(world, django_capture_on_commit_callbacks):
    measure = requested(world)
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(measure=measure, by=world.supervisor, answer="decline", reason="不符合条件")
    note = note_for(world.officer, measure.case)
    ref = measure.case.reference
    assert note.kind == NotificationKind.SUPPORT_ANSWERS
    assert said(note) == (
        f"{ACTOR} declined the support request “Green-channel emergency medical care” in {ref} (reason: “不符合条件”) "
        "— ask the office if you need it reconsidered.",
        f"{ACTOR}未批准 {ref} 中的保障申请“紧急救治绿色通道”（理由：“不符合条件”）——如需重新考虑，请联系维权办。",
    )


def test_a_finding_tells_the_handler_by_when_to_have_it_rectified_and_never_reaches_the_filer(
    world, django_capture_on_commit_callbacks
):
    case = assigned_intake(world, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        services.raise_finding(
            case=case,
            by=world.supervisor,
            problem=FindingProblem.PROTRACTED,
            detail="久拖",
            rectify_by=date(2026, 12, 24),
        )
    note = note_for(world.county_supervisor, case, event__kind=EventKind.FINDING)
    assert said(note) == (
        f"{ACTOR} raised a supervision finding in {case.reference} — have it rectified by 24 Dec 2026.",
        f"{ACTOR}在 {case.reference} 中提出督办发现问题——请督促于2026年12月24日前整改。",
    )
    assert not Notification.objects.filter(recipient=world.officer, event__kind=EventKind.FINDING).exists()


def test_a_reopened_case_tells_the_filer_nothing_of_the_finding(world, django_capture_on_commit_callbacks):
    case = case_in(world, CaseStatus.LOOK_BACK)
    with django_capture_on_commit_callbacks(execute=True):
        services.reopen_case(
            case=case,
            by=world.supervisor,
            expected_version=case.version,
            problem=FindingProblem.PROTRACTED,
            detail="久拖",
        )
    filer = note_for(world.officer, case, event__action="reopen")
    assert said(filer) == (
        f"{ACTOR} reopened {case.reference} for further handling — nothing is needed from you.",
        f"{ACTOR}已对 {case.reference} 重新督办以继续办理——您无需做任何处理。",
    )
    assert set(filer.params) == {"v", "ref", "actor", "to", "action", "stage", "due"}
    assert filer.params["to"] == "filer"
    # Nor does the API hand the filer anything more.
    client = Client()
    client.login(username="officer", password=PASSWORD)
    listed = client.get("/api/v1/notifications/").json()["results"]
    assert next(n["params"]["action"] for n in listed if n["case"]["id"] == case.pk) == "reopen"
    assert all(not {"finding", "problem", "missing", "review"} & set(n["params"]) for n in listed)


def test_flags_and_stage_warnings_say_what_to_do():
    ref = "RG-2026-000459"
    stalled = {"v": 2, "to": "office", "ref": ref, "kind": FlagKind.STALLED, "rule": "STALLED", "version": ""}
    warning = {"v": 2, "to": "office", "ref": ref, "stage": CaseStatus.REFERRED, "due": "2026-12-12T10:00:00+08:00"}
    with translation.override("en"):
        assert messages.render(messages.FLAG, stalled) == (
            f"The flag scan flagged {ref}: Stage past its time limit — take its next step or extend its time limit."
        )
        assert messages.render(messages.STAGE_WARNING, warning) == (
            f"{ref} has used three quarters of the time limit for its stage “Referred” — take its next step by "
            "12 Dec 2026."
        )
    with translation.override("zh-hans"):
        assert messages.render(messages.STAGE_WARNING, warning) == (
            f"{ref} 已用去“已移交”阶段时限的四分之三——请于2026年12月12日前完成下一步办理。"
        )


def test_notifications_made_before_keep_their_sentences(world):
    case = case_in(world, CaseStatus.INTAKE)
    old = Notification.objects.create(
        recipient=world.officer,
        case=case,
        message=messages.TRANSITION,
        params={"ref": case.reference, "action": "refer"},
        verb="Referred",
        created_at=timezone.now(),
    )
    assert said(old) == (
        f"Case {case.reference} was referred to a handling unit.",
        f"案件 {case.reference} 已移交承办单位。",
    )


def test_the_text_rendered_per_role_is_what_describe_says(world, django_capture_on_commit_callbacks):
    case = refer(world, assigned_intake(world, django_capture_on_commit_callbacks), django_capture_on_commit_callbacks)
    event = CaseEvent.objects.get(case=case, action="refer")
    with translation.override("en"):
        assert notifications.describe(event, messages.FILER) == note_for(world.officer, case, event=event).text
        assert (
            notifications.describe(event, messages.OFFICE) == note_for(world.county_supervisor, case, event=event).text
        )


# --- the office's reason, quoted -----------------------------------------------------------------------------------


def test_an_approval_quotes_the_offices_reason_in_the_notification_and_its_e_mail(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    measure = requested(world)
    ref = measure.case.reference
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(measure=measure, by=world.supervisor, answer="approve", reason="同意，已联系医院")
    note = note_for(world.officer, measure.case)
    english, chinese = said(note)
    sentence = (
        f"{ACTOR} approved the support request “Green-channel emergency medical care” in {ref} "
        "(reason: “同意，已联系医院”) — the office arranges it."
    )
    assert english == sentence
    assert "“同意，已联系医院”" in chinese
    assert note.params["answer"]["reason"] == "同意，已联系医院"
    (sent,) = [m for m in mailoutbox if m.to == [world.officer.email]]
    assert sent.subject == sentence
    assert sentence in sent.body


def test_a_delivery_quotes_the_offices_note(world, django_capture_on_commit_callbacks):
    measure = requested(world)
    answer_support_request(measure=measure, by=world.supervisor, answer="approve")
    day = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(
            measure=measure,
            by=world.supervisor,
            answer="deliver",
            provider="西湖区人民医院",
            delivered_on=day,
            reason="住院十二天，费用已结清",
        )
    english, chinese = said(note_for(world.officer, measure.case))
    assert english == (
        f"{ACTOR} recorded the support “Green-channel emergency medical care” in {measure.case.reference} as delivered "
        f"by 西湖区人民医院 on {day.day} {day:%b %Y} (reason: “住院十二天，费用已结清”) — tell the office if it did "
        "not reach you."
    )
    assert "“住院十二天，费用已结清”" in chinese


def test_a_recall_quotes_its_reason(world, django_capture_on_commit_callbacks):
    case = case_in(world, CaseStatus.CLOSED)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.recall_case(case=case, by=world.supervisor, expected_version=None, reason="2026年回头看专项")
    english, chinese = said(note_for(world.officer, case, event__action="recall"))
    assert english == (
        f"{ACTOR} recalled {case.reference} for another look-back review (reason: “2026年回头看专项”) — nothing is "
        "needed from you."
    )
    assert "“2026年回头看专项”" in chinese


def test_a_long_reason_is_cut_at_200_characters_and_kept_on_one_line_so_its_e_mail_goes_out(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    """A reason typed over several lines, longer than a sentence should carry: the notification quotes its first 200
    characters on one line with "…", so the e-mail's subject (the sentence) holds no line break and is sent."""
    measure = requested(world)
    reason = "第一行理由\r\n\r\n第二行：Bcc: someone@elsewhere.example\n" + "很长的说明" * 60
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(measure=measure, by=world.supervisor, answer="decline", reason=reason)
    note = note_for(world.officer, measure.case)
    quoted = note.params["answer"]["reason"]
    assert len(quoted) == messages.QUOTE_MAX == 200
    assert quoted == ("第一行理由 第二行：Bcc: someone@elsewhere.example " + "很长的说明" * 60)[:199] + "…"
    with translation.override("en"):
        assert f"(reason: “{quoted}”)" in note.text
    note.refresh_from_db()
    assert (note.email_attempts, note.email_failed_at, note.email_retry_at) == (1, None, None)
    (sent,) = [m for m in mailoutbox if m.to == [world.officer.email]]
    assert "\n" not in sent.subject
    assert "\r" not in sent.subject
    assert f"(reason: “{quoted}”)" in sent.subject
    assert sent.extra_headers == {}
    assert "Bcc" not in sent.message().as_string().split("\n\n", 1)[0]


def test_a_hostile_reason_is_text_on_the_notifications_page_in_the_api_and_in_the_e_mail(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    case = case_in(world, CaseStatus.INTAKE)
    reason = "<script>alert(1)</script> {{ settings.SECRET_KEY }} %(ref)s &amp;"
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_case(case=case, by=world.supervisor, expected_version=None, reason=reason)
    client = Client()
    client.login(username="officer", password=PASSWORD)
    html = client.get("/notifications/").content.decode()
    assert "(reason: “&lt;script&gt;alert(1)&lt;/script&gt; {{ settings.SECRET_KEY }} %(ref)s &amp;amp;”)" in html
    assert "<script>alert(1)" not in html
    listed = client.get("/api/v1/notifications/").json()["results"]
    text = next(n["verb"] for n in listed if n["case"]["id"] == case.pk)
    assert text == f"{ACTOR} rejected {case.reference} (reason: “{reason}”) — the whole decision is on the case page."
    (sent,) = [m for m in mailoutbox if m.to == [world.officer.email]]
    assert f"(reason: “{reason}”)" in sent.body
    assert not sent.alternatives


def test_a_move_with_a_reason_and_no_due_date_still_quotes_it():
    params = {"v": 2, "to": "office", "ref": "RG-2026-000459", "actor": ACTOR, "action": "conclude"}
    params |= {"stage": CaseStatus.LOOK_BACK, "reason": "嫌疑人在逃"}
    with translation.override("en"):
        assert messages.render(messages.TRANSITION, params) == (
            f"{ACTOR} moved RG-2026-000459 to the stage “Look-back review” (reason: “嫌疑人在逃”) — open the case "
            "to see its next step."
        )
        # Only the office's decisions are quoted: a reason on any other move is not read.
        assert "嫌疑人在逃" not in messages.render(messages.TRANSITION, {**params, "action": "reopen"})
