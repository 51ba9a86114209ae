"""Server-rendered pages. Thin: parse input, call one selector or service, render."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.selectors import actor_for
from cases import selectors


def home(request: HttpRequest) -> HttpResponse:
    """The role home: a supervisor's open queue, or an officer's own applications."""
    actor = actor_for(request.user)
    is_supervisor = bool(actor.paths_for(Role.SUPERVISOR))
    cases = selectors.queue_for(request.user) if is_supervisor else selectors.cases_filed_by(request.user)
    return render(
        request,
        "cases/home.html",
        {"cases": cases[:25], "is_supervisor": is_supervisor, "memberships": actor.grants},
    )
