"""All writes to cases. Views, the API, the admin and tasks call these and nothing else."""

from cases.services.actions import (
    acknowledge_referral,
    close_case,
    conclude_case,
    recall_case,
    refer_case,
    reject_case,
    reopen_case,
    submit_case,
    withdraw_case,
)
from cases.services.audit import log_access
from cases.services.campaign_steps import record_campaign_step, record_campaign_steps
from cases.services.duplicates import link_cases, merge_cases, unlink_cases, unmerge_cases
from cases.services.evidence import add_evidence, open_evidence, record_attachment
from cases.services.fault import record_fault_finding
from cases.services.flags import acknowledge_flag
from cases.services.handling import (
    TRANSFER_REFUSAL,
    assign_case,
    extend_deadline,
    pause_clock,
    raise_finding,
    record_support_measure,
    rectify_finding,
    resume_clock,
    transfer_for_administrative_punishment,
    update_support_measure,
)
from cases.services.inbox import retry_failed_emails
from cases.services.intake import (
    add_involved_officer,
    add_note,
    add_suspect,
    create_draft_case,
    note_draft_step,
    record_disposition,
    record_incident_import,
    remove_involved_officer,
    remove_suspect,
    undo_removal,
    update_case_details,
    update_involved_officer,
    update_suspect,
)
from cases.services.notices import notify_about_unit, notify_members, notify_unit_office
from cases.services.repeats import rederive_later_cases
from cases.services.support_requests import answer_support_request

__all__ = [
    "TRANSFER_REFUSAL",
    "acknowledge_flag",
    "acknowledge_referral",
    "add_evidence",
    "add_involved_officer",
    "add_note",
    "add_suspect",
    "answer_support_request",
    "assign_case",
    "close_case",
    "conclude_case",
    "create_draft_case",
    "extend_deadline",
    "link_cases",
    "log_access",
    "merge_cases",
    "note_draft_step",
    "notify_about_unit",
    "notify_members",
    "notify_unit_office",
    "open_evidence",
    "pause_clock",
    "raise_finding",
    "recall_case",
    "record_attachment",
    "record_campaign_step",
    "record_campaign_steps",
    "record_disposition",
    "record_fault_finding",
    "record_incident_import",
    "record_support_measure",
    "rectify_finding",
    "rederive_later_cases",
    "refer_case",
    "reject_case",
    "remove_involved_officer",
    "remove_suspect",
    "reopen_case",
    "resume_clock",
    "retry_failed_emails",
    "submit_case",
    "transfer_for_administrative_punishment",
    "undo_removal",
    "unlink_cases",
    "unmerge_cases",
    "update_case_details",
    "update_involved_officer",
    "update_support_measure",
    "update_suspect",
    "withdraw_case",
]
