"""Evidence upload and download pages: HTTP glue around ``services.add_evidence`` and ``services.open_evidence``
(cases/services/evidence.py), which the API calls too."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.requests import AuthenticatedRequest
from cases import evidence, policy, services
from cases.forms import EvidenceForm
from cases.views.common import attach_errors, visible_case
from cases.views.kept import keep_input, page_is_stale
from cases.views.workspace import render_workspace


@require_POST
def upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not policy.can_add_material(request.actor, case):
        if page_is_stale(request, case):
            # The case changed since the page was loaded (closed, say): its page says so and keeps the description.
            return keep_input(request, case, key="evidence", form=form, stale=True)
        raise PermissionDenied(_("You cannot add evidence to this case."))
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    status = 400
    if form.is_valid():
        try:
            attachment = services.add_evidence(
                case=case,
                by=request.user,
                file=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as exc:
            attach_errors(form, exc)
        except evidence.CannotKeep as exc:
            form.add_error("file", str(exc))
            status = exc.status
        else:
            if wants_json:
                return JsonResponse({"id": attachment.pk, "name": attachment.original_name, "size": attachment.size})
            messages.success(request, _("Evidence “%(name)s” added.") % {"name": attachment.original_name})
            step = request.POST.get("step")
            return redirect("cases:edit", pk=case.pk, step=step) if step else redirect("cases:detail", pk=case.pk)
    if wants_json:
        return JsonResponse({"errors": form.errors}, status=status)
    return render_workspace(request, case, bound={"evidence": form}, status=status, open_panel="evidence")


@never_cache
def download(request: AuthenticatedRequest, pk: int, attachment_id: int) -> FileResponse | HttpResponse:
    case = visible_case(request, pk)
    try:
        return services.open_evidence(case=case, attachment_id=attachment_id, request=request)
    except evidence.EvidenceMissing as exc:
        return render(request, "404.html", {"detail": str(exc)}, status=404)
    except evidence.EvidenceUnavailable as exc:
        return render(request, "503.html", {"message": str(exc)}, status=exc.status)
