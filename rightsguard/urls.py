from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from cases import views as case_views
from rightsguard import health

admin.site.site_header = _("RightsGuard administration")
admin.site.site_title = _("RightsGuard")
admin.site.index_title = _("Records and settings")

urlpatterns = [
    path("", case_views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("cases.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
