"""Role × endpoint matrix: the exact status every kind of caller gets from every endpoint, on a case filed by
an officer of a station (and that officer's draft), and that a refused request changes nothing.

Roles: the filing officer; an officer of a neighbouring station; the city supervisor (the case is in their
subtree); a supervisor of another province; the ministry supervisor (an ancestor); the province administrator;
no credentials; and a city supervisor whose account was deactivated after getting a token.

Each endpoint is one test: the objects are built once, every role's request runs in a savepoint that is rolled
back, and the whole row is compared at once so a failure shows every wrong cell.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import ApiToken, Role
from cases import evidence
from cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseLink,
    CaseMerge,
    FaultFinding,
    Flag,
    IdempotencyRecord,
    InvolvedOfficer,
    LookBackReview,
    Notification,
    Referral,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from tests.api.conftest import Objects, build_objects, stored_files, token_client, upload
from tests.factories import World, member

ROLES = ("owner", "other_officer", "supervisor", "sibling_supervisor", "ancestor", "admin", "anonymous", "deactivated")
WORLD_ATTRIBUTE = {
    "owner": "officer",
    "other_officer": "other_officer",
    "supervisor": "supervisor",
    "sibling_supervisor": "sibling_supervisor",
    "ancestor": "ministry_supervisor",
    "admin": "admin",
}


@dataclass
class Call:
    method: str
    url: Callable[[Objects], str]
    data: Callable[[World, Objects], Any] = field(default=lambda w, o: None)
    multipart: bool = False


C = "/api/v1/cases"
ENDPOINTS: dict[str, Call] = {
    "cases-list": Call("get", lambda o: f"{C}/"),
    "case-create": Call("post", lambda o: f"{C}/", lambda w, o: {"unit": w.station.pk, "kind": "threat"}),
    "case-detail": Call("get", lambda o: f"{C}/{o.case.pk}/"),
    "draft-patch": Call("patch", lambda o: f"{C}/{o.draft.pk}/", lambda w, o: {"summary": "更正"}),
    "open-case-patch": Call("patch", lambda o: f"{C}/{o.case.pk}/", lambda w, o: {"summary": "更正"}),
    "action-submit": Call("post", lambda o: f"{C}/{o.draft.pk}/actions/submit/"),
    "action-refer": Call(
        "post",
        lambda o: f"{C}/{o.case.pk}/actions/refer/",
        lambda w, o: {"track": "criminal", "to_unit": w.county.pk, "version": o.case.version},
    ),
    "action-withdraw": Call("post", lambda o: f"{C}/{o.case.pk}/actions/withdraw/", lambda w, o: {"reason": "重复"}),
    "assignment": Call("post", lambda o: f"{C}/{o.case.pk}/assignment/", lambda w, o: {"assignee": w.supervisor.pk}),
    "clock-pause": Call("post", lambda o: f"{C}/{o.case.pk}/clock/pause/", lambda w, o: {"reason": "other"}),
    "note": Call("post", lambda o: f"{C}/{o.case.pk}/notes/", lambda w, o: {"text": "已电话联系"}),
    "officers": Call("get", lambda o: f"{C}/{o.case.pk}/officers/"),
    "officer-add": Call("post", lambda o: f"{C}/{o.case.pk}/officers/", lambda w, o: {"name": "王警官"}),
    "officer-patch": Call(
        "patch",
        lambda o: f"{C}/{o.case.pk}/officers/{o.case.officers.get().pk}/",
        lambda w, o: {"injury": "minor_2"},
    ),
    "suspects": Call("get", lambda o: f"{C}/{o.case.pk}/suspects/"),
    "suspect-add": Call("post", lambda o: f"{C}/{o.case.pk}/suspects/", lambda w, o: {"name": "李某"}),
    "disposition": Call(
        "post",
        lambda o: f"{C}/{o.case.pk}/suspects/{o.suspect.pk}/disposition/",
        lambda w, o: {"disposition": "admin_fine", "lenient_reason": "forgiveness"},
    ),
    "referrals": Call("get", lambda o: f"{C}/{o.case.pk}/referrals/"),
    "support-add": Call("post", lambda o: f"{C}/{o.case.pk}/support/", lambda w, o: {"kind": "comfort_visit"}),
    "finding-add": Call(
        "post", lambda o: f"{C}/{o.case.pk}/findings/", lambda w, o: {"problem": "protracted", "detail": "久拖"}
    ),
    "reviews": Call("get", lambda o: f"{C}/{o.case.pk}/reviews/"),
    "evidence-upload": Call(
        "post", lambda o: f"{C}/{o.case.pk}/attachments/", lambda w, o: {"file": upload()}, multipart=True
    ),
    "evidence-download": Call("get", lambda o: f"{C}/{o.case.pk}/attachments/{o.attachment.pk}/download/"),
    "events": Call("get", lambda o: f"{C}/{o.case.pk}/events/"),
    "flags": Call("get", lambda o: "/api/v1/flags/"),
    "flag-acknowledge": Call("post", lambda o: f"/api/v1/flags/{o.flag.pk}/acknowledge/"),
    "units": Call("get", lambda o: "/api/v1/units/"),
    "me": Call("get", lambda o: "/api/v1/me/"),
    "notifications": Call("get", lambda o: "/api/v1/notifications/"),
    "yearly-report": Call("get", lambda o: f"/api/v1/reports/yearly/?year={o.case.occurred_at.year}"),
    "token-revoke": Call("delete", lambda o: "/api/v1/auth/token/"),
}

# Expected status per role, in ROLES order:
#            owner other sup  sibling ancestor admin anon deactivated
EXPECTED: dict[str, tuple[int, ...]] = {
    "cases-list": (200, 200, 200, 200, 200, 200, 401, 401),
    "case-create": (201, 403, 201, 403, 201, 403, 401, 401),
    "case-detail": (200, 404, 200, 404, 200, 200, 401, 401),
    "draft-patch": (200, 404, 404, 404, 404, 404, 401, 401),  # drafts are private to their filer
    "open-case-patch": (403, 404, 200, 404, 200, 403, 401, 401),
    "action-submit": (200, 404, 404, 404, 404, 404, 401, 401),
    "action-refer": (403, 404, 200, 404, 200, 403, 401, 401),
    "action-withdraw": (200, 404, 403, 404, 403, 403, 401, 401),
    "assignment": (403, 404, 200, 404, 200, 403, 401, 401),
    "clock-pause": (403, 404, 200, 404, 200, 403, 401, 401),
    "note": (200, 404, 200, 404, 200, 403, 401, 401),
    "officers": (200, 404, 200, 404, 200, 200, 401, 401),
    "officer-add": (403, 404, 201, 404, 201, 403, 401, 401),
    "officer-patch": (403, 404, 200, 404, 200, 403, 401, 401),
    "suspects": (200, 404, 200, 404, 200, 200, 401, 401),
    "suspect-add": (403, 404, 201, 404, 201, 403, 401, 401),
    "disposition": (403, 404, 200, 404, 200, 403, 401, 401),
    "referrals": (200, 404, 200, 404, 200, 200, 401, 401),
    "support-add": (403, 404, 201, 404, 201, 403, 401, 401),
    "finding-add": (403, 404, 201, 404, 201, 403, 401, 401),
    "reviews": (403, 404, 200, 404, 200, 200, 401, 401),
    "evidence-upload": (201, 404, 201, 404, 201, 403, 401, 401),
    "evidence-download": (200, 404, 200, 404, 200, 200, 401, 401),
    "events": (200, 404, 200, 404, 200, 200, 401, 401),
    "flags": (200, 200, 200, 200, 200, 200, 401, 401),
    "flag-acknowledge": (404, 404, 200, 404, 200, 403, 401, 401),  # flags are for the office
    "units": (200, 200, 200, 200, 200, 200, 401, 401),
    "me": (200, 200, 200, 200, 200, 200, 401, 401),
    "notifications": (200, 200, 200, 200, 200, 200, 401, 401),
    "yearly-report": (403, 403, 200, 200, 200, 200, 401, 401),
    "token-revoke": (204, 204, 204, 204, 204, 204, 401, 401),
}


def test_the_matrix_covers_every_endpoint_and_role():
    assert set(EXPECTED) == set(ENDPOINTS)
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


def snapshot() -> tuple:
    """Every row a request could write (the access log aside: a refusal is meant to leave its trace there)."""
    models = (
        Case,
        CaseEvent,
        InvolvedOfficer,
        Suspect,
        Referral,
        SupportMeasure,
        SupervisionFinding,
        FaultFinding,
        LookBackReview,
        Flag,
        Attachment,
        Notification,
        IdempotencyRecord,
        ApiToken,
    )
    return (
        tuple(m.objects.count() for m in models),
        tuple(Case.objects.order_by("pk").values_list("pk", "status", "version", "updated_at", "assigned_to_id")),
        tuple(InvolvedOfficer.objects.order_by("pk").values_list("pk", "injury", "name")),
        tuple(Suspect.objects.order_by("pk").values_list("pk", "disposition", "name")),
        tuple(Flag.objects.order_by("pk").values_list("pk", "acknowledged_by_id", "acknowledged_at")),
        tuple(CaseLink.objects.order_by("pk").values_list("low_id", "high_id")),
        tuple(CaseMerge.objects.order_by("pk").values_list("pk", "merged_id", "survivor_id", "unmerged_at")),
        tuple(sorted(stored_files())),
    )


def clients(world: World) -> dict[str, APIClient]:
    deactivated = member(world.city, Role.SUPERVISOR)
    deactivated_client = token_client(deactivated)
    account_services.deactivate_user(user=deactivated)
    made = {role: token_client(getattr(world, attribute)) for role, attribute in WORLD_ATTRIBUTE.items()}
    return {**made, "anonymous": APIClient(), "deactivated": deactivated_client}


def send(client: APIClient, call: Call, world: World, objects: Objects) -> int:
    data = call.data(world, objects)
    options = {"format": "multipart"} if call.multipart else {"format": "json"} if data is not None else {}
    response = getattr(client, call.method)(call.url(objects), data, **options)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response.status_code


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_role_matrix(world, endpoint):
    objects = build_objects(world)
    by_role = clients(world)
    call = ENDPOINTS[endpoint]
    statuses: dict[str, int] = {}
    changed_on_refusal: list[str] = []
    for role in ROLES:
        before_files = stored_files()
        with transaction.atomic():
            before = snapshot()
            statuses[role] = send(by_role[role], call, world, objects)
            if statuses[role] >= 400 and snapshot() != before:
                changed_on_refusal.append(role)
            transaction.set_rollback(True)
        # Files are not rolled back with the database: remove what an accepted upload stored.
        for name in stored_files() - before_files:
            evidence.path_of(name).unlink()
    assert statuses == dict(zip(ROLES, EXPECTED[endpoint], strict=True))
    assert changed_on_refusal == []
