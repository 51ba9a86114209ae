from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """Django's admin, with the project's admin site (rightsguard/admin_site.py)."""

    default_site = "rightsguard.admin_site.AdminSite"
