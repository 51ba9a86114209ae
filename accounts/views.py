"""Two-factor verification and enrolment pages, and re-authentication before sensitive steps."""

import logging
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import i18n as i18n_views
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import mfa, oidc, services, sso, tokens
from accounts.reauth import mark_reauthenticated
from accounts.requests import user_of

logger = logging.getLogger(__name__)


def _styled(form: forms.BaseForm) -> None:
    """Bootstrap's input class on the stock account forms' fields (the case forms get it from BootstrapMixin)."""
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-control")


class LoginForm(AuthenticationForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _styled(self)


def remember_language(response: HttpResponse, language: str) -> None:
    """Set the language cookie as Django's language switch does, so the next pages are in ``language``."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class LoginView(auth_views.LoginView):
    """Log-in; a user who chose a language before gets it back on any browser they log in from. With an OpenID
    Connect provider configured, the page also offers to sign in with it."""

    authentication_form = LoginForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        if oidc.enabled():
            context["oidc_provider"] = oidc.provider_name()
        return context

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        # A password proves nothing about the identity provider's second factor: whatever this session had from it
        # before does not carry over.
        mfa.forget_provider_second_factor(self.request)
        response = super().form_valid(form)
        language = getattr(form.get_user(), "language", "")
        if language:
            remember_language(response, language)
        return response


def _sign_on_failed(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        _("Signing in with %(provider)s did not succeed. Try again, or ask your unit's administrator.")
        % {"provider": oidc.provider_name()},
    )
    return redirect(settings.LOGIN_URL)


@login_not_required
@never_cache
def oidc_login(request: HttpRequest) -> HttpResponse:
    """To the OpenID Connect provider (404 when none is configured)."""
    if not oidc.enabled():
        raise Http404
    try:
        return oidc.begin(request, next_url=_next(request))
    except oidc.SignOnFailed as failure:
        logger.warning("OpenID Connect log-in could not start: %s", failure)
        return _sign_on_failed(request)


@login_not_required
@never_cache
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """Back from the provider: log in as the account its verified ID token names (accounts/oidc.py, accounts/sso.py)."""
    if not oidc.enabled():
        raise Http404
    try:
        verified = oidc.finish(request)
        user = sso.sign_in(identity=verified.identity)
    except (oidc.SignOnFailed, sso.SignOnRefused) as failure:
        logger.warning("OpenID Connect log-in refused: %s", failure)
        return _sign_on_failed(request)
    target = oidc.take_next(request.session)
    mfa.forget_provider_second_factor(request)
    auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if verified.second_factor:
        mfa.accept_provider_second_factor(request, user)
    response = redirect(target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/")
    if user.language:
        remember_language(response, user.language)
    return response


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "form-control"}
        ),
    )


def _password_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "form-control"}),
    )


class SetupForm(TokenForm):
    """The first code from the new authenticator and, when it replaces one, the current password."""

    def __init__(self, *args: Any, replacing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if replacing:
            self.fields["password"] = _password_field()


class PasswordForm(forms.Form):
    password = _password_field()


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else "/"


def _verify_first(request: HttpRequest) -> HttpResponse:
    """To the second factor, then back to the page asked for."""
    return redirect(f"{reverse('mfa-verify')}?{urlencode({'next': request.get_full_path()})}")


def verify(request: HttpRequest) -> HttpResponse:
    """Second step of log-in: a code from the authenticator, or one recovery code."""
    if not mfa.has_confirmed_device(user_of(request)):
        return redirect(f"/accounts/mfa/setup/?next={_next(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user_of(request), form.cleaned_data["token"].strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error(
            "token", _("That code is not valid. Use the current code from your authenticator or a recovery code.")
        )
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": _next(request)},
        status=200 if form.is_valid() or not form.is_bound else 400,
    )


@never_cache
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator: scan the QR code (or type the secret), then confirm with a first code.

    With an authenticator already confirmed this replaces it: only in a session that passed the second factor, and
    with the password again (accounts/mfa.py); any other session is sent to verify.
    """
    replacing = mfa.has_confirmed_device(user_of(request))
    if replacing and not mfa.second_factor_passed(request, user_of(request)):
        return _verify_first(request)
    form = SetupForm(request.POST or None, replacing=replacing)
    if request.method == "POST" and form.is_valid():
        # Only the authenticator this session set up is confirmed, never one whose secret another session saw.
        device = mfa.session_totp_device(user=user_of(request), session=request.session)
        try:
            codes = (
                None
                if device is None
                else mfa.confirm_totp(
                    device=device,
                    token=form.cleaned_data["token"],
                    request=request,
                    password=form.cleaned_data.get("password"),
                )
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if device is not None and codes is not None:
                request.session.pop(mfa.PENDING_DEVICE_KEY, None)
                otp_login(request, device)
                messages.success(request, _("Two-factor log-in is on."))
                return render(request, "registration/mfa_codes.html", {"codes": codes, "next": _next(request)})
            if mfa.session_totp_device(user=user_of(request), session=request.session) is None:
                form.add_error(
                    "token",
                    _(
                        "Two-factor set-up was started again in another session, so this code no longer applies. "
                        "Add the new code below to your authenticator app and enter the code it shows."
                    ),
                )
            else:
                form.add_error("token", _("That code is not valid. Check the time on your device and try again."))
    # The session's own authenticator, or a new one when it has none (or another session's set-up replaced it).
    device = mfa.pending_totp_device(user=user_of(request), session=request.session)
    context = {
        "form": form,
        "next": _next(request),
        "replacing": replacing,
        "secret": mfa.secret_of(device),
        # Generated here from our own key material; contains no user input.
        "qr": mark_safe(mfa.qr_svg(device)),  # noqa: S308  # nosemgrep: no-mark-safe
    }
    return render(request, "registration/mfa_setup.html", context, status=400 if form.is_bound else 200)


@never_cache
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """Make new recovery codes (the old ones stop working): in a session that passed the second factor, with the
    password again."""
    if not mfa.has_confirmed_device(user_of(request)):
        return redirect(reverse("mfa-setup"))
    if not mfa.second_factor_passed(request, user_of(request)):
        return _verify_first(request)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = mfa.regenerate_recovery_codes(
                user=user_of(request), request=request, password=form.cleaned_data["password"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "registration/mfa_codes.html", {"codes": codes, "next": _next(request)})
    return render(
        request,
        "registration/mfa_recovery_codes.html",
        {"form": form, "next": _next(request)},
        status=400 if form.is_bound else 200,
    )


class CheckedPasswordChangeForm(PasswordChangeForm):
    """The stock form, its old password checked through the authentication backends: a wrong guess counts towards
    the log-in lockout (accounts/throttle.py), and once the lockout holds no guess is checked at all."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        _styled(self)
        self.request = request

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        checked = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if checked is None or checked.pk != self.user.pk:
            raise forms.ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = CheckedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}


class ReauthForm(forms.Form):
    """The user's password and, when their account has an authenticator, its current code."""

    password = _password_field()

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.devices = list(TOTPDevice.objects.filter(user=user_of(request), confirmed=True))
        if self.devices:
            self.fields["token"] = forms.CharField(
                label=gettext_lazy("Code from your authenticator"),
                max_length=16,
                widget=forms.TextInput(
                    attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "form-control"}
                ),
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        password = data.get("password")
        if password is None or (self.devices and not data.get("token")):
            return data
        user = user_of(self.request)
        # Through the authentication backends, so failed attempts count towards the log-in lockout.
        checked = authenticate(self.request, username=user.get_username(), password=password)
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(_("That password is not correct."), code="password")
        if self.devices:
            token = data["token"].strip()
            if not any(device.verify_token(token) for device in self.devices):
                raise forms.ValidationError(
                    _("That code is not valid. Use the current code from your authenticator."), code="token"
                )
        return data


@never_cache
def reauth(request: HttpRequest) -> HttpResponse:
    """Confirm it is still the user at the keyboard before masked data is shown or a report is exported."""
    form = ReauthForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        mark_reauthenticated(request)
        return redirect(_next(request))
    return render(
        request,
        "registration/reauth.html",
        {"form": form, "next": _next(request), "needs_code": bool(form.devices)},
        status=400 if form.is_bound else 200,
    )


@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own API tokens (one per terminal), each with a button that revokes it."""
    mine = [(token, tokens.expires_at(token)) for token in tokens.tokens_of(user_of(request))]
    context = {
        "tokens": mine,
        "idle_days": settings.RIGHTSGUARD_TOKEN_IDLE_DAYS,
        "max_days": settings.RIGHTSGUARD_TOKEN_MAX_DAYS,
    }
    return render(request, "registration/api_tokens.html", context)


@require_POST
def revoke_api_token(request: HttpRequest, pk: int) -> HttpResponse:
    # Someone else's token is not found, exactly like one that does not exist.
    token = get_object_or_404(tokens.tokens_of(user_of(request)), pk=pk)
    tokens.revoke_token(token=token)
    messages.success(request, _("The token is revoked. The device that used it must log in again."))
    return redirect("api-tokens")


@login_not_required
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, which also remembers a logged-in user's choice for their e-mails."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in {code for code, _name in settings.LANGUAGES}:
        services.set_language_preference(user=user_of(request), language=language)
    return response
