"""One lifecycle per support measure: the officer's request, the office's answer, the delivery; in the service, the
database, the API, the timeline and the officer's notifications; and the migration of the records made before."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from cases import services
from cases.choices import CaseStatus, EventKind, SupportKind, SupportStatus
from cases.models import Case, CaseEvent, Notification, SupportMeasure
from cases.services.support_requests import answer_support_request, set_requested_support
from tests.api.conftest import token_client
from tests.factories import case_in, draft

pytestmark = pytest.mark.django_db


def requested(world, kind=SupportKind.GREEN_CHANNEL, notes="左腿受伤") -> SupportMeasure:
    case = draft(world)
    set_requested_support(case=case, by=world.officer, kinds=[kind], notes=notes)
    case.refresh_from_db()
    services.submit_case(case=case, by=world.officer, expected_version=case.version)
    return SupportMeasure.objects.get(case=case)


def state(measure: SupportMeasure) -> tuple:
    m = SupportMeasure.objects.get(pk=measure.pk)
    return (m.status, m.decided_at, m.decided_by_id, m.decision_reason, m.provider, m.delivered_on)


def test_a_request_records_when_and_by_whom(world):
    measure = requested(world)
    assert (measure.status, measure.requested_by_id, measure.notes) == (
        SupportStatus.REQUESTED,
        world.officer.pk,
        "左腿受伤",
    )
    assert measure.requested_at is not None


def test_approve_then_deliver_is_one_record_with_its_dates_and_provider(world, django_capture_on_commit_callbacks):
    measure = requested(world)
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(measure=measure, by=world.supervisor, answer="approve", reason="同意")
    measure.refresh_from_db()
    assert (measure.status, measure.decided_by_id, measure.decision_reason) == (
        SupportStatus.APPROVED,
        world.supervisor.pk,
        "同意",
    )
    decided_at = measure.decided_at
    day = timezone.localdate() - timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        answer_support_request(
            measure=measure, by=world.supervisor, answer="deliver", provider="西湖区人民医院", delivered_on=day
        )
    assert state(measure) == (SupportStatus.DELIVERED, decided_at, world.supervisor.pk, "同意", "西湖区人民医院", day)
    assert SupportMeasure.objects.filter(case=measure.case).count() == 1
    answers = [e.data for e in CaseEvent.objects.filter(case=measure.case, kind=EventKind.SUPPORT).order_by("id")][-2:]
    assert [(d["answer"], d["from"], d["status"]) for d in answers] == [
        ("approve", "requested", "approved"),
        ("deliver", "approved", "delivered"),
    ]
    ref = measure.case.reference
    assert list(
        Notification.objects.filter(recipient=world.officer, case=measure.case)
        .order_by("id")
        .values_list("verb", flat=True)
    )[-2:] == [
        f"{world.supervisor.full_name} approved the support request “Green-channel emergency medical care” in {ref} "
        "(reason: “同意”) — the office arranges it.",
        f"{world.supervisor.full_name} recorded the support “Green-channel emergency medical care” in {ref} as "
        f"delivered by 西湖区人民医院 on {day.day} {day:%b %Y} — tell the office if it did not reach you.",
    ]


def test_declining_needs_a_reason_and_is_final(world):
    measure = requested(world)
    before = state(measure)
    with pytest.raises(ValidationError) as refused:
        answer_support_request(measure=measure, by=world.supervisor, answer="decline", reason="  ")
    assert refused.value.message_dict == {"reason": ["Say why the request is declined: the officer reads it."]}
    assert state(measure) == before
    answer_support_request(measure=measure, by=world.supervisor, answer="decline", reason="已由保险公司承担")
    assert state(measure)[0] == SupportStatus.REFUSED
    for answer in ("approve", "deliver"):
        with pytest.raises(ValidationError) as late:
            answer_support_request(
                measure=measure,
                by=world.supervisor,
                answer=answer,
                provider="某医院",
                delivered_on=timezone.localdate(),
            )
        assert list(late.value.message_dict) == ["answer"]
    assert state(measure)[0] == SupportStatus.REFUSED


def test_delivery_needs_provider_and_a_past_date(world):
    measure = requested(world)
    before = state(measure)
    with pytest.raises(ValidationError) as refused:
        answer_support_request(
            measure=measure, by=world.supervisor, answer="deliver", delivered_on=timezone.localdate() + timedelta(1)
        )
    assert refused.value.message_dict == {
        "provider": ["Say who provided it (a hospital, a legal-aid centre, the office...)."],
        "delivered_on": ["The delivery date cannot be in the future."],
    }
    assert state(measure) == before


@pytest.mark.parametrize("who", ["officer", "admin"])
def test_only_the_office_answers(world, who):
    measure = requested(world)
    before = (state(measure), CaseEvent.objects.count())
    with pytest.raises(PermissionDenied):
        answer_support_request(measure=measure, by=getattr(world, who), answer="approve")
    assert (state(measure), CaseEvent.objects.count()) == before


def test_recording_a_second_measure_for_an_open_request_is_refused(world):
    """The defect: "Green channel — delivered" recorded beside the request left the request requested for ever."""
    measure = requested(world)
    with pytest.raises(ValidationError) as refused:
        services.record_support_measure(
            case=measure.case,
            by=world.supervisor,
            kind=SupportKind.GREEN_CHANNEL,
            status=SupportStatus.DELIVERED,
            delivered_on=timezone.localdate(),
        )
    assert list(refused.value.message_dict) == ["kind"]
    assert SupportMeasure.objects.filter(case=measure.case).count() == 1


def test_the_generic_update_cannot_skip_the_answer_or_go_backwards(world):
    measure = requested(world)
    with pytest.raises(ValidationError):
        services.update_support_measure(measure=measure, by=world.supervisor, status=SupportStatus.OFFERED)
    offered = services.record_support_measure(case=measure.case, by=world.supervisor, kind=SupportKind.COMFORT_VISIT)
    services.update_support_measure(
        measure=offered, by=world.supervisor, status=SupportStatus.DELIVERED, delivered_on=timezone.localdate()
    )
    with pytest.raises(ValidationError) as backwards:
        services.update_support_measure(measure=offered, by=world.supervisor, status=SupportStatus.IN_PROGRESS)
    assert list(backwards.value.message_dict) == ["status"]
    assert SupportMeasure.objects.get(pk=offered.pk).status == SupportStatus.DELIVERED


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"status": SupportStatus.REQUESTED, "requested_at": None}, "support_request_unanswered"),
        ({"status": SupportStatus.APPROVED, "decided_at": None}, "support_answer_has_request"),
        ({"status": SupportStatus.REFUSED, "decided_at": "now", "decision_reason": ""}, "support_refusal_has_reason"),
        ({"status": SupportStatus.DELIVERED, "delivered_on": None}, "support_delivered_has_date"),
    ],
)
def test_the_database_refuses_an_unreachable_state(world, changes, constraint):
    measure = requested(world)
    values = {k: (timezone.now() if v == "now" else v) for k, v in changes.items()}
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        SupportMeasure.objects.filter(pk=measure.pk).update(**values)


def test_the_database_refuses_a_second_open_request_of_a_kind(world):
    measure = requested(world)
    with pytest.raises(IntegrityError, match="support_one_open_request_per_kind"), transaction.atomic():
        SupportMeasure.objects.create(
            case=measure.case,
            kind=measure.kind,
            status=SupportStatus.REQUESTED,
            requested_at=timezone.now(),
            recorded_by=world.officer,
        )


# --- the API ----------------------------------------------------------------------------------------------------


def test_the_api_answers_and_the_officer_reads_the_answer(world):
    measure = requested(world)
    url = f"/api/v1/cases/{measure.case_id}/support/{measure.pk}/answer/"
    refused = token_client(world.supervisor).post(url, {"answer": "decline"}, format="json")
    assert (refused.status_code, refused.json()["errors"]) == (
        400,
        {"reason": ["Say why the request is declined: the officer reads it."]},
    )
    assert state(measure)[0] == SupportStatus.REQUESTED
    done = token_client(world.supervisor).post(url, {"answer": "decline", "reason": "重复申请"}, format="json")
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["decision_reason"], done.json()["decided_by"]) == (
        "refused",
        "重复申请",
        world.supervisor.pk,
    )
    by_officer = token_client(world.officer).get(f"/api/v1/cases/{measure.case_id}/support/{measure.pk}/").json()
    assert (by_officer["status"], by_officer["decision_reason"], by_officer["requested_by"]) == (
        "refused",
        "重复申请",
        world.officer.pk,
    )
    denied = token_client(world.officer).post(url, {"answer": "approve"}, format="json")
    assert denied.status_code == 403
    assert state(measure)[0] == SupportStatus.REFUSED


def test_the_api_refuses_a_stale_version(world):
    measure = requested(world)
    url = f"/api/v1/cases/{measure.case_id}/support/{measure.pk}/answer/"
    response = token_client(world.supervisor).post(url, {"answer": "approve", "version": 1}, format="json")
    assert response.status_code == 412
    assert state(measure)[0] == SupportStatus.REQUESTED


# --- the migration of earlier records ----------------------------------------------------------------------------

MIGRATION = ("cases", "0021_support_lifecycle")


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_a_request_with_the_offices_later_record(world):
    executor = MigrationExecutor(connection)
    (before,) = [p for p in executor.loader.graph.node_map[MIGRATION].parents if p.key[0] == "cases"]
    case = case_in(world, CaseStatus.INTAKE)
    other = case_in(world, CaseStatus.INTAKE)
    executor.migrate([before.key])
    try:
        old = executor.loader.project_state([before.key]).apps
        Old = old.get_model("cases", "SupportMeasure")
        request = Old.objects.create(
            case_id=case.pk, kind="green_channel", status="requested", notes="左腿受伤", recorded_by_id=world.officer.pk
        )
        answer = Old.objects.create(
            case_id=case.pk, kind="green_channel", status="delivered", recorded_by_id=world.supervisor.pk
        )
        Old.objects.filter(pk=answer.pk).update(delivered_on=None)
        waiting = Old.objects.create(
            case_id=other.pk, kind="legal_service", status="requested", recorded_by_id=world.officer.pk
        )
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert not SupportMeasure.objects.filter(pk=request.pk).exists()
    merged = SupportMeasure.objects.get(pk=answer.pk)
    assert (merged.status, merged.requested_by_id, merged.decided_by_id, merged.notes) == (
        "delivered",
        world.officer.pk,
        world.supervisor.pk,
        "左腿受伤",
    )
    assert None not in (merged.requested_at, merged.decided_at, merged.delivered_on)
    kept = SupportMeasure.objects.get(pk=waiting.pk)
    assert (kept.status, kept.requested_by_id, kept.decided_at) == ("requested", world.officer.pk, None)
    assert kept.requested_at == kept.created_at
    assert Case.objects.filter(pk__in=[case.pk, other.pk]).count() == 2
