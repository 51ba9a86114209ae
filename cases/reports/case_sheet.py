"""The case sheet: one case as an A4 PDF that a supervisor files or hands to a procuratorate.

It carries what the case page shows: the facts, the parties, referrals and dispositions, support, findings, flags and
their overrides, the conclusion and the whole timeline, in the reader's language, on the yearly report's PDF machinery
(cases/reports/pdf.py: the CJK font, the page footer, the URL fetcher that loads nothing from outside the static
files). Who may download it is ``policy.can_download_case_sheet``. Suspects' ID numbers and officers' medical details
are always masked, as the page shows them before a reveal: the sheet never decrypts a value, so a paper copy never
carries one, whoever printed it.
"""

from typing import Any, BinaryIO

from django.utils import timezone
from django.utils.translation import get_language

from accounts.authority import Actor
from accounts.models import User
from cases.case_page import workspace_for
from cases.models import Case
from cases.reports.charts import CJK_FONT
from cases.reports.layout import unit_label
from cases.reports.pdf import page_counter_parts, render_pdf
from cases.reports.yearly import unit_ref


def case_sheet_name(case: Case) -> str:
    return f"{case.reference}-case-sheet.pdf"


def case_sheet_context(*, actor: Actor, case: Case, by: User) -> dict[str, Any]:
    ws = workspace_for(actor, case, timeline_limit=None)
    generated = timezone.localtime(timezone.now()).strftime("%Y-%m-%d %H:%M")
    return {
        "ws": ws,
        "case": case,
        "unit": unit_label(unit_ref(case.unit)),
        "generated": generated,
        "generated_by": str(by),
        "language": get_language(),
        "font": CJK_FONT,
        "footer_right": page_counter_parts(),
    }


def write_case_sheet(*, actor: Actor, case: Case, by: User, out: BinaryIO) -> None:
    """``case`` must come from the actor's visible cases and the actor pass ``can_download_case_sheet``."""
    render_pdf("cases/case_sheet_pdf.html", case_sheet_context(actor=actor, case=case, by=by), out)
