"""Row locks under real concurrency (PostgreSQL): numbers never repeat or skip, and one action wins."""

import threading
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from cases import services
from cases.exceptions import IllegalTransition, StaleVersion
from cases.models import Case, CaseEvent
from tests.factories import complete_details, draft

THREADS = 8


def in_threads(work, count: int = THREADS) -> list:
    """Run ``work(i)`` in ``count`` threads released together; return results or exceptions."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[i] = work(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_references_are_unique_and_gap_free_under_concurrent_creation(postgres_only, world, monkeypatch):
    # A fixed clock (seen by every thread): drafts filed across midnight on 31 December would be numbered in two years.
    at = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr("django.utils.timezone.now", lambda: at)
    per_thread = 5

    def create(_i: int) -> list[str]:
        return [
            services.create_draft_case(by=world.officer, unit=world.station, details=complete_details()).reference
            for _ in range(per_thread)
        ]

    results = in_threads(create)
    assert [r for r in results if isinstance(r, Exception)] == []
    refs = sorted(ref for batch in results for ref in batch)
    assert refs == [f"RG-2026-{n:06d}" for n in range(1, THREADS * per_thread + 1)]
    assert Case.objects.count() == THREADS * per_thread


@pytest.mark.django_db(transaction=True)
def test_conflicting_actions_on_one_case_have_exactly_one_winner(postgres_only, world):
    case = draft(world)
    version = case.version

    def submit(_i: int) -> Case:
        return services.submit_case(case=Case.objects.get(pk=case.pk), by=world.officer, expected_version=version)

    results = in_threads(submit)
    outcomes = Counter(type(r).__name__ for r in results)
    assert outcomes == Counter({"Case": 1, "StaleVersion": THREADS - 1})
    assert all(isinstance(r, Case | StaleVersion) for r in results)
    assert CaseEvent.objects.filter(case=case, action="submit").count() == 1
    assert Case.objects.get(pk=case.pk).version == version + 1


@pytest.mark.django_db(transaction=True)
def test_racing_withdraw_and_submit_without_versions_leave_one_legal_outcome(postgres_only, world):
    case = draft(world)

    def act(i: int):
        fresh = Case.objects.get(pk=case.pk)
        if i % 2:
            return services.submit_case(case=fresh, by=world.officer, expected_version=None)
        return services.withdraw_case(case=fresh, by=world.officer, expected_version=None, reason="race")

    results = in_threads(act, count=4)
    errors = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(e, IllegalTransition | ValidationError) for e in errors)
    final = Case.objects.get(pk=case.pk)
    transitions = list(CaseEvent.objects.filter(case=case, kind="transition").values_list("action", flat=True))
    # Either submit then withdraw (intake allows withdraw), or withdraw alone; never two submits.
    assert transitions.count("submit") <= 1
    assert transitions.count("withdraw") == 1
    assert final.status == "withdrawn"
    assert len(transitions) == final.version - case.version
