"""Rendering a PDF report never makes the server fetch a URL.

Unit names (and any other text a user can edit) reach the report only as HTML text, never the style sheet, and
WeasyPrint runs with a fetcher that serves data: URLs and the project's static files and refuses everything else.
A local HTTP server stands in for the target of a server-side request: it must see no connection at all.
"""

import base64
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation
from pypdf import PdfReader

from cases import services
from cases.choices import CaseStatus
from cases.models import ReportFormat
from cases.reports import pdf
from cases.reports.pdf_fetch import RefusedURL, StaticOnlyURLFetcher
from cases.reports.services import render_export
from cases.reports.yearly import report_timezone
from tests.factories import case_in, complete_details


@dataclass
class Listener:
    """A plain HTTP server on a random loopback port that records every connection and every request."""

    port: int
    connections: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    record = Listener(port=0)

    class Handler(BaseHTTPRequestHandler):
        timeout = 5  # a client that connects and says nothing cannot hold the server

        def do_GET(self) -> None:
            record.paths.append(self.path)
            body = b"html { background: red }"
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def verify_request(self, request, client_address) -> bool:  # every accepted connection, any protocol
            record.connections.append(client_address[0])
            return True

    server = Server(("127.0.0.1", 0), Handler)
    record.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield record
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def hostile(listener: Listener, name: str) -> dict[str, str]:
    """Payloads that each tried to leave the text they sit in: CSS strings (CR, LF, form feed, quotes,
    backslashes), the <style> element, and HTML."""
    return {
        "cr": f"\r;}}}} html {{ background: url({listener.url(name + '-cr')}) }}",
        "ff": f'\f";}}}} body {{ background-image: url("{listener.url(name + "-ff")}") }}',
        "lf": f"\\\n;}}}} html {{ background: url('{listener.url(name + '-lf')}') }}",
        "style": f'</style><link rel="stylesheet" href="{listener.url(name + "-style")}">',
        "img": f'<img src="{listener.url(name + "-img")}">',
    }


def pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "".join("".join(page.extract_text().split()) for page in reader.pages)


def squeezed(text: str) -> str:
    return "".join(text.split())


def test_hostile_text_in_every_editable_string_reaches_the_pdf_as_text_and_fetches_nothing(world, listener):
    county, station, other = world.county, world.station, world.other_station
    county.name, county.name_en = hostile(listener, "county")["cr"], hostile(listener, "county-en")["ff"]
    station.name, station.name_en = hostile(listener, "station")["style"], hostile(listener, "station-en")["lf"]
    other.name, other.name_en = hostile(listener, "other")["img"], hostile(listener, "other-en")["cr"]
    for unit in (county, station, other):
        unit.full_clean()
        unit.save()
    world.officer.full_name = hostile(listener, "officer")["cr"][:100]
    world.officer.save()
    # Case text a user types: the report shows only counts, but none of it may fetch anything either.
    case = case_in(
        world,
        CaseStatus.INTAKE,
        location=hostile(listener, "location")["cr"],
        summary=hostile(listener, "summary")["style"],
        narrative=" ".join(hostile(listener, "narrative").values()),
    )
    services.add_involved_officer(case=case, by=world.supervisor, name=hostile(listener, "colleague")["ff"][:50])
    # A submitted case of the other station, so its row (and name) is in the report too.
    other_case = services.create_draft_case(
        by=world.other_officer, unit=other, details=complete_details(summary=hostile(listener, "other")["img"])
    )
    services.submit_case(case=other_case, by=world.other_officer, expected_version=other_case.version)
    year = timezone.localtime(case.submitted_at, report_timezone()).year

    texts = {}
    for language in ("en", "zh-hans"):
        out = io.BytesIO()
        with translation.override(language):
            render_export(unit=county, year=year, fmt=ReportFormat.PDF, out=out)
        data = out.getvalue()
        assert data.startswith(b"%PDF-")
        pages, texts[language] = pdf_text(data)
        assert pages >= 1

    assert (listener.connections, listener.paths) == ([], [])
    # The hostile names are printed as the text they are: in English the English names, in Chinese the others.
    for name in (county.name_en, station.name_en, other.name_en):
        assert squeezed(name) in texts["en"]
    for name in (county.name, station.name, other.name):
        assert squeezed(name) in texts["zh-hans"]
    # The footer (unit and year) is on every page, with the page counters.
    assert texts["en"].count(squeezed(f"{county.name_en} ({county.code}) · {year}")) >= 1
    assert "Page1of" in texts["en"]


def test_the_renderer_fetches_nothing_whatever_the_html_references(world, listener, monkeypatch):
    """Even markup the template might one day hold (remote style sheets, images, fonts, imports) loads nothing."""
    static_css = next(Path(settings.STATICFILES_DIRS[0]).glob("css/*.css"))
    markup = f"""<!doctype html><html><head>
<link rel="stylesheet" href="{listener.url("link.css")}">
<style>
  @import url({listener.url("import.css")});
  @font-face {{ font-family: x; src: url({listener.url("font.woff")}); }}
  body {{ background: url({listener.url("background.png")}); }}
</style></head><body>
<p>Fetched nothing</p>
<img src="{listener.url("img.png")}"><img src="https://127.0.0.1:{listener.port}/tls.png">
<img src="ftp://127.0.0.1:{listener.port}/ftp.png"><img src="file:///etc/passwd">
<img src="file://{settings.BASE_DIR}/manage.py"><img src="css/{static_css.name}">
</body></html>"""
    monkeypatch.setattr(pdf, "render_to_string", lambda *_args, **_kwargs: markup)
    out = io.BytesIO()
    with translation.override("en"):
        render_export(unit=world.county, year=2025, fmt=ReportFormat.PDF, out=out)
    _pages, text = pdf_text(out.getvalue())
    assert "Fetchednothing" in text
    assert (listener.connections, listener.paths) == ([], [])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/x.css",
        "HTTP://127.0.0.1:{port}/x.css",
        "https://127.0.0.1:{port}/x.css",
        "ftp://127.0.0.1:{port}/x.css",
        "gopher://127.0.0.1:{port}/x",
        "file:///etc/passwd",
        "file://{base}/manage.py",
        "file://{base}/rightsguard/settings.py",
        "file://{static}/../manage.py",
        "file://{static}/css/../../manage.py",
        "file://127.0.0.1{static}/css/app.css",
        "file://localhost/etc/passwd",
        "file://{static}",
        "//127.0.0.1:{port}/x.css",
        "javascript:alert(1)",
    ],
)
def test_the_fetcher_refuses_everything_but_static_files_and_data(url, listener):
    static = Path(settings.STATICFILES_DIRS[0]).resolve()
    url = url.format(port=listener.port, base=settings.BASE_DIR, static=static)
    with pytest.raises(RefusedURL):
        StaticOnlyURLFetcher().fetch(url)
    assert (listener.connections, listener.paths) == ([], [])


def test_the_fetcher_serves_static_files_by_path_and_data_urls():
    fetcher = StaticOnlyURLFetcher()
    css = Path(settings.STATICFILES_DIRS[0]).resolve() / "css" / "app.css"
    response = fetcher.fetch(css.as_uri())
    assert (response.read(), response.content_type) == (css.read_bytes(), "text/css")
    response.close()
    png = b"\x89PNG\r\n\x1a\n not really"
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(png).decode())
    assert (response.read(), response.content_type) == (png, "image/png")
    response.close()
