"""Fugitive pursuit: a campaign of that kind selects the cases with suspects at large and opens a pursuit record per
such suspect; each step is checked (the steps table, the dates, the unit, the border), logged and put on the case's
timeline, and an arrest changes the suspect through the case services. A refused step changes nothing."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases import services as case_services
from cases.choices import CampaignStep, CaseStatus, Disposition, EventKind, SuspectStatus
from cases.models import Case, CaseEvent, Suspect
from oversight import services
from oversight.choices import CampaignKind, LogStep, PursuitStatus
from oversight.models import Campaign, CampaignCase, CampaignEvent, PursuitRecord
from oversight.scope import Scope
from tests.oversight.conftest import Camp, build_camp, case_at, new_campaign

P = PursuitStatus


@dataclass
class Pursuit:
    camp: Camp
    campaign: Campaign
    west: Case  # two suspects at large (one with the disposition "at large") and one detained
    east: Case  # one suspect at large
    quiet: Case  # no suspect at large: not selected
    runaway: Suspect
    second: Suspect
    detained: Suspect
    eastern: Suspect


def build_pursuit(camp: Camp) -> Pursuit:
    w = camp.world
    west = case_at(camp, CaseStatus.SUPERVISION)
    east = case_at(camp, CaseStatus.SUPERVISION, east=True)
    quiet = case_at(camp, CaseStatus.SUPERVISION)
    add = case_services.add_suspect
    runaway = add(case=west, by=w.supervisor, name="张某", status=SuspectStatus.AT_LARGE)
    runaway = case_services.record_disposition(suspect=runaway, by=w.supervisor, disposition=Disposition.AT_LARGE)
    second = add(case=west, by=w.supervisor, name="王某", status=SuspectStatus.AT_LARGE)
    detained = add(case=west, by=w.supervisor, name="李某", status=SuspectStatus.DETAINED)
    eastern = add(case=east, by=w.supervisor, name="赵某", status=SuspectStatus.AT_LARGE)
    add(case=quiet, by=w.supervisor, name="钱某", status=SuspectStatus.DETAINED)
    campaign = new_campaign(
        camp, kind=CampaignKind.FUGITIVE_PURSUIT, name="追逃专项", scope=Scope(statuses=(CaseStatus.SUPERVISION,))
    )
    services.assign_reviewer(campaign=campaign, by=w.supervisor, sub_unit=w.county, reviewer=w.county_supervisor)
    campaign = services.start_campaign(campaign=campaign, by=w.supervisor)
    return Pursuit(camp, campaign, west, east, quiet, runaway, second, detained, eastern)


@pytest.fixture(scope="module")
def _module_pursuit(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_pursuit(build_camp())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def pursuit(_module_pursuit, db) -> Pursuit:
    return _module_pursuit


def record_of(suspect: Suspect) -> PursuitRecord:
    return PursuitRecord.objects.get(suspect=suspect)


def state() -> tuple:
    """Everything a pursuit step may write."""
    return (
        tuple(
            PursuitRecord.objects.order_by("pk").values_list(
                "pk", "status", "located_on", "ended_on", "unit_id", "cross_border", "note", "updated_by_id"
            )
        ),
        tuple(Suspect.objects.order_by("pk").values_list("pk", "status", "disposition")),
        CampaignEvent.objects.count(),
        CaseEvent.objects.count(),
        tuple(Case.objects.order_by("pk").values_list("pk", "version")),
    )


def today():
    return timezone.localdate()


def test_a_pursuit_selects_the_cases_with_suspects_at_large_and_opens_a_record_per_suspect(pursuit):
    selected = set(CampaignCase.objects.filter(campaign=pursuit.campaign).values_list("case_id", flat=True))
    assert selected == {pursuit.west.pk, pursuit.east.pk}
    assert pursuit.campaign.selected_count == 2
    records = PursuitRecord.objects.filter(campaign_case__campaign=pursuit.campaign)
    assert sorted(records.values_list("suspect_id", "status", "located_on", "ended_on", "unit_id", "cross_border")) == [
        (pursuit.runaway.pk, P.AT_LARGE, None, None, None, False),
        (pursuit.second.pk, P.AT_LARGE, None, None, None, False),
        (pursuit.eastern.pk, P.AT_LARGE, None, None, None, False),
    ]


def test_located_then_arrested_changes_the_suspect_through_the_case_services(pursuit):
    w = pursuit.camp.world
    record = record_of(pursuit.runaway)
    version = Case.objects.get(pk=pursuit.west.pk).version
    located_on, arrested_on = today() - timedelta(days=3), today() - timedelta(days=1)
    services.record_pursuit_step(record=record, by=w.county_supervisor, status=P.LOCATED, on=located_on, unit=w.county)
    assert Suspect.objects.get(pk=pursuit.runaway.pk).status == SuspectStatus.AT_LARGE  # located is not caught
    record = services.record_pursuit_step(
        record=record,
        by=w.county_supervisor,
        status=P.ARRESTED,
        on=arrested_on,
        unit=w.station,
        note="在宁波落网",
    )
    record.refresh_from_db()
    assert (record.status, record.located_on, record.ended_on, record.unit_id, record.cross_border, record.note) == (
        P.ARRESTED,
        located_on,
        arrested_on,
        w.station.pk,
        False,
        "在宁波落网",
    )
    suspect = Suspect.objects.get(pk=pursuit.runaway.pk)
    assert (suspect.status, suspect.disposition) == (SuspectStatus.DETAINED, Disposition.UNDER_INVESTIGATION)
    events = list(
        CaseEvent.objects.filter(case=pursuit.west, at__gte=record.updated_at - timedelta(seconds=5))
        .order_by("id")
        .values_list("kind", "data__step")
    )
    assert (EventKind.SUSPECT_UPDATED, None) in events
    assert (EventKind.DISPOSITION, None) in events
    assert events.count((EventKind.CAMPAIGN, CampaignStep.PURSUIT)) == 2
    assert Case.objects.get(pk=pursuit.west.pk).version > version
    log = list(
        CampaignEvent.objects.filter(campaign=pursuit.campaign, step=LogStep.PURSUIT).values_list("data", flat=True)
    )
    assert [(d["from"], d["to"], d["on"]) for d in log] == [
        (P.AT_LARGE, P.LOCATED, located_on.isoformat()),
        (P.LOCATED, P.ARRESTED, arrested_on.isoformat()),
    ]


def test_a_surrender_with_a_custody_status_and_an_extradition_across_the_border(pursuit):
    w = pursuit.camp.world
    services.record_pursuit_step(
        record=record_of(pursuit.second),
        by=w.supervisor,
        status=P.SURRENDERED,
        on=today(),
        unit=w.county,
        custody=SuspectStatus.BAIL,
    )
    assert Suspect.objects.get(pk=pursuit.second.pk).status == SuspectStatus.BAIL
    assert Suspect.objects.get(pk=pursuit.second.pk).disposition == Disposition.UNDER_INVESTIGATION  # unchanged
    record = services.record_pursuit_step(
        record=record_of(pursuit.eastern), by=w.supervisor, status=P.EXTRADITED, on=today(), unit=pursuit.camp.east
    )
    assert (record.status, record.cross_border, record.ended_on) == (P.EXTRADITED, True, today())
    assert Suspect.objects.get(pk=pursuit.eastern.pk).status == SuspectStatus.DETAINED


def test_a_deceased_suspect_ends_the_pursuit_without_touching_the_suspect(pursuit):
    w = pursuit.camp.world
    before = tuple(Suspect.objects.order_by("pk").values_list("status", "disposition"))
    record = services.record_pursuit_step(
        record=record_of(pursuit.second), by=w.county_supervisor, status=P.DECEASED, on=today(), unit=w.county
    )
    assert (record.status, record.ended_on) == (P.DECEASED, today())
    assert tuple(Suspect.objects.order_by("pk").values_list("status", "disposition")) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "escaped"}, "status"),
        ({"on": "tomorrow"}, "on"),
        ({"unit": "sibling"}, "unit"),
        ({"status": P.EXTRADITED, "cross_border": False}, "cross_border"),
        ({"custody": SuspectStatus.RELEASED}, "custody"),
        ({"note": "长" * 5001}, "note"),
    ],
)
def test_a_refused_step_says_which_field_and_changes_nothing(pursuit, change, field):
    w = pursuit.camp.world
    args = {"status": P.ARRESTED, "on": today(), "unit": w.county, **change}
    if args["on"] == "tomorrow":
        args["on"] = today() + timedelta(days=1)
    if args["unit"] == "sibling":
        args["unit"] = w.sibling_province
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.record_pursuit_step(record=record_of(pursuit.runaway), by=w.county_supervisor, **args)
    assert set(refused.value.message_dict) == {field}
    assert state() == before


def test_the_steps_table_is_enforced(pursuit):
    w = pursuit.camp.world
    services.record_pursuit_step(
        record=record_of(pursuit.runaway), by=w.county_supervisor, status=P.ARRESTED, on=today(), unit=w.county
    )
    before = state()
    for status in (P.LOCATED, P.AT_LARGE, P.ARRESTED, P.SURRENDERED):
        with pytest.raises(ValidationError) as refused:
            services.record_pursuit_step(
                record=record_of(pursuit.runaway), by=w.county_supervisor, status=status, on=today(), unit=w.county
            )
        assert refused.value.code == "pursuit_step"
    assert state() == before
    # Located, then lost again: the day located goes with it.
    record = services.record_pursuit_step(
        record=record_of(pursuit.second), by=w.county_supervisor, status=P.LOCATED, on=today(), unit=w.county
    )
    record = services.record_pursuit_step(
        record=record, by=w.county_supervisor, status=P.AT_LARGE, on=today(), unit=w.county
    )
    assert (record.status, record.located_on, record.ended_on) == (P.AT_LARGE, None, None)


def test_an_arrest_before_the_day_located_is_refused(pursuit):
    w = pursuit.camp.world
    record = services.record_pursuit_step(
        record=record_of(pursuit.second), by=w.county_supervisor, status=P.LOCATED, on=today(), unit=w.county
    )
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.record_pursuit_step(
            record=record, by=w.county_supervisor, status=P.ARRESTED, on=today() - timedelta(days=1), unit=w.county
        )
    assert set(refused.value.message_dict) == {"on"}
    assert state() == before


@pytest.mark.parametrize("who", ["officer", "sibling_supervisor", "east_supervisor", "east_officer"])
def test_only_the_reviewer_and_the_runners_record_steps(pursuit, who):
    w = pursuit.camp.world
    user = getattr(pursuit.camp, who, None) or getattr(w, who)
    before = state()
    with pytest.raises(PermissionDenied):
        services.record_pursuit_step(
            record=record_of(pursuit.runaway), by=user, status=P.LOCATED, on=today(), unit=w.county
        )
    assert state() == before


def test_an_administrator_records_a_location_but_an_arrest_needs_a_supervisor_of_the_case(pursuit):
    w = pursuit.camp.world
    services.record_pursuit_step(
        record=record_of(pursuit.runaway), by=w.admin, status=P.LOCATED, on=today(), unit=w.county
    )
    before = state()
    with pytest.raises(PermissionDenied):
        services.record_pursuit_step(
            record=record_of(pursuit.runaway), by=w.admin, status=P.ARRESTED, on=today(), unit=w.county
        )
    assert state() == before


def test_an_arrest_in_a_closed_case_is_refused_whole(pursuit):
    w = pursuit.camp.world
    Case.objects.filter(pk=pursuit.west.pk).update(status=CaseStatus.CLOSED)  # closed meanwhile (rolled back)
    before = state()
    with pytest.raises(ValidationError) as refused:
        services.record_pursuit_step(
            record=record_of(pursuit.runaway), by=w.county_supervisor, status=P.ARRESTED, on=today(), unit=w.county
        )
    assert set(refused.value.message_dict) == {"status"}
    assert state() == before


def test_no_step_once_the_campaign_is_closed(pursuit):
    w = pursuit.camp.world
    services.close_campaign(campaign=pursuit.campaign, by=w.supervisor)
    before = state()
    with pytest.raises(PermissionDenied):
        services.record_pursuit_step(
            record=record_of(pursuit.runaway), by=w.supervisor, status=P.LOCATED, on=today(), unit=w.county
        )
    assert state() == before


@pytest.mark.parametrize(
    "values",
    [
        {"status": P.ARRESTED, "unit": "county"},  # no end date
        {"status": P.LOCATED, "unit": "county"},  # no day located
        {"status": P.AT_LARGE, "located_on": "today"},
        {"status": P.LOCATED, "located_on": "today"},  # no unit
        {"status": P.EXTRADITED, "ended_on": "today", "unit": "county"},  # not across the border
        {"status": "escaped"},
        {"status": P.ARRESTED, "located_on": "today", "ended_on": "yesterday", "unit": "county"},
    ],
)
def test_the_database_keeps_the_pursuit_invariants(pursuit, values):
    w = pursuit.camp.world
    item = CampaignCase.objects.get(campaign=pursuit.campaign, case=pursuit.west)
    fields = {
        k: today()
        if v == "today"
        else today() - timedelta(days=1)
        if v == "yesterday"
        else w.county
        if v == "county"
        else v
        for k, v in values.items()
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        PursuitRecord.objects.filter(campaign_case=item, suspect=pursuit.runaway).update(**fields)


# --- the pages --------------------------------------------------------------------------------------------------------


def test_the_pages_show_the_pursuit_and_record_a_step(client, pursuit):
    w = pursuit.camp.world
    item = CampaignCase.objects.get(campaign=pursuit.campaign, case=pursuit.west)
    record = record_of(pursuit.runaway)
    client.force_login(w.county_supervisor)
    detail = client.get(reverse("oversight:detail", args=[pursuit.campaign.pk])).content.decode()
    assert '<tr data-pursuit-status="at_large"><th scope="row">At large</th><td class="text-end">2</td></tr>' in detail
    url = reverse("oversight:review", args=[pursuit.campaign.pk, item.pk])
    page = client.get(url).content.decode()
    assert f'data-pursuit="{record.pk}"' in page
    assert reverse("oversight:pursuit", args=[pursuit.campaign.pk, item.pk, record.pk]) in page
    post = reverse("oversight:pursuit", args=[pursuit.campaign.pk, item.pk, record.pk])
    before = state()
    version = str(item.version)
    refused = client.post(
        post,
        {f"f{record.pk}-status": P.ARRESTED, f"f{record.pk}-unit": w.county.code, f"f{record.pk}-version": version},
    )
    assert refused.status_code == 400
    assert state() == before
    response = client.post(
        post,
        {
            f"f{record.pk}-status": P.ARRESTED,
            f"f{record.pk}-on": today().isoformat(),
            f"f{record.pk}-unit": w.county.code,
            f"f{record.pk}-custody": SuspectStatus.DETAINED,
            f"f{record.pk}-version": version,
        },
    )
    assert response.status_code == 302
    assert record_of(pursuit.runaway).status == P.ARRESTED
    assert Suspect.objects.get(pk=pursuit.runaway.pk).status == SuspectStatus.DETAINED
    client.force_login(w.sibling_supervisor)
    assert client.post(post, {}).status_code == 404
