"""The library API (library/api/views.py): readers' list and detail (a read counted), feedback, and the editors' and
approvers' endpoints with their refusals: 403 for a role, 404 out of scope, 412 for a stale version, 409 for a step
the state does not allow, 400 while the check finds the case in the text; each leaves the records as they were."""

import pytest

from library.models import LibraryFeedback, LibraryRead, WriteUp, WriteUpVersion
from tests.api.conftest import token_client
from tests.library.conftest import ZH_TEXTS, drafted, proposed, published, submitted
from tests.library.test_services import records

L = "/api/v1/library"


def test_a_reader_lists_and_reads_published_typical_cases(lib):
    writeup = published(lib)
    client = token_client(lib.world.other_officer)
    listed = client.get(f"{L}/")
    assert listed.status_code == 200
    assert [(r["id"], r["version"], r["title"], r["languages"], r["articles"]) for r in listed.json()["results"]] == [
        (writeup.pk, 1, ZH_TEXTS["title_zh"], ["zh"], ["刑法第277条第5款"])
    ]
    assert listed["Cache-Control"].startswith("max-age=0")
    detail = client.get(f"{L}/{writeup.pk}/")
    body = detail.json()
    assert detail.status_code == 200
    assert body["texts"] == [{"language": "zh", **{k.removesuffix("_zh"): v for k, v in ZH_TEXTS.items()}}]
    assert body["source_case"] is None  # the neighbouring station's officer does not see the case
    assert body["useful"] is None
    assert body["published_to"]["code"] == "330100"
    assert [r["code"] for r in body["rules"]] == writeup.rule_codes
    assert body["rules"][0]["url"].startswith("/rules/#rule-")
    client.get(f"{L}/{writeup.pk}/")
    assert LibraryRead.objects.filter(reader=lib.world.other_officer).count() == 1
    assert token_client(lib.world.officer).get(f"{L}/{writeup.pk}/").json()["source_case"] == {
        "id": lib.case.pk,
        "reference": lib.case.reference,
    }


def test_filters_of_the_api(lib):
    published(lib)
    client = token_client(lib.world.officer)
    assert len(client.get(f"{L}/", {"q": "面包车"}).json()["results"]) == 1
    assert client.get(f"{L}/", {"article": "刑法第234条"}).json()["results"] == []
    assert client.get(f"{L}/", {"duty_scenario": "call_110", "place_category": "road"}).json()["results"] != []


def test_readers_outside_the_scope_and_drafts(lib):
    writeup = published(lib)
    assert token_client(lib.world.sibling_officer).get(f"{L}/{writeup.pk}/").status_code == 404
    assert token_client(lib.world.sibling_officer).get(f"{L}/").json()["results"] == []
    draft = drafted_other(lib)
    assert token_client(lib.world.officer).get(f"{L}/{draft.pk}/").status_code == 404
    assert LibraryRead.objects.count() == 0


def drafted_other(lib):
    from cases.choices import CaseStatus
    from library import services
    from tests.factories import case_in

    case = case_in(lib.world, CaseStatus.CLOSED)
    return services.propose_case(case=case, by=lib.editor)


def test_feedback_over_the_api(lib):
    writeup = published(lib)
    client = token_client(lib.world.officer)
    assert client.post(f"{L}/{writeup.pk}/feedback/", {"useful": True}, format="json").json() == {
        "version": 1,
        "useful": True,
    }
    client.post(f"{L}/{writeup.pk}/feedback/", {"useful": False}, format="json")
    assert client.post(f"{L}/{writeup.pk}/feedback/", {"useful": "perhaps"}, format="json").status_code == 400
    assert list(LibraryFeedback.objects.values_list("useful", flat=True)) == [False]
    assert client.get(f"{L}/{writeup.pk}/").json()["useful"] is False


def test_propose_edit_anonymise_submit_publish_over_the_api(lib):
    editor = token_client(lib.editor)
    made = editor.post(f"{L}/manage/", {"case": lib.case.pk, "note": "典型"}, format="json")
    assert made.status_code == 201
    body = made.json()
    pk = body["id"]
    assert (body["state"], body["version"], made["ETag"]) == ("proposed", 1, '"1"')
    assert {r["field"] for r in body["remaining"]} == {"title_zh", "happened_zh"}
    assert body["proposals"]["title_zh"]["text"] == "处警时遭嫌疑人A驾车冲撞"
    accepted = editor.post(f"{L}/manage/{pk}/actions/anonymise/", {}, format="json", HTTP_IF_MATCH='"1"')
    assert (accepted.status_code, accepted.json()["remaining"], accepted.json()["state"]) == (200, [], "drafting")
    texts = {k: v for k, v in ZH_TEXTS.items() if k != "title_zh"}
    saved = editor.patch(f"{L}/manage/{pk}/", {**texts, "version": 2}, format="json")
    assert (saved.status_code, saved.json()["version"]) == (200, 3)
    submitted_ = editor.post(f"{L}/manage/{pk}/actions/submit/", {"version": 3}, format="json")
    assert (submitted_.status_code, submitted_.json()["state"]) == (200, "submitted")
    approver = token_client(lib.approver)
    answer = approver.post(
        f"{L}/manage/{pk}/actions/publish/", {"version": 4, "scope_unit": lib.world.county.pk}, format="json"
    )
    assert (answer.status_code, answer.json()["state"], answer.json()["published_version"]) == (200, "published", 1)
    assert answer.json()["published_to"]["code"] == "330106"


def test_editor_refusals_change_nothing(lib):
    writeup = drafted(lib)
    pk = writeup.pk
    cases = [
        (token_client(lib.world.officer), "patch", f"{L}/manage/{pk}/", {"title_zh": "x"}, 403),
        (token_client(lib.world.sibling_supervisor), "patch", f"{L}/manage/{pk}/", {"title_zh": "x"}, 404),
        (token_client(lib.world.county_supervisor), "patch", f"{L}/manage/{pk}/", {"title_zh": "x"}, 404),
        (token_client(lib.approver), "patch", f"{L}/manage/{pk}/", {"title_zh": "x"}, 403),
        (token_client(lib.editor), "patch", f"{L}/manage/{pk}/", {"title_zh": "x", "version": 1}, 412),
        (token_client(lib.editor), "patch", f"{L}/manage/{pk}/", {"nonsense": "x"}, 400),
        (token_client(lib.editor), "post", f"{L}/manage/{pk}/actions/publish/", {}, 403),
        (
            token_client(lib.approver),
            "post",
            f"{L}/manage/{pk}/actions/publish/",
            {"scope_unit": lib.world.city.pk, "version": writeup.version},
            409,
        ),
        # An approval names the version approved.
        (
            token_client(lib.approver),
            "post",
            f"{L}/manage/{pk}/actions/publish/",
            {"scope_unit": lib.world.city.pk},
            428,
        ),
        (token_client(lib.editor), "post", f"{L}/manage/{pk}/actions/withdraw/", {"note": "x"}, 409),
        (token_client(lib.editor), "post", f"{L}/manage/{pk}/actions/save/", {}, 404),
        (token_client(lib.editor), "post", f"{L}/manage/{pk}/actions/nonsense/", {}, 404),
        (token_client(lib.world.officer), "post", f"{L}/manage/", {"case": lib.case.pk}, 403),
        (token_client(lib.editor), "post", f"{L}/manage/", {"case": lib.case.pk}, 400),  # proposed already
    ]
    answers = []
    for client, method, url, data, _expected in cases:
        before = records()
        response = getattr(client, method)(url, data, format="json")
        answers.append((method, url, response.status_code))
        assert records() == before, (method, url)
    assert answers == [(m, u, e) for _c, m, u, _d, e in cases]


def test_the_check_refuses_submission_over_the_api(lib):
    writeup = drafted(lib, outcome_zh="嫌疑人张三（电话１３９ １２３４ ５６７８）被判刑。")
    before = records()
    response = token_client(lib.editor).post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["outcome_zh"] == [
        "Outcome (Chinese) still holds a suspect's name, a phone number from the case. "
        "Accept the proposed replacements or rewrite it."
    ]
    assert records() == before


def test_four_eyes_over_the_api(lib):
    writeup = proposed(lib)
    both = token_client(lib.admin_supervisor)
    both.patch(f"{L}/manage/{writeup.pk}/", ZH_TEXTS, format="json")
    both.post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json")
    before = records()
    response = both.post(f"{L}/manage/{writeup.pk}/actions/publish/", {"scope_unit": lib.world.city.pk}, format="json")
    assert response.status_code == 403
    assert records() == before
    assert WriteUpVersion.objects.count() == 0


@pytest.mark.parametrize("who", ["editor", "approver"])
def test_withdrawal_over_the_api(lib, who):
    writeup = published(lib)
    client = token_client(getattr(lib, who))
    assert client.post(f"{L}/manage/{writeup.pk}/actions/withdraw/", {}, format="json").status_code == 400
    answer = client.post(f"{L}/manage/{writeup.pk}/actions/withdraw/", {"note": "撤回"}, format="json")
    assert (answer.status_code, answer.json()["state"], answer.json()["listed"]) == (200, "withdrawn", False)
    assert token_client(lib.world.officer).get(f"{L}/{writeup.pk}/").status_code == 404


def test_the_editors_list_over_the_api(lib):
    writeup = submitted(lib)
    listed = token_client(lib.approver).get(f"{L}/manage/", {"state": "submitted"})
    assert [(r["id"], r["actions"]) for r in listed.json()["results"]] == [(writeup.pk, ["return", "publish"])]
    assert token_client(lib.world.officer).get(f"{L}/manage/").status_code == 403
    assert token_client(lib.world.sibling_supervisor).get(f"{L}/manage/").json()["results"] == []
    assert WriteUp.objects.get().state == "submitted"
