"""Issue 17: a form sent from a case page that is out of date, or for an action the case no longer allows, goes back
to the case page (POST, redirect, GET) with a notice of what happened and the input kept (cases/views/kept.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases import services
from cases.choices import CaseStatus, FindingProblem, PauseReason, Track
from cases.models import Case, CaseEvent
from cases.views.kept import SESSION_KEY, _when
from cases.workflow_actions import WORKFLOW_ACTIONS
from tests.cases.test_services import snapshot
from tests.cases.test_views import png_bytes
from tests.factories import case_in

S = CaseStatus


def moved(case: Case) -> str:
    event = CaseEvent.objects.filter(case=case).order_by("-at", "-id").first()
    assert event is not None
    status = Case.objects.get(pk=case.pk).get_status_display()
    return f"This case moved to “{status}” by {event.actor} at {_when(event.at)}."


@pytest.fixture
def closed_meanwhile(world):
    """A case in look-back with a suspect, the version its page showed, then closed by another supervisor."""
    case = case_in(world, S.LOOK_BACK)
    suspect = services.add_suspect(case=case, by=world.supervisor, name="张某")
    case.refresh_from_db()
    seen = case.version
    WORKFLOW_ACTIONS["close"].service(
        case=case, by=world.county_supervisor, expected_version=seen, officer_informed=True, disposition_consistent=True
    )
    return case, suspect, seen


# (url name, url args after the case, the posted data, the text the "not saved" box must hold)
HANDLING = {
    "note": ("cases:note", [], {"text": "T-note"}, "T-note"),
    "finding": ("cases:finding", [], {"problem": FindingProblem.values[0], "detail": "T-finding"}, None),
    "fault": ("cases:fault-finding", [], {"fault-department": "T-fault"}, None),
    "officer": ("cases:add-party", ["officer"], {"officer-name": "T-officer"}, None),
    "suspect": ("cases:add-party", ["suspect"], {"suspect-name": "T-suspect"}, None),
    "pause": ("cases:clock", ["pause"], {"reason": PauseReason.values[0], "note": "T-pause"}, None),
    "support": ("cases:support", [], {"notes": "T-support"}, None),
    "facts": ("cases:facts", [], {"attackers": "T-facts", "weapon": "blunt"}, None),
    "assign": ("cases:assign", [], {"assignee": ""}, ""),
}


@pytest.mark.parametrize("key", sorted(HANDLING))
def test_a_handling_form_sent_after_the_case_closed_says_so_and_keeps_the_text(client, world, closed_meanwhile, key):
    case, _suspect, seen = closed_meanwhile
    name, args, data, _text = HANDLING[key]
    client.force_login(world.supervisor)
    before = snapshot(case)
    response = client.post(reverse(name, args=[case.pk, *args]), {**data, "page_version": seen, "version": seen})
    assert (response.status_code, response["Location"]) == (302, reverse("cases:detail", args=[case.pk]))
    assert snapshot(case) == before
    page = client.get(response["Location"])
    notice = page.context["kept_notice"]
    assert notice.headline == moved(case)
    typed = [v for v in data.values() if str(v).startswith("T-")]
    if typed:
        assert typed[0] in notice.text
        assert notice.detail.endswith(
            "is not possible at this stage any more. What you typed is kept below so you can copy it."
        )
        assert 'id="kept-text"' in page.content.decode()
    else:
        assert (notice.text, notice.detail) == (
            "",
            "Nothing was saved, and “Assign” is not possible at this stage any more.",
        )
    # Said once.
    assert client.get(response["Location"]).context["kept_notice"] is None


def test_a_disposition_sent_after_the_case_closed_keeps_the_text(client, world, closed_meanwhile):
    case, suspect, seen = closed_meanwhile
    client.force_login(world.supervisor)
    before = snapshot(case)
    response = client.post(
        reverse("cases:disposition", args=[case.pk, suspect.pk]),
        {f"d{suspect.pk}-disposition_article": "T-article", "page_version": seen},
    )
    assert response.status_code == 302
    assert snapshot(case) == before
    notice = client.get(response["Location"]).context["kept_notice"]
    assert notice.headline == moved(case)
    assert "T-article" in notice.text


def test_an_upload_after_the_case_closed_tells_the_script_where_to_go(
    client, world, closed_meanwhile, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    case, _suspect, seen = closed_meanwhile
    client.force_login(world.supervisor)
    before = snapshot(case)
    upload = SimpleUploadedFile("injury.png", png_bytes(), content_type="image/png")
    response = client.post(
        reverse("cases:evidence-upload", args=[case.pk]),
        {"file": upload, "description": "T-evidence", "page_version": seen},
        HTTP_ACCEPT="application/json",
    )
    assert (response.status_code, response.json()) == (409, {"redirect": reverse("cases:detail", args=[case.pk])})
    assert snapshot(case) == before
    notice = client.get(reverse("cases:detail", args=[case.pk])).context["kept_notice"]
    assert notice.headline == moved(case)
    assert notice.text == "T-evidence"
    assert notice.detail.endswith("The file was not uploaded: choose it again.")


def test_without_a_stale_page_a_refusal_is_still_a_403(client, world, closed_meanwhile):
    case, _suspect, _seen = closed_meanwhile
    client.force_login(world.supervisor)
    before = snapshot(case)
    response = client.post(reverse("cases:note", args=[case.pk]), {"text": "T", "page_version": case.version + 1})
    assert response.status_code == 403
    assert snapshot(case) == before
    assert SESSION_KEY not in client.session


def test_an_action_no_longer_possible_names_who_moved_the_case(client, world):
    case = case_in(world, S.INTAKE)
    seen = case.version
    WORKFLOW_ACTIONS["refer"].service(
        case=case, by=world.county_supervisor, expected_version=seen, track=Track.CRIMINAL, to_unit=world.county
    )
    client.force_login(world.supervisor)
    before = snapshot(case)
    response = client.post(
        reverse("cases:action", args=[case.pk, "reject"]), {"reject-version": seen, "reject-reason": "与热线重复"}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("cases:detail", args=[case.pk]))
    assert snapshot(case) == before
    page = client.get(response["Location"])
    notice = page.context["kept_notice"]
    assert notice.headline == moved(case)
    assert notice.headline.startswith(f"This case moved to “Referred” by {world.county_supervisor} at ")
    assert notice.text == "与热线重复"


def test_an_illegal_action_on_an_unchanged_case_says_why(client, world):
    """A Close for a case in supervision sent with its current version (a form kept from look-back): the service's
    refusal is the notice, and the boxes kept."""
    case = case_in(world, S.SUPERVISION)
    client.force_login(world.supervisor)
    before = snapshot(case)
    response = client.post(
        reverse("cases:action", args=[case.pk, "close"]),
        {"close-version": case.version, "close-officer_informed": "on", "close-disposition_consistent": "on"},
    )
    assert response.status_code == 302
    assert snapshot(case) == before
    notice = client.get(response["Location"]).context["kept_notice"]
    assert notice.headline == (
        f"The action “Close” is not possible while the case is at the stage “{case.get_status_display()}”."
    )
    assert "yes" in notice.text


def test_plain_invalid_input_on_a_current_page_stays_in_place(client, world):
    case = case_in(world, S.SUPERVISION)
    client.force_login(world.supervisor)
    response = client.post(reverse("cases:note", args=[case.pk]), {"text": "", "page_version": case.version})
    assert response.status_code == 400
    assert response.context["kept_notice"] is None
