"""Log-in throttling: who gets locked out after failed passwords, and for how long.

Every password check goes through ``authenticate()`` — the log-in page, the re-authentication page, the API token
endpoint, the authenticator replacement form — so one policy covers them all. django-axes records each failure
with its username and source address (``accounts.network.throttle_address``: an IPv6 client counts by its /64);
this handler decides:

* A **(username, address) pair** is locked after ``AXES_FAILURE_LIMIT`` failures within the cool-off period. A
  stranger guessing an officer's password locks only themselves out: the officer still logs in from their own
  computer. Logging in successfully clears only that pair's count.
* An **address** is locked after ``RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES`` failures across all usernames, so one
  machine cannot try a common password against many accounts (password spraying). A successful log-in from the
  address clears only its own username's failures, so an insider cannot reset the count with their own account.
* One username failing from ``RIGHTSGUARD_LOCKOUT_ALERT_ADDRESSES`` or more addresses is someone guessing from
  several machines; it is not locked (that would hand any of them a way to shut the officer out) but reported:
  a warning in the log and an e-mail to ``ADMINS``.
"""

import logging

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.core.mail import mail_admins
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger("rightsguard.security")


def address_failures(request: HttpRequest) -> int:
    """Failed log-ins from the request's address within the cool-off period, whatever the username."""
    total = (
        AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
            attempt_time__gte=get_cool_off_threshold(request),
        ).aggregate(total=Sum("failures_since_start"))["total"]
        or 0
    )
    return int(total)


def addresses_failing(request: HttpRequest, username: str) -> int:
    """How many addresses failed to log in as ``username`` within the cool-off period."""
    return (
        AccessAttempt.objects.filter(username=username, attempt_time__gte=get_cool_off_threshold(request))
        .values("ip_address")
        .distinct()
        .count()
    )


class LoginThrottleHandler(AxesDatabaseHandler):
    """django-axes' database handler (pair lockout, from ``AXES_LOCKOUT_PARAMETERS``) plus the address limit and
    the many-addresses alert."""

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return address_failures(request) >= settings.RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES

    def user_login_failed(self, sender, credentials: dict, request: HttpRequest | None = None, **kwargs) -> None:
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or self.is_whitelisted(request, credentials):
            return
        # The failure that reaches the address limit is answered as a lockout at once, as the pair limit is.
        if (
            not request.axes_locked_out  # type: ignore[attr-defined]
            and address_failures(request) >= settings.RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES
        ):
            request.axes_locked_out = True  # type: ignore[attr-defined]
            request.axes_credentials = credentials  # type: ignore[attr-defined]
            logger.warning(
                "Log-in locked for address %s after %d failures across usernames.",
                request.axes_ip_address,  # type: ignore[attr-defined]
                settings.RIGHTSGUARD_LOCKOUT_ADDRESS_FAILURES,
            )
        username = get_client_username(request, credentials)
        if username:
            self._alert_if_spread(request, username)

    def _alert_if_spread(self, request: HttpRequest, username: str) -> None:
        addresses = addresses_failing(request, username)
        if addresses < settings.RIGHTSGUARD_LOCKOUT_ALERT_ADDRESSES:
            return
        # Once per username and cool-off period (per process), not on every further failure.
        cool_off = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not cache.add(f"rg:login-spread:{username}", 1, timeout=cool_off):
            return
        # repr() keeps a username that the caller made up on one line of the log and the e-mail subject.
        shown = repr(username[:150])
        minutes = cool_off // 60
        logger.warning("Failed log-ins for username %s from %d addresses within %d minutes.", shown, addresses, minutes)
        # In the installation's language: the request's is the caller's, who may be the one guessing.
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("Failed log-ins for %(username)s from %(n)d addresses") % {"username": shown, "n": addresses}
            body = _(
                "Within %(minutes)d minutes, log-ins as %(username)s failed from %(n)d different addresses. Someone "
                "may be guessing this password from several computers. The account is not locked: each address is "
                "locked for this username after its own failures. The access attempts are listed in the "
                "administration site."
            ) % {"minutes": minutes, "username": shown, "n": addresses}
        mail_admins(subject, body, fail_silently=True)
