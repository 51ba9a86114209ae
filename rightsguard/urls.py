from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from accounts import views as account_views
from library.offline import clears_offline_copies
from rightsguard import health
from rightsguard.metrics import metrics as metrics_view


@login_not_required
@require_safe
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    # Resolved per request: the static file's hashed name is only known once collectstatic has run.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


admin.site.site_header = _("RightsGuard administration")
admin.site.site_title = _("RightsGuard")
admin.site.index_title = _("Records and settings")

urlpatterns = [
    path("", include("cases.urls")),
    path("campaigns/", include("oversight.urls")),
    path("analysis/", include("analysis.urls")),
    path("library/", include("library.urls")),
    path("accounts/mfa/", account_views.verify, name="mfa-verify"),
    path("accounts/mfa/setup/", account_views.setup, name="mfa-setup"),
    path("accounts/mfa/recovery-codes/", account_views.recovery_codes, name="mfa-recovery-codes"),
    path("accounts/reauth/", account_views.reauth, name="reauth"),
    path("accounts/tokens/", account_views.api_tokens, name="api-tokens"),
    path("accounts/tokens/<int:pk>/revoke/", account_views.revoke_api_token, name="api-token-revoke"),
    # Log-in, log-out and password change only: there is no self-service password reset (an e-mailed link would
    # bypass the second factor and the office's account control); administrators reset passwords.
    path("accounts/login/", account_views.LoginView.as_view(), name="login"),
    # Single sign-on through an OpenID Connect provider (404 unless one is configured: accounts/oidc.py).
    path("accounts/oidc/login/", account_views.oidc_login, name="oidc-login"),
    path("accounts/oidc/callback/", account_views.oidc_callback, name="oidc-callback"),
    # The log-out also tells the browser to delete the library's offline copies (library/offline.py).
    path("accounts/logout/", clears_offline_copies(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/password_change/", account_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    # The language switch is on the login page too.
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages that link no icon (the admin site's): answer with the static one.
    path("favicon.ico", favicon),
    # Ahead of the case API, whose catch-all answers every other path under api/v1/.
    path("api/v1/campaigns/", include("oversight.api.urls")),
    path("api/v1/analysis/", include("analysis.api.urls")),
    path("api/v1/warnings/", include("analysis.api.warning_urls")),
    path("api/v1/library/", include("library.api.urls")),
    path("api/v1/guidance/", include("library.api.tips_urls")),
    path("api/v1/incidents/", include("integrations.api.urls")),
    path("api/v1/", include("cases.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

handler400 = "rightsguard.errors.bad_request"
handler403 = "cases.views.pages.permission_denied"
handler404 = "rightsguard.errors.page_not_found"
handler500 = "rightsguard.errors.server_error"
