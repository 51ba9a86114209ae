# ruff: noqa: E501  (each test's docstring is one line: the attack and the safe behaviour)
"""The recent doors tried from outside: police-fault findings, transfers after non-prosecution, flag overrides, the
rule catalogue, the new yearly-report rows and the conclusion and lenient reasons. Each test drives the application
as an outsider would (the case page, the API, the admin site, a direct service call) and asserts the safe behaviour;
a refused request also leaves everything as it was."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from cases import services
from cases.choices import CaseStatus, Disposition, FlagResolution, LenientReason, OverrideReason, SupportKind
from cases.models import (
    Case,
    CaseEvent,
    FaultFinding,
    Flag,
    FlagOverride,
    InvolvedOfficer,
    Referral,
    SupportMeasure,
)
from demo.organisation import ensure_admin_group
from tests.api.conftest import token_client
from tests.cases.test_conclude_overrides import override, two_downgrades
from tests.factories import case_in, draft, member

S = CaseStatus
DEPARTMENT = "杭州市公安局法制支队"
REFERENCE = "杭公法审〔2026〕12号"
RTL = "\u202egnp.exe"  # a right-to-left override: shown as text, stored as sent
FORMULA = "=cmd|' /C calc'!A0"


def page(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def fault_form(version: int, **fields) -> dict:
    values = {
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": timezone.localdate().isoformat(),
        "document_reference": REFERENCE,
        "notes": "",
        "version": str(version),
        **fields,
    }
    return {f"fault-{name}": value for name, value in values.items()}


def fault_state(case: Case) -> tuple:
    return (
        list(FaultFinding.objects.filter(case=case).order_by("pk").values_list("finding", "recorded_by_id")),
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.filter(case=case).count(),
    )


# --- police-fault findings: a stale tab and a double click on the case page ------------------------------------------


def test_a_stale_case_page_cannot_record_a_fault_finding_over_one_it_never_saw(world):
    """Two supervisors open the case; one records "serious fault", the other's tab (an older version) then records "no fault": refused (back on the case page, nothing written), the first finding stands."""
    case = case_in(world, S.SUPERVISION)
    seen = case.version
    services.record_fault_finding(
        case=case,
        by=world.county_supervisor,
        finding="serious",
        department=DEPARTMENT,
        found_on=timezone.localdate(),
        document_reference=REFERENCE,
    )
    before = fault_state(case)
    client = page(world.supervisor)
    response = client.post(f"/cases/{case.pk}/fault-findings/", fault_form(seen, finding="none"))
    # Back on the case page (cases/views/kept.py), nothing written.
    assert (response.status_code, response["Location"]) == (302, f"/cases/{case.pk}/")
    assert fault_state(case) == before
    assert before[0] == [("serious", world.county_supervisor.pk)]
    # The page now says what changed and shows the finding recorded meanwhile; the form comes back with the current
    # version: sending it again is a decision taken knowing that finding.
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Nothing was saved." in html
    assert f'name="fault-version" value="{before[1]}"' in html
    assert "Police-fault finding: Serious" in html


def test_a_double_click_on_the_fault_finding_form_records_one_finding(world):
    """The same form posted twice (a double click): the first is recorded, the second is refused as stale and writes nothing."""
    case = case_in(world, S.SUPERVISION)
    client = page(world.supervisor)
    form = fault_form(case.version)
    assert client.post(f"/cases/{case.pk}/fault-findings/", form).status_code == 302
    after_first = fault_state(case)
    assert client.post(f"/cases/{case.pk}/fault-findings/", form).status_code == 302
    assert fault_state(case) == after_first
    assert after_first[0] == [("serious", world.supervisor.pk)]


def test_the_fault_finding_form_on_the_page_carries_the_version_shown(world):
    """The page's form says which version of the case the supervisor saw."""
    case = case_in(world, S.SUPERVISION)
    html = page(world.supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert f'name="fault-version" value="{case.version}"' in html


# --- supervisor-only facts: the filer cannot set them through the API when filing -------------------------------------


def test_the_filer_cannot_set_the_supervisors_facts_when_filing_a_draft_directly(world):
    """create_draft_case from an officer with major_security_period is refused, whichever door calls it; no case is created."""
    with pytest.raises(ValidationError) as excinfo:
        services.create_draft_case(by=world.officer, unit=world.station, details={"major_security_period": True})
    assert "major_security_period" in str(excinfo.value)
    assert Case.objects.count() == 0


def test_a_supervisor_filing_in_their_subtree_may_set_the_supervisors_facts(world):
    """A supervisor opening a case in the unit they supervise judges the security period themself, as they may on the open case."""
    case = services.create_draft_case(
        by=world.county_supervisor,
        unit=world.station,
        details={"major_security_period": True},
        add_filer_as_officer=False,
    )
    assert Case.objects.get(pk=case.pk).major_security_period is True


# --- support measures: an amount for a kind that is not a payment -----------------------------------------------------


def support_state(case: Case) -> tuple:
    return (
        list(SupportMeasure.objects.filter(case=case).order_by("pk").values_list("kind", "amount")),
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.filter(case=case).count(),
    )


AMOUNT_ERROR = "Only a comfort payment has an amount: leave the amount empty for this kind of support."


def test_the_api_refuses_an_amount_for_a_support_kind_that_is_not_a_payment(world):
    """A comfort visit with an amount of 5000.00: refused with the error on the amount (it was silently dropped), nothing written."""
    case = case_in(world, S.SUPERVISION)
    before = support_state(case)
    client = token_client(world.supervisor)
    response = client.post(
        f"/api/v1/cases/{case.pk}/support/", {"kind": SupportKind.COMFORT_VISIT, "amount": "5000.00"}, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["amount"] == [AMOUNT_ERROR]
    assert support_state(case) == before
    # A payment keeps its amount; changing it to a visit while sending an amount is refused the same way.
    response = client.post(
        f"/api/v1/cases/{case.pk}/support/", {"kind": SupportKind.COMFORT_PAYMENT, "amount": "5000.00"}, format="json"
    )
    assert response.status_code == 201, response.content
    measure = SupportMeasure.objects.get(case=case)
    before = support_state(case)
    response = client.patch(
        f"/api/v1/cases/{case.pk}/support/{measure.pk}/",
        {"kind": SupportKind.COMFORT_VISIT, "amount": "300.00"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["amount"] == [AMOUNT_ERROR]
    assert support_state(case) == before
    assert before[0] == [(SupportKind.COMFORT_PAYMENT, Decimal("5000.00"))]


def test_a_payment_changed_to_another_kind_without_an_amount_drops_its_amount(world):
    """Changing a payment's kind (the amount not sent) clears the stale amount, and the timeline records the change."""
    case = case_in(world, S.SUPERVISION)
    measure = services.record_support_measure(
        case=case, by=world.supervisor, kind=SupportKind.COMFORT_PAYMENT, amount=Decimal("800.00")
    )
    measure = services.update_support_measure(measure=measure, by=world.supervisor, kind=SupportKind.COMFORT_VISIT)
    assert SupportMeasure.objects.filter(pk=measure.pk).values_list("kind", "amount").get() == (
        SupportKind.COMFORT_VISIT,
        None,
    )
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert event.data["changes"]["amount"] == ["800.00", None]


def test_the_page_refuses_an_amount_for_a_support_kind_that_is_not_a_payment(world):
    """The case page's support form with a legal-service amount: 400 with the error next to the amount, nothing written."""
    case = case_in(world, S.SUPERVISION)
    before = support_state(case)
    response = page(world.supervisor).post(
        f"/cases/{case.pk}/support/", {"kind": SupportKind.LEGAL_SERVICE, "status": "offered", "amount": "120"}
    )
    assert response.status_code == 400
    assert AMOUNT_ERROR in response.content.decode()
    assert support_state(case) == before


# --- involved officers: which accounts a case may list ---------------------------------------------------------------


def officers_state(case: Case) -> tuple:
    return (
        list(InvolvedOfficer.objects.filter(case=case).order_by("pk").values_list("user_id", "name")),
        Case.objects.get(pk=case.pk).version,
        CaseEvent.objects.filter(case=case).count(),
    )


LINK_ERROR = "Only the account of a police officer of this case's province can be linked to an involved officer."


@pytest.mark.parametrize("who", ["sibling_officer", "sibling_supervisor", "admin", "inactive", "no_grant"])
def test_the_api_links_an_involved_officer_only_to_an_officer_of_the_cases_province(world, who):
    """A supervisor lists another province's officer (who would then see the case), an administrator, an inactive or an ungranted account: 400 on user, nothing changed, the account does not see the case."""
    people = {
        "inactive": member(world.station, Role.OFFICER, username="inactive", is_active=False),
        "no_grant": member(world.station, Role.OFFICER, username="no_grant"),
    }
    people["no_grant"].memberships.all().delete()
    target = people.get(who) or getattr(world, who)
    case = case_in(world, S.SUPERVISION)
    before = officers_state(case)
    client = token_client(world.supervisor)
    response = client.post(f"/api/v1/cases/{case.pk}/officers/", {"user": target.pk, "name": "李四"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["user"] == [LINK_ERROR]
    officer = InvolvedOfficer.objects.get(case=case)
    response = client.patch(f"/api/v1/cases/{case.pk}/officers/{officer.pk}/", {"user": target.pk}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"]["user"] == [LINK_ERROR]
    assert officers_state(case) == before
    if who == "sibling_officer":
        assert token_client(target).get(f"/api/v1/cases/{case.pk}/").status_code == 404


def test_an_officer_or_supervisor_of_the_province_may_still_be_linked(world):
    """A neighbouring station's officer and the county's supervisor (both of the case's province) are listed."""
    case = case_in(world, S.SUPERVISION)
    client = token_client(world.supervisor)
    for user in (world.other_officer, world.county_supervisor):
        response = client.post(f"/api/v1/cases/{case.pk}/officers/", {"user": user.pk}, format="json")
        assert response.status_code == 201, response.content
    assert sorted(InvolvedOfficer.objects.filter(case=case).values_list("user_id", flat=True)) == sorted(
        [world.officer.pk, world.other_officer.pk, world.county_supervisor.pk]
    )


def test_the_filer_of_a_draft_cannot_link_an_account_of_another_province_either(world):
    """The rule lives in the service: the filer's own draft refuses a sibling province's officer too."""
    case = draft(world)
    before = officers_state(case)
    with pytest.raises(ValidationError) as excinfo:
        services.add_involved_officer(case=case, by=world.officer, user=world.sibling_officer)
    assert excinfo.value.message_dict == {"user": [LINK_ERROR]}
    assert officers_state(case) == before


# --- overrides in the admin site -------------------------------------------------------------------------------------


@pytest.fixture
def staff_admin(world):
    user = world.admin
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(ensure_admin_group())
    return user


def overridden(world) -> tuple[Case, FlagOverride]:
    case, r1, r2 = two_downgrades(world)
    services.conclude_case(
        case=case,
        by=world.supervisor,
        expected_version=case.version,
        overrides=[override(r1, text=f"{FORMULA} <b>x</b>"), override(r2)],
    )
    return case, FlagOverride.objects.get(flag=r1)


def test_the_admin_site_shows_overrides_read_only_within_the_administrators_scope(world, staff_admin):
    """The province administrator lists and opens the overrides of the province's cases; adding, changing and deleting are refused and change nothing."""
    _case, item = overridden(world)
    client = page(staff_admin)
    listing = client.get("/admin/cases/flagoverride/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    detail = client.get(f"/admin/cases/flagoverride/{item.pk}/change/")
    assert detail.status_code == 200
    assert "=cmd|&#x27; /C calc&#x27;!A0 &lt;b&gt;x&lt;/b&gt;" in detail.content.decode()
    assert client.get("/admin/cases/flagoverride/add/").status_code == 403
    changed = client.post(f"/admin/cases/flagoverride/{item.pk}/change/", {"explanation": "改写", "reason": "other"})
    assert changed.status_code == 403
    assert client.post(f"/admin/cases/flagoverride/{item.pk}/delete/", {"post": "yes"}).status_code == 403
    assert FlagOverride.objects.get(pk=item.pk).explanation == f"{FORMULA} <b>x</b>"
    assert FlagOverride.objects.count() == 2


def test_the_admin_site_hides_the_overrides_of_another_province(world, staff_admin):
    """An administrator of another province sees none of these overrides, in the list or by id."""
    _case, item = overridden(world)
    sibling_admin = member(world.sibling_province, Role.ADMIN, username="sibling_admin", is_staff=True)
    sibling_admin.groups.add(ensure_admin_group())
    client = page(sibling_admin)
    listing = client.get("/admin/cases/flagoverride/")
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    assert client.get(f"/admin/cases/flagoverride/{item.pk}/change/").status_code == 302  # "does not exist" redirect


# --- atomicity: a failure in the middle of writing overrides leaves nothing half-done ----------------------------------


def test_a_failure_after_the_first_override_is_written_leaves_no_override_and_no_conclusion(world):
    """The process dies while putting the second override on the timeline: the first override, the flag resolutions and the conclusion are all rolled back."""
    case, r1, r2 = two_downgrades(world)
    version = case.version
    real = services.overrides.record_event
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["data"]["flag"])
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(**kwargs)

    with mock.patch("cases.services.overrides.record_event", side_effect=second_fails), pytest.raises(RuntimeError):
        services.conclude_case(
            case=case, by=world.supervisor, expected_version=version, overrides=[override(r1), override(r2)]
        )
    assert calls == [r1.pk, r2.pk]
    assert FlagOverride.objects.count() == 0
    assert list(Flag.objects.filter(pk__in=[r1.pk, r2.pk]).values_list("resolved_at", "resolution")) == [
        (None, ""),
        (None, ""),
    ]
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version, fresh.is_downgraded) == (S.SUPERVISION, version, True)


# --- transfers: a double submit, another case's suspect -------------------------------------------------------------


def non_prosecuted(world) -> tuple[Case, int]:
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    services.record_disposition(
        suspect=suspect,
        by=world.supervisor,
        disposition=Disposition.CRIMINAL_NON_PROSECUTION,
        lenient_reason=LenientReason.MINOR_CIRCUMSTANCES,
    )
    return Case.objects.get(pk=case.pk), suspect.pk


def test_a_transfer_posted_twice_through_the_api_is_recorded_once(world):
    """The same transfer sent twice without an idempotency key: the second is refused (already recorded), one referral exists."""
    case, suspect = non_prosecuted(world)
    client = token_client(world.supervisor)
    url = f"/api/v1/cases/{case.pk}/suspects/{suspect}/transfer/"
    body = {"target": "other", "body_name": f"{RTL} 西湖区市场监管局"}
    assert client.post(url, body, format="json").status_code == 201
    version = Case.objects.get(pk=case.pk).version
    second = client.post(url, body, format="json")
    assert second.status_code == 400, second.content
    assert Referral.objects.filter(suspect_id=suspect).count() == 1
    assert Referral.objects.get(suspect_id=suspect).body_name == f"{RTL} 西湖区市场监管局"
    assert Case.objects.get(pk=case.pk).version == version


def test_a_suspect_of_another_case_cannot_be_transferred_through_this_case(world):
    """The URL names another case the supervisor handles with this case's suspect: 404, nothing written."""
    _case, suspect = non_prosecuted(world)
    other = case_in(world, S.SUPERVISION)
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{other.pk}/suspects/{suspect}/transfer/",
        {"target": "other", "body_name": "某局"},
        format="json",
    )
    assert response.status_code == 404
    assert Referral.objects.filter(suspect_id=suspect).count() == 0


# --- hostile text ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("department", "法制支队\x00"), ("notes", "a\x00b"), ("document_reference", "\x00")],
)
def test_a_nul_byte_in_a_fault_finding_is_refused_on_the_api_and_the_page(world, field, value):
    """PostgreSQL cannot store NUL: both doors answer 400 on the field instead of a server error, nothing written."""
    case = case_in(world, S.SUPERVISION)
    before = fault_state(case)
    body = {
        "finding": "serious",
        "department": DEPARTMENT,
        "found_on": timezone.localdate().isoformat(),
        "document_reference": REFERENCE,
        field: value,
    }
    response = token_client(world.supervisor).post(f"/api/v1/cases/{case.pk}/fault-findings/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == [field]
    response = page(world.supervisor).post(
        f"/cases/{case.pk}/fault-findings/", fault_form(case.version, **{field: value})
    )
    assert response.status_code == 400
    assert fault_state(case) == before


def test_an_override_with_a_nul_byte_is_refused_through_the_api(world):
    """A NUL byte in an override's explanation: 400 naming the field, the case stays in supervision with its flags open."""
    case, r1, r2 = two_downgrades(world)
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{case.pk}/actions/conclude/",
        {"version": case.version, "overrides": [override(r1, text="理由\x00"), override(r2)]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["overrides"]
    assert FlagOverride.objects.count() == 0
    assert Case.objects.get(pk=case.pk).status == S.SUPERVISION


def test_an_override_naming_a_flag_already_overridden_is_refused(world):
    """Recalled to look-back, a supervisor overrides again a flag overridden at the conclusion: refused, the first override stands."""
    case, item = overridden(world)
    flag = item.flag
    assert flag.resolution == FlagResolution.OVERRIDDEN
    case = Case.objects.get(pk=case.pk)
    response = token_client(world.supervisor).post(
        f"/api/v1/cases/{case.pk}/actions/close/",
        {
            "version": case.version,
            "officer_informed": True,
            "disposition_consistent": True,
            "overrides": [{"flag": flag.pk, "reason": OverrideReason.OTHER, "text": "再次"}],
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert FlagOverride.objects.get(flag=flag).explanation == f"{FORMULA} <b>x</b>"
    assert Case.objects.get(pk=case.pk).status == S.LOOK_BACK


# --- very long text: the page took what the API refuses ------------------------------------------------------------


def test_the_page_refuses_a_conclusion_reason_longer_than_the_api_takes(world):
    """A 2,001-character reason for concluding without a suspect on the case page (the API's limit is 2,000): 400 on the reason, the case stays in supervision."""
    case = case_in(world, S.SUPERVISION)
    version = case.version
    response = page(world.supervisor).post(
        f"/cases/{case.pk}/actions/conclude/",
        {"conclude-version": version, "conclude-no_suspect_reason": "other", "conclude-reason": "长" * 2001},
    )
    assert response.status_code == 400
    assert "Keep this to 2000 characters or fewer." in response.content.decode()
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.status, fresh.version, fresh.conclusion_reason) == (S.SUPERVISION, version, "")


def test_the_page_refuses_a_lenient_reason_longer_than_the_api_takes(world):
    """A 5,001-character "other" lenient reason on the case page's disposition form (the API's limit is 5,000): 400 on the field, nothing recorded."""
    case = case_in(world, S.SUPERVISION)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    version = Case.objects.get(pk=case.pk).version
    before = (suspect.disposition, suspect.lenient_reason, suspect.lenient_reason_detail)
    response = page(world.supervisor).post(
        f"/cases/{case.pk}/suspects/{suspect.pk}/disposition/",
        {
            f"d{suspect.pk}-disposition": Disposition.NO_ACTION,
            f"d{suspect.pk}-lenient_reason": LenientReason.OTHER,
            f"d{suspect.pk}-lenient_reason_detail": "理" * 5001,
        },
    )
    assert response.status_code == 400
    assert "Keep this to 5000 characters or fewer." in response.content.decode()
    suspect.refresh_from_db()
    assert (suspect.disposition, suspect.lenient_reason, suspect.lenient_reason_detail) == before
    assert Case.objects.get(pk=case.pk).version == version


# --- a party to the case overriding the rules' finding on it ---------------------------------------------------------

INVOLVED = "You filed this case or are listed on it: another supervisor of its unit must override its flags."


def test_a_supervisor_listed_on_the_case_cannot_override_its_flags(world):
    """The county supervisor, listed as an involved officer (a party, barred from the police-fault finding), overrides both downgrades through the API: 403 naming why, nothing changed; the city supervisor then may."""
    case, r1, r2 = two_downgrades(world)
    services.add_involved_officer(case=case, by=world.supervisor, user=world.county_supervisor)
    case = Case.objects.get(pk=case.pk)
    before = (case.status, case.version, FlagOverride.objects.count(), CaseEvent.objects.filter(case=case).count())
    body = {"version": case.version, "overrides": [override(r1), override(r2)]}
    response = token_client(world.county_supervisor).post(
        f"/api/v1/cases/{case.pk}/actions/conclude/", body, format="json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["detail"] == INVOLVED
    fresh = Case.objects.get(pk=case.pk)
    after = (fresh.status, fresh.version, FlagOverride.objects.count(), CaseEvent.objects.filter(case=case).count())
    assert after == before
    response = token_client(world.supervisor).post(f"/api/v1/cases/{case.pk}/actions/conclude/", body, format="json")
    assert response.status_code == 200, response.content
    assert FlagOverride.objects.filter(by=world.supervisor).count() == 2


def test_the_policy_bars_the_filer_and_the_listed_supervisor_from_overriding(world):
    """can_override_flags says no to a supervisor who filed the case or is listed on it, yes to one who is neither."""
    from accounts.selectors import actor_for
    from cases import policy

    filed = services.create_draft_case(by=world.county_supervisor, unit=world.station, add_filer_as_officer=False)
    listed = case_in(world, S.SUPERVISION)
    services.add_involved_officer(case=listed, by=world.supervisor, user=world.county_supervisor)
    filed.status = S.SUPERVISION  # the question is asked of the case as it would stand in supervision
    answers = {
        (name, who): policy.can_override_flags(actor_for(getattr(world, who)), case, "conclude")
        for name, case in (("filed", filed), ("listed", Case.objects.get(pk=listed.pk)))
        for who in ("county_supervisor", "supervisor")
    }
    assert answers == {
        ("filed", "county_supervisor"): False,
        ("filed", "supervisor"): True,
        ("listed", "county_supervisor"): False,
        ("listed", "supervisor"): True,
    }
