from django.db import migrations

OPEN = "('intake', 'referred', 'supervision', 'look_back')"

# The supervisor queue: subtree prefix + open status, newest activity first (DESIGN §9). PostgreSQL needs
# text_pattern_ops for LIKE 'prefix%' under a non-C collation; SQLite takes the same partial index without it.
QUEUE_INDEX = {
    "postgresql": (
        "CREATE INDEX case_queue_open ON cases_case (unit_path text_pattern_ops, last_activity_at DESC, id DESC) "
        f"WHERE status IN {OPEN}"
    ),
    "sqlite": f"CREATE INDEX case_queue_open ON cases_case (unit_path, last_activity_at DESC, id DESC) WHERE status IN {OPEN}",
}

DEFAULT_LIMITS = [
    ("intake", "", 10, True, "Office default; Hubei 2008 rules answer within 10 days [S]"),
    ("referred", "", 7, True, "Office default for the handling unit to acknowledge [I]"),
    (
        "supervision",
        "administrative",
        30,
        False,
        "PSAPL (2012) Art. 99: 30 days from acceptance, +30 with approval; appraisal time excluded",
    ),
    ("supervision", "criminal", 60, False, "Office checkpoint every 60 days [I]"),
    ("look_back", "", 15, False, "Office default [I]"),
]


def create_queue_index(apps, schema_editor):
    sql = QUEUE_INDEX.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def drop_queue_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS case_queue_open")


def seed_limits(apps, schema_editor):
    StageLimit = apps.get_model("cases", "StageLimit")
    for stage, track, days, halved, basis in DEFAULT_LIMITS:
        StageLimit.objects.get_or_create(
            stage=stage, track=track, defaults={"days": days, "halved_in_major_period": halved, "basis": basis}
        )


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunPython(create_queue_index, drop_queue_index),
        migrations.RunPython(seed_limits, migrations.RunPython.noop),
    ]
