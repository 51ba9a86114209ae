"""Nothing the API answers may be stored by a browser or a proxy (cases/api/middleware.py): every answer under
/api/v1/ carries ``Cache-Control: no-store`` — data, evidence downloads, errors, refusals, whoever asks — except the
schema and its documentation page, which describe the API only.

The routes are those of the URL walk (tests/security/test_url_walk.py), so a route added later is checked too.
"""

import pytest
from django.test import Client
from django.utils.cache import get_max_age
from rest_framework.test import APIClient

from accounts import tokens
from tests.security.test_url_walk import METHODS, ROUTES, build_objects, concrete_url

API_ROUTES = [route for route in ROUTES if route.area == "api"]
CACHEABLE = {"api:schema", "api:docs"}


def no_store(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return "no-store" in directives and "private" in directives and get_max_age(response) == 0


def read(response) -> int:
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response.status_code


@pytest.fixture
def objects(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_objects(world)


def test_the_walk_has_the_api_routes():
    names = {route.name for route in API_ROUTES}
    assert {"api:case-attachment-download", "api:cases", "api:token", "api:tokens", "api:not-found"} <= names
    assert names >= CACHEABLE


def test_every_answer_of_the_api_to_its_users_is_not_stored(world, objects):
    _token, key = tokens.issue_token(user=world.supervisor, name="terminal", mfa_verified=True)
    terminal = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
    browser = Client(raise_request_exception=False)
    browser.force_login(world.supervisor)
    not_marked: set[str] = set()
    statuses: dict[str, set[int]] = {}
    for route in API_ROUTES:
        url = concrete_url(route, objects)
        for client in (terminal, browser):
            response = client.get(url)
            statuses.setdefault(route.name or route.key, set()).add(read(response))
            if not no_store(response):
                not_marked.add(route.name or route.key)
    assert not_marked == CACHEABLE
    # The answers that matter most were real answers, not refusals: the evidence file, a case, the lists.
    assert statuses["api:case-attachment-download"] == {200}
    assert statuses["api:case"] == {200}
    assert statuses["api:cases"] == statuses["api:tokens"] == statuses["api:me"] == {200}


def test_the_evidence_download_is_not_stored(world, objects):
    _token, key = tokens.issue_token(user=world.officer, name="terminal", mfa_verified=False)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get(f"/api/v1/cases/{objects.case.pk}/attachments/{objects.attachment.pk}/download/")
    assert (read(response), response["Content-Disposition"].split(";")[0]) == (200, "attachment")
    assert no_store(response)
    assert response["Expires"]


@pytest.mark.parametrize("method", METHODS)
def test_refusals_and_errors_of_the_api_are_not_stored_either(objects, method):
    anonymous = Client(raise_request_exception=False)
    kept = []
    for route in API_ROUTES:
        response = getattr(anonymous, method)(concrete_url(route, objects))
        read(response)
        if route.name not in CACHEABLE and not no_store(response):
            kept.append(f"{method.upper()} {route.key}: {response.status_code} {response.get('Cache-Control', '')!r}")
    assert kept == []


def test_a_refusal_from_the_middleware_is_not_stored(world, objects, settings):
    # The second factor is refused before any view runs (accounts/middleware.py); that answer is marked too.
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    browser = Client()
    browser.force_login(world.supervisor)
    response = browser.get("/api/v1/cases/")
    assert (response.status_code, response.json()["code"]) == (403, "mfa_required")
    assert no_store(response)
