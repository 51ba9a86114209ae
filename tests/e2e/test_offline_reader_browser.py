"""The library's offline reader in a real Chromium: an officer's library pages register the service worker, which keeps
the tips they open (and the lists) and nothing else they visit — not the notifications, not a case; offline the kept
tip opens and an unkept one says it was not kept; logging out leaves no copy behind for the next person on the phone."""

import pytest
from playwright.sync_api import Page, expect

from cases.choices import CaseStatus
from library import offline
from tests.e2e.test_browser import log_in
from tests.factories import build_world, case_in
from tests.library.tipkit import TEXTS, published_tip

pytestmark = pytest.mark.django_db(transaction=True)

CACHED = """async () => {
  const found = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    found[name] = (await cache.keys()).map((request) => new URL(request.url).pathname).sort();
  }
  return found;
}"""


def test_an_officer_reads_a_tip_offline_and_leaves_nothing_behind(page: Page, live_server, transactional_db):
    world = build_world()
    case = case_in(world, CaseStatus.INTAKE)
    kept = published_tip(world)
    unkept = published_tip(world, texts={"title_zh": "醉酒人员处置", "body_zh": "先保护性约束。"})
    base = live_server.url
    log_in(page, base, "officer")
    page.goto(f"{base}/library/tips/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto(f"{base}/library/tips/{kept.pk}/")
    expect(page.locator("#tip-body")).to_have_text(TEXTS["body_en"])
    page.goto(f"{base}/notifications/")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    page.goto(f"{base}/library/tips/")
    cached = page.evaluate(CACHED)
    readers = [name for name in cached if name.startswith(offline.CACHE_PREFIX + "reader-")]
    assert len(readers) == 1
    assert cached[readers[0]] == ["/library/", "/library/tips/", f"/library/tips/{kept.pk}/"]
    assert all(path.startswith("/static/") for path in cached.get(offline.CACHE_PREFIX + "assets", []))

    page.context.set_offline(True)
    page.goto(f"{base}/library/tips/{kept.pk}/")
    expect(page.locator("#tip-body")).to_have_text(TEXTS["body_en"])
    page.goto(f"{base}/library/tips/{unkept.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not kept for offline reading")
    page.context.set_offline(False)

    page.goto(f"{base}/library/tips/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.wait_for_function(
        f"async () => (await caches.keys()).filter((n) => n.startsWith('{offline.CACHE_PREFIX}')).length === 0"
    )
