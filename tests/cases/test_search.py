"""The one search (cases/search.py): every field in Chinese and English, one- and two-character words, the queue's,
the API's and the top bar's search agreeing, ranks and pages, masking, scope, and the ID number's blind index."""

import base64
import hashlib
import hmac
import html
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from accounts.selectors import actor_for
from cases import fields, services
from cases.choices import CaseStatus
from cases.fields import blind_index, normalise_id_number
from cases.models import Case, Suspect
from cases.queue_filters import QueueFilters, queue_page
from cases.search import search_page, search_q
from cases.sensitive import mask_id_number
from tests.api.conftest import token_client
from tests.factories import case_in, complete_details, draft

S = CaseStatus
ID_NUMBER = "11010119800101001X"
NEUTRAL = {"location": "某地", "summary": "事件", "narrative": "经过"}


def filed(world, status=S.INTAKE, **details):
    return case_in(world, status, **{**NEUTRAL, **details})


@pytest.fixture
def cases(world):
    """One case per searched field, each with its own word; the rest of every case says nothing of the others'."""
    made = {
        "summary": filed(world, summary="路遇袭警事件"),
        "location": filed(world, location="Lakeside Road 7"),
        "narrative": filed(world, narrative="民警在鼓楼附近被推搡"),
        "dispatch": filed(world, dispatch_ref="J3301062026000777"),
        "officer": filed(world),
        "badge": filed(world),
        "suspect": filed(world),
        "suspect_en": filed(world),
        "id_number": filed(world),
    }
    services.add_involved_officer(case=made["officer"], by=world.supervisor, name="王磊")
    services.add_involved_officer(case=made["badge"], by=world.supervisor, name="李明", badge_number="PX4471")
    services.add_suspect(case=made["suspect"], by=world.supervisor, name="张三丰")
    services.add_suspect(case=made["suspect_en"], by=world.supervisor, name="John Smith")
    services.add_suspect(case=made["id_number"], by=world.supervisor, name="赵某", id_number=ID_NUMBER)
    return made


def found(user, text):
    """Names of the world cases the top bar's search finds for ``user``, with each one's matched-field sentence."""
    page = search_page(actor_for(user), text, size=100)
    return page


def filed_by(officer, unit, *, submit=True):
    """A case another officer filed for their unit (submitted unless told otherwise)."""
    case = services.create_draft_case(by=officer, unit=unit, details=complete_details(**NEUTRAL))
    if submit:
        case = services.submit_case(case=case, by=officer, expected_version=case.version)
    return case


def names_of(cases, page):
    by_pk = {c.pk: name for name, c in cases.items()}
    return [by_pk.get(c.pk, c.reference) for c in page.cases]


@pytest.mark.parametrize(
    ("text", "expected", "sentence"),
    [
        # Two-character and one-character Chinese words: the character-pair index (PostgreSQL).
        ("袭警", "summary", "Matched: summary “路遇袭警事件”."),
        ("袭", "summary", "Matched: summary “路遇袭警事件”."),
        ("鼓楼", "narrative", "Matched: what happened “民警在鼓楼附近被推搡”."),
        ("lakeside", "location", "Matched: location “Lakeside Road 7”."),
        ("LAKESIDE road", "location", "Matched: location “Lakeside Road 7”."),
        ("2026000777", "dispatch", "Matched: 110 incident number “J3301062026000777”."),
        ("王磊", "officer", "Matched: officer name “王磊”."),
        ("磊", "officer", "Matched: officer name “王磊”."),
        ("px4471", "badge", "Matched: badge number “PX4471” of 李明."),
        ("三丰", "suspect", "Matched: suspect name “张三丰”."),
        ("张三丰", "suspect", "Matched: suspect name “张三丰”."),
        ("smith", "suspect_en", "Matched: suspect name “John Smith”."),
        ("John Smith", "suspect_en", "Matched: suspect name “John Smith”."),
        (ID_NUMBER, "id_number", "Matched: a suspect's ID number (not shown)."),
        # Normalised: spaces left out, a lower-case x.
        (" 110101 19800101 001x ", "id_number", "Matched: a suspect's ID number (not shown)."),
    ],
)
def test_each_field_is_found_and_named(world, cases, text, expected, sentence):
    page = found(world.supervisor, text)
    assert names_of(cases, page) == [expected]
    assert [c.match for c in page.cases] == [sentence]
    assert (page.count, page.count_capped) == (1, False)


def test_an_id_number_is_found_only_whole(world, cases):
    for part in (ID_NUMBER[:10], ID_NUMBER[4:], ID_NUMBER[:-1], "11010119800101001Y"):
        assert names_of(cases, found(world.supervisor, part)) == [], part


def test_a_reference_is_found_whole_or_by_its_number(world, cases):
    case = cases["summary"]
    page = found(world.supervisor, case.reference.lower())
    assert (names_of(cases, page), page.cases[0].match) == (["summary"], "Matched: the reference.")
    page = found(world.supervisor, case.reference[-6:])
    assert (names_of(cases, page), page.cases[0].match) == (["summary"], "Matched: part of the reference.")


def test_a_unit_name_finds_the_cases_it_handles(world, cases):
    elsewhere = filed_by(world.other_officer, world.other_station)
    page = found(world.supervisor, "灵隐派出所")
    assert [c.pk for c in page.cases] == [elsewhere.pk]
    assert page.cases[0].match == "Matched: handling unit “灵隐派出所”."
    assert {c.pk for c in found(world.supervisor, "北山派出所").cases} == {c.pk for c in cases.values()}


def test_results_are_ranked_then_newest_first_and_page_through_every_rank_once(world, cases):
    # 张三丰 is a suspect's name in one case, in the summary of another and the narrative of the newest.
    in_summary = filed(world, summary="张三丰 again")
    in_narrative = filed(world, narrative="目击者张三丰称")
    assert in_narrative.last_activity_at > in_summary.last_activity_at > cases["suspect"].last_activity_at
    page = found(world.supervisor, "张三丰")
    assert [c.pk for c in page.cases] == [cases["suspect"].pk, in_summary.pk, in_narrative.pk]
    assert [c.match for c in page.cases] == [
        "Matched: suspect name “张三丰”.",
        "Matched: summary “张三丰 again”.",
        "Matched: what happened “目击者张三丰称”.",
    ]
    seen, cursor = [], None
    for _ in range(5):
        step = search_page(actor_for(world.supervisor), "张三丰", cursor=cursor, size=1)
        seen += [c.pk for c in step.cases]
        cursor = step.next_cursor
        if cursor is None:
            break
    assert seen == [c.pk for c in page.cases]


def test_the_queue_pages_and_counts_with_the_search(world, cases, monkeypatch):
    for _ in range(3):
        filed(world, summary="袭警 again")
    actor = actor_for(world.supervisor)
    filters = QueueFilters(text="袭警")
    first = queue_page(actor, filters, size=2)
    second = queue_page(actor, filters, size=2, cursor=first.next_cursor)
    assert (first.count, len(first.cases), len(second.cases), second.next_cursor) == (4, 2, 2, None)
    every = [c.pk for c in first.cases + second.cases]
    assert len(set(every)) == 4
    assert {c.match for c in first.cases + second.cases} == {
        "Matched: summary “袭警 again”.",
        "Matched: summary “路遇袭警事件”.",
    }
    monkeypatch.setattr("cases.queue_filters.COUNT_CAP", 3)
    capped = queue_page(actor, filters, size=2)
    assert (capped.count, capped.count_capped) == (3, True)


def test_the_page_the_api_and_the_top_bar_find_the_same_cases(client, world, cases):
    client.force_login(world.supervisor)
    api = token_client(world.supervisor)
    open_statuses = "&".join(f"status={s}" for s in (S.INTAKE,))
    for text in ("袭警", "袭", "lakeside", "王磊", "px4471", "三丰", "smith", ID_NUMBER, cases["badge"].reference[-6:]):
        page = client.get(reverse("cases:queue"), {"q": text})
        on_page = {c.pk for c in page.context["page"].cases}
        listed = api.get(f"/api/v1/cases/?{open_statuses}&q={text}").json()
        in_api = {row["id"] for row in listed["results"]}
        in_search = {c.pk for c in found(world.supervisor, text).cases}
        assert on_page == in_api == in_search, text
        assert len(on_page) == 1, text
        visible = Case.objects.filter(status=S.INTAKE).filter(search_q(text, actor=actor_for(world.supervisor)))
        assert set(visible.values_list("pk", flat=True)) == on_page, text


def test_the_queue_row_and_the_search_page_say_what_matched_never_the_id_number(client, world, cases):
    client.force_login(world.supervisor)
    for url in (reverse("cases:queue"), reverse("cases:search")):
        body = client.get(url, {"q": ID_NUMBER.lower()}).content.decode()
        assert cases["id_number"].reference in body
        assert "Matched: a suspect's ID number (not shown)." in html.unescape(body)
        # Typed in lower case (kept in the search box as typed): the stored number, upper case, is nowhere.
        assert ID_NUMBER not in body
        assert mask_id_number(ID_NUMBER) not in body
    body = client.get(reverse("cases:search"), {"q": "三丰"}).content.decode()
    assert "Matched: suspect name “张三丰”." in body


def test_the_search_page_speaks_chinese(client, world, cases):
    client.force_login(world.supervisor)
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("cases:search"), {"q": "王磊"}).content.decode()
    assert cases["officer"].reference in body


def test_no_case_the_searcher_cannot_see_is_found(world, cases):
    # The same suspect's name on a case of the other province: its supervisor finds it, this one does not.
    theirs = filed_by(world.sibling_officer, world.sibling_station)
    services.add_suspect(case=theirs, by=world.sibling_supervisor, name="张三丰", id_number=ID_NUMBER)
    assert names_of(cases, found(world.supervisor, "张三丰")) == ["suspect"]
    assert names_of(cases, found(world.supervisor, ID_NUMBER)) == ["id_number"]
    assert [c.pk for c in found(world.sibling_supervisor, "张三丰").cases] == [theirs.pk]
    assert [c.pk for c in found(world.sibling_supervisor, ID_NUMBER).cases] == [theirs.pk]
    # The queue and the API narrow their own lists the same way.
    assert [c.pk for c in queue_page(actor_for(world.supervisor), QueueFilters(text="张三丰")).cases] == [
        cases["suspect"].pk
    ]
    listed = token_client(world.supervisor).get("/api/v1/cases/?q=张三丰").json()
    assert [row["id"] for row in listed["results"]] == [cases["suspect"].pk]


def test_an_officer_searches_only_the_applications_they_filed(client, world, cases):
    # A case another officer filed, listing this officer as a victim: visible to them, not searched.
    listing = filed_by(world.other_officer, world.other_station, submit=False)
    services.add_involved_officer(case=listing, by=world.other_officer, user=world.officer)
    services.add_suspect(case=listing, by=world.other_officer, name="张三丰")
    listing = Case.objects.get(pk=listing.pk)
    listing = services.submit_case(case=listing, by=world.other_officer, expected_version=listing.version)
    assert names_of(cases, found(world.officer, "张三丰")) == ["suspect"]
    assert found(world.other_officer, "张三丰").cases == [listing]
    assert found(world.sibling_officer, "张三丰").cases == []
    # Someone else's draft is nobody's search result but its filer's.
    mine = draft(world, summary="草稿袭警")
    assert [c.pk for c in found(world.supervisor, "草稿袭警").cases] == []
    assert [c.pk for c in found(world.officer, "草稿袭警").cases] == [mine.pk]
    client.force_login(world.officer)
    body = client.get(reverse("cases:search"), {"q": "张三丰"}).content.decode()
    assert "The search looks in the applications you filed." in body
    assert listing.reference not in body


def test_the_top_bar_offers_the_search_to_those_with_cases_to_search(client, world, django_user_model):
    for user in (world.supervisor, world.officer, world.admin):
        client.force_login(user)
        assert 'id="top-search-q"' in client.get(reverse("cases:rules")).content.decode()
    nobody = django_user_model.objects.create_user(username="nobody", password=None)
    client.force_login(nobody)
    assert client.get(reverse("cases:search"), {"q": "x"}).status_code == 403


def test_bad_search_input_is_refused_next_to_the_field_and_kept(client, world):
    client.force_login(world.supervisor)
    long = "袭" * 101
    response = client.get(reverse("cases:search"), {"q": long})
    body = response.content.decode()
    assert response.status_code == 400
    assert f'value="{long}"' in body
    assert "Ensure this value has at most 100 characters (it has 101)." in body
    bad_cursor = client.get(reverse("cases:search"), {"q": "袭警", "after": "9.zzz"})
    assert bad_cursor.status_code == 400


# --- the blind index of ID numbers -----------------------------------------------------------------------------


def test_the_blind_index_is_a_keyed_digest_of_the_normalised_number_under_its_own_key(settings):
    field_key = base64.urlsafe_b64decode(settings.RIGHTSGUARD_FIELD_KEYS[0])
    index_key = fields._blind_index_key()
    assert index_key not in (field_key, settings.RIGHTSGUARD_FIELD_KEYS[0].encode())
    assert len(index_key) == 32
    assert normalise_id_number(" 110101 19800101001x\t") == ID_NUMBER
    expected = hmac.new(index_key, ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    assert blind_index(ID_NUMBER) == blind_index("110101 19800101001x") == expected
    assert blind_index(ID_NUMBER) != hashlib.sha256(ID_NUMBER.encode()).hexdigest()
    assert blind_index("") == ""
    settings.RIGHTSGUARD_BLIND_INDEX_KEY = "a separate index key of at least thirty-two characters"
    assert (
        blind_index(ID_NUMBER)
        == hmac.new(
            b"a separate index key of at least thirty-two characters", ID_NUMBER.encode(), hashlib.sha256
        ).hexdigest()
    )


def stored(suspect_pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_index FROM cases_suspect WHERE id = %s", [suspect_pk])
        return cursor.fetchone()


def test_every_write_of_a_number_keeps_its_index(world):
    case = case_in(world, S.SUPERVISION)
    # The services (the case page's forms call them).
    suspect = services.add_suspect(case=case, by=world.supervisor, name="甲", id_number=ID_NUMBER)
    token, digest = stored(suspect.pk)
    assert ID_NUMBER not in token
    assert digest == blind_index(ID_NUMBER)
    suspect = services.update_suspect(suspect=suspect, by=world.supervisor, id_number="330106199001011234")
    assert stored(suspect.pk)[1] == blind_index("330106199001011234")
    suspect = services.update_suspect(suspect=suspect, by=world.supervisor, id_number="")
    assert stored(suspect.pk)[1] == ""
    # Removed and put back: the same number, the same index.
    suspect = services.update_suspect(suspect=suspect, by=world.supervisor, id_number=ID_NUMBER)
    removed = services.remove_suspect(suspect=suspect, by=world.supervisor)
    restored = services.undo_removal(case=case, by=world.supervisor, removed=removed)
    assert stored(restored.pk)[1] == blind_index(ID_NUMBER)
    # The API.
    client = token_client(world.supervisor)
    added = client.post(
        f"/api/v1/cases/{case.pk}/suspects/", {"name": "乙", "id_number": "110101198001010011"}, format="json"
    )
    assert added.status_code == 201
    assert stored(added.json()["id"])[1] == blind_index("110101198001010011")
    version = Case.objects.get(pk=case.pk).version
    patched = client.patch(
        f"/api/v1/cases/{case.pk}/suspects/{added.json()['id']}/",
        {"id_number": "110101198001010022", "version": version},
        format="json",
    )
    assert patched.status_code == 200
    assert stored(added.json()["id"])[1] == blind_index("110101198001010022")
    # A save naming only the number's field writes its index too.
    row = Suspect.objects.get(pk=added.json()["id"])
    row.id_number = ID_NUMBER
    row.save(update_fields=["id_number"])
    assert stored(row.pk)[1] == blind_index(ID_NUMBER)


def test_the_admin_site_shows_neither_the_number_nor_its_index_and_changes_neither(client, world, django_user_model):
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="甲", id_number=ID_NUMBER)
    root = django_user_model.objects.create_superuser(username="root", password="x")
    client.force_login(root)
    url = reverse("admin:cases_suspect_change", args=[suspect.pk])
    body = client.get(url).content.decode()
    assert "甲" in body
    assert blind_index(ID_NUMBER) not in body
    assert ID_NUMBER not in body
    before = stored(suspect.pk)
    assert client.post(url, {"name": "乙"}).status_code == 403
    assert stored(suspect.pk) == before


def test_the_migration_fills_the_index_of_existing_numbers(world):
    case = case_in(world, S.SUPERVISION)
    with_number = services.add_suspect(case=case, by=world.supervisor, name="甲", id_number=ID_NUMBER)
    without = services.add_suspect(case=case, by=world.supervisor, name="乙")
    Suspect.objects.update(id_number_index="")  # as before the migration
    migration = importlib.import_module("cases.migrations.0025_suspect_id_number_index")

    class Editor:
        connection = connection

    migration.fill_index(apps, Editor())
    assert stored(with_number.pk)[1] == blind_index(ID_NUMBER)
    assert stored(without.pk)[1] == ""
    assert names_of({"found": case}, found(world.supervisor, ID_NUMBER)) == ["found"]


def test_without_the_character_pair_indexes_the_search_finds_the_same(world, cases, monkeypatch):
    # SQLite (the embedded default) has no rg_grams: there every field is a plain icontains. Same results.
    texts = ("袭警", "袭", "鼓楼", "lakeside", "王磊", "磊", "px4471", "三丰", "smith", ID_NUMBER, "北山派出所")
    indexed = {text: [c.pk for c in found(world.supervisor, text).cases] for text in texts}
    monkeypatch.setattr("cases.search._postgres", lambda: False)
    assert {text: [c.pk for c in found(world.supervisor, text).cases] for text in texts} == indexed
    assert all(indexed.values())


def test_a_name_too_common_for_a_list_of_ids_is_searched_through_a_subquery(world, cases, monkeypatch):
    texts = ("王磊", "三丰", "smith", "px4471", "北山派出所")
    listed = {text: [c.pk for c in found(world.supervisor, text).cases] for text in texts}
    monkeypatch.setattr("cases.search.IDS_CAP", 0)
    assert {text: [c.pk for c in found(world.supervisor, text).cases] for text in texts} == listed
    assert all(listed.values())


def party_names_of(case):
    return Case.objects.values_list("party_names", flat=True).get(pk=case.pk)


def test_the_case_row_keeps_its_parties_names_through_every_change(world):
    case = case_in(world, S.SUPERVISION)
    before = list(case.officers.order_by("id").values_list("name", flat=True))
    officer = services.add_involved_officer(case=case, by=world.supervisor, name=" 王磊 ", badge_number="PX1")
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张三丰")
    services.add_suspect(case=case, by=world.supervisor)  # unnamed: not listed
    assert party_names_of(case) == "\n".join([*before, "王磊", "张三丰"])
    services.update_suspect(suspect=suspect, by=world.supervisor, name="张君宝")
    services.update_involved_officer(officer=officer, by=world.supervisor, name="王蕾")
    assert party_names_of(case) == "\n".join([*before, "王蕾", "张君宝"])
    # The search follows: the new names are found, the old ones no longer.
    assert names_of({"case": case}, found(world.supervisor, "君宝")) == ["case"]
    assert names_of({"case": case}, found(world.supervisor, "王蕾")) == ["case"]
    assert found(world.supervisor, "三丰").cases == []
    assert found(world.supervisor, "王磊").cases == []
    services.remove_suspect(suspect=suspect, by=world.supervisor)
    assert party_names_of(case) == "\n".join([*before, "王蕾"])
    assert found(world.supervisor, "君宝").cases == []


def test_a_name_is_never_found_across_two_names(world):
    case = case_in(world, S.SUPERVISION)
    services.add_suspect(case=case, by=world.supervisor, name="李甲")
    services.add_suspect(case=case, by=world.supervisor, name="乙丙")
    assert found(world.supervisor, "甲乙").cases == []
    assert names_of({"case": case}, found(world.supervisor, "甲")) == ["case"]


def test_the_migration_fills_the_parties_names_of_existing_cases(world):
    case = case_in(world, S.SUPERVISION)
    services.add_suspect(case=case, by=world.supervisor, name="张三丰")
    services.add_suspect(case=case, by=world.supervisor)
    expected = party_names_of(case)
    assert expected.endswith("\n张三丰")
    Case.objects.update(party_names="")  # as before the migration
    migration = importlib.import_module("cases.migrations.0027_case_party_names")

    class Editor:
        connection = connection

    migration.fill(apps, Editor())
    assert party_names_of(case) == expected
    assert names_of({"case": case}, found(world.supervisor, "三丰")) == ["case"]


TEXTS = ("袭警", "袭", "鼓楼", "lakeside", "王磊", "磊", "px4471", "三丰", "smith", ID_NUMBER, "北山派出所", "某地")


def test_the_row_by_row_search_finds_exactly_what_the_indexes_find(world, cases):
    # The form a common text is searched in (walking an ordered index, each row tested) and the indexed form select
    # the same cases, for every kind of field.
    actor = actor_for(world.supervisor)
    for text in TEXTS:
        indexed = set(Case.objects.filter(search_q(text, actor=actor)).values_list("pk", flat=True))
        scanned = set(Case.objects.filter(search_q(text, actor=actor, scan=True)).values_list("pk", flat=True))
        assert scanned == indexed, text
    everywhere = {c.pk for name, c in cases.items() if name != "location"}  # that one's location is in English
    assert set(Case.objects.filter(search_q("某地", actor=actor)).values_list("pk", flat=True)) == everywhere


def test_a_common_text_pages_the_same_whichever_way_it_is_read(client, world, cases, monkeypatch):
    # With a cap of 1, every text found twice or more is "common": the top bar walks each rank that has more than
    # one match, the queue and the API walk their order. The pages are the same as when every match is sorted.
    for _ in range(3):
        filed(world, summary="袭警 again", location="袭警 place")
    actor = actor_for(world.supervisor)
    api = token_client(world.supervisor)

    def pages(text):
        top, cursor = [], None
        for _ in range(20):
            step = search_page(actor, text, cursor=cursor, size=2)
            top += [(c.pk, c.match) for c in step.cases]
            if not (cursor := step.next_cursor):
                break
        queue, cursor = [], None
        for _ in range(20):
            step = queue_page(actor, QueueFilters(text=text), size=2, cursor=cursor)
            queue += [c.pk for c in step.cases]
            if not (cursor := step.next_cursor):
                break
        listed = [row["id"] for row in api.get("/api/v1/cases/", {"q": text}).json()["results"]]
        return top, queue, listed

    texts = ("袭警", "某地", "王磊", "北山派出所")
    sorted_pages = {text: pages(text) for text in texts}
    assert len(sorted_pages["某地"][0]) == len(cases) - 1  # the three new ones are elsewhere
    monkeypatch.setattr("cases.search.COUNT_CAP", 1)
    monkeypatch.setattr("cases.queue_filters.COUNT_CAP", 1)
    walked = {text: pages(text) for text in texts}
    assert walked == sorted_pages


def test_the_character_pairs_cost_the_planner_what_they_cost(postgres_only, db):
    # At the default cost (100) the planner walked the newest-first index computing rg_grams on every case it passed
    # (7 s at a million for a name nobody has); migration 0030 sets the measured cost.
    with connection.cursor() as cursor:
        cursor.execute("SELECT procost FROM pg_proc WHERE proname = 'rg_grams'")
        assert cursor.fetchall() == [(300.0,)]


def test_the_character_pairs_are_those_of_the_first_definition_element_for_element(postgres_only, db):
    # Migration 0035 replaced the body of 0026 by one in linear time; the indexes built with the old body stay valid
    # only if every text gives the same array (order included, as the old one gave it).
    first = importlib.import_module("cases.migrations.0035_grams_linear_time").QUADRATIC
    texts = [
        "",
        "x",
        "Ab",
        "AbC中文",
        "袭警",
        " 王磊 ",
        "ÄÖ İ ǅ",
        "RG-2026-000459",
        "3月8日，民警郝国勇在宜昌市西陵区夷陵大道一烧烤店门前查处违法行为时，李某等2人围堵民警、起哄煽动围观群众。" * 3,
        "officer\nsuspect\t张三丰",
    ]
    with connection.cursor() as cursor:
        cursor.execute(first.replace("FUNCTION rg_grams(", "FUNCTION pg_temp.rg_grams_0026("))
        cursor.execute(
            "SELECT t, rg_grams(t), pg_temp.rg_grams_0026(t) FROM unnest(%s::text[]) AS t "
            "WHERE rg_grams(t) IS DISTINCT FROM pg_temp.rg_grams_0026(t)",
            [texts],
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT rg_grams('AbC中文'), rg_grams(''), rg_grams(NULL)")
        assert cursor.fetchone() == (["a", "ab", "b", "bc", "c", "c中", "中", "中文", "文"], [], None)
        cursor.execute("SELECT procost, provolatile, proisstrict FROM pg_proc WHERE proname = 'rg_grams'")
        assert cursor.fetchall() == [(300.0, "i", True)]


@pytest.mark.parametrize("cap", [1, 2, 3, 1000])
def test_the_ranks_read_in_one_statement_are_the_ranks_read_one_by_one(postgres_only, world, cases, monkeypatch, cap):
    # On PostgreSQL every rank is asked in one UNION ALL, stopping at the cap; the rank where it stops is read whole.
    # The answer is the one-by-one reading's, rank for rank, with the same ranks left unread, under every cap.
    from cases import search

    for _ in range(3):
        filed(world, summary="袭警 again", location="袭警 place", narrative="袭警 narrative")
    monkeypatch.setattr("cases.search.COUNT_CAP", cap)
    actor = actor_for(world.supervisor)
    scope = Case.objects.all()
    for text in (*TEXTS, "袭警", "某地", "北山派出所"):
        tiers = search.build_tiers(text, actor)
        if len(tiers) < 2:
            continue
        at_once = search._tier_matches_at_once(scope, tiers)
        one_by_one = []
        total = 0
        for index in range(len(tiers)):
            if total > cap:
                one_by_one.append(None)
                continue
            ids = search._capped_ids(scope.filter(search._tier_filter(tiers, index, scan=False)))
            one_by_one.append(ids)
            total += len(ids)
        assert at_once is not None, text
        assert [None if ids is None else sorted(ids) for ids in at_once] == [
            None if ids is None else sorted(ids) for ids in one_by_one
        ], text


def test_ranks_that_come_back_interleaved_are_read_one_by_one(postgres_only, world, cases, monkeypatch):
    from cases import search

    actor = actor_for(world.supervisor)
    tiers = search.build_tiers("某地", actor)
    expected = search.tier_matches(Case.objects.all(), tiers)
    monkeypatch.setattr(search, "_tier_matches_at_once", lambda cases, tiers: None)
    assert search.tier_matches(Case.objects.all(), tiers) == expected
    assert sum(len(ids) for ids in expected if ids) == len(cases) - 1
