"""The administration site, health probes and the login wall."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from cases.choices import CaseStatus
from rightsguard import heartbeat
from tests.factories import PASSWORD, UserFactory, case_in


@pytest.fixture
def staff_admin(world):
    """The province admin with staff access and view permissions, as seed_demo sets up."""
    user = world.admin
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


def test_health_probes_need_no_login(client, db, monkeypatch):
    monkeypatch.setattr(heartbeat, "worker_state", lambda: "stale")  # no worker runs here (tests/faults: one does)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {
        "status": "ok",
        "checks": {"database": True, "broker": True},
        "database": "ok",
        "worker": "stale",
    }


def test_everything_else_needs_login(client, db):
    for url in ("/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_login_page_shows_the_use_banner(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b"restricted to authorised personnel" in response.content


# Admin pages for superusers only: a row there grants roles (accounts/admin.py).
SUPERUSER_ONLY = {"accounts.DirectoryGroupMapping"}


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_every_model_has_a_working_admin_changelist(client, world, staff_admin, model):
    case_in(world, CaseStatus.SUPERVISION)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    client.force_login(staff_admin)
    if model._meta.label in SUPERUSER_ONLY:
        assert client.get(url).status_code == 403
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(url).status_code == 200


def test_admin_case_list_is_scoped_to_the_subtree(client, world, staff_admin):
    case = case_in(world, CaseStatus.INTAKE)
    client.force_login(staff_admin)
    url = reverse("admin:cases_case_changelist")
    assert case.reference in client.get(url).content.decode()
    outsider = UserFactory(is_staff=True)
    outsider.user_permissions.set(Permission.objects.filter(codename="view_case"))
    client.force_login(outsider)
    assert case.reference not in client.get(url).content.decode()
    assert client.get(reverse("admin:cases_case_change", args=[case.pk])).status_code == 302  # not found → index


def test_case_records_are_read_only_in_the_admin(client, world, db):
    case = case_in(world, CaseStatus.INTAKE)
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    response = client.post(reverse("admin:cases_case_change", args=[case.pk]), {"status": CaseStatus.CLOSED})
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.INTAKE
    assert client.get(reverse("admin:cases_case_add")).status_code == 403


def test_home_lists_the_supervisors_queue(client, world):
    case = case_in(world, CaseStatus.INTAKE)
    assert client.login(username="supervisor", password=PASSWORD)
    body = client.get("/", follow=True).content.decode()
    assert case.reference in body
    client.force_login(world.sibling_supervisor)
    assert case.reference not in client.get("/", follow=True).content.decode()
