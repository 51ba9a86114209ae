"""Two-factor log-in (TOTP) with one-time recovery codes, required for supervisors, administrators, staff and
superusers.

Enforcement is on unless ``RIGHTSGUARD_MFA_REQUIRED`` is 0 (the embedded demo turns it off). Officers may
enrol voluntarily.

Who may change the second factor:

* The first authenticator is set up right after the password (there is no second factor yet to ask for). Its
  secret belongs to the session that opened the set-up page (``pending_totp_device``): another session knowing
  the same password never sees the secret the owner confirms.
* Once an account has a confirmed authenticator, a session that knows only the password can verify, never enrol:
  replacing the authenticator or making new recovery codes needs a session that passed the second factor and the
  current password again (``MFAChangeRefused`` otherwise). Replacing leaves exactly one authenticator.
* An administrator's reset removes every authenticator and recovery code; the user enrols again.

Every change is written to the access log and e-mailed to the account's owner, so a change they did not make
does not go unnoticed.
"""

import base64
import io

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import tokens
from accounts.authority import Actor
from accounts.models import Membership, Role, User
from cases import outbox
from cases.choices import AccessAction
from cases.models import AccessLog
from cases.services.audit import log_access
from rightsguard.text import language_of, when

RECOVERY_CODES = 10
# The session's own unconfirmed authenticator (its id): set-up pages in other sessions never see its secret.
PENDING_DEVICE_KEY = "rg_pending_totp_device"


class MFAChangeRefused(PermissionDenied):
    """The session may not change the second factor: it has not passed it."""


MFA_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def mfa_required_for(user: User, actor: Actor | None = None) -> bool:
    """Supervisors, administrators and every account that reaches the admin site (staff, superusers). With the
    user's ``actor`` at hand, its grants answer instead of the database."""
    if not settings.RIGHTSGUARD_MFA_REQUIRED or not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    if actor is not None:
        return bool(actor.paths_for(*MFA_ROLES))
    return Membership.objects.filter(user=user, role__in=MFA_ROLES).exists()


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def session_totp_device(*, user: User, session: SessionBase) -> TOTPDevice | None:
    """The unconfirmed authenticator this session set up, if it is still waiting for its first code."""
    pk = session.get(PENDING_DEVICE_KEY)
    if pk is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=pk).first()


def pending_totp_device(*, user: User, session: SessionBase | None = None) -> TOTPDevice:
    """The authenticator being set up in ``session``: the one it set up before, or a new one (no session: always new).

    A secret is never shared between sessions: whoever opened the set-up page elsewhere (someone who knows only the
    password, say) saw another secret, and a new one deletes the user's other unconfirmed authenticators, so a
    secret seen elsewhere can never be the one the owner confirms. A set-up page opened later elsewhere deletes this
    session's one in turn; its first code is then refused and the owner scans the new code.
    """
    if session is not None:
        device = session_totp_device(user=user, session=session)
        if device is not None:
            return device
    with transaction.atomic():
        # Taken one after the other with confirm_totp, which locks the same row: a confirmation never sees its
        # device half-deleted.
        User.objects.select_for_update().filter(pk=user.pk).first()
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    if session is not None:
        session[PENDING_DEVICE_KEY] = device.pk
    return device


def secret_of(device: TOTPDevice) -> str:
    """The shared secret in base32, for typing into an authenticator by hand."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG document, drawn here so nothing is fetched from elsewhere."""
    import qrcode  # here, not with the module: only the enrolment page draws a code
    import qrcode.image.svg

    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


# The account (its id) whose log-in through the OpenID Connect provider came with a verified ID token asserting a
# second factor (accounts/oidc.py): RightsGuard's two-factor step is passed for this session. Set by the provider's
# callback alone, after every check of the token; a password log-in in the same session clears it.
PROVIDER_SECOND_FACTOR_KEY = "rg_provider_second_factor"


def accept_provider_second_factor(request: HttpRequest, user: User) -> None:
    request.session[PROVIDER_SECOND_FACTOR_KEY] = user.pk


def forget_provider_second_factor(request: HttpRequest) -> None:
    request.session.pop(PROVIDER_SECOND_FACTOR_KEY, None)


def log_in_step_passed(request: HttpRequest, user: User) -> bool:
    """Whether this session may go past the two-factor step of log-in: our own second factor (OTPMiddleware), or
    the identity provider's, verified, for this very account. Changing the authenticator still needs our own."""
    is_verified = getattr(user, "is_verified", None)
    if is_verified is not None and is_verified():
        return True
    session = getattr(request, "session", None)
    return session is not None and session.get(PROVIDER_SECOND_FACTOR_KEY) == user.pk


def second_factor_passed(request: HttpRequest | None, user: User) -> bool:
    """Whether the request is ``user``'s own session and it passed the second factor (OTPMiddleware)."""
    current = getattr(request, "user", None)
    is_verified = getattr(current, "is_verified", None)
    return current is not None and current.pk == user.pk and is_verified is not None and bool(is_verified())


def check_may_change(*, request: HttpRequest | None, user: User, password: str | None) -> None:
    """Replacing the authenticator or making new recovery codes: a session that passed the second factor, and the
    current password. Raises MFAChangeRefused, or ValidationError for a wrong password.

    Not inside a transaction: the password goes through the authentication backends, whose failure count (the
    log-in lockout) must not be rolled back with the refused change.
    """
    if request is None or not second_factor_passed(request, user):
        raise MFAChangeRefused(_("Complete two-factor log-in first."))
    checked = authenticate(request, username=user.get_username(), password=password or "")
    if checked is None or checked.pk != user.pk:
        raise ValidationError({"password": _("That password is not correct.")})


def confirm_totp(
    *, device: TOTPDevice, token: str, request: HttpRequest | None = None, password: str | None = None
) -> list[str] | None:
    """Confirm an authenticator with a first code; returns fresh recovery codes, or None if the code is wrong.

    The account's first authenticator needs nothing more. Any other replaces the first and needs what
    ``check_may_change`` asks for; afterwards the account has this one authenticator only.
    """
    user = device.user
    checked = False
    if TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).exists():
        check_may_change(request=request, user=user, password=password)
        checked = True
    with transaction.atomic():
        # Two confirmations for one account at once (two sessions, two tabs) are taken one after the other, so the
        # second sees the first's device and needs the checks above.
        User.objects.select_for_update().filter(pk=user.pk).first()
        replaced = list(
            TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).values_list("pk", flat=True)
        )
        if replaced and not checked:
            raise MFAChangeRefused(_("Complete two-factor log-in first."))
        # A set-up page opened meanwhile in another session has deleted this one: its secret is gone.
        if not TOTPDevice.objects.filter(pk=device.pk, user=user, confirmed=False).exists():
            return None
        if not device.verify_token(token.strip()):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # The old authenticator (and any other half-finished enrolment) stops working.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        if replaced:
            # Tokens obtained with the replaced authenticator's codes must not outlive it (as after a reset).
            tokens.revoke_tokens(user=user)
        codes = _new_recovery_codes(user)
        _record(request=request, user=user, action=AccessAction.MFA_REPLACE if replaced else AccessAction.MFA_ENROL)
    return codes


def regenerate_recovery_codes(*, user: User, request: HttpRequest | None, password: str | None) -> list[str]:
    """New recovery codes; the old ones stop working. Needs what ``check_may_change`` asks for."""
    check_may_change(request=request, user=user, password=password)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        _record(request=request, user=user, action=AccessAction.MFA_CODES)
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    static, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def reset_mfa(*, user: User, request: HttpRequest | None = None) -> None:
    """An administrator's unlock for a user who lost their authenticator: they enrol again at next log-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    # Tokens issued with the lost authenticator's codes must not outlive it.
    tokens.revoke_tokens(user=user)
    _record(request=request, user=user, action=AccessAction.MFA_RESET)


def _record(*, request: HttpRequest | None, user: User, action: str) -> None:
    """Write the change to the access log (the actor is the request's user: the owner, or the administrator who
    reset it) and, once it commits, e-mail the account's owner."""
    entry = log_access(request=request, action=action, object_ref=f"user:{user.pk}")
    outbox.enqueue("accounts.mail_second_factor_change", [entry.pk, user.pk], key=f"mfa-notice:{entry.pk}")


CHANGE_NOTICES = {
    AccessAction.MFA_ENROL: gettext_lazy(
        "Two-factor log-in was set up on your RightsGuard account: an authenticator app now confirms your log-ins."
    ),
    AccessAction.MFA_REPLACE: gettext_lazy(
        "The authenticator of your RightsGuard account was replaced. The previous one and the previous recovery "
        "codes no longer work."
    ),
    AccessAction.MFA_CODES: gettext_lazy(
        "New recovery codes were made for your RightsGuard account. The previous ones no longer work."
    ),
    AccessAction.MFA_RESET: gettext_lazy(
        "An administrator reset two-factor log-in on your RightsGuard account. You will set up an authenticator "
        "again at your next log-in."
    ),
}


def mail_change_notice(*, entry_id: int, user_id: int) -> bool:
    """E-mail the account's owner about a change of their second factor; returns whether a mail was sent.

    Run by a task after the change committed. The access log is append-only, so nothing marks the mail as sent: a
    redelivered job mails twice, which is better for a security notice than not at all.
    """
    entry = AccessLog.objects.filter(pk=entry_id, action__in=list(CHANGE_NOTICES)).first()
    user = User.objects.filter(pk=user_id).first()
    if entry is None or user is None or not user.email or not user.is_active:
        return False
    with translation.override(language_of(user)):
        subject = _("Two-factor log-in on your RightsGuard account changed")
        body = _(
            "Hello %(name)s,\n\n%(what)s\n\nWhen: %(at)s\nFrom address: %(address)s\n\n"
            "If this was not you, tell your unit's administrator at once."
        ) % {
            "name": user.full_name or user.username,
            "what": CHANGE_NOTICES[AccessAction(entry.action)],
            "at": when(entry.at),
            "address": entry.source_ip or "-",
        }
    send_mail(subject, body, None, [user.email])
    return True
