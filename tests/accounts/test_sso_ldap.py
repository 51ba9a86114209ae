"""Single sign-on against an LDAP directory, end to end: Debian's slapd started by the test on a loopback port with a
temporary configuration (tests/accounts/slapd.py), RightsGuard's ordinary log-in form in front of it.

Proven: log-in and first log-in provisioning by the police number (never the name), an entry removed or disabled in
the directory blocking the next log-in, a deactivated account staying out, the group mapping's allow-list and its
removals, RightsGuard's own second factor after every directory log-in, and a user name that tries to widen the
search filter. A machine without slapd fails here: CI installs it (scripts/system-deps).
"""

from collections.abc import Iterator

import pytest
from django.contrib.auth.hashers import is_password_usable
from django.test import Client

from accounts import services
from accounts.models import AccountAudit, AccountChange, DirectoryGroupMapping, Membership, Role, SignOn, User
from tests.accounts.slapd import GROUPS, PEOPLE, SUFFIX, Slapd, slapd_binary
from tests.factories import PASSWORD, UserFactory

BACKEND = "accounts.directory.DirectoryBackend"
ALICE_PASSWORD = "alice-directory-password"


@pytest.fixture
def directory(tmp_path, settings) -> Iterator[Slapd]:
    binary = slapd_binary()
    if binary is None:
        pytest.fail("slapd is not installed: run scripts/system-deps (Debian's slapd package).")
    server = Slapd(tmp_path / "slapd", binary).start()
    settings.RIGHTSGUARD_LDAP_URI = server.uri
    settings.RIGHTSGUARD_LDAP_BIND_DN = f"cn=reader,{SUFFIX}"
    settings.RIGHTSGUARD_LDAP_BIND_PASSWORD = "reader-password"
    settings.RIGHTSGUARD_LDAP_USER_BASE = PEOPLE
    settings.RIGHTSGUARD_LDAP_USER_FILTER = "(&(objectClass=inetOrgPerson)(uid=%(user)s)(!(employeeType=disabled)))"
    settings.RIGHTSGUARD_LDAP_GROUP_BASE = GROUPS
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, BACKEND]
    yield server
    server.stop()


@pytest.fixture
def alice(directory) -> str:
    return directory.add_person(
        "alice", police_number="330106123", password=ALICE_PASSWORD, name="Alice Wang", mail="alice@example.police"
    )


def log_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def logged_in_as(client: Client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return None if pk is None else User.objects.get(pk=pk)


def test_first_log_in_provisions_an_account_by_police_number(client, world, directory, alice):
    before = User.objects.count()
    answer = log_in(client, "alice", ALICE_PASSWORD)
    assert answer.status_code == 302
    user = logged_in_as(client)
    assert user is not None
    assert User.objects.count() == before + 1
    assert (user.username, user.badge_number, user.full_name, user.email) == (
        "alice",
        "330106123",
        "Alice Wang",
        "alice@example.police",
    )
    # No password here: the account logs in through the directory only.
    assert not is_password_usable(user.password)
    assert list(Membership.objects.filter(user=user)) == []
    assert list(AccountAudit.objects.filter(subject=user).values_list("action", "actor")) == [
        (AccountChange.CREATED, None)
    ]
    client.post("/accounts/logout/")
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    assert logged_in_as(client) == user
    assert User.objects.count() == before + 1


def test_a_wrong_directory_password_is_refused(client, world, directory, alice):
    answer = log_in(client, "alice", "not-alices-password")
    assert answer.status_code == 200
    assert "Please enter a correct username and password" in answer.content.decode()
    assert logged_in_as(client) is None
    assert User.objects.filter(badge_number="330106123").count() == 0


def test_the_account_is_found_by_police_number_never_by_name(client, world, directory):
    # The directory's "officer" is not the local account called officer: their police number is the county
    # supervisor's.
    services.update_user_details(user=world.county_supervisor, changes={"badge_number": "330106777"})
    directory.add_person("officer", police_number="330106777", password=ALICE_PASSWORD)
    assert log_in(client, "officer", ALICE_PASSWORD).status_code == 302
    assert logged_in_as(client) == world.county_supervisor
    # The local officer still logs in with their own password, as themselves.
    client.post("/accounts/logout/")
    assert log_in(client, "officer", PASSWORD).status_code == 302
    assert logged_in_as(client) == world.officer


def test_a_new_account_does_not_take_a_local_user_name(client, world, directory):
    directory.add_person("officer", police_number="330106888", password=ALICE_PASSWORD)
    assert log_in(client, "officer", ALICE_PASSWORD).status_code == 302
    user = logged_in_as(client)
    assert user is not None
    assert user != world.officer
    assert (user.username, user.badge_number) == ("officer-330106888", "330106888")


def test_an_entry_removed_from_the_directory_cannot_log_in_next_time(client, world, directory, alice):
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    directory.delete(alice)
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 200
    assert logged_in_as(client) is None


def test_an_entry_disabled_in_the_directory_cannot_log_in_next_time(client, world, directory, alice):
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    directory.replace(alice, "employeeType", ["disabled"])
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 200
    assert logged_in_as(client) is None


def test_an_account_deactivated_in_rightsguard_stays_out(client, world, directory, alice):
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    user = logged_in_as(client)
    assert user is not None
    services.deactivate_user(user=user)
    # Its session ended with the deactivation, and the directory's word does not let it back in.
    assert client.get("/").status_code == 302
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 200
    assert logged_in_as(client) is None


def test_a_directory_group_cannot_grant_a_role_the_mapping_does_not_allow(client, world, directory, alice, settings):
    settings.RIGHTSGUARD_SSO_GRANTABLE_ROLES = ["officer", "supervisor"]
    officers = directory.add_group("officers", [alice])
    admins = directory.add_group("admins", [alice])
    directory.add_group("unmapped", [alice])
    DirectoryGroupMapping.objects.create(directory=SignOn.LDAP, group=officers, unit=world.station, role=Role.OFFICER)
    # Written past the admin site's check: the allow-list still keeps the role from being granted.
    DirectoryGroupMapping.objects.create(directory=SignOn.LDAP, group=admins, unit=world.province, role=Role.ADMIN)
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    user = logged_in_as(client)
    assert user is not None
    assert set(Membership.objects.filter(user=user).values_list("unit__code", "role", "managed_by")) == {
        (world.station.code, Role.OFFICER, SignOn.LDAP)
    }
    granted = AccountAudit.objects.get(subject=user, action=AccountChange.MEMBERSHIP_GRANTED)
    assert (granted.actor, granted.unit, granted.role) == (None, world.station, Role.OFFICER)
    assert granted.after == {
        "memberships": [f"{world.station.code}:officer"],
        "directory": "ldap",
        "groups": [officers],
    }
    # Once the installation allows it, the same row grants it at the next log-in.
    client.post("/accounts/logout/")
    settings.RIGHTSGUARD_SSO_GRANTABLE_ROLES = ["officer", "supervisor", "admin"]
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    assert set(Membership.objects.filter(user=user).values_list("unit__code", "role")) == {
        (world.station.code, Role.OFFICER),
        (world.province.code, Role.ADMIN),
    }


def test_leaving_a_group_removes_only_what_the_directory_granted(client, world, directory, alice):
    officers = directory.add_group("officers", [alice])
    DirectoryGroupMapping.objects.create(directory=SignOn.LDAP, group=officers, unit=world.station, role=Role.OFFICER)
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    user = logged_in_as(client)
    assert user is not None
    services.grant_membership(user=user, unit=world.other_station, role=Role.OFFICER)
    client.post("/accounts/logout/")
    directory.replace(officers, "member", [f"cn=reader,{SUFFIX}"])
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    assert set(Membership.objects.filter(user=user).values_list("unit__code", "role", "managed_by")) == {
        (world.other_station.code, Role.OFFICER, "")
    }
    revoked = AccountAudit.objects.get(subject=user, action=AccountChange.MEMBERSHIP_REVOKED)
    assert (revoked.actor, revoked.unit, revoked.role) == (None, world.station, Role.OFFICER)
    assert revoked.after == {
        "memberships": [f"{world.other_station.code}:officer"],
        "directory": "ldap",
        "groups": [],
    }


def test_a_directory_log_in_always_goes_through_our_second_factor(client, world, directory, alice, settings):
    settings.RIGHTSGUARD_MFA_REQUIRED = True
    supervisors = directory.add_group("supervisors", [alice])
    DirectoryGroupMapping.objects.create(
        directory=SignOn.LDAP, group=supervisors, unit=world.city, role=Role.SUPERVISOR
    )
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    assert logged_in_as(client) is not None
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"] == "/accounts/mfa/setup/?next=/"


@pytest.mark.parametrize("username", ["*", "alice)(uid=*", "al*", "alice)(|(employeeType=*", "*)(objectClass=*"])
def test_a_user_name_cannot_widen_the_search(client, world, directory, alice, username):
    assert log_in(client, username, ALICE_PASSWORD).status_code == 200
    assert logged_in_as(client) is None
    assert User.objects.filter(badge_number="330106123").count() == 0


def test_local_accounts_keep_working_beside_the_directory(client, world, directory):
    local = UserFactory(username="local-only")
    assert log_in(client, "local-only", PASSWORD).status_code == 302
    assert logged_in_as(client) == local


def test_a_directory_session_ends_when_the_account_is_switched_off(client, world, directory, alice):
    assert log_in(client, "alice", ALICE_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    # The flag alone, written past the service (which would also end the sessions), ends access on the next request.
    User.objects.filter(badge_number="330106123").update(is_active=False)
    answer = client.get("/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=/"
