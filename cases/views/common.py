"""Shared plumbing for the HTML views: scoped case lookup, service error mapping. The acting user's grants are
``request.actor`` (accounts/middleware.py)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.requests import AuthenticatedRequest
from cases import policy
from cases.evidence_store import Reader
from cases.exceptions import StaleVersion
from cases.models import Case, ExportStatus, QueueExport, ReportExport
from cases.reports import files
from cases.services.audit import log_denied


def visible_case(request: AuthenticatedRequest, pk: int) -> Case:
    """The case if the user may see it; otherwise 404, so invisible cases do not reveal they exist (the refusal is
    logged)."""
    cases = policy.visible_cases(request.actor)
    case = cases.select_related("unit", "filed_by", "assigned_to").filter(pk=pk).first()
    if case is None:
        log_denied(request=request, object_ref=f"case:{pk}", outcome="not_found")
        raise Http404
    return case


def attach_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError next to the matching fields, the rest at the top of the form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def run_service(form: forms.BaseForm, call: Callable[[], Any]) -> tuple[bool, int]:
    """Call a service for a valid form; on refusal keep the user's input in the form with the reason.

    Returns (succeeded, HTTP status to render on failure): 400 for invalid input, 409 when someone else changed
    the case first. PermissionDenied propagates to the 403 page.
    """
    try:
        call()
    except StaleVersion as exc:
        form.add_error(None, exc.messages)
        return False, 409
    except ValidationError as exc:
        attach_errors(form, exc)
        return False, 400
    return True, 200


def open_prepared(request: HttpRequest, job: ReportExport | QueueExport, name: str) -> Reader | HttpResponse:
    """A finished background export's file opened for download (cases/reports/files.py), or the page that says why
    not: 404 while it is not ready or once it expired, 503 when the store of prepared files fails."""
    if job.status == ExportStatus.EXPIRED:
        days = files.keep_for().days
        detail = ngettext(
            "This file was removed %(days)s day after it was prepared. Ask for it again.",
            "This file was removed %(days)s days after it was prepared. Ask for it again.",
            days,
        ) % {"days": days}
        return render(request, "404.html", {"detail": detail}, status=404)
    if job.status != ExportStatus.DONE:
        raise Http404(_("This export is not ready."))
    try:
        return files.open_file(name)
    except FileNotFoundError:
        raise Http404(_("This export is not ready.")) from None
    except files.FilesUnavailable as exc:
        return render(request, "503.html", {"message": str(exc)}, status=exc.status)
