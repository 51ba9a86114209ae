"""Evidence upload and download. Files are validated by content, stored outside the web root under generated
names, and served only to users who can see the case, always as a download."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cases import policy, services
from cases.api import evidence
from cases.choices import AccessAction
from cases.forms import EvidenceForm
from cases.models import Attachment
from cases.services.audit import log_access
from cases.views.common import attach_errors, visible_case
from cases.views.workspace import render_workspace


@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk)
    if not policy.can_add_material(request.actor, case):
        raise PermissionDenied(_("You cannot add evidence to this case."))
    form = EvidenceForm(request.POST, request.FILES)
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    status = 400
    if form.is_valid():
        try:
            stored = evidence.validate_and_store(form.cleaned_data["file"], case=case)
            try:
                attachment = services.record_attachment(
                    case=case,
                    by=request.user,
                    description=form.cleaned_data["description"],
                    **stored.attachment_fields(),
                )
            except BaseException:
                # Nothing recorded means nothing kept: no received file left on disk.
                evidence.discard(stored)
                raise
        except ValidationError as exc:
            attach_errors(form, exc)
        except evidence.StorageFull as exc:
            form.add_error("file", str(exc))
        except evidence.ScanUnavailable as exc:
            form.add_error("file", str(exc))
            status = 503
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
def download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    case = visible_case(request, pk)
    attachment = get_object_or_404(Attachment, pk=attachment_id, case=case)
    log_access(
        request=request,
        action=AccessAction.DOWNLOAD,
        case=case,
        object_ref=f"attachment:{attachment.pk} {attachment.sha256[:12]} {attachment.original_name}",
    )
    return FileResponse(
        evidence.open_stored(attachment.stored_name),
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
