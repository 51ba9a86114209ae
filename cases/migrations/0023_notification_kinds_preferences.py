"""Notifications get a kind (the inbox's filter, the unit of delivery preferences) and the delivery chosen when they
were made; users get delivery preferences per kind. Existing rows are given their kind from their message (or, for
rows without one, from the event they announce) and keep today's delivery, e-mail; a failed-e-mail notice was
always in-app only."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Q

# The choices as they were when this migration was written (the app's may change later; this file must not follow).
KINDS = [
    ("case_moves", "Case moves"),
    ("assignments", "Assignments"),
    ("records", "Handling records"),
    ("support_answers", "Support answers"),
    ("flags", "Flags"),
    ("stage_warnings", "Stage time-limit warnings"),
    ("email_problems", "E-mail problems"),
]
DELIVERIES = [("email", "E-mail at once"), ("daily", "Daily digest e-mail"), ("in_app", "In-app only")]


def choice_checks(model_name):
    """The model's checks that its kind and its delivery hold one of their choices (``<model>_<field>_valid``)."""
    return [
        migrations.AddConstraint(
            model_name=model_name,
            constraint=models.CheckConstraint(
                condition=Q((f"{field}__in", [value for value, _label in choices])),
                name=f"{model_name}_{field}_valid",
            ),
        )
        for field, choices in (("kind", KINDS), ("delivery", DELIVERIES))
    ]


def classify(apps, schema_editor):
    Notification = apps.get_model("cases", "Notification")
    rows = Notification.objects.all()
    rows.filter(message="transition").update(kind="case_moves")
    rows.filter(message="flag").update(kind="flags")
    rows.filter(message="stage_warning").update(kind="stage_warnings")
    rows.filter(message="email_failed").update(kind="email_problems", delivery="in_app")
    rows.filter(message="event", params__kind="assigned").update(kind="assignments")
    rows.filter(message="event", params__kind="support", params__has_key="answer").update(kind="support_answers")
    # Rows whose message could not be recovered: from their event (no event: a flag-scan warning).
    legacy = rows.filter(message="")
    legacy.filter(event__kind="transition").update(kind="case_moves")
    legacy.filter(event__kind="assigned").update(kind="assignments")
    legacy.filter(Q(event__isnull=True) | Q(event__kind="flag_raised")).update(kind="flags")


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0022_notification_message"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=KINDS, max_length=20, verbose_name="kind")),
                ("delivery", models.CharField(choices=DELIVERIES, max_length=10, verbose_name="delivery")),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
            },
        ),
        migrations.AddField(
            model_name="notification",
            name="delivery",
            field=models.CharField(choices=DELIVERIES, default="email", max_length=10, verbose_name="delivery"),
        ),
        migrations.AddField(
            model_name="notification",
            name="kind",
            field=models.CharField(choices=KINDS, default="records", max_length=20, verbose_name="kind"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["recipient", "kind", "-created_at"], name="notification_inbox_kind"),
        ),
        *choice_checks("notification"),
        migrations.AddField(
            model_name="notificationpreference",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notification_preferences",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddConstraint(
            model_name="notificationpreference",
            constraint=models.UniqueConstraint(fields=("user", "kind"), name="notification_preference_once"),
        ),
        *choice_checks("notificationpreference"),
        migrations.RunPython(classify, migrations.RunPython.noop),
    ]
