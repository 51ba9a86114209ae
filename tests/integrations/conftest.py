"""The integrations' test helpers: the city's 110 dispatch system (an integration account with a token) and the
incidents it sends."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import User
from integrations.services.accounts import create_integration_account
from tests.factories import World

URL = "/api/v1/incidents/110/"


@pytest.fixture(autouse=True)
def _evidence_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def dispatch(world: World) -> User:
    """The 110 dispatch system of the city (330100): it imports for the city's subtree."""
    return create_integration_account(username="hz110", name="杭州市110接处警系统", unit=world.city)


def client_for(user: User) -> APIClient:
    client = APIClient()
    _token, key = tokens.issue_token(user=user, name="feed", mfa_verified=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def feed(dispatch: User) -> APIClient:
    return client_for(dispatch)


def incident(world: World, number: str = "330106202603120042", **overrides: Any) -> dict[str, Any]:
    """The officer of the station attacked in a dispute, the other officer of the county's neighbouring station there
    too but not attacked."""
    body: dict[str, Any] = {
        "incident_number": number,
        "occurred_at": (timezone.now() - timedelta(hours=3)).isoformat(),
        "location": "杭州市西湖区北山街12号",
        "summary": "处置纠纷警情时，民警遭当事人推搡踢打。",
        "units_dispatched": [world.station.code, world.other_station.code],
        "officers": [
            {
                "police_number": world.officer.badge_number,
                "name": world.officer.full_name,
                "unit": world.station.code,
                "attacked": True,
                "injured": True,
            },
            {
                "police_number": world.other_officer.badge_number,
                "name": world.other_officer.full_name,
                "unit": world.other_station.code,
                "attacked": False,
            },
        ],
    }
    body.update(overrides)
    return body
