"""The API token cache against the admin site's bulk actions and inline forms, and the API's own token endpoints
used against another person's token: each ends (or leaves) a token that was being served from the cache."""

from accounts.models import ApiToken, Membership, Role, User
from tests.factories import PASSWORD
from tests.security.test_api_token_cache import ME, cached, superuser_admin, terminal  # noqa: F401 (a fixture)
from tests.security.test_api_tokens import admin_form_data, issue, refused


def test_deleting_accounts_in_bulk_in_the_admin_site_ends_their_cached_tokens(world, superuser_admin):  # noqa: F811
    keys = []
    for username in ("short_lived_1", "short_lived_2"):
        user = User.objects.create_user(username=username, password=PASSWORD)
        Membership.objects.create(user=user, unit=world.station, role=Role.OFFICER)
        keys.append((user.pk, issue(user)[1]))
    for _pk, key in keys:
        cached(key)
    response = superuser_admin.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [pk for pk, _key in keys], "post": "yes"},
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk__in=[pk for pk, _key in keys]).exists()
    for _pk, key in keys:
        assert refused(terminal(key).get(ME))


def test_revoking_memberships_in_bulk_in_the_admin_site_ends_the_cached_token(world, superuser_admin):  # noqa: F811
    _token, key = issue(world.officer)
    cached(key)
    membership = Membership.objects.get(user=world.officer)
    response = superuser_admin.post(
        "/admin/accounts/membership/",
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert refused(terminal(key).get(ME))


def test_revoking_a_membership_on_the_accounts_page_ends_the_cached_token(world, superuser_admin):  # noqa: F811
    _token, key = issue(world.supervisor, mfa_verified=True)
    cached(key)
    url = f"/admin/accounts/user/{world.supervisor.pk}/change/"
    data = admin_form_data(superuser_admin.get(url))
    data["memberships-0-DELETE"] = "on"
    response = superuser_admin.post(url, data)
    assert response.status_code == 302
    assert not Membership.objects.filter(user=world.supervisor).exists()
    assert refused(terminal(key).get(ME))


def test_naming_another_persons_token_leaves_it_working_from_the_cache(world):
    _mine, my_key = issue(world.officer)
    theirs, their_key = issue(world.other_officer)
    cached(their_key)
    assert terminal(my_key).delete(f"/api/v1/auth/tokens/{theirs.pk}/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    cached(their_key)  # still served, from the cache
