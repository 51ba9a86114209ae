"""``manage.py create_integration_account``: an account for another system (the 110 dispatch system)."""

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import OrgUnit
from integrations.services.accounts import create_integration_account


class Command(BaseCommand):
    help = (
        "Create an integration account (no password, the integration role) for the subtree of a unit, e.g. the 110 "
        "command centre's dispatch system of a city. Give it a token with issue_integration_token."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="The system's name, as timelines show it.")
        parser.add_argument("--unit", required=True, help="Code of the unit whose subtree it imports for.")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = OrgUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"No unit has the code {options['unit']!r}.")
        try:
            account = create_integration_account(username=options["username"], name=options["name"], unit=unit)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Created integration account {account.username} for {unit.code}.")
