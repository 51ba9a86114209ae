"""The installable offline reader (library/offline.py, library/pwa.py, templates/library/sw.js): the service worker's
list of what it may keep, read back from the file browsers get, never matches a case page, the queue, the
notifications or another API (every route of the site is tried); the worker itself, run against a scripted network,
keeps only what is on the list and marked for its reader, one reader at a time, and forgets it all when the session
ends; the reader pages mark what may be kept (never a page naming the source case); the manifest; the registration
script is a file (the Content-Security-Policy has no inline script); the log-in page and the log-out clear the copies.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts import services as account_services
from accounts.models import Role
from accounts.selectors import actor_for
from library import offline
from tests.factories import member
from tests.library.conftest import published
from tests.library.tipkit import published_tip
from tests.security.test_url_walk import CONVERTER, REGEX_URLS, ROUTES

pytestmark = pytest.mark.django_db

HARNESS = Path(__file__).with_name("sw_harness.js")
# The only routes whose answers the worker may keep: the readers' pages and API of published material.
READER_ROUTES = {
    "library:list",
    "library:detail",
    "library:tips",
    "library:tip",
    "library-api:library",
    "library-api:library-item",
    "guidance-api:guidance",
    "guidance-api:guidance-item",
}
NEVER = [
    "/",
    "/queue/",
    "/cases/",
    "/cases/1/",
    "/cases/12/edit/incident/",
    "/notifications/",
    "/notifications/3/",
    "/api/v1/cases/",
    "/api/v1/cases/7/",
    "/api/v1/cases/7/events/",
    "/api/v1/notifications/",
    "/api/v1/me/",
    "/library/manage/",
    "/library/manage/4/",
    "/library/tips/manage/4/",
    "/library/tips/new/",
    "/library/training/",
    "/library/training/csv/",
    "/library/propose/9/",
    "/library/4/feedback/",
    "/api/v1/library/manage/",
    "/api/v1/library/manage/4/",
    "/library/sw.js",
    "/library/1/../../cases/1/",
    "/library/tips//cases/1/",
    "/library/1/?next=/cases/1/",
]


def served_settings() -> dict:
    """The worker's settings as the browser gets them, read back from /library/sw.js."""
    response = Client().get("/library/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    found = re.search(r"/\*settings\*/(.*?)/\*end settings\*/", response.content.decode(), re.S)
    assert found, "the worker's settings block is missing"
    return json.loads(found[1])


def kept(path: str, patterns: list[str]) -> bool:
    return any(re.search(pattern, path) for pattern in patterns)


def test_the_served_worker_keeps_by_the_list_the_code_declares():
    served = served_settings()
    assert served == json.loads(offline.worker_settings())
    assert served["paths"] == list(offline.OFFLINE_PATHS)
    assert served["assets"] == ["^/static/"]
    assert served["prefix"] == "rightsguard-library-"
    assert served["header"] == "x-rightsguard-offline"


@pytest.mark.parametrize("path", NEVER)
def test_no_case_page_queue_notification_or_other_api_matches_the_list(path):
    served = served_settings()
    assert not kept(path, served["paths"] + served["assets"])


def test_every_route_of_the_site_but_the_readers_is_off_the_list():
    served = served_settings()
    matched = set()
    for route in ROUTES:
        if "(?P" in route.key or route.key.endswith("$"):
            path = REGEX_URLS.get(route.name or "") or REGEX_URLS.get(route.key) or "/" + route.key
        else:
            path = "/" + CONVERTER.sub("1", route.key)
        if kept(path, served["paths"] + served["assets"]):
            matched.add(route.name)
    assert matched == READER_ROUTES


def test_the_readers_pages_are_on_the_list():
    served = served_settings()
    for path in (
        "/library/",
        "/library/12/",
        "/library/tips/",
        "/library/tips/3/",
        "/api/v1/guidance/",
        "/api/v1/guidance/3/",
        "/api/v1/library/",
        "/api/v1/library/5/",
    ):
        assert kept(path, served["paths"]), path


def test_javascript_reads_the_list_as_python_does(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    served = served_settings()
    paths = [*NEVER, "/library/", "/library/tips/3/", "/api/v1/guidance/", "/static/css/app.css"]
    script = (
        "const s = JSON.parse(process.argv[1]); const p = JSON.parse(process.argv[2]);"
        "const kept = (x) => s.paths.concat(s.assets).some((r) => new RegExp(r).test(x));"
        "process.stdout.write(JSON.stringify(p.filter(kept)));"
    )
    out = subprocess.run(  # noqa: S603 - node and our own script
        [node, "-e", script, json.dumps(served), json.dumps(paths)], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == ["/library/", "/library/tips/3/", "/api/v1/guidance/", "/static/css/app.css"]


# --- the worker, run -----------------------------------------------------------------------------------------------


def run_worker(tmp_path: Path, plays: list[dict]) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    worker = tmp_path / "sw.js"
    worker.write_bytes(Client().get("/library/sw.js").content)
    steps = tmp_path / "plays.json"
    steps.write_text(json.dumps(plays))
    out = subprocess.run(  # noqa: S603 - node and our own harness
        [node, str(HARNESS), str(worker), str(steps)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def page(status: int = 200, header: str = "", body: str = "page") -> dict:
    return {"status": status, "header": header, "body": body}


def test_the_worker_keeps_only_marked_answers_on_the_list_and_never_a_case_page(tmp_path):
    results = run_worker(
        tmp_path,
        [
            {"path": "/cases/1/", "network": page(header="alice")},  # marked or not, never touched
            {"path": "/api/v1/cases/", "network": page(header="alice")},
            {"path": "/queue/", "network": page(header="alice")},
            {"path": "/notifications/", "network": page(header="alice")},
            {"path": "/library/tips/", "method": "POST", "network": page(header="alice")},
            {"path": "/library/manage/4/", "network": page(header="alice")},
            {"path": "/library/4/", "network": page()},  # on the list, but not marked (it names its source case)
            {"path": "/library/tips/3/", "network": page(header="alice", body="tip 3")},
            {"path": "/library/tips/3/", "navigate": True, "network": {"offline": True}},
            {"path": "/library/tips/9/", "navigate": True, "network": {"offline": True}},
            {"path": "/cases/1/", "navigate": True, "network": {"offline": True}},
        ],
    )
    answered = [(r["path"], r["answered"], r.get("status")) for r in results]
    assert answered == [
        ("/cases/1/", False, None),
        ("/api/v1/cases/", False, None),
        ("/queue/", False, None),
        ("/notifications/", False, None),
        ("/library/tips/", False, None),
        ("/library/manage/4/", False, None),
        ("/library/4/", True, 200),
        ("/library/tips/3/", True, 200),
        ("/library/tips/3/", True, 200),  # offline: the copy
        ("/library/tips/9/", True, 503),  # offline, never kept: the page saying so
        ("/cases/1/", False, None),  # offline: not the worker's (the browser's own error)
    ]
    assert results[8]["body"] == "tip 3"
    assert results[-1]["caches"] == {"rightsguard-library-reader-alice": ["/library/tips/3/"]}


def test_the_worker_keeps_one_readers_copies_and_forgets_them_when_the_session_ends(tmp_path):
    results = run_worker(
        tmp_path,
        [
            {"path": "/library/tips/3/", "network": page(header="alice")},
            {"path": "/api/v1/guidance/", "network": page(header="alice")},
            {"path": "/library/tips/3/", "network": page(status=404)},  # withdrawn: its copy goes
            {"path": "/library/", "network": page(header="bob")},  # another reader: alice's copies go first
            {"path": "/library/tips/", "network": {"redirect": True}},  # sent to log in: nothing stays
            {"path": "/library/tips/", "network": page(header="bob")},
            {"path": "/api/v1/guidance/", "network": page(status=401)},  # a terminal's session ended
        ],
    )
    assert [r["caches"] for r in results] == [
        {"rightsguard-library-reader-alice": ["/library/tips/3/"]},
        {"rightsguard-library-reader-alice": ["/api/v1/guidance/", "/library/tips/3/"]},
        {"rightsguard-library-reader-alice": ["/api/v1/guidance/"]},
        {"rightsguard-library-reader-bob": ["/library/"]},
        {},
        {"rightsguard-library-reader-bob": ["/library/tips/"]},
        {},
    ]


# --- what the server marks -----------------------------------------------------------------------------------------


def browser(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_reader_pages_are_marked_for_their_reader_and_nothing_else_is(lib):
    world = lib.world
    writeup = published(lib)
    tip = published_tip(world)
    reader = browser(world.other_officer)
    key = offline.reader_key(actor_for(world.other_officer))
    for path in (
        "/library/",
        f"/library/{writeup.pk}/",
        "/library/tips/",
        f"/library/tips/{tip.pk}/",
        "/api/v1/guidance/",
        f"/api/v1/guidance/{tip.pk}/",
        "/api/v1/library/",
        f"/api/v1/library/{writeup.pk}/",
    ):
        response = reader.get(path)
        assert (path, response.status_code, response.get(offline.READER_HEADER)) == (path, 200, key)
    editor = browser(lib.editor)
    for path in (
        f"/library/manage/{writeup.pk}/",
        f"/library/tips/manage/{tip.pk}/",
        "/library/training/",
        "/notifications/",
        f"/cases/{lib.case.pk}/",
    ):
        response = editor.get(path)
        assert (path, response.status_code, response.get(offline.READER_HEADER)) == (path, 200, None)
    # A page naming the source case to one who sees it is never kept: not marked.
    for user in (world.officer, lib.editor):
        for path in (f"/library/{writeup.pk}/", f"/api/v1/library/{writeup.pk}/"):
            response = browser(user).get(path)
            assert lib.case.reference in response.content.decode()
            assert response.get(offline.READER_HEADER) is None
    # Refusals are not marked either.
    assert browser(world.sibling_officer).get(f"/library/tips/{tip.pk}/").get(offline.READER_HEADER) is None


def test_the_reader_key_names_no_one_and_changes_with_the_roles(world):
    officer = offline.reader_key(actor_for(world.officer))
    assert re.fullmatch(r"[0-9a-f]{24}", officer)
    assert officer != offline.reader_key(actor_for(world.other_officer))
    member(world.county, Role.SUPERVISOR)  # someone else's roles change nothing
    assert offline.reader_key(actor_for(world.officer)) == officer
    account_services.grant_membership(user=world.officer, unit=world.county, role=Role.SUPERVISOR)
    assert offline.reader_key(actor_for(world.officer)) != officer


# --- installing, registering, clearing -----------------------------------------------------------------------------


def test_the_manifest_makes_the_library_installable(world):
    response = Client().get("/library/manifest.webmanifest", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"], manifest["lang"]) == (
        "/library/tips/",
        "/library/",
        "standalone",
        "en",
    )
    assert manifest["name"] == "RightsGuard typical cases and tips"
    icons = {(icon["src"], icon["sizes"]) for icon in manifest["icons"]}
    assert icons == {
        ("/static/library/icon.svg", "any"),
        ("/static/library/icon-192.png", "192x192"),
        ("/static/library/icon-512.png", "512x512"),
        ("/static/library/icon-maskable-512.png", "512x512"),
    }
    for icon in manifest["icons"]:
        assert (Path(settings.BASE_DIR) / "static" / icon["src"].removeprefix("/static/")).is_file()


def test_the_library_pages_register_the_worker_from_a_file_and_other_pages_do_not(world):
    client = browser(world.officer)
    library = client.get("/library/tips/").content.decode()
    assert '<link rel="manifest" href="/library/manifest.webmanifest">' in library
    assert '<script src="/static/js/library-offline.js" data-worker="/library/sw.js" defer></script>' in library
    assert "/library/sw.js" not in client.get("/notifications/").content.decode()
    # No inline script anywhere on the page: the Content-Security-Policy allows this site's files only.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", library) == []
    assert "script-src 'self'" in client.get("/library/tips/")["Content-Security-Policy"]
    worker = (Path(settings.BASE_DIR) / "static" / "js" / "library-offline.js").read_text()
    assert "navigator.serviceWorker.register(worker)" in worker


def test_the_worker_is_never_kept_stale_and_covers_the_library_only(world):
    response = Client().get("/library/sw.js")
    assert "no-cache" in response["Cache-Control"]
    assert "Service-Worker-Allowed" not in response  # its scope is its folder: /library/


def test_the_log_in_page_clears_the_copies_and_the_log_out_asks_the_browser_to(world):
    login = Client().get("/accounts/login/").content.decode()
    assert '<script src="/static/js/library-offline-clear.js" defer></script>' in login
    clear = (Path(settings.BASE_DIR) / "static" / "js" / "library-offline-clear.js").read_text()
    assert f'var PREFIX = "{offline.CACHE_PREFIX}";' in clear
    assert "caches.delete(name)" in clear
    client = browser(world.officer)
    assert "library-offline-clear.js" not in client.get("/library/tips/").content.decode()
    out = client.post("/accounts/logout/")
    assert (out.status_code, out["Clear-Site-Data"]) == (302, '"storage"')
