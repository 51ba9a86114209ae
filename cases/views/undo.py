"""The "Undo" of a removal of an officer or a suspect (cases/views/parties.py): what was removed, kept for a while in
the remover's session, and the banner the case page and the filing steps show."""

import json
import time

from accounts.requests import AuthenticatedRequest
from cases import fields, policy
from cases.models import Case
from cases.services.intake import RemovedParty

# How long the "Undo" of a removal is offered.
UNDO_SECONDS = 600


def undo_key(case: Case) -> str:
    return f"rg-undo-{case.pk}"


def remember_removal(request: AuthenticatedRequest, case: Case, removed: RemovedParty) -> None:
    # The removed party's fields, ID number and medical details included, stay in this session only, encrypted with
    # the field keys like the record they came from (cases/fields.py), until undone, replaced or expired.
    payload = json.dumps(
        {"party": removed.party, "name": removed.name, "fields": removed.fields, "pk": removed.pk, "at": time.time()}
    )
    request.session[undo_key(case)] = fields.encrypt(payload)


def removal(request: AuthenticatedRequest, case: Case) -> tuple[RemovedParty, float] | None:
    token = request.session.get(undo_key(case))
    if not token:
        return None
    data = json.loads(fields.decrypt(token))
    removed = RemovedParty(party=data["party"], name=data["name"], fields=data["fields"], pk=data.get("pk"))
    return removed, data["at"]


def pending_undo(request: AuthenticatedRequest, case: Case) -> dict[str, str] | None:
    """The removal this user may still undo on this case (what the page's "Undo" banner says), or None."""
    found = removal(request, case)
    if found is None:
        return None
    removed, at = found
    if time.time() - at > UNDO_SECONDS or not policy.can_remove_parties(request.actor, case):
        request.session.pop(undo_key(case), None)
        return None
    return {"party": removed.party, "name": removed.name}
