"""The step view the editors' pages of the typical cases (library/views.py) and of the guidance tips
(library/guidance/views.py) share: one POST per workflow step, answered alike.

The object comes from what the caller manages (404 otherwise); a step they may not take on it is a 403, refused before
the body is read; a form that does not validate is the page again with a 400; a form sent from a page out of date is a
409 with what was typed still in it (its version brought up to date, so that, checked, it can be sent again); a step the
state no longer allows is a 409; what the service refuses by field is a 400 with the messages where they belong: on the
draft, a save's errors on its fields; anything the completeness check (or the anonymisation check) found about the
draft, listed above it; the rest on the step's form. Done, the editors' page of the result (for a new tip written from
another, the new one's) says what was done.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import Promise

from accounts.authority import Actor
from accounts.requests import AuthenticatedRequest
from cases.exceptions import IllegalTransition, StaleVersion


def service_errors(error: ValidationError) -> dict[str, list[str]]:
    """A service's refusal as messages by field (``__all__`` for the rest), as a form takes them."""
    if hasattr(error, "error_dict"):
        return {name: [str(m) for e in errs for m in e.messages] for name, errs in error.error_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


@dataclass(frozen=True)
class StepPage:
    """One kind of material's editors' page, as the shared step view takes it."""

    actions: Collection[str]  # the workflow's steps
    refusals: Mapping[str, Promise]  # by step: who may
    may_take: Callable[[Actor, Any, str], bool]
    managed: Callable[[AuthenticatedRequest, int], Any]  # the object the caller manages, or 404
    form_for: Callable[[str, AuthenticatedRequest, Any], Any]  # the step's bound form
    call: Callable[[str, Any, AuthenticatedRequest, Any], Any]  # the step's service, given the valid form
    edit_page: Callable[..., HttpResponse]  # the editors' page: (request, obj, status=, bound=, refusal=, check=)
    about_the_draft: Collection[str]  # the fields a step's refusal names that are about the draft, not its form
    done: Mapping[str, Promise]  # by step: what was done
    edit_route: str  # the editors' page's route name, given the resulting object's pk


def take_step(page: StepPage, request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    """One step of the workflow from the editors' page."""
    obj = page.managed(request, pk)
    if action not in page.actions:
        raise Http404
    # Refused before the input is read: a 403 must not depend on what was sent.
    if not page.may_take(request.actor, obj, action):
        raise PermissionDenied(str(page.refusals[action]))
    form = page.form_for(action, request, obj)
    if not form.is_valid():
        return page.edit_page(request, obj, status=400, bound={action: form})
    try:
        result = page.call(action, obj, request, form)
    except StaleVersion as error:
        # The form keeps what was typed, its version brought up to date: checked, it can be sent again.
        obj = page.managed(request, pk)
        data = request.POST.copy()
        data[form.add_prefix("version")] = str(obj.version)
        form.data = data
        return page.edit_page(request, obj, status=409, bound={action: form}, refusal=" ".join(error.messages))
    except IllegalTransition as error:
        return page.edit_page(request, obj, status=409, bound={action: form}, refusal=" ".join(error.messages))
    except ValidationError as error:
        errors = service_errors(error)
        if action == "save":
            form.add_service_errors(errors)
            return page.edit_page(request, obj, status=400, bound={action: form})
        check = [message for name in page.about_the_draft if name in errors for message in errors[name]]
        form.add_service_errors({k: v for k, v in errors.items() if k not in page.about_the_draft})
        return page.edit_page(request, obj, status=400, bound={action: form}, check=check)
    messages.success(request, str(page.done[action]))
    return redirect(page.edit_route, pk=result.pk)
