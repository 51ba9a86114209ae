"""A unit's training record (library/training.py, library/training_views.py): exactly who read which typical case
version and which tip, and when, filtered by period, sub-unit and material; its CSV and XLSX files formula-safe and
escaped, logged in the access log, behind a recent re-authentication; refused to officers (403) and for a unit outside
one's area (404)."""

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from cases.models import AccessLog
from library import services as library_services
from library import training
from library.guidance import services as tip_services
from library.guidance.models import TipRead
from library.models import LibraryRead
from tests.conftest import reauthenticated
from tests.factories import member
from tests.library.conftest import ZH_TEXTS, published
from tests.library.tipkit import published_tip

pytestmark = pytest.mark.django_db

HOSTILE_NAME = "=cmd|' /C calc'!A0"
HOSTILE_TITLE = "<script>alert(1)</script>"


def browser(user: User, *, fresh: bool = True) -> Client:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return reauthenticated(client) if fresh else client


@pytest.fixture
def reads(lib):
    """The typical case read by the filing officer (王磊) and by the neighbouring station's officer (a hostile name)
    ten days ago; a tip (a hostile English title) read by the filing officer today."""
    world = lib.world
    writeup = published(lib)
    world.other_officer.full_name = HOSTILE_NAME
    world.other_officer.save(update_fields=["full_name"])
    library_services.record_read(writeup=writeup, by=world.officer)
    library_services.record_read(writeup=writeup, by=world.other_officer)
    LibraryRead.objects.filter(reader=world.other_officer).update(read_at=timezone.now() - timedelta(days=10))
    tip = published_tip(
        world, texts={"title_zh": "保全证据", "body_zh": "出警即开机。", "title_en": HOSTILE_TITLE, "body_en": "On."}
    )
    tip_services.record_tip_read(tip=tip, by=world.officer)
    return writeup, tip


def when(read) -> str:
    return timezone.localtime(read.read_at).strftime("%Y-%m-%d %H:%M")


def test_the_record_lists_every_read_latest_first(lib, reads):
    writeup, tip = reads
    world = lib.world
    rows = list(training.training_rows(training.TrainingFilters(unit=world.city)))
    assert [(r.reader.username, r.unit.code, r.material, r.item, r.version) for r in rows] == [
        ("officer", world.station.code, "tip", tip.pk, None),
        ("officer", world.station.code, "typical_case", writeup.pk, 1),
        ("other_officer", world.other_station.code, "typical_case", writeup.pk, 1),
    ]
    assert training.training_counts(training.TrainingFilters(unit=world.city)) == {
        "typical_case": 2,
        "tip": 1,
        "readers": 2,
    }


def test_the_record_is_filtered_by_period_sub_unit_and_material(lib, reads):
    world = lib.world
    today = timezone.localdate()

    def who(**filters) -> list[tuple[str, str]]:
        rows = training.training_rows(training.TrainingFilters(**filters))
        return [(r.reader.username, r.material) for r in rows]

    assert who(unit=world.city, start=today - timedelta(days=3)) == [("officer", "tip"), ("officer", "typical_case")]
    assert who(unit=world.city, end=today - timedelta(days=3)) == [("other_officer", "typical_case")]
    assert who(unit=world.other_station) == [("other_officer", "typical_case")]
    assert who(unit=world.city, material="tip") == [("officer", "tip")]
    assert who(unit=world.sibling_province) == []


def test_the_page_shows_the_rows_escaped(lib, reads):
    page = browser(lib.editor).get("/library/training/")
    text = page.content.decode()
    assert page.status_code == 200
    assert text.count("<tr data-material=") == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert HOSTILE_TITLE not in text
    assert ZH_TEXTS["title_zh"] in text
    assert "Typical case, version 1" in text
    sub = browser(lib.editor).get(f"/library/training/?unit={lib.world.other_station.code}").content.decode()
    assert sub.count("<tr data-material=") == 1


def test_officers_are_refused_and_a_unit_outside_ones_area_is_not_found(lib, reads):
    assert browser(lib.world.officer).get("/library/training/").status_code == 403
    assert browser(lib.world.officer).get("/library/training/csv/").status_code == 403
    editor = browser(lib.editor)
    assert editor.get(f"/library/training/?unit={lib.world.sibling_province.code}").status_code == 404
    assert editor.get(f"/library/training/csv/?unit={lib.world.province.code}").status_code == 404
    assert editor.get("/library/training/pdf/").status_code == 404
    assert AccessLog.objects.filter(action="export").count() == 0


def test_the_csv_is_formula_safe_and_logged(lib, reads):
    writeup, tip = reads
    response = browser(lib.editor).get("/library/training/csv/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="training-330100-all.csv"'
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    officer, other = lib.world.officer, lib.world.other_officer
    read = {r.reader_id: r for r in LibraryRead.objects.all()}
    tip_read = TipRead.objects.get()
    assert rows == [
        [
            "Read at",
            "Officer",
            "Username",
            "Badge number",
            "Unit",
            "Unit code",
            "Material",
            "Number",
            "Version",
            "Title",
        ],
        [
            when(tip_read),
            "王磊",
            "officer",
            officer.badge_number,
            "北山派出所",
            "330106001",
            "Guidance tip",
            str(tip.pk),
            "",
            HOSTILE_TITLE,
        ],
        [
            when(read[officer.pk]),
            "王磊",
            "officer",
            officer.badge_number,
            "北山派出所",
            "330106001",
            "Typical case",
            str(writeup.pk),
            "1",
            ZH_TEXTS["title_zh"],
        ],
        [
            when(read[other.pk]),
            "'" + HOSTILE_NAME,
            "other_officer",
            other.badge_number,
            "灵隐派出所",
            "330106002",
            "Typical case",
            str(writeup.pk),
            "1",
            ZH_TEXTS["title_zh"],
        ],
    ]
    log = AccessLog.objects.get(action="export")
    assert (log.user, log.object_ref) == (
        lib.editor,
        "library training unit=330100 start= end= material=all format=csv lang=en",
    )


def test_the_xlsx_writes_text_as_text(lib, reads):
    response = browser(lib.editor).get("/library/training/xlsx/?material=typical_case")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [list(row) for row in sheet.iter_rows(min_row=2)]
    names = [row[1] for row in cells]
    assert [c.value for c in names] == ["王磊", HOSTILE_NAME]
    assert {c.data_type for c in names} == {"s"}  # a string, never a formula
    assert [row[8].value for row in cells] == [1, 1]
    assert AccessLog.objects.get(action="export").object_ref.endswith("material=typical_case format=xlsx lang=en")


def test_a_file_needs_the_password_confirmed_first(lib, reads):
    response = browser(lib.editor, fresh=False).get("/library/training/csv/?material=tip")
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/reauth/?next=%2Flibrary%2Ftraining%2Fcsv%2F%3Fmaterial%3Dtip",
    )
    assert AccessLog.objects.filter(action="export").count() == 0


def test_the_page_takes_the_same_queries_for_few_reads_or_many(lib, reads):
    def count() -> int:
        client = browser(lib.editor)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/library/training/").status_code == 200
        return len(queries)

    few = count()
    _writeup, tip = reads
    for _n in range(5):
        tip_services.record_tip_read(tip=tip, by=member(lib.world.station, "officer"))
    assert count() == few
