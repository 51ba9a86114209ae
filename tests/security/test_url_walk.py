"""Default deny, proven route by route: every URL pattern of the site is requested with GET, POST, PUT, PATCH and
DELETE by callers who may not use it, and every answer must be a refusal.

The walk iterates the resolver itself (the case pages, accounts, the language switch, the admin site, the API
with its schema, docs and catch-all, the health probes, regular-expression routes included), so a route added
later is walked too. Each pattern becomes a concrete URL whose path arguments name real objects (a case under
supervision, its involved officer, suspect, evidence, support measure and finding, the filer's draft, a flag,
a saved queue filter, a report export, an authenticator); the URL must resolve back to the same pattern.

A refusal is a redirect to the log-in page (for admin routes the admin site's own log-in page also counts), 401,
403, 404 or 405: never a 2xx, never a 500, never a redirect elsewhere. The only exceptions are the routes of
``PUBLIC``, each with the exact answer it gives per method; any other method on them must refuse as well.

A new route needs no entry here unless its path arguments are new (then the walk fails saying which value to
add) or it is meant to be public (then it fails until it is listed in ``PUBLIC``).

Callers: anonymous; a superuser whose session was logged in and whose account was then switched off
(``is_active = False`` written directly, not through the service, so the flag alone must end access); and, on
the API routes, the same account's API token, which still exists because the service was not used.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken, Role, SavedQueueFilter, User
from analysis import services as analysis_services
from analysis.choices import WarningKind
from analysis.models import EarlyWarning, EvaluationReport
from cases import evidence, services
from cases.choices import CaseStatus, FindingProblem, FlagKind, SupportKind, SuspectStatus
from cases.models import (
    Attachment,
    Case,
    Flag,
    InvolvedOfficer,
    Notification,
    QueueExport,
    ReportExport,
    SupervisionFinding,
    SupportMeasure,
    Suspect,
)
from library import services as library_services
from library.guidance import services as tip_services
from library.guidance.models import Tip
from library.models import WriteUp
from oversight import services as oversight_services
from oversight.choices import CampaignKind, ProblemType, SelectionMode
from oversight.models import CampaignCase, PursuitRecord
from oversight.scope import Scope
from tests.analysis.warnings_dataset import a_warning
from tests.api.conftest import PDF, upload
from tests.factories import World, case_in, draft, member

METHODS = ("get", "post", "put", "patch", "delete")
LOGIN_PREFIX = f"{settings.LOGIN_URL}?next="
ADMIN_LOGIN_PREFIX = "/admin/login/?next="
DENIAL_CODES = {401, 403, 404, 405}


# --- the routes ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the joined pattern text, as ``ResolverMatch.route`` reports it
    name: str | None  # namespaced, e.g. "cases:detail"; None for unnamed admin redirects and catch-alls
    patterns: tuple[Any, ...]  # the pattern objects from the root down

    @property
    def area(self) -> str:
        """The group the route is walked in: its first path segment, but each accounts page on its own (some are
        public, some not)."""
        depth = 2 if self.key.startswith("accounts/") else 1
        return "/".join(s for s in self.key.split("/")[:depth] if s) or "home"


def _join(route1: str, route2: str) -> str:
    # Django's own rule (URLResolver._join_route): the second route loses a leading "^".
    return route2 if not route1 else route1 + route2.removeprefix("^")


def _walk(patterns: list[Any], key: str = "", namespaces: tuple[str, ...] = (), chain: tuple = ()) -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            spaces = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, _join(key, str(entry.pattern)), spaces, (*chain, entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            name = ":".join((*namespaces, entry.name)) if entry.name else None
            yield Route(_join(key, str(entry.pattern)), name, (*chain, entry.pattern))


ROUTES: list[Route] = list(_walk(get_resolver().url_patterns))
AREAS = sorted({route.area for route in ROUTES})


# --- the public routes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    location: str = ""  # the exact Location header (none but on redirects)


# Route key -> the exact answer per method for callers without a session. Methods not listed must refuse.
PUBLIC: dict[str, dict[str, Answer]] = {
    # The log-in page (a PUT is handled as a POST by Django's form views: an empty form, shown again).
    "accounts/login/": {"get": Answer(200), "post": Answer(200), "put": Answer(200)},
    # The language switch is on the log-in page; without a "next" it sends the browser home.
    "i18n/setlang/": {m: Answer(302, "/") for m in METHODS},
    # The admin site's own log-in form.
    "admin/login/": {"get": Answer(200), "post": Answer(200), "put": Answer(200)},
    # Terminals log in here: the body must be JSON (415 for the empty form body the walk sends).
    "api/v1/auth/token/": {"post": Answer(415)},
    # Liveness and readiness probes, GET only.
    "healthz": {"get": Answer(200)},
    "readyz": {"get": Answer(200)},
    # The metrics: the walk's client is on loopback, which the monitoring is told; any other address without the
    # monitoring token gets a 404 (tests/test_operations.py).
    "metrics": {"get": Answer(200)},
    # The site's icon, for pages that link none (the admin site's): a redirect to the static file, GET only.
    "favicon.ico": {"get": Answer(301, "/static/favicon.svg")},
    # The library's offline reader: its Web App manifest (browsers fetch it without cookies) and its service worker,
    # GET only; neither holds data (library/offline.py).
    "library/manifest.webmanifest": {"get": Answer(200)},
    "library/sw.js": {"get": Answer(200)},
    # Not public, although Django's auth URLs bring them along: the password-reset pages (accounts/password_reset/,
    # accounts/reset/...). Accounts are managed by administrators; a self-service reset by e-mail would let
    # whoever reads an officer's mailbox set a new password without the old one.
}


# --- concrete URLs ---------------------------------------------------------------------------------------------


@dataclass
class Objects:
    world: World
    case: Case  # under supervision: it has a referral, an involved officer, a suspect, evidence, support, a finding
    draft: Case
    draft_officer: InvolvedOfficer
    suspect: Suspect
    attachment: Attachment
    support: SupportMeasure
    finding: SupervisionFinding
    flag: Flag
    saved_filter: SavedQueueFilter
    export: ReportExport
    device: TOTPDevice
    superuser: User
    api_token: ApiToken  # the filing officer's
    notification: Notification  # the filing officer's
    queue_workbook: QueueExport  # the supervisor's
    campaign: SimpleNamespace | None = None  # built when a campaign route first needs it (campaign_objects)
    warning: EarlyWarning | None = None  # built when an early-warning route first needs it (warning_of)
    evaluation: EvaluationReport | None = None  # built when an evaluation report route first needs it
    writeup: WriteUp | None = None  # built when a library route first needs it (writeup_of)
    tip: Tip | None = None  # built when a tip route first needs it (tip_of)


def writeup_of(o: Objects) -> WriteUp:
    """A typical case published to the city, written from a closed case of the filing officer."""
    if o.writeup is None:
        w = o.world
        closed = case_in(w, CaseStatus.CLOSED)
        writeup = library_services.propose_case(case=closed, by=w.supervisor)
        texts = {f"{field}_zh": "民警甲处警时遭嫌疑人A踢打。" for field in ("title", "happened", "handling", "outcome")}
        texts["lessons_zh"] = "保全证据。"
        writeup = library_services.save_writeup(writeup=writeup, by=w.supervisor, texts=texts, expected_version=None)
        writeup = library_services.submit_writeup(writeup=writeup, by=w.supervisor, expected_version=None)
        o.writeup = library_services.publish_writeup(
            writeup=writeup, by=w.admin, scope_unit=w.city, expected_version=writeup.version
        )
    return o.writeup


def tip_of(o: Objects) -> Tip:
    """A guidance tip of the city, published to the city (in force)."""
    if o.tip is None:
        w = o.world
        texts = {"title_zh": "保全证据", "body_zh": "出警即开启执法记录仪。"}
        data = tip_services.TipInput(texts=texts, valid_from=timezone.localdate())
        tip = tip_services.create_tip(by=w.supervisor, unit=w.city, data=data)
        tip = tip_services.submit_tip(tip=tip, by=w.supervisor, expected_version=None)
        o.tip = tip_services.publish_tip(tip=tip, by=w.admin, scope_unit=w.city, expected_version=tip.version)
    return o.tip


def warning_of(o: Objects) -> EarlyWarning:
    """An open early warning of the county: a rise in its cases."""
    if o.warning is None:
        o.warning = a_warning(WarningKind.UNIT_RISE, o.world.county)
    return o.warning


def evaluation_of(o: Objects) -> EvaluationReport:
    """The county's evaluation report for last year, a draft."""
    if o.evaluation is None:
        o.evaluation = analysis_services.start_evaluation(
            unit=o.world.county, year=timezone.localdate().year - 1, quarter=0, by=o.world.county_supervisor
        )[0]
    return o.evaluation


def campaign_objects(o: Objects) -> SimpleNamespace:
    """A running fugitive-pursuit campaign of the city over the cases in supervision: the case gets a suspect at large,
    so the campaign has a selected case, a pursuit record, and a problem raised by its reviewer."""
    if o.campaign is None:
        w = o.world
        services.add_suspect(case=o.case, by=w.supervisor, name="逃犯", status=SuspectStatus.AT_LARGE)
        today = timezone.localdate()
        campaign = oversight_services.create_campaign(
            by=w.supervisor,
            name="追逃专项",
            kind=CampaignKind.FUGITIVE_PURSUIT,
            owner_unit=w.city,
            period_start=today.replace(month=1, day=1),
            period_end=today.replace(month=12, day=31),
            deadline=today + timedelta(days=30),
            scope=Scope(statuses=(CaseStatus.SUPERVISION,)),
            selection=SelectionMode.ALL,
        )
        oversight_services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.supervisor)
        campaign = oversight_services.start_campaign(campaign=campaign, by=w.supervisor)
        item = CampaignCase.objects.get(campaign=campaign, case=o.case)
        problem = oversight_services.raise_problem(
            item=item,
            by=w.supervisor,
            type=ProblemType.PROTRACTED,
            description="久拖",
            responsible_unit=w.county,
            rectify_by=today + timedelta(days=7),
        )
        o.campaign = SimpleNamespace(
            campaign=campaign, item=item, problem=problem, pursuit=PursuitRecord.objects.get(campaign_case=item)
        )
    return o.campaign


def build_objects(world: World) -> Objects:
    case = case_in(world, CaseStatus.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    stored = evidence.validate_and_store(upload(PDF, "statement.pdf", "application/pdf"))
    attachment = services.record_attachment(case=case, by=world.officer, **stored.attachment_fields())
    support = services.record_support_measure(case=case, by=world.supervisor, kind=SupportKind.COMFORT_VISIT)
    finding = services.raise_finding(case=case, by=world.supervisor, problem=FindingProblem.PROTRACTED, detail="久拖")
    flag = Flag.objects.create(case=case, kind=FlagKind.STALLED, rule_code="SLA", raised_at=timezone.now())
    a_draft = draft(world)
    superuser = member(world.ministry, Role.SUPERVISOR, is_staff=True, is_superuser=True)
    return Objects(
        world=world,
        case=Case.objects.get(pk=case.pk),
        draft=a_draft,
        draft_officer=a_draft.officers.get(),
        suspect=suspect,
        attachment=attachment,
        support=support,
        finding=finding,
        flag=flag,
        saved_filter=account_services.save_queue_filter(user=world.supervisor, name="逾期", query="flag=overdue"),
        export=ReportExport.objects.create(
            requested_by=world.supervisor,
            unit=world.city,
            year=case.occurred_at.year,
            format="xlsx",
            language="en",
            created_at=timezone.now(),
        ),
        device=TOTPDevice.objects.create(user=world.supervisor, name="authenticator", confirmed=True),
        superuser=superuser,
        api_token=tokens.issue_token(user=world.officer, name="patrol phone", mfa_verified=False)[0],
        notification=Notification.objects.create(
            recipient=world.officer, case=case, verb="Referred", created_at=timezone.now()
        ),
        queue_workbook=QueueExport.objects.create(
            requested_by=world.supervisor, order="-last_activity_at", language="en", created_at=timezone.now()
        ),
    )


Value = Callable[[Objects], Any]
CASE: Value = lambda o: o.case.pk  # noqa: E731

# Path arguments by route name, then argument name.
ARGUMENTS: dict[str, dict[str, Value]] = {
    "cases:queue-delete": {"saved_id": lambda o: o.saved_filter.pk},
    "cases:detail": {"pk": CASE},
    "cases:sheet": {"pk": CASE},
    "cases:legal-hold": {"pk": CASE},
    "cases:edit": {"pk": lambda o: o.draft.pk, "step": lambda o: "incident"},
    "cases:action": {"pk": CASE, "action": lambda o: "conclude"},
    "cases:add-party": {"pk": CASE, "party": lambda o: "suspect"},
    "cases:remove-officer": {"pk": lambda o: o.draft.pk, "officer_id": lambda o: o.draft_officer.pk},
    "cases:resume": {"pk": lambda o: o.draft.pk},
    "cases:edit-party": {"pk": CASE, "party": lambda o: "suspect", "item_id": lambda o: o.suspect.pk},
    "cases:remove-party": {"pk": CASE, "party": lambda o: "suspect", "item_id": lambda o: o.suspect.pk},
    "cases:undo-removal": {"pk": CASE},
    "cases:assign": {"pk": CASE},
    "cases:clock": {"pk": CASE, "move": lambda o: "pause"},
    "cases:disposition": {"pk": CASE, "suspect_id": lambda o: o.suspect.pk},
    "cases:transfer": {"pk": CASE, "suspect_id": lambda o: o.suspect.pk},
    "cases:support": {"pk": CASE},
    "cases:support-answer": {"pk": CASE, "measure_id": lambda o: o.support.pk},
    "cases:finding": {"pk": CASE},
    "cases:facts": {"pk": CASE},
    "cases:fault-finding": {"pk": CASE},
    "cases:note": {"pk": CASE},
    "cases:evidence-upload": {"pk": CASE},
    "cases:link": {"pk": CASE, "other_pk": lambda o: o.draft.pk},
    "cases:unlink": {"pk": CASE, "other_pk": lambda o: o.draft.pk},
    "cases:merge": {"pk": CASE, "into_pk": lambda o: o.draft.pk},
    "cases:unmerge": {"pk": CASE},
    "cases:reveal": {"pk": CASE, "party": lambda o: "suspect", "item_id": lambda o: o.suspect.pk},
    "cases:evidence-download": {"pk": CASE, "attachment_id": lambda o: o.attachment.pk},
    "cases:reports-export-status": {"pk": lambda o: o.export.pk},
    "cases:reports-export-download": {"pk": lambda o: o.export.pk},
    "cases:queue-workbook-download": {"pk": lambda o: o.queue_workbook.pk},
    "api-token-revoke": {"pk": lambda o: o.api_token.pk},
    "cases:notification-open": {"pk": lambda o: o.notification.pk},
    "cases:notification-read": {"pk": lambda o: o.notification.pk},
    "api:notification-read": {"pk": lambda o: o.notification.pk},
    # A genuine reset link for the filing officer.
    "password_reset_confirm": {
        "uidb64": lambda o: urlsafe_base64_encode(force_bytes(o.world.officer.pk)),
        "token": lambda o: default_token_generator.make_token(o.world.officer),
    },
    "admin:view_on_site": {
        "content_type_id": lambda o: ContentType.objects.get_for_model(Case).pk,
        "object_id": CASE,
    },
    "admin:auth_user_password_change": {"id": lambda o: o.world.officer.pk},
    "admin:otp_totp_totpdevice_config": {"pk": lambda o: o.device.pk},
    "admin:otp_totp_totpdevice_qrcode": {"pk": lambda o: o.device.pk},
    "api:flag-acknowledge": {"pk": lambda o: o.flag.pk},
    "api:case": {"pk": CASE},
    "api:case-sheet": {"pk": CASE},
    "api:case-officer": {"pk": lambda o: o.case.officers.get().pk},
    "api:case-suspect": {"pk": lambda o: o.suspect.pk},
    "api:case-suspect-reveal": {"pk": lambda o: o.suspect.pk},
    "api:case-officer-reveal": {"pk": lambda o: o.case.officers.get().pk},
    "api:case-suspect-disposition": {"pk": lambda o: o.suspect.pk},
    "api:case-suspect-transfer": {"pk": lambda o: o.suspect.pk},
    "api:case-support-measure": {"pk": lambda o: o.support.pk},
    "api:case-support-answer": {"pk": lambda o: o.support.pk},
    "api:case-finding-rectify": {"pk": lambda o: o.finding.pk},
    "api:case-attachment-download": {"pk": lambda o: o.attachment.pk},
    "api:case-link": {"pk": lambda o: o.draft.pk},
    "api:token-detail": {"pk": lambda o: o.api_token.pk},
    "campaigns-api:campaign": {"pk": lambda o: campaign_objects(o).campaign.pk},
    "campaigns-api:campaign-problem-rectify": {"pk": lambda o: campaign_objects(o).problem.pk},
    "campaigns-api:campaign-pursuit-step": {"pk": lambda o: campaign_objects(o).pursuit.pk},
    "analysis:file": {"fmt": lambda o: "xlsx"},
    "analysis:evaluation-file": {"pk": lambda o: evaluation_of(o).pk, "fmt": lambda o: "xlsx"},
    "library:propose": {"case_pk": lambda o: writeup_of(o).case_id},
    "library:tip": {"pk": lambda o: tip_of(o).pk},
    "library:tip-edit": {"pk": lambda o: tip_of(o).pk},
    "library:tip-action": {"pk": lambda o: tip_of(o).pk, "action": lambda o: "withdraw"},
    "library:training-file": {"fmt": lambda o: "csv"},
    "guidance-api:guidance-item": {"pk": lambda o: tip_of(o).pk},
    "guidance-api:guidance-manage-item": {"pk": lambda o: tip_of(o).pk},
    "guidance-api:guidance-manage-action": {"pk": lambda o: tip_of(o).pk, "action": lambda o: "withdraw"},
}
# The library's pages and API routes name a typical case as ``pk`` and a step of its workflow as ``action``.
LIBRARY_ROUTES = ("library/", "api/v1/library/")
LIBRARY_ARGUMENTS: dict[str, Value] = {"pk": lambda o: writeup_of(o).pk, "action": lambda o: "submit"}
# Every campaign API route names its campaign as ``campaign_pk`` and a selected case as ``item_pk``.
CAMPAIGN_ARGUMENTS: dict[str, Value] = {
    "campaign_pk": lambda o: campaign_objects(o).campaign.pk,
    "item_pk": lambda o: campaign_objects(o).item.pk,
}
# The campaign pages (campaigns/...): the campaign, a selected case, its problem, a pursuit record.
CAMPAIGN_PAGE_ARGUMENTS: dict[str, Value] = {
    "pk": lambda o: campaign_objects(o).campaign.pk,
    "item_id": lambda o: campaign_objects(o).item.pk,
    "problem_id": lambda o: campaign_objects(o).problem.pk,
    "record_id": lambda o: campaign_objects(o).pursuit.pk,
    "fmt": lambda o: "csv",  # the campaign report's files
}
# The early-warning pages and API routes name a warning as ``pk``.
WARNING_ROUTES = ("analysis/warnings/", "api/v1/warnings/")
# The evaluation report pages and API routes name a report as ``pk``.
EVALUATION_ROUTES = ("analysis/evaluations/", "api/v1/analysis/evaluations/")
# Every API route under a case names it as ``case_pk``.
API_CASE_ARGUMENT = "case_pk"

# Regular-expression routes: the concrete path, by route name or (unnamed) by route key.
REGEX_URLS: dict[str, str] = {
    "admin:app_list": "/admin/cases/",
    "admin/(?P<url>.*)$": "/admin/no-such-page/",
    "api:not-found": "/api/v1/no-such-endpoint/",
}

ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<argument>[^>]+)>")


class UnbuildableRoute(Exception):
    pass


def _admin_object_id(route: Route) -> str:
    """An existing row of the admin page's model (a row that does not exist when the fixture has none)."""
    found = ADMIN_MODEL_ROUTE.match(route.key)
    if not found:
        raise UnbuildableRoute("an admin route with an object id but no app/model in its path")
    model = apps.get_model(found["app"], found["model"])
    row = model._default_manager.order_by("pk").first()
    return str(row.pk) if row is not None else "0"


def _argument(route: Route, argument: str, objects: Objects) -> str:
    given = ARGUMENTS.get(route.name or "", {})
    if argument in given:
        return str(given[argument](objects))
    if route.key.startswith("campaigns/") and argument in CAMPAIGN_PAGE_ARGUMENTS:
        return str(CAMPAIGN_PAGE_ARGUMENTS[argument](objects))
    if route.key.startswith(LIBRARY_ROUTES) and argument in LIBRARY_ARGUMENTS:
        return str(LIBRARY_ARGUMENTS[argument](objects))
    if route.key.startswith(WARNING_ROUTES) and argument == "pk":
        return str(warning_of(objects).pk)
    if route.key.startswith(EVALUATION_ROUTES) and argument == "pk":
        return str(evaluation_of(objects).pk)
    if route.key.startswith("api/v1/campaigns/") and argument in CAMPAIGN_ARGUMENTS:
        return str(CAMPAIGN_ARGUMENTS[argument](objects))
    if route.key.startswith("api/") and argument == API_CASE_ARGUMENT:
        return str(objects.case.pk)
    if route.key.startswith("admin/") and argument == "object_id":
        return _admin_object_id(route)
    raise UnbuildableRoute(f"no value for <{argument}>: add one to ARGUMENTS[{route.name!r}]")


def concrete_url(route: Route, objects: Objects) -> str:
    if any(isinstance(p, RegexPattern) for p in route.patterns):
        url = REGEX_URLS.get(route.name or "") or REGEX_URLS.get(route.key)
        if url is None:
            raise UnbuildableRoute(f"a regular-expression route: add a concrete path to REGEX_URLS[{route.key!r}]")
        return url
    assert all(isinstance(p, RoutePattern) for p in route.patterns)
    return "/" + CONVERTER.sub(lambda m: _argument(route, m["argument"], objects), route.key)


# --- the answers -----------------------------------------------------------------------------------------------


def is_refusal(route: Route, status: int, location: str) -> bool:
    if status in DENIAL_CODES:
        return True
    if status in (301, 302):
        return location.startswith(LOGIN_PREFIX) or (
            route.key.startswith("admin/") and location.startswith(ADMIN_LOGIN_PREFIX)
        )
    return False


def request(client: Client, method: str, url: str) -> tuple[int, str]:
    response = getattr(client, method)(url)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response.status_code, response.get("Location", "")


def walk(
    area: str,
    objects: Objects,
    client: Client,
    before_each: Callable[[], None] = lambda: None,
    public: dict[str, dict[str, Answer]] = PUBLIC,
) -> list[str]:
    """Request every route of the area with every method; the list of wrong answers (empty when all is well).
    ``public``: the routes open to this caller, with their exact answers."""
    wrong: list[str] = []
    walked = 0
    for route in (r for r in ROUTES if r.area == area):
        label = route.name or route.key
        try:
            url = concrete_url(route, objects)
        except UnbuildableRoute as exc:
            wrong.append(f"{route.key} ({label}): cannot build a URL, {exc}")
            continue
        match = resolve(url.split("?")[0])
        if match.route != route.key:
            wrong.append(f"{route.key} ({label}): {url} resolves to {match.route!r} instead")
            continue
        open_to_caller = public.get(route.key, {})
        for method in METHODS:
            before_each()
            status, location = request(client, method, url)
            walked += 1
            if method in open_to_caller:
                expected = open_to_caller[method]
                if (status, location) != (expected.status, expected.location):
                    wrong.append(
                        f"{method.upper()} {url} ({label}): public route answered {status} {location!r}, "
                        f"expected {expected.status} {expected.location!r}"
                    )
            elif not is_refusal(route, status, location):
                hint = "" if route.key in public else " — a route open to this caller must be listed in PUBLIC"
                wrong.append(f"{method.upper()} {url} ({label}): answered {status} {location!r}, not a refusal{hint}")
    assert walked, f"no route walked in area {area!r}"
    return wrong


# --- the tests -------------------------------------------------------------------------------------------------


def test_the_walk_sees_every_kind_of_route():
    keys = {route.key for route in ROUTES}
    assert not set(PUBLIC) - keys, f"PUBLIC lists routes that no longer exist: {sorted(set(PUBLIC) - keys)}"
    # Every area of the site is walked, the regular-expression routes among them.
    assert {"home", "cases", "queue", "notifications", "reports", "i18n", "admin", "api", "campaigns"} <= set(AREAS)
    assert {"accounts/login", "accounts/logout", "accounts/mfa", "accounts/password_change"} <= set(AREAS)
    assert {"healthz", "readyz"} <= set(AREAS)
    regex_routes = {r.key for r in ROUTES if any(isinstance(p, RegexPattern) for p in r.patterns)}
    assert {"admin/(?P<url>.*)$", r"api/v1/[\s\S]*$"} <= regex_routes
    assert len(ROUTES) == len(keys), "two routes share one pattern text"


@pytest.mark.parametrize("area", AREAS)
def test_anonymous_callers_are_refused_everywhere_but_the_public_routes(world, settings, tmp_path, area):
    settings.MEDIA_ROOT = tmp_path
    objects = build_objects(world)
    wrong = walk(area, objects, Client(raise_request_exception=False))
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("area", AREAS)
def test_a_deactivated_session_is_refused_on_its_next_request(world, settings, tmp_path, area):
    settings.MEDIA_ROOT = tmp_path
    objects = build_objects(world)
    user = objects.superuser
    client = Client(raise_request_exception=False)
    client.force_login(user)
    # Logged in and let in (the admin index is for staff only).
    assert client.get("/admin/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    session_key = client.session.session_key

    def session_still_there() -> None:
        # The refusal must come from the account flag, not from a session that some request ended.
        session = Session.objects.get(session_key=session_key)
        assert session.get_decoded()["_auth_user_id"] == str(user.pk)

    wrong = walk(area, objects, client, before_each=session_still_there)
    assert wrong == [], "\n".join(wrong)


def test_a_deactivated_accounts_api_token_is_refused_on_every_api_route(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    objects = build_objects(world)
    user = objects.superuser
    token, key = tokens.issue_token(user=user, name="terminal", mfa_verified=True)
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/me/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert ApiToken.objects.filter(pk=token.pk).exists()
    # Written around the services (which end the token's cache entry at once, tests/security/test_api_token_cache.py),
    # the change reaches the API when the cache stops vouching for the token: at most RIGHTSGUARD_TOKEN_CACHE_SECONDS
    # later (SECURITY.md). From then on the surviving token is refused everywhere.
    tokens.forget_user(user)
    wrong = walk("api", objects, client)
    assert wrong == [], "\n".join(wrong)


# An integration account (another system: accounts/integration.py) is let through to the endpoints made for it and
# nowhere else: the walk's empty form body gets 415 there (the import takes JSON), as it does at the public token
# endpoint, which asks no account.
INTEGRATION_OPEN = {**PUBLIC, "api/v1/incidents/110/": {"post": Answer(415)}}


def _integration_account(world: World) -> User:
    from integrations.services.accounts import create_integration_account

    return create_integration_account(username="hz110", name="杭州市110接处警系统", unit=world.city)


def test_an_integration_token_is_refused_on_every_api_route_but_its_own(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    objects = build_objects(world)
    _token, key = tokens.issue_token(user=_integration_account(world), name="feed", mfa_verified=False)
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {key}")
    wrong = walk("api", objects, client, public=INTEGRATION_OPEN)
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("area", AREAS)
def test_an_integration_accounts_session_is_refused_everywhere(world, settings, tmp_path, area):
    settings.MEDIA_ROOT = tmp_path
    objects = build_objects(world)
    client = Client(raise_request_exception=False)
    client.force_login(_integration_account(world))
    # Not even the public pages: another system has no business in the browser.
    wrong = walk(area, objects, client, public={})
    assert wrong == [], "\n".join(wrong)
