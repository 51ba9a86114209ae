"""The supervisor's queue: filters, keyset pages, saved filters."""

from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode

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
from accounts.selectors import share_unit, shared_queue_filters
from cases import policy
from cases.forms import QueueFilterForm, SaveFilterForm
from cases.keyset import InvalidCursor
from cases.queue_filters import (
    ASCENDING,
    ASSIGNED_TO_ME,
    DEFAULT_ORDER,
    DESCENDING,
    PAGE_SIZE,
    SORTS,
    UNASSIGNED,
    QueueFilters,
    queue_page,
    sort_order,
)
from cases.views.queue_rows import render_rows
from cases.views.workspace import require_supervisor

VIEWS = {"mine": ASSIGNED_TO_ME, "unassigned": UNASSIGNED}
# The columns whose header sorts the table, by the sort they set; the reference is given in filing order.
SORTABLE_COLUMNS = ("created", "due", "activity")
# Not filters: the position in the list, and how to get there.
PAGING_PARAMS = ("after", "pos")
POSITION_MAX = 10_000_000


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
        scenario=d.get("scenario") or "",
        place=d.get("place") or "",
        weapon=d.get("weapon") or "",
        intox=d.get("intox") or "",
        crowd=d.get("crowd") or "",
        weekday=d.get("weekday") or "",
        hour=d.get("hour") or "",
    )


def sort_of(form: QueueFilterForm) -> tuple[str, str]:
    """The chosen sort and its direction (the sort's usual one when none is chosen) of a validated form."""
    sort = form.cleaned_data.get("sort") or "activity"
    direction = form.cleaned_data.get("dir") or (DESCENDING if SORTS[sort].startswith("-") else ASCENDING)
    return sort, direction


def _sort_links(query: str, sort: str, direction: str) -> dict[str, dict[str, str]]:
    """For each sortable column: the link its header makes (the other direction when it is the current sort, its
    usual direction otherwise; the other filters kept, back to the first page) and its ``aria-sort``."""
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in ("sort", "dir")]
    links = {}
    for column in SORTABLE_COLUMNS:
        usual = DESCENDING if SORTS[column].startswith("-") else ASCENDING
        current = column == sort
        target = (ASCENDING if direction == DESCENDING else DESCENDING) if current else usual
        links[column] = {
            "url": "?" + urlencode([*params, ("sort", column), ("dir", target)]),
            "aria_sort": ("ascending" if direction == ASCENDING else "descending") if current else "",
        }
    return links


def _position(request: AuthenticatedRequest) -> int | None:
    """How many rows come before this page, as the paging link said (only a label: a wrong one shows a wrong label,
    never other rows); None when the link did not say."""
    text = request.GET.get("pos", "")
    if not request.GET.get("after"):
        return 0
    if text.isdigit() and len(text) <= 8 and int(text) <= POSITION_MAX:
        return int(text)
    return None


def _paging_url(base_query: str, cursor: str, position: int | None) -> str:
    params = {"after": cursor} if position is None else {"after": cursor, "pos": str(position)}
    return f"?{base_query}&{urlencode(params)}" if base_query else f"?{urlencode(params)}"


def _previous_url(base_query: str, cursor: str | None, position: int | None) -> str:
    """The page before, by its cursor; the plain first page when that is where it starts."""
    if not cursor:
        return ""
    before = None if position is None else max(0, position - PAGE_SIZE)
    return f"?{base_query}" if before == 0 else _paging_url(base_query, cursor, before)


def _filter_errors(form: QueueFilterForm) -> list[str]:
    """Each error of the filters as a sentence naming its field."""
    errors = []
    for name, messages_ in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        for message in messages_:
            errors.append(f"{label}: {message}" if label else str(message))
    return errors


def queue(request: AuthenticatedRequest) -> HttpResponse:
    require_supervisor(request)
    actor = request.actor
    units = policy.queue_units(actor)
    form = QueueFilterForm(request.GET or None, units=units)
    valid = not form.is_bound or form.is_valid()
    filters = _filters(form) if form.is_bound and valid else QueueFilters()
    sort, direction = sort_of(form) if form.is_bound and valid else ("activity", DESCENDING)
    order = sort_order(sort, direction) if form.is_bound and valid else DEFAULT_ORDER
    cursor = request.GET.get("after")
    position = _position(request)
    stale_link = False
    try:
        page = queue_page(actor, filters, order=order, cursor=cursor)
    except InvalidCursor:
        # Not a link this page made: refused like an invalid filter, showing the first page.
        valid, cursor, position, stale_link = False, None, 0, True
        page = queue_page(actor, filters, order=order)
    query = request.GET.copy()
    for name in PAGING_PARAMS:
        query.pop(name, None)
    base_query = query.urlencode()
    shown = len(page.cases)
    context = {
        "form": form,
        "page": page,
        "rows": render_rows(page.cases),
        "base_query": base_query,
        "next_url": _paging_url(base_query, page.next_cursor, None if position is None else position + shown)
        if page.next_cursor
        else "",
        "previous_url": _previous_url(base_query, page.previous_cursor if cursor else None, position),
        "first_row": None if position is None or not shown else position + 1,
        "last_row": None if position is None or not shown else position + shown,
        "sort_links": _sort_links(base_query, sort, direction),
        "saved": SavedQueueFilter.objects.filter(user=request.user),
        "shared": shared_queue_filters(actor=actor),
        "save_form": SaveFilterForm(initial={"query": base_query}),
        "share_unit": share_unit(actor),
        "first_page": not cursor,
        "queue_url": reverse("cases:queue"),
        # Said above the results too: with JavaScript only the results are replaced, not the filter panel.
        "filter_errors": _filter_errors(form) if form.is_bound and not form.is_valid() else [],
        "stale_link": stale_link,
    }
    # htmx asks for the results block when filters change and when paging.
    template = "cases/queue/_results.html" if request.htmx else "cases/queue/page.html"
    return render(request, template, context, status=200 if valid else 400)


@require_POST
def save_filter(request: AuthenticatedRequest) -> HttpResponse:
    require_supervisor(request)
    form = SaveFilterForm(request.POST)
    if form.is_valid():
        account_services.save_queue_filter(
            user=request.user,
            name=form.cleaned_data["name"],
            query=form.cleaned_data["query"],
            shared_unit=share_unit(request.actor) if form.cleaned_data["shared"] else None,
        )
        messages.success(request, _("Filter “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
        return redirect(f"{reverse('cases:queue')}?{form.cleaned_data['query']}")
    # What was wrong with it (no name, too long a name, a character that cannot be stored), on the queue as it was.
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
    query = str(form.data.get("query", ""))
    kept = urlencode(parse_qsl(query, keep_blank_values=True)) if len(query) <= 1000 else ""
    return redirect(f"{reverse('cases:queue')}?{kept}" if kept else reverse("cases:queue"))


@require_POST
def delete_filter(request: AuthenticatedRequest, saved_id: int) -> HttpResponse:
    # Only the owner's own filters: a colleague's shared view is a 404 here, and stays as it is.
    saved = get_object_or_404(SavedQueueFilter, pk=saved_id, user=request.user)
    account_services.delete_queue_filter(saved=saved, by=request.user)
    messages.success(request, _("Filter deleted."))
    return redirect("cases:queue")
