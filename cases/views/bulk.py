"""Work on many cases of the queue at once: bulk actions, and the queue as a file (a big workbook prepared in the
background, cases/reports/queue_jobs.py).

Bulk actions are two steps, both POSTs from the queue page, neither needing JavaScript: the ticked cases and the action
chosen lead to the action's form (the same fields as the case page's), which sends the selection back with the input;
each case is then acted on through its own service (cases/services/bulk.py) and the page lists what happened to each.
"""

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.reauth import reauth_redirect, recently_reauthenticated
from accounts.requests import AuthenticatedRequest
from cases import policy, services
from cases.choices import AccessAction, NoteVisibility
from cases.forms import BulkAssignForm, BulkNoteForm, BulkReferForm, BulkSelectionForm, QueueFilterForm
from cases.models import Case, ExportStatus, QueueExport
from cases.queue_filters import queue_cases, sort_order
from cases.reports import files, queue_export
from cases.reports.cells import csv_blocks
from cases.reports.queue_jobs import (
    QueueExportRefused,
    download_name,
    failure_sentence,
    log_queue_export,
    queue_export_max,
    queue_file,
    request_queue_export,
    too_many_rows,
)
from cases.reports.services import inline_export_max
from cases.services.audit import log_denied
from cases.services.bulk import apply_in_bulk, bulk_scope
from cases.views.common import open_prepared
from cases.views.queue import _filters, sort_of
from cases.views.workspace import require_queue_worker

RECENT_WORKBOOKS = 20
TITLES = {"assign": gettext_lazy("Assign"), "refer": gettext_lazy("Refer"), "note": gettext_lazy("Add a note")}


def _queue_url(query: str) -> str:
    """The queue with the filters the user came from (only its query: never a link elsewhere)."""
    clean = urlencode(parse_qsl(query, keep_blank_values=True))
    return f"{reverse('cases:queue')}?{clean}" if clean else reverse("cases:queue")


def _action_form(request: AuthenticatedRequest, action: str, cases: list[Case], data: Any) -> forms.Form:
    if action == "assign":
        supervisors = policy.assignable_supervisors_of_any({case.unit_path for case in cases})
        return BulkAssignForm(data, supervisors=supervisors)
    if action == "refer":
        return BulkReferForm(data, units=policy.supervised_units(request.actor))
    return BulkNoteForm(data, initial={"visibility": NoteVisibility.INTERNAL})


def _act(request: AuthenticatedRequest, action: str, d: dict[str, Any]) -> Callable[[Case, int], object]:
    """The case page's service for ``action``, for one case at the version the user saw."""
    user = request.user
    if action == "assign":
        return lambda case, version: services.assign_case(
            case=case, by=user, expected_version=version, assignee=d["assignee"]
        )
    if action == "refer":
        return lambda case, version: services.refer_case(case=case, by=user, expected_version=version, **d)
    return lambda case, version: services.add_note(
        case=case, by=user, text=d["text"], visibility=d["visibility"], expected_version=version
    )


@never_cache
@require_POST
def bulk(request: AuthenticatedRequest) -> HttpResponse:
    require_queue_worker(request)
    selection = BulkSelectionForm(request.POST)
    back = _queue_url(request.POST.get("back", ""))
    if not selection.is_valid():
        return render(request, "cases/queue/bulk.html", {"selection": selection, "back": back}, status=400)
    action, items = selection.cleaned_data["action"], selection.cleaned_data["cases"]
    found = {c.pk: c for c in bulk_scope(request.user).filter(pk__in=[pk for pk, _v in items]).select_related("unit")}
    cases = [found[pk] for pk, _v in items if pk in found]
    form = _action_form(request, action, cases, request.POST if "apply" in request.POST else None)
    context = {
        "selection": selection,
        "action": action,
        "title": TITLES[action],
        "items": [f"{pk}:{version}" for pk, version in items],
        "cases": cases,
        "unknown": len(items) - len(cases),
        "form": form,
        "back": back,
        "back_query": request.POST.get("back", ""),
    }
    if not form.is_bound or not form.is_valid():
        return render(request, "cases/queue/bulk.html", context, status=400 if form.is_bound else 200)
    outcomes = apply_in_bulk(by=request.user, items=items, act=_act(request, action, form.cleaned_data))
    for outcome in outcomes:
        if not outcome.reference:
            log_denied(request=request, object_ref=f"case:{outcome.case_id}", outcome="not_found")
    done = sum(o.done for o in outcomes)
    context.update(outcomes=outcomes, done=done, refused=len(outcomes) - done)
    # Nothing done: none of the cases is in the user's queue (answered as if they did not exist), or each was refused
    # (changed meanwhile, a form sent twice, the wrong stage). The page lists why either way.
    status = 200 if done else 404 if all(not o.reference for o in outcomes) else 409
    return render(request, "cases/queue/bulk_result.html", context, status=status)


def _queue_request(request: AuthenticatedRequest, params: QueryDict) -> tuple[QueueFilterForm, QueryDict]:
    """The queue page's filter form for ``params`` (its paging and the file format left out), and that query."""
    query = params.copy()
    for name in ("format", "after", "pos"):
        query.pop(name, None)
    return QueueFilterForm(query, units=policy.supervised_units(request.actor)), query


def _source_ip(request: AuthenticatedRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@never_cache
@require_GET
def export(request: AuthenticatedRequest) -> HttpResponseBase:
    """The queue's cases for the page's filters and sort as a CSV or XLSX file; logged, after a recent password. A
    workbook of more rows than are written while the user waits is offered to be prepared in the background."""
    require_queue_worker(request)
    fmt = request.GET.get("format", "")
    form, query = _queue_request(request, request.GET)
    if fmt not in queue_export.FORMATS or not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    if not recently_reauthenticated(request):
        return reauth_redirect(request, request.get_full_path())
    sort, direction = sort_of(form)
    order = sort_order(sort, direction)
    cases = queue_cases(request.actor, _filters(form))
    count = cases.order_by().count()
    if fmt == "xlsx" and count > inline_export_max():
        if count > queue_export_max():
            return HttpResponse(too_many_rows(count), status=400, content_type="text/plain")
        # Nothing is exported yet: the page asks before a job is started (a link alone never starts one).
        context = {"count": count, "query": query.urlencode(), "back": _queue_url(query.urlencode())}
        return render(request, "cases/queue/export_prepare.html", context)
    log_queue_export(user=request.user, fmt=fmt, rows=count, query=query.urlencode(), source_ip=_source_ip(request))
    name = f"rightsguard-queue-{timezone.localdate():%Y%m%d}.{fmt}"
    rows = queue_export.export_rows(cases, order)
    if fmt == "csv":
        content_type = queue_export.CONTENT_TYPES[fmt]
        response: HttpResponseBase = StreamingHttpResponse(csv_blocks(rows), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    buffer = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    queue_export.write_xlsx(rows, buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=name, content_type=queue_export.CONTENT_TYPES[fmt])


@dataclass(frozen=True)
class PreparedWorkbook:
    job: QueueExport
    failure: str  # what the requester reads when it failed


@never_cache
@require_http_methods(["GET", "POST"])
def prepared_workbooks(request: AuthenticatedRequest) -> HttpResponseBase:
    """The user's queue workbooks prepared in the background (htmx polls the list while one is under way); a POST
    asks for one, for the queue page's filters and sort."""
    require_queue_worker(request)
    if request.method == "POST":
        return _prepare_workbook(request)
    jobs = policy.visible_queue_exports(request.actor).order_by("-created_at", "-id")[:RECENT_WORKBOOKS]
    workbooks = [
        PreparedWorkbook(job, failure_sentence(job) if job.status == ExportStatus.FAILED else "") for job in jobs
    ]
    context = {
        "workbooks": workbooks,
        "polling": any(w.job.status in (ExportStatus.PENDING, ExportStatus.RUNNING) for w in workbooks),
    }
    template = "cases/queue/_workbooks.html" if request.htmx else "cases/queue/workbooks.html"
    return render(request, template, context)


def _prepare_workbook(request: AuthenticatedRequest) -> HttpResponseBase:
    form, query = _queue_request(request, QueryDict(request.POST.get("query", "")))
    if not form.is_valid():
        return HttpResponse(_("The export request was not valid."), status=400, content_type="text/plain")
    if not recently_reauthenticated(request):
        # A POST cannot be replayed: after the password, the export link's page asks again.
        again = query.copy()
        again["format"] = "xlsx"
        return reauth_redirect(request, f"{reverse('cases:queue-export')}?{again.urlencode()}")
    sort, direction = sort_of(form)
    filters = _filters(form)
    count = queue_cases(request.actor, filters).order_by().count()
    try:
        job = request_queue_export(
            user=request.user,
            filters=filters,
            order=sort_order(sort, direction),
            query=query.urlencode(),
            rows=count,
            language=translation.get_language() or "en",
            source_ip=_source_ip(request),
        )
    except QueueExportRefused as refusal:
        return HttpResponse(str(refusal), status=400, content_type="text/plain")
    messages.success(
        request,
        ngettext(
            "Your workbook of %(n)s case is being prepared. It is listed below, on this page of prepared workbooks "
            "(linked from the queue, beside the export): download it here when it is ready.",
            "Your workbook of %(n)s cases is being prepared. It is listed below, on this page of prepared workbooks "
            "(linked from the queue, beside the export): download it here when it is ready.",
            job.rows,
        )
        % {"n": job.rows},
    )
    return redirect("cases:queue-workbooks")


@never_cache
@require_GET
def workbook_download(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The requester's own prepared workbook (anyone else's is a 404); logged, after a recent password."""
    require_queue_worker(request)
    job = get_object_or_404(policy.visible_queue_exports(request.actor), pk=pk)
    if not recently_reauthenticated(request):
        return reauth_redirect(request, request.get_full_path())
    handle = open_prepared(request, job, queue_file(job))
    if isinstance(handle, HttpResponse):
        return handle
    try:
        log_queue_export(
            user=request.user,
            fmt="xlsx",
            rows=job.rows,
            query=job.query,
            source_ip=_source_ip(request),
            via=f"download:{job.pk}",
            action=AccessAction.DOWNLOAD,
        )
    except BaseException:
        handle.close()
        raise
    return files.download_response(handle, filename=download_name(job), content_type=queue_export.CONTENT_TYPES["xlsx"])
