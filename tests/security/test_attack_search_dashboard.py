# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The one search (the top bar, the queue's and the API's ``q``, the admin site's search box) and the dashboard, tried
from outside: other roles, units and provinces, accounts without a role or switched off, the ID number's blind index,
hostile text, tampered cursors, the dashboard's unit picker and shared queue views. Each test asserts the safe
behaviour; a refused request also leaves everything as it was."""

import hashlib
import hmac
import importlib
import io
import zipfile

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import Membership, Role, SavedQueueFilter
from accounts.selectors import actor_for
from cases import dashboard, fields, services
from cases.choices import CaseStatus
from cases.fields import blind_index
from cases.models import Case, Suspect
from cases.search import search_page
from demo.organisation import ensure_admin_group
from tests.api.conftest import token_client
from tests.conftest import reauthenticated
from tests.factories import case_in, complete_details, member

pytestmark = pytest.mark.django_db
S = CaseStatus
OURS_ID = "33010619800101001X"  # a suspect of the Zhejiang case
THEIRS_ID = "420102198001011234"  # a suspect of the Hubei case
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def page(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def top_bar(client: Client, text: str, **params) -> tuple[int, list[int], str]:
    """The top bar's search: status, the found case ids in order and the page's text after the search box (which
    shows the text as typed)."""
    response = client.get(reverse("cases:search"), {"q": text, **params})
    found = [c.pk for c in response.context["page"].cases] if response.context and response.context["page"] else []
    body = response.content.decode()
    return response.status_code, found, body.partition('id="search-results"')[2] or body


def queue(client: Client, text: str, **params) -> tuple[int, list[int], str]:
    response = client.get(reverse("cases:queue"), {"q": text, **params})
    found = [c.pk for c in response.context["page"].cases] if response.status_code in (200, 400) else []
    return response.status_code, found, response.content.decode()


def api(client, text: str) -> tuple[int, list[int], dict]:
    response = client.get("/api/v1/cases/", {"q": text})
    body = response.json()
    return response.status_code, [row["id"] for row in body.get("results", [])], body


@pytest.fixture
def scene(world):
    """A submitted case in Zhejiang (the city's station) and one in Hubei, each with its own words in every searched
    field, officers, a suspect with an ID number."""
    ours = case_in(
        world,
        S.INTAKE,
        summary="巡逻遇袭",
        location="北山街口",
        narrative="民警在断桥附近被推搡",
        dispatch_ref="J110777",
    )
    services.add_involved_officer(case=ours, by=world.supervisor, name="王磊", badge_number="ZJ4471")
    services.add_suspect(case=ours, by=world.supervisor, name="张三", id_number=OURS_ID)
    details = complete_details(
        summary="江滩遇袭", location="汉口江滩路", narrative="民警在汉口江滩附近被推搡", dispatch_ref="J420102888"
    )
    theirs = services.create_draft_case(by=world.sibling_officer, unit=world.sibling_station, details=details)
    services.add_involved_officer(case=theirs, by=world.sibling_officer, name="欧阳锋", badge_number="HB9001")
    services.add_suspect(case=theirs, by=world.sibling_officer, name="黄药师", id_number=THEIRS_ID)
    theirs = Case.objects.get(pk=theirs.pk)
    theirs = services.submit_case(case=theirs, by=world.sibling_officer, expected_version=theirs.version)
    return {"ours": Case.objects.get(pk=ours.pk), "theirs": Case.objects.get(pk=theirs.pk)}


def their_texts(theirs: Case) -> list[str]:
    """The Hubei case found by each of its fields."""
    return [
        theirs.reference,
        theirs.reference[-6:],
        "欧阳锋",
        "HB9001",
        "黄药师",
        THEIRS_ID,
        "江岸派出所",
        "江滩遇袭",
        "汉口江滩",
        "J420102888",
    ]


# --- scope: every door, every role ----------------------------------------------------------------------------------


def test_no_one_outside_the_province_finds_its_case_by_any_field_through_any_door(world, scene):
    """Zhejiang's officer, city supervisor and administrator search the Hubei case by its reference, officers' names, badge, suspect's name and ID number, unit name, summary, place, narrative and 110 number in the top bar, the queue (those who have one) and the API: nothing found, "No cases match."; Hubei's supervisor finds it by each."""
    theirs = scene["theirs"]
    texts = their_texts(theirs)
    doors = {
        "top bar": (top_bar, (world.officer, world.supervisor, world.admin)),
        "queue": (queue, (world.supervisor, world.admin)),
        "api": (api, (world.officer, world.admin)),
    }
    for door, (search, users) in doors.items():
        for user in users:
            client = token_client(user) if door == "api" else page(user)
            for text in texts:
                status, found, body = search(client, text)
                assert (status, found) == (200, []), (door, user.username, text)
                if door == "top bar":
                    assert theirs.reference not in body
                    assert "No cases match." in body
    hubei, terminal = page(world.sibling_supervisor), token_client(world.sibling_supervisor)
    for text in texts:
        assert top_bar(hubei, text)[:2] == (200, [theirs.pk]), text
        assert api(terminal, text)[:2] == (200, [theirs.pk]), text
    for text in (theirs.reference, "黄药师", THEIRS_ID):
        assert queue(hubei, text)[:2] == (200, [theirs.pk]), text


def test_a_user_without_a_role_or_switched_off_finds_nothing_and_reaches_no_search(world, scene, django_user_model):
    """An account with no membership: the top bar and the queue refuse (403), the API lists nothing for any text. A supervisor switched off keeps neither the page (sent to log in) nor the token (401)."""
    ours = scene["ours"]
    nobody = django_user_model.objects.create_user(username="nobody", password=None)
    client, terminal = page(nobody), token_client(nobody)
    for text in (ours.reference, "张三", OURS_ID, "北山派出所"):
        assert client.get(reverse("cases:search"), {"q": text}).status_code == 403
        assert client.get(reverse("cases:queue"), {"q": text}).status_code == 403
        assert api(terminal, text)[:2] == (200, [])
    client, terminal = page(world.supervisor), token_client(world.supervisor)
    account_services.deactivate_user(user=world.supervisor)
    for url in (reverse("cases:search"), reverse("cases:queue")):
        response = client.get(url, {"q": "张三"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = terminal.get("/api/v1/cases/", {"q": "张三"})
    assert response.status_code == 401
    assert ours.reference not in response.content.decode()


def test_the_admin_site_search_box_finds_only_the_administrators_cases(world, scene):
    """A provincial administrator (staff) types the Hubei case's reference, summary, place and 110 number into the admin site's case search, and its suspect's name into the suspects' search: no row; their own province's case is found the same way."""
    admin_user = world.admin
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    admin_user.groups.add(ensure_admin_group())
    client = page(admin_user)
    cases_url, suspects_url = reverse("admin:cases_case_changelist"), reverse("admin:cases_suspect_changelist")
    theirs, ours = scene["theirs"], scene["ours"]
    for text in (theirs.reference, "江滩遇袭", "汉口江滩", "J420102888"):
        response = client.get(cases_url, {"q": text})
        assert (response.status_code, response.context["cl"].result_count) == (200, 0), text
    response = client.get(suspects_url, {"q": "黄药师"})
    assert (response.status_code, response.context["cl"].result_count) == (200, 0)
    for text in (ours.reference, "巡逻遇袭", "北山街口", "J110777"):
        response = client.get(cases_url, {"q": text})
        assert [c.pk for c in response.context["cl"].result_list] == [ours.pk], text
    # A lookup on the blind index from the query string is refused: the admin offers no such filter.
    response = client.get(suspects_url, {"id_number_index": blind_index(OURS_ID)})
    assert response.status_code == 400


# --- the ID number ------------------------------------------------------------------------------------------------


def test_only_who_reads_the_id_number_in_full_finds_a_case_by_it(world, scene):
    """The province's administrator (who never reads ID numbers in full), the filing officer and an officer listed on the case try the suspect's whole ID number in the top bar, the queue and the API, as an oracle for the masked digits: nothing, and no "ID number matched" sentence; the city supervisor finds it."""
    ours = scene["ours"]
    listed = member(world.other_station, Role.OFFICER, username="listed")
    services.add_involved_officer(case=ours, by=world.supervisor, user=listed)
    wrong = OURS_ID[:-2] + "2X"
    for user in (world.admin, world.officer, listed):
        client, terminal = page(user), token_client(user)
        for text in (OURS_ID, wrong):
            status, found, body = top_bar(client, text)
            assert (status, found) == (200, []), (user.username, text)
            assert "ID number (not shown)" not in body
            assert api(terminal, text)[:2] == (200, []), (user.username, text)
        if user == world.admin:
            status, found, body = queue(client, OURS_ID)
            assert (status, found) == (200, [])
            assert "ID number (not shown)" not in body
    supervisor, terminal = page(world.supervisor), token_client(world.supervisor)
    status, found, body = top_bar(supervisor, OURS_ID)
    assert (status, found) == (200, [ours.pk])
    assert "Matched: a suspect&#x27;s ID number (not shown)." in body
    assert api(terminal, OURS_ID)[:2] == (200, [ours.pk])
    assert queue(supervisor, OURS_ID)[:2] == (200, [ours.pk])
    assert top_bar(supervisor, wrong)[:2] == (200, [])


def test_a_passport_number_matched_elsewhere_is_not_named_as_an_id_number_to_the_administrator(world):
    """A suspect's passport number (not a resident ID's shape) also written in the narrative: the administrator finds the case by the narrative, and the row says so, never that an ID number matched."""
    case = case_in(world, S.INTAKE, narrative="嫌疑人出示护照E12345678后逃离")
    services.add_suspect(case=case, by=world.supervisor, name="某甲", id_number="E12345678")
    admin_page = search_page(actor_for(world.admin), "e12345678")
    assert [(c.pk, c.match) for c in admin_page.cases] == [
        (case.pk, "Matched: what happened “嫌疑人出示护照E12345678后逃离”.")
    ]
    supervisor_page = search_page(actor_for(world.supervisor), "e12345678")
    assert [(c.pk, c.match) for c in supervisor_page.cases] == [
        (case.pk, "Matched: a suspect's ID number (not shown).")
    ]


@pytest.mark.parametrize(
    "written",
    [
        OURS_ID.lower(),
        f" {OURS_ID[:6]} {OURS_ID[6:14]} {OURS_ID[14:]} ",
        OURS_ID.translate(FULL_WIDTH),  # typed with a Chinese input method in full-width mode
        f"{OURS_ID[:6]}\u3000{OURS_ID[6:]}".translate(FULL_WIDTH).lower(),  # an ideographic space, a full-width ｘ
    ],
)
def test_the_id_number_written_another_way_is_the_same_number(world, scene, written):
    """The supervisor types the number in lower case, with spaces, in full-width digits or with an ideographic space: the same case, the same sentence, and the number is nowhere on the page."""
    status, found, body = top_bar(page(world.supervisor), written)
    assert (status, found) == (200, [scene["ours"].pk])
    assert "Matched: a suspect&#x27;s ID number (not shown)." in body
    assert OURS_ID not in body
    assert api(token_client(world.supervisor), written)[:2] == (200, [scene["ours"].pk])


def test_a_number_stored_in_full_width_before_is_found_after_the_migration(world, scene):
    """A number recorded in full-width digits under the old digest (of the full-width text): the migration recomputes that digest, and the number typed in ASCII finds the case; the other suspects' digests are left as they were."""
    case = case_in(world, S.INTAKE)
    suspect = services.add_suspect(
        case=case, by=world.supervisor, name="某乙", id_number=THEIRS_ID.translate(FULL_WIDTH)
    )
    old = hmac.new(fields._blind_index_key(), THEIRS_ID.translate(FULL_WIDTH).encode(), hashlib.sha256).hexdigest()
    Suspect.objects.filter(pk=suspect.pk).update(id_number_index=old)  # as stored before the change
    others = dict(Suspect.objects.exclude(pk=suspect.pk).values_list("pk", "id_number_index"))
    assert top_bar(page(world.supervisor), THEIRS_ID)[:2] == (200, [])

    class Editor:
        connection = connection

    importlib.import_module("cases.migrations.0028_id_number_index_full_width").refill_index(apps, Editor())
    assert Suspect.objects.get(pk=suspect.pk).id_number_index == blind_index(THEIRS_ID)
    assert dict(Suspect.objects.exclude(pk=suspect.pk).values_list("pk", "id_number_index")) == others
    assert top_bar(page(world.supervisor), THEIRS_ID)[:2] == (200, [case.pk])


def test_a_part_of_an_id_number_finds_nothing(world, scene):
    """The first 6, the first 14, the last 4 digits, all but the check digit: no case (the blind index answers only the whole number), in the top bar and the API."""
    client, terminal = page(world.supervisor), token_client(world.supervisor)
    for part in (OURS_ID[:6], OURS_ID[:14], OURS_ID[-4:], OURS_ID[:-1]):
        assert top_bar(client, part)[:2] == (200, []), part
        assert api(terminal, part)[:2] == (200, []), part


def test_the_blind_index_is_never_shown_by_the_api_the_admin_the_pages_or_the_exports(world, scene, django_user_model):
    """The digest of the suspect's number is looked for in the API's case and suspect answers, the admin site's case and suspect pages (as superuser), the case page, the search page and the queue's CSV and XLSX exports: nowhere."""
    ours = scene["ours"]
    digest = blind_index(OURS_ID)
    suspect = ours.suspects.get()
    assert suspect.id_number_index == digest
    terminal = token_client(world.supervisor)
    for url in (f"/api/v1/cases/{ours.pk}/", f"/api/v1/cases/{ours.pk}/suspects/", f"/api/v1/cases/?q={OURS_ID}"):
        response = terminal.get(url)
        assert response.status_code == 200
        assert digest not in response.content.decode()
        assert "id_number_index" not in response.content.decode()
    root = django_user_model.objects.create_superuser(username="root", password="x")
    admin_client = page(root)
    for url in (
        reverse("admin:cases_case_change", args=[ours.pk]),
        reverse("admin:cases_suspect_change", args=[suspect.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert digest not in response.content.decode()
    client = reauthenticated(page(world.supervisor))
    for response in (
        client.get(reverse("cases:detail", args=[ours.pk])),
        client.get(reverse("cases:search"), {"q": OURS_ID}),
    ):
        assert response.status_code == 200
        assert digest not in response.content.decode()
    csv = client.get(reverse("cases:queue-export"), {"q": OURS_ID, "format": "csv"})
    assert csv.status_code == 200
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert ours.reference in text
    assert digest not in text
    assert OURS_ID not in text
    xlsx = client.get(reverse("cases:queue-export"), {"q": OURS_ID, "format": "xlsx"})
    assert xlsx.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(xlsx.streaming_content))) as book:
        contents = "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    assert ours.reference in contents
    assert digest not in contents
    assert OURS_ID not in contents


# --- hostile text ---------------------------------------------------------------------------------------------------


@pytest.fixture
def marked(world):
    """Cases whose texts hold the characters an attacker types: a percent sign, an emoji, an RTL override."""
    return {
        "percent": case_in(world, S.INTAKE, summary="伤情评估100%完成"),
        "emoji": case_in(world, S.INTAKE, location="西湖边😀长椅"),
        "rtl": case_in(world, S.INTAKE, narrative="嫌疑人留言\u202eabc"),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%", ["percent"]),
        ("100%", ["percent"]),
        ("_", []),
        ("%_%", []),
        ("\\", []),
        ("\\%", []),
        ("'; --", []),
        ("' OR '1'='1", []),
        ('"', []),
        ("😀", ["emoji"]),
        ("边😀长", ["emoji"]),
        ("\u202e", ["rtl"]),
        ("\u202eabc", ["rtl"]),
        ("𠀀𠀁", []),  # astral ideographs no case holds
    ],
)
def test_hostile_text_is_literal_text_on_every_door(world, marked, text, expected):
    """LIKE wildcards, a backslash, SQL-ish quoting, emoji, astral characters and an RTL override are searched for as the characters they are: exactly the case holding them, on the top bar, the queue and the API alike, never an error."""
    wanted = [marked[name].pk for name in expected]
    client, terminal = page(world.supervisor), token_client(world.supervisor)
    assert top_bar(client, text)[:2] == (200, wanted)
    assert queue(client, text)[:2] == (200, wanted)
    assert api(terminal, text)[:2] == (200, wanted)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("袭" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("😀" * 101, "Ensure this value has at most 100 characters (it has 101)."),
        ("张三\x00", "Null characters are not allowed."),
    ],
)
def test_too_long_or_nul_text_is_refused_next_to_the_field_and_by_a_precise_400(world, scene, text, said):
    """101 characters (BMP or astral) and a NUL byte: the top bar answers 400 with the reason beside the field and no results; the queue 400 with the reason beside its field and its unfiltered list (the user's own queue); the API a 400 naming ``q``."""
    client = page(world.supervisor)
    status, found, body = top_bar(client, text)
    assert (status, found) == (400, [])
    assert said in body
    assert 'id="search-results"' not in body
    status, found, body = queue(client, text)
    assert (status, found) == (400, [scene["ours"].pk])
    assert said in body
    response = token_client(world.supervisor).get("/api/v1/cases/", {"q": text})
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "detail": "The request is not valid.", "errors": {"q": [said]}}


def test_markup_in_the_text_or_in_a_matched_name_is_shown_as_text(world):
    """A suspect named with markup, found by part of it, and a search text that closes the attribute and opens a script: the search page and the queue row show both escaped, in the box and in the "Matched" sentence, and the "More results" link carries the text encoded."""
    case = case_in(world, S.INTAKE)
    services.add_suspect(case=case, by=world.supervisor, name="<img src=x onerror=alert(1)>")
    client = page(world.supervisor)
    for text in ("onerror", '"><script>alert(1)</script>'):
        for response in (
            client.get(reverse("cases:search"), {"q": text}),
            client.get(reverse("cases:queue"), {"q": text}),
        ):
            body = response.content.decode()
            assert response.status_code == 200
            assert "<script>alert(1)" not in body
            assert "<img src=x" not in body
    body = client.get(reverse("cases:search"), {"q": "onerror"}).content.decode()
    assert "Matched: suspect name “&lt;img src=x onerror=alert(1)&gt;”." in body


def test_a_line_break_never_matches_across_two_names(world, scene):
    """The case's names are kept one per line (王磊, then 张三): a text with a line break between the end of one and the start of the next ("磊\\n张") matches no name, on the top bar, the queue and the API; each name alone is still found."""
    ours = scene["ours"]
    assert "王磊\n张三" in ours.party_names
    client, terminal = page(world.supervisor), token_client(world.supervisor)
    for text in ("磊\n张", "王磊\n张三", "磊\r\n张"):
        assert top_bar(client, text)[:2] == (200, []), repr(text)
        assert queue(client, text)[:2] == (200, []), repr(text)
        assert api(terminal, text)[:2] == (200, []), repr(text)
    status, found, body = top_bar(client, "王磊")
    assert (status, found) == (200, [ours.pk])
    assert "Matched: officer name “王磊”." in body


# --- cursors and counts ---------------------------------------------------------------------------------------------


@pytest.fixture
def many(world, scene):
    """Three Zhejiang and two Hubei cases naming 张三丰 in the summary."""
    ours = [case_in(world, S.INTAKE, summary=f"张三丰第{i}次") for i in range(3)]
    theirs = []
    for i in range(2):
        draft = services.create_draft_case(
            by=world.sibling_officer, unit=world.sibling_station, details=complete_details(summary=f"张三丰湖北{i}")
        )
        theirs.append(services.submit_case(case=draft, by=world.sibling_officer, expected_version=draft.version))
    return {"ours": ours, "theirs": theirs}


@pytest.mark.parametrize(
    "cursor",
    [
        "².",  # a digit to str.isdigit, not to int()
        "٣.",  # an Arabic-Indic three
        "99999999999999999999999.",
        "-1.",
        "1e3.",
        " 1.",
        "0.garbage",
        "0.\x00",
        "0",
        ".",
        "",
    ],
)
def test_a_forged_cursor_is_a_clear_400_never_an_error_nor_another_page(world, many, cursor):
    """Cursors the search never makes (a superscript or Arabic-Indic digit, a huge or negative tier, garbage, a NUL, no dot) on the top bar: 400, with the first page of the user's own matches, never a 500."""
    status, found, _body = top_bar(page(world.supervisor), "张三丰", after=cursor)
    if cursor == "":
        assert status == 200  # no cursor at all: the first page
    else:
        assert status == 400, repr(cursor)
    assert found == [c.pk for c in reversed(many["ours"])]


def test_another_users_cursor_or_one_from_the_queue_shows_nothing_outside_the_users_scope(world, many):
    """Hubei's supervisor replays a cursor the Zhejiang supervisor was given (after the first of their matches), and a cursor of the queue: the rest of Hubei's own matches, or a 400; never a Zhejiang case."""
    zhejiang = search_page(actor_for(world.supervisor), "张三丰", size=1)
    assert zhejiang.next_cursor
    hubei = page(world.sibling_supervisor)
    status, found, _body = top_bar(hubei, "张三丰", after=zhejiang.next_cursor)
    assert status == 200
    assert set(found) <= {c.pk for c in many["theirs"]}
    queue_page = page(world.supervisor).get(reverse("cases:queue"), {"q": "张三丰"}).context["page"]
    status, found, _body = top_bar(hubei, "张三丰", after=f"0.{queue_page.cases[0].pk}")
    assert (status, found) == (400, [c.pk for c in reversed(many["theirs"])])


def test_the_count_and_its_cap_count_only_the_users_scope(world, many, monkeypatch):
    """Three matches in Zhejiang, two in Hubei: the city supervisor reads "3 cases", the Hubei one "2 cases"; with the queue's cap lowered to 2 the city supervisor's queue is capped and the Hubei one's is not."""
    assert "3 cases" in top_bar(page(world.supervisor), "张三丰")[2]
    assert "2 cases" in top_bar(page(world.sibling_supervisor), "张三丰")[2]
    monkeypatch.setattr("cases.queue_filters.COUNT_CAP", 2)
    capped = page(world.supervisor).get(reverse("cases:queue"), {"q": "张三丰"}).context["page"]
    assert (capped.count, capped.count_capped, len(capped.cases)) == (2, True, 3)
    hubei = page(world.sibling_supervisor).get(reverse("cases:queue"), {"q": "张三丰"}).context["page"]
    assert (hubei.count, hubei.count_capped) == (2, False)
    assert {c.pk for c in hubei.cases} == {c.pk for c in many["theirs"]}


# --- the dashboard --------------------------------------------------------------------------------------------------


def board_of(client: Client, **params):
    response = client.get(reverse("cases:home"), params)
    return response.status_code, response.context.get("board"), response.content.decode()


def test_the_dashboard_never_counts_another_provinces_cases(world, scene, many):
    """Open cases in Hubei (three) and in Zhejiang (four): the city supervisor's open figure and sub-unit rows count Zhejiang's only, and the Hubei supervisor's Hubei's only; the oldest cases listed are each one's own."""
    status, board, _body = board_of(page(world.supervisor))
    assert status == 200
    assert board.figures["open"].count == 4
    assert {c.pk for c in board.oldest} <= {scene["ours"].pk, *(c.pk for c in many["ours"])}
    status, board, _body = board_of(page(world.sibling_supervisor))
    assert status == 200
    assert board.figures["open"].count == 3
    assert {c.pk for c in board.oldest} == {scene["theirs"].pk, *(c.pk for c in many["theirs"])}


@pytest.mark.parametrize(
    "params",
    [
        {"unit": "420000"},  # the other province
        {"unit": "000000"},  # the ministry above the supervisor's city
        {"unit": "330000"},  # the province above it
        {"unit": "999999"},  # no such unit
        {"unit": "\x00"},
        {"unit": "3" * 300},
        {"unit": ["330106", "420000"]},  # the last of repeated values is the one read
    ],
)
def test_the_unit_picker_refuses_a_unit_outside_the_subtree_and_counts_nothing(world, many, params):
    """The city supervisor asks the dashboard for a unit elsewhere, above them, that does not exist, a NUL, a very long code or a repeated parameter ending on another province: 400, the refusal beside the picker, no figures."""
    status, board, body = board_of(page(world.supervisor), **params)
    assert (status, board) == (400, None)
    assert "Choose one of your own units; that unit is not among them." in body or "Null characters" in body
    assert "张三丰" not in body


def test_repeated_unit_parameters_count_the_last_unit_within_the_subtree(world, many):
    """``unit=420000&unit=330106``: the county (the last value), never Hubei nor the whole city."""
    status, board, _body = board_of(page(world.supervisor), unit=["420000", "330106"])
    assert (status, board.unit) == (200, world.county)
    assert board.figures["open"].count == 4


def test_a_supervisor_of_two_subtrees_sees_both_and_each_on_its_own_but_nothing_else(world, scene, many):
    """A supervisor of the county in Zhejiang and of the station in Hubei: "all my units" counts both (4 + 3), each unit alone counts its own, and the city above the county is refused."""
    both = member(world.county, Role.SUPERVISOR, username="both")
    account_services.grant_membership(user=both, unit=world.sibling_station, role=Role.SUPERVISOR)
    # A case in the city's own unit (outside the county): never counted.
    services.submit_case(
        case=(c := services.create_draft_case(by=world.supervisor, unit=world.city, details=complete_details())),
        by=world.supervisor,
        expected_version=c.version,
    )
    client = page(both)
    status, board, _body = board_of(client)
    assert (status, board.unit, board.figures["open"].count) == (200, None, 7)
    assert [(r.unit, r.open.count) for r in board.sub_units] == [(world.county, 4), (world.sibling_station, 3)]
    assert board_of(client, unit="330106")[1].figures["open"].count == 4
    assert board_of(client, unit="420100001")[1].figures["open"].count == 3
    assert board_of(client, unit="330100")[:2] == (400, None)
    # The same figures from the selector the page calls.
    actor = actor_for(both)
    assert dashboard.build(actor, None).figures["open"].count == 7


def test_a_former_supervisor_keeps_no_dashboard_of_the_unit(world, many):
    """The city supervisor's membership is revoked between two requests: the dashboard is gone (the officer's home), and a link to the city's dashboard shows no figure."""
    client = page(world.supervisor)
    assert board_of(client)[0] == 200
    account_services.revoke_membership(membership=Membership.objects.get(user=world.supervisor, unit=world.city))
    response = client.get(reverse("cases:home"), {"unit": "330100"})
    assert response.status_code == 200
    assert "board" not in response.context
    assert "张三丰" not in response.content.decode()


# --- shared queue views ---------------------------------------------------------------------------------------------


def test_another_units_supervisor_can_neither_read_nor_change_nor_delete_a_shared_view(world):
    """The city supervisor shares a view with the city; Hubei's supervisor and the county supervisor (not of the city) do not see it on their queue, cannot delete it by its URL (404), and saving a view of the same name makes their own without touching it."""
    owner = page(world.supervisor)
    owner.post(reverse("cases:queue-save"), {"name": "逾期", "query": "due=overdue", "shared": "on"})
    saved = SavedQueueFilter.objects.get(user=world.supervisor)
    assert saved.shared_unit == world.city
    colleague = member(world.city, Role.SUPERVISOR, username="colleague")
    assert "逾期" in page(colleague).get(reverse("cases:queue")).content.decode()
    for outsider in (world.sibling_supervisor, world.county_supervisor):
        client = page(outsider)
        assert "逾期" not in client.get(reverse("cases:queue")).content.decode()
        assert client.post(reverse("cases:queue-delete", args=[saved.pk])).status_code == 404
        client.post(reverse("cases:queue-save"), {"name": "逾期", "query": "view=mine", "shared": "on"})
    assert page(colleague).post(reverse("cases:queue-delete", args=[saved.pk])).status_code == 404
    saved.refresh_from_db()
    assert (saved.user, saved.name, saved.query, saved.shared_unit) == (
        world.supervisor,
        "逾期",
        "due=overdue",
        world.city,
    )
    assert SavedQueueFilter.objects.filter(name="逾期").count() == 3
