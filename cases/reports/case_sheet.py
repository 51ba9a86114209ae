"""The case sheet: one case as an A4 PDF that a supervisor files or hands to a procuratorate.

It carries what the case page shows: the facts, the parties, referrals and dispositions, support, findings, flags and
their overrides, the conclusion and the whole timeline, in the reader's language, on the yearly report's PDF machinery
(cases/reports/pdf.py: the CJK font, the page footer, the URL fetcher that loads nothing from outside the static
files). Who may download it is ``policy.can_download_case_sheet``; the case page and the API both hand it out through
``open_case_sheet``. Suspects' ID numbers and officers' medical details
are always masked, as the page shows them before a reveal: the sheet never decrypts a value, so a paper copy never
carries one, whoever printed it.
"""

import io
from typing import Any, BinaryIO

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.authority import Actor
from accounts.models import User
from cases import policy
from cases.case_page import workspace_for
from cases.choices import AccessAction
from cases.models import Case
from cases.reports.charts import CJK_FONT
from cases.reports.layout import unit_label
from cases.reports.pdf import page_counter_parts, render_pdf
from cases.reports.yearly import unit_ref
from cases.services.audit import log_access


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


def open_case_sheet(*, case: Case, actor: Actor, by: User, request: HttpRequest) -> HttpResponse:
    """The case sheet as a download, for the case page and the API alike: in the active language, masked, and in the
    access log as a download.

    ``case`` comes from the actor's visible cases (an invisible one is the caller's 404). Unless
    ``policy.can_download_case_sheet``, PermissionDenied with nothing rendered or logged here. ``request`` says who
    asks and from where, for the access log."""
    if not policy.can_download_case_sheet(actor, case):
        raise PermissionDenied(_("The case sheet is for the supervisors and administrators overseeing the case."))
    buffer = io.BytesIO()
    write_case_sheet(actor=actor, case=case, by=by, out=buffer)
    language = get_language() or "en"
    log_access(
        request=request, action=AccessAction.DOWNLOAD, case=case, object_ref=f"case-sheet:{case.reference} {language}"
    )
    response = HttpResponse(buffer.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{case_sheet_name(case)}"'
    return response
