"""Notifications store a message key and parameters, rendered in the reader's language (cases/messages.py).

Existing rows get theirs back where the record allows: from the event they announce (a transition, a flag raised,
another event), or, for the two kinds of notification without an event, from their English text (the stage-clock
warning and the failed-e-mail notice, always written in the site language, English). Any other row keeps its text.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import migrations, models

WARNING = re.compile(r"^(?P<ref>RG-\S+): (?P<stage>.+) has used 75 % of its time limit; due (?P<due>\d{4}-\d{2}-\d{2} \d{2}:\d{2})$")
FAILED = re.compile(r"^The e-mail to (?P<name>.+) about (?P<ref>RG-\S+) could not be sent after (?P<attempts>\d+) attempts\.$")
# The English stage labels the warnings were written with (cases.choices.CaseStatus).
STAGES = {
    "Draft": "draft",
    "Intake": "intake",
    "Referred": "referred",
    "Supervision": "supervision",
    "Look-back review": "look_back",
    "Closed": "closed",
    "Rejected": "rejected",
    "Withdrawn": "withdrawn",
}


def message_of(note, event, reference):
    if event is not None:
        data = event.data or {}
        if event.kind == "transition" and event.action:
            return "transition", {"ref": reference, "action": event.action}
        if event.kind == "flag_raised" and data.get("rule"):
            kind = data.get("kind") or "downgraded"
            return "flag", {"ref": reference, "kind": kind, "rule": data["rule"], "version": data.get("version") or ""}
        return "event", {"ref": reference, "kind": event.kind}
    found = WARNING.match(note.verb)
    if found and found["stage"] in STAGES:
        due = datetime.strptime(found["due"], "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(settings.TIME_ZONE))
        return "stage_warning", {"ref": found["ref"], "stage": STAGES[found["stage"]], "due": due.isoformat()}
    found = FAILED.match(note.verb)
    if found:
        return "email_failed", {"ref": found["ref"], "name": found["name"], "attempts": int(found["attempts"])}
    return "", {}


def recover_messages(apps, schema_editor):
    Notification = apps.get_model("cases", "Notification")
    batch = []
    rows = Notification.objects.filter(message="").select_related("event", "case").order_by("pk")
    for note in rows.iterator(chunk_size=2000):
        note.message, note.params = message_of(note, note.event, note.case.reference)
        if note.message:
            batch.append(note)
        if len(batch) >= 2000:
            Notification.objects.bulk_update(batch, ["message", "params"])
            batch = []
    if batch:
        Notification.objects.bulk_update(batch, ["message", "params"])


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0021_support_lifecycle'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='notification',
            name='message',
            field=models.CharField(blank=True, default='', max_length=30, verbose_name='message'),
        ),
        migrations.AddField(
            model_name='notification',
            name='params',
            field=models.JSONField(blank=True, default=dict, verbose_name='message parameters'),
        ),
        migrations.RunPython(recover_messages, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name='notification',
            constraint=models.CheckConstraint(condition=models.Q(('message__in', ['', 'transition', 'event', 'flag', 'stage_warning', 'email_failed'])), name='notification_message_known'),
        ),
    ]
