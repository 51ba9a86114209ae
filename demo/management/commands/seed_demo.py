"""``manage.py seed_demo``: the demo organisation tree, accounts and cases; ``--cases N`` adds synthetic ones."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from demo.generator import DEFAULT_BATCH_SIZE, DEFAULT_SEED
from demo.seed import seed


class Command(BaseCommand):
    help = (
        "Create the demo organisation tree, the demo accounts (password rightsguard-demo) and the demo cases, "
        "skipping whatever already exists. --cases N adds N synthetic cases spread over the last five years."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--cases", type=int, default=0, help="Synthetic cases to add (default 0).")
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="Random seed for the synthetic cases.")
        parser.add_argument(
            "--no-demo", action="store_true", help="Skip the demo cases; units and accounts are still ensured."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help="Synthetic cases written per transaction.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes writing synthetic cases side by side on PostgreSQL (default: one per CPU).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["cases"] < 0:
            raise CommandError("--cases must be zero or more.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1.")
        seed(
            cases=options["cases"],
            seed_value=options["seed"],
            demo=not options["no_demo"],
            batch_size=options["batch_size"],
            workers=options["workers"],
            log=self.stdout.write,
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
