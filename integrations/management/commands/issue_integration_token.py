"""``manage.py issue_integration_token``: a token for an integration account, printed once."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.tokens import expires_at
from integrations.services.accounts import issue_integration_token


class Command(BaseCommand):
    help = (
        "Issue an API token for an integration account and print its key (shown only now). It ends like any token "
        "(RIGHTSGUARD_TOKEN_IDLE_DAYS, RIGHTSGUARD_TOKEN_MAX_DAYS): issue the next one before it does."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="integration", help="What the token is for (e.g. the sending host).")

    def handle(self, *args: Any, **options: Any) -> None:
        account = User.objects.filter(username=options["username"], is_active=True).first()
        if account is None:
            raise CommandError(f"No active account is named {options['username']!r}.")
        try:
            token, key = issue_integration_token(account=account, name=options["name"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Token {token.name!r} for {account.username}, valid until {expires_at(token).isoformat()}:")
        self.stdout.write(key)
