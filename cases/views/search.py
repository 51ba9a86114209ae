"""The global search in the top bar: one ranked list over the cases the user may search (cases/search.py)."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.requests import AuthenticatedRequest
from cases import policy
from cases.forms import SearchForm
from cases.keyset import InvalidCursor
from cases.search import SearchPage, search_page


def search(request: AuthenticatedRequest) -> HttpResponse:
    actor = request.actor
    if not policy.can_search(actor):
        raise PermissionDenied(_("Your account has no cases to search."))
    form = SearchForm(request.GET if "q" in request.GET else None)
    page: SearchPage | None = None
    cursor = request.GET.get("after")
    valid = not form.is_bound or form.is_valid()
    if form.is_bound and valid:
        text = form.cleaned_data["q"]
        try:
            page = search_page(actor, text, cursor=cursor)
        except InvalidCursor:
            # Not a link this page made: refused like invalid input, showing the first page.
            valid, cursor = False, None
            page = search_page(actor, text)
    context = {
        "form": form,
        "page": page,
        "first_page": not cursor,
        "next_url": f"?{urlencode({'q': form.cleaned_data['q'], 'after': page.next_cursor})}"
        if page and page.next_cursor
        else "",
        "own_only": policy.searches_own_filings_only(actor),
    }
    return render(request, "cases/search.html", context, status=200 if valid else 400)
