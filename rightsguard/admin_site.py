"""The admin site: Django's, except that its password change checks the old password as the log-in does."""

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from accounts.views import PasswordChangeView


class AdminSite(admin.AdminSite):
    def password_change(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        """Django's page with the site's password change view: the old password goes through authenticate(), so
        wrong guesses count towards the log-in lockout (Django's admin form checks it directly, without a limit)."""
        options: dict = {
            "success_url": reverse("admin:password_change_done", current_app=self.name),
            "extra_context": {**self.each_context(request), **(extra_context or {})},
        }
        if self.password_change_template is not None:
            options["template_name"] = self.password_change_template
        request.current_app = self.name
        response = PasswordChangeView.as_view(**options)(request)
        return response  # type: ignore[return-value]  # the form page, its redirect or a refusal
