"""The operations pieces tried from outside: the metrics' labels and readers (rightsguard/metrics.py), the JSON log
lines (rightsguard/logs.py), the read replica (cases/reading.py, rightsguard/routers.py) and the re-matching of later
cases when an earlier punished case changes (cases/services/repeats.py). Each test is an attack and asserts the safe
behaviour."""

import importlib
import io
import json
import logging
import socket
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.utils import timezone
from prometheus_client import REGISTRY

from accounts.models import OrgUnit
from analysis.figures import analyse
from cases import reading, services
from cases.choices import CaseStatus, Disposition, EventKind
from cases.fields import blind_index, normalise_id_number, normalise_id_number_v2
from cases.models import Case, CaseEvent, Suspect
from cases.reports.yearly import yearly_report
from rightsguard import logs
from tests.factories import World, case_in, complete_details, draft

pytestmark = pytest.mark.django_db

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


# --- /metrics --------------------------------------------------------------------------------------------------------


def counted_methods() -> set[str]:
    return {
        sample.labels["method"]
        for family in REGISTRY.collect()
        if family.name == "rightsguard_http_requests"
        for sample in family.samples
        if "method" in sample.labels
    }


def test_made_up_http_methods_are_counted_under_one_label_not_one_series_each(client):
    """Anyone may send "PROBE0", "PROBE1", ... as the method: each would be a new time series kept for the process's
    life (memory without bound, and a scrape that grows with it). They are counted as "other"."""
    other = REGISTRY.get_sample_value(
        "rightsguard_http_requests_total", {"method": "other", "view": "healthz", "status": "405"}
    )
    for n in range(3):
        assert client.generic(f"PROBE{n}", "/healthz").status_code == 405
    assert {m for m in counted_methods() if m.startswith("PROBE")} == set()
    after = REGISTRY.get_sample_value(
        "rightsguard_http_requests_total", {"method": "other", "view": "healthz", "status": "405"}
    )
    assert after == (other or 0) + 3
    # The methods HTTP defines keep their own labels.
    client.head("/healthz")
    assert "HEAD" in counted_methods()


def test_the_metrics_are_not_told_for_a_forwarded_loopback_address_a_token_in_the_url_or_a_session(
    client, settings, world
):
    settings.RIGHTSGUARD_MONITORING_TOKEN = "monitor-7c1e"
    assert client.get("/metrics", HTTP_X_FORWARDED_FOR="127.0.0.1", **OUTSIDE).status_code == 404
    assert (
        client.get("/metrics", HTTP_X_REAL_IP="127.0.0.1", HTTP_FORWARDED="for=127.0.0.1", **OUTSIDE).status_code == 404
    )
    assert client.get("/metrics?token=monitor-7c1e&access_token=monitor-7c1e", **OUTSIDE).status_code == 404
    client.force_login(world.admin)
    assert client.get("/metrics", **OUTSIDE).status_code == 404
    settings.RIGHTSGUARD_MONITORING_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **OUTSIDE).status_code == 404
    # The monitor's own way in still works.
    settings.RIGHTSGUARD_MONITORING_TOKEN = "monitor-7c1e"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer monitor-7c1e", **OUTSIDE).status_code == 200


# --- JSON log lines --------------------------------------------------------------------------------------------------


@pytest.fixture
def log_text():
    """What the root logger writes as JSON while the test runs, as text."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream.getvalue
    finally:
        root.removeHandler(handler)


HOSTILE = 'x\u2028{"level": "CRITICAL", "message": "forged"}\u2029\x85\x9b31m\x1b[2J'


def test_line_separators_and_control_characters_in_a_logged_value_stay_inside_its_line(log_text):
    """A value a caller chose (a path, a header, a library's message quoting it) holding U+2028, U+2029, NEL or an
    8-bit CSI: every reader that splits lines on them (Python's splitlines, many log viewers) would see a second,
    forged line, and a terminal would run the escape. The line escapes them, and still reads back exactly."""
    logging.getLogger("rightsguard.test").warning("Could not handle %s", HOSTILE)
    text = log_text()
    assert text.endswith("\n")
    assert len(text.splitlines()) == 1
    assert [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029"] == []
    assert json.loads(text)["message"] == f"Could not handle {HOSTILE}"
    # Chinese stays readable in the line.
    logging.getLogger("rightsguard.test").warning("派出所")
    assert '"message": "派出所"' in log_text()


def test_a_database_errors_row_values_never_reach_a_json_log_line(world, log_text):
    """PostgreSQL's error text quotes the failing row (DETAIL: Failing row contains (..., the suspect's name, ...)):
    logged as the message's argument or in the traceback of a request or task that failed, it would put the names
    and text of a case in the logs. The line keeps the error's SQLSTATE and constraint, never the values."""
    case = case_in(world, CaseStatus.INTAKE)
    name = "".join(["王", "秘密"])  # not in this file's source: the traceback quotes the source lines
    try:
        with transaction.atomic():
            Suspect.objects.create(case=case, name=name, disposition="no-such-disposition")
    except IntegrityError as exc:
        logging.getLogger("rightsguard.test").error("The database refused to save: %s", exc)
        logging.getLogger("rightsguard.test").exception("Internal Server Error: /cases/")
    text = log_text()
    message, traced = (json.loads(line) for line in text.splitlines())
    assert name not in text
    assert "Failing row" not in text
    assert "23514" in message["message"]
    assert "suspect_disposition_valid" in message["message"]
    assert traced["exception"]["type"] == "IntegrityError"
    assert "23514" in traced["exception"]["traceback"]
    assert "suspect_disposition_valid" in traced["exception"]["traceback"]
    # The traceback itself is kept: where it happened.
    assert "test_attack_ops.py" in traced["exception"]["traceback"]


@login_not_required
def failing_page(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a defect in a page")


urlpatterns = [path("failing/", failing_page), path("", include("rightsguard.urls"))]


def test_a_server_error_is_not_mailed_with_what_the_user_typed(client, world, settings):
    """Django's default logging mails each server error to ADMINS (the security team's address, .env.example) with the
    request's query string and form fields: a search's text, a narrative with names, a password field. The log line
    has the error; nothing is mailed."""
    settings.ROOT_URLCONF = __name__
    settings.ADMINS = [("", "security@example.police")]
    settings.DEBUG = False
    client.raise_request_exception = False
    client.force_login(world.supervisor)
    response = client.post("/failing/?q=张三", {"narrative": "嫌疑人李四踢打民警", "password": "pw-1"})
    assert response.status_code == 500
    assert mail.outbox == []


# --- the read replica ------------------------------------------------------------------------------------------------


@pytest.fixture
def replica_alias():
    """A ``replica`` database alias, as ``DATABASE_REPLICA_URL`` makes (its settings a copy of the primary's, with
    ``overrides``). Its connection is made before the alias is configured: the test database's guard refuses to
    connect any configured alias the test did not declare. ``configured``: put in ``DATABASES`` too (connected
    first), where ``reading._replica_state`` looks for it."""
    made: list[str] = []

    def make(configured: bool = False, **overrides: str) -> Any:
        conf = {**connections["default"].settings_dict, **overrides}
        connections.settings[reading.REPLICA] = conf
        try:
            connection = connections.create_connection(reading.REPLICA)
        finally:
            del connections.settings[reading.REPLICA]
        connections[reading.REPLICA] = connection
        made.append(reading.REPLICA)
        if configured:
            connection.ensure_connection()
            settings.DATABASES[reading.REPLICA] = conf
        return connection

    yield make
    for alias in made:
        settings.DATABASES.pop(alias, None)
        connections[alias].close()
        del connections[alias]


def test_an_object_read_from_the_replica_reads_the_primary_once_the_block_is_over(world, replica_alias):
    """Django routes a read by the instance's database when no router chose one: an object the report read on the
    replica would keep reading the replica (stale, or down) wherever it is used after the report."""
    replica_alias()
    unit = OrgUnit.objects.get(pk=world.county.pk)
    unit._state.db = reading.REPLICA  # as read inside ``from_replica``
    assert unit.children.all().db == "default"  # type: ignore[attr-defined]
    assert Case.objects.filter(unit=unit).db == "default"
    with reading.from_replica():
        pass  # the replica is not a standby here: not used, and nothing changes after it either
    assert unit.children.all().db == "default"  # type: ignore[attr-defined]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def replica_failing_after_the_check(monkeypatch, replica_alias):
    """A replica that answered the standby check, then stopped (or cancelled the report's query in a conflict with
    recovery): every statement on it fails."""
    replica_alias(HOST="127.0.0.1", PORT=str(closed_port()))
    monkeypatch.setattr(reading, "_replica_state", lambda: reading.Freshness(as_of=timezone.now()))


def test_a_replica_failing_during_the_report_gives_the_primarys_figures_not_an_error(
    world, replica_failing_after_the_check, log_text
):
    for _ in range(2):
        case_in(world, CaseStatus.INTAKE)
    year = timezone.localdate().year
    city = OrgUnit.objects.get(code="330100")
    report = yearly_report(unit=city, year=year)
    assert (report.cases.total.current, report.figures_as_of) == (2, None)
    analysis = analyse(unit=city, year=year)
    assert (analysis.total.cases, analysis.figures_as_of) == (2, None)
    assert "The read replica failed" in log_text()


def standby_as(**answers: str) -> Any:
    """An execute wrapper that makes the database answer the standby checks as a standby would (``pg_is_in_recovery()``
    -> ``true``, ...): a standby's own state, on a database that is not one."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        for call, answer in answers.items():
            sql = sql.replace(call, answer)
        return execute(sql, params, many, context)

    return wrapper


def test_a_standby_that_replayed_nothing_and_is_not_streaming_is_not_said_to_be_current(world, replica_alias, log_text):
    """Restarted while cut off from the primary (or never connected), a standby that has replayed nothing since it
    started cannot date its figures: they are as old as where it stopped. The report must not say "as of now"."""
    replica = replica_alias(configured=True)
    case_in(world, CaseStatus.INTAKE)
    stopped = standby_as(**{"pg_is_in_recovery()": "true", "pg_last_xact_replay_timestamp()": "NULL::timestamptz"})
    with replica.execute_wrapper(stopped):
        assert reading._replica_state() is None
        report = yearly_report(unit=OrgUnit.objects.get(code="330100"), year=timezone.localdate().year)
    assert (report.cases.total.current, report.figures_as_of) == (1, None)
    assert "The read replica cannot tell how fresh it is" in log_text()
    # Streaming from the primary and caught up with what it received: current, as of now.
    streaming = standby_as(
        **{
            "pg_is_in_recovery()": "true",
            "pg_last_xact_replay_timestamp()": "NULL::timestamptz",
            "FROM pg_stat_wal_receiver": "FROM (SELECT 1) AS receiver",
        }
    )
    with replica.execute_wrapper(streaming):
        state = reading._replica_state()
    assert state is not None
    assert abs((state.as_of - timezone.now()).total_seconds()) < 60


# --- later cases when an earlier punished case changes ---------------------------------------------------------------

NUMBER = "33010619920315451X"


def punished_in_intake(world: World) -> Case:
    """A case of 60 days ago, still in intake, whose suspect was convicted 30 days ago."""
    case = case_in(world, CaseStatus.INTAKE, occurred_at=timezone.now() - timedelta(days=60))
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=NUMBER)
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CONVICTED_277_5_BASIC,
        decided_at=timezone.localdate() - timedelta(days=30),
    )
    return case


def later_matched(world: World) -> Case:
    later = draft(world)
    services.add_suspect(case=later, by=world.officer, name="何某", id_number=NUMBER)
    later = services.submit_case(case=later, by=world.officer, expected_version=None)
    later.refresh_from_db()
    assert later.prior_attack_on_police is True
    return later


def record_entries(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED, data__has_key="derived")
        .order_by("id")
        .values_list("data__derived", flat=True)
    )


def test_the_earlier_incident_moved_after_the_later_attack_gives_the_later_case_its_answer_back(
    world, django_capture_on_commit_callbacks
):
    earlier = punished_in_intake(world)
    later = later_matched(world)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_case_details(
            case=earlier, by=world.supervisor, expected_version=None, changes={"occurred_at": timezone.now()}
        )
    later.refresh_from_db()
    assert later.prior_attack_on_police is None
    assert record_entries(later) == ["repeat_suspect", "no_repeat_suspect"]
    # Moved back before it: the later case is a repeat attack again.
    with django_capture_on_commit_callbacks(execute=True):
        services.update_case_details(
            case=earlier,
            by=world.supervisor,
            expected_version=None,
            changes={"occurred_at": timezone.now() - timedelta(days=60)},
        )
    later.refresh_from_db()
    assert later.prior_attack_on_police is True
    assert record_entries(later) == ["repeat_suspect", "no_repeat_suspect", "repeat_suspect"]


@pytest.mark.parametrize("leaves", ["reject", "withdraw"])
def test_an_earlier_case_leaving_the_record_gives_the_later_case_its_answer_back(
    world, django_capture_on_commit_callbacks, leaves
):
    earlier = punished_in_intake(world)
    later = later_matched(world)
    with django_capture_on_commit_callbacks(execute=True):
        if leaves == "reject":
            services.reject_case(case=earlier, by=world.supervisor, expected_version=None, reason="Not within scope")
        else:
            services.withdraw_case(case=earlier, by=world.officer, expected_version=None, reason="Filed by mistake")
    later.refresh_from_db()
    assert later.prior_attack_on_police is None
    assert record_entries(later) == ["repeat_suspect", "no_repeat_suspect"]


def test_an_earlier_case_of_another_unit_leaving_the_record_names_it_nowhere_on_the_later_case(
    world, django_capture_on_commit_callbacks
):
    """The later case's readers may not see the earlier case: the entries say why, never which case."""
    earlier = services.create_draft_case(
        by=world.sibling_officer,
        unit=world.sibling_station,
        details=complete_details(occurred_at=timezone.now() - timedelta(days=60)),
    )
    services.add_suspect(case=earlier, by=world.sibling_officer, name="何某", id_number=NUMBER)
    earlier = services.submit_case(case=earlier, by=world.sibling_officer, expected_version=None)
    services.record_disposition(
        suspect=earlier.suspects.get(), by=world.sibling_supervisor, disposition=Disposition.CONVICTED_277_5_BASIC
    )
    later = later_matched(world)
    later_suspect = later.suspects.get().pk
    with django_capture_on_commit_callbacks(execute=True):
        services.reject_case(case=earlier, by=world.sibling_supervisor, expected_version=None, reason="Duplicate")
    assert Case.objects.get(pk=later.pk).prior_attack_on_police is None
    entries = (
        CaseEvent.objects.filter(case=later, data__has_key="derived").order_by("id").values_list("data", flat=True)
    )
    assert list(entries) == [
        {"changes": {"prior_attack_on_police": [None, True]}, "derived": "repeat_suspect", "suspect": later_suspect},
        {"changes": {"prior_attack_on_police": [True, None]}, "derived": "no_repeat_suspect", "answer": None},
    ]
    page = Client()
    page.force_login(world.supervisor)
    assert earlier.reference not in page.get(f"/cases/{later.pk}/").content.decode()


# --- ID numbers typed with invisible characters ----------------------------------------------------------------------

INVISIBLE = ("\u200b", "\ufeff", "\u200d", "\u2060", "\u200e", "\u00ad")


@pytest.mark.parametrize("mark", INVISIBLE)
def test_a_number_copied_with_an_invisible_character_is_the_same_number(mark):
    """Copied from a web page, a document or a chat, a number may carry a zero-width space, a byte order mark or a
    direction mark: unseen on the screen, it made another digest (and a 15-digit number was not read as its 18-digit
    form)."""
    assert normalise_id_number(f"{mark}3301061992{mark}0315451x{mark}") == NUMBER
    assert blind_index(f"110105491231002{mark}") == blind_index("11010519491231002X")


def test_a_suspect_stored_with_an_invisible_character_is_matched_by_the_plain_number(world):
    case = case_in(world, CaseStatus.SUPERVISION, occurred_at=timezone.now() - timedelta(days=60))
    suspect = services.add_suspect(case=case, by=world.supervisor, name="何某", id_number=f"\u200b{NUMBER}")
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CONVICTED_277_5_BASIC,
        decided_at=timezone.localdate() - timedelta(days=30),
    )
    later_matched(world)


def test_the_migration_reindexes_numbers_with_invisible_characters_and_going_back_restores_the_old_digests(world):
    typed = f"{NUMBER}\ufeff"
    suspect = services.add_suspect(
        case=case_in(world, CaseStatus.INTAKE), by=world.supervisor, name="何某", id_number=typed
    )
    plain = services.add_suspect(
        case=case_in(world, CaseStatus.INTAKE), by=world.supervisor, name="何某", id_number=NUMBER
    )
    as_before = blind_index(typed, normalise=normalise_id_number_v2)
    assert as_before != blind_index(NUMBER)
    Suspect.objects.filter(pk=suspect.pk).update(id_number_index=as_before)  # as stored before the change

    def stored() -> dict[int, str]:
        return dict(Suspect.objects.filter(pk__in=[suspect.pk, plain.pk]).values_list("pk", "id_number_index"))

    class Editor:
        connection = connection

    migration = importlib.import_module("cases.migrations.0043_id_number_index_without_format_characters")
    migration.refill_index(apps, Editor())
    assert stored() == {suspect.pk: blind_index(NUMBER), plain.pk: blind_index(NUMBER)}
    migration.refill_index_as_before(apps, Editor())
    assert stored() == {suspect.pk: as_before, plain.pk: blind_index(NUMBER)}
