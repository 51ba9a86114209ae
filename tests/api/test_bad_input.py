"""Bad input at the API is refused in the API's error envelope, with the right status, and stores nothing: JSON
nested too deep, a body over the upload limit, a body labelled with a charset other than UTF-8, a malformed
request Django refuses itself, and paths that exist nowhere (also with a newline in them)."""

import json
import uuid

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from cases.api.parsers import MAX_JSON_DEPTH
from cases.models import Case, CaseEvent, IdempotencyRecord
from rightsguard import errors

SUMMARY = "盘查时遭踢打"


def _filing(world, **extra) -> dict:
    return {
        "unit": world.station.pk,
        "kind": "violent_attack",
        "occurred_at": timezone.now().replace(microsecond=0).isoformat(),
        "location": "北山街",
        "summary": SUMMARY,
        **extra,
    }


def _post(client, body: bytes, content_type: str = "application/json"):
    # With an Idempotency-Key: a refused body must not leave a claimed key behind either.
    return client.generic(
        "POST", "/api/v1/cases/", body, content_type=content_type, HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
    )


def _stored() -> tuple[int, int, int]:
    return Case.objects.count(), CaseEvent.objects.count(), IdempotencyRecord.objects.count()


# --- nesting ------------------------------------------------------------------------------------------------------

DEPTH_REFUSED = {
    "code": "parse_error",
    "detail": f"The JSON body nests arrays and objects more than {MAX_JSON_DEPTH} levels deep.",
}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100000-levels-200KB"),
        pytest.param(b"[" * 100_000, id="100000-unclosed"),
        pytest.param(b'{"a":' * 10_000 + b"1" + b"}" * 10_000, id="objects"),
        pytest.param(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), id="one-past-the-limit"),
    ],
)
def test_json_nested_too_deep_is_refused_and_stores_nothing(world, api, body):
    before = _stored()
    response = _post(api("officer"), body)
    assert (response.status_code, response.json()) == (400, DEPTH_REFUSED)
    assert _stored() == before


def test_json_nested_to_the_limit_reaches_validation(world, api):
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    response = _post(api("officer"), body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_brackets_inside_strings_do_not_count_as_nesting(world, api):
    # Brackets, quotes and backslashes in text are text: the depth scan must not be fooled by them.
    summary = '[[[{{{"\\' * 20 + SUMMARY
    response = _post(api("officer"), json.dumps(_filing(world, summary=summary), ensure_ascii=False).encode())
    assert response.status_code == 201, response.content
    assert Case.objects.get(pk=response.json()["id"]).summary == summary


# --- size ---------------------------------------------------------------------------------------------------------


def test_a_body_over_the_upload_limit_is_a_json_413_and_stores_nothing(world, api):
    body = json.dumps(_filing(world, summary="x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE)).encode()
    before = _stored()
    response = _post(api("officer"), body)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "request_too_large",
        "detail": "The request body is too large: at most 2.5\xa0MB is accepted.",
    }
    assert _stored() == before


def test_a_request_django_refuses_under_the_api_is_a_json_400(world, api):
    before = _stored()
    response = api("officer").post(
        "/api/v1/cases/", _filing(world), format="json", HTTP_HOST="rightsguard.example.invalid"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "bad_request",
        "detail": "The request was refused as malformed or beyond the server's limits.",
    }
    assert _stored() == before


def test_outside_the_api_refusals_stay_pages(world):
    response = Client().get("/accounts/login/", HTTP_HOST="rightsguard.example.invalid")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    browser = Client()
    browser.force_login(world.officer)
    missing = browser.get("/no-such-page/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "text/html; charset=utf-8"


# --- charset ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "utf-16", "gbk", "no-such-charset"])
def test_a_json_body_labelled_with_another_charset_is_a_415_and_stores_nothing(world, api, charset):
    body = json.dumps(_filing(world), ensure_ascii=False).encode()
    before = _stored()
    response = _post(api("officer"), body, f"application/json; charset={charset}")
    assert (response.status_code, response.json()) == (
        415,
        {
            "code": "unsupported_media_type",
            "detail": f"A JSON body must be encoded as UTF-8; the charset {charset} is not accepted.",
        },
    )
    assert _stored() == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8", "application/json;charset=utf8"]
)
def test_a_utf8_body_is_stored_as_sent(world, api, content_type):
    body = json.dumps(_filing(world), ensure_ascii=False).encode()
    response = _post(api("officer"), body, content_type)
    assert response.status_code == 201, response.content
    assert Case.objects.get(pk=response.json()["id"]).summary == SUMMARY


# --- paths --------------------------------------------------------------------------------------------------------

NOT_FOUND = {"code": "not_found", "detail": "Not found."}


@pytest.mark.parametrize(
    "path", ["/api/v1/cases/%0A/", "/api/v1/%0A", "/api/v1/cases/1/%0D%0Aevents/", "/api/", "/api/v2/cases/"]
)
def test_unknown_api_paths_answer_the_json_404_even_with_a_newline(api, path):
    response = api("officer").get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_a_server_error_under_the_api_answers_json(rf):
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        api_answer = errors.server_error(rf.get("/api/v1/cases/"))
        page = errors.server_error(rf.get("/cases/"))
    assert api_answer.status_code == 500
    assert json.loads(api_answer.content) == {
        "code": "server_error",
        "detail": "The server could not complete the request.",
    }
    assert page.status_code == 500
    assert page["Content-Type"] == "text/html; charset=utf-8"
