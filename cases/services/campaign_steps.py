"""What the case timeline says of work done across cases: an oversight campaign (its own app) keeps its records and
its log, and writes here the steps that concern each case. The events are the office's (``policy.INTERNAL_EVENT_KINDS``)
and notify nobody: the campaign's reminders tell its reviewers."""

import json

from django.db import connection
from django.db.models import QuerySet

from accounts.models import User
from cases.choices import CampaignStep, EventKind
from cases.models import Case, CaseEvent
from cases.services.common import now, record_event


def _step_data(step: str, campaign_id: int, name: str, detail: str) -> dict[str, object]:
    if step not in CampaignStep.values:
        raise ValueError(f"unknown campaign step {step!r}")
    data: dict[str, object] = {"campaign": campaign_id, "name": name, "step": step}
    if detail:
        data["detail"] = detail
    return data


def record_campaign_step(
    *, case: Case | int, by: User | None, step: str, campaign_id: int, name: str, detail: str = ""
) -> CaseEvent:
    """Put one step of campaign ``campaign_id`` (named ``name``) on the case's timeline, in the caller's transaction.
    The case itself does not change (no new version): the campaign's records are its own."""
    case_obj = case if isinstance(case, Case) else Case.objects.get(pk=case)
    return record_event(
        case=case_obj,
        kind=EventKind.CAMPAIGN,
        by=by,
        now=now(),
        data=_step_data(step, campaign_id, name, detail),
        notify=False,
    )


def record_campaign_steps(*, cases: QuerySet[Case], by: User | None, step: str, campaign_id: int, name: str) -> int:
    """``record_campaign_step`` for every case of ``cases`` in one INSERT … SELECT (a campaign selects hundreds of
    thousands at once). Returns how many events were written."""
    data = json.dumps(_step_data(step, campaign_id, name, ""), ensure_ascii=False)
    ids_sql, ids_params = cases.order_by().values("id").query.sql_with_params()
    data_sql = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    sql = (
        f"INSERT INTO {table} (case_id, kind, action, from_status, to_status, actor_id, at, data) "  # noqa: S608
        f"SELECT selected.id, %s, '', '', '', %s, %s, {data_sql} FROM ({ids_sql}) AS selected"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [EventKind.CAMPAIGN.value, by.pk if by else None, now(), data, *ids_params])
        return cursor.rowcount
