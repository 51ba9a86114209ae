"""Applications started from a 110 incident: the 110 command centre's dispatch system sends the incident, and each
unit whose officers were attacked on scene gets one draft, filed in the name of its first attacked officer, who
completes and submits it (the case pages' wizard, the API's draft).

The import decides nothing the case services decide: the draft is made by ``create_draft_case`` as the officer (whom
the policy must let file for the unit), the other attacked officers are listed by ``add_involved_officer``, and the
timeline entry saying where it came from, with the officer's notification, by ``record_incident_import``. What is
checked here first is what only the import knows: that the units are among those this account imports for, that every
attacked officer is found by their police number (``User.badge_number``, never by name) and may file for their unit.
Those refusals name the field of the payload they are about (``officers[1].police_number``), all at once.

Idempotent by (incident number, unit): a replay, or a later message about the same incident, answers the same
applications and starts nothing. ``IncidentImport``'s unique constraint makes it so whatever the timing, and the
units' rows are locked before anything is looked up, so a concurrent replay waits for the first and then finds its
rows (instead of failing on the constraint after having taken a case reference).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import policy, selectors, services
from cases.choices import Channel, DutyScenario, DutyStatus, IncidentKind, InjuryGrade
from cases.models import Case
from cases.rules.facts import FACTS
from integrations.models import IncidentImport

# As long as ``Case.summary``: a longer 110 record is kept whole in the narrative.
SUMMARY_MAX = 200


@dataclass(frozen=True)
class OfficerOnScene:
    police_number: str
    name: str
    unit: str  # the code of the officer's unit, one of the units dispatched
    attacked: bool
    injured: bool | None = None  # None: the 110 record does not say


@dataclass(frozen=True)
class Incident:
    number: str
    occurred_at: datetime
    location: str
    summary: str
    units_dispatched: tuple[str, ...]
    officers: tuple[OfficerOnScene, ...]
    kind: str = IncidentKind.OTHER  # the 110 record's type if it says; "other" asks the officer every question


@dataclass(frozen=True)
class ImportedDraft:
    """One unit's application for the incident, as the import answers it: no more of the case than this."""

    unit: OrgUnit
    case: Case
    created: bool  # started by this call (False: found, from an earlier call or filed by hand)
    attached: bool  # the incident was matched to an application recorded for it before the first import


@dataclass(frozen=True)
class ImportResult:
    incident_number: str
    drafts: tuple[ImportedDraft, ...] = field(default=())

    @property
    def created_any(self) -> bool:
        return any(draft.created for draft in self.drafts)


def import_incident(*, incident: Incident, by: User) -> ImportResult:
    """Start (or find) the application of each unit whose officers were attacked in ``incident``."""
    actor = actor_for(by)
    if not (actor.is_active and actor.is_integration):
        raise PermissionDenied(_("Only an integration account may import 110 incidents."))
    try:
        return _import(incident, by)
    except IntegrityError:
        # Another import of the same incident committed its row between this one's look-up and its insert (the unit
        # locks leave no such window on PostgreSQL): the whole import ran back, and now finds that row.
        return _import(incident, by)


@transaction.atomic
def _import(incident: Incident, by: User) -> ImportResult:
    units, filers = _checked(incident, by)
    # Every import of an incident for these units waits here for the one before it to commit (see the module). NO KEY:
    # a plain FOR UPDATE would also stop every row that refers to the unit (an officer filing by hand, a membership
    # granted) for as long as the import takes, and one of 200 attacked officers takes seconds.
    list(OrgUnit.objects.select_for_update(no_key=True).filter(pk__in=[u.pk for u in units.values()]).order_by("pk"))
    drafts = []
    for code in dict.fromkeys(incident.units_dispatched):
        attacked = [(o, filers[o.police_number]) for o in incident.officers if o.attacked and o.unit == code]
        if attacked:
            drafts.append(_draft_for(incident, units[code], attacked, by))
    return ImportResult(incident_number=incident.number, drafts=tuple(drafts))


def _checked(incident: Incident, by: User) -> tuple[dict[str, OrgUnit], dict[str, User]]:
    """The units dispatched and the attacked officers' accounts, or a ValidationError naming every field refused."""
    actor = actor_for(by)
    errors: dict[str, str] = {}
    found = {u.code: u for u in OrgUnit.objects.filter(code__in=incident.units_dispatched)}
    units: dict[str, OrgUnit] = {}
    for i, code in enumerate(incident.units_dispatched):
        unit = found.get(code)
        # A unit outside the account's subtree answers as an unknown one: its existence is not the caller's business.
        if unit is None or not policy.can_import_into(actor, unit.path):
            errors[f"units_dispatched[{i}]"] = _(
                "No unit with the code %(code)s is among the units this account imports for."
            ) % {"code": code}
        else:
            units[code] = unit
    filers: dict[str, User] = {}
    seen: set[str] = set()
    for i, officer in enumerate(incident.officers):
        where = f"officers[{i}]"
        if officer.police_number in seen:
            errors[f"{where}.police_number"] = _("The police number %(number)s is listed twice.") % {
                "number": officer.police_number
            }
            continue
        seen.add(officer.police_number)
        if officer.unit not in incident.units_dispatched:
            errors[f"{where}.unit"] = _("The unit %(code)s is not among the units dispatched.") % {"code": officer.unit}
            continue
        if not officer.attacked or officer.unit not in units:
            continue
        accounts = list(User.objects.filter(badge_number=officer.police_number, is_active=True)[:2])
        if not accounts:
            errors[f"{where}.police_number"] = _("No active account has the police number %(number)s.") % {
                "number": officer.police_number
            }
        elif len(accounts) > 1:
            errors[f"{where}.police_number"] = _(
                "More than one account has the police number %(number)s: an administrator must correct them first."
            ) % {"number": officer.police_number}
        elif not policy.can_file_in(actor_for(accounts[0]), units[officer.unit].path):
            errors[f"{where}.police_number"] = _(
                "The officer with the police number %(number)s cannot file an application for the unit %(code)s."
            ) % {"number": officer.police_number, "code": officer.unit}
        else:
            filers[officer.police_number] = accounts[0]
    if errors:
        raise ValidationError(errors)
    return units, filers


def _draft_for(
    incident: Incident, unit: OrgUnit, attacked: Sequence[tuple[OfficerOnScene, User]], by: User
) -> ImportedDraft:
    done = IncidentImport.objects.filter(incident_number=incident.number, unit=unit).select_related("case").first()
    if done is not None:
        return ImportedDraft(unit=unit, case=done.case, created=False, attached=done.attached)
    recorded = selectors.case_for_incident(unit=unit, incident_number=incident.number)
    if recorded is not None:
        # Filed by hand before the 110 record arrived: the same application. Its officers are the filer's (or, once
        # submitted, the office's) to complete; the import only says the incident was matched.
        _record(incident, unit, recorded, by, attached=True)
        return ImportedDraft(unit=unit, case=recorded, created=False, attached=True)
    (first, filer), *others = attacked
    case = services.create_draft_case(by=filer, unit=unit, details=_details(incident), add_filer_as_officer=True)
    if first.injured:
        services.update_involved_officer(
            officer=case.officers.get(user=filer), by=filer, injury=InjuryGrade.PENDING_APPRAISAL
        )
    for officer, account in others:
        services.add_involved_officer(
            case=case,
            by=filer,
            user=account,
            badge_number=officer.police_number,
            duty_status=DutyStatus.ON_DUTY,
            injury=InjuryGrade.PENDING_APPRAISAL if officer.injured else InjuryGrade.NONE,
        )
    _record(incident, unit, case, by, attached=False)
    return ImportedDraft(unit=unit, case=case, created=True, attached=False)


def _record(incident: Incident, unit: OrgUnit, case: Case, by: User, *, attached: bool) -> None:
    IncidentImport.objects.create(
        incident_number=incident.number,
        unit=unit,
        case=case,
        attached=attached,
        imported_by=by,
        imported_at=timezone.now(),
    )
    services.record_incident_import(case=case, by=by, incident_number=incident.number, attached=attached)


def _details(incident: Incident) -> dict[str, object]:
    """What the 110 record says of the incident, as the draft's details and facts: the rest is the officer's."""
    attacked = sum(1 for officer in incident.officers if officer.attacked)
    details: dict[str, object] = {
        "kind": incident.kind,
        "channel": Channel.DISPATCH_110,
        "dispatch_ref": incident.number,
        "occurred_at": incident.occurred_at,
        "location": incident.location,
        "summary": incident.summary[:SUMMARY_MAX],
        "narrative": incident.summary,
        "duty_scenario": DutyScenario.CALL_110,
    }
    facts = {fact.name: fact for fact in FACTS}
    if facts["officers_attacked"].asked_about(incident.kind):
        details["officers_attacked"] = attacked
    return details
