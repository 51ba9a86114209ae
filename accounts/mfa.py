"""Two-factor log-in (TOTP) with one-time recovery codes, required for supervisors and administrators.

Enforcement is on unless ``RIGHTSGUARD_MFA_REQUIRED`` is 0 (the embedded demo turns it off). Officers may
enrol voluntarily.
"""

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Membership, Role, User

RECOVERY_CODES = 10


def mfa_required_for(user: User) -> bool:
    if not settings.RIGHTSGUARD_MFA_REQUIRED or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, role__in=[Role.SUPERVISOR, Role.ADMIN]).exists()


def has_confirmed_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def pending_totp_device(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator (created once, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The shared secret in base32, for typing into an authenticator by hand."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code as an SVG document, drawn here so nothing is fetched from elsewhere."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]


@transaction.atomic
def confirm_totp(*, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the authenticator with a first code; returns fresh recovery codes, or None if the code is wrong."""
    if not device.verify_token(token.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return regenerate_recovery_codes(user=device.user)


@transaction.atomic
def regenerate_recovery_codes(*, user: User) -> list[str]:
    static, _created = StaticDevice.objects.get_or_create(user=user, name="recovery", defaults={"confirmed": True})
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=static, token=code) for code in codes])
    return codes


@transaction.atomic
def reset_mfa(*, user: User) -> None:
    """An administrator's unlock for a user who lost their authenticator: they enrol again at next log-in."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
