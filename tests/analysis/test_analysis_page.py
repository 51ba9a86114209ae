"""The analysis page and its files (analysis/views.py, figures.py, tables.py) on the hand-built set of
tests/analysis/dataset.py: exact figures, rates per 100 officers, the heat map, links that list exactly the cases a
figure counts, who may see which unit, and the downloads."""

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from analysis import figures
from analysis.models import OfficerStrength
from cases.models import AccessLog
from tests.analysis.dataset import THREAT, VIOLENT, analysis_dataset
from tests.conftest import reauthenticated

PAGE = "/analysis/"


@pytest.fixture
def dataset(world):
    cases = analysis_dataset(world)
    # The county recorded 40 + 10 officers for 2025; its first station 20 + 5; the other station nothing.
    for unit, regular, auxiliary in ((world.county, 40, 10), (world.station, 20, 5)):
        OfficerStrength.objects.create(
            unit=unit, year=2025, regular=regular, auxiliary=auxiliary, recorded_at="2025-01-01T00:00:00Z"
        )
    return cases


def cells(body: str, table: str) -> dict[str, list[str]]:
    """The table's rows by their heading: each cell's text."""
    html = body.split(f'id="grid-{table}"', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        head = re.search(r"<th[^>]*>(.*?)</th>", row, re.S)
        if head and "<td" in row:
            texts = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            rows[unescape(re.sub(r"<[^>]+>", "", head.group(1)).strip())] = texts
    return rows


def links(body: str, table: str) -> dict[str, list[str]]:
    html = body.split(f'id="grid-{table}"', 1)[1].split("</table>", 1)[0]
    found = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        head = re.search(r"<th[^>]*>(.*?)</th>", row, re.S)
        if head and "<td" in row:
            found[unescape(re.sub(r"<[^>]+>", "", head.group(1)).strip())] = [
                unescape(m.group(1)) if (m := re.search(r'href="([^"]+)"', c)) else ""
                for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            ]
    return found


def listed(client, link: str) -> set[str]:
    """The references the queue lists at ``link`` (every page)."""
    response = client.get(link)
    assert response.status_code == 200, response.content[:500]
    return {case.reference for case in response.context["page"].cases}


def test_the_county_page_shows_the_exact_figures(client, world, dataset):
    client.force_login(world.county_supervisor)
    response = client.get(PAGE, {"unit": world.county.code, "year": 2025})
    assert response.status_code == 200
    body = response.content.decode()
    months = cells(body, "months")
    assert months["March"] == ["1", "0", ""]
    assert months["April"] == ["2", "0", ""]
    assert months["Year"] == ["3", "0", ""]
    units = cells(body, "units")
    # cases, last year, change, injured, injured last year, strength, cases per 100, injured per 100
    assert units["北山派出所 (330106001)"] == ["2", "0", "", "1", "0", "25", "8.00", "4.00"]
    assert units["灵隐派出所 (330106002)"] == ["1", "0", "", "0", "0", "", "", ""]
    assert units["Total"] == ["3", "0", "", "1", "0", "50", "6.00", "2.00"]
    handling = cells(body, "handling")
    # referred, median days, flagged downgraded, share, overridden, reviews, in progress, upheld, deficient
    assert handling["Total"] == ["0", "", "0", "0.0", "0", "0", "0", "0", "0"]
    scenarios = cells(body, "scenarios")
    assert scenarios["Violent attack"][-1] == "2"
    assert scenarios["Total"][-1] == "3"
    place = cells(body, "place")
    assert place["Road or street"] == ["1", "0", "", "33.3"]
    assert place["Hospital"] == ["1", "0", "", "33.3"]
    assert place["Not recorded"] == ["1", "0", "", "33.3"]
    heat = cells(body, "heat")
    # Sunday 22:00 (S1), Tuesday 00:00 (S2), Friday 14:00 (O1), in Shanghai time.
    assert heat["Sunday"][22] == "1"
    assert heat["Sunday"][24] == "1"
    assert heat["Tuesday"][0] == "1"
    assert heat["Friday"][14] == "1"
    assert heat["Total"][24] == "3"


def test_every_figure_links_to_exactly_the_cases_it_counts(client, world, dataset):
    s1, s2, o1, _x1 = dataset
    client.force_login(world.county_supervisor)
    body = client.get(PAGE, {"unit": world.county.code, "year": 2025}).content.decode()
    units = links(body, "units")
    # A sub-unit's name leads to its own analysis (stations are not in the picker).
    assert f'<a href="/analysis/?unit={world.station.code}&amp;year=2025">北山派出所 (330106001)</a>' in body
    assert listed(client, units["北山派出所 (330106001)"][0]) == {s1.reference, s2.reference}
    assert listed(client, units["北山派出所 (330106001)"][3]) == {s1.reference}  # the officer injured
    assert listed(client, units["Total"][0]) == {s1.reference, s2.reference, o1.reference}
    assert listed(client, links(body, "months")["April"][0]) == {s2.reference, o1.reference}
    place = links(body, "place")
    assert listed(client, place["Road or street"][0]) == {s1.reference}
    assert listed(client, place["Not recorded"][0]) == {s2.reference}
    crowd = links(body, "crowd")
    assert listed(client, crowd["Organised or incited"][0]) == {o1.reference}
    assert listed(client, crowd["One or two attackers"][0]) == {s1.reference}
    heat = links(body, "heat")
    assert listed(client, heat["Sunday"][22]) == {s1.reference}
    assert listed(client, heat["Tuesday"][0]) == {s2.reference}
    scenarios = links(body, "scenarios")
    assert listed(client, scenarios["Violent attack"][0]) in ({s1.reference}, {o1.reference})
    query = parse_qs(urlsplit(place["Road or street"][0]).query)
    assert query["unit"] == [world.county.code]
    assert query["submitted"] == ["2025"]
    assert query["place"] == ["road"]
    assert len(query["status"]) == 7  # every status but a draft (of eight)


def test_the_ministry_reads_the_summaries_and_finds_the_same_figures(client, world, dataset):
    client.force_login(world.ministry_supervisor)
    body = client.get(PAGE, {"unit": world.ministry.code, "year": 2025}).content.decode()
    units = cells(body, "units")
    assert units["浙江省公安厅 (330000)"][0] == "3"
    assert units["湖北省公安厅 (420000)"][0] == "1"
    assert units["Total"][0] == "4"
    a = figures.analyse(unit=world.ministry, year=2025)
    assert a.scenarios == {(VIOLENT, "call_110"): 1, (VIOLENT, ""): 1, (THREAT, ""): 2}


def test_the_page_is_for_supervisors_and_admins_on_their_own_units(client, world, dataset):
    client.force_login(world.officer)
    assert client.get(PAGE).status_code == 403
    client.force_login(world.sibling_supervisor)
    assert client.get(PAGE, {"unit": world.county.code, "year": 2025}).status_code == 404
    assert client.get(f"/analysis/file/xlsx/?unit={world.county.code}&year=2025").status_code == 404
    client.force_login(world.county_supervisor)
    assert client.get(PAGE, {"unit": world.city.code, "year": 2025}).status_code == 404
    response = client.get(PAGE, {"year": 1990})
    assert response.status_code == 400
    assert response.context["form"].errors["year"] == ["Choose a year from 2015 to 2026."]


def test_the_downloads_need_the_password_and_are_logged(client, world, dataset):
    client.force_login(world.county_supervisor)
    url = f"/analysis/file/csv/?unit={world.county.code}&year=2025&table=place"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("reauth"))
    assert not AccessLog.objects.filter(object_ref__startswith="analysis").exists()
    reauthenticated(client)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="rightsguard-analysis-330106-2025-place.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[4:6] == [["Cases by place category"], ["Recorded", "2025", "2024", "Change (%)", "Share 2025 (%)"]]
    assert ["Road or street", "1", "0", "", "33.3"] in rows
    assert client.get(f"/analysis/file/csv/?unit={world.county.code}&year=2025&table=nope").status_code == 404
    response = client.get(f"/analysis/file/xlsx/?unit={world.county.code}&year=2025")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    refs = list(AccessLog.objects.filter(object_ref__startswith="analysis").values_list("object_ref", flat=True))
    assert sorted(refs) == [
        "analysis unit=330106 year=2025 format=csv table=place lang=en",
        "analysis unit=330106 year=2025 format=xlsx table=all lang=en",
    ]


def test_the_download_asked_for_before_the_password_goes_ahead_once_after_it(client, world, dataset):
    client.force_login(world.county_supervisor)
    page = f"{PAGE}?unit={world.county.code}&year=2025"
    asked = client.get(f"/analysis/file/csv/?unit={world.county.code}&year=2025&table=place")
    assert asked.status_code == 302
    reauthenticated(client)
    body = client.get(page).content.decode()
    marked = re.findall(r"<a [^>]*data-resume[^>]*>", body)
    assert marked == [
        f'<a class="small" href="/analysis/file/csv/?unit={world.county.code}&amp;year=2025&amp;table=place" '
        "data-resume>"
    ]
    assert 'id="analysis-resumed"' in body
    # Once: the next visit downloads nothing by itself; nor does another unit's page.
    assert "data-resume" not in client.get(page).content.decode()


def test_a_download_asked_for_long_before_the_password_is_not_resumed(client, world, dataset):
    client.force_login(world.county_supervisor)
    client.get(f"/analysis/file/xlsx/?unit={world.county.code}&year=2025")
    session = client.session
    session["analysis.pending_file"]["at"] -= 3600  # asked an hour before the password was confirmed
    session.save()
    reauthenticated(client)
    assert "data-resume" not in client.get(f"{PAGE}?unit={world.county.code}&year=2025").content.decode()
