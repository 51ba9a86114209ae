"""The supervisor's queue: filters, keyset pages, saved filters."""

from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import services as account_services
from accounts.models import SavedQueueFilter
from accounts.requests import AuthenticatedRequest
from cases import policy
from cases.forms import QueueFilterForm, SaveFilterForm
from cases.keyset import InvalidCursor
from cases.queue_filters import ASSIGNED_TO_ME, DEFAULT_ORDER, SORTS, UNASSIGNED, QueueFilters, queue_page
from cases.views.workspace import require_supervisor

VIEWS = {"mine": ASSIGNED_TO_ME, "unassigned": UNASSIGNED}


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filters(form: QueueFilterForm) -> QueueFilters:
    d = form.cleaned_data
    start, end = d.get("occurred_from"), d.get("occurred_to")
    return QueueFilters(
        statuses=tuple(d.get("status") or ()),
        kinds=tuple(d.get("kind") or ()),
        unit_path=d["unit"].path if d.get("unit") else "",
        flags=tuple(d.get("flag") or ()),
        min_injury_rank=d.get("injury"),
        occurred_after=_day_start(start) if start else None,
        occurred_before=_day_start(end + timedelta(days=1)) if end else None,  # through the whole last day
        text=d.get("q") or "",
        assigned=VIEWS.get(d.get("view") or "", ""),
        due=d.get("due") or "",
        submitted_after=d["submitted"][0] if d.get("submitted") else None,
        submitted_before=d["submitted"][1] if d.get("submitted") else None,
        awaiting_ack=bool(d.get("awaiting")),
        awaiting_unit_id=d["awaiting_unit"].pk if d.get("awaiting_unit") else None,
    )


def queue(request: AuthenticatedRequest) -> HttpResponse:
    require_supervisor(request)
    actor = request.actor
    units = policy.queue_units(actor)
    form = QueueFilterForm(request.GET or None, units=units)
    valid = not form.is_bound or form.is_valid()
    filters = _filters(form) if form.is_bound and valid else QueueFilters()
    order = SORTS[form.cleaned_data.get("sort") or "activity"] if form.is_bound and valid else DEFAULT_ORDER
    cursor = request.GET.get("after")
    try:
        page = queue_page(actor, filters, order=order, cursor=cursor)
    except InvalidCursor:
        # Not a link this page made: refused like an invalid filter, showing the first page.
        valid, cursor = False, None
        page = queue_page(actor, filters, order=order)
    query = request.GET.copy()
    query.pop("after", None)
    base_query = query.urlencode()
    context = {
        "form": form,
        "page": page,
        "base_query": base_query,
        "next_url": f"?{base_query}&{urlencode({'after': page.next_cursor})}" if page.next_cursor else "",
        "saved": SavedQueueFilter.objects.filter(user=request.user),
        "save_form": SaveFilterForm(initial={"query": base_query}),
        "first_page": not cursor,
    }
    # htmx asks for the results block when filters change, and for more rows when paging.
    template = "cases/queue/page.html"
    if request.htmx:
        template = "cases/queue/_rows.html" if cursor else "cases/queue/_results.html"
    return render(request, template, context, status=200 if valid else 400)


@require_POST
def save_filter(request: AuthenticatedRequest) -> HttpResponse:
    require_supervisor(request)
    form = SaveFilterForm(request.POST)
    if form.is_valid():
        account_services.save_queue_filter(
            user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
        )
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
        return redirect(f"{reverse('cases:queue')}?{form.cleaned_data['query']}")
    messages.error(request, _("Give the filter a name."))
    return redirect("cases:queue")


@require_POST
def delete_filter(request: AuthenticatedRequest, saved_id: int) -> HttpResponse:
    saved = get_object_or_404(SavedQueueFilter, pk=saved_id, user=request.user)
    account_services.delete_queue_filter(saved=saved, by=request.user)
    messages.success(request, _("Filter deleted."))
    return redirect("cases:queue")
