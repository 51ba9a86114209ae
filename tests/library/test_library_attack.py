"""The typical-case library attacked from outside: a careless or hostile editor trying to get a party of the source case
past the anonymisation check, and the doors (pages, API) refusing what they must with nothing changed. What held is
covered by the other test files; these are the ways through that were found, each closed."""

import time

import pytest
from django.test import Client

from cases.models import Referral, Suspect
from cases.selectors import CaseParties, Party, case_parties
from library import services
from library.anonymise import Kind, known_from, leftovers, propose
from library.models import LibraryRead, WriteUp, WriteUpVersion
from tests.api.conftest import token_client
from tests.library.conftest import ZH_TEXTS, drafted, proposed, published, submitted
from tests.library.test_services import records

L = "/api/v1/library"

KNOWN = known_from(
    CaseParties(
        reference="RG-2026-000459",
        dispatch_ref="330106202603050012",
        officers=(Party(role="officer", name="王磊", phone="13912345678", badge_number="018236"),),
        suspects=(
            Party(role="suspect", name="张三", id_number="330106199001011234"),
            Party(role="suspect", name="John Smith"),
            Party(role="suspect", name="买买提·艾力"),
        ),
    )
)
ZWSP, ZWJ, WJ, SHY, BOM = "\u200b", "\u200d", "\u2060", "\u00ad", "\ufeff"


def browser(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


# --- what the check finds ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # Invisible characters a paste brings along, or an editor types, inside what the case records.
        (f"身份证号3301061990{ZWSP}01011234", Kind.ID_NUMBER),
        (f"身份证号3301061990{SHY}01011234", Kind.ID_NUMBER),
        (f"电话139{WJ}1234{WJ}5678", Kind.PHONE),
        (f"案号RG-2026{BOM}-000459", Kind.REFERENCE),
        (f"警号018{ZWSP}236", Kind.BADGE),
        (f"驾驶浙A{ZWSP}12345", Kind.PLATE),
        (f"嫌疑人张{ZWSP}三", Kind.SUSPECT_NAME),
        (f"嫌疑人张{ZWJ}三", Kind.SUSPECT_NAME),
        (f"Jo{ZWSP}hn Smith", Kind.SUSPECT_NAME),
        # Combining marks over a character leave it readable.
        ("嫌疑人张\u0301三", Kind.SUSPECT_NAME),
        ("Jo\u0301hn Smith", Kind.SUSPECT_NAME),
        # Latin lookalikes from the Cyrillic and Greek alphabets.
        ("J\u043ehn Smith", Kind.SUSPECT_NAME),
        ("John \u0405mith", Kind.SUSPECT_NAME),
        ("J\u03bfhn Smith", Kind.SUSPECT_NAME),
        # A name with its dot typed as another dot, or left out.
        ("嫌疑人买买提•艾力", Kind.SUSPECT_NAME),
        ("嫌疑人买买提艾力", Kind.SUSPECT_NAME),
        ("嫌疑人买买提 · 艾力", Kind.SUSPECT_NAME),
        # Separators as people type them: spaces around a hyphen, the minus sign.
        ("电话139 - 1234 - 5678", Kind.PHONE),
        ("身份证号330106 - 19900101 - 1234", Kind.ID_NUMBER),
        ("身份证号330106\u221219900101\u22121234", Kind.ID_NUMBER),
        ("座机0571 - 87654321", Kind.PHONE),
        # The international prefix as dialled.
        ("电话008613912345678", Kind.PHONE),
        ("电话0086 139 1234 5678", Kind.PHONE),
        # Digits of another script, and numbers written out in Chinese numerals.
        ("身份证号" + "".join(chr(0x660 + int(c)) for c in "330106199001011234"), Kind.ID_NUMBER),
        ("电话一三九一二三四五六七八", Kind.PHONE),
        ("电话幺三九 幺二三四 五六七八", Kind.PHONE),
        ("身份证号三三〇一〇六一九九〇〇一〇一一二三四", Kind.ID_NUMBER),
        ("警号〇一八二三六", Kind.BADGE),
        # Names in traditional characters, as an input method switched by mistake (Ctrl+Shift+F) types them.
        ("嫌疑人張三", Kind.SUSPECT_NAME),
        ("嫌疑人張某", Kind.SUSPECT_NAME),
        ("處警民警王磊", Kind.OFFICER_NAME),
        ("買買提·艾力", Kind.SUSPECT_NAME),
        # The case's reference without its letters.
        ("案号2026-000459", Kind.REFERENCE),
        ("案号２０２６－０００４５９", Kind.REFERENCE),
    ],
)
def test_what_the_case_records_is_found_however_it_is_disguised(text, kind):
    assert kind in leftovers(text, KNOWN, "zh")
    assert kind in leftovers(text, KNOWN, "en")
    assert leftovers(propose(text, KNOWN, "zh").text, KNOWN, "zh") == []


@pytest.mark.parametrize(
    "text",
    [
        "依据刑法第277条第5款，判处有期徒刑10个月，罚款500元，2026年，浙江省。",
        "一二三四条规定；三五成群；第一、二、三、四项；二〇二六年三月。",
        "民警甲（警号[警号]）与嫌疑人A、嫌疑人B在现场。",
        "He was fined 500 yuan in 2026 under Article 277.",
        "Σ and π appear in formulas; ο here is omicron; Ivan Petrov is not a party.",
        "买买提走了。艾力来了。",
        "第10 - 3条",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert propose(text, KNOWN, "zh").text == text
    assert leftovers(text, KNOWN, "zh") == []


def test_the_proposal_replaces_what_was_disguised_with_its_invisible_characters():
    text = f"嫌疑人张{ZWSP}三（电话一三九一二三四五六七八）"
    assert propose(text, KNOWN, "zh").text == "嫌疑人A（电话[电话号码]）"


# Numbers that no window makes an ID or phone number of (2222… has no month, 2525… no plausible birth year).
@pytest.mark.parametrize(
    "text",
    [
        "2 " * 5000,
        "2-" * 5000,
        "2 - " * 2500,
        "二 " * 5000,
        "25 " * 3333,
        "8" * 10_000,
        "一" * 10_000,
        " " * 10_000,
        "\n" * 10_000,
        "1" + " " * 9_998 + "2",
    ],
)
def test_a_text_of_many_short_numbers_or_a_long_run_is_checked_at_once(text):
    """Every window of consecutive numbers was tried as a number, however long, and an address was looked for from
    every digit and every space of a run: a text of the longest length made of short numbers (a table typed out), of
    one long number or of blank lines took from seconds to hours to check, on every editors' page and list."""
    started = time.monotonic()
    assert leftovers(text, KNOWN, "zh") == []
    assert propose(text, KNOWN, "zh").text == text
    assert time.monotonic() - started < 5


# --- the doors ---------------------------------------------------------------------------------------------------


def test_a_disguised_id_number_is_refused_by_the_api_and_nothing_changes(lib):
    writeup = drafted(lib, outcome_zh=f"嫌疑人A（身份证号3301061990{ZWSP}01011234）被判刑。")
    before = records()
    response = token_client(lib.editor).post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "outcome_zh": [
            "Outcome (Chinese) still holds an ID number from the case. Accept the proposed replacements or rewrite it."
        ]
    }
    assert records() == before


def test_an_article_naming_a_party_is_refused_before_anyone_reads_it(lib):
    """The articles linked are the case's own, typed by whoever recorded the disposition: they reach readers (the
    page, the API, the article filter), so the check reads them too."""
    Suspect.objects.filter(pk=lib.suspect.pk).update(disposition_article="刑法第277条第5款（张三，330106199001011234）")
    writeup = drafted(lib)
    assert writeup.articles == ["刑法第277条第5款（张三，330106199001011234）"]
    before = records()
    response = token_client(lib.editor).post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "articles": [
            "The articles linked still hold a suspect's name, an ID number from the case. Unlink them and give the "
            "legal basis in words."
        ]
    }
    assert records() == before
    page = browser(lib.editor).post(f"/library/manage/{writeup.pk}/submit/", {"version": writeup.version})
    assert page.status_code == 400
    assert "The articles linked still hold a suspect&#x27;s name, an ID number from the case." in page.content.decode()
    assert records() == before
    # Unlinked, and the legal basis given in words, it goes on.
    writeup = services.save_writeup(writeup=writeup, by=lib.editor, texts={}, articles=[], expected_version=None)
    assert services.submit_writeup(writeup=writeup, by=lib.editor, expected_version=None).state == "submitted"


def test_publication_reads_the_articles_too(lib):
    writeup = submitted(lib)
    Suspect.objects.filter(pk=lib.suspect.pk).update(disposition_article="刑法第277条（张三）")
    WriteUp.objects.filter(pk=writeup.pk).update(articles=["刑法第277条（张三）"])
    before = records()
    response = token_client(lib.approver).post(
        f"{L}/manage/{writeup.pk}/actions/publish/",
        {"scope_unit": lib.world.city.pk, "version": writeup.version},
        format="json",
    )
    assert (response.status_code, list(response.json()["errors"])) == (400, ["articles"])
    assert records() == before
    assert WriteUpVersion.objects.count() == 0


def test_a_save_that_changes_nothing_leaves_the_last_editor_as_it_was(lib):
    """Four eyes: whoever approves a text did not write its last change. A colleague's save that changes nothing
    (an empty PATCH, the page's form sent back as it was) is not a change: it must not let the author approve."""
    writeup = proposed(lib)
    both = token_client(lib.admin_supervisor)
    assert both.patch(f"{L}/manage/{writeup.pk}/", ZH_TEXTS, format="json").status_code == 200
    assert token_client(lib.editor).patch(f"{L}/manage/{writeup.pk}/", {}, format="json").status_code == 200
    writeup.refresh_from_db()
    form = {**ZH_TEXTS, "rule_codes": writeup.rule_codes, "articles": writeup.articles, "version": writeup.version}
    assert browser(lib.editor).post(f"/library/manage/{writeup.pk}/save/", form).status_code == 302
    accepted = token_client(lib.editor).post(f"{L}/manage/{writeup.pk}/actions/anonymise/", {}, format="json")
    assert accepted.status_code == 200
    writeup.refresh_from_db()
    assert writeup.last_editor == lib.admin_supervisor
    assert both.post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json").status_code == 200
    before = records()
    response = both.post(f"{L}/manage/{writeup.pk}/actions/publish/", {"scope_unit": lib.world.city.pk}, format="json")
    assert response.status_code == 403
    assert records() == before
    # A real change by the colleague makes them the last editor.
    writeup.refresh_from_db()
    services.return_writeup(writeup=writeup, by=lib.approver, note="再看看", expected_version=None)
    saved = token_client(lib.editor).patch(f"{L}/manage/{writeup.pk}/", {"lessons_zh": "先避让。"}, format="json")
    assert saved.json()["last_editor"]["id"] == lib.editor.pk


def test_direction_overrides_and_invisible_characters_never_reach_a_text(lib):
    """A right-to-left override shows 三张 as 张三 to the reader while the check reads 三张: such characters are
    taken out of everything written into a write-up, by the page, the API and the proposal from the case."""
    writeup = proposed(lib)
    response = token_client(lib.editor).patch(
        f"{L}/manage/{writeup.pk}/",
        {"title_zh": "嫌疑人\u202e三张\u202c驾车", "happened_zh": f"第一段{ZWSP}\u2066\u2069\x07。\n第二段\t完。"},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["texts"]["title_zh"], response.json()["texts"]["happened_zh"]) == (
        "嫌疑人三张驾车",
        "第一段。\n第二段\t完。",
    )
    writeup.refresh_from_db()
    form = {**ZH_TEXTS, "lessons_zh": "先避让\u202e。", "version": writeup.version}
    assert browser(lib.editor).post(f"/library/manage/{writeup.pk}/save/", form).status_code == 302
    assert WriteUp.objects.get(pk=writeup.pk).lessons_zh == "先避让。"


def test_the_proposal_from_the_case_drops_invisible_characters_too(lib):
    lib.case.summary = f"处警时遭张{ZWSP}三驾车\u202e冲撞"
    lib.case.save(update_fields=["summary"])
    writeup = proposed(lib)
    assert writeup.title_zh == "处警时遭张三驾车冲撞"


def test_the_number_the_handling_unit_gave_the_case_is_refused_like_its_reference(lib):
    """A referral's case number (the handling unit's filing number, a court's case number) finds the case, and its
    suspect by name, in another body's records as surely as the reference does."""
    Referral.objects.filter(case=lib.case).update(external_reference="（2026）浙0106刑初118号")
    writeup = drafted(lib, outcome_zh="经(2026)浙0106刑初118号判决，嫌疑人A被判刑。")
    before = records()
    response = token_client(lib.editor).post(f"{L}/manage/{writeup.pk}/actions/submit/", {}, format="json")
    assert (response.status_code, response.json()["errors"]) == (
        400,
        {
            "outcome_zh": [
                "Outcome (Chinese) still holds the case's reference number from the case. Accept the proposed "
                "replacements or rewrite it."
            ]
        },
    )
    assert records() == before
    assert propose("经(2026)浙0106刑初118号判决", known_from(case_parties(lib.case)), "zh").text == "经[案件编号]判决"


def test_a_head_request_is_not_a_reading(lib):
    """A terminal's freshness probe or a link preview asks for the headers only: the officer read nothing, and the
    training records must not say they did (the page answers HEAD with 405 and counts nothing either)."""
    writeup = published(lib)
    reader = lib.world.other_officer
    assert token_client(reader).head(f"{L}/{writeup.pk}/").status_code == 200
    assert browser(reader).head(f"/library/{writeup.pk}/").status_code == 405
    assert LibraryRead.objects.count() == 0
    token_client(reader).get(f"{L}/{writeup.pk}/")
    assert list(LibraryRead.objects.values_list("reader_id", flat=True)) == [reader.pk]
