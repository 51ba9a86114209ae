"""Enumerations of the case domain. Codes are stable identifiers stored in the database.

The taxonomy and ladders follow ``research/domain.md`` §3 and §6; ordering (ranks) is part of the data
because the downgrade rules compare against it.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    INTAKE = "intake", _("Intake")
    REFERRED = "referred", _("Referred")
    SUPERVISION = "supervision", _("Supervision")
    LOOK_BACK = "look_back", _("Look-back review")
    CLOSED = "closed", _("Closed")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (CaseStatus.INTAKE, CaseStatus.REFERRED, CaseStatus.SUPERVISION, CaseStatus.LOOK_BACK)
TERMINAL_STATUSES = (CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN)


class IncidentKind(models.TextChoices):
    VIOLENT_ATTACK = "violent_attack", _("Violent attack")
    ATTACK_ON_VEHICLE_OR_EQUIPMENT = "attack_on_vehicle_or_equipment", _("Attack on police vehicle or equipment")
    ARMED_ATTACK = "armed_attack", _("Armed attack")
    VEHICLE_RAMMING = "vehicle_ramming", _("Vehicle ramming")
    THREAT = "threat", _("Threat or intimidation")
    OBSTRUCTION = "obstruction", _("Obstruction of duty")
    MINOR_RESISTANCE = "minor_resistance", _("Minor resistance")
    INSULT_ON_SCENE = "insult_on_scene", _("Insult on scene")
    ONLINE_DEFAMATION = "online_defamation", _("Online defamation or insult")
    FALSE_ACCUSATION = "false_accusation", _("False accusation")
    UNTRUE_COMPLAINT = "untrue_complaint", _("Untrue complaint")
    DOXXING = "doxxing", _("Doxxing")
    STALKING_HARASSMENT = "stalking_harassment", _("Stalking or harassment")
    RETALIATION_OFF_DUTY = "retaliation_off_duty", _("Retaliation against an off-duty officer")
    RETALIATION_RELATIVES = "retaliation_relatives", _("Retaliation against relatives")
    SCENE_DISRUPTION = "scene_disruption", _("Disruption of the scene")
    PROPERTY_DAMAGE = "property_damage", _("Damage to personal property")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    MOBILE_APP = "mobile_app", _("Mobile app")
    DISPATCH_110 = "dispatch_110", _("110 dispatch")
    HOTLINE_12389 = "hotline_12389", _("12389 hotline")
    MAILBOX = "mailbox", _("Mailbox")
    OWN_MOTION = "own_motion", _("Office's own motion")


class Weapon(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    NONE = "none", _("None")
    BLUNT = "blunt", _("Blunt object")
    CONTROLLED_KNIFE = "controlled_knife", _("Controlled knife")
    GUN = "gun", _("Gun")
    OTHER_LETHAL = "other_lethal", _("Other lethal tool")


class DutyScenario(models.TextChoices):
    """What the officers were doing when it happened (the analysis's "duty mode"). Blank on a case: not recorded."""

    CALL_110 = "call_110", _("Responding to a 110 call")
    TRAFFIC = "traffic", _("Traffic stop or check")
    DISPUTE = "dispute", _("Mediating a dispute")
    ARREST = "arrest", _("Arrest or summons")
    INVESTIGATION = "investigation", _("On-site investigation")
    EVENT_SECURITY = "event_security", _("Security at an event")
    EVICTION = "eviction", _("Supporting a demolition or eviction")
    PATROL = "patrol", _("Patrol")
    OFF_DUTY = "off_duty", _("Off duty")
    OTHER = "other", _("Other duty")


class PlaceCategory(models.TextChoices):
    """The kind of place it happened (the analysis's "industry or place category"). Blank on a case: not recorded."""

    ROAD = "road", _("Road or street")
    RESIDENTIAL = "residential", _("Residential area")
    ENTERTAINMENT = "entertainment", _("Entertainment venue")
    HOSPITAL = "hospital", _("Hospital")
    MARKET = "market", _("Market or shop")
    TRANSPORT_HUB = "transport_hub", _("Transport hub")
    SCHOOL = "school", _("School")
    GOVERNMENT = "government", _("Government office")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other place")


class PoliceFault(models.TextChoices):
    UNKNOWN = "unknown", _("Unknown")
    NONE = "none", _("None")
    MINOR = "minor", _("Minor")
    LARGE = "large", _("Considerable")
    SERIOUS = "serious", _("Serious")


# What a recorded fault finding may say (cases.models.FaultFinding): a finding is never "unknown".
FAULT_FINDING_CHOICES = [(v, label) for v, label in PoliceFault.choices if v != PoliceFault.UNKNOWN]
FAULT_FINDING_VALUES = tuple(v for v, _label in FAULT_FINDING_CHOICES)
# Findings that need the finding document's reference (文书编号): the ones that weigh on how the act is qualified.
FAULT_NEEDS_DOCUMENT = frozenset({PoliceFault.LARGE, PoliceFault.SERIOUS})


class OfficerType(models.TextChoices):
    REGULAR = "regular", _("Police officer")
    AUXILIARY = "auxiliary", _("Auxiliary officer")


class DutyStatus(models.TextChoices):
    ON_DUTY = "on_duty", _("On duty")
    OFF_DUTY = "off_duty", _("Off duty")
    OFF_DUTY_INTERVENING = "off_duty_intervening", _("Off duty, intervening in an emergency")


class InjuryGrade(models.TextChoices):
    NONE = "none", _("No injury")
    SLIGHT = "slight", _("Slight injury")
    MINOR_2 = "minor_2", _("Minor injury, grade 2")
    MINOR_1 = "minor_1", _("Minor injury, grade 1")
    SERIOUS_2 = "serious_2", _("Serious injury, grade 2")
    SERIOUS_1 = "serious_1", _("Serious injury, grade 1")
    DEATH = "death", _("Death")
    PENDING_APPRAISAL = "pending_appraisal", _("Appraisal pending")
    NOT_APPRAISED = "not_appraised", _("Not appraised")


# Ordered scale of the 2014 injury-degree standard; appraisal states have no rank.
INJURY_RANK: dict[str, int] = {
    InjuryGrade.NONE: 0,
    InjuryGrade.SLIGHT: 1,
    InjuryGrade.MINOR_2: 2,
    InjuryGrade.MINOR_1: 3,
    InjuryGrade.SERIOUS_2: 4,
    InjuryGrade.SERIOUS_1: 5,
    InjuryGrade.DEATH: 6,
}


class SuspectStatus(models.TextChoices):
    UNIDENTIFIED = "unidentified", _("Unidentified")
    IDENTIFIED = "identified", _("Identified, at liberty")
    AT_LARGE = "at_large", _("At large (fugitive)")
    DETAINED = "detained", _("Criminal detention")
    ADMIN_DETAINED = "admin_detained", _("Administrative detention")
    ARRESTED = "arrested", _("Arrested")
    BAIL = "bail", _("Released on bail")
    RESIDENTIAL_SURVEILLANCE = "residential_surveillance", _("Residential surveillance")
    RELEASED = "released", _("Released")


class Disposition(models.TextChoices):
    # Pending states: never counted as downgraded while the case is open.
    UNDER_INVESTIGATION = "under_investigation", _("Under investigation")
    APPRAISAL_PENDING = "appraisal_pending", _("Injury appraisal pending")
    AT_LARGE = "at_large", _("Suspect at large")
    AWAITING_PROSECUTION = "awaiting_prosecution", _("Awaiting prosecution decision")
    AWAITING_TRIAL = "awaiting_trial", _("Awaiting trial")
    APPEAL_PENDING = "appeal_pending", _("Appeal pending")
    # The ladder, lowest first.
    NO_ACTION = "no_action", _("No action")
    NON_LEGAL_HANDLING = "non_legal_handling", _("Criticism and education only")
    MEDIATION = "mediation", _("Mediation")
    NO_PUNISHMENT = "no_punishment", _("Decision of no punishment")
    ADMIN_WARNING = "admin_warning", _("Administrative warning")
    ADMIN_FINE = "admin_fine", _("Administrative fine")
    ADMIN_DETENTION_1_5 = "admin_detention_1_5", _("Administrative detention, up to 5 days")
    ADMIN_DETENTION_6_10 = "admin_detention_6_10", _("Administrative detention, 6 to 10 days")
    ADMIN_DETENTION_11_15 = "admin_detention_11_15", _("Administrative detention, 11 to 15 days")
    CRIMINAL_FILED = "criminal_filed", _("Criminal case filed")
    CRIMINAL_NON_PROSECUTION = "criminal_non_prosecution", _("Non-prosecution or exemption from punishment")
    CONVICTED_277_1 = "convicted_277_1", _("Convicted: obstructing official duty (CL 277(1))")
    CONVICTED_277_5_BASIC = "convicted_277_5_basic", _("Convicted: assaulting police (CL 277(5))")
    CONVICTED_277_5_AGGRAVATED = (
        "convicted_277_5_aggravated",
        _("Convicted: assaulting police, 3 to 7 year bracket (CL 277(5))"),
    )
    CONVICTED_OTHER = "convicted_other", _("Convicted: other offence")
    CONVICTED_SERIOUS = "convicted_serious", _("Convicted: serious injury, homicide or public danger")


PENDING_DISPOSITIONS = frozenset(
    {
        Disposition.UNDER_INVESTIGATION,
        Disposition.APPRAISAL_PENDING,
        Disposition.AT_LARGE,
        Disposition.AWAITING_PROSECUTION,
        Disposition.AWAITING_TRIAL,
        Disposition.APPEAL_PENDING,
    }
)

# Rank on the disposition ladder (research/domain.md §6.3). CRIMINAL_FILED ranks but is a stage, not an outcome.
DISPOSITION_RANK: dict[str, int] = {
    Disposition.NO_ACTION: 0,
    Disposition.NON_LEGAL_HANDLING: 1,
    Disposition.MEDIATION: 2,
    Disposition.NO_PUNISHMENT: 3,
    Disposition.ADMIN_WARNING: 4,
    Disposition.ADMIN_FINE: 5,
    Disposition.ADMIN_DETENTION_1_5: 6,
    Disposition.ADMIN_DETENTION_6_10: 7,
    Disposition.ADMIN_DETENTION_11_15: 8,
    Disposition.CRIMINAL_FILED: 9,
    Disposition.CRIMINAL_NON_PROSECUTION: 10,
    Disposition.CONVICTED_277_1: 11,
    Disposition.CONVICTED_277_5_BASIC: 12,
    Disposition.CONVICTED_277_5_AGGRAVATED: 13,
    Disposition.CONVICTED_OTHER: 14,
    Disposition.CONVICTED_SERIOUS: 15,
}

FINAL_DISPOSITIONS = frozenset(set(DISPOSITION_RANK) - {Disposition.CRIMINAL_FILED})

# Final outcomes more lenient than a criminal case running its course: everything below a criminal case, and a
# decision not to prosecute or to exempt from punishment (Interpretation 〔2025〕1号 Art. 10). Recording one needs a
# structured reason (``LenientReason``); a lowered charge keeps its free-text ``lowered_reason`` as well.
LENIENT_DISPOSITIONS = frozenset(
    {d for d in FINAL_DISPOSITIONS if DISPOSITION_RANK[d] < DISPOSITION_RANK[Disposition.CRIMINAL_FILED]}
    | {Disposition.CRIMINAL_NON_PROSECUTION}
)

# Administrative punishments proper: what a transfer after non-prosecution can lead to (Criminal Procedure Law
# Art. 177 para 3).
ADMIN_PUNISHMENTS = frozenset(
    {
        Disposition.ADMIN_WARNING,
        Disposition.ADMIN_FINE,
        Disposition.ADMIN_DETENTION_1_5,
        Disposition.ADMIN_DETENTION_6_10,
        Disposition.ADMIN_DETENTION_11_15,
    }
)


class LenientReason(models.TextChoices):
    """Why a suspect's outcome is lenient. An empty value means "not recorded" (dispositions recorded before reasons
    were asked): the rules treat it as unknown."""

    INTOXICATION = "intoxication", _("The attacker was intoxicated")
    POLICE_FAULT = "police_fault", _("Fault on the police side")
    MINOR_CIRCUMSTANCES = "minor_circumstances", _("Minor circumstances")
    FORGIVENESS = "forgiveness", _("The victim forgave the attacker or settled")
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", _("Insufficient evidence")
    OTHER = "other", _("Other (say which)")


class Track(models.TextChoices):
    ADMINISTRATIVE = "administrative", _("Administrative")
    CRIMINAL = "criminal", _("Criminal")


class ReferralTarget(models.TextChoices):
    INTERNAL_UNIT = "internal_unit", _("Internal handling unit")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    COURT = "court", _("Court")
    HOSPITAL = "hospital", _("Hospital")
    LEGAL_AID = "legal_aid", _("Legal aid")
    INSURER = "insurer", _("Insurer")
    OTHER = "other", _("Other body")


class SupportKind(models.TextChoices):
    GREEN_CHANNEL = "green_channel", _("Green-channel emergency medical care")
    PSYCH_ASSESSMENT = "psych_assessment", _("Psychological assessment")
    PSYCH_INTERVENTION = "psych_intervention", _("Psychological intervention")
    COMFORT_VISIT = "comfort_visit", _("Comfort visit")
    COMFORT_PAYMENT = "comfort_payment", _("Comfort payment")
    LEGAL_SERVICE = "legal_service", _("Legal service")
    CIVIL_CLAIM_SUPPORT = "civil_claim_support", _("Civil-claim support")
    CLARIFICATION_NOTICE = "clarification_notice", _("Clarification notice")
    LIABILITY_INSURANCE_CLAIM = "liability_insurance_claim", _("Liability-insurance claim")
    DUTY_INJURY_CERTIFICATION = "duty_injury_certification", _("Duty-injury certification")
    FAULT_TOLERANCE_EXEMPTION = "fault_tolerance_exemption", _("Fault-tolerance exemption")
    FUGITIVE_PURSUIT = "fugitive_pursuit", _("Fugitive pursuit")
    RELATIVE_PROTECTION = "relative_protection", _("Protection of relatives")
    PUBLIC_OPINION_RESPONSE = "public_opinion_response", _("Public-opinion response")


class SupportStatus(models.TextChoices):
    """One lifecycle per measure: the officer's request is answered on the same record (approved or refused, then
    delivered); the office may also offer a measure nobody asked for. ``SUPPORT_TRANSITIONS`` says what follows."""

    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Declined by the office")
    OFFERED = "offered", _("Offered")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", _("Delivered")
    DECLINED = "declined", _("Declined by the officer")


# The statuses a support measure may move to from each status. Delivered, declined and refused are final.
SUPPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    SupportStatus.REQUESTED: frozenset({SupportStatus.APPROVED, SupportStatus.REFUSED, SupportStatus.DELIVERED}),
    SupportStatus.APPROVED: frozenset({SupportStatus.IN_PROGRESS, SupportStatus.DELIVERED, SupportStatus.DECLINED}),
    SupportStatus.OFFERED: frozenset({SupportStatus.IN_PROGRESS, SupportStatus.DELIVERED, SupportStatus.DECLINED}),
    SupportStatus.IN_PROGRESS: frozenset({SupportStatus.DELIVERED, SupportStatus.DECLINED}),
    SupportStatus.DELIVERED: frozenset(),
    SupportStatus.DECLINED: frozenset(),
    SupportStatus.REFUSED: frozenset(),
}
# What the office may record a measure as when nobody asked for it: requests come from the officer, and approving or
# refusing is an answer to a request.
OFFICE_RECORDED_STATUSES = (
    SupportStatus.OFFERED,
    SupportStatus.IN_PROGRESS,
    SupportStatus.DELIVERED,
    SupportStatus.DECLINED,
)
# A request still waiting for the office's answer, or approved and not yet delivered: one per kind and officer.
OPEN_REQUEST_STATUSES = (SupportStatus.REQUESTED, SupportStatus.APPROVED)


class SupportAnswer(models.TextChoices):
    """The office's answer to an officer's support request (``answer_support_request``)."""

    APPROVE = "approve", _("Approve")
    DECLINE = "decline", _("Decline")
    DELIVER = "deliver", _("Record as delivered")


ANSWER_STATUS = {
    SupportAnswer.APPROVE: SupportStatus.APPROVED,
    SupportAnswer.DECLINE: SupportStatus.REFUSED,
    SupportAnswer.DELIVER: SupportStatus.DELIVERED,
}


class FindingProblem(models.TextChoices):
    NOT_HANDLED = "not_handled", _("Not handled")
    DOWNGRADED = "downgraded", _("Downgraded handling")
    PENALTY_FOR_CRIME = "penalty_for_crime", _("Administrative penalty instead of prosecution")
    MEDIATION_OF_ATTACK = "mediation_of_attack", _("Mediation of an attack")
    WRONG_CHARGE = "wrong_charge", _("Wrong or lowered charge")
    PROTRACTED = "protracted", _("Protracted handling")
    INTERFERENCE = "interference", _("Interference with handling")
    NO_TRANSFER_AFTER_NON_PROSECUTION = (
        "no_transfer_after_non_prosecution",
        _("No administrative transfer after non-prosecution"),
    )
    NO_FEEDBACK_TO_OFFICER = "no_feedback_to_officer", _("No feedback to the officer")
    EVIDENCE_NOT_SECURED = "evidence_not_secured", _("Evidence not secured")
    NO_CLARIFICATION = "no_clarification", _("No clarification issued")
    FUGITIVE_NOT_PURSUED = "fugitive_not_pursued", _("Fugitive not pursued")
    SUPPORT_NOT_PROVIDED = "support_not_provided", _("Support not provided")


class ReviewVerdict(models.TextChoices):
    PENDING = "pending", _("In progress")
    UPHELD = "upheld", _("Upheld")
    DEFICIENT = "deficient", _("Deficient, reopened")


class FlagKind(models.TextChoices):
    STALLED = "stalled", _("Stalled")
    OVERDUE_REFERRAL = "overdue_referral", _("Overdue referral")
    DOWNGRADED = "downgraded", _("Downgraded")
    # A rule finding that is not a downgrade (cases/rules/base.Severity.PROMPT): practice or guidance, a wrong label,
    # a procedure step, or a rule resting on unverified material. Counted apart from downgrades everywhere.
    REVIEW_PROMPT = "review_prompt", _("Review prompt")
    IDLE = "idle", _("Idle")


class FlagResolution(models.TextChoices):
    """How an open flag ended: the condition went away, or a supervisor overrode the finding with a reason."""

    CLEARED = "cleared", _("Cleared: the facts no longer call for it")
    OVERRIDDEN = "overridden", _("Overridden by a supervisor")


class OverrideReason(models.TextChoices):
    """Why a supervisor lets a case conclude or close although a rule finds its handling below what the facts call
    for. Each says where the rule and the case part ways; an explanation is always required."""

    # The rule read a record that does not match the case's file (and cannot be corrected here, or the correction
    # is pending elsewhere): the input is wrong, not the handling.
    FACTS_INCOMPLETE = "facts_incomplete", _("The recorded facts are incomplete or wrong; the full facts are on file")
    # The handling rests on law the rules do not model (age of criminal responsibility, mental illness, limitation,
    # trivial circumstances, …): the legal basis is required.
    LAWFUL_REASON = "lawful_reason", _("A lawful reason the rules do not capture")
    # A procuratorate or court decided; the office supervises the police's handling and cannot change it.
    AUTHORITY_DECIDED = "authority_decided", _("The competent authority decided and the office cannot change it")
    OTHER = "other", _("Other")


class NoSuspectReason(models.TextChoices):
    """Why a case concludes without an identified suspect."""

    UNKNOWN_PURSUING = "unknown_pursuing", _("Suspect unknown; pursuit continuing")
    FLED = "fled", _("Suspect fled (at large)")
    DECEASED = "deceased", _("Suspect deceased")
    NOT_AN_OFFENCE = "not_an_offence", _("Not a crime or violation: no case to answer")
    OTHER = "other", _("Other")


# The read model on the case, one boolean per flag kind, kept by the flag scan (cases/flagging/) so the queue and the
# API's case list filter on flags without a join.
FLAG_FIELDS: dict[str, str] = {
    FlagKind.STALLED: "is_stalled",
    FlagKind.IDLE: "is_idle",
    FlagKind.OVERDUE_REFERRAL: "has_overdue_referral",
    FlagKind.DOWNGRADED: "is_downgraded",
    FlagKind.REVIEW_PROMPT: "has_review_prompt",
}

# The flag kinds raised from rule findings (cases/rules/), one per severity; the others come from the clocks.
RULE_FLAG_KINDS = (FlagKind.DOWNGRADED, FlagKind.REVIEW_PROMPT)


class PauseReason(models.TextChoices):
    APPRAISAL_PENDING = "appraisal_pending", _("Injury appraisal pending")
    SUSPECT_AT_LARGE = "suspect_at_large", _("Suspect at large")
    OTHER = "other", _("Other recorded reason")


class EventKind(models.TextChoices):
    CREATED = "created", _("Application created")
    UPDATED = "updated", _("Details changed")
    TRANSITION = "transition", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    OFFICER_ADDED = "officer_added", _("Involved officer added")
    OFFICER_UPDATED = "officer_updated", _("Involved officer updated")
    # Removals recorded before this kind existed are officer_updated events whose data has "removed".
    OFFICER_REMOVED = "officer_removed", _("Involved officer removed")
    SUSPECT_ADDED = "suspect_added", _("Suspect added")
    SUSPECT_UPDATED = "suspect_updated", _("Suspect updated")
    SUSPECT_REMOVED = "suspect_removed", _("Suspect removed")
    DISPOSITION = "disposition", _("Disposition recorded")
    REFERRAL = "referral", _("Referral")
    SUPPORT = "support", _("Support measure")
    FINDING = "finding", _("Supervision finding")
    REVIEW = "review", _("Look-back review")
    FLAG_RAISED = "flag_raised", _("Flag raised")
    FLAG_RESOLVED = "flag_resolved", _("Flag resolved")
    FLAG_OVERRIDDEN = "flag_overridden", _("Flag overridden")
    ATTACHMENT = "attachment", _("Evidence added")
    NOTE = "note", _("Note")
    CLOCK_PAUSED = "clock_paused", _("Clock paused")
    CLOCK_RESUMED = "clock_resumed", _("Clock resumed")
    DEADLINE_EXTENDED = "deadline_extended", _("Time limit extended")
    FAULT_FINDING = "fault_finding", _("Police-fault finding recorded")
    # A step of an oversight campaign (special supervision, the yearly look-back, fugitive pursuit) about this case;
    # the data names the campaign and the step (``CampaignStep``).
    CAMPAIGN = "campaign", _("Oversight campaign")
    # The application was started from, or matched to, a 110 incident by another system (integrations/): the data
    # names the incident number and whether an existing application was matched (``attached``).
    IMPORTED = "imported", _("Started from a 110 incident")
    # Retention (cases/retention.py): the case was sealed, then anonymised, by the daily job; a legal hold was placed
    # or lifted by an administrator (the data says which, with the reason).
    SEALED = "sealed", _("Case sealed")
    ANONYMISED = "anonymised", _("Case anonymised")
    LEGAL_HOLD = "legal_hold", _("Legal hold")
    # Duplicate applications about one incident (cases/services/duplicates.py): linked as related, or one merged into
    # the other; the data names the other case by reference (and, on the survivor, the officers the merge added).
    LINKED = "linked", _("Linked to a related case")
    UNLINKED = "unlinked", _("Link to a related case removed")
    MERGED = "merged", _("Duplicate merged")
    UNMERGED = "unmerged", _("Merge undone")


class CampaignStep(models.TextChoices):
    """What an oversight campaign did with a case, as the case's timeline says it (EventKind.CAMPAIGN)."""

    SELECTED = "selected", _("Selected for review")
    REVIEWED = "reviewed", _("Reviewed")
    PROBLEM = "problem", _("Problem found")
    RECTIFIED = "rectified", _("Problem rectified")
    MADE_UP = "made_up", _("Sent back to be handled again")
    ACCOUNTABILITY = "accountability", _("Accountability recorded")
    PURSUIT = "pursuit", _("Fugitive pursuit step recorded")


# The longest note, on every path (the case page, bulk notes from the queue, the API, the service itself).
NOTE_MAX_LENGTH = 5000


class NoteVisibility(models.TextChoices):
    """Who reads a note on the case (cases/policy.py): the office only, or the filer and listed officers too."""

    INTERNAL = "internal", _("Internal (the office only)")
    SHARED = "shared", _("Shared with the filer")


class AccessAction(models.TextChoices):
    VIEW = "view", _("Viewed case")
    DOWNLOAD = "download", _("Downloaded file")
    REVEAL = "reveal", _("Revealed masked data")
    EXPORT = "export", _("Ran export")
    DENIED = "denied", _("Denied access")
    # Changes to an account's second factor (accounts/mfa.py); the entry's object is the account.
    MFA_ENROL = "mfa_enrol", _("Set up two-factor log-in")
    MFA_REPLACE = "mfa_change", _("Replaced the authenticator")
    MFA_CODES = "mfa_codes", _("Made new recovery codes")
    MFA_RESET = "mfa_reset", _("Reset two-factor log-in")


class NotificationKind(models.TextChoices):
    """What a notification is about: the inbox's kind filter and the unit of a user's delivery preferences."""

    CASE_MOVES = "case_moves", _("Case moves")
    ASSIGNMENTS = "assignments", _("Assignments")
    RECORDS = "records", _("Handling records")
    SUPPORT_ANSWERS = "support_answers", _("Support answers")
    FLAGS = "flags", _("Flags")
    STAGE_WARNINGS = "stage_warnings", _("Stage time-limit warnings")
    EMAIL_PROBLEMS = "email_problems", _("E-mail problems")
    WELFARE = "welfare", _("Welfare prompts")
    NOTICES = "notices", _("Notices about units")
    # Notices to chosen people rather than to a unit's office (cases/notices.py): guidance pushed to the officers of a
    # subtree, and the steps of the material they edit or approve.
    GUIDANCE = "guidance", _("Guidance tips")
    LIBRARY_WORK = "library_work", _("Typical cases and tips to work on")


# The kinds a user chooses the delivery of. E-mail problems are told in-app only (their e-mail is what failed), and so
# are welfare prompts: they name an officer's attacks, which stay in the application (cases/welfare.py); and so are
# the notices about units (cases/notices.py): the page they link to is where the office reads and acts on them.
# The notices to chosen people (``MEMBER_NOTICE_KINDS``) likewise: the page they link to is where the material is read.
MEMBER_NOTICE_KINDS = frozenset({NotificationKind.GUIDANCE, NotificationKind.LIBRARY_WORK})
IN_APP_ONLY_KINDS = frozenset(
    {NotificationKind.EMAIL_PROBLEMS, NotificationKind.WELFARE, NotificationKind.NOTICES, *MEMBER_NOTICE_KINDS}
)
PREFERENCE_KINDS: tuple[str, ...] = tuple(k for k in NotificationKind.values if k not in IN_APP_ONLY_KINDS)


class NotificationDelivery(models.TextChoices):
    """How a user hears about a kind of notification besides the in-app list."""

    EMAIL = "email", _("E-mail at once")
    DAILY = "daily", _("Daily digest e-mail")
    IN_APP = "in_app", _("In-app only")


class DuplicateReason(models.TextChoices):
    """Why another case looks like a duplicate of this one (cases/duplicates.py)."""

    SAME_DISPATCH_REF = "same_dispatch_ref", _("Same 110 incident number")
    SAME_SUSPECT_ID = "same_suspect_id", _("Same suspect ID number")
    SAME_SUSPECT_NAME = "same_suspect_name", _("Same suspect name")
    SIMILAR_PLACE = "similar_place", _("Similar place")
    SIMILAR_SUMMARY = "similar_summary", _("Similar summary")
