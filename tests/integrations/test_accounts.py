"""Integration accounts (accounts/integration.py): another system's account, never a person's, without a password."""

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from accounts import scope
from accounts import services as account_services
from accounts.models import AccountAudit, AccountChange, ApiToken, Membership, Role, User
from integrations.services.accounts import create_integration_account, issue_integration_token
from tests.factories import PASSWORD
from tests.integrations.conftest import URL, incident


def test_an_integration_account_has_the_role_and_no_password(world, dispatch):
    assert list(Membership.objects.filter(user=dispatch).values_list("unit", "role")) == [
        (world.city.pk, Role.INTEGRATION)
    ]
    assert dispatch.has_usable_password() is False
    audit = AccountAudit.objects.get(subject=dispatch, action=AccountChange.MEMBERSHIP_GRANTED)
    assert (audit.unit, audit.role) == (world.city, Role.INTEGRATION)


def test_a_persons_account_cannot_become_an_integration_account(world):
    with pytest.raises(ValidationError) as refused:
        account_services.grant_membership(user=world.officer, unit=world.city, role=Role.INTEGRATION)
    assert refused.value.message_dict == {
        "role": ["A person's account cannot be an integration account: create an account for the system."]
    }
    assert not Membership.objects.filter(user=world.officer, role=Role.INTEGRATION).exists()


def test_an_integration_account_holds_no_other_role(world, dispatch):
    with pytest.raises(ValidationError) as refused:
        account_services.grant_membership(user=dispatch, unit=world.station, role=Role.OFFICER)
    assert refused.value.message_dict == {"role": ["An integration account holds no other role."]}
    assert list(Membership.objects.filter(user=dispatch).values_list("role", flat=True)) == [Role.INTEGRATION]


def test_an_integration_account_never_has_a_password(world, dispatch):
    with pytest.raises(ValidationError):
        account_services.create_user(
            username="with-password", password=PASSWORD, unit=world.city, role=Role.INTEGRATION, validate=False
        )
    assert not User.objects.filter(username="with-password").exists()
    with pytest.raises(ValidationError):
        account_services.set_password(user=dispatch, password="a-long-and-new-passphrase-9")
    dispatch.refresh_from_db()
    assert dispatch.has_usable_password() is False


def test_a_password_set_around_the_services_obtains_no_token(world, dispatch):
    dispatch.set_password(PASSWORD)
    dispatch.save(update_fields=["password"])
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "hz110", "password": PASSWORD, "name": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert ApiToken.objects.filter(user=dispatch).count() == 0


def test_an_administrator_creates_one_in_their_subtree_only(world):
    assert Role.INTEGRATION in scope.grantable_roles(world.admin, world.city)
    made = create_integration_account(username="zj110", name="浙江省110", unit=world.city, by=world.admin)
    assert made.memberships.get().role == Role.INTEGRATION
    with pytest.raises(PermissionDenied):
        create_integration_account(username="hb110", name="湖北省110", unit=world.sibling_station, by=world.admin)
    assert not User.objects.filter(username="hb110").exists()


def test_the_commands_make_an_account_and_a_token_that_works(world, django_capture_on_commit_callbacks):
    out = io.StringIO()
    call_command("create_integration_account", "hz110", name="杭州市110接处警系统", unit="330100", stdout=out)
    assert out.getvalue() == "Created integration account hz110 for 330100.\n"
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_integration_token", "hz110", name="feed host", stdout=out, stderr=err)
    key = out.getvalue().strip()
    assert "Token 'feed host' for hz110, valid until" in err.getvalue()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post(URL, incident(world), format="json").status_code == 201
    with pytest.raises(CommandError, match="officer is not an integration account"):
        call_command("issue_integration_token", "officer", stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="No unit has the code '999'"):
        call_command("create_integration_account", "x110", name="x", unit="999", stdout=io.StringIO())


def test_a_token_is_issued_only_to_an_integration_account(world, dispatch):
    with pytest.raises(ValidationError):
        issue_integration_token(account=world.officer, name="x")
    token, _key = issue_integration_token(account=dispatch, name="feed")
    assert (token.user, token.mfa_verified) == (dispatch, False)


def test_a_change_of_standing_ends_the_integration_token(world, dispatch, feed):
    assert feed.post(URL, incident(world), format="json").status_code == 201
    account_services.grant_membership(user=dispatch, unit=world.sibling_station, role=Role.INTEGRATION)
    assert feed.post(URL, incident(world, "B-1"), format="json").status_code == 401
