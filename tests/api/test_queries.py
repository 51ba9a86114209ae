"""Every list costs the same number of queries for 2 rows as for 20: selectors fetch what serializers show."""

import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts import services as account_services
from cases import services
from cases.choices import CaseStatus, FlagKind, Track
from cases.models import Attachment, Case, Flag, LookBackReview, Notification, Referral
from tests.api.conftest import token_client
from tests.factories import World, case_in

S = CaseStatus
_serial = itertools.count()


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200, response.content
    return len(queries)


def _cases(world: World, n: int) -> str:
    for _ in range(n):
        case = case_in(world, S.INTAKE)
        services.assign_case(case=case, by=world.supervisor, expected_version=None, assignee=world.supervisor)
    return "/api/v1/cases/?page_size=100"


def _case_with(world: World, n: int, add: Callable[[World, Case, int], None], tail: str) -> str:
    case = getattr(world, "_listed", None)
    if case is None:
        case = world._listed = case_in(world, S.SUPERVISION)  # type: ignore[attr-defined]
    for _ in range(n):
        add(world, case, next(_serial))
    return f"/api/v1/cases/{case.pk}/{tail}"


def _officer(world: World, case: Case, i: int) -> None:
    services.add_involved_officer(case=case, by=world.supervisor, name=f"民警{i}", medical_notes="x")


def _suspect(world: World, case: Case, i: int) -> None:
    services.add_suspect(case=case, by=world.supervisor, name=f"嫌疑人{i}", id_number=f"33010619900101{i:04d}")


def _referral(world: World, case: Case, i: int) -> None:
    # Referrals come from the refer action, one per case; rows are enough to measure the list.
    now = timezone.now()
    Referral.objects.create(
        case=case,
        to_unit=world.other_station,
        track=Track.CRIMINAL,
        referred_by=world.supervisor,
        referred_at=now,
        due_at=now + timedelta(days=7),
        closed_at=now,
    )


def _support(world: World, case: Case, i: int) -> None:
    services.record_support_measure(case=case, by=world.supervisor, kind="comfort_visit", officer=case.officers.first())


def _finding(world: World, case: Case, i: int) -> None:
    services.raise_finding(case=case, by=world.supervisor, problem="protracted", detail=f"#{i}")


def _review(world: World, case: Case, i: int) -> None:
    now = timezone.now()
    LookBackReview.objects.create(
        case=case, campaign_year=2000 + i, reviewer=world.supervisor, started_at=now, finished_at=now, verdict="upheld"
    )


def _attachment(world: World, case: Case, i: int) -> None:
    Attachment.objects.create(
        case=case,
        original_name=f"{i}.jpg",
        stored_name=f"{i:032x}",
        content_type="image/jpeg",
        size=1,
        sha256="0" * 64,
        uploaded_by=world.officer,
        uploaded_at=timezone.now(),
    )


def _event(world: World, case: Case, i: int) -> None:
    services.add_note(case=case, by=world.supervisor, text=f"note {i}")


def _flags(world: World, n: int) -> str:
    for i in (next(_serial) for _ in range(n)):
        case = case_in(world, S.INTAKE)
        services.acknowledge_flag(
            flag=Flag.objects.create(case=case, kind=FlagKind.IDLE, rule_code=f"I{i}", raised_at=timezone.now()),
            by=world.supervisor,
        )
    return "/api/v1/flags/?page_size=100"


def _units(world: World, n: int) -> str:
    for i in (next(_serial) for _ in range(n)):
        account_services.create_org_unit(
            code=f"3301060{i:02d}9", name=f"派出所{i}", level="station", parent=world.county
        )
    return "/api/v1/units/?page_size=100"


def _notifications(world: World, n: int) -> str:
    case = case_in(world, S.INTAKE)
    for i in range(n):
        Notification.objects.create(recipient=world.supervisor, case=case, verb=f"#{i}", created_at=timezone.now())
    return "/api/v1/notifications/?page_size=100"


# name → (rows builder, exact query count). The token's check (the token, its user and their grants) comes from the
# cache after a terminal's first request (accounts/tokens.py; test_a_terminal_s_first_request_reads_its_token_and_grants
# below); then for a nested list the case and the rows; lists reveal nothing, so they write no access-log entry
# (cases/sensitive.py). Every read of visible cases also reads the ids of the cases listing the caller as a victim
# (cases/policy.py).
LISTS: dict[str, tuple[Callable[[World, int], str], int]] = {
    "cases": (_cases, 2),  # the ids of the cases listing the caller, the page
    "officers": (lambda w, n: _case_with(w, n, _officer, "officers/"), 3),
    "suspects": (lambda w, n: _case_with(w, n, _suspect, "suspects/"), 3),
    "referrals": (lambda w, n: _case_with(w, n, _referral, "referrals/"), 3),
    "support": (lambda w, n: _case_with(w, n, _support, "support/"), 3),
    "findings": (lambda w, n: _case_with(w, n, _finding, "findings/"), 3),
    "reviews": (lambda w, n: _case_with(w, n, _review, "reviews/"), 3),
    "attachments": (lambda w, n: _case_with(w, n, _attachment, "attachments/"), 3),
    "events": (lambda w, n: _case_with(w, n, _event, "events/?page_size=100"), 3),
    "flags": (_flags, 2),
    "units": (_units, 2),  # the units read the caller's grants themselves (accounts/selectors.py units_visible_to)
    "notifications": (_notifications, 1),
}


@pytest.mark.parametrize("name", list(LISTS))
def test_list_queries_do_not_grow_with_rows(world, name):
    build, expected = LISTS[name]
    client = token_client(world.supervisor)
    url = build(world, 2)
    assert client.get(url).status_code == 200  # the terminal's first request: its token's check is then cached
    assert count_queries(client, url) == expected
    build(world, 18)
    rows = client.get(url).json()
    assert len(rows["results"] if isinstance(rows, dict) else rows) >= 20
    assert count_queries(client, url) == expected


def test_a_terminal_s_first_request_reads_its_token_and_grants_and_the_next_reads_neither(world):
    client = token_client(world.supervisor)
    url = _cases(world, 2)
    assert count_queries(client, url) == 2 + 2  # the token with its user, their grants; then the list's two
    assert count_queries(client, url) == 2
