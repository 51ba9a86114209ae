"""Queue exports: the queue as a workbook prepared in the background, with the filters the page had."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0028_id_number_index_full_width"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="QueueExport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("language", models.CharField(max_length=10, verbose_name="language")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting"),
                            ("running", "Running"),
                            ("done", "Ready"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("progress", models.PositiveSmallIntegerField(default=0, verbose_name="progress (%)")),
                ("file_name", models.CharField(blank=True, max_length=200, verbose_name="file name")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                ("filters", models.JSONField(default=dict, verbose_name="filters")),
                ("order", models.CharField(max_length=40, verbose_name="order")),
                ("query", models.TextField(blank=True, verbose_name="query")),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="rows")),
                (
                    "refusal",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("no_queue", "The requester no longer supervises a unit"),
                            ("too_many", "More rows than a workbook may hold"),
                        ],
                        max_length=10,
                        verbose_name="refusal",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
            ],
            options={
                "verbose_name": "queue export",
                "verbose_name_plural": "queue exports",
                "ordering": ["-created_at", "-id"],
                "abstract": False,
                "indexes": [models.Index(fields=["requested_by", "-created_at"], name="queueexport_user_recent")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["pending", "running", "done", "failed"])),
                        name="queueexport_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("progress__lte", 100)), name="queueexport_progress_percent"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "done"), _negated=True),
                            models.Q(("file_name", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="queueexport_done_has_file",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("refusal__in", ["no_queue", "too_many", ""])),
                        name="queueexport_refusal_valid",
                    ),
                ],
            },
        ),
    ]
