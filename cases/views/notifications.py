"""The notification list (filters, pages, counts), opening a notification, marking read, and the notification
settings. Opening is a GET that marks the notification read and redirects to its case (a notice about a unit: to
its page): it is the link in the list and in the notification's e-mail, and only the signed-in recipient can follow
it (anyone else gets a 404)."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.requests import AuthenticatedRequest
from cases import selectors
from cases.choices import NotificationKind
from cases.notification_forms import InboxFilterForm, NotificationPreferencesForm
from cases.services.inbox import mark_notifications_read, set_notification_preferences
from cases.views.common import attach_errors

PAGE_SIZE = 25


@require_safe
def notifications(request: AuthenticatedRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    valid = not form.is_bound or form.is_valid()
    filters = form.filters()
    notes = selectors.filter_notifications(selectors.notifications_for(request.actor), filters)
    number = (form.cleaned_data.get("page") if valid and form.is_bound else None) or 1
    paginator = Paginator(notes, PAGE_SIZE)
    page = paginator.get_page(number)
    query = request.GET.copy()
    query.pop("page", None)
    counts = selectors.inbox_counts(request.actor)
    context = {
        "form": form,
        "page": page,
        "items": page.object_list,
        "counts": counts,
        "kind_counts": [(label, counts[kind], kind) for kind, label in NotificationKind.choices if counts.get(kind)],
        "prev_url": _page_link(query.urlencode(), page.previous_page_number()) if page.has_previous() else "",
        "next_url": _page_link(query.urlencode(), page.next_page_number()) if page.has_next() else "",
        "here": request.get_full_path(),
    }
    return render(request, "cases/notifications.html", context, status=200 if valid else 400)


def _back(request: AuthenticatedRequest) -> str:
    """Where to go after marking: the list as it was (its filters and page), never another site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("cases:notifications")


@require_POST
def notifications_read(request: AuthenticatedRequest) -> HttpResponse:
    changed = mark_notifications_read(user=request.user)
    messages.success(
        request,
        ngettext("%(n)d notification marked as read.", "%(n)d notifications marked as read.", changed) % {"n": changed},
    )
    return redirect(_back(request))


@require_POST
def notification_read(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Mark one notification read without opening it."""
    note = get_object_or_404(selectors.notifications_for(request.actor), pk=pk)
    mark_notifications_read(user=request.user, ids=[note.pk])
    messages.success(request, _("The notification is marked as read."))
    return redirect(_back(request))


@require_safe
def notification_open(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Open a notification: marked read, then its case (or, for a notice about a unit, the page it links to).
    Someone else's, or one about a case the user can no longer see, is a 404 and changes nothing."""
    note = get_object_or_404(selectors.notifications_for(request.actor), pk=pk)
    if request.method == "GET":
        mark_notifications_read(user=request.user, ids=[note.pk])
    if note.case_id is None:
        # A path of this site, as the service and a constraint require: never sent elsewhere.
        return redirect(note.link if url_has_allowed_host_and_scheme(note.link, allowed_hosts=None) else "/")
    return redirect("cases:detail", pk=note.case_id)


def notification_settings(request: AuthenticatedRequest) -> HttpResponse:
    current = selectors.notification_preferences(request.user)
    form = NotificationPreferencesForm(request.POST or None, current=current)
    if request.method == "POST":
        if form.is_valid():
            try:
                set_notification_preferences(user=request.user, deliveries=form.cleaned_data, complete=True)
            except ValidationError as error:
                attach_errors(form, error)
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("cases:notification-settings")
        return render(request, "cases/notification_settings.html", {"form": form}, status=400)
    return render(request, "cases/notification_settings.html", {"form": form})


def _page_link(base_query: str, number: int) -> str:
    return "?" + "&".join(part for part in (base_query, urlencode({"page": number})) if part)
