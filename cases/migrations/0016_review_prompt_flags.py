# Rule findings get a flag kind per severity (cases/rules/base.Severity): DOWNGRADED for a verified minimum the
# outcome falls below, REVIEW_PROMPT for everything else, with its own read-model column on the case.
#
# Until now every finding was raised as DOWNGRADED. The open ones whose finding is a prompt under the rules as they
# stand are moved to REVIEW_PROMPT here, in place (the flag keeps its raised_at and acknowledgement, and no one is
# notified again), and the read model of their cases is set. Resolved flags keep the kind they were raised with.
# The cases touched are also marked for the next flag scan (flags_checked_version = 0, which the scan's candidate
# query picks up although their version did not change), so the scan re-reads them with the running code's rules
# and refreshes each flag's detail.
#
# Reversible: going back turns every review prompt into a downgraded flag again, as they were raised before.

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef

BATCH = 2000


def _severity(code, detail):
    """The severity of a stored finding under the rules of this code (``cases.rules.engine.severity_of``)."""
    from cases.rules.engine import rule_version, severity_of

    rule = rule_version(code, str(detail.get("version") or ""))
    if rule is None:
        # A rule version no longer known cannot be a verified minimum: it is a prompt.
        return "prompt"
    return str(severity_of(rule, [str(p) for p in detail.get("problems") or []]))


def _refresh_read_model(Case, Flag, case_ids):
    ids = sorted(case_ids)
    for begin in range(0, len(ids), BATCH):
        open_flags = Flag.objects.filter(case=OuterRef("pk"), resolved_at__isnull=True)
        Case.objects.filter(pk__in=ids[begin : begin + BATCH]).update(
            is_downgraded=Exists(open_flags.filter(kind="downgraded")),
            has_review_prompt=Exists(open_flags.filter(kind="review_prompt")),
            flags_checked_version=0,
        )


def move_prompts(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Flag = apps.get_model("cases", "Flag")
    rows = list(
        Flag.objects.filter(kind="downgraded", resolved_at__isnull=True)
        .order_by("id")
        .values_list("id", "case_id", "rule_code", "detail")
    )
    moved = [(pk, case_id) for pk, case_id, code, detail in rows if _severity(code, detail or {}) == "prompt"]
    for begin in range(0, len(moved), BATCH):
        Flag.objects.filter(pk__in=[pk for pk, _case in moved[begin : begin + BATCH]]).update(kind="review_prompt")
    _refresh_read_model(Case, Flag, {case_id for _pk, case_id in moved})


def move_back(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Flag = apps.get_model("cases", "Flag")
    case_ids = set(Flag.objects.filter(kind="review_prompt").values_list("case_id", flat=True))
    Flag.objects.filter(kind="review_prompt").update(kind="downgraded")
    _refresh_read_model(Case, Flag, case_ids)


class Migration(migrations.Migration):

    dependencies = [
        # After the migrations that reached main first (0018 lenient reasons, then 0017 fault findings).
        ('cases', '0017_fault_findings'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='flag',
            name='flag_kind_valid',
        ),
        migrations.AddField(
            model_name='case',
            name='has_review_prompt',
            field=models.BooleanField(default=False, editable=False, verbose_name='review prompt'),
        ),
        migrations.AlterField(
            model_name='flag',
            name='kind',
            field=models.CharField(choices=[('stalled', 'Stalled'), ('overdue_referral', 'Overdue referral'), ('downgraded', 'Downgraded'), ('review_prompt', 'Review prompt'), ('idle', 'Idle')], max_length=20, verbose_name='kind'),
        ),
        migrations.AddConstraint(
            model_name='flag',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['stalled', 'overdue_referral', 'downgraded', 'review_prompt', 'idle'])), name='flag_kind_valid'),
        ),
        # Last: it needs the new column and kind, and going back it runs first, before the old constraint returns.
        migrations.RunPython(move_prompts, move_back),
    ]
