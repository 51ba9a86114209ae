"""``manage.py yearly_report --year Y [--unit CODE] --format csv|xlsx|pdf|detail --output PATH``: the same files as
the reports page, for scripts and scheduled jobs. The export is recorded in the access log (without a user)."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts.models import OrgUnit
from cases.models import ReportFormat
from cases.reports.services import record_export, render_export


class Command(BaseCommand):
    help = "Write the yearly report of a unit's subtree (default: the root unit) as CSV, XLSX, PDF or a case list."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--year", type=int, required=True, help="Report year (compared with the year before).")
        parser.add_argument("--unit", help="Unit code; the report covers it and every unit below it.")
        parser.add_argument("--format", required=True, choices=ReportFormat.values, dest="fmt")
        parser.add_argument("--output", required=True, type=Path, help="File to write ('-' is not supported).")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
            help="Language of the labels (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year: int = options["year"]
        if not 1900 < year < 3000:
            raise CommandError("--year must be a four-digit year.")
        if options["unit"]:
            unit = OrgUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"No unit has the code {options['unit']}.")
        else:
            unit = OrgUnit.objects.filter(parent__isnull=True).order_by("path").first()
            if unit is None:
                raise CommandError("There are no units yet.")
        output: Path = options["output"]
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        language = options["language"]
        with translation.override(language):
            record_export(user=None, unit=unit, year=year, fmt=options["fmt"], language=language, via="command")
            with output.open("wb") as out:
                render_export(unit=unit, year=year, fmt=options["fmt"], out=out)
        self.stdout.write(f"Wrote {output} ({unit.code}, {year}, {options['fmt']}, {language}).")
