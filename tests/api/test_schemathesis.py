"""Property-based API testing against the live schema (schemathesis), in process, once as a supervisor handling
cases and once as the officer who filed them.

Every check runs: server errors, status codes, content types, response headers and bodies against the schema,
invalid data rejected, authentication enforced (with and without a token), unsupported methods refused.
``positive_data_acceptance`` runs with the refusals the API documents for schema-valid input (400 from a service
rule, 403, 404, 409, 412, 422) counted as expected: the workflow may refuse well-formed input, by design; and 304,
which the guidance API documents for a conditional GET whose copy is still current.

Phases: the coverage phase generates the negative boundary cases deterministically (every wrong type, value out
of range, missing required field, malformed content type, undeclared method); positive and further negative
cases come from the fuzzing phase, 20 per operation and role. Positive coverage cases are left out (with them a
run takes nearly twice as long; such a run also passes). Each role's run is split into shards of the operations
(``SHARDS``), each its own test, so that the test workers share the fuzzing.

Generated path ids are mapped onto the objects created for the role (most of the time), so operations reach real
objects instead of answering 404 throughout: for the supervisor, cases in every status and the handling records
of one of them, an early warning of their county, and guidance tips of their city (a draft, one awaiting approval,
one published); for the officer, drafts and submitted cases of their own,
with their parties and evidence, and records the officer may not see (support measures, findings, flags). Stateful
testing is off: the workflow's own state machine is tested in tests/cases.
"""

import itertools
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.core.parameters import ParameterLocation

from accounts import tokens
from accounts.models import ApiToken, User
from analysis.choices import WarningKind
from cases import evidence, services
from cases.choices import CaseStatus, FindingProblem, FlagKind, SupportKind
from cases.models import Attachment, Flag, InvolvedOfficer, Suspect
from rightsguard.wsgi import application
from tests.analysis.warnings_dataset import a_warning
from tests.api.conftest import upload
from tests.factories import World, add_convicted_suspect, case_in, draft
from tests.library.tipkit import draft_tip, published_tip, submitted_tip

# Filled by the fixture, read by the hooks: ids of the objects generated requests should reach, and the token.
TARGETS: dict[str, list[int]] = {}
TOKEN: dict[str, Any] = {}

# Segment before "{id}" → kind of object the id names.
_ID_KINDS = {kind: kind for kind in ("officers", "suspects", "support", "findings", "attachments", "flags", "warnings")}


def _pool(path: str, name: str) -> list[int]:
    """The ids of the objects the path parameter ``name`` of the operation at ``path`` may name."""
    segments = path.strip("/").split("/")
    if name == "case_pk" or (segments[-1] == "{id}" and segments[-2] == "cases"):
        return TARGETS.get("cases", [])
    if segments[:4] == ["api", "v1", "guidance", "manage"] and name == "id":  # the tips' editors' API
        return TARGETS.get("tips", [])
    if "{id}" not in segments:  # the campaign API's paths name their objects otherwise (campaign_pk, item_pk)
        return []
    kind = _ID_KINDS.get(segments[segments.index("{id}") - 1])
    return TARGETS.get(kind, []) if kind else []


@schemathesis.hook
def map_path_parameters(context: schemathesis.HookContext, path_parameters: dict[str, Any]) -> dict[str, Any]:
    if not TARGETS or not path_parameters or context.operation is None:
        return path_parameters
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        # Leave some ids alone (404s are part of the contract) and never touch invalid (non-integer) values.
        if not isinstance(value, int) or isinstance(value, bool) or value % 5 == 0:
            continue
        if pool := _pool(context.operation.path, name):
            mapped[name] = pool[value % len(pool)]
    return mapped


_coverage_calls = itertools.count()


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
    # DELETE /auth/token/ (and /auth/tokens/{id}/) is fuzzed too; put the same token back so the calls after it stay
    # authenticated.
    if TOKEN:
        ApiToken.objects.get_or_create(key_hash=tokens.hash_key(TOKEN["key"]), defaults=TOKEN["row"])
    # The coverage phase builds its negative cases on a template whose path ids are invalid too ("0.5"), so a case
    # aimed at the body, the query or a header would stop at the URL (404) and never reach the view. Point such a
    # case's ids at real objects; cases aimed at the path itself keep their invalid ids.
    phase = case.meta.phase if case.meta is not None else None
    if not TARGETS or phase is None or phase.name != "coverage" or not case.path_parameters:
        return
    if phase.data.parameter_location == ParameterLocation.PATH:
        return
    turn = next(_coverage_calls)
    for name, value in list(case.path_parameters.items()):
        if isinstance(value, str) and (pool := _pool(case.operation.path, name)):
            case.path_parameters[name] = pool[turn % len(pool)]


def _supervisor_targets(world: World) -> dict[str, list[int]]:
    """Cases in every status the supervisor handles, and the handling records of one of them."""
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
    return {
        "cases": [c.pk for c in cases],
        "tips": _tips(world),
        "warnings": [a_warning(WarningKind.UNIT_RISE, world.county).pk],
        "officers": list(handled.officers.values_list("pk", flat=True)),
        "suspects": list(handled.suspects.values_list("pk", flat=True)),
        "support": list(handled.support_measures.values_list("pk", flat=True)),
        "findings": list(handled.findings.values_list("pk", flat=True)),
        "attachments": list(handled.attachments.values_list("pk", flat=True)),
        "flags": list(Flag.objects.values_list("pk", flat=True)),
    }


def _tips(world: World) -> list[int]:
    """Guidance tips of the city the supervisor manages: a draft, one awaiting approval, one published."""
    return [draft_tip(world).pk, submitted_tip(world).pk, published_tip(world).pk]


def _officer_targets(world: World) -> dict[str, list[int]]:
    """The officer's own drafts (which they may still edit) and submitted cases (which they may only add to), with
    their parties and evidence; the submitted case under supervision also has records only supervisors see."""
    off, sup = world.officer, world.supervisor
    drafts = [draft(world), draft(world, location="杭州市西湖区灵隐路")]
    submitted = [case_in(world, CaseStatus.INTAKE), case_in(world, CaseStatus.SUPERVISION)]
    services.add_suspect(case=drafts[0], by=off, name="王某")
    services.add_involved_officer(case=drafts[0], by=off, name="赵某")
    for case in (drafts[0], submitted[0]):
        stored = evidence.validate_and_store(upload())
        services.record_attachment(case=case, by=off, **stored.attachment_fields())
    handled = submitted[1]
    add_convicted_suspect(world, handled)
    services.record_support_measure(case=handled, by=sup, kind=SupportKind.COMFORT_VISIT)
    services.raise_finding(case=handled, by=sup, problem=FindingProblem.PROTRACTED, detail="No progress for 40 days")
    Flag.objects.create(case=handled, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    cases = [*drafts, *submitted]
    return {
        "cases": [c.pk for c in cases],
        "officers": list(InvolvedOfficer.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "suspects": list(Suspect.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "support": list(handled.support_measures.values_list("pk", flat=True)),
        "findings": list(handled.findings.values_list("pk", flat=True)),
        "attachments": list(Attachment.objects.filter(case__in=cases).values_list("pk", flat=True)),
        "flags": list(Flag.objects.values_list("pk", flat=True)),
    }


def _integration_targets(world: World) -> dict[str, list[int]]:
    """The city's 110 dispatch system (an integration account): it calls the import and nothing else, so its run is
    the import's operation alone, with the bodies the fuzzer makes (every other operation answers it 403, proven
    route by route by tests/security/test_url_walk.py)."""
    from integrations.services.accounts import create_integration_account

    create_integration_account(username="hz110", name="杭州市110接处警系统", unit=world.city)
    return {}


# Role (a user of the world) → the objects its run should reach.
ROLES = {"supervisor": _supervisor_targets, "officer": _officer_targets, "integration": _integration_targets}
# The integration account's run is the operations made for it, in one shard.
INTEGRATION_PATHS = ("/api/v1/incidents/",)

# Each role's run is split into this many shards, every operation in exactly one (round robin over the schema's
# operations in order), so that parallel test workers share the fuzzing instead of one worker running it all.
SHARDS = 6


SHARD: dict[str, Any] = {}  # the current shard and each operation's place in the schema, set by the fixture


def _in_shard(ctx: Any) -> bool:
    """Whether the operation belongs to the current shard. An operation missing from the schema's list fails the
    test (KeyError) rather than going untested."""
    index = SHARD["index"][(ctx.operation.method.upper(), ctx.operation.path)]
    if SHARD["role"] == "integration":
        return ctx.operation.path.startswith(INTEGRATION_PATHS)
    return index % SHARDS == SHARD["shard"]


def _operation_index(schema: Any) -> dict[tuple[str, str], int]:
    methods = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
    paths = schema.raw_schema["paths"]
    order = [(method.upper(), path) for path, item in paths.items() for method in item if method in methods]
    return {operation: i for i, operation in enumerate(order)}


@pytest.fixture(
    params=[(role, shard) for role in ROLES for shard in range(1 if role == "integration" else SHARDS)],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def api_schema(request, world, settings):
    # schemathesis calls the WSGI application as host "localhost".
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    role, shard = request.param
    targets = ROLES[role](world)
    user = User.objects.get(username="hz110") if role == "integration" else getattr(world, role)
    TARGETS.clear()
    TARGETS.update(targets)
    token, key = tokens.issue_token(user=user, name="schemathesis", mfa_verified=True)
    row = ("user_id", "name", "mfa_verified", "password_fingerprint", "created_at", "last_used_at")
    TOKEN.update(key=key, row={field: getattr(token, field) for field in row})
    config = schemathesis.Config.from_dict(
        {
            "auth": {"openapi": {"tokenAuth": {"api_key": f"Token {key}"}}},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "304", "400", "401", "403", "404", "409", "412", "422"]
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
        # The schema itself is not for an integration account (403): its run reads it with a person's token.
        reader = (
            key
            if role != "integration"
            else tokens.issue_token(user=world.supervisor, name="schema", mfa_verified=True)[1]
        )
        schema = schemathesis.openapi.from_wsgi(
            "/api/v1/schema/", application, headers={"Authorization": f"Token {reader}"}, config=config
        )
        SHARD.update(shard=shard, role=role, index=_operation_index(schema))
        yield schema
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        TARGETS.clear()
        TOKEN.clear()
        SHARD.clear()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32's fixture-loaded schemas read ``Node._nodeid``, which pytest 9 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema").include(_in_shard)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_api_conforms_to_its_schema(case):
    case.call_and_validate()
