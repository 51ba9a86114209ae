"""Integration accounts (accounts/integration.py): created without a password, given tokens by an operator."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import services as account_services
from accounts import tokens
from accounts.models import ApiToken, OrgUnit, Role, User
from accounts.selectors import actor_for


@transaction.atomic
def create_integration_account(*, username: str, name: str, unit: OrgUnit, by: User | None = None) -> User:
    """Another system's account, importing for ``unit``'s subtree: no password, the integration role only (audited
    like every grant). ``by``: the administrator creating it (``None``: an operator at the command line)."""
    return account_services.create_user(
        username=username, password=None, full_name=name, unit=unit, role=Role.INTEGRATION, by=by
    )


def issue_integration_token(*, account: User, name: str) -> tuple[ApiToken, str]:
    """A token for the system behind ``account`` and its key, shown once. The token policy of accounts/tokens.py
    holds as for any terminal: it ends after its idle and absolute limits, and with any change of the account's
    standing; the operator issues the next one before it does."""
    if not actor_for(account).is_integration:
        raise ValidationError(_("%(username)s is not an integration account.") % {"username": account.username})
    return tokens.issue_token(user=account, name=name, mfa_verified=False)
