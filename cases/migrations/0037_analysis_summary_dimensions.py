"""The report summaries count each submitted case on the analysis's breakdowns too (cases/dimensions.py): the check
admits the six new dimensions, the code widens for "<incident type>:<duty scenario>", and the new rows are filled
from the cases in one statement, the SQL ``manage.py reconcile --summaries`` rebuilds them with. On databases
other than PostgreSQL the analysis is computed live; there ``manage.py reconcile --summaries --repair`` fills them
when wanted."""

from django.db import migrations, models, transaction


def fill_dimensions(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    # The SQL as of this migration (cases/summaries.py keeps it in step with the Python: tests/cases/test_summaries.py).
    from cases.dimensions import DIMENSIONS
    from cases.summaries import REBUILD_SQL, rebuild_params

    # Without the condition on merged records (cases/services/duplicates.py): their column comes with migration 0046,
    # and no case was merged before it.
    sql = REBUILD_SQL["cases"].replace(" AND c.merged_into_id IS NULL", "")
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_reportcasesummary WHERE dimension = ANY(%s)", [list(DIMENSIONS)])
        cursor.execute(
            "INSERT INTO cases_reportcasesummary (area_path, month, dimension, code, n) "  # noqa: S608
            f"SELECT * FROM ({sql}) r WHERE r.dimension = ANY(%(new)s)",
            {**rebuild_params(), "new": list(DIMENSIONS)},
        )


def drop_dimensions(apps, schema_editor):
    """Going back: the older check admits the report's three dimensions only, so the analysis's rows go first."""
    from cases.dimensions import DIMENSIONS

    apps.get_model("cases", "ReportCaseSummary").objects.filter(dimension__in=list(DIMENSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0036_analysis_facts_and_welfare"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="reportcasesummary",
            name="report_case_summary_dimension_valid",
        ),
        migrations.AlterField(
            model_name="reportcasesummary",
            name="code",
            field=models.CharField(max_length=80),
        ),
        migrations.AlterField(
            model_name="reportcasesummary",
            name="dimension",
            field=models.CharField(
                choices=[
                    ("kind", "incident type"),
                    ("channel", "channel"),
                    ("status", "status"),
                    ("scenario", "incident type and duty scenario"),
                    ("place", "place category"),
                    ("weekhour", "weekday and hour"),
                    ("weapon", "weapon"),
                    ("intox", "attacker intoxicated"),
                    ("crowd", "attackers organised or in a group"),
                ],
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="reportcasesummary",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "dimension__in",
                        ["kind", "channel", "status", "scenario", "place", "weekhour", "weapon", "intox", "crowd"],
                    )
                ),
                name="report_case_summary_dimension_valid",
            ),
        ),
        migrations.RunPython(fill_dimensions, drop_dimensions),
    ]
