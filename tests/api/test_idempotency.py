"""Idempotency-Key: a terminal that resends a POST gets the first answer and nothing happens twice."""

import threading
from collections import Counter
from unittest import mock

import pytest
from django.db import connection

from cases import services
from cases.choices import CaseStatus
from cases.models import Attachment, Case, CaseEvent, IdempotencyRecord, Suspect
from tests.api.conftest import JPEG, stored_files, token_client, upload
from tests.factories import case_in

S = CaseStatus


def test_a_retried_create_returns_the_first_case(world, api):
    client = api("officer")
    body = {"unit": world.station.pk, "kind": "threat", "summary": "电话威胁"}
    first = client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="8d0c1e9a-create")
    with mock.patch.object(services, "create_draft_case", side_effect=AssertionError("ran twice")):
        again = client.post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="8d0c1e9a-create")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert Case.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.user, record.key, record.method, record.path, record.response_status) == (
        world.officer,
        "8d0c1e9a-create",
        "POST",
        "/api/v1/cases/",
        201,
    )


def test_a_retried_action_is_not_applied_twice(world, api):
    case = case_in(world, S.INTAKE)
    client = api("supervisor")
    payload = {"track": "criminal", "to_unit": world.county.pk, "version": case.version}
    first = client.post(f"/api/v1/cases/{case.pk}/actions/refer/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(f"/api/v1/cases/{case.pk}/actions/refer/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert CaseEvent.objects.filter(case=case, action="refer").count() == 1
    # Without the key the same retry is what it is: a second refer of a referred case.
    plain = client.post(f"/api/v1/cases/{case.pk}/actions/refer/", payload, format="json")
    assert plain.status_code in (409, 412)


def test_reusing_a_key_for_a_different_request_is_a_422(world, api):
    client = api("officer")
    client.post("/api/v1/cases/", {"unit": world.station.pk}, format="json", HTTP_IDEMPOTENCY_KEY="same")
    different = client.post(
        "/api/v1/cases/", {"unit": world.station.pk, "kind": "doxxing"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert (different.status_code, different.json()["code"]) == (422, "idempotency_key_reused")
    case = Case.objects.get()
    elsewhere = client.post(
        f"/api/v1/cases/{case.pk}/notes/", {"text": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="same"
    )
    assert elsewhere.status_code == 422
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind="note").count() == 0


def test_keys_belong_to_one_user(world, api):
    body = {"unit": world.station.pk}
    assert api("officer").post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    other = api("supervisor").post("/api/v1/cases/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert other.status_code == 201
    assert Case.objects.count() == 2


def test_refusals_are_not_stored_so_a_corrected_retry_goes_through(world, api):
    case = case_in(world, S.INTAKE)
    client = api("supervisor")
    url = f"/api/v1/cases/{case.pk}/actions/reject/"
    refused = client.post(url, {"reason": "dup", "version": 99}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert refused.status_code == 412
    assert IdempotencyRecord.objects.count() == 0
    retried = client.post(url, {"reason": "dup", "version": 99}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert retried.status_code == 412
    fixed = client.post(url, {"reason": "dup", "version": case.version}, format="json", HTTP_IDEMPOTENCY_KEY="r")
    assert fixed.status_code == 200


@pytest.mark.parametrize("key", ["", "has space", "x" * 101, "中文"])
def test_malformed_keys_are_refused(world, api, key):
    response = api("officer").post(
        "/api/v1/cases/", {"unit": world.station.pk}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert (response.status_code, list(response.json()["errors"])) == (400, ["Idempotency-Key"])
    assert Case.objects.count() == 0


def test_a_retried_upload_stores_one_file(world, api):
    case = case_in(world, S.INTAKE)
    client = api("officer")
    url = f"/api/v1/cases/{case.pk}/attachments/"
    first = client.post(url, {"file": upload()}, format="multipart", HTTP_IDEMPOTENCY_KEY="u")
    again = client.post(url, {"file": upload()}, format="multipart", HTTP_IDEMPOTENCY_KEY="u")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert Attachment.objects.count() == 1
    assert len(stored_files()) == 1
    changed = client.post(url, {"file": upload(JPEG + b"!")}, format="multipart", HTTP_IDEMPOTENCY_KEY="u")
    assert changed.status_code == 422


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_run_the_service_once(postgres_only, world):
    """Two deliveries of the same request race: the unique key makes the second wait and replay."""
    case = case_in(world, S.INTAKE)
    count = 6
    barrier = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def send(i: int) -> None:
        try:
            client = token_client(world.supervisor)
            barrier.wait(timeout=60)
            response = client.post(
                f"/api/v1/cases/{case.pk}/suspects/", {"name": "孙某"}, format="json", HTTP_IDEMPOTENCY_KEY="race"
            )
            statuses[i] = response.status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert Counter(statuses) == Counter({201: count})
    assert Suspect.objects.filter(case=case).count() == 1
    assert IdempotencyRecord.objects.count() == 1
