"""The access log records reads, downloads and refusals, and nobody can rewrite it."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from cases.choices import AccessAction, CaseStatus
from cases.models import AccessLog, CaseEvent
from tests.factories import case_in


def test_viewing_a_case_is_logged_with_who_where_and_request_id(client, world):
    case = case_in(world, CaseStatus.INTAKE)
    client.force_login(world.supervisor)
    response = client.get(reverse("cases:detail", args=[case.pk]), REMOTE_ADDR="10.1.2.3")
    entry = AccessLog.objects.get()
    assert (entry.user, entry.case, entry.action, entry.object_ref, entry.outcome, entry.source_ip) == (
        world.supervisor,
        case,
        AccessAction.VIEW,
        case.reference,
        "ok",
        "10.1.2.3",
    )
    assert entry.request_id == response["X-Request-ID"]
    assert len(entry.request_id) == 32


def test_an_invisible_case_is_logged_as_denied(client, world):
    case = case_in(world, CaseStatus.INTAKE)
    client.force_login(world.sibling_supervisor)
    assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    entry = AccessLog.objects.get()
    assert (entry.user, entry.case, entry.action, entry.object_ref, entry.outcome) == (
        world.sibling_supervisor,
        None,
        AccessAction.DENIED,
        f"case:{case.pk}",
        "not_found",
    )


def test_a_forbidden_action_is_logged(client, world):
    case = case_in(world, CaseStatus.INTAKE)
    client.force_login(world.officer)
    url = reverse("cases:action", args=[case.pk, "refer"])
    assert client.post(url, {"refer-version": case.version}).status_code == 403
    assert list(AccessLog.objects.values_list("action", "object_ref", "outcome")) == [
        (AccessAction.DENIED, url, "forbidden")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_to_change_the_audit_trail(postgres_only, world):
    case = case_in(world, CaseStatus.INTAKE)
    AccessLog.objects.create(user=world.officer, action=AccessAction.VIEW, at=case.created_at)
    events = CaseEvent.objects.filter(case=case).count()
    for attempt in (
        lambda: CaseEvent.objects.filter(case=case).update(data={"forged": True}),
        lambda: CaseEvent.objects.filter(case=case).delete(),
        lambda: AccessLog.objects.update(outcome="forged"),
        lambda: AccessLog.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    assert CaseEvent.objects.filter(case=case).count() == events
    assert not CaseEvent.objects.filter(data__forged=True).exists()
    assert list(AccessLog.objects.values_list("outcome", flat=True)) == ["ok"]
    with connection.cursor() as cursor, pytest.raises(DatabaseError), transaction.atomic():
        cursor.execute("DELETE FROM cases_accesslog")
