"""The case policy: the one place that decides who may see and do what with cases.

In the manner of Wagtail's permission policies, each yes/no question about one object sits beside the queryset
that answers it for many (``can_see`` beside ``visible_cases``, ``can_report_on`` beside ``reportable_units``), so
a list, a page, an API answer, the admin site and a service cannot disagree. Everything here is a function of an
``Actor`` (accounts/authority.py: the user's grants, read once per request by ``accounts.middleware.ActorMiddleware``
and once per service call or task) and the object asked about. The predicates are pure except ``can_see``,
``is_involved`` and those that call it, which ask the database only whether the user is listed on the case as a victim;
``office_recipients`` reads who supervises a unit when a case has no assignee in charge of it.

A "no" is the caller's to turn into an answer: an invisible case or an out-of-scope unit is a 404 (its existence is
not revealed), a forbidden step on a visible case a 403. The services enforce the action checks themselves, under
their lock, so every door behaves alike.
"""

from collections.abc import Iterable
from enum import StrEnum

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.authority import Actor
from accounts.models import AccountAudit, AccountChange, OrgLevel, OrgUnit, Role, User
from accounts.selectors import ancestor_paths, path_prefix_q, supervisors_covering, supervisors_of_unit_and_above
from cases.choices import OPEN_STATUSES, TERMINAL_STATUSES, CaseStatus, EventKind, NoteVisibility
from cases.models import Case, CaseEvent, InvolvedOfficer, QueueExport, ReportExport, Suspect
from cases.overrides import OVERRIDING_ACTIONS
from cases.workflow import FILER, Transition, actions_from, transition_for

OVERSEER_ROLES = (Role.SUPERVISOR, Role.ADMIN)
REPORT_ROLES = (Role.ADMIN, Role.SUPERVISOR)

# Up to this many cases listing a user are passed to the database as ids; beyond it, a correlated EXISTS.
_LISTED_AS_IDS = 2000


def _under(path: str, paths: tuple[str, ...]) -> bool:
    return any(path.startswith(p) for p in paths)


# --- seeing cases ----------------------------------------------------------------------------------------------------


def visibility_q(actor: Actor, *, through: str = "") -> Q:
    """Officers: cases they filed, or submitted cases listing them as a victim. Supervisors and admins: the
    submitted cases of their subtrees. Drafts stay private to their filer.

    ``through`` applies the same rule to rows that belong to a case (``"case__"`` for notifications): there the
    cases listing the user are matched with a correlated EXISTS, as the rows are few (a user's own)."""
    if not actor.is_active:
        return Q(pk__in=[])
    submitted = ~Q(**{f"{through}status": CaseStatus.DRAFT})
    q = Q(**{f"{through}filed_by_id": actor.user_id})
    case_ref = f"{through.removesuffix('__')}_id" if through else "pk"
    listing = Exists(InvolvedOfficer.objects.filter(case=OuterRef(case_ref), user_id=actor.user_id))
    if through:
        q |= submitted & Q(listing)
    else:
        # The cases listing the user as a victim, as ids read first: an EXISTS inside the OR cannot be estimated, so
        # PostgreSQL would walk every case newest-first to find a page (1.7 s at a million cases, 0.6 ms this way).
        listed = list(
            InvolvedOfficer.objects.filter(user_id=actor.user_id).values_list("case_id", flat=True)[
                : _LISTED_AS_IDS + 1
            ]
        )
        q |= submitted & (Q(pk__in=listed) if len(listed) <= _LISTED_AS_IDS else Q(listing))
    paths = actor.paths_for(*OVERSEER_ROLES)
    if paths:
        q |= submitted & path_prefix_q(f"{through}unit_path", paths)
    return q & unsealed_or_administered_q(actor, through=through)


def visible_cases(actor: Actor) -> QuerySet[Case]:
    """Every case that exists for the actor; every user-facing read of cases starts here."""
    return Case.objects.filter(visibility_q(actor))


def can_see(actor: Actor, case: Case) -> bool:
    """Whether ``case`` is among ``visible_cases(actor)``."""
    if not actor.is_active:
        return False
    if case.sealed_at is not None:
        return sees_sealed(actor, case)
    if case.filed_by_id == actor.user_id:
        return True
    if case.status == CaseStatus.DRAFT:
        return False
    if _under(case.unit_path, actor.paths_for(*OVERSEER_ROLES)):
        return True
    return InvolvedOfficer.objects.filter(case_id=case.pk, user_id=actor.user_id).exists()


# --- sealed cases (retention: cases/retention.py) --------------------------------------------------------------------
#
# A closed case past its retention period is sealed: from then on only the administrators covering its unit see it,
# through every door (pages, API, the admin site, exports, the search, the queue and the dashboard), and every read of
# it is in the access log as any case read is. Its filer, the officers listed on it and the supervisors no longer see
# it. The yearly reports still count it: they read the summaries (cases/summaries.py), never the visible cases.


def sees_sealed(actor: Actor, case: Case) -> bool:
    """Whether the actor reads a sealed case: an administrator covering its unit. Pure."""
    return actor.is_active and actor.covers(Role.ADMIN, case.unit_path)


def unsealed_or_administered_q(actor: Actor, *, through: str = "") -> Q:
    """The cases not sealed, and the sealed ones the actor administers (``sees_sealed`` for many)."""
    unsealed = Q(**{f"{through}sealed_at__isnull": True})
    paths = actor.paths_for(Role.ADMIN) if actor.is_active else ()
    return unsealed | path_prefix_q(f"{through}unit_path", paths) if paths else unsealed


def can_hold(actor: Actor, case: Case) -> bool:
    """Place or lift a legal hold, which stops the retention job sealing or anonymising the case: an administrator
    covering its unit, on a submitted case. Pure."""
    return case.status != CaseStatus.DRAFT and actor.is_active and actor.covers(Role.ADMIN, case.unit_path)


def retention_paths(actor: Actor) -> tuple[str, ...]:
    """The subtrees whose retention plan (what the job will seal and anonymise next) the actor reads: those they
    administer (empty: none)."""
    return actor.paths_for(Role.ADMIN) if actor.is_active else ()


def can_read_retention_plan(actor: Actor) -> bool:
    return bool(retention_paths(actor))


def overseen_cases(actor: Actor) -> QuerySet[Case]:
    """Visible cases in the subtrees the actor supervises or administers (their flags, their yearly summary)."""
    paths = actor.paths_for(*OVERSEER_ROLES)
    if not actor.is_active or not paths:
        return Case.objects.none()
    return Case.objects.filter(visibility_q(actor) & path_prefix_q("unit_path", paths))


def can_oversee(actor: Actor, case: Case) -> bool:
    """Whether ``case`` is among ``overseen_cases(actor)``."""
    return (
        actor.is_active
        and _under(case.unit_path, actor.paths_for(*OVERSEER_ROLES))
        and (case.status != CaseStatus.DRAFT or case.filed_by_id == actor.user_id)
        and (case.sealed_at is None or sees_sealed(actor, case))
    )


def sees_every_case(user: User) -> bool:
    """Superusers: the admin site shows them every case and its records; everyone else sees ``visible_cases``."""
    return user.is_active and user.is_superuser


# --- what the filer reads, what stays with the office -----------------------------------------------------------------
#
# The filer and the officers listed on a case read what concerns them: the status and stage deadlines, the referrals,
# the outcomes (dispositions, the conclusion), the support measures and their answers, the evidence, their own notes
# and the notes the office shares with them. The office's own assessment of how the case is handled stays with the
# office: flags and what a rule expected, supervision findings, police-fault findings, flag overrides, look-back
# reviews and internal notes. Every door asks these functions: the case page, the API (case list and detail, the
# findings, fault-findings and reviews lists, the timeline), notifications and their e-mails, the admin site.

# Timeline events about the office's assessment, never shown to a reader without ``sees_internal``.
INTERNAL_EVENT_KINDS = frozenset(
    {
        EventKind.FLAG_RAISED,
        EventKind.FLAG_RESOLVED,
        EventKind.FLAG_OVERRIDDEN,
        EventKind.FINDING,
        EventKind.FAULT_FINDING,
        EventKind.REVIEW,
        EventKind.CAMPAIGN,
        EventKind.LEGAL_HOLD,
        EventKind.SEALED,
        EventKind.ANONYMISED,
    }
)
# Keys of a shared event's data that point at internal records (a reopen names its supervision finding; a close, its
# look-back review; a conclusion, the dispositions a rule still missed): left out of what the filer reads.
INTERNAL_EVENT_DATA = frozenset({"finding", "problem", "review", "missing", "campaign"})


def sees_internal(actor: Actor, case: Case) -> bool:
    """The office's view of a case: supervisors and administrators covering its unit. Everyone else who sees the case
    (its filer, the officers listed on it) reads the shared part only. Pure."""
    return sees_internal_at(actor, case.unit_path)


def sees_internal_at(actor: Actor, unit_path: str) -> bool:
    """``sees_internal`` for a case at ``unit_path`` (the case's own column), for rows read without their case."""
    return actor.is_active and any(actor.covers(role, unit_path) for role in OVERSEER_ROLES)


def internal_scope_q(actor: Actor, *, through: str = "") -> Q:
    """The cases whose internal material the actor reads (``sees_internal`` for many): the queue's flag filters
    apply only within it, so a filer cannot learn through a filter which of their cases are flagged."""
    paths = actor.paths_for(*OVERSEER_ROLES) if actor.is_active else ()
    if not paths:
        return Q(pk__in=[])
    return path_prefix_q(f"{through}unit_path", paths)


def default_note_visibility(actor: Actor, case: Case) -> str:
    """The office's notes are internal unless the author shares them; the filer's notes are for the office anyway."""
    return NoteVisibility.INTERNAL if sees_internal(actor, case) else NoteVisibility.SHARED


def note_visibilities(actor: Actor, case: Case) -> tuple[str, ...]:
    """The visibilities the actor may give a note: only the office writes internal notes (a filer's own note is
    always readable by the filer)."""
    if sees_internal(actor, case):
        return (NoteVisibility.INTERNAL, NoteVisibility.SHARED)
    return (NoteVisibility.SHARED,)


def shared_events_q() -> Q:
    """The timeline events a case's filer reads: not about the office's assessment, and notes only when shared. A
    note recorded before notes had a visibility is shared when its author is the filer, internal otherwise (the
    office wrote it for the office)."""
    shared_note = Q(data__visibility=NoteVisibility.SHARED) | Q(
        data__visibility__isnull=True, actor_id=F("case__filed_by_id")
    )
    return (
        ~Q(kind__in=INTERNAL_EVENT_KINDS) & (~Q(kind=EventKind.NOTE) | shared_note) & ~Q(data__has_key=FROM_THE_RECORD)
    )


def events_q(actor: Actor) -> Q:
    """Events of visible cases the actor reads (the admin site's lists): all of those whose internal material the
    actor reads, the shared ones of the others."""
    return internal_scope_q(actor, through="case__") | shared_events_q()


def is_shared_event(event: CaseEvent, case: Case) -> bool:
    """``shared_events_q`` for one event (a notification, an e-mail)."""
    if event.kind in INTERNAL_EVENT_KINDS or FROM_THE_RECORD in (event.data or {}):
        return False
    if event.kind == EventKind.NOTE:
        visibility = (event.data or {}).get("visibility")
        return visibility == NoteVisibility.SHARED or (visibility is None and event.actor_id == case.filed_by_id)
    return True


def events_visible_to(actor: Actor, case: Case) -> QuerySet[CaseEvent]:
    """The timeline of ``case`` as the actor may read it (the case itself is visible: the caller checked)."""
    events = CaseEvent.objects.filter(case=case)
    return events if sees_internal(actor, case) else events.filter(shared_events_q())


# --- what the record says of a case's suspects (cases/services/repeats.py) ----------------------------------------
#
# A suspect's ID number matched against the suspects punished in other cases sets the case's "previously punished for
# attacking police" fact, with a timeline entry (its data has the key below) saying why. Both are the office's: they
# come from cases the reader may not see, and the filer, who types the suspects' numbers, would otherwise learn for
# any number typed whether its holder was punished (by submitting a probe and reading their own case). The filer and
# the officers listed read the answer the fact had from people (``selectors.fact_answers_as_read``), and no entry.

FROM_THE_RECORD = "derived"  # CaseEvent.data key of a change the record made, not a person


def reads_the_record(actor: Actor, case: Case) -> bool:
    """Whether the actor reads the facts as the record set them, and why (the office: ``sees_internal``). Pure."""
    return sees_internal(actor, case)


def shared_event_data(data: dict) -> dict:
    """An event's data as the filer reads it: without the keys that point at internal records."""
    return {k: v for k, v in (data or {}).items() if k not in INTERNAL_EVENT_DATA}


# --- the search --------------------------------------------------------------------------------------------------


def searchable_cases(actor: Actor) -> QuerySet[Case]:
    """What the global search in the top bar looks in (cases/search.py): for supervisors and administrators, the
    cases they see (``visible_cases``); for an officer, only the applications they filed, not every case listing
    them. The queue and the API search within their own lists."""
    if not actor.is_active:
        return Case.objects.none()
    if searches_own_filings_only(actor):
        return Case.objects.filter(Q(filed_by_id=actor.user_id) & unsealed_or_administered_q(actor))
    return visible_cases(actor)


def searches_own_filings_only(actor: Actor) -> bool:
    """Whether ``searchable_cases`` is only the actor's own applications (the page says so)."""
    return not actor.paths_for(*OVERSEER_ROLES)


def can_search(actor: Actor) -> bool:
    """Whether the top bar offers the search: to supervisors, administrators and officers (their own filings)."""
    return actor.is_active and (bool(actor.paths_for(*OVERSEER_ROLES)) or actor.is_officer)


# --- the supervisor's queue ------------------------------------------------------------------------------------------


# Who has the queue and the dashboard: the supervisors and administrators of a subtree, who see its cases anyway
# (``visibility_q``, ``sees_internal``). An administrator reads them there; every action on a case is still decided
# on the case (``can_handle`` and the others below), so the queue gives an administrator nothing to act on.
QUEUE_ROLES = OVERSEER_ROLES


def has_queue(actor: Actor) -> bool:
    """Supervisors and administrators have the queue of their subtrees; officers have their own applications."""
    return actor.is_active and bool(actor.paths_for(*QUEUE_ROLES))


def works_the_queue(actor: Actor) -> bool:
    """Bulk work on the queue and its export are the supervisors': an administrator reads the queue, takes no action
    on its cases and takes no list of them away (the yearly report is theirs)."""
    return actor.is_active and bool(actor.paths_for(Role.SUPERVISOR))


def has_dashboard(actor: Actor) -> bool:
    """Who lands on the dashboard at ``/``: whoever has the queue, which every figure of it links to. Officers (and
    anyone else) land on their own applications."""
    return has_queue(actor)


def queue_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units of the subtrees the actor's queue and dashboard cover: the unit filter and the dashboard's unit
    picker offer these, and refuse any other unit."""
    paths = actor.paths_for(*QUEUE_ROLES) if actor.is_active else ()
    if not paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path_prefix_q("path", paths)).order_by("path")


def queue_roots(actor: Actor) -> QuerySet[OrgUnit]:
    """The top units of ``queue_units``: the units of the actor's supervisor and administrator memberships, without
    one that lies inside another."""
    paths = actor.paths_for(*QUEUE_ROLES) if actor.is_active else ()
    tops = [p for p in paths if not any(p != other and p.startswith(other) for other in paths)]
    return OrgUnit.objects.filter(path__in=tops).order_by("path")


def queue_scope(actor: Actor) -> QuerySet[Case]:
    """The cases of ``queue_units``, whatever their status: what the queue and the dashboard filter (they never
    count drafts)."""
    paths = actor.paths_for(*QUEUE_ROLES) if actor.is_active else ()
    if not paths:
        return Case.objects.none()
    return Case.objects.filter(path_prefix_q("unit_path", paths) & unsealed_or_administered_q(actor))


def supervised_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units in the subtrees the actor supervises: the queue's unit filter, where a case may be referred."""
    if not actor.is_active:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path_prefix_q("path", actor.paths_for(Role.SUPERVISOR))).order_by("path")


def supervises(actor: Actor, path: str) -> bool:
    """Whether the unit at ``path`` is among ``supervised_units(actor)``."""
    return actor.covers(Role.SUPERVISOR, path)


def supervised_cases(actor: Actor) -> QuerySet[Case]:
    """The cases of the subtrees the actor supervises, whatever their status: what the queue filters (it never
    lists drafts); ``supervises(actor, case.unit_path)`` answers for one case."""
    paths = actor.paths_for(Role.SUPERVISOR)
    if not actor.is_active or not paths:
        return Case.objects.none()
    return Case.objects.filter(path_prefix_q("unit_path", paths) & unsealed_or_administered_q(actor))


# --- acting on cases -------------------------------------------------------------------------------------------------


def performer_roles(actor: Actor, case: Case) -> set[str]:
    """The workflow performer roles the actor holds for this case."""
    if not actor.is_active or case.sealed_at is not None:
        # A sealed case is kept, not worked: nobody takes a workflow action on it (not even a recall).
        return set()
    roles: set[str] = {role for role in OVERSEER_ROLES if actor.covers(role, case.unit_path)}
    if case.filed_by_id == actor.user_id:
        roles.add(FILER)
    return roles


def can_perform(actor: Actor, case: Case, action: str) -> bool:
    """Whether the actor takes ``action`` on the case; nobody takes one on a merged record (it is closed, pointing at
    the case that carries on: recalling it would make two cases of one incident again; an unmerge is the way back)."""
    t = transition_for(action)
    return t is not None and case.merged_into_id is None and bool(t.performers & performer_roles(actor, case))


def available_actions(actor: Actor, case: Case) -> list[Transition]:
    """Actions legal from the case's status that this actor may take: what the UI offers."""
    if case.merged_into_id is not None:
        return []
    roles = performer_roles(actor, case)
    return [t for t in actions_from(case.status) if t.performers & roles]


def can_file(actor: Actor) -> bool:
    """Officers file applications (the home page offers a new one)."""
    return actor.is_active and actor.is_officer


def filing_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The units the filing form offers: those of the actor's officer memberships. ``can_file_in`` also lets an
    officer file for a unit above their own, and a supervisor in their subtree (through the API)."""
    if not actor.is_active:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path__in=actor.paths_for(Role.OFFICER)).order_by("path")


def can_file_in(actor: Actor, unit_path: str) -> bool:
    """Officers file for their own unit or a unit above it; supervisors open cases in their subtree."""
    if not actor.is_active:
        return False
    officer_here = any(path.startswith(unit_path) for path in actor.paths_for(Role.OFFICER))
    return officer_here or actor.covers(Role.SUPERVISOR, unit_path)


def can_import_into(actor: Actor, unit_path: str) -> bool:
    """Start applications from 110 incidents for the unit at ``unit_path`` (integrations/): an integration account
    whose grant covers the unit. It files nothing itself: the attacked officer is the filer, whom ``can_file_in``
    asks about, and it sees no case (``visibility_q`` gives it none)."""
    return actor.is_active and actor.covers(Role.INTEGRATION, unit_path)


def can_edit_draft(actor: Actor, case: Case) -> bool:
    return actor.is_active and case.status == CaseStatus.DRAFT and case.filed_by_id == actor.user_id


def can_handle(actor: Actor, case: Case) -> bool:
    """Record handling (dispositions, support, findings, clock, assignment) on an open case."""
    return case.status in OPEN_STATUSES and actor.covers(Role.SUPERVISOR, case.unit_path)


def can_record_fault_finding(actor: Actor, case: Case) -> bool:
    """Record the legal-affairs department's finding on police fault (R14 reads it): a supervisor of the case's
    unit while the case is open, never an officer, and never a supervisor who filed the case or is listed on it as
    an involved officer, whose own conduct the finding may be about. Asks the database whether the actor is listed."""
    return can_handle(actor, case) and not is_involved(actor, case)


def can_answer_support(actor: Actor, case: Case) -> bool:
    """Answer a support request (approve, decline, record delivered): a supervisor of the case's unit while the case
    is open, never one who filed the case or is listed on it, who would be deciding on support for themselves. Asks
    the database whether the actor is listed."""
    return can_handle(actor, case) and not is_involved(actor, case)


def is_involved(actor: Actor, case: Case) -> bool:
    """Whether the actor filed the case or is listed on it as an involved officer: a party, whose own conduct and
    interest the office's decisions on the case weigh. Asks the database whether the actor is listed."""
    if case.filed_by_id == actor.user_id:
        return True
    return InvolvedOfficer.objects.filter(case_id=case.pk, user_id=actor.user_id).exists()


# A suspect not prosecuted or exempted is transferred for administrative punishment once the criminal track has
# decided: while its handling is supervised, or the look-back finds the transfer missing.
TRANSFER_STATUSES = frozenset({CaseStatus.SUPERVISION, CaseStatus.LOOK_BACK})


def can_record_transfer(actor: Actor, case: Case) -> bool:
    """Record a suspect's transfer for administrative punishment after non-prosecution: a supervisor of the case's
    unit, while the case is in supervision or look-back."""
    return case.status in TRANSFER_STATUSES and can_handle(actor, case)


def can_edit_parties(actor: Actor, case: Case) -> bool:
    """Add or change involved officers and suspects: the filer on a draft, a supervisor while open."""
    return can_edit_draft(actor, case) or can_handle(actor, case)


def can_remove_parties(actor: Actor, case: Case) -> bool:
    """Remove an involved officer or a suspect listed by mistake: whoever may change them (``can_edit_parties``), the
    filer on their draft and a supervisor covering the case while it is open. The removal is on the timeline, and the
    service refuses one the record depends on (a support measure for the officer, a disposition or transfer of the
    suspect, the last officer of a submitted case)."""
    return can_edit_parties(actor, case)


def can_add_material(actor: Actor, case: Case) -> bool:
    """Add notes and evidence: the filer until the case ends, a supervisor while it is open."""
    if not actor.is_active or case.status in TERMINAL_STATUSES:
        return False
    return case.filed_by_id == actor.user_id or can_handle(actor, case)


# Who may be listed on a case as an involved officer: the police, not administrators or accounts without a unit.
LISTABLE_ROLES = (Role.OFFICER, Role.SUPERVISOR)


def province_path(path: str) -> str:
    """The path of the province a unit belongs to; the ministry's own path for the ministry."""
    return "/" + "/".join(path.strip("/").split("/")[:2]) + "/"


def can_be_listed_on(listed: Actor, case: Case) -> bool:
    """Whether an account may be linked to an involved officer of ``case``, which lets it see the case: an active
    officer or supervisor of a unit of the case's province (a colleague from a neighbouring station, a supervisor
    above the unit who was there), never an account elsewhere, an administrator's or one without a unit."""
    if not listed.is_active:
        return False
    province = province_path(case.unit_path)
    return any(path.startswith(province) for path in listed.paths_for(*LISTABLE_ROLES))


def can_refer_to(actor: Actor, unit: OrgUnit) -> bool:
    """A case is referred to a unit the referring supervisor supervises."""
    return supervises(actor, unit.path)


def assignable_supervisors(case: Case) -> QuerySet[User]:
    """Who may be put in charge of ``case``: the active supervisors covering its unit."""
    return supervisors_of_unit_and_above(case.unit_path)


def assignable_supervisors_of_any(unit_paths: Iterable[str]) -> QuerySet[User]:
    """Who may be put in charge of at least one case of units at ``unit_paths`` (a bulk assignment's choices; the
    service still asks ``can_be_assigned`` for each case)."""
    above = {path for unit_path in unit_paths for path in ancestor_paths(unit_path)}
    return (
        User.objects.filter(is_active=True, memberships__role=Role.SUPERVISOR, memberships__unit__path__in=above)
        .distinct()
        .order_by("username")
    )


def can_be_assigned(assignee: Actor, case: Case) -> bool:
    """Whether the assignee is among ``assignable_supervisors(case)``."""
    return supervises(assignee, case.unit_path)


# --- who hears the office's news of a case ----------------------------------------------------------------------------
#
# The office's notices about a case (a submission or withdrawal, flags, stage-clock warnings, findings) are written for
# whoever handles it for the office. A case's assignee is that person only while they still supervise its unit: one
# whose supervisor membership was revoked or moved elsewhere, or who was deactivated, hears nothing more of it, and the
# case is the unit's again, exactly as an unassigned case is. The event notifications, the flag scan (flags, stalled
# stages, the 75 % warnings) and the e-mail digests all ask here.


def in_charge_of(assignee: Actor, unit_path: str) -> bool:
    """Whether a case's assignee still handles it: while they supervise its unit (``supervises``), which is also what
    let them be assigned it (``can_be_assigned``). Pure."""
    return supervises(assignee, unit_path)


def office_recipients(*, unit_path: str, assignee: Actor | None) -> list[int]:
    """Who receives the office's notices about a case of the unit at ``unit_path`` assigned to ``assignee`` (None:
    unassigned): the assignee while ``in_charge_of`` it, otherwise the supervisors of the nearest unit above it that has
    any (``supervisors_covering``), so a county case reaches the county office rather than every supervisor up to the
    ministry."""
    if assignee is not None and in_charge_of(assignee, unit_path):
        return [assignee.user_id]
    return sorted(supervisors_covering(unit_path).values_list("pk", flat=True))


def handler_of(*, unit_path: str, assignee: Actor | None) -> list[int]:
    """The assignee told of the case's moves as its handler (they have the next step to take): only while
    ``in_charge_of`` it. An unassigned case, or one whose assignee moved on, has no handler to tell."""
    return [assignee.user_id] if assignee is not None and in_charge_of(assignee, unit_path) else []


def can_override_flags(actor: Actor, case: Case, action: str) -> bool:
    """Override a rule's flag while concluding or closing the case (cases/overrides.py): whoever may take that action,
    a supervisor covering the case's unit, unless they are a party to the case (``is_involved``): as with the
    police-fault finding, which a flag may turn on, a party does not decide that the rules' finding on their own case
    does not stand. There is no separate office-head role: the override is the supervisor's recorded, reasoned
    decision, reviewable on the timeline and counted in the yearly report. Asks the database whether the actor is
    listed."""
    return action in OVERRIDING_ACTIONS and can_perform(actor, case, action) and not is_involved(actor, case)


def can_acknowledge_flag(actor: Actor, case: Case) -> bool:
    """A supervisor of the case's unit acknowledges its flags, at any stage (closed included)."""
    return actor.covers(Role.SUPERVISOR, case.unit_path)


def can_download_case_sheet(actor: Actor, case: Case) -> bool:
    """The case sheet PDF (cases/reports/case_sheet.py) is the supervision record a supervisor files or hands to a
    procuratorate: the supervisors and administrators overseeing the case (``can_oversee``). The filing officer and
    the officers listed on the case read and print the case page itself (it has a print layout); they get no sheet,
    which would carry the supervisors' findings and flag decisions as an official-looking document."""
    return can_oversee(actor, case)


# --- duplicates: likely duplicates, links and merges (cases/duplicates.py, cases/services/duplicates.py) ------------
#
# Two officers attacked in one incident may each file. The office sees the likely duplicates of a case it oversees and
# links them (related, both carry on) or merges one into the other (one carries on with both filers as victims, the
# other becomes a closed record pointing at it). The filer and the officers listed never see the candidates: they would
# learn of other officers' applications. An administrator undoes a merge made by mistake, within a period.


def sees_duplicates(actor: Actor, case: Case) -> bool:
    """The likely duplicates of a submitted case, its links and merges: the office's view (``sees_internal``). Pure."""
    return case.status != CaseStatus.DRAFT and sees_internal(actor, case)


def can_link(actor: Actor, case: Case) -> bool:
    """Link or unlink this case with another (the service asks for both cases): a supervisor covering its unit, while
    it is submitted. Whether the cases' states allow it (a merged record does not) is the service's to say. Pure."""
    return actor.is_active and case.status != CaseStatus.DRAFT and actor.covers(Role.SUPERVISOR, case.unit_path)


def can_merge(actor: Actor, case: Case) -> bool:
    """Take part in a merge, as the survivor or as the duplicate (the service asks for both cases and says which states
    a merge accepts): a supervisor covering the case's unit, as for a link. Pure."""
    return can_link(actor, case)


def can_unmerge(actor: Actor, merged: Case, survivor: Case) -> bool:
    """Undo a merge: an administrator covering both cases' units, never a supervisor (the merge was one), while neither
    case is sealed (a sealed case is kept, not worked: cases/retention.py). Pure."""
    return (
        actor.is_active
        and actor.covers(Role.ADMIN, merged.unit_path)
        and actor.covers(Role.ADMIN, survivor.unit_path)
        and merged.sealed_at is None
        and survivor.sealed_at is None
    )


def is_merged_record(case: Case) -> bool:
    """A case merged into another: closed for good, no workflow action applies to it until an unmerge. Pure."""
    return case.merged_into_id is not None


# --- the rule catalogue ---------------------------------------------------------------------------------------------

CATALOGUE_ROLES = (Role.OFFICER, Role.SUPERVISOR, Role.ADMIN)


def can_read_rule_catalogue(actor: Actor) -> bool:
    """Anyone holding a membership reads the rule catalogue (the page and the API): it is the law and the office's
    expectations with how well each part is sourced, no case data; supervisors and administrators work from it, and
    an officer sees flags on their own cases, whose rules it explains. A person without a membership does not."""
    return actor.is_active and bool(actor.paths_for(*CATALOGUE_ROLES))


# --- masked values: suspects' ID numbers, officers' medical details --------------------------------------------------


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # no such item on this case, or nothing recorded in the field
    FORBIDDEN = "forbidden"  # the role may not see this value
    REAUTH_REQUIRED = "reauth_required"  # a session that has not re-authenticated recently


def can_see_in_full(actor: Actor, case: Case, item: InvolvedOfficer | Suspect) -> bool:
    """The supervisors covering the case; an officer's medical details also the officer themself. Administrators
    never: reporting and user management do not need them."""
    if actor.covers(Role.SUPERVISOR, case.unit_path):
        return True
    return (
        actor.is_active
        and isinstance(item, InvolvedOfficer)
        and item.user_id is not None
        and item.user_id == actor.user_id
    )


def id_numbers_read_q(actor: Actor) -> Q:
    """The cases whose suspects' ID numbers the actor reads in full (``can_see_in_full`` for a suspect, for many): the
    search matches an ID number only there, so that it is never an oracle for the digits a mask hides (an
    administrator, or an officer on the case, confirming a guessed number)."""
    paths = actor.paths_for(Role.SUPERVISOR) if actor.is_active else ()
    if not paths:
        return Q(pk__in=[])
    return path_prefix_q("unit_path", paths)


def sees_repeat_matches(actor: Actor, case: Case) -> bool:
    """Whether the actor is told which earlier cases against police the suspects of ``case`` have
    (``selectors.earlier_cases_against_police``): whoever reads those suspects' ID numbers in full
    (``can_see_in_full``), since the match rests on the number. Nobody else learns, from a match, anything about a
    number a mask hides from them."""
    return actor.is_active and actor.covers(Role.SUPERVISOR, case.unit_path)


def repeat_matches_visible(actor: Actor) -> QuerySet[Case]:
    """The earlier cases a repeat match may name and count for the actor: those they see and whose suspects' ID
    numbers they read in full (``id_numbers_read_q``). Any other match is neither named nor counted."""
    return visible_cases(actor).filter(id_numbers_read_q(actor))


def reveal_refusal(
    actor: Actor,
    case: Case,
    item: InvolvedOfficer | Suspect | None,
    field: str,
    *,
    by_token: bool,
    reauthenticated: bool,
) -> Refusal | None:
    """Why this value may not be shown in full now, or None when it may. Pure: the caller states how the request
    was authenticated and whether its session re-authenticated recently. A token client is a terminal whose token
    was issued on password entry; a browser session must have re-authenticated recently."""
    if item is None or not getattr(item, field):
        return Refusal.NOT_FOUND
    if not can_see_in_full(actor, case, item):
        return Refusal.FORBIDDEN
    if not by_token and not reauthenticated:
        return Refusal.REAUTH_REQUIRED
    return None


# --- yearly reports and their exports ----------------------------------------------------------------------------


def report_paths(actor: Actor) -> tuple[str, ...]:
    """The subtrees the actor may report on: those of their admin and supervisor memberships (empty: none)."""
    return actor.paths_for(*REPORT_ROLES) if actor.is_active else ()


def can_report(actor: Actor) -> bool:
    return bool(report_paths(actor))


def reportable_units(actor: Actor) -> QuerySet[OrgUnit]:
    paths = report_paths(actor)
    if not paths:
        return OrgUnit.objects.none()
    return OrgUnit.objects.filter(path_prefix_q("path", paths))


def can_report_on(actor: Actor, unit: OrgUnit) -> bool:
    """Whether ``unit`` is among ``reportable_units(actor)``; exporting its report is the same question."""
    return _under(unit.path, report_paths(actor))


def unit_notices_q(actor: Actor, *, through: str = "") -> Q:
    """The units whose notices (cases/notices.py) the actor reads: those they oversee as a supervisor, as the
    rights-protection office the notices are sent to. One who no longer supervises a unit no longer reads what its
    office was told about it; nor does an administrator (a notice may tell of a suspect's earlier cases, which rests
    on ID numbers administrators never read). ``through`` reaches the unit from another row (``"unit__"`` for
    notifications)."""
    paths = actor.paths_for(Role.SUPERVISOR) if actor.is_active else ()
    return path_prefix_q(f"{through}path", paths)


def member_notices_q(actor: Actor, *, through: str = "") -> Q:
    """The units whose notices to members (cases/notices.py: guidance pushed to a subtree, the library's work) the actor
    reads: those on the line of a unit they hold any role at, the unit itself, above it or below it. One who leaves the
    subtree a tip was pushed to no longer reads its notice; the page it links to decides again who reads what it
    shows."""
    if not actor.is_active or not actor.grants:
        return Q(pk__in=[])
    paths = tuple(grant.path for grant in actor.grants)
    above = sorted({path for grant_path in paths for path in ancestor_paths(grant_path)})
    return Q(**{f"{through}path__in": above}) | path_prefix_q(f"{through}path", paths)


def picker_units(actor: Actor) -> QuerySet[OrgUnit]:
    """The reportable units the report page's picker offers: down to county level, plus the membership units
    themselves. Stations are reached from their county's sub-unit table, which keeps the list short nationally."""
    paths = report_paths(actor)
    shown = ~Q(level=OrgLevel.STATION) | Q(path__in=paths)
    return reportable_units(actor).filter(shown).order_by("path")


def visible_exports(actor: Actor) -> QuerySet[ReportExport]:
    """Background exports the actor may follow and download: their own, of units they still report on."""
    paths = report_paths(actor)
    if not paths:
        return ReportExport.objects.none()
    return ReportExport.objects.filter(path_prefix_q("unit__path", paths), requested_by_id=actor.user_id)


def visible_queue_exports(actor: Actor) -> QuerySet[QueueExport]:
    """Queue workbooks the actor may follow and download: their own, while they still work the queue, asked for
    since they last lost a role. A workbook may list the cases of an authority they held when they asked; once a
    membership is revoked it is no longer handed out (they ask again, and the queue is listed as it is now)."""
    if not works_the_queue(actor):
        return QueueExport.objects.none()
    lost_a_role = AccountAudit.objects.filter(
        subject_id=OuterRef("requested_by_id"), action=AccountChange.MEMBERSHIP_REVOKED, at__gte=OuterRef("created_at")
    )
    return QueueExport.objects.filter(requested_by_id=actor.user_id).exclude(Exists(lost_a_role))


def can_see_export(actor: Actor, export: ReportExport) -> bool:
    """Whether ``export`` is among ``visible_exports(actor)``."""
    return export.requested_by_id == actor.user_id and can_report_on(actor, export.unit)
