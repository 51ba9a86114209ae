"""Reads of cases. Every user-facing read starts from the visible cases (``policy.visible_cases``)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.authority import Actor
from accounts.models import OrgUnit, User
from accounts.selectors import actor_for
from cases import breakdowns, messages, policy
from cases.choices import (
    ADMIN_PUNISHMENTS,
    MEMBER_NOTICE_KINDS,
    OPEN_STATUSES,
    PREFERENCE_KINDS,
    CaseStatus,
    Disposition,
    EventKind,
    NotificationDelivery,
)
from cases.models import (
    FAULT_FINDING_ORDER,
    Case,
    CaseEvent,
    FaultFinding,
    Flag,
    InvolvedOfficer,
    Notification,
    NotificationPreference,
    OutboxMessage,
    Referral,
    Suspect,
    WelfarePrompt,
)
from cases.queue_filters import QueueFilters, standing_q
from cases.rules.engine import RULES, evaluate
from cases.rules.facts import FACT_NAMES
from cases.rules.presentation import rule_anchor, shown_code


def cases_visible_to(user: User) -> QuerySet[Case]:
    """The cases that exist for ``user`` (a request has its actor already: ``policy.visible_cases(request.actor)``)."""
    return policy.visible_cases(actor_for(user))


def cases_in_scope(unit_path: str, filters: QueueFilters) -> QuerySet[Case]:
    """The submitted cases of the subtree at ``unit_path`` that match the queue's ``filters`` (any status but a draft
    when none is chosen), whoever asks: a scope that a unit's office stands behind, such as an oversight campaign's.
    Unordered. The filters may hold neither a text nor "assigned to me" (``queue_filters.standing_q``)."""
    return (
        Case.objects.filter(unit_path__startswith=unit_path)
        .exclude(status=CaseStatus.DRAFT)
        .filter(standing_q(filters))
    )


def cases_filed_by(user: User) -> QuerySet[Case]:
    return Case.objects.filter(filed_by=user).select_related("unit").order_by("-created_at", "-id")


def case_for_incident(*, unit: OrgUnit, incident_number: str) -> Case | None:
    """The application of ``unit`` recorded for 110 incident ``incident_number`` (``Case.dispatch_ref``), oldest
    first, whatever its channel: one filed by hand before the 110 import arrived is the same application. A withdrawn
    or rejected one does not count (the officer starts again). Not scoped to a reader: the import's own service asks
    the policy first, and answers no more of the case than its id and reference."""
    return (
        Case.objects.filter(unit=unit, dispatch_ref=incident_number)
        .exclude(status__in=(CaseStatus.WITHDRAWN, CaseStatus.REJECTED))
        .order_by("created_at", "pk")
        .first()
    )


def timeline_for(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")


def last_event_id(case: Case) -> int:
    """The id of the case's latest timeline event (0 for none): ``facts_cleared_since`` reads what came after it."""
    return CaseEvent.objects.filter(case=case).order_by("-id").values_list("id", flat=True).first() or 0


def facts_cleared_since(case: Case, event_id: int) -> list[str]:
    """The facts that changes of the case's details after event ``event_id`` cleared because its incident type no
    longer asks them (in the table's order)."""
    cleared: set[str] = set()
    for data in CaseEvent.objects.filter(case=case, kind=EventKind.UPDATED, id__gt=event_id).values_list(
        "data", flat=True
    ):
        cleared.update(data.get("cleared_facts", []))
    return [name for name in FACT_NAMES if name in cleared]


def timeline_visible_to(actor: Actor, case: Case) -> QuerySet[CaseEvent]:
    """The timeline as the actor may read it (the filer: without the office's internal events), oldest first."""
    return policy.events_visible_to(actor, case).select_related("actor").order_by("at", "id")


# --- police-fault findings ---------------------------------------------------------------------------------------

# Which finding counts (``FAULT_FINDING_ORDER``, kept beside the model): the latest by the date of the finding, then
# the later record.


def fault_findings_of(case: Case) -> QuerySet[FaultFinding]:
    """A case's police-fault findings, oldest first: the last one is the current finding."""
    return FaultFinding.objects.filter(case=case).select_related("recorded_by").order_by(*FAULT_FINDING_ORDER)


def current_fault_finding(case: Case) -> FaultFinding | None:
    return fault_findings_of(case).last()


def non_prosecuted_suspect_ids(case: Case | int) -> set[int]:
    """Suspects of the case whose criminal case ended in non-prosecution or exemption: still so, or administratively
    punished since (the timeline keeps the non-prosecution). Two queries whatever the number of suspects."""
    case_id = case if isinstance(case, int) else case.pk
    suspects = dict(Suspect.objects.filter(case_id=case_id).values_list("pk", "disposition"))
    earlier = set(
        CaseEvent.objects.filter(
            case_id=case_id,
            kind=EventKind.DISPOSITION,
            data__changes__disposition__0=Disposition.CRIMINAL_NON_PROSECUTION,
        ).values_list("data__suspect", flat=True)
    )
    return {
        pk
        for pk, disposition in suspects.items()
        if disposition == Disposition.CRIMINAL_NON_PROSECUTION or (disposition in ADMIN_PUNISHMENTS and pk in earlier)
    }


def suspects_awaiting_transfer(case: Case | int) -> set[int]:
    """Non-prosecuted suspects (``non_prosecuted_suspect_ids``) whose transfer for administrative punishment is not
    recorded yet."""
    eligible = non_prosecuted_suspect_ids(case)
    if not eligible:
        return set()
    done = set(Suspect.objects.filter(pk__in=eligible, transfers__isnull=False).values_list("pk", flat=True))
    return eligible - done


# --- API reads (cases/api) ---------------------------------------------------------------------------------------


def cases_for_api(actor: Actor) -> QuerySet[Case]:
    """The visible cases with everything the API's case representation reads, so a page costs fixed queries."""
    return policy.visible_cases(actor).select_related("unit", "filed_by", "assigned_to")


def flags_visible_to(actor: Actor) -> QuerySet[Flag]:
    """Flags are prompts for the office: those of the cases the actor supervises or administers, newest first."""
    cases = policy.overseen_cases(actor)
    return (
        Flag.objects.filter(case__in=cases.values("pk"))
        .select_related("case", "acknowledged_by")
        .order_by("-raised_at", "-id")
    )


def office_notifications_q() -> Q:
    """Notifications written for the office (``messages.OFFICE``): flags, stage warnings, e-mail problems, and the
    sentences about the office's own records (findings, reviews). Older rows without a recipient role count by their
    message."""
    # Each key test behind ``has_key``: a missing key compares as NULL, which a negation would turn into "not listed".
    return (
        Q(params__has_key="to", params__to=messages.OFFICE)
        | Q(message__in=(messages.FLAG, messages.STAGE_WARNING, messages.EMAIL_FAILED, messages.WELFARE))
        | Q(message=messages.EVENT, params__has_key="kind", params__kind__in=sorted(policy.INTERNAL_EVENT_KINDS))
    )


def readable_notifications_q(actor: Actor) -> Q:
    """The notifications (of anyone) the actor may still read: about a case they see, and, when written for the office,
    about a case whose internal material they still read; a notice about a unit (cases/notices.py) while they oversee
    the unit, and a notice to members about one (guidance, the library's work) while they hold a role on its line. One
    who lost access to a case, or stopped supervising it and sees it only as its filer, no longer reads what the office
    was told about it."""
    about_cases = policy.visibility_q(actor, through="case__") & (
        policy.internal_scope_q(actor, through="case__") | ~office_notifications_q()
    )
    members = Q(kind__in=sorted(MEMBER_NOTICE_KINDS))
    about_units = (~members & policy.unit_notices_q(actor, through="unit__")) | (
        members & policy.member_notices_q(actor, through="unit__")
    )
    return about_cases | (Q(case__isnull=True) & about_units)


def notifications_for(actor: Actor) -> QuerySet[Notification]:
    """The actor's notifications they may still read (``readable_notifications_q``), newest first."""
    return (
        Notification.objects.filter(recipient_id=actor.user_id)
        .filter(readable_notifications_q(actor))
        .select_related("case", "unit")
        .order_by("-created_at", "-id")
    )


def notification_deliveries(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each of these users chose to hear about notifications of ``kind`` (``NotificationDelivery``); users
    without a choice get the default, e-mail at once (as before preferences existed)."""
    ids = list(user_ids)
    chosen = dict(NotificationPreference.objects.filter(user_id__in=ids, kind=kind).values_list("user_id", "delivery"))
    return {uid: chosen.get(uid, NotificationDelivery.EMAIL) for uid in ids}


def notification_preferences(user: User) -> dict[str, str]:
    """The user's delivery for each kind they may choose (``PREFERENCE_KINDS``), defaults filled in."""
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "delivery"))
    return {kind: chosen.get(kind, NotificationDelivery.EMAIL) for kind in PREFERENCE_KINDS}


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's filters, for the page and the API alike."""

    unread: bool | None = None  # True: unread only; False: read only
    kind: str = ""


def filter_notifications(notes: QuerySet[Notification], filters: InboxFilters) -> QuerySet[Notification]:
    if filters.unread is not None:
        notes = notes.filter(read_at__isnull=filters.unread)
    if filters.kind:
        notes = notes.filter(kind=filters.kind)
    return notes


def inbox_counts(actor: Actor) -> dict[str, int]:
    """Unread notifications per kind (those about cases the actor can still see), and ``"all"``."""
    rows = notifications_for(actor).filter(read_at__isnull=True).order_by().values_list("kind").annotate(n=Count("pk"))
    counts = dict(rows)
    counts["all"] = sum(counts.values())
    return counts


# --- repeat attackers (issue 21) ---------------------------------------------------------------------------------

# The cases that count as attacks on record: submitted and not set aside (a rejected or withdrawn application is no
# attack the office stands behind; a draft is its filer's alone).
ON_RECORD_STATUSES = (*OPEN_STATUSES, CaseStatus.CLOSED)
# "Previously punished for attacking police" (the 2020 guidance's aggravating circumstance 6): an administrative
# punishment or a criminal conviction. A decision not to prosecute, an exemption or mediation is no punishment.
PUNISHMENTS = frozenset(
    {
        *ADMIN_PUNISHMENTS,
        Disposition.CONVICTED_277_1,
        Disposition.CONVICTED_277_5_BASIC,
        Disposition.CONVICTED_277_5_AGGRAVATED,
        Disposition.CONVICTED_OTHER,
        Disposition.CONVICTED_SERIOUS,
    }
)


def incident_time(case: Case) -> datetime:
    """When the case's incident happened; its filing time where the incident time is not recorded."""
    return case.occurred_at or case.created_at


def _earlier_matches(case: Case, indexes: list[str], within: QuerySet[Case]) -> QuerySet[Case]:
    """Cases of ``within`` on record whose incident came before ``case``'s and that list a suspect whose ID number has
    one of these blind indexes (cases/fields.py ``blind_index``: equal numbers, however typed, have equal digests)."""
    if not indexes:
        return within.none()
    return (
        within.annotate(incident_at=Coalesce("occurred_at", "created_at"))
        .filter(
            status__in=ON_RECORD_STATUSES,
            incident_at__lt=incident_time(case),
            pk__in=Suspect.objects.filter(id_number_index__in=indexes).values("case_id"),
        )
        .exclude(pk=case.pk)
    )


def earlier_cases_against_police(actor: Actor, case: Case, suspects: Iterable[Suspect] | None = None) -> list[Case]:
    """The earlier cases against police of the suspects of ``case``, as ``actor`` may know of them (oldest first):
    none unless they read this case's suspects' ID numbers in full, and of the others only those whose ID numbers
    they read in full too (``policy.repeat_matches_visible``). A case outside that is neither named nor counted: the
    match rests on the ID number, and must not tell anyone more about a number than they may read of it. ``suspects``:
    the case's suspects when the caller has read them already."""
    if not policy.sees_repeat_matches(actor, case):
        return []
    listed = Suspect.objects.filter(case=case) if suspects is None else suspects
    indexes = sorted({s.id_number_index for s in listed if s.id_number_index})
    if not indexes:
        return []
    found = _earlier_matches(case, indexes, policy.repeat_matches_visible(actor))
    return list(found.order_by("incident_at", "id").only("id", "reference", "occurred_at", "created_at"))


# The facts the record may set (cases/services/repeats.py): what the filer and the officers listed read of them is
# the answer people gave (``policy.reads_the_record``).
FACTS_FROM_THE_RECORD = ("prior_attack_on_police",)


def fact_answers_as_read(actor: Actor, case: Case) -> dict[str, object]:
    """The facts ``actor`` reads otherwise than the case holds them: for anyone outside the office, a fact whose last
    change the record made reads as the answer people had given (the value before the record set it); empty for the
    office, and where the record changed nothing. One query, only for a reader outside the office."""
    if policy.reads_the_record(actor, case):
        return {}
    answers: dict[str, object] = {}
    for name in FACTS_FROM_THE_RECORD:
        # The record only ever sets such a fact to yes; a case that does not hold yes (a draft, most cases) reads as
        # it stands, without a query (the answer to a write is then built without reading after the commit).
        if getattr(case, name) is not True:
            continue
        by_record = answer_the_record_replaced(case, name)
        if by_record is not None:
            answers[name] = by_record[0]
    return answers


def answer_the_record_replaced(case: Case, name: str) -> tuple[object] | None:
    """When the last change of fact ``name`` of ``case`` was the record's (not a person's): the answer people had given
    before it, as a 1-tuple (the answer may be None); None when a person made the last change, or nobody did."""
    last = (
        CaseEvent.objects.filter(case=case, data__changes__has_key=name)
        .order_by("-at", "-id")
        .values_list("data", flat=True)
        .first()
    )
    if last is None or policy.FROM_THE_RECORD not in last:
        return None
    return (last.get("answer", last["changes"][name][0]),)


def earlier_punishments_of(case: Case, id_number_index: str) -> list[int]:
    """The earlier cases on record, whoever may see them, in which a suspect with this ID number (blind index) was
    punished for the attack (``PUNISHMENTS``) before ``case``'s incident, or on an unrecorded date: the record behind
    the automatic "previously punished for attacking police" fact. Ids, oldest first."""
    if not id_number_index:
        return []
    before = incident_time(case)
    punished = Suspect.objects.filter(id_number_index=id_number_index, disposition__in=sorted(PUNISHMENTS)).filter(
        Q(decided_at__isnull=True) | Q(decided_at__lte=timezone.localdate(before))
    )
    found = _earlier_matches(case, [id_number_index], Case.objects.all()).filter(pk__in=punished.values("case_id"))
    return list(found.order_by("incident_at", "id").values_list("pk", flat=True))


def open_cases_with_repeat_suspects() -> list[tuple[Case, int]]:
    """The open cases (``OPEN_STATUSES``) that list a suspect whose ID number (blind index) a suspect of an earlier case
    on record has too (``_earlier_matches``: its incident came before), each with how many of its suspects match;
    oldest first, with their units. Whoever asks: nothing here names or counts the earlier cases, and the caller
    decides who is told of a match (``policy.sees_repeat_matches``). One query, on the index of the blind indexes."""
    earlier = (
        Suspect.objects.filter(id_number_index=OuterRef("id_number_index"), case__status__in=ON_RECORD_STATUSES)
        .filter(~Q(case_id=OuterRef("case_id")))
        .annotate(earlier_at=Coalesce("case__occurred_at", "case__created_at"))
        .filter(earlier_at__lt=OuterRef("incident_at"))
    )
    counts = dict(
        Suspect.objects.filter(case__status__in=OPEN_STATUSES)
        .exclude(id_number_index="")
        .annotate(incident_at=Coalesce("case__occurred_at", "case__created_at"))
        .filter(Exists(earlier))
        .order_by()
        .values("case_id")
        .annotate(n=Count("pk"))
        .values_list("case_id", "n")
    )
    cases = Case.objects.filter(pk__in=list(counts)).select_related("unit").order_by("id")
    return [(case, counts[case.pk]) for case in cases]


@dataclass(frozen=True)
class RepeatSuspect:
    """A suspect of a case submitted in a period whose ID number (blind index) a suspect of an earlier case on record
    of the same subtree has too (``suspects_with_earlier_cases``)."""

    case_id: int
    reference: str
    unit_path: str
    suspect_name: str  # as recorded: the caller masks it before showing it to anyone
    earlier: int  # the earlier cases on record of the subtree with that ID number


def suspects_with_earlier_cases(*, unit: OrgUnit, start: datetime, end: datetime) -> list[RepeatSuspect]:
    """The suspects of the cases of ``unit``'s subtree submitted in [``start``, ``end``) (drafts never) who match
    earlier cases on record (``_earlier_matches``: the incident came before) of the same subtree, each with how many;
    by case, then suspect. Only the subtree's earlier cases are named and counted, since its supervisors read their
    ID numbers in full; whoever asks, the caller decides who is told (``policy.sees_repeat_matches``). One query."""
    earlier = (
        Suspect.objects.filter(
            id_number_index=OuterRef("id_number_index"),
            case__status__in=ON_RECORD_STATUSES,
            case__unit_path__startswith=unit.path,
        )
        .filter(~Q(case_id=OuterRef("case_id")))
        .annotate(earlier_at=Coalesce("case__occurred_at", "case__created_at"))
        .filter(earlier_at__lt=OuterRef("incident_at"))
        .order_by()
        .values("id_number_index")
        .annotate(n=Count("case_id", distinct=True))
        .values("n")
    )
    rows = (
        Suspect.objects.filter(
            case__unit_path__startswith=unit.path,
            case__submitted_at__gte=start,
            case__submitted_at__lt=end,
        )
        .exclude(case__status=CaseStatus.DRAFT)
        .exclude(id_number_index="")
        .annotate(incident_at=Coalesce("case__occurred_at", "case__created_at"))
        .annotate(earlier=Coalesce(Subquery(earlier), 0))
        .filter(earlier__gt=0)
        .order_by("case__submitted_at", "case_id", "id")
        .values_list("case_id", "case__reference", "case__unit_path", "name", "earlier")
    )
    return [RepeatSuspect(*row) for row in rows]


def welfare_prompts_since(since: datetime) -> QuerySet[WelfarePrompt]:
    """The welfare prompts (cases/welfare.py) for attacks at or after ``since``, oldest first, with their units."""
    return WelfarePrompt.objects.filter(attacked_at__gte=since).select_related("case__unit").order_by("id")


def case_breakdown(
    *, unit: OrgUnit, start: date, end: date, dims: Iterable[str], officers: bool = True
) -> breakdowns.Breakdown:
    """Submitted cases of ``unit``'s subtree by direct sub-unit, local month of submission in [``start``, ``end``)
    and each dimension of ``dims``, with their officers (cases/breakdowns.py): what the analysis adds up. Whoever
    asks: the caller decides who may see a unit's figures (``policy.can_report_on``)."""
    return breakdowns.breakdown(unit=unit, start=start, end=end, dims=dims, officers=officers)


def case_handling(*, unit: OrgUnit, year: int) -> breakdowns.Handling:
    """How ``unit``'s sub-units handled their cases in ``year`` (cases/breakdowns.py ``handling``): days to the first
    referral, cases flagged as downgraded and the overrides, the look-back verdicts. Whoever asks, as
    ``case_breakdown``."""
    return breakdowns.handling(unit=unit, year=year)


@dataclass(frozen=True)
class OperationsFigures:
    """What the monitoring reads of the record at each scrape (rightsguard/metrics.py): counts and ages, no rows."""

    unpublished: int
    oldest_unpublished: datetime | None
    unfinished: int
    oldest_unfinished: datetime | None
    open_flags: dict[str, int]
    flags_raised: int
    emails_failed: int
    emails_waiting: int


def operations_figures() -> OperationsFigures:
    """The outbox's backlog (cases/outbox.py), the flags and the e-mails still owed, each from its partial index."""
    unpublished = OutboxMessage.objects.filter(published_at__isnull=True).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    unfinished = OutboxMessage.objects.filter(published_at__isnull=False, done_at__isnull=True).aggregate(
        n=Count("id"), oldest=Min("published_at")
    )
    open_flags = dict(
        Flag.objects.filter(resolved_at__isnull=True)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    owed = Notification.objects.filter(emailed_at__isnull=True)
    return OperationsFigures(
        unpublished=unpublished["n"],
        oldest_unpublished=unpublished["oldest"],
        unfinished=unfinished["n"],
        oldest_unfinished=unfinished["oldest"],
        open_flags=open_flags,
        flags_raised=Flag.objects.count(),
        emails_failed=owed.filter(email_failed_at__isnull=False).count(),
        emails_waiting=owed.filter(email_failed_at__isnull=True, delivery=NotificationDelivery.EMAIL).count(),
    )


# --- what other apps read of one case: its parties and its legal basis (the typical-case library) ---------------------


@dataclass(frozen=True)
class Party:
    """One person the case names: an officer (an involved officer, its filer, the supervisor in charge), a suspect or a
    witness, with what identifies them as the case records it. Blank where nothing is recorded."""

    role: str  # "officer", "suspect" or "witness"
    name: str
    # Other names the case gives the same person (an involved officer's account's full name, when it differs).
    other_names: tuple[str, ...] = ()
    id_number: str = ""
    phone: str = ""
    badge_number: str = ""


@dataclass(frozen=True)
class CaseParties:
    """Everything the case records that identifies a person or the case itself, for a caller that must find it in text
    (the typical-case library's anonymisation). Whoever asks: it holds ID numbers in full, so the caller never shows
    it, only uses it to find and replace."""

    reference: str
    dispatch_ref: str
    officers: tuple[Party, ...]
    suspects: tuple[Party, ...]
    # The case numbers the bodies it was referred to gave it (a court's, a filing number): they find it, and its
    # parties, in those bodies' records.
    handling_references: tuple[str, ...] = ()
    # The case records no witnesses and no vehicle plates (yet): they are found in text by their patterns only.
    witnesses: tuple[Party, ...] = ()
    plates: tuple[str, ...] = ()


def case_parties(case: Case) -> CaseParties:
    """The parties of ``case`` in a fixed number of queries: its involved officers (with their accounts' names and
    phones), its filer and the supervisor in charge (officers too, whose names a narrative may give), its suspects (ID
    numbers decrypted), the case numbers its referrals were given. Officers and suspects in the order they were listed,
    each person once."""
    officers: list[Party] = []
    seen_accounts: set[int] = set()
    for officer in InvolvedOfficer.objects.filter(case=case).select_related("user").order_by("id"):
        account = officer.user
        if account is not None:
            seen_accounts.add(account.pk)
        other = account.full_name if account is not None and account.full_name not in ("", officer.name) else ""
        officers.append(
            Party(
                role="officer",
                name=officer.name,
                other_names=(other,) if other else (),
                phone=account.phone if account is not None else "",
                badge_number=officer.badge_number or (account.badge_number if account is not None else ""),
            )
        )
    accounts = [pk for pk in (case.filed_by_id, case.assigned_to_id) if pk is not None and pk not in seen_accounts]
    for account in User.objects.filter(pk__in=accounts).order_by("id"):
        officers.append(
            Party(role="officer", name=account.full_name, phone=account.phone, badge_number=account.badge_number)
        )
    suspects = tuple(
        Party(role="suspect", name=s.name, id_number=s.id_number or "")
        for s in Suspect.objects.filter(case=case).order_by("id")
    )
    handling_references = (
        Referral.objects.filter(case=case)
        .exclude(external_reference="")
        .order_by("id")
        .values_list("external_reference", flat=True)
    )
    return CaseParties(
        reference=case.reference,
        dispatch_ref=case.dispatch_ref,
        officers=tuple(officers),
        suspects=suspects,
        handling_references=tuple(dict.fromkeys(handling_references)),
    )


@dataclass(frozen=True)
class RuleReference:
    code: str  # as readers know it (R7)
    title: str  # of the rule's latest version, in the active language
    anchor: str  # its fragment on the rule catalogue page


@dataclass(frozen=True)
class LegalBasis:
    """What a case applied: the rules whose preconditions its facts meet and that set the outcome the law calls for
    (the flag rules' own evaluation, not suppressed; the procedure checks, which only say what must not happen, are
    left out), and the articles its suspects' dispositions were decided under."""

    rules: tuple[RuleReference, ...]
    articles: tuple[str, ...]


def legal_basis_of(case: Case) -> LegalBasis:
    """The rules that applied to ``case`` (as the flag scan evaluates it now) and the articles applied to its
    suspects, each once, in order. Whoever asks: the caller decides who reads it."""
    # Imported here, not at the top: the flag scan's package imports these selectors as it initialises.
    from cases.flagging.snapshot import load_snapshots

    snapshot = load_snapshots([case.pk], timezone.now()).get(case.pk)
    applied = evaluate(snapshot.facts).applied if snapshot is not None else ()
    applied = tuple(code for code in applied if code in _SETTING_EXPECTED)
    articles = (
        Suspect.objects.filter(case=case)
        .exclude(disposition_article="")
        .order_by("id")
        .values_list("disposition_article", flat=True)
    )
    return LegalBasis(rules=rule_references(applied), articles=tuple(dict.fromkeys(a.strip() for a in articles)))


_SETTING_EXPECTED = frozenset(rule.code for rule in RULES if rule.sets_expected_rank)


def rule_references(codes: Iterable[str]) -> tuple[RuleReference, ...]:
    """The catalogue's entries for these rule codes, each once, in the order given; codes the catalogue does not show
    by a code (the program's own) are left out. Pure: the rules are data."""
    latest = {rule.code: rule for rule in sorted(RULES, key=lambda r: r.effective_from or date.min)}
    found = []
    for code in dict.fromkeys(codes):
        rule = latest.get(code)
        if rule is not None and shown_code(code):
            found.append(RuleReference(code=code, title=str(rule.title), anchor=rule_anchor(code)))
    return tuple(found)
