"""Police fault becomes a recorded finding (cases.models.FaultFinding) instead of a free field of the case.

Each case whose former ``police_fault`` field held a value other than "unknown" gets a finding carried over by the
system: no author, department, date or document, and a note saying so. A carried-over finding is shown on the case
but silences no rule (R14 needs the finding document's reference), so flags it used to silence come back: the case's
version is bumped, which puts it among the flag scan's candidates, and the timeline records the carry-over.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F
from django.utils import timezone

CARRIED_OVER_NOTE = "carried over from the case record; no finding document on file"


def carry_over_police_fault(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    CaseEvent = apps.get_model("cases", "CaseEvent")
    FaultFinding = apps.get_model("cases", "FaultFinding")
    now = timezone.now()
    carried = list(Case.objects.exclude(police_fault="unknown").order_by("pk").values_list("pk", "police_fault"))
    for begin in range(0, len(carried), 1000):
        chunk = carried[begin : begin + 1000]
        FaultFinding.objects.bulk_create(
            [
                FaultFinding(case_id=pk, finding=value, carried_over=True, notes=CARRIED_OVER_NOTE, recorded_at=now)
                for pk, value in chunk
            ]
        )
        # One carried-over finding per case: the table is new.
        ids = dict(FaultFinding.objects.filter(case_id__in=[pk for pk, _v in chunk]).values_list("case_id", "pk"))
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case_id=pk,
                    kind="fault_finding",
                    actor=None,
                    at=now,
                    data={
                        "fault_finding": ids[pk],
                        "finding": value,
                        "carried_over": True,
                        "department": "",
                        "found_on": None,
                        "document_reference": "",
                        "previous": None,
                        "current": True,
                    },
                )
                for pk, value in chunk
            ]
        )
        # A changed case is a candidate of the next flag scan (cases/flagging/scan.py): its flags are re-evaluated.
        Case.objects.filter(pk__in=[pk for pk, _v in chunk]).update(version=F("version") + 1)
    if schema_editor.connection.vendor == "postgresql":
        # The case table is altered next: deferred foreign-key checks of the rows just written must run first.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def restore_police_fault(apps, schema_editor):
    """Back to the field: each case takes its current finding (the latest by date, then record). The timeline keeps
    its fault-finding events (it is append-only), so going back stops at the event kinds' check once one exists."""
    Case = apps.get_model("cases", "Case")
    FaultFinding = apps.get_model("cases", "FaultFinding")
    current = {}
    for case_id, finding in FaultFinding.objects.order_by(
        "case_id", F("found_on").asc(nulls_first=True), "id"
    ).values_list("case_id", "finding"):
        current[case_id] = finding
    for case_id, finding in current.items():
        Case.objects.filter(pk=case_id).update(police_fault=finding)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0018_lenient_reasons"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="caseevent",
            name="event_kind_valid",
        ),
        migrations.AlterField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("created", "Application created"),
                    ("updated", "Details changed"),
                    ("transition", "Status changed"),
                    ("assigned", "Assigned"),
                    ("officer_added", "Involved officer added"),
                    ("officer_updated", "Involved officer updated"),
                    ("officer_removed", "Involved officer removed"),
                    ("suspect_added", "Suspect added"),
                    ("suspect_updated", "Suspect updated"),
                    ("disposition", "Disposition recorded"),
                    ("referral", "Referral"),
                    ("support", "Support measure"),
                    ("finding", "Supervision finding"),
                    ("review", "Look-back review"),
                    ("flag_raised", "Flag raised"),
                    ("flag_resolved", "Flag resolved"),
                    ("attachment", "Evidence added"),
                    ("note", "Note"),
                    ("clock_paused", "Clock paused"),
                    ("clock_resumed", "Clock resumed"),
                    ("deadline_extended", "Time limit extended"),
                    ("fault_finding", "Police-fault finding recorded"),
                ],
                max_length=20,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "created",
                            "updated",
                            "transition",
                            "assigned",
                            "officer_added",
                            "officer_updated",
                            "officer_removed",
                            "suspect_added",
                            "suspect_updated",
                            "disposition",
                            "referral",
                            "support",
                            "finding",
                            "review",
                            "flag_raised",
                            "flag_resolved",
                            "attachment",
                            "note",
                            "clock_paused",
                            "clock_resumed",
                            "deadline_extended",
                            "fault_finding",
                        ],
                    )
                ),
                name="event_kind_valid",
            ),
        ),
        migrations.CreateModel(
            name="FaultFinding",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "finding",
                    models.CharField(
                        choices=[
                            ("none", "None"),
                            ("minor", "Minor"),
                            ("large", "Considerable"),
                            ("serious", "Serious"),
                        ],
                        max_length=10,
                        verbose_name="police fault found",
                    ),
                ),
                (
                    "department",
                    models.CharField(blank=True, max_length=150, verbose_name="department that made the finding"),
                ),
                ("found_on", models.DateField(blank=True, null=True, verbose_name="date of the finding")),
                (
                    "document_reference",
                    models.CharField(blank=True, max_length=100, verbose_name="finding document number"),
                ),
                ("notes", models.TextField(blank=True, verbose_name="notes")),
                ("carried_over", models.BooleanField(default=False, verbose_name="carried over from the case record")),
                ("recorded_at", models.DateTimeField(verbose_name="recorded at")),
            ],
            options={
                "verbose_name": "police-fault finding",
                "verbose_name_plural": "police-fault findings",
                "ordering": ["found_on", "id"],
            },
        ),
        migrations.AddField(
            model_name="faultfinding",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="fault_findings", to="cases.case"
            ),
        ),
        migrations.AddField(
            model_name="faultfinding",
            name="recorded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="faultfinding",
            index=models.Index(fields=["case", "found_on", "id"], name="faultfinding_case_latest"),
        ),
        migrations.AddConstraint(
            model_name="faultfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(("finding__in", ["none", "minor", "large", "serious"])), name="faultfinding_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="faultfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("carried_over", True), ("recorded_by__isnull", True)),
                    models.Q(
                        ("carried_over", False),
                        ("found_on__isnull", False),
                        ("recorded_by__isnull", False),
                        models.Q(("department", ""), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="faultfinding_recorded_or_carried_over",
            ),
        ),
        migrations.AddConstraint(
            model_name="faultfinding",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("carried_over", True),
                    models.Q(("finding__in", ["large", "serious"]), _negated=True),
                    models.Q(("document_reference", ""), _negated=True),
                    _connector="OR",
                ),
                name="faultfinding_document_when_at_fault",
            ),
        ),
        migrations.RunPython(carry_over_police_fault, restore_police_fault),
        migrations.RemoveConstraint(
            model_name="case",
            name="case_police_fault_valid",
        ),
        migrations.RemoveField(
            model_name="case",
            name="police_fault",
        ),
    ]
