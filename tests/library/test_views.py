"""The library's pages (library/views.py): readers' list and page, feedback, the proposal from the case page, the
editors' page with its diff, the check and a stale form kept with what was typed."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from cases.choices import CaseStatus
from library import services
from library.models import LibraryFeedback, LibraryRead, WriteUp
from tests.factories import case_in
from tests.library.conftest import ZH_TEXTS, drafted, proposed, published, submitted


def browser(user: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_an_officer_reads_a_published_typical_case_and_the_read_is_counted_once(lib):
    writeup = published(lib)
    client = browser(lib.world.other_officer)
    page = client.get("/library/")
    assert page.status_code == 200
    assert ZH_TEXTS["title_zh"] in page.content.decode()
    detail = client.get(f"/library/{writeup.pk}/")
    text = detail.content.decode()
    assert detail.status_code == 200
    assert ZH_TEXTS["lessons_zh"] in text
    assert 'name="viewport"' in text
    assert detail["Cache-Control"].startswith("max-age=0")
    # The neighbouring station's officer does not see the source case: it is never named to them.
    assert lib.case.reference not in text
    client.get(f"/library/{writeup.pk}/")
    assert list(LibraryRead.objects.values_list("reader_id", "unit_id")) == [
        (lib.world.other_officer.pk, lib.world.other_station.pk)
    ]


def test_the_source_case_is_named_to_those_who_see_it(lib):
    writeup = published(lib)
    for user in (lib.world.officer, lib.editor):
        text = browser(user).get(f"/library/{writeup.pk}/").content.decode()
        assert f'id="source-case">{lib.case.reference}</a>' in text


def test_readers_outside_the_scope_get_404_and_those_without_a_unit_403(lib):
    writeup = published(lib)
    assert browser(lib.world.sibling_officer).get(f"/library/{writeup.pk}/").status_code == 404
    assert browser(lib.world.sibling_officer).get("/library/").content.decode().count("library:detail") == 0
    nobody = User.objects.create_user(username="nobody", password="x")
    assert browser(nobody).get("/library/").status_code == 403
    assert LibraryRead.objects.count() == 0


def test_feedback_is_given_and_changed_from_the_page(lib):
    writeup = published(lib)
    client = browser(lib.world.officer)
    assert client.post(f"/library/{writeup.pk}/feedback/", {"useful": "yes"}).status_code == 302
    assert client.post(f"/library/{writeup.pk}/feedback/", {"useful": "no"}).status_code == 302
    assert client.post(f"/library/{writeup.pk}/feedback/", {"useful": "maybe"}).status_code == 400
    assert list(LibraryFeedback.objects.values_list("reader_id", "useful")) == [(lib.world.officer.pk, False)]
    assert (
        browser(lib.world.sibling_officer).post(f"/library/{writeup.pk}/feedback/", {"useful": "yes"}).status_code
        == 404
    )


def test_read_counts_per_unit_are_shown_to_the_units_supervisors(lib):
    writeup = published(lib)
    browser(lib.world.officer).get(f"/library/{writeup.pk}/")
    text = browser(lib.world.county_supervisor).get(f"/library/{writeup.pk}/").content.decode()
    assert re.search(r"北山派出所: 1 officer read this version", text)
    assert 'id="read-counts"' not in browser(lib.world.other_officer).get(f"/library/{writeup.pk}/").content.decode()


def test_search_and_filters_on_the_page(lib):
    published(lib)
    client = browser(lib.world.officer)
    assert ZH_TEXTS["title_zh"] in client.get("/library/", {"q": "面包车"}).content.decode()
    assert 'id="library-empty"' in client.get("/library/", {"q": "抢劫"}).content.decode()
    assert ZH_TEXTS["title_zh"] in client.get("/library/", {"article": "刑法第277条第5款"}).content.decode()
    assert client.get("/library/", {"kind": "no-such-kind"}).status_code == 400


def _reads(captured: CaptureQueriesContext) -> list[str]:
    """The queries of a page, without the session's own (saved when its idle clock is refreshed)."""
    return [
        q["sql"] for q in captured.captured_queries if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]
    ]


def test_the_readers_list_costs_the_same_queries_however_many_there_are(lib):
    published(lib)
    # A reader the new cases below notify of nothing (the top bar's unread count would cost a query more).
    client = browser(lib.world.other_officer)
    with CaptureQueriesContext(connection) as one:
        client.get("/library/")
    for _ in range(3):
        other = case_in(lib.world, CaseStatus.CLOSED)
        writeup = services.propose_case(case=other, by=lib.editor)
        writeup = services.save_writeup(writeup=writeup, by=lib.editor, texts=ZH_TEXTS, expected_version=None)
        writeup = services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None)
        services.publish_writeup(
            writeup=writeup, by=lib.approver, scope_unit=lib.world.city, expected_version=writeup.version
        )
    with CaptureQueriesContext(connection) as four:
        page = client.get("/library/")
    assert page.content.decode().count('href="/library/') >= 4
    assert len(_reads(four)) == len(_reads(one))


# --- proposing and editing ------------------------------------------------------------------------------------------


def test_the_case_page_proposes_a_closed_case_and_goes_to_the_write_up(lib):
    client = browser(lib.editor)
    page = client.get(f"/cases/{lib.case.pk}/").content.decode()
    assert f'action="/library/propose/{lib.case.pk}/"' in page
    response = client.post(f"/library/propose/{lib.case.pk}/")
    writeup = WriteUp.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/library/manage/{writeup.pk}/")
    assert f'href="/library/manage/{writeup.pk}/"' in client.get(f"/cases/{lib.case.pk}/").content.decode()


@pytest.mark.parametrize(("who", "status"), [("officer", 403), ("admin", 403), ("sibling_supervisor", 404)])
def test_a_proposal_from_anyone_else_is_refused(lib, who, status):
    assert browser(getattr(lib.world, who)).post(f"/library/propose/{lib.case.pk}/").status_code == status
    assert WriteUp.objects.count() == 0


def test_the_editors_page_shows_the_proposal_as_a_diff_and_what_remains(lib):
    writeup = proposed(lib)
    text = browser(lib.editor).get(f"/library/manage/{writeup.pk}/").content.decode()
    assert "<del>张三</del><ins>嫌疑人A</ins>" in text
    assert "<del>330106199001011234</del><ins>[身份证号]</ins>" in text
    assert 'id="leftovers"' in text
    assert "What happened (Chinese): an officer&#x27;s name, a suspect&#x27;s name, an ID number" in text
    assert browser(lib.world.officer).get(f"/library/manage/{writeup.pk}/").status_code == 403
    assert browser(lib.world.sibling_supervisor).get(f"/library/manage/{writeup.pk}/").status_code == 404
    assert browser(lib.world.county_supervisor).get(f"/library/manage/{writeup.pk}/").status_code == 404


def test_accepting_from_the_page_then_the_page_finds_nothing_more(lib):
    writeup = proposed(lib)
    client = browser(lib.editor)
    response = client.post(f"/library/manage/{writeup.pk}/anonymise/", {"version": writeup.version})
    assert response.status_code == 302
    text = client.get(f"/library/manage/{writeup.pk}/").content.decode()
    assert 'id="no-leftovers"' in text
    assert "<del>" not in text


def _form(writeup: WriteUp, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {"version": writeup.version, "articles": writeup.articles, "rule_codes": []}
    data.update({name: getattr(writeup, name) for name in ZH_TEXTS})
    data.update(changes)
    return data


def test_a_stale_edit_is_refused_with_409_and_what_was_typed_kept(lib):
    writeup = drafted(lib)
    client = browser(lib.editor)
    stale = _form(writeup, lessons_zh="我刚写的心得，不能丢")
    services.save_writeup(writeup=writeup, by=lib.editor, texts={"title_zh": "别人改过"}, expected_version=None)
    response = client.post(f"/library/manage/{writeup.pk}/save/", stale)
    text = response.content.decode()
    assert response.status_code == 409
    assert "我刚写的心得，不能丢" in text
    assert 'id="refusal"' in text
    assert f'name="version" value="{writeup.version + 1}"' in text
    assert WriteUp.objects.get().lessons_zh == ZH_TEXTS["lessons_zh"]
    # Sent again as it now stands, it is taken.
    again = client.post(f"/library/manage/{writeup.pk}/save/", {**stale, "version": writeup.version + 1})
    assert again.status_code == 302
    assert WriteUp.objects.get().lessons_zh == "我刚写的心得，不能丢"


def test_sending_for_approval_is_refused_while_the_case_remains_in_the_text(lib):
    writeup = drafted(lib, outcome_zh="张三被判刑。")
    response = browser(lib.editor).post(f"/library/manage/{writeup.pk}/submit/", {"version": writeup.version})
    text = response.content.decode()
    assert response.status_code == 400
    assert "Outcome (Chinese) still holds a suspect&#x27;s name from the case." in text
    assert WriteUp.objects.get().state == "drafting"


def test_the_approver_publishes_and_the_editor_may_not(lib):
    writeup = submitted(lib)
    data = {"version": writeup.version, "scope_unit": lib.world.city.code}
    assert browser(lib.editor).post(f"/library/manage/{writeup.pk}/publish/", data).status_code == 403
    assert WriteUp.objects.get().state == "submitted"
    response = browser(lib.approver).post(f"/library/manage/{writeup.pk}/publish/", data)
    assert response.status_code == 302
    assert WriteUp.objects.get().state == "published"


def test_the_last_editor_is_told_another_administrator_approves(lib):
    writeup = proposed(lib)
    both = lib.admin_supervisor
    writeup = services.save_writeup(writeup=writeup, by=both, texts=ZH_TEXTS, expected_version=None)
    writeup = services.submit_writeup(writeup=writeup, by=both, expected_version=None)
    client = browser(both)
    assert 'id="four-eyes"' in client.get(f"/library/manage/{writeup.pk}/").content.decode()
    data = {"version": writeup.version, "scope_unit": lib.world.city.code}
    assert client.post(f"/library/manage/{writeup.pk}/publish/", data).status_code == 403
    assert WriteUp.objects.get().state == "submitted"


def test_a_step_the_state_no_longer_allows_is_409(lib):
    writeup = published(lib)
    response = browser(lib.editor).post(f"/library/manage/{writeup.pk}/submit/", {"version": writeup.version})
    assert response.status_code == 409
    assert WriteUp.objects.get().state == "published"


def test_the_editors_list(lib):
    writeup = proposed(lib)
    text = browser(lib.approver).get("/library/manage/").content.decode()
    assert f'href="/library/manage/{writeup.pk}/"' in text
    assert browser(lib.world.officer).get("/library/manage/").status_code == 403
    assert (
        f"/library/manage/{writeup.pk}/"
        not in browser(lib.world.sibling_supervisor).get("/library/manage/").content.decode()
    )
