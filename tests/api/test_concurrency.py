"""Twenty terminals send the same action on one case at the same moment (PostgreSQL, real row locks): exactly
one succeeds and the others are told the case changed; the case moved once."""

import threading
from collections import Counter

import pytest
from django.db import connection

from cases.choices import CaseStatus
from cases.models import CaseEvent
from tests.api.conftest import token_client
from tests.factories import case_in

CLIENTS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_conflicting_actions_have_one_winner(postgres_only, world):
    case = case_in(world, CaseStatus.INTAKE)
    version = case.version
    clients = [token_client(world.supervisor) for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, str]] = [(0, "")] * CLIENTS

    def send(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            response = clients[i].post(
                f"/api/v1/cases/{case.pk}/actions/refer/",
                {"track": "criminal", "to_unit": world.county.pk, "version": version},
                format="json",
            )
            answers[i] = (response.status_code, response.json().get("code", ""))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert Counter(status for status, _ in answers) == Counter({200: 1, 412: CLIENTS - 1})
    assert {code for status, code in answers if status == 412} == {"stale_version"}
    case.refresh_from_db()
    assert (case.status, case.version) == (CaseStatus.REFERRED, version + 1)
    assert CaseEvent.objects.filter(case=case, action="refer").count() == 1
    assert case.referrals.count() == 1
