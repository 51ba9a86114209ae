"""Sensitive values — suspects' ID numbers and involved officers' medical details: one rule for every door.

Masked by default everywhere they appear: the case page, the API's lists and details (also the answers to writes),
the admin site (the fields are left out), the timeline (changes show ``***``). The report exports carry neither
field. A value is read in full only through ``reveal_value``, one value per request, which the case page's reveal
and the API's reveal endpoints both call:

- who (``policy.can_see_in_full``, cases/policy.py): the supervisors whose subtree covers the case; an officer's
  medical details also the officer themself (the account listed as that involved officer). Administrators never:
  reporting and user management do not need them.
- how recently: a browser session (the case page, or the API called with the session cookie) must have
  re-authenticated within ``RIGHTSGUARD_REAUTH_SECONDS`` (accounts/reauth.py). An API token client is a terminal:
  it has no session to re-authenticate, and its token was issued on password (and two-factor code) entry. The
  terminal rule is that it sees a value in full only by asking for that one value at a reveal endpoint
  (``POST …/suspects/{id}/reveal/``, ``POST …/officers/{id}/reveal/``), never in a list or detail, under the same
  role rule, logged the same way.
- trace: each value shown in full writes exactly one access-log entry ``reveal`` (``suspect:12 id_number``); a
  refusal writes one ``denied`` entry (``not_found`` or ``forbidden``); a request sent to re-authenticate first
  writes nothing, as it showed nothing.
"""

from dataclasses import dataclass

from django.http import HttpRequest
from rest_framework.authentication import TokenAuthentication

from accounts.authority import Actor
from accounts.reauth import recently_reauthenticated
from cases.choices import AccessAction
from cases.models import Case, InvolvedOfficer, Suspect
from cases.policy import Refusal, reveal_refusal
from cases.services.audit import log_access

Party = InvolvedOfficer | Suspect

# What a reveal may show: the party, its model and its masked field.
REVEALABLE: dict[str, tuple[type[InvolvedOfficer] | type[Suspect], str]] = {
    "suspect": (Suspect, "id_number"),
    "officer": (InvolvedOfficer, "medical_notes"),
}


class RevealRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal)
        self.refusal = refusal


@dataclass(frozen=True)
class Revealed:
    party: str
    item: Party
    field: str
    value: str


def mask_id_number(value: str) -> str:
    """The first three and last two characters, asterisks between (all asterisks when that short): ``330***34``."""
    if len(value) <= 5:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 5) + value[-2:]


def mask_name(value: str) -> str:
    """A person's name where a document must not identify them: the surname and 某 for a name in Chinese characters,
    as Chinese case documents write it ("张三丰" → "张某"; a name given as "何某" stays so); the initials for a name in
    other letters ("Li Sisi" → "L. S."). A compound surname (欧阳) keeps its first character only: 某 hides the
    rest either way."""
    name = " ".join(value.split())
    if not name:
        return ""
    if "\u3400" <= name[0] <= "\u9fff" or "\uf900" <= name[0] <= "\ufaff":
        return f"{name[0]}某"
    return " ".join(f"{part[0].upper()}." for part in name.split())


def authenticated_by_token(request: HttpRequest) -> bool:
    """An API request that presented a token (a terminal); browser pages and session API calls are not."""
    return isinstance(getattr(request, "successful_authenticator", None), TokenAuthentication)


def reveal_value(*, request: HttpRequest, actor: Actor, case: Case, party: str, item_id: int) -> Revealed:
    """One masked value in full, for this response only, logged; ``RevealRefused`` otherwise (refusals by role or
    absence are logged as denied). ``case`` must come from the caller's visible cases."""
    model, field = REVEALABLE[party]
    ref = f"{party}:{item_id} {field}"
    item = model.objects.filter(pk=item_id, case=case).first()
    refusal = reveal_refusal(
        actor,
        case,
        item,
        field,
        by_token=authenticated_by_token(request),
        reauthenticated=recently_reauthenticated(request),
    )
    if refusal is not None or item is None:
        refusal = refusal or Refusal.NOT_FOUND
        if refusal != Refusal.REAUTH_REQUIRED:
            log_access(request=request, action=AccessAction.DENIED, case=case, object_ref=ref, outcome=refusal.value)
        raise RevealRefused(refusal)
    log_access(request=request, action=AccessAction.REVEAL, case=case, object_ref=ref)
    return Revealed(party=party, item=item, field=field, value=getattr(item, field))
