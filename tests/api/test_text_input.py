"""Text fields take JSON strings only, as the schema documents: a number sent for text is a 400 that changes
nothing, never stored as its string form ("0", "12.5")."""

import pytest

from cases import services
from cases.choices import CaseStatus, SupportKind
from cases.models import CaseEvent, SupportMeasure, Suspect
from tests.factories import case_in


@pytest.mark.parametrize("value", [0, 12.5])
def test_a_suspect_name_or_id_number_that_is_not_a_string_is_refused(world, api, value):
    case = case_in(world, CaseStatus.INTAKE)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某", id_number="330106199001011234")
    events = CaseEvent.objects.filter(case=case).count()
    client = api("supervisor")
    for field in ("name", "id_number"):
        response = client.patch(f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/", {field: value}, format="json")
        assert (response.status_code, list(response.json()["errors"])) == (400, [field])
    suspect = Suspect.objects.get(pk=suspect.pk)
    assert (suspect.name, suspect.id_number) == ("张某", "330106199001011234")
    assert CaseEvent.objects.filter(case=case).count() == events


def test_support_notes_that_are_not_a_string_are_refused(world, api):
    case = case_in(world, CaseStatus.SUPERVISION)
    measure = services.record_support_measure(
        case=case, by=world.supervisor, kind=SupportKind.COMFORT_VISIT, notes="Visited at home"
    )
    response = api("supervisor").patch(f"/api/v1/cases/{case.pk}/support/{measure.pk}/", {"notes": 0}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["notes"])
    assert SupportMeasure.objects.get(pk=measure.pk).notes == "Visited at home"


def test_an_officer_adding_a_suspect_to_their_draft_with_a_numeric_name_is_refused(world, api):
    case = case_in(world, CaseStatus.DRAFT)
    response = api("officer").post(f"/api/v1/cases/{case.pk}/suspects/", {"name": 0}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["name"])
    assert not Suspect.objects.filter(case=case).exists()


def test_text_sent_as_a_string_is_still_accepted(world, api):
    case = case_in(world, CaseStatus.INTAKE)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    response = api("supervisor").patch(
        f"/api/v1/cases/{case.pk}/suspects/{suspect.pk}/", {"name": "0", "id_number": ""}, format="json"
    )
    assert (response.status_code, response.json()["name"]) == (200, "0")
    assert Suspect.objects.get(pk=suspect.pk).name == "0"


def test_text_longer_than_its_limit_is_refused_before_white_space_is_trimmed(world, api):
    # The schema says at most 30 characters; 31 with a leading newline is more, even if trimming would fit it.
    case = case_in(world, CaseStatus.INTAKE)
    before = Suspect.objects.filter(case=case).count()
    sent = "\n" + "3" * 30
    response = api("supervisor").post(f"/api/v1/cases/{case.pk}/suspects/", {"id_number": sent}, format="json")
    assert (response.status_code, list(response.json()["errors"])) == (400, ["id_number"])
    assert Suspect.objects.filter(case=case).count() == before
    fits = api("supervisor").post(f"/api/v1/cases/{case.pk}/suspects/", {"id_number": " " + "3" * 29}, format="json")
    assert fits.status_code == 201
    assert Suspect.objects.filter(case=case).count() == before + 1
