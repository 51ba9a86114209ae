from django.db import migrations

# The timeline and the access log are evidence: the database itself refuses to change or remove their rows,
# whatever code path (ORM, admin, raw SQL from the application's role) tries. PostgreSQL only: on the embedded
# SQLite default a trigger would also fire on the test runner's table flush (DELETE FROM), and production
# runs on PostgreSQL.
TABLES = ("cases_caseevent", "cases_accesslog")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION rightsguard_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # No parameters: the function body contains a literal % placeholder for RAISE.
        schema_editor.execute(POSTGRES_FUNCTION, params=None)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION rightsguard_append_only()"
            )


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS rightsguard_append_only()")


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_report_export")]

    operations = [migrations.RunPython(forwards, backwards)]
