"""The typical-case workflow (library/services.py): proposing, drafting, the anonymisation check, approval and
publication, revision and withdrawal; each refusal leaves every record as it was. Reading: who reads what, reads
counted once per officer and version, feedback."""

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.selectors import actor_for
from cases.choices import CaseStatus
from cases.exceptions import IllegalTransition, StaleVersion
from library import policy, selectors, services
from library.choices import COLUMNS, WriteUpState
from library.models import LibraryFeedback, LibraryRead, VersionArticle, WriteUp, WriteUpEvent, WriteUpVersion
from tests.factories import case_in, member
from tests.library.conftest import ID_NUMBER, ZH_TEXTS, drafted, proposed, published, submitted


def _actor(user):
    return actor_for(user)


def records() -> tuple:
    """Every row of the library a request could write."""
    return (
        tuple(
            WriteUp.objects.order_by("pk").values_list("pk", "state", "version", "listed", "last_editor_id", *COLUMNS)
        ),
        tuple(WriteUpVersion.objects.order_by("pk").values_list("pk", "number", "scope_unit_id")),
        VersionArticle.objects.count(),
        WriteUpEvent.objects.count(),
        tuple(LibraryRead.objects.order_by("pk").values_list("version_id", "reader_id", "unit_id")),
        tuple(LibraryFeedback.objects.order_by("pk").values_list("version_id", "reader_id", "useful")),
    )


def refused(error: type[Exception], call) -> str:
    """``call`` raises ``error`` and writes nothing; its message."""
    before = records()
    with pytest.raises(error) as raised, transaction.atomic():
        call()
    assert records() == before
    return " ".join(raised.value.messages) if hasattr(raised.value, "messages") else str(raised.value)


# --- proposing ---------------------------------------------------------------------------------------------------


def test_a_proposal_starts_from_the_case_with_its_facets_and_legal_basis(lib):
    writeup = proposed(lib)
    assert (writeup.state, writeup.unit, writeup.proposed_by, writeup.version) == (
        WriteUpState.PROPOSED,
        lib.world.city,
        lib.editor,
        1,
    )
    assert (writeup.title_zh, writeup.happened_zh, writeup.title_en) == ("处警时遭张三驾车冲撞", lib.case.narrative, "")
    assert (writeup.kind, writeup.duty_scenario, writeup.place_category) == (
        lib.case.kind,
        lib.case.duty_scenario,
        lib.case.place_category,
    )
    assert writeup.articles == ["刑法第277条第5款"]
    assert writeup.rule_codes == [r.code for r in selectors.legal_basis_choices(writeup).rules] != []
    assert list(WriteUpEvent.objects.values_list("step", "actor_id")) == [("proposed", lib.editor.pk)]


def test_a_proposal_belongs_to_the_nearest_unit_the_supervisor_supervises(lib):
    writeup = services.propose_case(case=lib.case, by=lib.world.county_supervisor)
    assert writeup.unit == lib.world.county


@pytest.mark.parametrize("who", ["officer", "admin", "sibling_supervisor"])
def test_only_a_supervisor_overseeing_the_case_proposes_it(lib, who):
    message = refused(PermissionDenied, lambda: services.propose_case(case=lib.case, by=getattr(lib.world, who)))
    assert message == str(services.PROPOSE_REFUSAL)


def test_only_a_closed_case_is_proposed_and_only_once(lib):
    open_case = case_in(lib.world, CaseStatus.SUPERVISION)
    refused(PermissionDenied, lambda: services.propose_case(case=open_case, by=lib.editor))
    proposed(lib)
    assert refused(ValidationError, lambda: proposed(lib)) == "This case has been proposed as a typical case already."
    with pytest.raises(IntegrityError), transaction.atomic():
        WriteUp.objects.create(case=lib.case, unit=lib.world.city, proposed_by=lib.editor, **_times(), kind="threat")


def _times():
    now = timezone.now()
    return {"proposed_at": now, "updated_at": now}


# --- drafting and the check ----------------------------------------------------------------------------------------


def test_saving_makes_a_draft_and_bumps_the_version(lib):
    writeup = drafted(lib)
    assert (writeup.state, writeup.version, writeup.last_editor) == (WriteUpState.DRAFTING, 2, lib.editor)
    assert WriteUp.objects.get().happened_zh == ZH_TEXTS["happened_zh"]


def test_accepting_the_proposal_replaces_the_cases_names_and_numbers(lib):
    writeup = proposed(lib)
    writeup = services.accept_anonymisation(writeup=writeup, by=lib.editor, expected_version=writeup.version)
    assert writeup.happened_zh == (
        "2026年3月晚，民警甲在杭州市西湖区某处处警，嫌疑人A（身份证号[身份证号]，电话[电话号码]）驾驶[车牌号]面包车冲撞民警。"
        "嫌疑人A随后被抓获。"
    )
    assert writeup.title_zh == "处警时遭嫌疑人A驾车冲撞"
    assert selectors.leftovers(writeup, selectors.known_parties(writeup)) == {}
    assert WriteUpEvent.objects.filter(step="anonymised").get().data == {
        "texts": ["title_zh", "happened_zh"],
        "replaced": 9,
    }


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("民警王磊处警", "an officer's name"),
        ("张某拒不配合", "a suspect's name"),
        ("身份证号３３０１０６ １９９００１０１ １２３４", "an ID number"),
        ("身份证号330106-19900101-1234", "an ID number"),
        ("电话139 1234 5678", "a phone number"),
        ("驾驶浙Ａ·１２３４５", "a vehicle plate"),
        (f"{ID_NUMBER}，张三", "a suspect's name, an ID number"),
    ],
)
def test_the_check_refuses_submission_while_anything_of_the_case_remains(lib, text, kinds):
    writeup = drafted(lib, lessons_zh=f"注意：{text}。")
    message = refused(
        ValidationError, lambda: services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    )
    assert message == f"Lessons for officers (Chinese) still holds {kinds} from the case. " + (
        "Accept the proposed replacements or rewrite it."
    )
    assert ID_NUMBER not in message
    assert "1234" not in message


def test_the_check_reads_the_english_texts_too(lib):
    writeup = drafted(
        lib,
        title_en="Rammed at a call",
        happened_en="Suspect A rammed Officer A; call 13912345678.",
        handling_en="Controlled.",
        outcome_en="Ten months.",
        lessons_en="Step aside.",
    )
    with pytest.raises(ValidationError) as raised:
        services.check_anonymised(writeup)
    assert raised.value.message_dict == {
        "happened_en": [
            "What happened (English) still holds a phone number from the case. "
            "Accept the proposed replacements or rewrite it."
        ]
    }


def test_a_language_begun_is_written_in_full_before_it_is_sent_on(lib):
    writeup = drafted(lib, title_en="Rammed")
    with pytest.raises(ValidationError) as raised:
        services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    assert sorted(raised.value.message_dict) == ["handling_en", "happened_en", "lessons_en", "outcome_en"]


def test_the_legal_basis_links_only_what_the_case_applied(lib):
    writeup = proposed(lib)
    message = refused(
        ValidationError,
        lambda: services.save_writeup(
            writeup=writeup, by=lib.editor, texts={}, articles=["刑法第234条"], expected_version=None
        ),
    )
    assert message == "Choose articles the case applied."


# --- approval and publication --------------------------------------------------------------------------------------


def test_publication_freezes_the_text_as_version_one_for_the_scope(lib):
    writeup = published(lib, scope=lib.world.county)
    version = writeup.published_version
    assert (writeup.state, writeup.listed, writeup.scope_path, version.number) == (
        WriteUpState.PUBLISHED,
        True,
        lib.world.county.path,
        1,
    )
    assert (version.edited_by, version.approved_by, version.happened_zh, version.articles) == (
        lib.editor,
        lib.approver,
        ZH_TEXTS["happened_zh"],
        ["刑法第277条第5款"],
    )
    assert list(VersionArticle.objects.values_list("article", flat=True)) == ["刑法第277条第5款"]
    assert list(WriteUpEvent.objects.values_list("step", flat=True)) == ["proposed", "saved", "submitted", "published"]


@pytest.mark.parametrize("who", ["editor", "county_supervisor", "officer"])
def test_only_an_administrator_of_the_proposing_unit_publishes(lib, who):
    writeup = submitted(lib)
    by = getattr(lib, who, None) or getattr(lib.world, who)
    refused(
        PermissionDenied,
        lambda: services.publish_writeup(
            writeup=writeup, by=by, scope_unit=lib.world.city, expected_version=writeup.version
        ),
    )


def test_an_administrator_of_another_province_does_not_publish(lib):
    writeup = submitted(lib)
    other = member(lib.world.sibling_province, "admin")
    message = refused(
        PermissionDenied,
        lambda: services.publish_writeup(
            writeup=writeup, by=other, scope_unit=lib.world.city, expected_version=writeup.version
        ),
    )
    assert message == str(services.APPROVE_REFUSAL)


def test_the_last_editor_never_approves_their_own_text(lib):
    writeup = proposed(lib)
    both = lib.admin_supervisor
    writeup = services.save_writeup(writeup=writeup, by=both, texts=ZH_TEXTS, expected_version=None)
    writeup = services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    message = refused(
        PermissionDenied,
        lambda: services.publish_writeup(
            writeup=writeup, by=both, scope_unit=lib.world.city, expected_version=writeup.version
        ),
    )
    assert message == str(services.FOUR_EYES_REFUSAL)
    assert not policy.can_take(_actor(both), writeup, "publish")
    # The database says so too, whatever the door.
    with pytest.raises(IntegrityError), transaction.atomic():
        WriteUpVersion.objects.create(
            writeup=writeup,
            number=1,
            scope_unit=lib.world.city,
            edited_by=both,
            approved_by=both,
            published_at=writeup.updated_at,
            kind=writeup.kind,
        )


def test_a_stale_version_is_refused_at_every_step(lib):
    writeup = drafted(lib)
    stale = writeup.version - 1
    refused(
        StaleVersion,
        lambda: services.save_writeup(writeup=writeup, by=lib.editor, texts={"title_zh": "新"}, expected_version=stale),
    )
    refused(StaleVersion, lambda: services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=stale))
    writeup = services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=writeup.version)
    refused(
        StaleVersion,
        lambda: services.publish_writeup(
            writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version - 1
        ),
    )


def test_a_step_the_state_does_not_allow_is_refused(lib):
    writeup = drafted(lib)
    refused(
        IllegalTransition,
        lambda: services.publish_writeup(
            writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
        ),
    )
    refused(IllegalTransition, lambda: services.revise_writeup(writeup=writeup, by=lib.editor, expected_version=None))
    refused(
        IllegalTransition,
        lambda: services.withdraw_writeup(writeup=writeup, by=lib.approver, note="撤下", expected_version=None),
    )


def test_publication_is_to_the_proposing_units_subtree_only(lib):
    writeup = submitted(lib)
    message = refused(
        ValidationError,
        lambda: services.publish_writeup(
            writeup=writeup, by=lib.approver, scope_unit=lib.world.province, expected_version=writeup.version
        ),
    )
    assert message == "Publish to the proposing unit or to a unit below it."


def test_the_check_runs_again_at_publication(lib):
    writeup = submitted(lib)
    # Written around the services (as a migration or a shell might): publication still refuses it.
    WriteUp.objects.filter(pk=writeup.pk).update(outcome_zh="嫌疑人张三被判刑。")
    message = refused(
        ValidationError,
        lambda: services.publish_writeup(
            writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
        ),
    )
    assert message.startswith("Outcome (Chinese) still holds a suspect's name from the case.")


def test_returning_sends_it_back_with_a_note(lib):
    writeup = submitted(lib)
    refused(
        ValidationError,
        lambda: services.return_writeup(writeup=writeup, by=lib.approver, note=" ", expected_version=None),
    )
    refused(
        PermissionDenied,
        lambda: services.return_writeup(writeup=writeup, by=lib.editor, note="补充", expected_version=None),
    )
    writeup = services.return_writeup(
        writeup=writeup, by=lib.approver, note="请补充证据保全要点", expected_version=None
    )
    assert (writeup.state, writeup.return_note, writeup.submitted_at) == (
        WriteUpState.DRAFTING,
        "请补充证据保全要点",
        None,
    )


# --- revision and withdrawal ---------------------------------------------------------------------------------------


def test_a_revision_is_read_as_the_next_version_only_once_published(lib):
    writeup = published(lib)
    writeup = services.revise_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    writeup = services.save_writeup(
        writeup=writeup, by=lib.editor, texts={"lessons_zh": "先避让，再控制。"}, expected_version=None
    )
    read = WriteUp.objects.select_related("published_version").get()
    assert (read.state, read.listed, read.published_version.number, read.published_version.lessons_zh) == (
        WriteUpState.DRAFTING,
        True,
        1,
        ZH_TEXTS["lessons_zh"],
    )
    writeup = services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    writeup = services.publish_writeup(
        writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
    )
    assert (writeup.published_version.number, writeup.published_version.lessons_zh) == (2, "先避让，再控制。")
    assert list(WriteUpVersion.objects.order_by("number").values_list("number", "lessons_zh")) == [
        (1, ZH_TEXTS["lessons_zh"]),
        (2, "先避让，再控制。"),
    ]


def test_withdrawal_hides_it_from_readers_and_keeps_its_history(lib):
    writeup = published(lib)
    officer = lib.world.officer
    assert list(selectors.library_for(_actor(officer))) == [writeup]
    refused(
        ValidationError,
        lambda: services.withdraw_writeup(writeup=writeup, by=lib.approver, note="", expected_version=None),
    )
    refused(
        PermissionDenied,
        lambda: services.withdraw_writeup(writeup=writeup, by=lib.world.officer, note="撤", expected_version=None),
    )
    writeup = services.withdraw_writeup(writeup=writeup, by=lib.editor, note="判决被改", expected_version=None)
    assert (writeup.state, writeup.listed, writeup.withdrawal_note) == (WriteUpState.WITHDRAWN, False, "判决被改")
    assert list(selectors.library_for(_actor(officer))) == []
    assert WriteUpVersion.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.record_read(writeup=writeup, by=officer)


# --- reading -------------------------------------------------------------------------------------------------------


def test_readers_see_only_published_material_of_their_scope(lib):
    writeup = published(lib, scope=lib.world.county)
    w = lib.world
    readers = {
        name: bool(list(selectors.library_for(_actor(getattr(w, name)))))
        for name in (
            "officer",
            "other_officer",
            "county_supervisor",
            "supervisor",
            "ministry_supervisor",
            "admin",
            "sibling_supervisor",
            "sibling_officer",
        )
    }
    assert readers == {
        "officer": True,
        "other_officer": True,  # the neighbouring station, in the county
        "county_supervisor": True,
        "supervisor": True,  # above the county: oversees it
        "ministry_supervisor": True,
        "admin": True,
        "sibling_supervisor": False,
        "sibling_officer": False,
    }
    station_only = member(w.station, "officer")
    assert policy.can_read(_actor(station_only), writeup)
    # A draft or a proposal is read by nobody.
    other = case_in(w, CaseStatus.CLOSED)
    draft = services.propose_case(case=other, by=lib.editor)
    assert draft not in selectors.library_for(_actor(lib.editor))


def test_a_write_up_published_to_a_station_is_not_read_in_the_neighbouring_one(lib):
    published(lib, scope=lib.world.station)
    assert list(selectors.library_for(_actor(lib.world.other_officer))) == []
    assert len(list(selectors.library_for(_actor(lib.world.officer)))) == 1


def test_search_and_filters(lib):
    writeup = published(lib)
    actor = _actor(lib.world.officer)
    found = lambda **f: list(selectors.library_for(actor, selectors.ReaderFilters(**f)))  # noqa: E731
    assert found(q="面包车 冲撞") == [writeup]
    assert found(q="面包车 抢劫") == []
    assert found(kind=lib.case.kind, duty_scenario="call_110", place_category="road") == [writeup]
    assert found(kind="threat") == []
    assert found(article="刑法第277条第5款") == [writeup]
    assert found(article="刑法第234条") == []
    assert selectors.article_choices(actor) == ["刑法第277条第5款"]


def test_a_read_is_counted_once_per_officer_and_version(lib):
    writeup = published(lib)
    officer = lib.world.officer
    assert services.record_read(writeup=writeup, by=officer) is True
    assert services.record_read(writeup=writeup, by=officer) is False
    services.record_read(writeup=writeup, by=lib.world.other_officer)
    assert list(LibraryRead.objects.order_by("reader_id").values_list("reader_id", "unit_id", "version__number")) == [
        (officer.pk, lib.world.station.pk, 1),
        (lib.world.other_officer.pk, lib.world.other_station.pk, 1),
    ]
    # A new version is read anew.
    writeup = services.revise_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    writeup = services.save_writeup(writeup=writeup, by=lib.editor, texts={"title_zh": "修订"}, expected_version=None)
    writeup = services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
    writeup = services.publish_writeup(
        writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
    )
    assert services.record_read(writeup=writeup, by=officer) is True
    counts = selectors.read_counts(_actor(lib.world.county_supervisor), writeup)
    assert [(r.unit, r.this_version, r.any_version) for r in counts] == [
        (lib.world.station, 1, 1),
        (lib.world.other_station, 0, 1),
    ]
    assert selectors.read_counts(_actor(officer), writeup) == []
    assert selectors.read_counts(_actor(lib.world.sibling_supervisor), writeup) == []


def test_feedback_is_one_answer_per_reader_and_version_and_may_change(lib):
    writeup = published(lib)
    officer = lib.world.officer
    services.give_feedback(writeup=writeup, by=officer, useful=True)
    services.give_feedback(writeup=writeup, by=officer, useful=False)
    services.give_feedback(writeup=writeup, by=lib.world.other_officer, useful=True)
    version = writeup.published_version
    assert selectors.feedback_of(_actor(officer), version) is False
    assert selectors.feedback_counts(version) == {"useful": 1, "not_useful": 1}
    refused(
        PermissionDenied, lambda: services.give_feedback(writeup=writeup, by=lib.world.sibling_officer, useful=True)
    )


def test_the_admin_site_is_no_door_to_the_library():
    # Not registered: a door past the check (a text changed there) or past the scope (a list of every write-up) would
    # need its own rules; the pages and the API already serve every role.
    assert {model for model in admin.site._registry if model._meta.app_label == "library"} == set()


def test_the_case_page_offers_the_proposal_to_its_supervisors_only(lib):
    from cases import case_page_links

    links = lambda user: [(l.label, l.post) for l in case_page_links.links(_actor(user), lib.case)]  # noqa: E731, E741
    assert links(lib.editor) == [("Propose as a typical case", True)]
    assert links(lib.world.officer) == []
    assert links(lib.approver) == []
    events = lib.case.events.count()
    proposed(lib)
    assert links(lib.approver) == [("Typical case: Proposed", False)]
    assert links(lib.world.sibling_supervisor) == []
    # The case's own record is untouched: the proposal is the library's.
    assert lib.case.events.count() == events
