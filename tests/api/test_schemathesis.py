"""Property-based API testing against the live schema (schemathesis), in process, as a supervisor with cases.

Every check runs: server errors, status codes, content types, response headers and bodies against the schema,
invalid data rejected, authentication enforced (with and without a token), unsupported methods refused.
``positive_data_acceptance`` runs with the refusals the API documents for schema-valid input (400 from a service
rule, 403, 404, 409, 412, 422) counted as expected: the workflow may refuse well-formed input, by design.

Phases: the coverage phase generates the negative boundary cases deterministically (every wrong type, value out
of range, missing required field, malformed content type, undeclared method); positive and further negative
cases come from the fuzzing phase, 20 per operation. Positive coverage cases are left out to keep the run near
a minute and a half on two cores (with them the run takes nearly twice as long; such a run also passes).

Generated path ids are mapped onto the objects created here (most of the time), so operations reach real cases
in every status instead of answering 404 throughout. Stateful testing is off: the workflow's own state machine
is tested in tests/cases.
"""

from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings

from accounts import tokens
from accounts.models import ApiToken
from cases import services
from cases.api import evidence
from cases.choices import CaseStatus, FindingProblem, FlagKind, SupportKind
from cases.models import Flag
from rightsguard.wsgi import application
from tests.api.conftest import upload
from tests.factories import add_convicted_suspect, case_in

# Filled by the fixture, read by the hooks: ids of the objects generated requests should reach, and the token.
TARGETS: dict[str, list[int]] = {}
TOKEN: dict[str, Any] = {}

# Segment before "{id}" → kind of object the id names.
_ID_KINDS = {kind: kind for kind in ("officers", "suspects", "support", "findings", "attachments", "flags")}


@schemathesis.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> dict[str, Any]:
    if not TARGETS or not path_parameters or context.operation is None:
        return path_parameters
    mapped = dict(path_parameters)
    segments = context.operation.path.strip("/").split("/")
    for name, value in path_parameters.items():
        # Leave some ids alone (404s are part of the contract) and never touch invalid (non-integer) values.
        if not isinstance(value, int) or isinstance(value, bool) or value % 5 == 0:
            continue
        if name == "case_pk" or (segments[-1] == "{id}" and segments[-2] == "cases"):
            pool = TARGETS["cases"]
        else:
            kind = _ID_KINDS.get(segments[segments.index("{id}") - 1])
            pool = TARGETS.get(kind, []) if kind else []
        if pool:
            mapped[name] = pool[value % len(pool)]
    return mapped


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    # DELETE /auth/token/ (and /auth/tokens/{id}/) is fuzzed too; put the same token back so the calls after it stay
    # authenticated.
    if TOKEN:
        ApiToken.objects.get_or_create(key_hash=tokens.hash_key(TOKEN["key"]), defaults=TOKEN["row"])


@pytest.fixture
def api_schema(world, settings):
    # schemathesis calls the WSGI application as host "localhost".
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    sup = world.supervisor
    cases = [case_in(world, status) for status in (CaseStatus.INTAKE, CaseStatus.REFERRED, CaseStatus.SUPERVISION)]
    cases += [case_in(world, CaseStatus.LOOK_BACK), case_in(world, CaseStatus.CLOSED)]
    handled = cases[2]
    add_convicted_suspect(world, handled)
    services.add_suspect(case=handled, by=sup, name="李某", id_number="330106199001011234")
    services.record_support_measure(case=handled, by=sup, kind=SupportKind.COMFORT_VISIT)
    services.raise_finding(case=handled, by=sup, problem=FindingProblem.PROTRACTED, detail="No progress for 40 days")
    stored = evidence.validate_and_store(upload())
    services.record_attachment(case=handled, by=sup, **stored.attachment_fields())
    Flag.objects.create(case=handled, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    TARGETS.clear()
    TARGETS.update(
        cases=[c.pk for c in cases],
        officers=list(handled.officers.values_list("pk", flat=True)),
        suspects=list(handled.suspects.values_list("pk", flat=True)),
        support=list(handled.support_measures.values_list("pk", flat=True)),
        findings=list(handled.findings.values_list("pk", flat=True)),
        attachments=list(handled.attachments.values_list("pk", flat=True)),
        flags=list(Flag.objects.values_list("pk", flat=True)),
    )
    token, key = tokens.issue_token(user=sup, name="schemathesis", mfa_verified=True)
    row = ("user_id", "name", "mfa_verified", "password_fingerprint", "created_at", "last_used_at")
    TOKEN.update(key=key, row={field: getattr(token, field) for field in row})
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {key}"}}},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "412", "422"]
                }
            },
            "phases": {"stateful": {"enabled": False}, "coverage": {"generation": {"mode": "negative"}}},
        }
    )
    # The WSGI application is called directly, not through Django's test client: keep it, as the client does, from
    # closing the test's connection (and its transaction) at the start and end of every request.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi(
            "/api/v1/schema/", application, headers={"Authorization": f"Token {key}"}, config=config
        )
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        TARGETS.clear()
        TOKEN.clear()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32's fixture-loaded schemas read ``Node._nodeid``, which pytest 9 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
