import pytest
from django.core.exceptions import ValidationError

from accounts import selectors, services, tokens
from accounts.models import ApiToken, OrgUnit, Role


def test_units_carry_a_materialised_path_of_codes(world):
    assert world.station.path == "/000000/330000/330100/330106/330106001/"
    assert world.station.depth == 4
    assert list(selectors.units_under(world.city).values_list("code", flat=True)) == [
        "330100",
        "330106",
        "330106001",
        "330106002",
    ]


def test_a_unit_must_sit_below_its_parent_level(world):
    with pytest.raises(ValidationError) as excinfo:
        services.create_org_unit(code="330199", name="x", level="province", parent=world.city)
    assert list(excinfo.value.message_dict) == ["level"]
    assert not OrgUnit.objects.filter(code="330199").exists()


def test_codes_are_unique_and_slash_free(world):
    with pytest.raises(ValidationError):
        services.create_org_unit(code="330100", name="dup", level="county", parent=world.city)
    with pytest.raises(ValidationError):
        services.create_org_unit(code="33/01", name="bad", level="county", parent=world.city)


@pytest.mark.parametrize("code", ["", "33 01", '33"01', "33\n01", "西湖", "3301%", "1234567890123", "33;01"])
def test_a_unit_code_is_plain_characters_only(world, code):
    with pytest.raises(ValidationError) as refused:
        services.create_org_unit(code=code, name="bad", level="county", parent=world.city)
    assert refused.value.message_dict == {"code": ["A unit code is 1 to 12 letters, digits, hyphens or underscores."]}
    assert not OrgUnit.objects.filter(name="bad").exists()


def test_passwords_follow_the_validators(db):
    with pytest.raises(ValidationError):
        services.create_user(username="weak", password="short")
    user = services.create_user(username="strong", password="a-long-enough-passphrase")
    assert user.check_password("a-long-enough-passphrase")


def test_actor_snapshot(world):
    actor = selectors.actor_for(world.supervisor)
    assert actor.covers(Role.SUPERVISOR, world.station.path)
    assert not actor.covers(Role.SUPERVISOR, world.sibling_station.path)
    assert not actor.covers(Role.ADMIN, world.station.path)


def test_supervisors_covering_picks_the_nearest_office(world):
    assert list(selectors.supervisors_covering(world.station.path)) == [world.county_supervisor]
    assert list(selectors.supervisors_covering(world.sibling_station.path)) == [world.sibling_supervisor]
    services.deactivate_user(user=world.county_supervisor)
    assert list(selectors.supervisors_covering(world.station.path)) == [world.supervisor]


def test_units_visible_to(world):
    assert set(selectors.units_visible_to(world.admin).values_list("code", flat=True)) == {
        "330000",
        "330100",
        "330106",
        "330106001",
        "330106002",
    }


def test_deactivation_revokes_api_tokens(world):
    tokens.issue_token(user=world.officer, name="phone", mfa_verified=False)
    services.deactivate_user(user=world.officer)
    assert ApiToken.objects.filter(user=world.officer).count() == 0
