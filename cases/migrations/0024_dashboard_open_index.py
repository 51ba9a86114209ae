from django.db import migrations

OPEN = "('intake', 'referred', 'supervision', 'look_back')"

# The dashboard (cases/dashboard.py) counts the open cases of a subtree by stage and sub-unit with a dozen
# conditional counts over the denormalised columns, and lists the oldest open cases by submission. This narrow
# partial index holds every column those read, so PostgreSQL answers both from the index alone (an index-only scan
# of the open cases, ~30,000 of a million, instead of fetching as many wide rows from the table), and reads the
# oldest open cases in order. SQLite has no INCLUDE: a plain index on the same key.
DASHBOARD_INDEX = {
    "postgresql": (
        "CREATE INDEX case_dashboard_open ON cases_case (submitted_at, id) INCLUDE (unit_path, status, "
        "stage_due_at, paused_at, assigned_to_id, is_stalled, is_idle, has_overdue_referral, is_downgraded, "
        f"has_review_prompt) WHERE status IN {OPEN}"
    ),
    "sqlite": f"CREATE INDEX case_dashboard_open ON cases_case (submitted_at, id) WHERE status IN {OPEN}",
}


def create_index(apps, schema_editor):
    sql = DASHBOARD_INDEX.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql)


def drop_index(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS case_dashboard_open")


class Migration(migrations.Migration):
    dependencies = [("cases", "0023_notification_kinds_preferences")]

    operations = [migrations.RunPython(create_index, drop_index)]
