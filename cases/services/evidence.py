"""Evidence: adding a file to a case and opening one for download, the same for the browser page and the API.

The storage, its checks and what a crash at each step leaves behind are in ``cases/evidence.py``; here are the
steps around it: who may add evidence, recording the attachment with its event, never keeping a file that was not
recorded, and the access log of every download.
"""

import logging

from django.db import transaction
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import actor_for
from cases import evidence, policy
from cases.choices import AccessAction, EventKind
from cases.evidence_store import StoreError
from cases.models import Attachment, Case
from cases.services.audit import log_access
from cases.services.common import lock_case, now, record_event, require, save_case

logger = logging.getLogger(__name__)


def _require_may_add(case: Case, by: User) -> None:
    require(policy.can_add_material(actor_for(by), case), _("You cannot add evidence to this case."))


def add_evidence(
    *, case: Case, by: User, file: evidence.Upload, description: str = "", attempt: str | None = None
) -> Attachment:
    """Check ``file``, store it and record it as evidence of ``case``, or keep nothing of it.

    Raises ``PermissionDenied`` before a byte of the file is received, ``ValidationError({"file": …})`` when the
    file is refused (``evidence.validate_and_store``), ``evidence.CannotKeep`` when it cannot be kept now (the disk
    is full, the malware scanner cannot check it). ``attempt`` names a request that may be retried (the user and
    its ``Idempotency-Key``), so a retry receives into the place an earlier, killed attempt used.
    """
    _require_may_add(case, by)
    stored = evidence.validate_and_store(file, case=case, attempt=attempt)
    try:
        return record_attachment(case=case, by=by, description=description, **stored.attachment_fields())
    except BaseException:
        # Not recorded, so not kept. With an ``attempt`` the caller still holds its Idempotency-Key's claim: no retry
        # can be receiving into the same place yet.
        evidence.discard(stored)
        raise


def record_attachment(
    *,
    case: Case,
    by: User,
    original_name: str,
    stored_name: str,
    content_type: str,
    size: int,
    sha256: str,
    incoming: str,
    description: str = "",
) -> Attachment:
    """Record evidence received by ``evidence.validate_and_store`` and give its file its final name, in one
    transaction: the case's room is checked under its row lock, so concurrent uploads never exceed the cap
    together, and the file is renamed into place as the transaction's last step, so the row never commits without
    it (``cases/evidence.py`` goes through every point a crash can hit). ``add_evidence`` is the whole upload."""
    installation = evidence.Installation(incoming=incoming, stored_name=stored_name)
    done = False
    try:
        with transaction.atomic():
            case = lock_case(case)
            _require_may_add(case, by)
            evidence.ensure_room(case, size)
            t = now()
            attachment = Attachment(
                case=case,
                original_name=original_name,
                stored_name=stored_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                description=description,
                uploaded_by=by,
                uploaded_at=t,
            )
            attachment.full_clean()
            attachment.save()
            save_case(case, t, [])
            record_event(
                case=case,
                kind=EventKind.ATTACHMENT,
                by=by,
                now=t,
                data={"attachment": attachment.pk, "name": original_name, "sha256": sha256},
                notify=False,
            )
            installation.run()
            done = True
    except BaseException:
        # Raised inside the block, the transaction rolled back: nothing of this upload may stay. Raised after it,
        # only the commit can have failed, and whether it happened is unknown; the sweep removes the file if no
        # row refers to it.
        if not done:
            installation.undo()
        raise
    return attachment


def open_evidence(*, case: Case, attachment_id: int, request: HttpRequest) -> FileResponse:
    """One of ``case``'s evidence files as a download (``evidence.download_response``), its access logged.

    ``case`` comes from the caller's visible set (``cases_visible_to``): whoever sees a case may download its
    evidence. ``request`` says who asks and from where, for the access log. Raises ``Http404`` for an attachment
    that is not ``case``'s, ``evidence.EvidenceMissing`` when the attachment's file is not in storage, and
    ``evidence.EvidenceUnavailable`` when the object store fails otherwise: each logged as an error, and in the access
    log with the outcome ``file_missing`` or ``storage_unavailable``.
    """
    attachment = get_object_or_404(Attachment, pk=attachment_id, case=case)
    reference = f"attachment:{attachment.pk} {attachment.sha256[:12]} {attachment.original_name}"
    try:
        handle = evidence.open_stored(attachment.stored_name)
    except StoreError as exc:
        logger.error(
            "Evidence storage failed while attachment %s of case %s was opened: %s", attachment.pk, case.reference, exc
        )
        log_access(
            request=request,
            action=AccessAction.DOWNLOAD,
            case=case,
            object_ref=reference,
            outcome="storage_unavailable",
        )
        raise evidence.EvidenceUnavailable from None
    except FileNotFoundError:
        logger.error(
            "Evidence file missing from storage: attachment %s of case %s (stored name %s)",
            attachment.pk,
            case.reference,
            attachment.stored_name,
        )
        log_access(
            request=request, action=AccessAction.DOWNLOAD, case=case, object_ref=reference, outcome="file_missing"
        )
        raise evidence.EvidenceMissing from None
    try:
        log_access(request=request, action=AccessAction.DOWNLOAD, case=case, object_ref=reference)
    except BaseException:
        handle.close()
        raise
    return evidence.download_response(attachment, handle)
